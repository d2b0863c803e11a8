"""Apply Split keeps the Plan consistent (issue 16): the counts follow the spend, the Optimize
Split sheet says what total planned leads the Plan will show and the Plan then shows exactly
that, and Undo Split restores every Plan cell (spend and counts, formulas included)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from addin.actions.apply_split import apply_split
from addin.actions.optimize_split import optimize_split
from addin.actions.undo_split import undo_split
from planning.errors import InputError
from sheets_sync.workbooks.xlsx import XlsxWorkbook, save_atomic
from workbook_templates import layout as L
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook

MONTH = dt.date(2026, 11, 1)


def _daily() -> pd.DataFrame:
    """Nov 1-10: Search 3 000 a day for 30 leads (CPA 100), Meta 1 000 for 5 (CPA 200)."""
    rows = []
    for d in range(1, 11):
        day = MONTH.replace(day=d)
        rows += [
            {"date": day, "channel": "Search", "campaign": "Brand", "spend": 3000.0, "leads": 30},
            {"date": day, "channel": "Meta", "campaign": "Prosp", "spend": 1000.0, "leads": 5},
        ]
    return pd.DataFrame(rows)


def _book(tmp: Path, lines: pd.DataFrame, daily: pd.DataFrame | None = None) -> Path:
    spec = PlanWorkbookSpec(month=MONTH, lines=lines, daily=daily)
    return save_atomic(build_plan_workbook(spec), tmp / "plan-2026-11.xlsx")


def _plan_cells(path: Path) -> dict[str, Any]:
    ws = openpyxl.load_workbook(path)[L.PLAN]
    return {c.coordinate: c.value for row in ws.iter_rows() for c in row if c.value is not None}


def _plan_column(path: Path, header: str) -> list[Any]:
    ws = openpyxl.load_workbook(path)[L.PLAN]
    col = next(c.column for c in ws[L.PLAN_HEADER_ROW] if c.value == header)
    out, r = [], L.PLAN_FIRST_ROW
    while ws.cell(r, 1).value not in (None, L.TOTAL_LABEL):
        out.append(ws.cell(r, col).value)
        r += 1
    return out


def _info(path: Path, key: str) -> Any:
    ws = openpyxl.load_workbook(path)[L.SPLIT]
    for r in range(L.SPLIT_INFO_FIRST_ROW, L.SPLIT_HEADER_ROW):
        if ws.cell(r, 1).value == key:
            return ws.cell(r, 2).value
    raise KeyError(key)


def _set_info(path: Path, key: str, value: Any) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb[L.SPLIT]
    row = next(r for r in range(1, L.SPLIT_HEADER_ROW) if ws.cell(r, 1).value == key)
    ws.cell(row, 2).value = value
    wb.save(path)


def _total(values: list[Any]) -> float:
    return sum(float(v) for v in values if isinstance(v, int | float))


def _two_lines() -> pd.DataFrame:
    """Search 30 000 for 300 leads (CPA 100), 30 calls, 600 000 revenue; Meta 10 000 for 50."""
    return pd.DataFrame(
        {
            "channel": ["Search", "Meta"],
            "campaign": ["Brand", "Prosp"],
            "spend p": [30_000, 10_000],
            "leads p": [300, 50],
            "calls p": [30, 5],
            "revenue p": [600_000, 40_000],
        }
    )


@pytest.mark.parametrize("mode", ["keep ratios", "curves"])
def test_the_plan_shows_the_leads_the_sheet_promised(tmp_path: Path, mode: str) -> None:
    book = _book(tmp_path, _two_lines(), _daily())
    _set_info(book, L.SPLIT_COUNTS, mode)
    proposal = optimize_split(XlsxWorkbook(book), budget=50_000, step=0, max_change=0)
    promised = _info(book, L.SPLIT_LEADS_AFTER)
    # 10 days of history (< 14): constant CPA fallbacks, Search CPA 100 up to 1.75 x 3 000 a
    # day = 157 500 a month, so all 50 000 go to Search: 500 leads expected, Meta 0.
    assert [(c.channel, c.proposed, round(c.expected, 6)) for c in proposal.channels] == [
        ("Search", 50_000, 500),
        ("Meta", 0, 0),
    ]
    # keep ratios: Search 300 x 50 000 / 30 000 = 500, Meta 0 -> 500 leads; curves: 500 + 0.
    assert promised == 500
    before = _plan_cells(book)
    result = apply_split(XlsxWorkbook(book))
    assert _total(_plan_column(book, "leads p")) == promised == result.leads_after
    assert _plan_column(book, "calls p") == [50, 0]  # 30 x 500/300: CR calls/leads kept
    assert _plan_column(book, "revenue p") == [1_000_000, 0]
    undo_split(XlsxWorkbook(book))
    assert _plan_cells(book) == before


def test_curves_mode_plans_the_curves_conversions(tmp_path: Path) -> None:
    # Search 30 000 -> 45 000 (max change 50%): the curve (CPA 100) expects 450 leads; the
    # Plan had 300 leads at CPA 100, so both modes agree on leads here, and Meta 10 000 ->
    # 5 000 expects 25 (CPA 200). Total 475 either way.
    book = _book(tmp_path, _two_lines(), _daily())
    _set_info(book, L.SPLIT_COUNTS, "curves")
    optimize_split(XlsxWorkbook(book), step=0)
    promised = _info(book, L.SPLIT_LEADS_AFTER)
    assert promised == pytest.approx(_info(book, "expected conversions"))
    apply_split(XlsxWorkbook(book))
    assert _total(_plan_column(book, "leads p")) == promised


def test_a_bad_counts_item_names_its_cell(tmp_path: Path) -> None:
    book = _book(tmp_path, _two_lines(), _daily())
    _set_info(book, L.SPLIT_COUNTS, "sideways")
    with pytest.raises(InputError, match="counts") as err:
        optimize_split(XlsxWorkbook(book), step=0)
    assert "keep ratios, curves" in str(err.value)


def test_a_line_with_no_spend_is_named(tmp_path: Path) -> None:
    lines = pd.DataFrame(
        {
            "channel": ["Search", "Meta"],
            "campaign": ["Brand", "New"],
            "spend p": [30_000, None],
            "leads p": [300, 40],
        }
    )
    book = _book(tmp_path, lines)
    wb = openpyxl.load_workbook(book)
    ws = wb[L.SPLIT]
    for r, (proposed, expected) in enumerate([(20_000, 200), (10_000, 50)]):
        ws.cell(L.SPLIT_FIRST_ROW + r, L.SPLIT_HEADERS.index(L.SPLIT_PROPOSED) + 1, proposed)
        ws.cell(L.SPLIT_FIRST_ROW + r, L.SPLIT_HEADERS.index(L.SPLIT_EXPECTED) + 1, expected)
    wb.save(book)
    result = apply_split(XlsxWorkbook(book))
    assert result.kept == [
        "Meta / New: its spend p was blank or 0: nothing to scale its counts from"
    ]
    assert _plan_column(book, "leads p") == [200, 40]  # Search 300 x 2/3; Meta as it was


# --- property: Apply then Undo is the identity on every Plan cell ---------------------------


@st.composite
def _plans(draw: st.DrawFn) -> tuple[pd.DataFrame, list[int]]:
    n = draw(st.integers(1, 5))
    channels = draw(st.lists(st.sampled_from(["Search", "Meta", "VK"]), min_size=n, max_size=n))
    money = st.one_of(st.none(), st.integers(0, 500_000), st.just("=1000*30"))
    count = st.one_of(
        st.none(), st.integers(0, 5_000), st.floats(0, 5_000).map(lambda x: round(x, 1))
    )
    lines = pd.DataFrame(
        {
            "channel": channels,
            "campaign": [f"c{i}" for i in range(n)],
            "spend p": draw(st.lists(money, min_size=n, max_size=n)),
            "leads p": draw(st.lists(count, min_size=n, max_size=n)),
            "purchases p": draw(st.lists(count, min_size=n, max_size=n)),
            "revenue p": draw(st.lists(count, min_size=n, max_size=n)),
        }
    )
    proposals = draw(st.lists(st.integers(0, 1_000_000), min_size=3, max_size=3))
    return lines, proposals


@settings(
    max_examples=5,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),  # a workbook per example: no shrinking
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(plan=_plans(), mode=st.sampled_from(["keep ratios", "curves"]))
def test_apply_then_undo_is_the_identity_and_the_promise_holds(
    plan: tuple[pd.DataFrame, list[int]], mode: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    lines, proposals = plan
    book = _book(tmp_path_factory.mktemp("prop"), lines)
    wb = openpyxl.load_workbook(book)
    ws = wb[L.SPLIT]
    channels = list(dict.fromkeys(lines["channel"]))
    for r, channel in enumerate(channels):
        assert ws.cell(L.SPLIT_FIRST_ROW + r, 1).value == channel
        ws.cell(L.SPLIT_FIRST_ROW + r, L.SPLIT_HEADERS.index(L.SPLIT_PROPOSED) + 1, proposals[r])
        ws.cell(
            L.SPLIT_FIRST_ROW + r, L.SPLIT_HEADERS.index(L.SPLIT_EXPECTED) + 1, proposals[r] / 90
        )
    wb.save(book)
    _set_info(book, L.SPLIT_COUNTS, mode)
    before = _plan_cells(book)
    result = apply_split(XlsxWorkbook(book))
    leads = _plan_column(book, "leads p")
    if result.cells:
        # the Plan's cells hold the counts Apply summed for its promise (15 significant digits
        # each); the sums agree to the last digit a spreadsheet keeps
        promised = _info(book, L.SPLIT_LEADS_AFTER)
        assert promised == result.leads_after
        assert _total(leads) == pytest.approx(promised, rel=1e-14, abs=1e-9)
        undo_split(XlsxWorkbook(book))
    assert _plan_cells(book) == before
    assert not math.isnan(result.leads_after)
