"""The `auto` run-rate: a case worked by hand, its invariants (hypothesis), the frame and the
series giving the same bits, its edges (day 1, zeros, gaps, no history, before and after the
month), a small version of the quality simulation, and `auto` through RUNRATE, the Settings
sheet's check and the CLI.

November 2026 starts on a Sunday and has 30 days.
"""

from __future__ import annotations

import calendar
import datetime as dt
import importlib.util
import json
import math
import sys
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import planning.runrate_auto as auto_module
from addin.formulas import runrate as formulas
from addin.registry import FUNCTIONS
from addin.sheet_function import Cells
from planning.runrate import METHODS, forecast_frame, forecast_series

NOV = date(2026, 11, 1)
ROOT = Path(__file__).resolve().parents[2]


def series(start: date, values: list[float]) -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values)), dtype=float)


def auto(values: pd.Series, as_of: date, month: date = NOV) -> Any:
    return forecast_series(values, month, as_of, method="auto")


# --------------------------------------------------------------------------- the method


def test_auto_is_a_method_and_not_yet_the_default() -> None:
    assert "auto" in METHODS
    assert METHODS[0] == "last_n"


def test_the_constants_the_hand_worked_case_uses() -> None:
    # the case below is worked with these; change them and rework it
    assert (auto_module.SHIFT_SIZE, auto_module.SHIFT_SPREAD) == (0.25, 0.35)
    assert auto_module.SHIFT_HAZARD == 0.03


def test_three_days_worked_by_hand() -> None:
    # Sun 1 = 10, Mon 2 = 10, Tue 3 = 16; no history. Each weekday is seen once: the factors'
    # noise cannot be judged, so every factor is 1 (and none is fitted: k = 0).
    # mtd 36; the month's level 36 / 3 = 12.
    # noise: day-to-day changes 0 and 6, each over 1/f + 1/f = 2: (0 + 36/2) / 2 pairs = 9,
    #   times n / (n - k) = 3 / 3: sigma^2 = 9.
    # prior: no shift 1 - 0.03 * 2 = 0.94; a shift on day 2 or on day 3: 0.03 each.
    # shift size m = 0.25 * 12 = 3, give or take 0.35 * 3 = 1.05 (variance 1.1025).
    # shift on day 2: before 10 (F1 1), after (10 + 16) / 2 = 13 (F2 2), gap g = 3,
    #   v = 9 * (1 + 1/2) = 13.5, w = 13.5 + 1.1025 = 14.6025, sqrt(v/w) = 0.961509
    #   BF = 0.5 * 0.961509 * exp(9/27) * (exp(-0/(2w)) + exp(-36/(2w)))
    #      = 0.5 * 0.961509 * 1.395612 * (1 + 0.291513) = 0.670947 + 0.195591 = 0.866538
    #   level if up: 13 - 9/2/w * (3 - 3) = 13; if down: 13 - 0.308166 * 6 = 11.151002
    #   -> (0.670947 * 13 + 0.195591 * 11.151002) / 0.866538 = 12.582653
    # shift on day 3: before 10 (F1 2), after 16 (F2 1), g = 6, v = 9 * (1/2 + 1) = 13.5
    #   BF = 0.5 * 0.961509 * exp(36/27) * (exp(-9/(2w)) + exp(-81/(2w)))
    #      = 1.340132 + 0.113885 = 1.454017
    #   level if up: 16 - 9/w * 3 = 14.151002; if down: 16 - 9/w * 9 = 10.453005 -> 13.861357
    # posterior: 0.94 : 0.03 * 0.866538 : 0.03 * 1.454017 = 0.931046 : 0.025749 : 0.043205
    # rate = 0.931046 * 12 + 0.025749 * 12.582653 + 0.043205 * 13.861357 = 12.095422
    # forecast = 36 + 27 days left * factor 1 * 12.095422 = 362.576406
    f = auto(series(NOV, [10.0, 10.0, 16.0]), date(2026, 11, 3))
    assert f.mtd == 36.0
    assert f.daily_rate == pytest.approx(12.095422, abs=1e-6)
    assert f.forecast == pytest.approx(362.576406, abs=1e-6)
    # days the rate rests on: 0.931046 * 3 + 0.025749 * 2 + 0.043205 * 1 = 2.89 -> 3
    assert f.window_days == 3
    assert f.note == "no Wed, Thu, Fri, Sat in the data yet: weekday factor 1 for them"


def monday_heavy(start: date, end: date) -> pd.Series:
    """30 on Mondays, 10 on every other day."""
    days = pd.date_range(start, end)
    return pd.Series(np.where(days.day_of_week == 0, 30.0, 10.0), index=days)


def test_a_weekly_pattern_is_forecast_exactly() -> None:
    # Oct 1 .. Nov 17 (48 days, 7 Mondays): every weekday's days are equal, so the factors are
    # not shrunk: f_Mon = 30 / (620/48), f_other = 10 / (620/48), every value / its factor is
    # 620/48, no day-to-day change: no shift. November: 5 Mondays * 30 + 25 * 10 = 400.
    as_of = date(2026, 11, 17)
    f = auto(monday_heavy(date(2026, 10, 1), as_of), as_of)
    assert f.mtd == 230.0
    assert f.daily_rate == pytest.approx(620 / 48, rel=1e-12)
    assert f.forecast == pytest.approx(400.0, rel=1e-12)
    assert (f.window_days, f.note) == (17, "")


def test_a_clear_step_moves_the_rate_to_the_new_level_and_says_when() -> None:
    # 100 a day for Nov 1-10, 150 from Nov 11 to the 20th; 10 days left
    values = series(NOV, [100.0] * 10 + [150.0] * 10)
    f = auto(values, date(2026, 11, 20))
    assert f.mtd == 2500.0
    assert f.daily_rate == pytest.approx(150.0, rel=0.01)  # linear would say 125
    assert f.forecast == pytest.approx(2500 + 10 * 150, rel=0.01)
    assert f.window_days == 10
    assert f.note.startswith("the level changed around 2026-11-11 (probability 100%)")


def test_a_single_odd_day_does_not_switch_the_level() -> None:
    # 20 steady days around 100, then one day of 300: the last day alone is no new level (the
    # Hampel filter puts the median of its neighbours in its place for the rate; the MTD keeps it)
    rng = np.random.default_rng(5)
    values = series(NOV, [*rng.normal(100, 5, 20).round(), 300.0])
    f = auto(values, date(2026, 11, 21))
    steady = float(values.iloc[:20].mean())
    assert f.mtd == float(values.sum())
    assert f.daily_rate == pytest.approx(steady, rel=0.03)
    assert f.note == ""
    # the same day of 300 in the middle of the month does not move it either
    middle = series(NOV, [*rng.normal(100, 5, 10).round(), 300.0, *rng.normal(100, 5, 10).round()])
    assert auto(middle, date(2026, 11, 21)).daily_rate == pytest.approx(100, rel=0.04)


# --------------------------------------------------------------------------- edges


def test_day_one_and_day_two() -> None:
    one = auto(series(NOV, [7.0]), NOV)
    assert (one.mtd, one.forecast, one.daily_rate, one.window_days) == (7.0, 210.0, 7.0, 1)
    two = auto(series(NOV, [7.0, 13.0]), date(2026, 11, 2))
    # each weekday seen once: factors 1; the two days at most shift the level between them
    assert two.mtd == 20.0
    assert 7.0 < two.daily_rate < 13.0
    assert two.forecast == pytest.approx(20 + 28 * two.daily_rate)


def test_zeros_gaps_and_no_history() -> None:
    zero = auto(series(NOV, [0.0] * 12), date(2026, 11, 12))
    assert (zero.mtd, zero.forecast, zero.daily_rate) == (0.0, 0.0, 0.0)
    assert zero.note == "every value so far is 0: every weekday factor is 1"
    # a missing day counts 0, exactly as a written 0
    full = series(NOV, [5.0, 0.0, 7.0, 6.0, 0.0, 8.0, 5.0, 6.0])
    gappy = full[full != 0]
    as_of = date(2026, 11, 8)
    assert auto(gappy, as_of) == auto(full, as_of)


def test_before_and_after_the_month_like_every_method() -> None:
    values = series(date(2026, 10, 1), [10.0] * 61)
    before = auto(values, date(2026, 10, 31))
    assert before.mtd == 0.0 and math.isnan(before.forecast) and math.isnan(before.daily_rate)
    assert before.note == "as-of 2026-10-31 is before the month: no facts yet"
    for as_of in (date(2026, 11, 30), date(2026, 12, 5)):
        after = auto(values, as_of)
        assert after.forecast == after.mtd == 300.0
    assert auto(values, date(2026, 12, 5)).note.startswith("as-of 2026-12-05 is after the month")


def test_tiny_and_huge_numbers_stay_finite() -> None:
    for c in (1e-300, 1e-9, 1e12, 1e300):
        values = series(NOV, [c, 2 * c, c, 3 * c, c, c, 2 * c])
        f = auto(values, date(2026, 11, 7))
        assert math.isfinite(f.forecast) and f.forecast >= f.mtd


# --------------------------------------------------------------------------- properties


@st.composite
def daily_facts(draw: st.DrawFn) -> tuple[pd.Series, date, date]:
    """A non-negative daily series with 0-60 days of history, some days missing, an as-of in
    the month, a random month."""
    month = date(draw(st.integers(2024, 2027)), draw(st.integers(1, 12)), 1)
    days_in_month = calendar.monthrange(month.year, month.month)[1]
    as_of = month + timedelta(days=draw(st.integers(0, days_in_month - 1)))
    start = month - timedelta(days=draw(st.integers(0, 60)))
    n = (as_of - start).days + 1
    values = draw(st.lists(st.floats(0, 1e5, allow_nan=False), min_size=n, max_size=n))
    keep = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    index = [start + timedelta(days=i) for i in range(n) if keep[i] or i == 0]
    kept = [v for i, v in enumerate(values) if keep[i] or i == 0]
    return pd.Series(kept, index=pd.DatetimeIndex(index), dtype=float), month, as_of


@settings(max_examples=150, deadline=None)
@given(facts=daily_facts())
def test_forecast_is_at_least_the_mtd(facts: tuple[pd.Series, date, date]) -> None:
    values, month, as_of = facts
    f = forecast_series(values, month, as_of, method="auto")
    assert f.forecast >= f.mtd * (1 - 1e-12)
    assert f.daily_rate >= 0 and 0 <= f.window_days <= f.progress.days_elapsed


@settings(max_examples=150, deadline=None)
@given(facts=daily_facts(), c=st.floats(1e-3, 1e3))
def test_scaling_the_series_scales_the_forecast(
    facts: tuple[pd.Series, date, date], c: float
) -> None:
    values, month, as_of = facts
    f = forecast_series(values, month, as_of, method="auto")
    g = forecast_series(values * c, month, as_of, method="auto")
    assert g.forecast == pytest.approx(c * f.forecast, rel=1e-9, abs=1e-9)
    assert g.daily_rate == pytest.approx(c * f.daily_rate, rel=1e-9, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(facts=daily_facts(), c=st.floats(0.01, 1e6))
def test_a_constant_series_is_forecast_exactly(
    facts: tuple[pd.Series, date, date], c: float
) -> None:
    values, month, as_of = facts
    full = pd.Series(c, index=pd.date_range(values.index[0], as_of))
    f = forecast_series(full, month, as_of, method="auto")
    assert f.forecast == pytest.approx(c * f.progress.days_in_month, rel=1e-9)
    assert f.daily_rate == pytest.approx(c, rel=1e-9)


@settings(max_examples=100, deadline=None)
@given(
    facts=daily_facts(),
    week=st.lists(st.floats(0, 1e4, allow_nan=False), min_size=7, max_size=7),
)
def test_a_weekly_pattern_seen_twice_is_forecast_exactly(
    facts: tuple[pd.Series, date, date], week: list[float]
) -> None:
    _, month, as_of = facts
    start = min(month, as_of - timedelta(days=13))  # every weekday at least twice
    days = pd.date_range(start, month_end(month))
    pattern = pd.Series([week[d.weekday()] for d in days], index=days)
    truth = float(pattern[pattern.index >= pd.Timestamp(month)].sum())
    f = forecast_series(pattern[: pd.Timestamp(as_of)], month, as_of, method="auto")
    assert f.forecast == pytest.approx(truth, rel=1e-9, abs=1e-6)


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), facts=daily_facts())
def test_the_frame_gives_every_line_the_bits_of_the_series(
    data: st.DataObject, facts: tuple[pd.Series, date, date]
) -> None:
    _, month, as_of = facts
    rows = data.draw(
        st.lists(
            st.tuples(
                st.integers(-50, 40),
                st.sampled_from(["a", "b", "c", "d"]),
                st.floats(-10, 1e5, allow_nan=False),
                st.floats(0, 1e3, allow_nan=False),
            ),
            min_size=1,
            max_size=80,
        )
    )
    daily = pd.DataFrame(
        {
            "date": [month + timedelta(days=r[0]) for r in rows],
            "line": [r[1] for r in rows],
            "spend": [r[2] for r in rows],
            "leads": [r[3] for r in rows],
        }
    )
    out = forecast_frame(daily, month, as_of, ["line"], ["spend", "leads"], method="auto")
    for _, row in out.iterrows():
        mine = daily[daily["line"] == row["line"]].set_index("date")
        for metric in ("spend", "leads"):
            one = forecast_series(mine[metric], month, as_of, method="auto")
            assert (row[f"{metric}_mtd"], row[f"{metric}_rr"], row[f"{metric}_rate"]) == (
                one.mtd,
                one.forecast,
                one.daily_rate,
            ) or (math.isnan(one.forecast) and math.isnan(row[f"{metric}_rr"]))


# --------------------------------------------------------------------------- decision quality


def _bench() -> ModuleType:
    """benchmarks/bench_runrate_quality.py, the simulation the docs report (not a package)."""
    path = ROOT / "benchmarks" / "bench_runrate_quality.py"
    spec = importlib.util.spec_from_file_location("bench_runrate_quality", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_auto_is_about_as_good_as_the_better_method_on_either_kind_of_month() -> None:
    # 2 x 160 line-months on seeds neither tuned on nor reported; auto's MAPE minus the better of
    # linear and last_n_dow, per day (10, 15, 20) and kind of month, in MAPE points. Measured:
    # at most +0.22 (day 15, no shift); 0.35 is the tolerance (the 10 reported seeds of
    # docs/benchmarks.md range from -0.45 to +0.38 seed by seed)
    bench = _bench()
    table = bench.mape_table(160, (31, 32), bench.ISSUE)
    margins = bench.margins(table)
    for (day, kind), margin in margins.items():
        assert margin <= 0.35, (day, kind, margin)
    # and over all months it is the best of the four at every day
    for day in bench.DAYS:
        at = table[table["day"] == day].set_index("method")["all"]
        assert at["auto"] == at.min(), (day, at.to_dict())


# --------------------------------------------------------------------------- where auto is used


def test_runrate_formula_takes_auto() -> None:
    as_of = dt.date(2026, 11, 17)
    values = monday_heavy(NOV, as_of).tolist()
    cells = [[v] for v in values]
    # Nov 1-17 alone: every weekday seen at least twice, Mondays 30 and the rest 10: exact
    direct = formulas.runrate(Cells.of(values, "values"), as_of, 5, "auto")
    assert direct == pytest.approx(400.0, rel=1e-12)
    assert FUNCTIONS["RUNRATE"].call(cells, as_of, 5, "auto") == pytest.approx(400.0, rel=1e-12)
    spend = [[10 * v[0]] for v in cells]
    # spend ten times the leads: the cost's forecast is 10 (recomputed from the two forecasts)
    assert FUNCTIONS["RUNRATE_COST"].call(spend, cells, as_of, 5, "auto") == pytest.approx(10.0)


def test_runrate_by_rows_with_auto_equals_one_call_per_row() -> None:
    fn = FUNCTIONS["RUNRATE"]
    rng = np.random.default_rng(3)
    rows: list[list[Any]] = [
        [[[float(v)] for v in rng.poisson(20 + 5 * i, 17)], "2026-11-17", 5, "auto"]
        for i in range(12)
    ]
    rows.append([[[0.0]] * 17, "2026-11-17", 5, "auto"])
    rows.append([[[5.0]], "2026-11-01", 5, "auto"])
    assert fn.by_rows is not None
    assert fn.evaluate_rows(rows) == [fn.evaluate(*row) for row in rows]


def test_the_settings_sheet_accepts_auto(tmp_path: Path) -> None:
    from sheets_sync.workbooks.xlsx import XlsxWorkbook, save_atomic
    from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook
    from workbook_templates.settings_sheet import read_settings

    lines = pd.DataFrame({"channel": ["Search"], "campaign": [""], "spend p": [1000.0]})
    spec = PlanWorkbookSpec(month=NOV, lines=lines, as_of=date(2026, 11, 17), method="auto")
    book = save_atomic(build_plan_workbook(spec), tmp_path / "plan.xlsx")
    assert read_settings(XlsxWorkbook(book)).method == "auto"


def test_the_cli_takes_auto(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from addin.cli.main import main

    csv = tmp_path / "daily.csv"
    rows = ["date,channel,leads"] + [f"2026-11-{d:02d},Search,10" for d in range(1, 11)]
    csv.write_text("\n".join(rows) + "\n")
    result = CliRunner().invoke(main, ["runrate", str(csv), "--method", "auto", "--json"])
    assert result.exit_code == 0, result.output
    # ten days of 10 (no noise, no shift, every factor 1): 100 + 20 * 10
    assert json.loads(result.output)["total"]["leads"]["runrate"] == pytest.approx(300.0)
