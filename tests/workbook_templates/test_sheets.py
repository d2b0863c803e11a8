"""The sheet modules: what the template draws (order, number formats, which the demo snapshot
does not check), cell values in and out, and the run-time readers and writers of a sheet."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from planning.errors import InputError
from planning.funnel import DEFAULT_FUNNEL
from sheets_sync.workbooks.xlsx import XlsxWorkbook, save_atomic
from workbook_templates import layout as L
from workbook_templates.cells import cell, sheet_value, to_date, to_number
from workbook_templates.daily_history_sheet import write_daily_history
from workbook_templates.optimize_split_sheet import split_letter
from workbook_templates.pace_sheet import read_pace, write_pace
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook
from workbook_templates.settings_sheet import read_funnel, read_settings
from workbook_templates.split_undo_sheet import UndoRecord, decode, encode, read_undo, write_undo

MONTH = dt.date(2026, 11, 1)
LINES = pd.DataFrame(
    {
        "channel": ["Search", "Search", "Meta"],
        "campaign": ["brand", "generic", ""],
        "spend p": [100_000.0, 250_000.0, 50_000.0],
        "leads p": [100.0, 200.0, 50.0],
    }
)


@pytest.fixture
def book(tmp_path: Path) -> Path:
    spec = PlanWorkbookSpec(month=MONTH, lines=LINES, as_of=dt.date(2026, 11, 17))
    return save_atomic(build_plan_workbook(spec), tmp_path / "plan.xlsx")


def _header_col(ws: openpyxl.worksheet.worksheet.Worksheet, row: int, header: str) -> int:
    return next(c.column for c in ws[row] if c.value == header)


def test_sheet_order_and_the_hidden_undo_sheet(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames == [
        L.EXECUTIVE,
        L.PLAN,
        L.SPLIT,
        L.CURVES,
        L.SCENARIOS,
        "Review",
        "Drill",
        L.DAILY,
        L.DAILY_HISTORY,
        L.MAPPING,
        L.DATA_QUALITY,
        "Alerts",
        "Attribution",
        "Cohorts",
        L.UNMAPPED,
        L.SETTINGS,
        L.PACE,
        "Glossary",
        L.SPLIT_UNDO,
    ]
    assert wb[L.SPLIT_UNDO].sheet_state == "hidden"


def test_count_formats_whole_on_plan_and_pace_one_decimal_for_expectations(book: Path) -> None:
    """Counts are whole numbers; the pace per day and the expected conversions have a decimal
    (the two formats of `styles`: FMT_COUNT and FMT_COUNT_1DP)."""
    wb = openpyxl.load_workbook(book)
    plan, row = wb[L.PLAN], L.PLAN_FIRST_ROW
    fmt = {
        h: plan.cell(row=row, column=_header_col(plan, L.PLAN_HEADER_ROW, h)).number_format
        for h in ("spend p", "leads p", "leads f", "leads pace", "leads %rr", "cr leads p")
    }
    assert fmt == {
        "spend p": "#,##0",
        "leads p": "#,##0",
        "leads f": "#,##0",
        "leads pace": "#,##0.0",
        "leads %rr": "0.0%",
        "cr leads p": "0.00%",
    }
    assert wb[L.PACE]["C2"].number_format == "#,##0"
    split = wb[L.SPLIT]
    expected = f"{split_letter(L.SPLIT_EXPECTED)}{L.SPLIT_FIRST_ROW}"
    assert split[expected].number_format == "#,##0.0"
    assert split[f"{split_letter(L.SPLIT_DELTA)}{L.SPLIT_FIRST_ROW}"].number_format == (
        "+#,##0;-#,##0;0"
    )
    assert wb[L.SETTINGS]["B2"].number_format == "yyyy-mm"


def test_settings_and_stages_read_back(book: Path) -> None:
    wb = XlsxWorkbook(book)
    settings = read_settings(wb)
    assert (settings.month, settings.as_of, settings.window) == (MONTH, dt.date(2026, 11, 17), 5)
    assert settings.as_of_ref == f"{L.SETTINGS}!B3"
    funnel = read_funnel(wb)
    assert funnel.metrics == DEFAULT_FUNNEL.metrics
    assert [funnel.source_of(n) for n in funnel.names] == [
        DEFAULT_FUNNEL.source_of(n) for n in DEFAULT_FUNNEL.names
    ]


def test_pace_days_read_and_series_written(book: Path) -> None:
    wb = XlsxWorkbook(book)
    pace = read_pace(wb)
    assert pace is not None and len(pace.days) == 30 and pace.days[0] == MONTH
    write_pace(wb, pace, [[float(i), None] for i in range(30)])
    wb.save()
    ws = openpyxl.load_workbook(book)[L.PACE]
    assert [ws.cell(row=r, column=3).value for r in (2, 31)] == [0, 29]


def test_daily_history_rows_are_staged_with_spend_in_cents(book: Path) -> None:
    wb = XlsxWorkbook(book)
    history = pd.DataFrame(
        {"date": [dt.date(2026, 10, 31)], "channel": ["Search"], "spend": [10.456], "leads": [3]}
    )
    assert write_daily_history(wb, history) == 1
    wb.save()
    ws = openpyxl.load_workbook(book)[L.DAILY_HISTORY]
    assert [c.value for c in ws[2]][:4] == [dt.datetime(2026, 10, 31), "Search", 10.46, 3]


def test_undo_record_round_trip(book: Path) -> None:
    for value in (None, True, 3, 2.5, dt.date(2026, 11, 1), "text", "=SUM(A1:A2)"):
        kind, stored = encode(value)
        assert decode(kind, stored, "Split Undo!E2") == value
    with pytest.raises(InputError, match="Split Undo!E2"):
        decode("bogus", 1, "Split Undo!E2")
    wb = XlsxWorkbook(book)
    records = [UndoRecord("Plan!C5", L.PLAN, 5, 3, "=B5*2", 7.0)]
    write_undo(wb, records, 0)
    wb.save()
    assert read_undo(XlsxWorkbook(book)) == (records, 1)


def test_cell_values_in_and_out() -> None:
    assert math.isnan(to_number(None, "Plan!C5", "spend p"))
    assert to_number(3, "Plan!C5", "spend p") == 3.0
    for bad in (True, "12", math.inf):
        with pytest.raises(InputError, match="Plan!C5"):
            to_number(bad, "Plan!C5", "spend p")
    with pytest.raises(InputError, match="blank"):
        to_number("", "Plan!C5", "spend p", allow_blank=False)
    assert to_date("17.11.2026", "Daily!A2", "date") == dt.date(2026, 11, 17)
    assert to_date(dt.datetime(2026, 11, 17, 5), "Daily!A2", "date") == dt.date(2026, 11, 17)
    with pytest.raises(InputError, match="Daily!A2"):
        to_date("soon", "Daily!A2", "date")
    assert [sheet_value(v) for v in (None, pd.NA, pd.NaT, math.nan, -math.inf)] == [None] * 5
    assert type(sheet_value(np.int64(3))) is int and sheet_value(np.float64(1.25)) == 1.25
    assert type(sheet_value(pd.Timestamp("2026-11-01"))) is dt.datetime
    assert sheet_value(1.23456789, 6) == 1.234568
    assert cell(2.0) == 2 and type(cell(2.0)) is int and cell(2.345, 1) == 2.3
