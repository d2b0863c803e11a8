"""The generated workbook recalculated by LibreOffice (forced recalculation on load) agrees,
cell by cell, with what `planning` computes for the same lines."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from demo_cache import run_demo

from planning.funnel import DEFAULT_FUNNEL, derive, rollup
from planning.runrate import month_progress, plan_pct, required_pace
from sheets_sync.libreoffice import recalculate
from sheets_sync.workbooks.xlsx import save_atomic
from workbook_templates import layout as L
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook

pytestmark = pytest.mark.slow

MONTH = dt.date(2026, 11, 1)
AS_OF = dt.date(2026, 11, 17)
ERROR_BLANK = ("#DIV/0!", "", None)


def _num(v: Any) -> float:
    return math.nan if v is None or v == "" else float(v)


def assert_cell(actual: Any, expected: float, where: str) -> int:
    """LibreOffice's value equals planning's; NaN (undefined) shows as #DIV/0! or blank."""
    if isinstance(expected, float) and math.isnan(expected):
        assert actual in ERROR_BLANK, f"{where}: LibreOffice {actual!r}, planning undefined"
    else:
        assert isinstance(actual, (int, float)), (
            f"{where}: LibreOffice {actual!r}, planning {expected}"
        )
        assert actual == pytest.approx(expected, rel=1e-9, abs=1e-9), where
    return 1


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, soffice: str) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("demo")
    result = run_demo(out, month="2026-11", as_of=AS_OF)
    recalc = recalculate(result.workbook, out / "recalc")
    return {
        "path": result.workbook,
        "formulas": openpyxl.load_workbook(result.workbook),
        "values": openpyxl.load_workbook(recalc, data_only=True),
    }


def _plan_frame(ws: Any) -> tuple[dict[str, int], list[int], int]:
    headers = {str(c.value): c.column for c in ws[L.PLAN_HEADER_ROW] if c.value not in (None, "")}
    rows, r = [], L.PLAN_FIRST_ROW
    while ws.cell(row=r, column=1).value not in (None, L.TOTAL_LABEL):
        rows.append(r)
        r += 1
    assert ws.cell(row=r, column=1).value == L.TOTAL_LABEL
    return headers, rows, r


def test_every_plan_formula_cell_equals_planning(demo: dict[str, Any]) -> None:
    fws, vws = demo["formulas"][L.PLAN], demo["values"][L.PLAN]
    headers, rows, total_row = _plan_frame(vws)
    progress = month_progress(MONTH, AS_OF)
    funnel = DEFAULT_FUNNEL
    checked = 0
    line_frames: dict[str, list[dict[str, float]]] = {"p": [], "f": [], "rr": []}
    for r in [*rows, total_row]:
        absolutes = {
            kind: {
                m: _num(vws.cell(row=r, column=headers[L.abs_header(m, kind)]).value)
                for m in funnel.metrics
            }
            for kind in ("p", "f", "rr")
        }
        if r != total_row:
            for kind in line_frames:
                line_frames[kind].append(absolutes[kind])
        else:  # the totals row's absolutes are sums of the lines
            for kind in line_frames:
                total = rollup(pd.DataFrame(line_frames[kind]), [], funnel).iloc[0]
                for m in funnel.metrics:
                    checked += assert_cell(absolutes[kind][m], float(total[m]), f"total {m} {kind}")
        for kind in ("p", "f", "rr"):
            ratios = derive(absolutes[kind], funnel)
            for ratio in funnel.ratio_names():
                h = L.ratio_header(ratio, kind)
                if h not in headers:
                    continue
                assert str(fws.cell(row=r, column=headers[h]).value).startswith("=")
                checked += assert_cell(
                    vws.cell(row=r, column=headers[h]).value, float(ratios[ratio]), f"row {r} {h}"
                )
        for m in funnel.metrics:
            p, f, rr = (absolutes[k][m] for k in ("p", "f", "rr"))
            expected = {
                "%f": plan_pct(f, p),
                "%rr": plan_pct(rr, p),
                "pace": required_pace(p, 0.0 if math.isnan(f) else f, progress.days_left),
            }
            for kind, value in expected.items():
                h = L.abs_header(m, kind)
                checked += assert_cell(
                    vws.cell(row=r, column=headers[h]).value, value, f"row {r} {h}"
                )
    # 30+ lines x (34 ratio + 24 plan-share/pace cells) + the totals: thousands of real checks.
    assert len(rows) >= 20
    assert checked > 1500, checked


def test_executive_rollup_equals_planning(demo: dict[str, Any]) -> None:
    vplan, vexec = demo["values"][L.PLAN], demo["values"][L.EXECUTIVE]
    headers, rows, _ = _plan_frame(vplan)
    funnel = DEFAULT_FUNNEL
    exec_headers = {
        str(c.value): c.column for c in vexec[L.EXEC_HEADER_ROW] if c.value not in (None, "")
    }
    checked = 0
    for kind in ("p", "f", "rr"):
        frame = pd.DataFrame(
            [
                {
                    "channel": vplan.cell(row=r, column=1).value,
                    **{
                        m: _num(vplan.cell(row=r, column=headers[L.abs_header(m, kind)]).value)
                        for m in funnel.metrics
                    },
                }
                for r in rows
            ]
        )
        by_channel = rollup(frame, ["channel"], funnel).set_index("channel")
        total = rollup(frame, [], funnel).iloc[0]
        r = L.EXEC_FIRST_ROW
        while (label := vexec.cell(row=r, column=1).value) not in (None, ""):
            expected = total if label == L.TOTAL_LABEL else by_channel.loc[label]
            for h, col in exec_headers.items():
                if h == "channel" or not h.endswith(f" {kind}"):
                    continue
                name = h[: -len(kind) - 1].replace(" ", "_")
                checked += assert_cell(
                    vexec.cell(row=r, column=col).value,
                    float(expected[name]),
                    f"Executive {label} {h}",
                )
            if label == L.TOTAL_LABEL:
                break
            r += 1
    assert checked >= 3 * 8 * 7, checked


def test_settings_and_chart_series(demo: dict[str, Any]) -> None:
    settings, pace, vplan = (demo["values"][s] for s in (L.SETTINGS, L.PACE, L.PLAN))
    progress = month_progress(MONTH, AS_OF)
    assert [settings.cell(row=r, column=2).value for r in (4, 5, 6)] == [
        progress.days_in_month,
        progress.days_elapsed,
        progress.days_left,
    ]
    headers, _, total_row = _plan_frame(vplan)
    plan_total = vplan.cell(row=total_row, column=headers["leads p"]).value
    fact_total = vplan.cell(row=total_row, column=headers["leads f"]).value
    rr_total = vplan.cell(row=total_row, column=headers["leads rr"]).value
    assert [c.value for c in pace[1]][:4] == list(L.PACE_HEADERS)
    series = [[pace.cell(row=1 + d, column=c).value for c in (2, 3, 4)] for d in range(1, 31)]
    assert series[0][0] == pytest.approx(plan_total / 30)  # plan pace is a live formula
    assert series[-1][0] == pytest.approx(plan_total)
    assert series[AS_OF.day - 1][1] == pytest.approx(fact_total)  # fact up to as-of = leads f
    assert series[AS_OF.day][1] is None  # the fact line stops after as-of (a gap in the chart)
    assert series[AS_OF.day - 1][2] == pytest.approx(fact_total)  # run-rate starts at the fact
    assert series[-1][2] == pytest.approx(rr_total)  # and ends at the forecast
    assert series[0][2] is None


def test_typing_a_plan_number_updates_derived_cells(tmp_path: Path, soffice: str) -> None:
    lines = pd.DataFrame(
        {
            "channel": ["Google Search", "Meta Ads", "VK Ads"],
            "campaign": ["Brand", "Prospecting", "Retargeting"],
            "spend p": [300_000, 200_000, 0],
            "traffic p": [6_000, 0, None],
            "leads p": [240, 100, 5],
        }
    )
    book = build_plan_workbook(PlanWorkbookSpec(month=MONTH, lines=lines, blank_rows=2))
    path = save_atomic(book, tmp_path / "plan.xlsx")
    wb = openpyxl.load_workbook(path)
    headers = {str(c.value): c.column for c in wb[L.PLAN][L.PLAN_HEADER_ROW] if c.value}
    wb[L.PLAN].cell(row=L.PLAN_FIRST_ROW, column=headers["leads p"]).value = 300  # the user types
    wb.save(path)
    ws = openpyxl.load_workbook(recalculate(path, tmp_path / "out"), data_only=True)[L.PLAN]

    def value(row: int, header: str) -> Any:
        return ws.cell(row=L.PLAN_FIRST_ROW + row, column=headers[header]).value

    assert value(0, "cpa leads p") == pytest.approx(1_000)  # 300 000 / 300, was 1 250
    assert value(0, "cr leads p") == pytest.approx(0.05)  # 300 / 6 000
    assert value(0, "cpc p") == pytest.approx(50)  # 300 000 / 6 000
    assert value(1, "cpc p") in ("", None)  # traffic plan 0: blank, not #DIV/0! (issue 16)
    assert value(1, "cr leads p") in ("", None)
    assert value(2, "cpc p") in ("", None)  # traffic plan blank: nothing to show
    assert value(2, "cpa leads p") == pytest.approx(0)  # 0 spend / 5 leads
    assert value(2, "roas p") in ("", None)
    assert value(3, "cpc p") in ("", None)  # a blank line stays blank, no #DIV/0! noise
    total = L.PLAN_FIRST_ROW + 3 + 2 - L.PLAN_FIRST_ROW
    assert value(total, "channel") == L.TOTAL_LABEL
    assert value(total, "leads p") == pytest.approx(405)
    assert value(total, "cpa leads p") == pytest.approx(
        500_000 / 405
    )  # sum/sum, not a mean of CPAs
