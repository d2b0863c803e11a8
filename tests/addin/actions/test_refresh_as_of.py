"""`refresh --as-of` computes f and rr as of the same day (issue 16).

The issue's case: the demo synced to the 17th, refreshed as of the 3rd. Before, rr was as of
the 3rd but f kept 17 days, so facts exceeded the month's run-rate in 56 cells.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from demo_cache import run_demo

from addin.actions.refresh_runrate import facts_as_of, refresh
from addin.cli.main import main
from planning.errors import InputError
from planning.funnel import DEFAULT_FUNNEL
from sheets_sync.workbooks.xlsx import XlsxWorkbook
from workbook_templates import layout as L
from workbook_templates.daily_sheet import read_daily
from workbook_templates.plan_sheet import read_plan
from workbook_templates.settings_sheet import read_funnel, read_settings

MONTH = dt.date(2026, 11, 1)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("asof")
    return run_demo(out, month="2026-11", as_of=dt.date(2026, 11, 17)).workbook


def _copy(demo: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(demo, tmp_path / demo.name))


def test_refresh_as_of_the_3rd_recomputes_f_to_days_1_to_3(demo: Path, tmp_path: Path) -> None:
    book = _copy(demo, tmp_path)
    wb = XlsxWorkbook(book)
    funnel = read_funnel(wb)
    daily = read_daily(wb, funnel, MONTH)
    assert max(daily["date"]) == dt.date(2026, 11, 17)  # synced to the 17th
    days_1_3 = daily[daily["date"] <= dt.date(2026, 11, 3)]
    expected = days_1_3.groupby(["channel", "campaign"]).sum(numeric_only=True)

    result = CliRunner().invoke(main, ["refresh", str(book), "--as-of", "2026-11-03"])
    assert result.exit_code == 0, result.output

    wb = XlsxWorkbook(book)
    assert read_settings(wb).as_of == dt.date(2026, 11, 3)
    _, plan = read_plan(wb, funnel)
    checked = exceeding = 0
    for _, line in plan.iterrows():
        key = (line["channel"], line["campaign"])
        for m in funnel.metrics:
            f = line[L.abs_header(m, "f")]
            want = float(expected.loc[key, m]) if key in expected.index else 0.0
            assert f == pytest.approx(want, abs=1e-4), (key, m)
            rr = line[L.abs_header(m, "rr")]
            if not math.isnan(rr) and f > rr + 1e-6:
                exceeding += 1
            checked += 1
    assert checked == 28 * len(funnel.metrics)  # the demo's 28 lines x 8 metrics
    assert exceeding == 0  # was 56 cells when f kept 17 days


def test_refresh_as_of_the_last_synced_day_keeps_f(demo: Path, tmp_path: Path) -> None:
    book = _copy(demo, tmp_path)
    before = read_plan(XlsxWorkbook(book), DEFAULT_FUNNEL)[1]
    refresh(XlsxWorkbook(book), as_of=dt.date(2026, 11, 17))
    after = read_plan(XlsxWorkbook(book), DEFAULT_FUNNEL)[1]
    for m in DEFAULT_FUNNEL.metrics:
        h = L.abs_header(m, "f")
        pd.testing.assert_series_equal(before[h], after[h])


def test_an_as_of_outside_the_month_is_refused(demo: Path, tmp_path: Path) -> None:
    book = _copy(demo, tmp_path)
    with pytest.raises(InputError, match=r"as-of 2026-10-31 is not a day of the month 2026-11"):
        refresh(XlsxWorkbook(book), as_of=dt.date(2026, 10, 31))


def test_facts_as_of_worked_by_hand_and_refusals() -> None:
    # Search/Brand: 10 leads on the 1st, 20 on the 2nd, 40 on the 5th -> as of the 2nd: 30.
    # Meta/New has rows only from the 5th -> 0 as of the 2nd.
    daily = pd.DataFrame(
        {
            "date": [dt.date(2026, 11, d) for d in (1, 2, 5, 5)],
            "channel": ["Search", "Search", "Search", "Meta"],
            "campaign": ["Brand", "Brand", "Brand", "New"],
            "spend": [100.0, 200.0, 400.0, 50.0],
            "leads": [10.0, 20.0, 40.0, 1.0],
        }
    )
    plan = pd.DataFrame(
        {
            "channel": ["Search", "Meta"],
            "campaign": ["Brand", "New"],
            "spend f": [700.0, 50.0],
            "leads f": [70.0, 1.0],
        }
    )
    got = facts_as_of(daily, plan, DEFAULT_FUNNEL, dt.date(2026, 11, 2))
    assert got == {"spend": [300, 0], "leads": [30, 0]}
    assert facts_as_of(daily, plan, DEFAULT_FUNNEL, dt.date(2026, 11, 5)) == {}  # nothing after
    plan["calls f"] = [3.0, math.nan]  # facts the Daily sheet has no column for
    with pytest.raises(InputError, match=r"cannot compute `calls f` as of 2026-11-02: sheet"):
        facts_as_of(daily, plan, DEFAULT_FUNNEL, dt.date(2026, 11, 2))
    plan = plan.drop(columns="calls f")
    plan.loc[2] = ["VK", "Old", 10.0, 1.0]  # a line with facts and no Daily rows
    with pytest.raises(InputError, match="VK / Old"):
        facts_as_of(daily, plan, DEFAULT_FUNNEL, dt.date(2026, 11, 2))
