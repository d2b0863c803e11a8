"""The cohort numbers worked by hand on a small CRM extract, and their invariants.

The extract (as of Wednesday 2026-11-18), 10 deals in 2 channels; revenue only on purchases:

    deal  channel  created         pp      purchases          age at as-of
    1     A        Sun 11-01       -       11-04 (lag 3)      17
    2     A        Sun 11-01       -       11-08 (lag 7)      17
    3     A        Mon 11-02       -       -                  16
    4     A        Tue 11-10       -       11-12 (lag 2)       8
    5     A        Mon 11-16       -       -                   2
    6     B        Tue 11-03       11-06   -                  15
    7     B        Thu 11-05       -       -                  13
    8     B        Sat 11-14       -       -                   4
    9     B        Tue 11-17       -       -                   1
    10    B        Wed 11-18       -       11-20 (after as-of: not counted)   0

A purchase implies pp (and negotiations) on the purchase day.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.cohorts import (
    COHORT_STAGES,
    POOLED,
    CohortForecast,
    LagCurve,
    channel_forecasts,
    cohort_forecast,
    cohort_table,
    deals_frame,
    lag_curves,
    revenue_forecast,
    revenue_per_purchase,
)
from planning.errors import InputError

AS_OF = dt.date(2026, 11, 18)


def _deals() -> pd.DataFrame:
    return deals_frame(
        ["A"] * 5 + ["B"] * 5,
        [
            "2026-11-01",
            "2026-11-01",
            "2026-11-02",
            "2026-11-10",
            "2026-11-16",
            "2026-11-03",
            "2026-11-05",
            "2026-11-14",
            "2026-11-17",
            "2026-11-18",
        ],
        pp=[None, None, None, None, None, "2026-11-06", None, None, None, None],
        purchases=[
            "2026-11-04",
            "2026-11-08",
            None,
            "2026-11-12",
            None,
            None,
            None,
            None,
            None,
            "2026-11-20",
        ],
        revenue=[100, 300, 0, 200, 0, 0, 0, 0, 0, 500],
    )


# --------------------------------------------------------------------------- lag curves


def test_pooled_purchase_curve_by_hand() -> None:
    # Observed ages (lag if purchased by as-of, else age at as-of): A 3e 7e 16 2e 2, B 15 13 4 1 0.
    # At risk / events by age: d0 10/0, d1 9/0, d2 8/1 (deal 4), d3 6/1 (deal 1; deals 4 and 5
    # left after age 2), d4 5/0 (deal 8 leaves after), d5-d6 4/0, d7 4/1 (deal 2), d8-d10 3/0.
    # F2 = 1/8 = 0.125; F3 = 1 - 7/8 * 5/6 = 13/48; F7 = 1 - 35/48 * 3/4 = 29/64 = 0.453125.
    curve = lag_curves(_deals(), AS_OF, horizon=10)[(POOLED, "purchases")]
    expected = [0, 0, 1 / 8, 13 / 48, 13 / 48, 13 / 48, 13 / 48, 29 / 64, 29 / 64, 29 / 64, 29 / 64]
    np.testing.assert_allclose(curve.cumulative, expected)
    np.testing.assert_array_equal(curve.at_risk, [10, 9, 8, 6, 5, 4, 4, 4, 3, 3, 3])
    assert (curve.leads, curve.events, curve.max_age_observed) == (10, 3, 16)


def test_channel_curve_is_shrunk_towards_the_pooled_hazard_by_hand() -> None:
    # A alone: at risk d2 5 (1 event), d3 3 (1 event), d7 2 (1 event) -> hazards 1/5, 1/3, 1/2.
    # Pooled hazards (above): 1/8, 1/6, 1/4. 3 events, prior 3 -> w = 3 / (3 + 3) = 0.5:
    # h2 = (1/5 + 1/8) / 2 = 0.1625, h3 = (1/3 + 1/6) / 2 = 0.25, h7 = (1/2 + 1/4) / 2 = 0.375.
    # F2 = 0.1625; F3 = 1 - 0.8375 * 0.75 = 0.371875; F7 = 1 - 0.628125 * 0.625 = 0.607421875.
    curve = lag_curves(_deals(), AS_OF, horizon=10, prior_events=3)[("A", "purchases")]
    assert curve.shrink_weight == 0.5
    np.testing.assert_allclose(
        curve.cumulative[[1, 2, 3, 6, 7, 10]],
        [0, 0.1625, 0.371875, 0.371875, 0.607421875, 0.607421875],
    )
    assert (curve.leads, curve.events, curve.max_age_observed) == (5, 3, 16)


def test_a_young_lead_without_an_event_is_no_non_converter_at_ages_it_has_not_reached() -> None:
    # Deal 5 (age 2, no purchase) is at risk at ages 0..2 only: at age 3 channel A has deals
    # 1, 2, 3 at risk (3, not 4), so A's own hazard at 3 is 1/3. Counting deal 5 as a
    # non-converter would give 1/4; the naive share 3/5 ignores the lags entirely.
    curve = lag_curves(_deals(), AS_OF, horizon=10, prior_events=0)[("A", "purchases")]
    assert curve.shrink_weight == 1.0
    np.testing.assert_array_equal(curve.at_risk[:4], [5, 5, 5, 3])
    # F3 = 1 - (1 - 1/5) * (1 - 1/3) = 7/15; F7 = 1 - 8/15 * 1/2 = 11/15.
    assert curve.cumulative[3] == pytest.approx(7 / 15)
    assert curve.cumulative[7] == pytest.approx(11 / 15)


def test_a_channel_without_events_gets_the_pooled_curve() -> None:
    curves = lag_curves(_deals(), AS_OF, horizon=10)
    b, pooled = curves[("B", "purchases")], curves[(POOLED, "purchases")]
    assert b.events == 0 and b.shrink_weight == 0.0 and not b.enough
    np.testing.assert_array_equal(b.cumulative, pooled.cumulative)


def test_stages_imply_the_earlier_ones_and_after_as_of_is_not_counted() -> None:
    curves = lag_curves(_deals(), AS_OF, horizon=10)
    # pp: the three purchases (implied) and deal 6's pp; deal 10's purchase is after as-of.
    assert curves[(POOLED, "pp")].events == 4
    assert curves[(POOLED, "negotiations")].events == 3
    assert curves[("B", "pp")].events == 1
    assert set(curves) == {(c, s) for c in ("A", "B", POOLED) for s in COHORT_STAGES}


def test_enough_needs_events_and_observed_ages() -> None:
    curves = lag_curves(_deals(), AS_OF, horizon=10, min_events=3)
    # A: 3 events, oldest lead at risk 16 days (deal 3; deals 1 and 2 left at their lags)
    # >= min(30, 10): enough. B: 0 events.
    assert curves[("A", "purchases")].enough and not curves[("B", "purchases")].enough
    assert not lag_curves(_deals(), AS_OF, min_events=3)[("A", "purchases")].enough  # 16 < 30
    assert lag_curves(_deals(), AS_OF, min_events=3, min_age=16)[("A", "purchases")].enough


def test_a_stage_dated_before_its_lead_counts_at_age_0() -> None:
    deals = deals_frame(["A", "A"], ["2026-11-10", "2026-11-10"], purchases=["2026-11-08", None])
    curve = lag_curves(deals, AS_OF, horizon=5)[("A", "purchases")]
    assert curve.clipped == 1 and curve.events == 1
    assert curve.cumulative[0] == 0.5  # 1 event of 2 leads at age 0


def test_bad_deals_are_named() -> None:
    with pytest.raises(InputError, match="created"):
        deals_frame(["A"], ["not a day"])
    with pytest.raises(InputError, match="no column 'pp'"):
        lag_curves(pd.DataFrame({"channel": ["A"], "created": ["2026-11-01"]}), AS_OF)


# --------------------------------------------------------------------------- the forecast


def test_cohort_forecast_by_hand() -> None:
    # F = [0.05, 0.1, 0.2, 0.3] (flat beyond); November, as of the 28th: days 29 and 30 left.
    # Existing: 11-26 10 * (F4 - F2) = 10 * 0.1 = 1; 11-27 20 * (F3 - F1) = 4;
    #           11-28 30 * (F2 - F0) = 4.5; 10-01 100 * (0.3 - 0.3) = 0.  -> 9.5
    # New: 11-29 40 * F1 = 4; 11-30 50 * F0 = 2.5 -> 6.5. Forecast = 5 + 9.5 + 6.5 = 21.
    leads = pd.Series(
        [100.0, 10, 20, 30, 999],
        index=pd.to_datetime(
            ["2026-10-01", "2026-11-26", "2026-11-27", "2026-11-28", "2026-11-29"]
        ),
    )
    f = cohort_forecast(leads, 5, [0.05, 0.1, 0.2, 0.3], "2026-11", dt.date(2026, 11, 28), [40, 50])
    assert isinstance(f, CohortForecast)
    assert (f.stage, f.happened, f.method, f.note) == ("", 5.0, "cohort", "")
    assert [f.from_existing, f.from_new, f.forecast] == pytest.approx([9.5, 6.5, 21.0])


def test_cohort_forecast_at_and_after_the_month_end_is_what_happened() -> None:
    leads = pd.Series([10.0], index=pd.to_datetime(["2026-11-20"]))
    for as_of in (dt.date(2026, 11, 30), dt.date(2026, 12, 3)):
        f = cohort_forecast(leads, 7, [0.5, 1.0], "2026-11", as_of, 0.0)
        assert (f.forecast, f.from_existing, f.from_new) == (7.0, 0.0, 0.0)


def test_before_the_month_only_the_months_events_count() -> None:
    # As of 10-30, November: the lead of 10-29 gains F[11-30 - 10-29] - F[10-31 - 10-29]
    # = F32 - F2 = 1 - 0.5 = 0.5 per lead (its day-1 share lands in October).
    leads = pd.Series([10.0], index=pd.to_datetime(["2026-10-29"]))
    f = cohort_forecast(leads, 0, [0.0, 0.25, 0.5, 1.0], "2026-11", dt.date(2026, 10, 30), 0.0)
    assert f.from_existing == pytest.approx(5.0)


def test_a_curve_that_is_not_enough_falls_back_to_the_straight_line() -> None:
    curve = lag_curves(_deals(), AS_OF)[("B", "purchases")]
    leads = pd.Series([10.0], index=pd.to_datetime(["2026-11-10"]))
    f = cohort_forecast(leads, 6, curve, "2026-11", AS_OF, 3.0)
    # 6 purchases in 18 days, stretched to 30: 10.
    assert (f.method, f.forecast, f.stage) == ("linear", pytest.approx(10.0), "purchases")
    assert "not enough" in f.note


def test_bad_curves_are_refused() -> None:
    leads = pd.Series([10.0], index=pd.to_datetime(["2026-11-10"]))
    for bad, why in (([0.5, 0.4], "decrease"), ([0.5, 1.5], "between 0 and 1"), ([], "empty")):
        with pytest.raises(InputError, match=why):
            cohort_forecast(leads, 0, bad, "2026-11", AS_OF, 1.0)
    with pytest.raises(InputError, match="one per day left"):
        cohort_forecast(leads, 0, [0.5], "2026-11", AS_OF, [1.0, 2.0])


def test_channel_forecasts_from_the_deals() -> None:
    forecasts = channel_forecasts(_deals(), "2026-11", AS_OF, window=5)
    a = forecasts[("A", "purchases")]
    # A's purchases in November up to as-of: deals 1, 2, 4. Its curve is not enough (3 events):
    # the straight line 3 / 18 * 30 = 5.
    assert a.happened == 3 and a.method == "linear" and a.forecast == pytest.approx(5.0)
    assert forecasts[("B", "pp")].happened == 1


def test_revenue_per_purchase_and_its_forecast() -> None:
    # A: (100 + 300 + 200) / 3 purchases = 200; all: the same (deal 10's is after as-of).
    assert revenue_per_purchase(_deals(), AS_OF, "A") == 200.0
    assert revenue_per_purchase(_deals(), AS_OF) == 200.0
    assert math.isnan(revenue_per_purchase(_deals(), AS_OF, "B"))
    # 600 so far for 3 purchases; 5 forecast: 600 + 2 * 200 = 1000.
    assert revenue_forecast(600, 3, 5, 200) == 1000.0
    assert revenue_forecast(600, 3, 3, math.nan) == 600.0


# --------------------------------------------------------------------------- the cohort table


def test_cohort_table_by_hand() -> None:
    # Weeks (Monday) with as-of Wed 11-18 and weeks=4: 10-26 (deals 1, 2), 11-02 (3; 6, 7),
    # 11-09 (4; 8), 11-16 (5; 9, 10). week_since runs to (11-18 - Monday) // 7: 3, 2, 1, 0.
    # Spend: A 10 a day, B 5 a day from 10-26; the 11-19 row is after as-of.
    days = pd.date_range("2026-10-26", "2026-11-19")
    spend = pd.DataFrame(
        {
            "channel": ["A"] * len(days) + ["B"] * len(days),
            "date": list(days) * 2,
            "spend": [10.0] * (len(days) - 1) + [1000.0] + [5.0] * len(days),
        }
    )
    table = cohort_table(_deals(), AS_OF, spend=spend, weeks=4)
    frame = table.frame.set_index(["channel", "cohort_week", "week_since"])
    assert len(frame) == 3 * (4 + 3 + 2 + 1)
    a = frame.loc["A"]
    oct26 = a.loc[pd.Timestamp("2026-10-26")]
    # Deal 1 purchased at lag 3 (week 0), deal 2 at lag 7 (week 1): 1, 2, 2, 2 of 2 leads.
    assert oct26["purchases"].tolist() == [1, 2, 2, 2]
    assert oct26["pp"].tolist() == [1, 2, 2, 2]  # implied by the purchases
    assert oct26["purchases_cr"].tolist() == [0.5, 1.0, 1.0, 1.0]
    assert oct26["revenue"].tolist() == [100.0, 400.0, 400.0, 400.0]
    # Spend of the week 10-26..11-01: 7 * 10 = 70; cost per purchase 70 / 1, then 70 / 2.
    assert oct26["spend"].tolist() == [70.0] * 4
    assert oct26["cost_per_purchase"].tolist() == [70.0, 35.0, 35.0, 35.0]
    # Maturing: last day 11-01 + 7k + 6 > 11-18 from week 2 on (11-21).
    assert oct26["maturing"].tolist() == [False, False, True, True]
    nov9 = a.loc[pd.Timestamp("2026-11-09")]
    assert nov9["purchases"].tolist() == [1, 1] and nov9["maturing"].tolist() == [True, True]
    # The current week: 11-16..11-18 spend only, 3 * 10.
    assert a.loc[(pd.Timestamp("2026-11-16"), 0), "spend"] == 30.0
    b = frame.loc["B"]
    assert b.loc[(pd.Timestamp("2026-10-26"), 0), "leads"] == 0
    assert np.isnan(np.asarray(b.loc[(pd.Timestamp("2026-10-26"), 0), "pp_cr"], dtype=float))
    nov2 = b.loc[pd.Timestamp("2026-11-02")]
    assert nov2["leads"].tolist() == [2, 2, 2] and nov2["pp"].tolist() == [1, 1, 1]
    assert nov2["cost_per_pp"].tolist() == [35.0] * 3  # 7 * 5 / 1
    assert nov2["cost_per_purchase"].isna().all()
    # Deal 10 purchased after as-of: the 11-16 cohort of B has 2 leads and no purchase.
    assert list(b.loc[(pd.Timestamp("2026-11-16"), 0), ["leads", "purchases"]]) == [2, 0]
    total = frame.loc[POOLED]
    row = total.loc[(pd.Timestamp("2026-11-02"), 2), ["leads", "pp", "spend"]]
    assert list(row) == [3, 1, 105.0]
    assert (
        total.loc[(pd.Timestamp("2026-11-02"), 2), "cost_per_pp"] == 105.0
    )  # summed, then divided


# --------------------------------------------------------------------------- properties


@st.composite
def _random_deals(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 40))
    created = draw(st.lists(st.integers(0, 60), min_size=n, max_size=n))
    lags = draw(st.lists(st.one_of(st.none(), st.integers(-2, 40)), min_size=n, max_size=n))
    channels = draw(st.lists(st.sampled_from(["A", "B", "C"]), min_size=n, max_size=n))
    start = pd.Timestamp("2026-09-01")
    days = [start + pd.Timedelta(days=c) for c in created]
    bought = [
        None if lag is None else d + pd.Timedelta(days=lag)
        for d, lag in zip(days, lags, strict=True)
    ]
    return deals_frame(channels, days, pp=bought, purchases=bought, revenue=[1.0] * n)


@settings(max_examples=60, deadline=None)
@given(_random_deals(), st.integers(0, 70))
def test_curves_are_non_decreasing_shares(deals: pd.DataFrame, offset: int) -> None:
    as_of = dt.date(2026, 9, 1) + dt.timedelta(days=offset)
    for curve in lag_curves(deals, as_of, horizon=30).values():
        assert isinstance(curve, LagCurve)
        assert np.all(np.diff(curve.cumulative) >= 0)
        assert curve.cumulative.min() >= 0 and curve.cumulative.max() <= 1


_CURVES = st.lists(st.floats(0, 1), min_size=1, max_size=40).map(lambda xs: np.sort(xs))


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.floats(0, 500), min_size=1, max_size=60),
    st.floats(0, 100),
    _CURVES,
    st.integers(1, 30),
    st.floats(0, 200),
)
def test_forecast_properties(
    leads: list[float], mtd: float, curve: np.ndarray, day: int, rate: float
) -> None:
    index = pd.date_range(end=dt.date(2026, 11, day), periods=len(leads))
    series = pd.Series(leads, index=index)
    as_of = dt.date(2026, 11, day)
    f = cohort_forecast(series, mtd, curve, "2026-11", as_of, rate)
    assert f.forecast >= f.happened - 1e-9
    assert f.forecast == pytest.approx(f.happened + f.from_existing + f.from_new)
    zero = cohort_forecast(series, mtd, np.zeros_like(curve), "2026-11", as_of, rate)
    assert zero.forecast == mtd
    double = cohort_forecast(series * 2, mtd, curve, "2026-11", as_of, rate * 2)
    added, twice = f.from_existing + f.from_new, double.from_existing + double.from_new
    assert twice == pytest.approx(2 * added, rel=1e-9, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(_random_deals(), st.integers(0, 70), st.integers(1, 10))
def test_cohort_table_properties(deals: pd.DataFrame, offset: int, weeks: int) -> None:
    as_of = dt.date(2026, 9, 1) + dt.timedelta(days=offset)
    table = cohort_table(deals, as_of, weeks=weeks)
    frame = table.frame
    for stage in COHORT_STAGES:
        assert (frame[stage] <= frame["leads"]).all()
        steps = frame.groupby(["channel", "cohort_week"])[stage].diff().dropna()
        assert (steps >= 0).all()
    # The latest row of each cohort and channel counts every lead of it and stage up to as-of
    # within `weeks` weeks of its lead; the leads of the channels add up to the deals'.
    first = frame[frame["week_since"] == 0]
    monday0 = pd.Timestamp(as_of) - pd.Timedelta(days=as_of.weekday() + 7 * (weeks - 1))
    created = deals[(deals["created"] >= monday0) & (deals["created"] <= pd.Timestamp(as_of))]
    by_channel = first[first["channel"] != POOLED].groupby("channel")["leads"].sum()
    assert by_channel.reindex(created["channel"].unique(), fill_value=0).sum() == len(created)
    for channel, leads in created.groupby("channel").size().items():
        assert by_channel[str(channel)] == leads
    assert first[first["channel"] == POOLED]["leads"].sum() == len(created)
    last = frame.groupby(["channel", "cohort_week"]).tail(1)
    bought = created[created["purchases"] <= pd.Timestamp(as_of)]
    mine = last[last["channel"] != POOLED]
    assert mine["purchases"].sum() == len(bought)  # every purchase within the table's weeks


def test_a_calls_column_is_a_stage_before_pp() -> None:
    deals = _deals()
    calls = pd.Series(pd.NaT, index=deals.index, dtype="datetime64[ns]")
    calls.iloc[0] = pd.Timestamp("2026-11-02")
    deals.insert(2, "calls", calls)
    curves = lag_curves(deals, AS_OF, horizon=10)
    # Deal 1's call (lag 1) and, implied, the calls of every deal that reached pp: 4 events.
    assert curves[(POOLED, "calls")].events == 4
    assert curves[("A", "calls")].cumulative[1] > 0
    table = cohort_table(deals, AS_OF, weeks=4).frame
    assert {"calls", "calls_cr"} <= set(table.columns)
    assert (table["calls"] >= table["pp"]).all()


def test_share_by_is_flat_beyond_the_horizon_and_zero_before_age_0() -> None:
    curve = lag_curves(_deals(), AS_OF, horizon=10)[(POOLED, "purchases")]
    np.testing.assert_allclose(curve.share_by([-1, 2, 10, 400]), [0, 1 / 8, 29 / 64, 29 / 64])


@settings(max_examples=60, deadline=None)
@given(_random_deals())
def test_without_censoring_the_curve_is_the_plain_share(deals: pd.DataFrame) -> None:
    # as of 100 days after the last lead, with every lag within 42 days: each lead is observed
    # past its event or the horizon, so F[d] = leads that reached the stage by age d / leads.
    as_of = dt.date(2026, 9, 1) + dt.timedelta(days=100)
    curve = lag_curves(deals, as_of, horizon=45)[(POOLED, "purchases")]
    lag = (deals["purchases"] - deals["created"]).dt.days.clip(lower=0)
    plain = [float((lag <= d).sum()) / len(deals) for d in range(46)]
    np.testing.assert_allclose(curve.cumulative, plain, atol=1e-12)
