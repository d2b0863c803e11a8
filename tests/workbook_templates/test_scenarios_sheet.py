"""The Scenarios sheet: what the template draws (layout, fixed rows, examples, validation, the two
charts), reading the user's rows raw with their cells, writing a run's results back through the
workbook interface (and clearing an earlier, longer run), adding the sheet to an older workbook,
and LibreOffice opening the result."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from openpyxl.chart import BarChart, LineChart, ScatterChart
from openpyxl.utils import get_column_letter

from sheets_sync.libreoffice import convert
from sheets_sync.workbooks.xlsx import XlsxWorkbook, save_atomic
from workbook_templates import layout as L
from workbook_templates import scenarios_sheet as S
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook
from workbook_templates.styles import FILL_INPUT, FILL_TOTAL

MONTH = dt.date(2026, 11, 1)
CHANNELS = ["Yandex Direct", "VK Ads", "Programmatic"]
LINES = pd.DataFrame(
    {
        "channel": ["Yandex Direct", "Yandex Direct", "VK Ads", "Programmatic"],
        "campaign": ["brand", "generic", "retargeting", "video"],
        "spend p": [150_000.0, 150_000.0, 200_000.0, 100_000.0],
        "leads p": [60.0, 40.0, 80.0, 20.0],
    }
)


@pytest.fixture
def book(tmp_path: Path) -> Path:
    spec = PlanWorkbookSpec(month=MONTH, lines=LINES, as_of=dt.date(2026, 11, 17))
    return save_atomic(build_plan_workbook(spec), tmp_path / "plan.xlsx")


def _row(ws: Any, row: int, first: int = 1, last: int | None = None) -> list[Any]:
    last = last or ws.max_column
    return [ws.cell(row=row, column=c).value for c in range(first, last + 1)]


def _run(channels: list[str], names: list[str]) -> dict[str, Any]:
    """A made-up run over `names`: per scenario a row per channel and a Total row."""
    results: list[list[Any]] = []
    totals: list[tuple[str, float | None, float | None]] = []
    points: list[tuple[str, list[tuple[float, float]]]] = []
    for k, name in enumerate(names):
        pairs = [(100_000.0 * (j + 1) + k, 10.5 * (j + 1) + k) for j in range(len(channels))]
        for channel, (spend, leads) in zip(channels, pairs, strict=True):
            results.append([name, channel, spend, leads, *[None] * 14])
        leads_total = sum(p[1] for p in pairs)
        romi = math.nan if k == 1 else 0.25 + k / 100  # NaN must become a blank
        best = "★ best" if k == 0 else None
        results.append([name, L.TOTAL_LABEL, 1.0, leads_total, *[None] * 9, romi, 3, 0.01, best])
        totals.append((name, leads_total, None if math.isnan(romi) else romi))
        points.append((name, pairs))
    return {"results": results, "totals": totals, "points": points}


# --- Template ------------------------------------------------------------------------------


def test_sheet_sits_after_curves_and_has_title_note_and_settings(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    names = wb.sheetnames
    assert names.index(S.SCENARIOS) == names.index(L.CURVES) + 1 == names.index(L.SPLIT) + 2
    assert S.SCENARIOS == L.SCENARIOS == "Scenarios"
    ws = wb[S.SCENARIOS]
    assert ws["A1"].value == "Scenarios: what if the budget were split otherwise?"
    assert ws["A1"].font.bold and ws["A1"].font.size == 14
    assert ws["A2"].font.italic and "+20%" in ws["A2"].value and "moves" in ws["A2"].value
    assert _row(ws, 4, 1, 3) == ["item", "value", "help"]
    assert _row(ws, 5, 1, 2) == ["objective", "leads"]
    assert _row(ws, 6, 1, 2) == ["min leads", None]
    assert ws["B5"].fill.fgColor.rgb == FILL_INPUT.fgColor.rgb
    assert ws["B6"].fill.fgColor.rgb == FILL_INPUT.fgColor.rgb
    (dv,) = ws.data_validations.dataValidation
    assert dv.type == "list" and dv.formula1 == '"leads,value,romi"'
    assert str(dv.sqref) == "B5"


def test_inputs_table_fixed_rows_examples_and_formats(book: Path) -> None:
    ws = openpyxl.load_workbook(book)[S.SCENARIOS]
    header = ["scenario", "budget", "moves", "value per lead", *CHANNELS, "status"]
    assert _row(ws, 9, 1, len(header) + 1) == [*header, None]
    assert (ws["A10"].value, ws["A11"].value) == (S.CURRENT, S.PROPOSAL)
    assert (S.CURRENT, S.PROPOSAL) == ("current plan", "Optimize Split")
    for row in (10, 11):  # fixed: greyed, no inputs
        assert _row(ws, row, 2, len(header) - 1) == [None] * (len(header) - 2)
        assert ws.cell(row=row, column=2).fill.fgColor.rgb == FILL_TOTAL.fgColor.rgb
    assert _row(ws, 12, 1, len(header) - 1) == ["+20% budget", "+20%", *[None] * 5]
    assert _row(ws, 13, 1, len(header) - 1) == [
        "-30% Context, +30% Programmatic",
        *[None] * 3,
        "-30%",
        None,
        "+30%",
    ]
    assert all(v is None for v in _row(ws, 14, 1, len(header)))
    # SCENARIO_ROWS rows of inputs, yellow and text (so "+20%" stays text), up to row 29
    assert S.SCENARIO_ROWS == 20 and S.LAST_INPUT_ROW == 29
    for row in (12, 29):
        cell = ws.cell(row=row, column=5)
        assert cell.fill.fgColor.rgb == FILL_INPUT.fgColor.rgb
        assert cell.number_format == "@"
    assert ws.cell(row=30, column=5).fill.fgColor.rgb != FILL_INPUT.fgColor.rgb


def test_results_header_and_number_formats(book: Path) -> None:
    ws = openpyxl.load_workbook(book)[S.SCENARIOS]
    assert (
        *("scenario", "channel", "spend", "leads", "leads low", "leads high"),
        *("purchases", "purchases low", "purchases high", "CPA", "CAC", "revenue", "ROAS"),
        *("ROMI", "Δ leads", "Δ ROMI", "best", "flags"),
    ) == S.RESULT_HEADERS
    row = S.RESULTS_HEADER_ROW
    assert row > S.LAST_INPUT_ROW
    assert _row(ws, row, 1, len(S.RESULT_HEADERS)) == list(S.RESULT_HEADERS)
    assert _row(ws, row, S.TOTALS_COL, S.TOTALS_COL + 2) == ["scenario", "leads", "ROMI"]
    assert _row(ws, row, S.POINTS_COL, S.POINTS_COL + 2) == ["channel", "spend", "leads"]
    formats = {
        h: ws.cell(row=S.RESULTS_FIRST_ROW, column=i).number_format
        for i, h in enumerate(S.RESULT_HEADERS, start=1)
    }
    assert formats["spend"] == formats["leads"] == formats["CPA"] == formats["CAC"] == "#,##0"
    assert formats["purchases high"] == formats["revenue"] == "#,##0"
    assert (formats["ROAS"], formats["ROMI"]) == ("0.00", "0%")
    assert (formats["Δ leads"], formats["Δ ROMI"]) == ("+#,##0;-#,##0;0", "+0%;-0%;0%")
    (rule_range,) = [str(r.sqref) for r in ws.conditional_formatting]
    assert rule_range.startswith(f"A{S.RESULTS_FIRST_ROW}:R")  # Total rows bold


def test_two_charts_beside_the_inputs_with_reserved_series(book: Path) -> None:
    ws = openpyxl.load_workbook(book)[S.SCENARIOS]
    charts = ws._charts
    assert len(charts) == 2
    bars = next(c for c in charts if isinstance(c, BarChart))
    scatter = next(c for c in charts if isinstance(c, ScatterChart))
    # chart 1: leads as bars, ROMI as a line on a secondary axis, over the totals block
    (line,) = [c for c in bars._charts if isinstance(c, LineChart)]
    assert line.y_axis.axId != bars.y_axis.axId
    assert line.y_axis.crosses == "max"
    last = S.RESULTS_FIRST_ROW + S.SCENARIO_ROWS - 1
    leads, romi = (get_column_letter(S.TOTALS_COL + i) for i in (1, 2))
    assert (
        bars.series[0].val.numRef.f == f"'Scenarios'!${leads}${S.RESULTS_FIRST_ROW}:${leads}${last}"
    )
    assert (
        line.series[0].val.numRef.f == f"'Scenarios'!${romi}${S.RESULTS_FIRST_ROW}:${romi}${last}"
    )
    # chart 2: a curve per channel from the Curves sheet, then one series per scenario slot
    assert len(scatter.series) == len(CHANNELS) + S.SCENARIO_ROWS
    curve = scatter.series[0]
    assert curve.xVal.numRef.f.startswith("'Curves'!$I$3:")  # slot 2: the first channel
    assert curve.tx.strRef.f == "'Curves'!$J$1"
    marker = scatter.series[len(CHANNELS)]
    spend = get_column_letter(S.point_column(0, "spend"))
    assert marker.xVal.numRef.f.startswith(f"'Scenarios'!${spend}${S.RESULTS_FIRST_ROW}:")
    title = get_column_letter(S.point_column(0, "spend") + 1)
    assert marker.tx.strRef.f == f"'Scenarios'!${title}${S.POINTS_TITLE_ROW}"
    # anchored right of the inputs' status column, above the results
    status_col = 4 + len(CHANNELS) + 1
    for chart in charts:
        anchor = chart.anchor._from
        assert anchor.col + 1 > status_col and anchor.row + 1 < S.RESULTS_HEADER_ROW


def test_only_the_first_example_without_context_and_programmatic_channels() -> None:
    assert S.example_rows(["Meta", "VK Ads"]) == [{"scenario": "+20% budget", "budget": "+20%"}]
    two = S.example_rows(["Google", "Context Ads", "Programmatic DSP"])
    assert two[1] == {
        "scenario": "-30% Context, +30% Programmatic",
        "Context Ads": "-30%",
        "Programmatic DSP": "+30%",
    }
    wb = build_plan_workbook(PlanWorkbookSpec(month=MONTH))  # no lines at all
    ws = wb[S.SCENARIOS]
    assert _row(ws, 9, 1, 6) == ["scenario", "budget", "moves", "value per lead", "status", None]
    assert ws["A12"].value == "+20% budget" and ws["A13"].value is None
    scatter = next(c for c in ws._charts if isinstance(c, ScatterChart))
    assert len(scatter.series) == L.MIN_CURVE_SLOTS + S.SCENARIO_ROWS


# --- Reading and writing at run time -------------------------------------------------------


def test_read_scenarios_gives_raw_cells_and_their_references(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    ws = wb[S.SCENARIOS]
    ws["B6"] = 250
    ws["A15"] = "big VK"
    ws["F15"] = 300_000
    ws["D15"] = 4_500
    ws["C16"] = "30% from Yandex Direct to Programmatic"  # no name: still a row
    ws["H17"] = "stale status"  # a status alone is not an input
    wb.save(book)
    inputs = S.read_scenarios(XlsxWorkbook(book))
    assert (inputs.objective, inputs.objective_ref) == ("leads", "Scenarios!B5")
    assert (inputs.min_leads, inputs.min_leads_ref) == (250, "Scenarios!B6")
    assert inputs.channels == tuple(CHANNELS)
    assert inputs.fixed_rows == (10, 11)
    assert [r.row for r in inputs.rows] == [12, 13, 15, 16]
    plus20, shift, big, unnamed = inputs.rows
    assert (plus20.name, plus20.budget, plus20.moves, plus20.value_per_lead) == (
        "+20% budget",
        "+20%",
        None,
        None,
    )
    assert shift.channels == {"Yandex Direct": "-30%", "VK Ads": None, "Programmatic": "+30%"}
    assert shift.ref("Programmatic") == "Scenarios!G13"
    assert big.channels["VK Ads"] == 300_000 and big.value_per_lead == 4_500
    assert big.ref("value per lead") == "Scenarios!D15" and big.ref("scenario") == "Scenarios!A15"
    assert unnamed.name is None and unnamed.ref("moves") == "Scenarios!C16"
    assert unnamed.moves == "30% from Yandex Direct to Programmatic"


def test_write_results_round_trip_and_a_shorter_run_clears_the_longer(book: Path) -> None:
    names = [S.CURRENT, S.PROPOSAL, "+20% budget", "-30% Context, +30% Programmatic"]
    xw = XlsxWorkbook(book)
    inputs = S.read_scenarios(xw)
    run = _run(CHANNELS, names)
    statuses = {10: "computed", 11: "computed", 12: "computed", 13: "error: Scenarios!E13 ..."}
    S.write_scenario_results(xw, inputs, statuses, **run)
    xw.save()

    wb = openpyxl.load_workbook(book)
    ws = wb[S.SCENARIOS]
    assert len(ws._charts) == 2  # the charts survive a run
    assert [ws.cell(row=r, column=8).value for r in range(10, 15)] == [
        "computed",
        "computed",
        "computed",
        "error: Scenarios!E13 ...",
        None,
    ]
    first = S.RESULTS_FIRST_ROW
    assert _row(ws, first, 1, 4) == [S.CURRENT, "Yandex Direct", 100_000, 10.5]
    total_row = first + len(CHANNELS)
    assert _row(ws, total_row, 1, 2) == [S.CURRENT, L.TOTAL_LABEL]
    assert ws.cell(row=total_row, column=17).value == "★ best"
    assert ws.cell(row=first + 2 * len(CHANNELS) + 1, column=14).value is None  # NaN → blank
    n_rows = len(names) * (len(CHANNELS) + 1)
    assert ws.cell(row=first + n_rows - 1, column=1).value == names[-1]
    assert ws.cell(row=first + n_rows, column=1).value is None
    assert _row(ws, first, S.TOTALS_COL, S.TOTALS_COL + 2) == [S.CURRENT, 63.0, 0.25]
    assert _row(ws, first + 1, S.TOTALS_COL, S.TOTALS_COL + 2) == [S.PROPOSAL, 66.0, None]
    assert _row(ws, S.POINTS_TITLE_ROW, S.POINTS_COL + 1, S.POINTS_COL + 4) == [
        S.CURRENT,
        S.CURRENT,
        S.PROPOSAL,
        S.PROPOSAL,
    ]
    assert _row(ws, first, S.POINTS_COL, S.POINTS_COL + 4) == [
        "Yandex Direct",
        100_000,
        10.5,
        100_001,
        11.5,
    ]
    assert _row(ws, first + 2, S.POINTS_COL, S.POINTS_COL + 2) == ["Programmatic", 300_000, 31.5]

    # a second, shorter run (one channel fewer, two scenarios) leaves nothing of the first
    xw = XlsxWorkbook(book)
    S.write_channel_columns(xw, CHANNELS[:2])
    inputs = S.read_scenarios(xw)
    assert inputs.channels == tuple(CHANNELS[:2])
    S.write_scenario_results(xw, inputs, {10: "ok"}, **_run(CHANNELS[:2], names[:2]))
    xw.save()
    ws = openpyxl.load_workbook(book)[S.SCENARIOS]
    assert [ws.cell(row=r, column=7).value for r in (10, 11, 12)] == ["ok", None, None]
    assert ws.cell(row=first + 6, column=1).value is None  # 2 x (2 + 1) rows now
    assert all(v is None for v in _row(ws, first + 6, 1, len(S.RESULT_HEADERS)))
    assert _row(ws, first + 2, S.TOTALS_COL, S.TOTALS_COL + 2) == [None] * 3
    assert _row(ws, first + 2, S.POINTS_COL, S.POINTS_COL + 4) == [None] * 5
    assert ws.cell(row=S.POINTS_TITLE_ROW, column=S.point_column(2, "spend")).value == " "


def test_write_channel_columns_keeps_inputs_and_moves_status_last(book: Path) -> None:
    xw = XlsxWorkbook(book)
    S.write_channel_columns(xw, ["Programmatic", "Meta", "VK Ads"])
    xw.save()
    ws = openpyxl.load_workbook(book)[S.SCENARIOS]
    header = ["scenario", "budget", "moves", "value per lead", "Programmatic", "Meta", "VK Ads"]
    assert _row(ws, 9, 1, 9) == [*header, "status", None]  # the old, wider header cleared
    assert _row(ws, 13, 5, 9) == ["+30%", None, None, None, None]  # Yandex Direct's -30% gone
    assert ws["H10"].value == S.FIXED_NOTES[10]
    inputs = S.read_scenarios(XlsxWorkbook(book))
    assert inputs.channels == ("Programmatic", "Meta", "VK Ads")
    assert inputs.rows[1].ref("Programmatic") == "Scenarios!E13"


def test_ensure_adds_the_sheet_to_an_older_workbook(tmp_path: Path) -> None:
    old = openpyxl.Workbook()
    old.active.title = L.PLAN  # type: ignore[union-attr]
    path = save_atomic(old, tmp_path / "old.xlsx")
    xw = XlsxWorkbook(path)
    assert S.ensure_scenarios_sheet(xw, CHANNELS) is True
    assert S.ensure_scenarios_sheet(xw, CHANNELS) is False  # already there
    inputs = S.read_scenarios(xw)  # staged writes are readable before the save
    assert inputs.channels == tuple(CHANNELS)
    assert [r.name for r in inputs.rows] == ["+20% budget", "-30% Context, +30% Programmatic"]
    S.write_scenario_results(xw, inputs, {12: "computed"}, **_run(CHANNELS, [S.CURRENT]))
    xw.save()
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [L.PLAN, S.SCENARIOS]
    ws = wb[S.SCENARIOS]
    assert ws["A1"].value == S.TITLE and ws["A10"].value == S.CURRENT
    assert _row(ws, S.RESULTS_HEADER_ROW, 1, 2) == ["scenario", "channel"]
    assert ws.cell(row=S.RESULTS_FIRST_ROW, column=1).value == S.CURRENT
    assert ws["H12"].value == "computed"
    assert S.ensure_scenarios_sheet(XlsxWorkbook(path), CHANNELS) is False


@pytest.mark.slow
def test_libreoffice_opens_the_sheet_with_results(book: Path, tmp_path: Path, soffice: str) -> None:
    xw = XlsxWorkbook(book)
    run = _run(CHANNELS, [S.CURRENT, S.PROPOSAL, "+20% budget"])
    S.write_scenario_results(xw, S.read_scenarios(xw), {12: "computed"}, **run)
    xw.save()
    out = convert(book, tmp_path / "lo", "xlsx")
    wb = openpyxl.load_workbook(out, data_only=True)
    ws = wb[S.SCENARIOS]
    assert ws["A1"].value == S.TITLE
    assert ws["E13"].value == "-30%"
    assert ws.cell(row=S.RESULTS_FIRST_ROW, column=2).value == "Yandex Direct"
    assert ws.cell(row=S.RESULTS_FIRST_ROW, column=S.TOTALS_COL + 2).value == pytest.approx(0.25)
    assert len(openpyxl.load_workbook(out)[S.SCENARIOS]._charts) == 2
