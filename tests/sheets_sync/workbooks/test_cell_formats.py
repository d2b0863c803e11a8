"""A value a button writes into an .xlsx sheet takes its column's number format (the template
formats the columns), keeps the cell's own, and never shows a number as a date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sheets_sync.workbooks.xlsx import XlsxWorkbook


@pytest.fixture()
def book(tmp_path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Data"
    ws.column_dimensions["B"].number_format = "#,##0"
    ws.column_dimensions["C"].number_format = "0.0%"
    ws.column_dimensions["D"].number_format = "dd.mm.yyyy"
    ws["E1"].number_format = "#,##0.00"  # a cell's own format
    ws["F1"].number_format = "yyyy-mm-dd"  # a date cell a number is written over
    path = tmp_path / "book.xlsx"
    wb.save(path)
    return path


def _formats(path: Path) -> dict[str, str]:
    ws = openpyxl.load_workbook(path)["Data"]
    return {c.coordinate: c.number_format for row in ws.iter_rows() for c in row}


def test_written_cells_take_their_columns_formats(book: Path) -> None:
    wb = XlsxWorkbook(book)
    noon = dt.datetime(2026, 11, 18, 1, 0)
    wb.write_block("Data", 1, 1, [[1.5, 1719805.33, -0.057, dt.date(2026, 11, 3), 7.25, 7000]])
    wb.write_block("Data", 2, 1, [[dt.date(2026, 11, 3), noon, "text", noon]])
    wb.save()
    got = _formats(book)
    assert got["A1"] == "General"  # no column format: General
    assert got["B1"] == "#,##0"
    assert got["C1"] == "0.0%"
    assert got["D1"] == "dd.mm.yyyy"
    assert got["E1"] == "#,##0.00"  # the cell's own kept
    assert got["F1"] == "General"  # 7000, not 1919-03-01
    assert got["A2"] == "yyyy-mm-dd"  # a date where nothing says how: ISO
    assert got["B2"] == "yyyy-mm-dd hh:mm"  # a number column: the date still shows as a date
    assert got["C2"] == "General"  # text keeps the cell's own format
    assert got["D2"] == "dd.mm.yyyy"


@given(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(10**12), 10**12))
def test_a_number_never_gets_a_date_format(value: float) -> None:
    from openpyxl.styles.numbers import is_date_format

    from sheets_sync.workbooks.cell_formats import ColumnFormats

    ws = openpyxl.Workbook().active
    assert ws is not None
    ws.column_dimensions["A"].number_format = "yyyy-mm-dd"
    for before in ("General", "yyyy-mm-dd", "dd.mm.yyyy hh:mm", "#,##0"):
        assert not is_date_format(ColumnFormats(ws).for_value(1, value, before))
