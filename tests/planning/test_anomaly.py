"""The anomaly rule's band: known numbers worked by hand, history rules, robustness, properties.

DAY, Monday 2026-02-16, is the day judged; its 6 weeks of history are 2026-01-05 (a Monday) to
2026-02-15. `weeks_before` lays a table of weeks x 7 weekdays out as a daily series ending the
day before DAY, column 0 being DAY's weekday (Monday), as `planning.anomaly` reads it.

Several hand-worked tests pick `z` so that the band's half-width comes out round: with no spread
among the weekday factors (shrinkage weight a = 0) the spread is widened by
sqrt(1 + (1/7) / w), with an exact pattern (a = 1) by sqrt(1 + 1 / w).
"""

from __future__ import annotations

import math
import re
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.anomaly import DEFAULT_Z, Band, band_arrays, day_band
from planning.errors import InputError

DAY = date(2026, 2, 16)
SHIFT = 3 / 8
FLAT_6 = math.sqrt(1 + 1 / 42)  # the widening with a = 0 and 6 weeks
PATTERN_6 = math.sqrt(1 + 1 / 6)  # with a = 1 and 6 weeks


def message(text: str) -> str:
    return "^" + re.escape(text) + "$"


def weeks_before(
    table: list[list[float]], day: date = DAY, value: float | None = None
) -> pd.Series:
    """The rows of `table` (oldest week first) as daily values ending the day before `day`."""
    values = [v for row in table for v in row]
    start = day - timedelta(days=len(values))
    index = pd.date_range(start, periods=len(values))
    series = pd.Series(values, index=index, dtype=float)
    if value is not None:
        series.loc[pd.Timestamp(day)] = value  # type: ignore[call-overload]
    return series


def flat(value: float, weeks: int = 6) -> list[list[float]]:
    return [[value] * 7 for _ in range(weeks)]


def band(series: pd.Series, **options: object) -> Band:
    result = day_band(series, DAY, **options)  # type: ignore[arg-type]
    assert result is not None
    return result


# --------------------------------------------------------------------------- known numbers


def test_constant_spend_gives_the_constant_and_the_floor_band() -> None:
    # residuals all 0: the relative spread is its 5 % floor; a = 0 (no factor spread), so the
    # widening is sqrt(1 + 1/42); z = 2 / that makes the half-width 2 x 5 % = 10 %
    b = band(weeks_before(flat(10_000.0), value=10_500.0), counts=False, z=2 / FLAT_6)
    assert (b.day, b.value, b.expected, b.weeks, b.days) == (DAY, 10_500.0, 10_000.0, 6, 1)
    assert (b.low, b.high) == (pytest.approx(9_000.0), pytest.approx(11_000.0))
    assert not b.outside
    assert b.deviation == pytest.approx(0.05)


def test_constant_count_gives_the_constant_and_the_poisson_band() -> None:
    # 15.625 a day: sqrt(15.625 + 3/8) = 4; the spread is the Poisson floor 1/2 on that scale;
    # z = 2 / sqrt(1 + 1/42) makes the half-width 1: (4 -/+ 1)^2 - 3/8 = 8.625 and 24.625
    b = band(weeks_before(flat(15.625)), z=2 / FLAT_6)
    assert b.expected == 15.625
    assert (b.low, b.high) == (pytest.approx(8.625), pytest.approx(24.625))
    assert b.value == 0.0  # DAY has no row: 0
    assert b.outside and b.deviation == -1.0


def test_constant_count_at_the_default_z() -> None:
    b = band(weeks_before(flat(16.0)))
    half = DEFAULT_Z * 0.5 * FLAT_6
    centre = math.sqrt(16 + SHIFT)
    assert b.low == pytest.approx((centre - half) ** 2 - SHIFT)  # 5.40
    assert b.high == pytest.approx((centre + half) ** 2 - SHIFT)  # 32.01
    assert (round(b.low, 2), round(b.high, 2)) == (5.40, 32.01)


def test_weekday_weekend_pattern_uses_the_days_factor() -> None:
    # weekdays 10,000, weekends 4,000, no noise: the factors are exact (a = 1), the level
    # 58,000 / 7 and a Monday's factor 70 / 58, so a Monday expects 10,000 and a Sunday 4,000;
    # widening sqrt(1 + 1/6), z = 2 / that: half-width 10 %
    week = [10_000.0] * 5 + [4_000.0] * 2  # Monday first
    monday = band(weeks_before([week] * 6), counts=False, z=2 / PATTERN_6)
    assert monday.expected == pytest.approx(10_000.0)
    assert (monday.low, monday.high) == (pytest.approx(9_000.0), pytest.approx(11_000.0))
    sunday_first = [4_000.0] + [10_000.0] * 5 + [4_000.0]  # the same weeks seen from a Sunday
    sunday_day = DAY - timedelta(days=1)
    series = weeks_before([sunday_first] * 6, day=sunday_day)
    sunday = day_band(series, sunday_day, counts=False, z=2 / PATTERN_6)
    assert sunday is not None and sunday.weeks == 6
    assert sunday.expected == pytest.approx(4_000.0)
    assert (sunday.low, sunday.high) == (pytest.approx(3_600.0), pytest.approx(4_400.0))


def test_weekday_weekend_pattern_of_counts() -> None:
    # weekdays 15.625 (sqrt(16) = 4), weekends 3.625 (sqrt(4) = 2); half-width 1 on the root scale
    saturday_first = [3.625] * 2 + [15.625] * 5
    saturday_day = DAY - timedelta(days=2)
    series = weeks_before([saturday_first] * 6, day=saturday_day)
    saturday = day_band(series, saturday_day, z=2 / PATTERN_6)
    assert saturday is not None
    assert saturday.expected == pytest.approx(3.625)
    assert (saturday.low, saturday.high) == (pytest.approx(0.625), pytest.approx(8.625))


def test_shrunk_factors_and_noisy_spread_worked_by_hand() -> None:
    # Two weeks of spend; weekday means 12,000 (Monday), 10,000 (Tue-Fri), 9,000 (Sat, Sun), each
    # week 1,000 above and below them. Level L = 70,000 / 7 = 10,000; raw factors 1.2, 1, 0.9.
    # Noise of a raw factor: v = sum of (1,000 / L)^2 over 14 cells / (7 x 1) / 2 weeks = 0.01;
    # factor spread sum (f - 1)^2 = 0.04 + 2 x 0.01 = 0.06; a = 1 - 4 x 0.01 / 0.06 = 1/3.
    # Monday's factor 1 + 0.2 / 3, expected 10,666.67.
    means = [12_000.0] + [10_000.0] * 4 + [9_000.0] * 2
    table = [[m + 1_000 for m in means], [m - 1_000 for m in means]]
    b = band(weeks_before(table), counts=False)
    assert b.weeks == 2
    assert b.expected == pytest.approx(10_000 * (1 + 0.2 / 3))
    # Relative residuals against the fit (Mon 10,666.67, Tue-Fri 10,000, weekend 9,666.67):
    # 0.219, 0.031, eight times 0.1, 0.034 twice, 0.172 twice: the median |residual| is 0.1.
    # Fitted numbers p = 1 + 6a = 3: the MAD is scaled by sqrt(14 / 11); widening
    # sqrt(1 + (1/9 + (8/9) / 7) / 2).
    spread = 1.4826 * 0.1 * math.sqrt(14 / 11) * math.sqrt(1 + (1 / 9 + 8 / 63) / 2)
    assert b.low == pytest.approx(b.expected * (1 - DEFAULT_Z * spread))
    assert b.high == pytest.approx(b.expected * (1 + DEFAULT_Z * spread))


def test_just_inside_and_just_outside() -> None:
    series = weeks_before(flat(10_000.0))
    z = 2 / FLAT_6  # band 9,000 - 11,000
    for value, outside in ((9_000.5, False), (10_999.5, False), (8_999.5, True), (11_000.5, True)):
        series.loc[pd.Timestamp(DAY)] = value  # type: ignore[call-overload]
        assert band(series, counts=False, z=z).outside is outside, value
    series.loc[pd.Timestamp(DAY)] = 11_000.5  # type: ignore[call-overload]
    assert band(series, counts=False, z=z).deviation == pytest.approx(0.10005)


def test_two_day_sums() -> None:
    # days=2: Sunday + Monday against the 2-day sums of the history (all 20,000)
    series = weeks_before(flat(10_000.0, weeks=7), value=6_000.0)
    b = band(series, counts=False, z=2 / FLAT_6, days=2)
    assert (b.value, b.expected, b.days, b.weeks) == (16_000.0, 20_000.0, 2, 6)
    assert (b.low, b.high) == (pytest.approx(18_000.0), pytest.approx(22_000.0))
    assert b.outside
    assert band(series, counts=False, z=2 / FLAT_6).outside  # 6,000 alone is outside too


def test_two_day_sums_need_one_more_day_of_history() -> None:
    series = weeks_before(flat(5.0, weeks=2))  # exactly 14 days before DAY
    assert band(series).weeks == 2
    assert day_band(series, DAY, days=2) is None  # the first 2-day sum needs a 15th day


# --------------------------------------------------------------------------- zero and small


def test_zero_day_on_a_two_lead_channel_is_not_an_alarm() -> None:
    b = band(weeks_before(flat(2.0), value=0.0))
    assert b.low == 0.0 and b.high == pytest.approx(9.77, abs=0.01)
    assert not b.outside


def test_zero_day_on_a_thirty_lead_channel_is_an_alarm() -> None:
    b = band(weeks_before(flat(30.0), value=0.0))
    assert b.low > 10 and b.outside


def test_all_zero_history_of_counts() -> None:
    # expected 0: the band is [0, (sqrt(3/8) + z / 2 x widening)^2 - 3/8] = [0, 4.72]
    high = (math.sqrt(SHIFT) + DEFAULT_Z * 0.5 * FLAT_6) ** 2 - SHIFT
    b4 = band(weeks_before(flat(0.0), value=4.0))
    assert (b4.expected, b4.low, b4.high) == (0.0, 0.0, pytest.approx(high))
    assert round(high, 2) == 4.72
    assert not b4.outside and math.isnan(b4.deviation)
    assert band(weeks_before(flat(0.0), value=5.0)).outside


def test_all_zero_history_of_money_flags_any_spend() -> None:
    assert not band(weeks_before(flat(0.0), value=0.0), counts=False).outside
    b = band(weeks_before(flat(0.0), value=1.0), counts=False)
    assert (b.expected, b.low, b.high, b.outside) == (0.0, 0.0, 0.0, True)


def test_spend_stopping_and_leads_tripling_are_caught() -> None:
    rng = np.random.default_rng(3)
    spend = weeks_before((20_000 * rng.gamma(100, 0.01, (6, 7))).tolist(), value=0.0)
    assert band(spend, counts=False).outside
    leads = weeks_before(rng.poisson(30, (6, 7)).astype(float).tolist(), value=90.0)
    assert band(leads).outside and band(leads).high < 60


# --------------------------------------------------------------------------- history


def test_not_enough_history_is_none() -> None:
    assert day_band(weeks_before(flat(5.0, weeks=1)), DAY) is None  # 7 days: 1 week < 2
    thirteen = weeks_before(flat(5.0, weeks=2)).iloc[1:]
    assert day_band(thirteen, DAY) is None  # 13 days
    assert band(weeks_before(flat(5.0, weeks=1)), min_weeks=1).weeks == 1
    assert band(weeks_before(flat(5.0, weeks=2))).weeks == 2
    assert band(weeks_before(flat(5.0, weeks=10))).weeks == 6  # at most `weeks`
    assert band(weeks_before(flat(5.0, weeks=10)), weeks=8).weeks == 8


def test_no_history_at_all_is_none() -> None:
    assert day_band(pd.Series(dtype=float), DAY) is None
    later = pd.Series([5.0] * 30, index=pd.date_range(DAY, periods=30))
    assert day_band(later, DAY) is None  # nothing before the day
    unknown = weeks_before([[math.nan] * 7] * 6)
    assert day_band(unknown, DAY) is None  # NaN does not start the history


def test_history_starts_at_the_first_value_and_later_days_are_ignored() -> None:
    series = weeks_before(flat(5.0, weeks=3), value=5.0)
    after = pd.Timestamp(DAY + timedelta(days=1))  # after the day: ignored
    series.loc[after] = 500.0  # type: ignore[call-overload]
    b = band(series)
    assert (b.weeks, b.expected, b.value) == (3, 5.0, 5.0)


def test_missing_days_nan_and_zero_are_the_same() -> None:
    table = [[12.0, 9, 0, 11, 10, 4, 3] for _ in range(6)]
    dense = weeks_before(table, value=7.0)
    sparse = dense[dense != 0]  # no rows on the zero days
    with_nan = dense.replace(0.0, math.nan)
    assert band(dense) == band(sparse) == band(with_nan)
    for counts in (True, False):
        assert band(dense, counts=counts) == band(sparse, counts=counts)


def test_dates_timestamps_duplicates_and_unsorted_rows() -> None:
    dense = weeks_before([[12.0, 9, 5, 11, 10, 4, 3] for _ in range(6)], value=7.0)
    as_dates = pd.Series(dense.to_numpy(), index=[d.date() for d in dense.index])
    halves = pd.concat([dense / 2, dense / 2]).sample(frac=1.0, random_state=1)  # dupes summed
    with_time = dense.copy()
    with_time.index = dense.index + pd.Timedelta(hours=10)
    assert band(as_dates) == band(dense) == band(halves) == band(with_time)


def test_one_spike_in_the_history_barely_moves_the_band() -> None:
    rng = np.random.default_rng(7)
    table = rng.poisson(30, (6, 7)).astype(float)
    quiet = band(weeks_before(table.tolist()))
    spiked = table.copy()
    spiked[2, 3] *= 5  # a holiday-like day at 5x
    loud = band(weeks_before(spiked.tolist()))
    assert loud.expected == pytest.approx(quiet.expected, rel=0.02)
    assert loud.high - loud.low == pytest.approx(quiet.high - quiet.low, rel=0.05)
    outage = table.copy()
    outage[4, 0] = 0.0  # one Monday with nothing (a tracking outage)
    down = band(weeks_before(outage.tolist()))
    assert down.expected == pytest.approx(quiet.expected, rel=0.03)
    assert down.high - down.low == pytest.approx(quiet.high - quiet.low, rel=0.05)


def test_one_spike_in_spend_history_barely_moves_the_band() -> None:
    rng = np.random.default_rng(8)
    table = 20_000 * rng.gamma(100, 0.01, (6, 7))
    quiet = band(weeks_before(table.tolist()), counts=False)
    table[1, 0] *= 4  # a Monday at 4x: a plain mean of the Mondays would rise by half
    loud = band(weeks_before(table.tolist()), counts=False)
    # winsorised at 3 spreads, the spike still lifts the Monday mean a little (3.4 % here),
    # a tenth of the band's half-width
    assert abs(loud.expected - quiet.expected) < 0.1 * (quiet.high - quiet.low) / 2
    # the relative half-width (45 % here) moves by a position of the MAD's median: 6.5 %
    relative = (loud.high - loud.low) / loud.expected
    assert relative == pytest.approx((quiet.high - quiet.low) / quiet.expected, rel=0.10)


# --------------------------------------------------------------------------- band_arrays


def test_band_arrays_works_on_many_tables_at_once() -> None:
    rng = np.random.default_rng(5)
    tables = rng.poisson(12, (3, 4, 6, 7)).astype(float)
    expected, low, high = band_arrays(tables)
    assert expected.shape == low.shape == high.shape == (3, 4)
    one = band_arrays(tables[2, 1])
    assert (expected[2, 1], low[2, 1], high[2, 1]) == (one[0], one[1], one[2])
    series = weeks_before(tables[2, 1].tolist())
    b = band(series)
    assert (b.expected, b.low, b.high) == pytest.approx(
        (float(one[0]), float(one[1]), float(one[2]))
    )


def test_one_week_of_history_pools_the_weekdays() -> None:
    expected, _, _ = band_arrays([[14.0, 7, 7, 7, 7, 3, 4]])
    assert float(expected) == 7.0  # a = 0 with one week: the level, 49 / 7


@pytest.mark.parametrize(
    ("history", "text"),
    [
        ([1.0] * 7, "`history` must have shape (..., weeks, 7), got (7,)"),
        ([[1.0] * 6], "`history` must have shape (..., weeks, 7), got (1, 6)"),
        ([[1.0] * 6 + [-1.0]], "history: daily counts and spend must be >= 0, got -1.0"),
        ([[1.0] * 6 + [math.inf]], "history: values must be finite numbers"),
    ],
)
def test_band_arrays_rejects(history: object, text: str) -> None:
    with pytest.raises(InputError, match=message(text)):
        band_arrays(history)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("options", "text"),
    [
        ({"z": 0}, "`z` must be a positive number, got 0"),
        ({"z": math.nan}, "`z` must be a positive number, got nan"),
        ({"z": True}, "`z` must be a positive number, got True"),
        ({"weeks": 0}, "`weeks` must be a whole number >= 1, got 0"),
        ({"weeks": 2.5}, "`weeks` must be a whole number >= 1, got 2.5"),
        ({"days": 0}, "`days` must be a whole number >= 1, got 0"),
        ({"min_weeks": 7}, "`min_weeks` must be at most `weeks` (6), got 7"),
    ],
)
def test_bad_options_are_rejected(options: dict[str, object], text: str) -> None:
    with pytest.raises(InputError, match=message(text)):
        day_band(weeks_before(flat(5.0)), DAY, **options)  # type: ignore[arg-type]


def test_bad_series_are_rejected() -> None:
    with pytest.raises(InputError, match=r"^`series` must be a pandas Series"):
        day_band([1.0, 2.0], DAY)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"^`series` must be indexed by dates"):
        day_band(pd.Series([1.0], index=["not a date"]), DAY)
    with pytest.raises(InputError, match=r"^`series` must hold numbers"):
        day_band(pd.Series(["many"], index=[DAY]), DAY)
    with pytest.raises(InputError, match=message("`day` must be a date, got '2026-02-16'")):
        day_band(weeks_before(flat(5.0)), "2026-02-16")  # type: ignore[arg-type]
    negative = weeks_before(flat(5.0), value=-3.0)
    text = "`series` from 2026-01-05 to 2026-02-16: daily counts and spend must be >= 0, got -3.0"
    with pytest.raises(InputError, match=message(text)):
        day_band(negative, DAY)


def test_a_negative_value_outside_the_window_is_not_looked_at() -> None:
    series = weeks_before(flat(5.0, weeks=8))
    series.iloc[0] = -3.0  # 8 weeks back, before the 6 used
    assert band(series).expected == 5.0


# --------------------------------------------------------------------------- properties

money = st.floats(0, 1e6, allow_nan=False, allow_infinity=False)
count = st.integers(0, 200).map(float)


@settings(max_examples=150, deadline=None)
@given(st.lists(money, min_size=36, max_size=60), money, st.floats(0.01, 100))
def test_money_bands_scale_with_the_money(values: list[float], today: float, k: float) -> None:
    series = pd.Series([*values, today], index=pd.date_range(end=DAY, periods=len(values) + 1))
    a = day_band(series, DAY, counts=False)
    b = day_band(series * k, DAY, counts=False)
    assert a is not None and b is not None
    for x, y in ((a.expected, b.expected), (a.low, b.low), (a.high, b.high)):
        assert y == pytest.approx(k * x, rel=1e-9, abs=1e-6)
    assert a.outside is b.outside or math.isclose(
        min(abs(today - a.low), abs(today - a.high)), 0, abs_tol=1e-6 * max(today, 1)
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(count, min_size=14, max_size=60), st.booleans(), st.integers(1, 3))
def test_the_band_contains_the_expected_value(values: list[float], counts: bool, days: int) -> None:
    series = pd.Series(
        values, index=pd.date_range(end=DAY - timedelta(days=1), periods=len(values))
    )
    b = day_band(series, DAY, counts=counts, days=days, min_weeks=1)
    assert b is not None
    assert 0 <= b.low <= b.expected <= b.high
    assert math.isfinite(b.high)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(count, min_size=14, max_size=50),
    count,
    st.integers(-400, 400),
    st.booleans(),
)
def test_shifting_the_dates_keeps_the_result(
    values: list[float], today: float, shift: int, counts: bool
) -> None:
    index = pd.date_range(end=DAY, periods=len(values) + 1)
    series = pd.Series([*values, today], index=index)
    moved = pd.Series([*values, today], index=index + pd.Timedelta(days=shift))
    a = day_band(series, DAY, counts=counts)
    b = day_band(moved, DAY + timedelta(days=shift), counts=counts)
    assert a is not None and b is not None
    assert b == Band(a.day + timedelta(days=shift), a.value, a.expected, a.low, a.high, a.weeks)


@settings(max_examples=100, deadline=None)
@given(st.lists(count, min_size=42, max_size=42), st.permutations(range(6)), st.booleans())
def test_the_order_of_the_weeks_does_not_matter(
    values: list[float], order: list[int], counts: bool
) -> None:
    table = np.array(values).reshape(6, 7)
    a = band_arrays(table, counts=counts)
    b = band_arrays(table[list(order)], counts=counts)
    np.testing.assert_allclose(np.array(a), np.array(b), rtol=1e-12, atol=1e-12)
