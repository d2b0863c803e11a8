"""Optimize Split, Apply Split and Undo Split on an .xlsx workbook, through the interface.

The fixture's history is too short for a curve (10 days < 14), so every channel gets the
constant-CPA fallback and the optimum can be worked by hand: the cheapest channel first, up to
its capacity (1.75 x the highest observed daily spend), then the next.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from addin.actions.apply_split import apply_split, distribute
from addin.actions.optimize_split import carry_over, optimize_split
from addin.actions.undo_split import undo_split
from addin.functions import FUNCTIONS
from planning.errors import InputError
from planning.optimize import InfeasibleError
from planning.split import DEFAULT_CHANGE, DEFAULT_STEP
from sheets_sync.libreoffice import recalculate
from sheets_sync.workbooks.xlsx import XlsxWorkbook, save_atomic
from workbook_templates import layout as L
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook

MONTH = dt.date(2026, 11, 1)  # 30 days
FIRST = L.SPLIT_FIRST_ROW  # Search, Meta, VK on rows FIRST, FIRST + 1, FIRST + 2


def _lines() -> pd.DataFrame:
    """Search 90 000 over two lines (CPA plan 100), Meta 30 000 + a blank line, VK 30 000 with
    100 leads planned (plan CPA 300, and no history)."""
    return pd.DataFrame(
        {
            "channel": ["Search", "Search", "Meta", "Meta", "VK"],
            "campaign": ["Brand", "Generic", "Prospecting", "Retargeting", "New"],
            "spend p": [30_000, 60_000, 30_000, None, 30_000],
            "leads p": [300, 600, 150, None, 100],
            "revenue p": [600_000, 1_200_000, 150_000, None, 500_000],
        }
    )


def _daily() -> pd.DataFrame:
    """Nov 1-10, constant: Search 3 000 a day for 30 leads (CPA 100), Meta 1 000 for 5 (200)."""
    rows = []
    for d in range(1, 11):
        day = MONTH.replace(day=d)
        rows += [
            {"date": day, "channel": "Search", "campaign": "Brand", "spend": 1000.0, "leads": 10},
            {"date": day, "channel": "Search", "campaign": "Generic", "spend": 2000.0, "leads": 20},
            {
                "date": day,
                "channel": "Meta",
                "campaign": "Prospecting",
                "spend": 1000.0,
                "leads": 5,
            },
        ]
    return pd.DataFrame(rows)


@pytest.fixture()
def book(tmp_path: Path) -> Path:
    spec = PlanWorkbookSpec(month=MONTH, lines=_lines(), daily=_daily())
    return save_atomic(build_plan_workbook(spec), tmp_path / "plan-2026-11.xlsx")


def _cells(path: Path, sheets: set[str] | None = None) -> dict[tuple[str, str], Any]:
    wb = openpyxl.load_workbook(path)
    return {
        (ws.title, c.coordinate): c.value
        for ws in wb
        if sheets is None or ws.title in sheets
        for row in ws.iter_rows()
        for c in row
        if c.value is not None
    }


def _split(path: Path) -> dict[str, dict[str, Any]]:
    """The Optimize Split table by channel and header (formulas as text)."""
    ws = openpyxl.load_workbook(path)[L.SPLIT]
    headers = [c.value for c in ws[L.SPLIT_HEADER_ROW]]
    out = {}
    r = FIRST
    while ws.cell(row=r, column=1).value not in (None, L.TOTAL_LABEL):
        out[ws.cell(row=r, column=1).value] = {
            h: ws.cell(row=r, column=i + 1).value for i, h in enumerate(headers) if h
        }
        r += 1
    return out


def _info(path: Path) -> dict[str, Any]:
    ws = openpyxl.load_workbook(path)[L.SPLIT]
    return {
        ws.cell(row=r, column=1).value: ws.cell(row=r, column=2).value
        for r in range(L.SPLIT_INFO_FIRST_ROW, L.SPLIT_HEADER_ROW - 2)
    }


def _set(path: Path, sheet: str, values: dict[str, Any]) -> None:
    wb = openpyxl.load_workbook(path)
    for ref, value in values.items():
        wb[sheet][ref] = value
    wb.save(path)


def _col(header: str) -> str:
    return openpyxl.utils.get_column_letter(L.SPLIT_HEADERS.index(header) + 1)


def _plan_p(path: Path, header: str) -> list[Any]:
    ws = openpyxl.load_workbook(path)[L.PLAN]
    col = next(c.column for c in ws[L.PLAN_HEADER_ROW] if c.value == header)
    return [ws.cell(row=L.PLAN_FIRST_ROW + i, column=col).value for i in range(5)]


def _spend_p(path: Path) -> list[Any]:
    return _plan_p(path, "spend p")


def test_optimize_worked_by_hand_and_the_plan_is_untouched(book: Path) -> None:
    before = _cells(book)
    proposal = optimize_split(XlsxWorkbook(book), step=0, max_change=0)  # no default limits
    # Fallbacks (10 days < 14): Search CPA 30 000 / 300 = 100 up to 1.75 x 3 000 = 5 250 a day;
    # Meta CPA 200 up to 1 750 a day; VK, no history: the Plan's CPA 30 000 / 100 = 300.
    # Budget = the Plan's spend p, 150 000 = 5 000 a day < 5 250: all of it to Search.
    split = _split(book)
    assert [split[c]["current"] for c in ("Search", "Meta", "VK")] == [90_000, 30_000, 30_000]
    assert [split[c]["proposed"] for c in ("Search", "Meta", "VK")] == [150_000, 0, 0]
    # now: 90 000 / 100 + 30 000 / 200 + 30 000 / 300 = 900 + 150 + 100 = 1 150; then 1 500
    assert [split[c]["conversions now"] for c in ("Search", "Meta", "VK")] == [900, 150, 100]
    assert split["Search"]["expected conversions"] == 1500
    assert split["Search"]["marginal CPA"] == 100 and split["VK"]["marginal CPA"] == 300
    cur, new = f"{_col('current')}{FIRST}", f"{_col('proposed')}{FIRST}"
    assert split["Search"]["Δ"] == f'=IF(OR({cur}="",{new}=""),"",{new}-{cur})'
    assert all(split[c]["confidence"] == "low" for c in split)
    assert "no history; the Plan's CPA 300" in split["VK"]["flags"]
    assert "only 10 days with spend" in split["Meta"]["flags"]
    info = _info(book)
    assert info["budget used"] == 150_000 and info["days"] == 30
    assert info["conversions now"] == 1150 and info["expected conversions"] == 1500
    assert info["uplift"] == 350 and info["uplift %"] == pytest.approx(350 / 1150, abs=1e-4)
    # value per conversion defaults to the Plan's revenue p / leads p: Search 2 000 a lead
    assert info["expected value"] == 1500 * 2000
    assert proposal.totals.uplift == pytest.approx(350)
    after = _cells(book)
    changed = {k[0] for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed == {L.SPLIT, L.CURVES}  # nothing in the Plan (or anywhere else) changes


def test_more_budget_fills_the_cheapest_channel_to_its_cap_then_the_next(book: Path) -> None:
    optimize_split(XlsxWorkbook(book), budget=200_000, step=0, max_change=0)
    split = _split(book)
    # 200 000: Search to its cap 5 250 a day = 157 500; the 42 500 left to Meta (CPA 200)
    assert [split[c]["proposed"] for c in ("Search", "Meta", "VK")] == [157_500, 42_500, 0]
    assert split["Search"]["expected conversions"] == pytest.approx(1575)
    assert split["Meta"]["expected conversions"] == pytest.approx(212.5)
    assert split["Search"]["marginal CPA"] is None  # flat past the cap: no marginal CPA
    assert "saturated" in split["Search"]["flags"]


DEFAULT_FLAG = "default limits ±50% of current (set min/max to change)"
MAX_CHANGE = f"B{L.SPLIT_INFO_FIRST_ROW + 3}"  # the info block's `max change` value cell


def test_default_limits_keep_channels_within_half_of_current_and_are_flagged(book: Path) -> None:
    assert _info(book)[L.SPLIT_MAX_CHANGE] == DEFAULT_CHANGE == 0.5
    assert _info(book)[L.SPLIT_STEP] == DEFAULT_STEP  # the new sheet's step: planning's default
    proposal = optimize_split(XlsxWorkbook(book), step=0)  # the sheet's max change: 50%
    split = _split(book)
    # no min/max typed: Search 90 000 within [45 000, 135 000], Meta and VK 30 000 within
    # [15 000, 45 000]. 150 000: Meta and VK at their min 15 000 (CPA 200, 300 > Search's 100),
    # Search the other 120 000 (below its 135 000), where unbounded it took all 150 000
    assert [split[c]["proposed"] for c in ("Search", "Meta", "VK")] == [120_000, 15_000, 15_000]
    for cp in proposal.channels:
        assert 0.5 * cp.current <= cp.proposed <= 1.5 * cp.current
        assert DEFAULT_FLAG in cp.flags
    assert "at min" in split["Meta"]["flags"] and "at min" in split["VK"]["flags"]
    # 120 000 / 100 + 15 000 / 200 + 15 000 / 300 = 1 200 + 75 + 50 = 1 325
    assert _info(book)["expected conversions"] == 1325


def test_the_formula_gives_the_buttons_split(book: Path) -> None:
    """OPTIMIZE_SPLIT and the button share `planning.split.propose` and its defaults: on the
    same inputs (the month's amounts / 30 days), the same split. Search has a typed min and
    max; Meta and VK have none, so both surfaces keep them within ±50% of current."""
    _set(book, L.SPLIT, {f"{_col('min')}{FIRST}": 60_000, f"{_col('max')}{FIRST}": 120_000})
    proposal = optimize_split(XlsxWorkbook(book), budget=180_000, step=0)
    button = {cp.channel: cp for cp in proposal.channels}
    # Search to its max 120 000 (CPA 100), Meta (200) to its default max 45 000, VK (300) at
    # its default min 15 000
    assert [button[c].proposed for c in ("Search", "Meta", "VK")] == [120_000, 45_000, 15_000]
    names = list(button)
    curves = []
    for c in names:
        curve = proposal.fits[c].curve
        assert curve.max_spend >= curve.saturation  # a cap the curves table need not give
        curves.append([curve.form, *curve.params().values()])
    rows = FUNCTIONS["OPTIMIZE_SPLIT"].call(
        [[c] for c in names],
        [[button[c].current / 30] for c in names],
        180_000 / 30,
        curves,
        [[2_000], [None], [None]],  # Search's min and max a day; Meta and VK blank
        [[4_000], [None], [None]],
    )
    formula = {r[0]: r for r in rows[1:-1]}
    for c in names:
        assert formula[c][2] * 30 == pytest.approx(button[c].proposed, abs=0.01 * 30)
        assert formula[c][4] * 30 == pytest.approx(button[c].expected)
    assert rows[-1][2] * 30 == pytest.approx(180_000)


def test_typed_min_max_override_the_default_limits(book: Path) -> None:
    optimize_split(XlsxWorkbook(book), budget=200_000, step=0)
    split = _split(book)
    # defaults: Search to its max 135 000, Meta to its max 45 000, VK the other 20 000
    assert [split[c]["proposed"] for c in ("Search", "Meta", "VK")] == [135_000, 45_000, 20_000]
    assert "at max" in split["Search"]["flags"] and "at max" in split["Meta"]["flags"]
    _set(book, L.SPLIT, {f"{_col('max')}{FIRST}": 200_000})
    optimize_split(XlsxWorkbook(book), budget=200_000, step=0)
    split = _split(book)
    # Search's typed max replaces its default: it goes to its capacity 5 250 a day = 157 500;
    # VK stays at its default min 15 000, Meta (CPA 200 < VK's 300) takes the other 27 500
    assert [split[c]["proposed"] for c in ("Search", "Meta", "VK")] == [157_500, 27_500, 15_000]
    assert DEFAULT_FLAG not in split["Search"]["flags"]
    assert DEFAULT_FLAG in split["Meta"]["flags"] and DEFAULT_FLAG in split["VK"]["flags"]
    _set(book, L.SPLIT, {f"{_col('max')}{FIRST}": None, f"{_col('locked')}{FIRST + 1}": "yes"})
    optimize_split(XlsxWorkbook(book), step=0)
    split = _split(book)
    # a locked channel has no default limits: Meta keeps 30 000 flagged "locked" only
    assert split["Meta"]["proposed"] == 30_000 and DEFAULT_FLAG not in split["Meta"]["flags"]


def test_max_change_typed_on_the_sheet_and_given_as_an_argument(book: Path) -> None:
    _set(book, L.SPLIT, {MAX_CHANGE: 0.2})
    optimize_split(XlsxWorkbook(book), step=0)
    split = _split(book)
    # ±20%: Meta and VK at their min 24 000, Search 150 000 - 48 000 = 102 000 (max 108 000)
    assert [split[c]["proposed"] for c in ("Search", "Meta", "VK")] == [102_000, 24_000, 24_000]
    assert "default limits ±20% of current (set min/max to change)" in split["Search"]["flags"]
    optimize_split(XlsxWorkbook(book), step=0, max_change=0)  # the argument wins over the sheet
    assert [_split(book)[c]["proposed"] for c in ("Search", "Meta", "VK")] == [150_000, 0, 0]
    _set(book, L.SPLIT, {MAX_CHANGE: 0})  # 0 on the sheet: no default limits either
    optimize_split(XlsxWorkbook(book), step=0)
    split = _split(book)
    assert [split[c]["proposed"] for c in ("Search", "Meta", "VK")] == [150_000, 0, 0]
    assert not any("default limits" in (split[c]["flags"] or "") for c in split)
    _set(book, L.SPLIT, {MAX_CHANGE: None})  # blank: the default 50%
    optimize_split(XlsxWorkbook(book), step=0)
    assert _split(book)["Search"]["proposed"] == 120_000


def test_default_limits_snap_to_the_step(book: Path) -> None:
    _set(book, L.SPLIT, {MAX_CHANGE: 0.25})
    optimize_split(XlsxWorkbook(book), budget=180_000, step=10_000)
    split = _split(book)
    # ±25%: Search [67 500, 112 500], Meta and VK [22 500, 37 500], widened to steps of 10 000:
    # Search [60 000, 120 000], Meta and VK [20 000, 40 000]. Search 120 000 and Meta 40 000
    # (their max), VK the other 20 000 (its min); every amount a multiple of the step, where
    # the unwidened limits would give 112 500, 37 500, 30 000
    assert [split[c]["proposed"] for c in ("Search", "Meta", "VK")] == [120_000, 40_000, 20_000]
    assert "at max" in split["Search"]["flags"] and "at min" in split["VK"]["flags"]


def test_bad_max_change_names_the_cell_or_the_argument(book: Path) -> None:
    _set(book, L.SPLIT, {MAX_CHANGE: -0.1})
    with pytest.raises(InputError) as err:
        optimize_split(XlsxWorkbook(book))
    assert str(err.value) == (
        f"line 'Optimize Split!{MAX_CHANGE}', column `max change`: value -0.1 must not be "
        "negative (0 = no limit)"
    )
    _set(book, L.SPLIT, {MAX_CHANGE: "half"})
    with pytest.raises(InputError) as err:
        optimize_split(XlsxWorkbook(book))
    assert str(err.value) == (
        f"line 'Optimize Split!{MAX_CHANGE}', column `max change`: value 'half' is not a number"
    )
    with pytest.raises(InputError) as err:
        optimize_split(XlsxWorkbook(book), max_change=-1)
    assert str(err.value) == (
        "`max_change` must be a share >= 0 (0.5 = ±50%, 0 = no default limits), got -1"
    )


def test_default_limits_no_budget_can_meet_say_so(book: Path) -> None:
    with pytest.raises(InfeasibleError) as err:
        optimize_split(XlsxWorkbook(book), budget=300_000)
    # maximums 135 000 + 45 000 + 45 000 = 225 000 = 7 500 a day, against 10 000 a day
    assert str(err.value) == (
        "maximum spends add up to 7,500, below the budget 10,000 by 2,500 (amounts a day: x 30 "
        "for the 30 days); Search, Meta, VK without min/max keep within ±50% of current: set "
        "their min/max or a larger max change"
    )


def test_inputs_are_respected_and_survive_reruns(book: Path) -> None:
    _set(
        book,
        L.SPLIT,
        {
            f"{_col('locked')}{FIRST + 1}": "yes",  # Meta keeps its 30 000
            f"{_col('min')}{FIRST + 2}": 15_000,  # VK at least 15 000
            f"{_col('cpa cap')}{FIRST}": 150,
        },
    )
    optimize_split(XlsxWorkbook(book), step=1000)
    split = _split(book)
    # Meta 30 000 locked, VK 15 000 (its min, CPA 300), Search the rest: 105 000
    assert [split[c]["proposed"] for c in ("Search", "Meta", "VK")] == [105_000, 30_000, 15_000]
    assert "locked" in split["Meta"]["flags"] and "at min" in split["VK"]["flags"]
    optimize_split(XlsxWorkbook(book), step=1000)  # a rerun keeps what the user typed
    again = _split(book)
    assert again["Meta"]["locked"] == "yes" and again["VK"]["min"] == 15_000
    assert again["Search"]["cpa cap"] == 150
    assert again["VK"]["proposed"] == 15_000


def test_channels_follow_the_plan_and_old_rows_are_cleared(book: Path) -> None:
    optimize_split(XlsxWorkbook(book), step=0)
    wb = openpyxl.load_workbook(book)
    ws = wb[L.PLAN]
    ws.cell(row=L.PLAN_FIRST_ROW + 4, column=1).value = "Search"  # VK's line now is Search's
    wb.save(book)
    optimize_split(XlsxWorkbook(book), step=0)
    assert list(_split(book)) == ["Search", "Meta"]
    ws = openpyxl.load_workbook(book)[L.SPLIT]
    assert ws.cell(row=FIRST + 2, column=1).value == L.TOTAL_LABEL
    assert ws.cell(row=FIRST + 3, column=1).value is None  # the old Total row is gone
    assert ws[f"{_col('current')}{FIRST + 2}"].value == (
        f"=SUM({_col('current')}{FIRST}:{_col('current')}{FIRST + 1})"
    )


def test_apply_then_undo_restores_the_plan_exactly(book: Path) -> None:
    optimize_split(XlsxWorkbook(book), step=0, max_change=0)
    before = _cells(book)
    plan_before = _cells(book, {L.PLAN})
    result = apply_split(XlsxWorkbook(book))
    # Search 150 000 over Brand / Generic in proportion 30 000 : 60 000; Meta and VK to 0;
    # the blank Meta line stays blank (0 over a blank is no change)
    assert _spend_p(book) == [50_000, 100_000, 0, None, 0]
    # ... and the counts with them (keep ratios): Brand 300 leads x 50 000 / 30 000 = 500,
    # revenue 600 000 x 5/3 = 1 000 000; Generic 600 -> 1 000, 1 200 000 -> 2 000 000; Meta
    # Prospecting and VK to 0 spend, so 0 leads and revenue: 4 lines x 3 cells
    assert _plan_p(book, "leads p") == [500, 1_000, 0, None, 0]
    assert _plan_p(book, "revenue p") == [1_000_000, 2_000_000, 0, None, 0]
    assert len(result.cells) == 12
    assert result.leads_after == 1_500 == _info(book)[L.SPLIT_LEADS_AFTER]
    after = _cells(book)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    plan_changed = {ref for sheet, ref in changed if sheet == L.PLAN}
    cols = [_spend_col(book, h) for h in ("spend p", "leads p", "revenue p")]
    assert plan_changed == {f"{c}{L.PLAN_FIRST_ROW + i}" for i in (0, 1, 2, 4) for c in cols}
    assert {sheet for sheet, _ in changed} == {L.PLAN, L.SPLIT_UNDO}
    undo_split(XlsxWorkbook(book))
    assert _cells(book, {L.PLAN}) == plan_before
    assert _cells(book, {L.SPLIT_UNDO}) == _cells(book, {L.SPLIT_UNDO}) and not _undo_rows(book)
    with pytest.raises(InputError, match="nothing to undo"):
        undo_split(XlsxWorkbook(book))


def _spend_col(path: Path, header: str = "spend p") -> str:
    ws = openpyxl.load_workbook(path)[L.PLAN]
    return next(c.column_letter for c in ws[L.PLAN_HEADER_ROW] if c.value == header)


def _undo_rows(path: Path) -> list[Any]:
    ws = openpyxl.load_workbook(path)[L.SPLIT_UNDO]
    return [c.value for c in ws["A"][1:] if c.value is not None]


def test_blanks_and_formulas_come_back_exactly(book: Path) -> None:
    col = _spend_col(book)
    # Meta's lines: a formula and a blank -> its current is the formula's value
    _set(book, L.PLAN, {f"{col}{L.PLAN_FIRST_ROW + 2}": "=1000*30"})
    wb = openpyxl.load_workbook(book)
    plan_before = _cells(book, {L.PLAN})
    # the formula has no cached value in a file openpyxl wrote: Meta's current reads as 0 here,
    # so Meta's proposal is split equally over both lines
    wb.close()
    optimize_split(XlsxWorkbook(book), budget=200_000, step=0, max_change=0)
    apply_split(XlsxWorkbook(book))
    values = _spend_p(book)
    assert values[2] + values[3] == 42_500 and values[2] == values[3]  # 21 250 each
    undo_split(XlsxWorkbook(book))
    assert _cells(book, {L.PLAN}) == plan_before
    ws = openpyxl.load_workbook(book)[L.PLAN]
    assert ws[f"{col}{L.PLAN_FIRST_ROW + 2}"].value == "=1000*30"
    assert ws[f"{col}{L.PLAN_FIRST_ROW + 3}"].value is None


def test_undo_refuses_to_overwrite_a_cell_changed_since_apply(book: Path) -> None:
    optimize_split(XlsxWorkbook(book), step=0, max_change=0)
    apply_split(XlsxWorkbook(book))
    col = _spend_col(book)
    _set(book, L.PLAN, {f"{col}{L.PLAN_FIRST_ROW}": 12_345})
    with pytest.raises(InputError) as err:
        undo_split(XlsxWorkbook(book))
    assert str(err.value) == (
        f"line 'Plan!{col}{L.PLAN_FIRST_ROW}', column `spend p`: value 12345 was changed after "
        "Apply Split wrote 50000; Undo Split would overwrite it (force it to restore anyway)"
    )
    undo_split(XlsxWorkbook(book), force=True)
    assert _spend_p(book) == [30_000, 60_000, 30_000, None, 30_000]


def test_a_second_apply_replaces_the_record(book: Path) -> None:
    optimize_split(XlsxWorkbook(book), step=0, max_change=0)
    apply_split(XlsxWorkbook(book))
    optimize_split(XlsxWorkbook(book), budget=200_000, step=0, max_change=0)
    second = XlsxWorkbook(book)
    apply_split(second)
    assert "the undo record of the previous Apply Split was replaced" in second.messages
    undo_split(XlsxWorkbook(book))  # back to the first Apply's result
    assert _spend_p(book) == [50_000, 100_000, 0, None, 0]


def test_an_older_workbook_gets_the_sheets(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    for name in (L.SPLIT, L.CURVES, L.SPLIT_UNDO):
        del wb[name]
    wb.save(book)
    target = XlsxWorkbook(book)
    optimize_split(target, step=0, max_change=0)
    assert any("without a chart" in m for m in target.messages)
    names = openpyxl.load_workbook(book).sheetnames
    assert {L.SPLIT, L.CURVES} <= set(names) and L.SPLIT_UNDO not in names
    assert _split(book)["Search"]["proposed"] == 150_000
    apply_split(XlsxWorkbook(book))
    assert openpyxl.load_workbook(book)[L.SPLIT_UNDO].sheet_state == "hidden"
    undo_split(XlsxWorkbook(book))
    assert _spend_p(book) == [30_000, 60_000, 30_000, None, 30_000]


def test_curves_sheet_holds_the_chart_data(book: Path) -> None:
    optimize_split(XlsxWorkbook(book), step=0, max_change=0)
    ws = openpyxl.load_workbook(book)[L.CURVES]
    assert ws.cell(row=1, column=L.curve_column(2, "spend")).value == "Search"
    spend = [ws.cell(row=r, column=L.curve_column(2, "spend")).value for r in range(3, 44)]
    conv = [ws.cell(row=r, column=L.curve_column(2, "conversions")).value for r in range(3, 44)]
    assert spend[0] == 0 and len(spend) == L.CURVE_POINTS
    # Search's grid runs to 1.5 x max(current, proposal, 30 x 3 000 observed) = 225 000
    assert spend[-1] == pytest.approx(225_000)
    assert conv[20] == pytest.approx(112_500 / 100)  # CPA 100 below its cap
    assert conv[-1] == pytest.approx(1575)  # flat at 52.5 a day x 30 past the cap
    assert ws.cell(row=3, column=L.curve_column(1, "spend")).value == 150_000  # proposal marker
    chart = openpyxl.load_workbook(book)[L.SPLIT]._charts
    assert len(chart) == 1 and len(chart[0].series) == 2 + 3


def test_objective_value_weighs_leads_by_their_value(book: Path) -> None:
    # value per lead: Search 2 000 (plan), Meta typed 10 000, VK 5 000 (plan 500 000 / 100)
    _set(book, L.SPLIT, {f"{_col('value per conversion')}{FIRST + 1}": 10_000})
    optimize_split(XlsxWorkbook(book), objective="value", budget=200_000, step=0, max_change=0)
    split = _split(book)
    # value per unit spent: Meta 10 000 / 200 = 50, Search 2 000 / 100 = 20, VK 5 000 / 300 =
    # 16.7: Meta to its cap 52 500 first, Search gets the other 147 500
    assert [split[c]["proposed"] for c in ("Search", "Meta", "VK")] == [147_500, 52_500, 0]


def test_carry_over_feeds_next_months_workbook(book: Path, tmp_path: Path) -> None:
    _set(book, L.SPLIT, {f"{_col('min')}{FIRST + 2}": 15_000, f"{_col('locked')}{FIRST}": "yes"})
    days, inputs = carry_over(XlsxWorkbook(book))
    # the month's Daily rows, per channel and day: 10 days x Search and Meta
    assert len(days) == 20 and list(days.columns) == list(L.DAILY_HISTORY_HEADERS)
    search = days[days["channel"] == "Search"]
    assert search["spend"].tolist() == [3000.0] * 10 and search["leads"].tolist() == [30] * 10
    assert inputs is not None
    assert inputs.set_index("channel").loc["VK", "min"] == 15_000
    spec = PlanWorkbookSpec(
        month=dt.date(2026, 12, 1), lines=_lines(), daily_history=days, split_inputs=inputs
    )
    nxt = save_atomic(build_plan_workbook(spec), tmp_path / "plan-2026-12.xlsx")
    proposal = optimize_split(XlsxWorkbook(nxt), step=0)
    # December fits on November's days: Search and Meta are not "no history"
    assert all(not c.flags or "no history" not in c.flags[0] for c in proposal.channels[:2])
    split = _split(nxt)
    assert split["Search"]["locked"] == "yes" and split["VK"]["min"] == 15_000
    assert split["Search"]["proposed"] == 90_000  # locked


# --- bad input -------------------------------------------------------------------------------


def test_min_above_max_names_the_cell(book: Path) -> None:
    _set(book, L.SPLIT, {f"{_col('min')}{FIRST + 1}": 50_000, f"{_col('max')}{FIRST + 1}": 10_000})
    with pytest.raises(InputError) as err:
        optimize_split(XlsxWorkbook(book))
    assert str(err.value) == (
        f"line 'Optimize Split!{_col('max')}{FIRST + 1} (Meta)', column `max`: value 10000 is "
        "below `min` 50000; `max` must be >= `min`"
    )


def test_negative_and_text_inputs_name_the_cell(book: Path) -> None:
    _set(book, L.SPLIT, {f"{_col('min')}{FIRST}": -5})
    with pytest.raises(InputError) as err:
        optimize_split(XlsxWorkbook(book))
    assert str(err.value) == (
        f"line 'Optimize Split!{_col('min')}{FIRST} (Search)', column `min`: value -5 "
        "must not be negative"
    )
    _set(book, L.SPLIT, {f"{_col('min')}{FIRST}": None, f"{_col('locked')}{FIRST}": "maybe"})
    with pytest.raises(InputError) as err:
        optimize_split(XlsxWorkbook(book))
    assert str(err.value) == (
        f"line 'Optimize Split!{_col('locked')}{FIRST} (Search)', column `locked`: value "
        "'maybe' is not yes or no (blank = no)"
    )


def test_duplicate_channel_rows_are_refused(book: Path) -> None:
    _set(book, L.SPLIT, {f"A{FIRST + 3}": "Search"})  # over the Total row
    with pytest.raises(InputError) as err:
        optimize_split(XlsxWorkbook(book))
    assert str(err.value) == (
        f"line 'Optimize Split!A{FIRST + 3}', column `channel`: value 'Search' appears twice "
        f"in the channel column (also Optimize Split!A{FIRST}); keep one row per channel"
    )


def test_budget_must_be_positive(book: Path) -> None:
    with pytest.raises(InputError) as err:
        optimize_split(XlsxWorkbook(book), budget=-5)
    assert str(err.value) == "`budget` must be a number > 0, got -5"
    _set(book, L.SPLIT, {f"B{L.SPLIT_INFO_FIRST_ROW + 1}": 0})
    with pytest.raises(InputError) as err:
        optimize_split(XlsxWorkbook(book))
    assert str(err.value) == (
        f"line 'Optimize Split!B{L.SPLIT_INFO_FIRST_ROW + 1}', column `budget`: value 0 must be > 0"
    )


def test_infeasible_bounds_say_which_and_by_how_much(book: Path) -> None:
    _set(book, L.SPLIT, {f"{_col('min')}{FIRST + 2}": 200_000})
    with pytest.raises(InfeasibleError) as err:
        optimize_split(XlsxWorkbook(book), max_change=0)
    # 200 000 / 30 = 6 666.67 a day against 150 000 / 30 = 5 000
    assert str(err.value) == (
        "minimum spends add up to 6,666.67, above the budget 5,000 by 1,666.67 "
        "(amounts a day: x 30 for the 30 days)"
    )


def test_a_channel_with_no_conversions_must_be_locked(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    ws = wb[L.DAILY]
    leads_col = next(c.column for c in ws[1] if c.value == "leads")
    for r in range(2, ws.max_row + 1):
        if ws.cell(row=r, column=2).value == "Meta":
            ws.cell(row=r, column=leads_col).value = 0
    wb.save(book)
    with pytest.raises(InputError, match=r"all 10 days have 0 conversions.*lock the channel"):
        optimize_split(XlsxWorkbook(book))
    _set(book, L.SPLIT, {f"{_col('locked')}{FIRST + 1}": True})
    optimize_split(XlsxWorkbook(book), step=0)
    meta = _split(book)["Meta"]
    assert meta["proposed"] == 30_000 and meta["expected conversions"] is None
    assert meta["flags"].startswith("locked; no curve: all 10 days have 0 conversions")


def test_apply_without_a_proposal_says_so(book: Path) -> None:
    with pytest.raises(InputError) as err:
        apply_split(XlsxWorkbook(book))
    assert str(err.value) == (
        f"line 'Optimize Split!{_col('proposed')}{FIRST} (Search)', column `proposed`: "
        "is blank: run Optimize Split first"
    )


# --- the split over lines ----------------------------------------------------------------------


def test_distribute_worked_by_hand() -> None:
    assert distribute(150_000, [30_000, 60_000]) == [50_000, 100_000]
    assert distribute(100, [1, 1, 1]) == [34, 33, 33]  # the first line takes the odd unit
    assert distribute(10, [0, 0]) == [5, 5]  # all zero: equal
    assert distribute(100.5, [1, 1]) == [50.25, 50.25]  # cents when the total is not whole


@given(
    st.integers(0, 10**9),
    st.lists(st.floats(0, 1e7, allow_nan=False), min_size=1, max_size=8),
)
def test_distribute_keeps_the_total_exactly(total: int, weights: list[float]) -> None:
    parts = distribute(float(total), weights)
    assert sum(parts) == total and all(p >= 0 and float(p).is_integer() for p in parts)
    if sum(weights) > 0:
        zero = [p for p, w in zip(parts, weights, strict=True) if w == 0]
        assert all(p == 0 for p in zero)


# --- LibreOffice: the sheet's formulas ---------------------------------------------------------


@pytest.mark.slow
def test_split_formulas_recalculate(book: Path, tmp_path: Path, soffice: str) -> None:
    optimize_split(XlsxWorkbook(book), budget=200_000, step=0, max_change=0)
    ws = openpyxl.load_workbook(recalculate(book, tmp_path / "out"), data_only=True)[L.SPLIT]

    def v(row: int, header: str) -> Any:
        return ws[f"{_col(header)}{row}"].value

    assert v(FIRST, "Δ") == pytest.approx(157_500 - 90_000)
    assert v(FIRST, "Δ%") == pytest.approx(67_500 / 90_000)
    assert v(FIRST + 2, "Δ%") == pytest.approx(-1)
    total = FIRST + 3
    assert ws[f"A{total}"].value == L.TOTAL_LABEL
    assert v(total, "current") == 150_000 and v(total, "proposed") == 200_000
    assert v(total, "Δ%") == pytest.approx(50_000 / 150_000)  # from the sums
    assert v(total, "expected conversions") == pytest.approx(1575 + 212.5)
    assert not any(
        isinstance(c.value, float) and math.isnan(c.value) for row in ws.iter_rows() for c in row
    )
