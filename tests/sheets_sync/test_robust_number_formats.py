"""Issue 17: the xlsx writer sets each written cell's number format from its new value, so Data
Quality's numbers do not show as dates on a workbook whose rows held dates before."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.styles.numbers import is_date_format

from sheets_sync.workbooks.xlsx import XlsxWorkbook, save_atomic


def _book_with_dates(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Data Quality"
    for r in range(1, 6):
        ws.cell(row=r, column=1).value = "x"
        ws.cell(row=r, column=2).value = dt.date(2026, 10, r)  # a date format, as a sync left it
    ws.cell(row=1, column=3).value = 0.25
    ws.cell(row=1, column=3).number_format = "0.0%"  # a template's percent: kept
    save_atomic(wb, path)


def test_numbers_over_dates_are_numbers_and_dates_stay_dates(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    _book_with_dates(path)
    wb = XlsxWorkbook(path)
    wb.write_block("Data Quality", 1, 2, [[7000, 0.5], [7000.25, None], [dt.date(2026, 11, 3)]])
    wb.save()
    ws = openpyxl.load_workbook(path)["Data Quality"]
    # 7000 as a date would be 1919-02-28 (day 7000 of Excel's 1900 calendar): a number now
    assert ws["B1"].value == 7000 and not is_date_format(ws["B1"].number_format)
    assert ws["B2"].value == 7000.25 and not is_date_format(ws["B2"].number_format)
    assert ws["B3"].is_date and is_date_format(ws["B3"].number_format)
    assert ws["C1"].number_format == "0.0%"  # not a date format: left as the template set it
    assert ws["B4"].is_date  # not written: untouched


NUMBERS = st.one_of(st.integers(-(10**9), 10**9), st.floats(-1e9, 1e9))


@settings(max_examples=25, deadline=None)
@given(st.lists(NUMBERS, min_size=1, max_size=5))
def test_no_number_is_written_with_a_date_format(
    tmp_path_factory: pytest.TempPathFactory, values: list[float]
) -> None:
    path = tmp_path_factory.mktemp("fmt") / "book.xlsx"
    _book_with_dates(path)
    wb = XlsxWorkbook(path)
    wb.write_block("Data Quality", 1, 2, [[v] for v in values])
    wb.save()
    ws = openpyxl.load_workbook(path)["Data Quality"]
    for r in range(1, len(values) + 1):
        assert not is_date_format(ws.cell(row=r, column=2).number_format)
