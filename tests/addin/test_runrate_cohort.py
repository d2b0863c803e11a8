"""RUNRATE's cohort method: worked by hand, against `planning.cohorts`, and its error values."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from addin.registry import FUNCTIONS, NA, NUM, VALUE
from planning.cohorts import channel_forecasts, cohort_forecast, deals_frame, lag_curves
from planning.runrate import forecast_series

NOV28 = dt.date(2026, 11, 28)
DATES = [dt.date(2026, 10, 1), dt.date(2026, 11, 26), dt.date(2026, 11, 27), NOV28]
PURCHASES = [0, 1, 2, 2]
LEADS = [100, 10, 20, 30]
CURVE = [0.05, 0.1, 0.2, 0.3]


def col(*values: Any) -> list[list[Any]]:
    return [[v] for v in values]


def evaluate(*args: Any) -> Any:
    return FUNCTIONS["RUNRATE"].evaluate(*args)


def test_cohort_runrate_by_hand() -> None:
    # Purchases in November up to the 28th: 1 + 2 + 2 = 5 (10-01 is before the month).
    # Leads' last_n rate, window 3: (10 + 20 + 30) / 3 = 20 a day for the 29th and 30th.
    # Existing leads, F flat at 0.3 beyond age 3:
    #   10-01 100 * (F60 - F58) = 0; 11-26 10 * (F4 - F2) = 1; 11-27 20 * (F3 - F1) = 4;
    #   11-28 30 * (F2 - F0) = 4.5                                       -> 9.5
    # New leads: 29th 20 * F1 = 2; 30th 20 * F0 = 1                      -> 3
    # Forecast: 5 + 9.5 + 3 = 17.5 (the straight line would say 5 / 28 * 30 = 5.36).
    args = (col(*PURCHASES), NOV28, 3, "cohort", col(*DATES), col(*LEADS), col(*CURVE))
    value, reason = evaluate(*args)
    assert value == pytest.approx(17.5) and reason == ""
    # Blank cells after the curve (a longer column on the sheet) are not part of it.
    assert evaluate(*args[:-1], col(*CURVE, None, None)).value == pytest.approx(17.5)
    # Without dates the values are days 1, 2, ... of as-of's month.
    month = [1.0] * 28
    got = evaluate(col(*month), NOV28, 5, "cohort", None, col(*month), col(0.0, 0.5)).value
    # 28 so far; the 28th's lead adds F2 - F0 = 0.5; the 29th 1 * F1 = 0.5, the 30th F0 = 0.
    assert got == pytest.approx(28 + 0.5 + 0.5)


def test_other_methods_ignore_leads_and_curve() -> None:
    values = col(*[100] * 10)
    nov10 = dt.date(2026, 11, 10)
    plain = evaluate(values, nov10, 5, "last_n")
    assert plain.value == pytest.approx(3000)
    assert evaluate(values, nov10, 5, "last_n", None, col(*[1] * 10), col(0.5)) == plain


@pytest.mark.parametrize(
    ("extra", "error", "says"),
    [
        ((), NA, "method cohort needs `leads`"),
        ((col(*LEADS),), NA, "method cohort needs `curve`"),
        ((col(*LEADS[:3]), col(*CURVE)), VALUE, "`leads` has 3 cells"),
        ((col(*LEADS), col(0.5, 0.4)), NUM, "must not decrease"),
        ((col(*LEADS), col(0.5, 1.5)), NUM, "between 0 and 1"),
        ((col(*LEADS), col(0.1, None, 0.5)), NA, "row 2 of `curve` is blank"),
        ((col(*LEADS), col(0.1, NA)), NA, "row 2 of `curve`"),
        ((col(*LEADS), col(0.1, "x")), VALUE, "row 2 of `curve`"),
        ((col(-1, 1, 1, 1), col(*CURVE)), NUM, "must not be negative"),
        ((col("x", 1, 1, 1), col(*CURVE)), VALUE, "row 1 of `leads`"),
    ],
)
def test_cohort_runrate_bad_input(extra: tuple[Any, ...], error: str, says: str) -> None:
    value, reason = evaluate(col(*PURCHASES), NOV28, 3, "cohort", col(*DATES), *extra)
    assert value == error
    assert says in reason


def test_an_unknown_method_lists_cohort_too() -> None:
    value, reason = evaluate(col(1, 2), NOV28, 5, "median")
    assert value == VALUE and "cohort" in reason and "last_n" in reason


def test_batched_rows_with_cohort_lines_equal_single_calls() -> None:
    fn = FUNCTIONS["RUNRATE"]
    cohort = [col(*PURCHASES), NOV28, 3, "cohort", col(*DATES), col(*LEADS), col(*CURVE)]
    plain = [col(*PURCHASES), NOV28, 3, "last_n", col(*DATES)]
    rows = [cohort, plain, cohort[:4], plain]
    assert fn.evaluate_rows(rows) == [fn.evaluate(*row) for row in rows]
    assert fn.evaluate_rows(rows)[0].value == pytest.approx(17.5)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.integers(0, 40), min_size=1, max_size=50),
    st.lists(st.integers(0, 5), min_size=50, max_size=50),
    st.lists(st.floats(0, 1), min_size=1, max_size=45).map(sorted),
    st.integers(1, 30),
    st.integers(1, 9),
)
def test_the_formula_is_cohort_forecast(
    leads: list[int], values: list[int], curve: list[float], day: int, window: int
) -> None:
    as_of = dt.date(2026, 11, day)
    days = pd.date_range(end=as_of, periods=len(leads))
    stage = values[: len(leads)]
    got = evaluate(
        col(*stage), as_of, window, "cohort", col(*days.date), col(*leads), col(*curve)
    ).value
    series = pd.Series(np.asarray(leads, dtype=float), index=days)
    mtd = float(sum(v for d, v in zip(days.date, stage, strict=True) if d.month == 11))
    rate = forecast_series(series, "2026-11", as_of, window=window).daily_rate
    expected = cohort_forecast(series, mtd, curve, "2026-11", as_of, rate).forecast
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_the_formula_on_the_cohorts_sheet_numbers_agrees_with_channel_forecasts() -> None:
    # Deals of one channel: 8 leads a day from 09-01, every 4th purchasing 9 days later.
    created = pd.date_range("2026-09-01", "2026-11-17").repeat(8)
    bought = [d + pd.Timedelta(days=9) if i % 4 == 0 else None for i, d in enumerate(created)]
    deals = deals_frame(["Search"] * len(created), created, purchases=bought)
    as_of = dt.date(2026, 11, 17)
    curve = lag_curves(deals, as_of)[("Search", "purchases")]
    assert curve.enough
    expected = channel_forecasts(deals, "2026-11", as_of, window=5)[("Search", "purchases")]
    days = pd.date_range("2026-09-01", as_of)
    leads = [8.0] * len(days)
    purchases = [float(sum(b == d for b in bought if b is not None)) for d in days]
    got = evaluate(
        col(*purchases), as_of, 5, "cohort", col(*days.date), col(*leads), col(*curve.cumulative)
    ).value
    assert expected.method == "cohort"
    assert got == pytest.approx(expected.forecast, rel=1e-12)
    # 2 a day steady: 34 so far, 13 days left at 2 a day -> 60.
    assert got == pytest.approx(60.0)
