"""Run-rate: month progress, the forecasting methods (`auto` also in test_runrate_auto.py),
ratios of run-rates, the frame version.

Known numbers are worked by hand in the comments (November 2026 starts on a Sunday and has 30 days,
so its Mondays are the 2nd, 9th, 16th, 23rd and 30th); properties are checked with hypothesis;
user-facing error messages are checked word for word.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, get_args

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.errors import InputError
from planning.runrate import (
    METHODS,
    Forecast,
    Method,
    MonthProgress,
    forecast_cost,
    forecast_frame,
    forecast_series,
    month_progress,
    pacing_index,
    parse_month,
    plan_pct,
    required_pace,
)

NOV = date(2026, 11, 1)
ALL_METHODS: tuple[Method, ...] = ("last_n", "last_n_dow", "linear", "auto")


def message(text: str) -> str:
    """An exact-match pattern for `pytest.raises(match=...)`."""
    return "^" + re.escape(text) + "$"


def same(a: float, b: float, rel: float = 1e-9) -> bool:
    """Equal within `rel`, or both nan."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


def series(start: date, values: list[float]) -> pd.Series:
    """Daily `values` from `start` on, indexed by a DatetimeIndex."""
    return pd.Series(values, index=pd.date_range(start, periods=len(values)), dtype=float)


def monday_heavy(start: date, end: date) -> pd.Series:
    """30 on Mondays, 10 on every other day, from `start` to `end` inclusive."""
    days = pd.date_range(start, end)
    return pd.Series(np.where(days.day_of_week == 0, 30.0, 10.0), index=days)


# --------------------------------------------------------------------------- months and progress


def test_methods_are_the_literal_default_first() -> None:
    assert METHODS == ALL_METHODS == get_args(Method)


def test_parse_month_accepts_text_and_first_days() -> None:
    assert parse_month("2026-11") == NOV
    assert parse_month(" 2026-02 ") == date(2026, 2, 1)
    assert parse_month(NOV) == NOV
    assert parse_month(pd.Timestamp("2026-11-01")) == NOV
    assert type(parse_month(datetime(2026, 11, 1))) is date


@pytest.mark.parametrize(
    ("month", "text"),
    [
        (
            "2026-13",
            "`month` must be a month as 'YYYY-MM' or the first day of a month, got '2026-13'",
        ),
        (
            "2026-1",
            "`month` must be a month as 'YYYY-MM' or the first day of a month, got '2026-1'",
        ),
        ("Nov", "`month` must be a month as 'YYYY-MM' or the first day of a month, got 'Nov'"),
        (202611, "`month` must be a month as 'YYYY-MM' or the first day of a month, got 202611"),
        (None, "`month` must be a month as 'YYYY-MM' or the first day of a month, got None"),
        (date(2026, 11, 17), "`month` must be the first day of a month, got 2026-11-17"),
    ],
)
def test_parse_month_rejects_with_exact_message(month: object, text: str) -> None:
    with pytest.raises(InputError, match=message(text)):
        parse_month(month)  # type: ignore[arg-type]


def test_month_progress_during() -> None:
    p = month_progress("2026-11", date(2026, 11, 17))
    # facts through the 17th: 17 days elapsed, 30 - 17 = 13 left
    assert (p.month, p.as_of, p.days_in_month) == (NOV, date(2026, 11, 17), 30)
    assert (p.days_elapsed, p.days_left, p.position) == (17, 13, "during")
    assert p.share_elapsed == 17 / 30
    assert p.month_end == date(2026, 11, 30)


@pytest.mark.parametrize(
    ("as_of", "elapsed", "position"),
    [
        (date(2026, 10, 5), 0, "before"),
        (date(2026, 10, 31), 0, "before"),  # the day before the 1st: nothing elapsed
        (date(2026, 11, 1), 1, "during"),  # the 1st complete: 1 day elapsed
        (date(2026, 11, 29), 29, "during"),
        (date(2026, 11, 30), 30, "after"),  # the last day complete: the month is done
        (date(2027, 1, 15), 30, "after"),
    ],
)
def test_month_progress_clamps_and_positions(as_of: date, elapsed: int, position: str) -> None:
    p = month_progress(NOV, as_of)
    assert (p.days_elapsed, p.days_left, p.position) == (elapsed, 30 - elapsed, position)
    assert p.share_elapsed == elapsed / 30


def test_month_progress_leap_february() -> None:
    # 2028 is a leap year: February has 29 days; as of the 10th, 29 - 10 = 19 are left
    p = month_progress("2028-02", date(2028, 2, 10))
    assert (p.days_in_month, p.days_elapsed, p.days_left) == (29, 10, 19)
    # 2027 is not: the 28th is the last day
    assert month_progress("2027-02", date(2027, 2, 28)).position == "after"
    assert month_progress("2028-02", date(2028, 2, 28)).position == "during"


def test_month_progress_accepts_timestamps_as_of() -> None:
    assert month_progress(NOV, pd.Timestamp("2026-11-17 09:30")).as_of == date(2026, 11, 17)


def test_month_progress_rejects_a_non_date_as_of() -> None:
    with pytest.raises(InputError, match=message("`as_of` must be a date, got '2026-11-17'")):
        month_progress(NOV, "2026-11-17")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=message("`as_of` must be a date, got NaT")):
        month_progress(NOV, pd.NaT)  # type: ignore[arg-type]


def test_month_progress_validates_its_fields() -> None:
    good = month_progress(NOV, date(2026, 11, 17))
    with pytest.raises(
        InputError,
        match=message("`days_left` must be 13 for month 2026-11 as of 2026-11-17, got 12"),
    ):
        MonthProgress(NOV, date(2026, 11, 17), 30, 17, 12, "during", good.share_elapsed)
    with pytest.raises(
        InputError,
        match=message(
            "`position` must be 'during' for month 2026-11 as of 2026-11-17, got 'after'"
        ),
    ):
        MonthProgress(NOV, date(2026, 11, 17), 30, 17, 13, "after", good.share_elapsed)
    with pytest.raises(
        InputError, match=message("`month` must be the first day of a month, got 2026-11-02")
    ):
        MonthProgress(date(2026, 11, 2), date(2026, 11, 17), 30, 17, 13, "during", 0.5)


# --------------------------------------------------------------------------- last_n, by hand


def test_last_n_known_numbers() -> None:
    # days 1..12 at 20 (240), days 13..17 at 10, 12, 8, 10, 10 (50): mtd = 290
    values = series(NOV, [20.0] * 12 + [10, 12, 8, 10, 10])
    f = forecast_series(values, "2026-11", date(2026, 11, 17))
    # rate = (10 + 12 + 8 + 10 + 10) / 5 = 10; 13 days left: 290 + 13 * 10 = 420
    assert (f.mtd, f.daily_rate, f.forecast, f.window_days) == (290.0, 10.0, 420.0, 5)
    assert (f.method, f.note) == ("last_n", "")
    assert f.progress == month_progress(NOV, date(2026, 11, 17))


def test_last_n_window_is_configurable() -> None:
    values = series(NOV, [20.0] * 12 + [10, 12, 8, 10, 10])
    # window 2: (10 + 10) / 2 = 10 again; window 3: (8 + 10 + 10) / 3 = 28/3
    f = forecast_series(values, NOV, date(2026, 11, 17), window=3)
    assert f.window_days == 3
    assert same(f.daily_rate, 28 / 3)
    assert same(f.forecast, 290 + 13 * 28 / 3)


def test_day_two_with_window_five_averages_the_days_elapsed() -> None:
    # day 1 = 4, day 2 = 6: mtd 10, rate (4 + 6) / 2 = 5, 28 left: 10 + 28 * 5 = 150
    f = forecast_series(series(NOV, [4.0, 6.0]), NOV, date(2026, 11, 2))
    assert (f.mtd, f.daily_rate, f.forecast, f.window_days) == (10.0, 5.0, 150.0, 2)
    assert f.note == "only 2 days of the month elapsed: the rate averages 2 days, not 5"


def test_day_one_note_is_singular() -> None:
    f = forecast_series(series(NOV, [7.0]), NOV, NOV)
    # 7 + 29 * 7 = 210 = 7 * 30
    assert (f.forecast, f.window_days) == (210.0, 1)
    assert f.note == "only 1 day of the month elapsed: the rate averages 1 day, not 5"


def test_gaps_count_as_zero() -> None:
    # rows only on the 1st (10), 3rd (20) and 17th (30): mtd 60
    values = pd.Series(
        [10.0, 20.0, 30.0], index=[date(2026, 11, 1), date(2026, 11, 3), date(2026, 11, 17)]
    )
    f = forecast_series(values, NOV, date(2026, 11, 17))
    # window 13..17 = 0, 0, 0, 0, 30 -> rate 6; 60 + 13 * 6 = 138
    assert (f.mtd, f.daily_rate, f.forecast, f.window_days) == (60.0, 6.0, 138.0, 5)


def test_duplicate_dates_are_summed_and_nan_cells_are_zero() -> None:
    values = pd.Series(
        [4.0, 6.0, np.nan, 5.0],
        index=pd.to_datetime(
            ["2026-11-01", "2026-11-01", "2026-11-02", "2026-11-02 18:00"], format="ISO8601"
        ),
    )
    # day 1: 4 + 6 = 10; day 2: 0 + 5 = 5 (a time of day still belongs to its day)
    f = forecast_series(values, NOV, date(2026, 11, 2))
    # rate (10 + 5) / 2 = 7.5; 15 + 28 * 7.5 = 225
    assert (f.mtd, f.daily_rate, f.forecast) == (15.0, 7.5, 225.0)


def test_rows_after_as_of_and_outside_the_month_are_ignored() -> None:
    values = pd.concat(
        [
            series(date(2026, 10, 1), [1000.0] * 31),  # October: not November's facts
            series(NOV, [20.0] * 12 + [10, 12, 8, 10, 10]),
            series(date(2026, 11, 18), [500.0] * 13),  # after as-of: not complete yet
        ]
    )
    for method in ("last_n", "linear"):
        f = forecast_series(values, NOV, date(2026, 11, 17), method=method)
        assert f.mtd == 290.0
    assert forecast_series(values, NOV, date(2026, 11, 17)).forecast == 420.0


def test_index_of_dates_and_iso_text() -> None:
    as_dates = pd.Series([1.0, 2.0], index=[date(2026, 11, 1), date(2026, 11, 2)])
    as_text = pd.Series([1.0, 2.0], index=["2026-11-01", "2026-11-02"])
    tz = series(NOV, [1.0, 2.0]).tz_localize("Europe/Moscow")
    a, b, c = (forecast_series(s, NOV, date(2026, 11, 2)) for s in (as_dates, as_text, tz))
    # rate 1.5: 3 + 28 * 1.5 = 45
    assert a == b == c
    assert a.forecast == 45.0


# --------------------------------------------------------------------------- before/after the month


def test_as_of_before_the_month_has_no_facts() -> None:
    f = forecast_series(series(NOV, [5.0] * 30), NOV, date(2026, 10, 31))
    assert f.mtd == 0.0
    assert math.isnan(f.forecast) and math.isnan(f.daily_rate)
    assert f.window_days == 0
    assert f.note == "as-of 2026-10-31 is before the month: no facts yet"
    assert f.progress.position == "before"


def test_as_of_the_last_day_forecasts_the_fact_exactly() -> None:
    # 1, 2, ..., 30: mtd = 30 * 31 / 2 = 465; the rate is still reported: (26 + ... + 30) / 5 = 28
    values = series(NOV, [float(d) for d in range(1, 31)])
    for method in ALL_METHODS:
        f = forecast_series(values, NOV, date(2026, 11, 30), method=method)
        assert f.forecast == f.mtd == 465.0
        assert f.progress.days_left == 0
        assert f.note == ""
    assert forecast_series(values, NOV, date(2026, 11, 30)).daily_rate == 28.0
    # linear: 465 / 30 = 15.5
    assert forecast_series(values, NOV, date(2026, 11, 30), method="linear").daily_rate == 15.5


def test_as_of_after_the_month_uses_the_months_facts_only() -> None:
    values = pd.concat(
        [series(NOV, [float(d) for d in range(1, 31)]), series(date(2026, 12, 1), [99.0] * 5)]
    )
    f = forecast_series(values, NOV, date(2026, 12, 5))
    # December rows are ignored: mtd 465, the window is the last 5 days of November (rate 28)
    assert (f.mtd, f.forecast, f.daily_rate, f.window_days) == (465.0, 465.0, 28.0, 5)
    assert f.note == (
        "as-of 2026-12-05 is after the month: the forecast is the month's fact up to 2026-11-30"
    )


def test_leap_february() -> None:
    # 2 a day, as of 2028-02-28: 28 elapsed, 1 left: 56 + 1 * 2 = 58 = 2 * 29
    values = series(date(2028, 2, 1), [2.0] * 28)
    for method in ALL_METHODS:
        f = forecast_series(values, "2028-02", date(2028, 2, 28), method=method)
        assert (f.mtd, f.forecast) == (56.0, 58.0)
    # 2027: the 28th is the last day, nothing is left
    f = forecast_series(series(date(2027, 2, 1), [2.0] * 28), "2027-02", date(2027, 2, 28))
    assert (f.mtd, f.forecast, f.progress.days_left) == (56.0, 56.0, 0)


# --------------------------------------------------------------------------- linear


def test_linear_known_numbers() -> None:
    # Monday-heavy November to the 17th: Mondays 2, 9, 16 at 30, 14 other days at 10: mtd 230
    f = forecast_series(
        monday_heavy(NOV, date(2026, 11, 17)), NOV, date(2026, 11, 17), method="linear"
    )
    # 230 / 17 * 30 = 6900 / 17; the rate is 230 / 17, averaged over all 17 days elapsed
    assert f.mtd == 230.0
    assert same(f.forecast, 6900 / 17)
    assert same(f.daily_rate, 230 / 17)
    assert (f.window_days, f.note) == (17, "")


# --------------------------------------------------------------------------- day of week


def test_monday_heavy_week_is_exact_with_dow_and_not_with_last_n() -> None:
    # the whole month: 5 Mondays * 30 + 25 other days * 10 = 400
    truth = float(monday_heavy(NOV, date(2026, 11, 30)).sum())
    assert truth == 400.0
    as_of = date(2026, 11, 17)  # a Tuesday; mtd = 3 * 30 + 14 * 10 = 230
    history = monday_heavy(date(2026, 10, 1), as_of)

    plain = forecast_series(history, NOV, as_of)
    # window 13..17 = Fri 10, Sat 10, Sun 10, Mon 30, Tue 10 -> rate 14: 230 + 13 * 14 = 412
    assert (plain.mtd, plain.daily_rate, plain.forecast) == (230.0, 14.0, 412.0)

    dow = forecast_series(history, NOV, as_of, method="last_n_dow")
    # Oct 1 .. Nov 17 = 48 days, 7 Mondays: overall mean (7 * 30 + 41 * 10) / 48 = 620 / 48.
    # f_Mon = 30 / (620/48), f_other = 10 / (620/48); every value / its factor = 620 / 48 = base.
    # The 13 days left (18..30) hold Mondays 23 and 30: base * (2 f_Mon + 11 f_other)
    # = 2 * 30 + 11 * 10 = 170, so 230 + 170 = 400, exactly the month.
    assert dow.mtd == 230.0
    assert same(dow.daily_rate, 620 / 48)
    assert same(dow.forecast, truth, rel=1e-12)
    assert (dow.window_days, dow.note) == (5, "")


def test_dow_without_history_is_exact_once_every_weekday_is_seen() -> None:
    as_of = date(2026, 11, 17)
    f = forecast_series(monday_heavy(NOV, as_of), NOV, as_of, method="last_n_dow")
    # overall mean 230 / 17, base = 230 / 17 too, and the forecast is again 400
    assert same(f.daily_rate, 230 / 17)
    assert same(f.forecast, 400.0, rel=1e-12)


def test_dow_unseen_weekdays_get_factor_one() -> None:
    # Sun 1 = 3, Mon 2 = 6, Tue 3 = 9: overall 18 / 3 = 6, f_Sun 0.5, f_Mon 1, f_Tue 1.5, others 1
    f = forecast_series(series(NOV, [3.0, 6.0, 9.0]), NOV, date(2026, 11, 3), method="last_n_dow")
    # base = (3/0.5 + 6/1 + 9/1.5) / 3 = 6. Days 4..30 (27): Sundays 8, 15, 22, 29; Mondays 9, 16,
    # 23, 30; Tuesdays 10, 17, 24; 16 others: 4*0.5 + 4*1 + 3*1.5 + 16*1 = 26.5
    # forecast = 18 + 6 * 26.5 = 177
    assert (f.mtd, f.window_days) == (18.0, 3)
    assert same(f.daily_rate, 6.0)
    assert same(f.forecast, 177.0)
    assert f.note == (
        "only 3 days of the month elapsed: the rate averages 3 days, not 5; "
        "no Wed, Thu, Fri, Sat in the data yet: weekday factor 1 for them"
    )


def b2b(as_of: date) -> pd.Series:
    """10 on working days, 0 on weekends, November 1st to `as_of`."""
    days = pd.date_range(NOV, as_of)
    return pd.Series(np.where(days.day_of_week < 5, 10.0, 0.0), index=days)


def test_dow_skips_window_days_whose_factor_is_zero() -> None:
    as_of = date(2026, 11, 15)  # a Sunday
    # 15 days: 10 working days (2..6, 9..13) -> mtd 100; overall 100 / 15 = 20/3
    # f_work = 10 / (20/3) = 1.5, f_weekend = 0
    # window 11..15 = Wed, Thu, Fri (10 / 1.5 each) and Sat, Sun (factor 0, left out): base 20/3
    # days 16..30 hold 11 working days: 100 + 20/3 * 1.5 * 11 = 100 + 110 = 210 (the truth)
    f = forecast_series(b2b(as_of), NOV, as_of, method="last_n_dow")
    assert f.mtd == 100.0
    assert same(f.daily_rate, 20 / 3)
    assert same(f.forecast, 210.0)
    assert f.window_days == 3
    assert (
        f.note == "2 days of the window fall on weekdays with factor 0 and are left out of the base"
    )
    # last_n: (10 + 10 + 10 + 0 + 0) / 5 = 6, 100 + 15 * 6 = 190
    assert forecast_series(b2b(as_of), NOV, as_of).forecast == 190.0


def test_dow_window_of_zero_factor_days_falls_back_to_the_overall_mean() -> None:
    as_of = date(2026, 11, 15)
    # window 2 = Sat, Sun, both factor 0: base = overall mean 20/3 over all 15 days
    f = forecast_series(b2b(as_of), NOV, as_of, window=2, method="last_n_dow")
    assert same(f.daily_rate, 20 / 3)
    assert same(f.forecast, 210.0)
    assert f.window_days == 15
    assert f.note == (
        "every day of the window falls on a weekday with factor 0: the base is the mean of all "
        "15 days"
    )


def test_dow_all_zero_sets_every_factor_to_one() -> None:
    f = forecast_series(series(NOV, [0.0] * 10), NOV, date(2026, 11, 10), method="last_n_dow")
    assert (f.mtd, f.forecast, f.daily_rate) == (0.0, 0.0, 0.0)
    assert f.note == "every value so far is 0: every weekday factor is 1"


def test_dow_history_starts_at_the_first_row() -> None:
    # a single October row 3 weeks back does not make the earlier October days zeros:
    # history is Oct 27 (Tue, 10) .. Nov 3; days 28..31 missing count 0 from there on
    values = pd.concat([series(date(2026, 10, 27), [10.0]), series(NOV, [10.0, 10.0, 10.0])])
    f = forecast_series(values, NOV, date(2026, 11, 3), method="last_n_dow")
    # 8 days seen: Tue 27 = 10, Wed-Sat 28..31 = 0, Sun 1, Mon 2, Tue 3 = 10: overall 40 / 8 = 5
    # f_Tue = 10 / 5 = 2, f_Sun = f_Mon = 2, f_Wed..Sat = 0; base = (10/2 * 3) / 3 = 5
    # days left 4..30: Sun/Mon/Tue = 4 + 4 + 3 = 11 days at factor 2 -> 30 + 5 * 2 * 11 = 140
    assert f.mtd == 30.0
    assert same(f.daily_rate, 5.0)
    assert same(f.forecast, 140.0)


# --------------------------------------------------------------------------- ratios of run-rates


def test_forecast_cost_recomputes_from_forecast_absolutes() -> None:
    as_of = date(2026, 11, 17)
    # spend 1000 a day; leads 4 a day, then 10 a day for the last 5 days
    spend = series(NOV, [1000.0] * 17)
    leads = series(NOV, [4.0] * 12 + [10.0] * 5)
    s = forecast_series(spend, NOV, as_of)  # 17000 + 13 * 1000 = 30000
    n = forecast_series(leads, NOV, as_of)  # 98 + 13 * 10 = 228
    assert (s.forecast, n.forecast) == (30000.0, 228.0)
    # CPL run-rate = 30000 / 228, not the average of daily CPLs or of MTD and rate CPLs
    assert same(forecast_cost(s.forecast, n.forecast), 30000 / 228)
    assert math.isnan(forecast_cost(750.0, 0))
    assert math.isnan(forecast_cost(750.0, math.nan))
    assert forecast_cost(0.0, 10.0) == 0.0


def test_plan_pct() -> None:
    # run-rate 412 against a plan of 500 = 82.4%
    assert same(plan_pct(412.0, 500.0), 0.824)
    assert math.isnan(plan_pct(412.0, 0.0))
    assert math.isnan(plan_pct(412.0, math.nan))
    assert plan_pct(0, 500) == 0.0


def test_required_pace() -> None:
    # plan 500, 230 done, 13 days left: (500 - 230) / 13 = 270 / 13 a day
    assert same(required_pace(500.0, 230.0, 13), 270 / 13)
    # plan already beaten: negative pace (200 - 230) / 10 = -3
    assert required_pace(200.0, 230.0, 10) == -3.0
    assert math.isnan(required_pace(500.0, 230.0, 0))
    assert required_pace(500.0, 230.0, 13.0) == required_pace(500.0, 230.0, 13)  # type: ignore[arg-type]


def test_pacing_index() -> None:
    progress = month_progress(NOV, date(2026, 11, 17))
    # (230 / 500) / (17 / 30) = 0.46 * 30 / 17 = 13.8 / 17
    assert same(pacing_index(230.0, 500.0, progress), 13.8 / 17)
    # exactly on pace: 17/30 of the plan after 17 of 30 days
    assert same(pacing_index(17.0, 30.0, progress), 1.0)
    assert math.isnan(pacing_index(230.0, 0.0, progress))
    assert math.isnan(pacing_index(230.0, math.nan, progress))
    assert math.isnan(pacing_index(0.0, 500.0, month_progress(NOV, date(2026, 10, 31))))


DAYS_LEFT = "`days_left` must be a whole number of days, at least 0, got "


@pytest.mark.parametrize(
    ("function", "args", "text"),
    [
        (forecast_cost, ("1", 2.0), "`spend_forecast` must be a number, got '1'"),
        (forecast_cost, (1.0, None), "`count_forecast` must be a number, got None"),
        (plan_pct, (True, 2.0), "`value` must be a number, got True"),
        (plan_pct, (1.0, "500"), "`plan` must be a number, got '500'"),
        (required_pace, (1.0, 2.0, -1), DAYS_LEFT + "-1"),
        (required_pace, (1.0, 2.0, 1.5), DAYS_LEFT + "1.5"),
        (required_pace, (1.0, "x", 1), "`mtd` must be a number, got 'x'"),
        (pacing_index, (1.0, 2.0, 0.5), "`progress` must be a MonthProgress, got 0.5"),
    ],
)
def test_ratio_errors(function: Callable[..., float], args: tuple[Any, ...], text: str) -> None:
    with pytest.raises(InputError, match=message(text)):
        function(*args)


# --------------------------------------------------------------------------- argument errors


@pytest.mark.parametrize(
    ("window", "shown"),
    [(0, "0"), (-3, "-3"), (2.5, "2.5"), (True, "True"), ("5", "'5'"), (None, "None")],
)
def test_bad_window(window: object, shown: str) -> None:
    text = f"`window` must be a whole number of days, at least 1, got {shown}"
    with pytest.raises(InputError, match=message(text)):
        forecast_series(series(NOV, [1.0]), NOV, NOV, window=window)  # type: ignore[arg-type]


def test_integral_float_window_is_a_window() -> None:
    a = forecast_series(series(NOV, [1.0, 2.0, 3.0]), NOV, date(2026, 11, 3), window=2.0)  # type: ignore[arg-type]
    assert a.window_days == 2 and a.daily_rate == 2.5


def test_bad_method() -> None:
    text = "`method` must be one of 'last_n', 'last_n_dow', 'linear', 'auto', got 'ewma'"
    with pytest.raises(InputError, match=message(text)):
        forecast_series(series(NOV, [1.0]), NOV, NOV, method="ewma")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=message(text)):
        bad: Any = "ewma"
        forecast_frame(frame_of({"a": series(NOV, [1.0])}), NOV, NOV, ["line"], ["x"], method=bad)


def test_bad_values() -> None:
    text = "`values` must be a pandas Series of daily values indexed by date, got a list"
    with pytest.raises(InputError, match=message(text)):
        forecast_series([1.0], NOV, NOV)  # type: ignore[arg-type]


def test_bad_cells_of_a_series_name_the_row() -> None:
    bad_value = pd.Series([1.0, "abc"], index=[NOV, date(2026, 11, 2)], name="leads", dtype=object)
    with pytest.raises(
        InputError, match=message("line 2, column `leads`: value 'abc' is not a number")
    ):
        forecast_series(bad_value, NOV, NOV)
    bad_date = pd.Series([1.0, 2.0], index=["2026-11-01", "11/02/2026"])
    with pytest.raises(
        InputError, match=message("line 2, column `date`: value '11/02/2026' is not a date")
    ):
        forecast_series(bad_date, NOV, NOV)
    infinite = pd.Series([np.inf], index=[NOV])
    with pytest.raises(
        InputError, match=message("line 1, column `value`: value inf is not a finite number")
    ):
        forecast_series(infinite, NOV, NOV)


def test_forecast_validates_itself() -> None:
    progress = month_progress(NOV, NOV)
    with pytest.raises(
        InputError,
        match=message("`window_days` must be a whole number of days, at least 0, got -1"),
    ):
        Forecast(1.0, 2.0, 1.0, -1, progress, "last_n", "")
    with pytest.raises(
        InputError,
        match=message("`method` must be one of 'last_n', 'last_n_dow', 'linear', 'auto', got 'x'"),
    ):
        Forecast(1.0, 2.0, 1.0, 1, progress, "x", "")
    with pytest.raises(InputError, match=message("`forecast` must be a number, got '2'")):
        Forecast(1.0, "2", 1.0, 1, progress, "last_n", "")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the frame


def frame_of(lines: dict[str, pd.Series], metric: str = "x") -> pd.DataFrame:
    """A long table (date, line, metric) from one series per line."""
    parts = [
        pd.DataFrame({"date": s.index, "line": name, metric: s.to_numpy()})
        for name, s in lines.items()
    ]
    return pd.concat(parts, ignore_index=True)


def test_frame_known_numbers() -> None:
    daily = pd.DataFrame(
        {
            "date": ["2026-11-16", "2026-11-16", "2026-11-17", "2026-11-17", "2026-11-17"],
            "channel": ["Meta", "Context", "Meta", "Context", "Meta"],
            "spend": [100.0, 50.0, 300.0, 70.0, 0.0],
            "leads": [2, 1, 4, 1, 2],
        }
    )
    out = forecast_frame(
        daily, "2026-11", date(2026, 11, 17), ["channel"], ["spend", "leads"], window=2
    )
    assert list(out.columns) == [
        "channel", "spend_mtd", "spend_rr", "spend_rate", "leads_mtd", "leads_rr", "leads_rate",
    ]  # fmt: skip
    assert list(out["channel"]) == ["Meta", "Context"]  # order of first appearance
    meta, context = out.iloc[0], out.iloc[1]
    # Meta spend: 100 + 300 + 0 = 400, rate (100 + 300) / 2 = 200, 400 + 13 * 200 = 3000
    assert (meta.spend_mtd, meta.spend_rate, meta.spend_rr) == (400.0, 200.0, 3000.0)
    # Meta leads: 2 + 4 + 2 = 8, rate 4, 8 + 13 * 4 = 60 -> CPL run-rate 3000 / 60 = 50
    assert (meta.leads_mtd, meta.leads_rate, meta.leads_rr) == (8.0, 4.0, 60.0)
    assert forecast_cost(meta.spend_rr, meta.leads_rr) == 50.0
    # Context spend: 120, rate 60, 120 + 13 * 60 = 900; leads 2, rate 1, 2 + 13 = 15
    assert (context.spend_mtd, context.spend_rr, context.leads_rr) == (120.0, 900.0, 15.0)
    assert isinstance(out.index, pd.RangeIndex)


def test_frame_nan_keys_total_and_string_keys() -> None:
    daily = pd.DataFrame(
        {
            "date": [NOV, NOV, NOV],
            "channel": [None, "Meta", None],
            "leads": [1.0, 2.0, 3.0],
        }
    )
    out = forecast_frame(daily, NOV, NOV, "channel", "leads", method="linear")
    assert out["channel"].isna().tolist() == [True, False]
    assert out["leads_mtd"].tolist() == [4.0, 2.0]
    total = forecast_frame(daily, NOV, NOV, [], ["leads"])
    # one line: 6 on the 1st, 6 * 30 = 180
    assert list(total.columns) == ["leads_mtd", "leads_rr", "leads_rate"]
    assert total["leads_rr"].tolist() == [180.0]


def test_frame_before_the_month() -> None:
    daily = frame_of({"a": series(NOV, [1.0] * 5), "b": series(NOV, [2.0] * 5)})
    out = forecast_frame(daily, NOV, date(2026, 10, 20), ["line"], ["x"])
    assert out["x_mtd"].tolist() == [0.0, 0.0]
    assert out["x_rr"].isna().all() and out["x_rate"].isna().all()


def test_frame_line_with_rows_only_outside_the_month() -> None:
    daily = frame_of({"a": series(NOV, [3.0] * 5), "late": series(date(2026, 11, 20), [9.0])})
    out = forecast_frame(daily, NOV, date(2026, 11, 5), ["line"], ["x"])
    # "late" exists as a line, with nothing complete yet: 0 and a rate of 0
    late = out[out["line"] == "late"]
    assert late[["x_mtd", "x_rr", "x_rate"]].to_numpy().tolist() == [[0.0, 0.0, 0.0]]
    assert out.set_index("line").loc["a", "x_rr"] == 90.0


def test_frame_errors_name_row_column_and_value() -> None:
    daily = pd.DataFrame(
        {
            "date": ["2026-11-01", "2026-11-02", "2026-11-03"],
            "channel": ["Meta", "Meta", "Meta"],
            "leads": [1, "2", "abc"],
        }
    )
    with pytest.raises(
        InputError, match=message("line 3, column `leads`: value 'abc' is not a number")
    ):
        forecast_frame(daily, NOV, NOV, ["channel"], ["leads"])
    daily.loc[2, "leads"] = 3
    daily.loc[1, "date"] = "yesterday"
    with pytest.raises(
        InputError, match=message("line 2, column `date`: value 'yesterday' is not a date")
    ):
        forecast_frame(daily, NOV, NOV, ["channel"], ["leads"])
    daily["date"] = daily["date"].astype(object)
    daily.loc[1, "date"] = None
    with pytest.raises(
        InputError, match=message("line 2, column `date`: value None is not a date")
    ):
        forecast_frame(daily, NOV, NOV, ["channel"], ["leads"])
    stamps = daily.assign(date=pd.to_datetime(daily["date"]))
    with pytest.raises(InputError, match=message("line 2, column `date`: value NaT is not a date")):
        forecast_frame(stamps, NOV, NOV, ["channel"], ["leads"])
    daily.loc[1, "date"] = "2026-11-02"
    daily.loc[0, "leads"] = True
    with pytest.raises(
        InputError, match=message("line 1, column `leads`: value True is not a number")
    ):
        forecast_frame(daily, NOV, NOV, ["channel"], ["leads"])
    daily.loc[0, "leads"] = " "  # a blank cell is an empty day, not an error
    assert forecast_frame(daily, NOV, NOV, ["channel"], ["leads"])["leads_mtd"].tolist() == [0.0]


def test_frame_missing_columns() -> None:
    daily = pd.DataFrame({"date": [NOV], "channel": ["Meta"], "leads": [1.0]})
    text = "column `city` is not in the table; the columns are: date, channel, leads"
    with pytest.raises(InputError, match=message(text)):
        forecast_frame(daily, NOV, NOV, ["channel", "city"], ["leads"])
    text = "column `spend` is not in the table; the columns are: date, channel, leads"
    with pytest.raises(InputError, match=message(text)):
        forecast_frame(daily, NOV, NOV, ["channel"], ["leads", "spend"])
    text = "column `day` is not in the table; the columns are: date, channel, leads"
    with pytest.raises(InputError, match=message(text)):
        forecast_frame(daily, NOV, NOV, ["channel"], ["leads"], date_column="day")
    with pytest.raises(InputError, match=message("column `leads` appears more than once")):
        forecast_frame(daily, NOV, NOV, ["leads"], ["leads"])
    with pytest.raises(
        InputError, match=message("`metrics` is empty: name at least one metric column")
    ):
        forecast_frame(daily, NOV, NOV, ["channel"], [])
    with pytest.raises(InputError, match=message("`daily` must be a pandas DataFrame, got a dict")):
        forecast_frame({"date": [NOV]}, NOV, NOV, [], ["leads"])  # type: ignore[arg-type]


def test_frame_many_lines_match_series() -> None:
    # 2000 lines x 60 days (with history): the vectorised path agrees with the per-line one
    rng = np.random.default_rng(7)
    days = pd.date_range("2026-10-01", "2026-11-29")
    n_lines = 2000
    daily = pd.DataFrame(
        {
            "date": np.tile(days, n_lines),
            "line": np.repeat(np.arange(n_lines), len(days)),
            "x": rng.poisson(5.0, n_lines * len(days)).astype(float),
        }
    )
    for method in ALL_METHODS:
        out = forecast_frame(daily, NOV, date(2026, 11, 17), ["line"], ["x"], method=method)
        assert len(out) == n_lines
        for line in (0, 999, 1999):
            rows = daily[daily["line"] == line]
            f = forecast_series(rows.set_index("date")["x"], NOV, date(2026, 11, 17), method=method)
            got = out.iloc[line]
            assert (
                same(got.x_mtd, f.mtd)
                and same(got.x_rr, f.forecast)
                and same(got.x_rate, f.daily_rate)
            )


# --------------------------------------------------------------------------- properties


@st.composite
def month_and_as_of(draw: st.DrawFn, inside: bool = True) -> tuple[date, date]:
    year = draw(st.integers(1990, 2100))
    month = draw(st.integers(1, 12))
    days = calendar.monthrange(year, month)[1]
    start = date(year, month, 1)
    if inside:
        return start, start + timedelta(days=draw(st.integers(0, days - 1)))
    return start, start + timedelta(days=draw(st.integers(-10, days + 10)))


@settings(max_examples=200, deadline=None)
@given(
    span=month_and_as_of(),
    c=st.floats(0, 1e6, allow_nan=False) | st.integers(0, 1000).map(float),
    history=st.integers(0, 40),
    window=st.integers(1, 40),
    method=st.sampled_from(ALL_METHODS),
)
def test_constant_series_forecasts_exactly(
    span: tuple[date, date], c: float, history: int, window: int, method: Method
) -> None:
    month, as_of = span
    start = month - timedelta(days=history)
    values = series(start, [c] * ((as_of - start).days + 1))
    f = forecast_series(values, month, as_of, window=window, method=method)
    assert same(f.forecast, c * calendar.monthrange(month.year, month.month)[1])
    assert same(f.daily_rate, c)


@st.composite
def sparse_daily(draw: st.DrawFn, month: date) -> pd.Series:
    """Non-negative values on random days from 40 days before `month` to 10 days after it."""
    offsets = draw(st.lists(st.integers(-40, 40), max_size=60))
    values = draw(
        st.lists(st.floats(0, 1e6, allow_nan=False), min_size=len(offsets), max_size=len(offsets))
    )
    index = [month + timedelta(days=o) for o in offsets]
    return pd.Series(values, index=pd.DatetimeIndex(index), dtype=float)


@settings(max_examples=200, deadline=None)
@given(
    span=month_and_as_of(inside=False),
    data=st.data(),
    window=st.integers(1, 10),
    method=st.sampled_from(ALL_METHODS),
)
def test_forecast_is_at_least_mtd_for_non_negative_data(
    span: tuple[date, date], data: st.DataObject, window: int, method: Method
) -> None:
    month, as_of = span
    values = data.draw(sparse_daily(month))
    f = forecast_series(values, month, as_of, window=window, method=method)
    assert f.mtd >= 0
    if f.progress.position == "before":
        assert math.isnan(f.forecast)
    else:
        assert f.forecast >= f.mtd * (1 - 1e-12) - 1e-9
        if f.progress.position == "after":
            assert f.forecast == f.mtd


@settings(max_examples=150, deadline=None)
@given(
    span=month_and_as_of(inside=False),
    data=st.data(),
    window=st.integers(1, 10),
    method=st.sampled_from(ALL_METHODS),
)
def test_frame_equals_series_per_line(
    span: tuple[date, date], data: st.DataObject, window: int, method: Method
) -> None:
    month, as_of = span
    rows = data.draw(
        st.lists(
            st.tuples(
                st.integers(-30, 40),
                st.sampled_from(["Meta", "Context", "VK"]),
                st.sampled_from(["msk", "spb"]),
                st.floats(-1e3, 1e6, allow_nan=False),
                st.floats(0, 1e3, allow_nan=False),
            ),
            max_size=50,
        )
    )
    daily = pd.DataFrame(
        {
            "day": [month + timedelta(days=r[0]) for r in rows],
            "channel": [r[1] for r in rows],
            "city": [r[2] for r in rows],
            "spend": [r[3] for r in rows],
            "leads": [r[4] for r in rows],
        }
    )
    keys, metrics = ["channel", "city"], ["spend", "leads"]
    out = forecast_frame(daily, month, as_of, keys, metrics, window, method, "day")
    pairs = list(dict.fromkeys((r[1], r[2]) for r in rows))
    assert list(zip(out["channel"], out["city"], strict=True)) == pairs
    for i, (channel, city) in enumerate(pairs):
        line = daily[(daily["channel"] == channel) & (daily["city"] == city)]
        for metric in ("spend", "leads"):
            f = forecast_series(line.set_index("day")[metric], month, as_of, window, method)
            assert same(out[f"{metric}_mtd"].iloc[i], f.mtd, rel=1e-12)
            assert same(out[f"{metric}_rr"].iloc[i], f.forecast, rel=1e-9)
            assert same(out[f"{metric}_rate"].iloc[i], f.daily_rate, rel=1e-9)
