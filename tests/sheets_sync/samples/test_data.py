"""The sample generator: shape, determinism, realism, the known curves and the CSV round trip."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.errors import InputError
from planning.funnel import DEFAULT_FUNNEL
from sheets_sync.samples.data import (
    CHANNELS,
    DAILY_COLUMNS,
    PLAN_COLUMNS,
    TRUE_CURVES,
    ChannelSpec,
    ResponseCurve,
    SampleMonth,
    generate_sample,
    read_exports,
    write_exports,
)

METRICS = list(DEFAULT_FUNNEL.metrics)
COUNTS = list(DEFAULT_FUNNEL.names)
NOV = dt.date(2026, 11, 1)


def message(text: str) -> str:
    return "^" + re.escape(text) + "$"


@pytest.fixture(scope="module")
def sample() -> SampleMonth:
    return generate_sample()


def channel_totals(frame: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    return frame.groupby("channel", sort=False)[metrics].sum()


# --------------------------------------------------------------------------- the curves


def test_curves_known_numbers() -> None:
    # hill (vmax 10, k 100, slope 1): 10 * 100 / (100 + 100) = 5; at 300: 10 * 300 / 400 = 7.5
    hill = ResponseCurve("hill", (10.0, 100.0, 1.0))
    assert hill.leads([0.0, 100.0, 300.0]).tolist() == [0.0, 5.0, 7.5]
    # slope 0.5 at s = k: always vmax / 2 = 5; at 400: 10 * 20 / (10 + 20) = 6.667
    assert math.isclose(float(ResponseCurve("hill", (10, 100, 0.5)).leads(400)), 20 / 3)
    # power (2, 0.5): 2 * sqrt(100) = 20; marginal 2 * 0.5 / sqrt(100) = 0.1
    power = ResponseCurve("power", (2.0, 0.5))
    assert float(power.leads(100)) == 20.0
    assert math.isclose(float(power.marginal(100)), 0.1)
    # negexp (10, 100): 10 * (1 - e^-1) = 6.3212; marginal 10 / 100 * e^-1 = 0.036788
    negexp = ResponseCurve("negexp", (10.0, 100.0))
    assert math.isclose(float(negexp.leads(100)), 10 * (1 - math.exp(-1)))
    assert math.isclose(float(negexp.marginal(100)), 0.1 * math.exp(-1))
    # hill marginal, slope 1: vmax k / (k + s)^2 = 10 * 100 / 200^2 = 0.025
    assert math.isclose(float(hill.marginal(100)), 0.025)
    assert hill.leads(np.zeros((2, 3))).shape == (2, 3)


@settings(max_examples=60, deadline=None)
@given(
    form=st.sampled_from(["hill", "power", "negexp"]),
    scale=st.floats(1.0, 500.0),
    k=st.floats(1_000.0, 200_000.0),
    shape=st.floats(0.2, 0.99),
)
def test_curves_are_increasing_concave_and_match_their_marginal(
    form: str, scale: float, k: float, shape: float
) -> None:
    params = {"hill": (scale, k, shape), "power": (scale / 100, shape), "negexp": (scale, k)}[form]
    curve = ResponseCurve(form, params)  # type: ignore[arg-type]
    s = np.linspace(0.01 * k, 5 * k, 400)  # up to 5 half-saturation spends
    leads = curve.leads(s)
    assert np.all(np.diff(leads) > 0)
    assert np.all(np.diff(leads, 2) <= 1e-9 * leads.max())
    marginal = curve.marginal(s)
    assert np.all(marginal > 0) and np.all(np.diff(marginal) < 0)
    h = 1e-4 * s
    numeric = (curve.leads(s + h) - curve.leads(s - h)) / (2 * h)
    np.testing.assert_allclose(marginal, numeric, rtol=1e-5)


@pytest.mark.parametrize(
    ("form", "params", "text"),
    [
        ("logistic", (1.0, 2.0), "`form` must be one of hill, power, negexp, got 'logistic'"),
        ("power", (1.0,), "a power curve takes 2 parameters, got 1: (1.0,)"),
        (
            "negexp",
            (10.0, -1.0),
            "parameter 2 of the negexp curve must be a finite number > 0, got -1.0",
        ),
        ("hill", (10.0, 100.0, 1.5), "the hill `slope` must be <= 1 (a concave curve), got 1.5"),
        ("power", (2.0, 1.0), "the power exponent `b` must be < 1 (a concave curve), got 1.0"),
    ],
)
def test_bad_curves_are_refused(form: str, params: tuple[float, ...], text: str) -> None:
    with pytest.raises(InputError, match=message(text)):
        ResponseCurve(form, params)  # type: ignore[arg-type]


def test_negative_spend_is_refused() -> None:
    with pytest.raises(InputError, match=message("`spend` must be >= 0, got -5.0")):
        ResponseCurve("negexp", (10.0, 100.0)).leads([10.0, -5.0])


def test_channels_are_known_and_different() -> None:
    names = [c.name for c in CHANNELS]
    assert names == [
        "Google Search",
        "Yandex Direct",
        "Yandex RSYa",
        "Programmatic",
        "Meta Ads",
        "VK Ads",
        "Telegram Ads",
    ]
    assert {c.name: c.curve for c in CHANNELS} == TRUE_CURVES
    assert {c.form for c in TRUE_CURVES.values()} == {"hill", "power", "negexp"}
    assert all(3 <= len(c.campaigns) <= 5 for c in CHANNELS)
    assert 20 <= sum(len(c.campaigns) for c in CHANNELS) <= 40
    # Saturation differs: the leads per RUB of the last ruble at the typical budget, relative to
    # the average leads per RUB (1 = linear, lower = more saturated).
    elasticity = {
        c.name: float(
            c.curve.marginal(c.daily_budget) * c.daily_budget / c.curve.leads(c.daily_budget)
        )
        for c in CHANNELS
    }
    assert all(0 < e < 1 for e in elasticity.values())
    assert len({round(e, 2) for e in elasticity.values()}) >= 5


def test_channel_spec_validates() -> None:
    google = CHANNELS[0]
    assert math.isclose(sum(google.shares), 1.0)
    with pytest.raises(
        InputError, match=message("channel 'X': `quality` has 1 values for 2 campaigns")
    ):
        ChannelSpec(
            "X", google.curve, 10.0, ("A", "B"), 1000.0, (1, 1), (1,), (1, 1),
            1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 1000.0, 1.0, 1.0, 1.0,
        )  # fmt: skip
    with pytest.raises(
        InputError,
        match=message("channel 'X': `pp_rate` must be a finite number >= 0 and <= 1, got 1.5"),
    ):
        ChannelSpec(
            "X", google.curve, 10.0, ("A",), 1000.0, (1,), (1,), (1,),
            1.0, 1.0, 0.5, 1.5, 0.5, 0.5, 1000.0, 1.0, 1.0, 1.0,
        )  # fmt: skip


# --------------------------------------------------------------------------- the sample


def test_same_seed_same_frames_other_seed_other_frames(sample: SampleMonth) -> None:
    again = generate_sample("2026-11", seed=7)
    pd.testing.assert_frame_equal(sample.daily, again.daily)
    pd.testing.assert_frame_equal(sample.plan, again.plan)
    other = generate_sample("2026-11", seed=8)
    assert not sample.daily["leads"].equals(other.daily["leads"])
    pd.testing.assert_frame_equal(sample.plan, other.plan)  # the plan is made from the truth


def test_a_later_as_of_only_appends_days(sample: SampleMonth) -> None:
    earlier = generate_sample(NOV, as_of=dt.date(2026, 11, 9))
    cut = sample.daily[sample.daily["date"] <= dt.date(2026, 11, 9)]
    pd.testing.assert_frame_equal(earlier.daily, cut)


def test_shape_columns_and_types(sample: SampleMonth) -> None:
    assert sample.month == NOV
    assert sample.as_of == dt.date(2026, 11, 17)
    assert sample.month_end == dt.date(2026, 11, 30)
    assert list(sample.plan.columns) == list(PLAN_COLUMNS)
    assert list(sample.daily.columns) == list(DAILY_COLUMNS)

    n_channels = sample.plan["channel"].nunique()
    n_lines = len(sample.plan)
    assert 6 <= n_channels <= 8
    assert 20 <= n_lines <= 40
    assert not sample.plan.duplicated(["channel", "campaign"]).any()

    # 60 history days (Sep 2 .. Oct 31) + Nov 1..17 = 77 days, one row per day per campaign.
    days = sorted(set(sample.daily["date"]))
    assert days[0] == dt.date(2026, 9, 2) and days[-1] == dt.date(2026, 11, 17)
    assert len(days) == 77
    assert len(sample.daily) == 77 * n_lines
    assert all(type(d) is dt.date for d in sample.daily["date"])
    per_day = sample.daily.groupby("date").size()
    assert (per_day == n_lines).all()
    lines = set(map(tuple, sample.plan[["channel", "campaign"]].to_numpy()))
    assert set(map(tuple, sample.daily[["channel", "campaign"]].to_numpy())) == lines

    for metric in COUNTS:
        assert sample.daily[metric].dtype == np.int64
    for metric in ("spend", "revenue"):
        assert sample.daily[metric].dtype == np.float64
        kopecks = sample.daily[metric] * 100
        assert np.allclose(kopecks, kopecks.round(), atol=1e-6)
    for metric in METRICS:
        assert sample.plan[metric].dtype == np.float64


def test_everything_is_non_negative(sample: SampleMonth) -> None:
    assert (sample.daily[METRICS] >= 0).all().all()
    assert (sample.plan[METRICS] >= 0).all().all()
    assert (sample.plan[METRICS] > 0).all().all()


def test_funnel_narrows_in_aggregate(sample: SampleMonth) -> None:
    for frame in (sample.month_to_date(), sample.plan):
        totals = [float(v) for v in frame[COUNTS].sum()]
        assert totals == sorted(totals, reverse=True), totals
        assert 0 < totals[1] / totals[0] < 0.1  # leads / traffic
        by_channel = channel_totals(frame, COUNTS)
        assert (by_channel["leads"] < by_channel["traffic"]).all()
        assert (by_channel["purchases"] < by_channel["calls"]).all()


def test_spend_varies_day_to_day_and_search_dims_at_weekends(sample: SampleMonth) -> None:
    daily = sample.daily
    spend = daily.groupby(["channel", "date"])["spend"].sum()
    for spec in CHANNELS:
        series = spend[spec.name]
        cv = series.std() / series.mean()
        assert 0.15 < cv < 0.8, (spec.name, cv)
        assert series.max() / series.min() > 2.0  # deliberate high/low budget days
    google = spend["Google Search"]
    weekend = np.array([d.weekday() >= 5 for d in google.index])
    assert google[weekend].mean() < 0.85 * google[~weekend].mean()
    campaign_cv = daily.groupby(["channel", "campaign"])["spend"].agg(lambda s: s.std() / s.mean())
    assert (campaign_cv > 0.2).all()


def test_lagged_stages_arrive_from_the_history(sample: SampleMonth) -> None:
    first_days = sample.daily[sample.daily["date"] <= dt.date(2026, 11, 3)]
    assert first_days[["pp", "negotiations", "purchases", "revenue"]].sum().gt(0).all()
    # Even without history days, purchases on the 1st come from leads before the month.
    no_history = generate_sample(NOV, history_days=0)
    assert no_history.daily["date"].min() == NOV
    day_one = no_history.daily[no_history.daily["date"] == NOV]
    assert day_one[["pp", "negotiations"]].sum().gt(0).all()


def test_revenue_follows_purchases(sample: SampleMonth) -> None:
    daily = sample.daily
    assert (daily.loc[daily["purchases"] == 0, "revenue"] == 0).all()
    assert (daily.loc[daily["purchases"] > 0, "revenue"] > 0).all()
    value = {c.name: c.revenue_per_purchase for c in CHANNELS}
    expected = (daily["purchases"] * daily["channel"].map(value)).sum()
    assert 0.9 < daily["revenue"].sum() / expected < 1.1


def test_daily_leads_follow_the_true_curves() -> None:
    long = generate_sample(NOV, history_days=240)  # 257 days per channel
    by_day = long.daily.groupby(["channel", "date"], sort=False)[["spend", "leads"]].sum()
    for spec in CHANNELS:
        days = by_day.loc[spec.name]
        weekend = np.array([d.weekday() >= 5 for d in days.index])
        curve = spec.curve.leads(days["spend"].to_numpy())
        expected = curve * np.where(weekend, spec.weekend_leads, 1.0)
        leads = days["leads"].to_numpy()
        assert abs(leads.mean() / curve.mean() - 1) < 0.15, spec.name
        assert abs(leads.mean() / expected.mean() - 1) < 0.10, spec.name
        assert np.corrcoef(leads, expected)[0, 1] > 0.2, spec.name
        # The high-budget days bring more leads than the low-budget days: curves are identifiable.
        low, high = np.quantile(days["spend"], [0.25, 0.75])
        spend = days["spend"].to_numpy()
        assert leads[spend >= high].mean() > 1.2 * leads[spend <= low].mean(), spec.name


def test_misses_differ_by_channel(sample: SampleMonth) -> None:
    # Run-rate of the month = month-to-date x 30 / 17 (Nov 1..17 of 30 days).
    fact = channel_totals(sample.month_to_date(), ["spend", "leads"]) * 30 / 17
    plan = channel_totals(sample.plan, ["spend", "leads"])
    leads_pct = fact["leads"] / plan["leads"]
    cpa_fact = fact["spend"] / fact["leads"]
    cpa_plan = plan["spend"] / plan["leads"]
    # Google Search: under the lead plan, but at a lower CPA than planned: room to scale.
    assert 0.8 < leads_pct["Google Search"] < 1.0
    assert cpa_fact["Google Search"] < cpa_plan["Google Search"]
    assert leads_pct["Yandex RSYa"] > 1.0 and cpa_fact["Yandex RSYa"] < cpa_plan["Yandex RSYa"]
    assert leads_pct["Programmatic"] < 0.85
    assert cpa_fact["Programmatic"] > cpa_plan["Programmatic"]
    assert leads_pct.max() - leads_pct.min() > 0.3


def test_plan_lines_are_bottom_up_plans(sample: SampleMonth) -> None:
    plan = sample.plan
    assert (plan["spend"] % 1000 == 0).all()  # plans are round budgets
    specs = {c.name: c for c in CHANNELS}
    for row in plan.to_dict("records"):
        spec = specs[row["channel"]]
        j = spec.campaigns.index(row["campaign"])
        cpc = row["spend"] / row["traffic"]
        true_cpc = spec.cpc * spec.cpc_factors[j]
        assert 0.85 < cpc / true_cpc < 1.15
        # Lower-funnel CRs are the channel's rates rounded to 2 decimals.
        calls, leads = row["calls"], row["leads"]
        assert math.isclose(calls / leads, round(spec.call_rate, 2), rel_tol=1e-3)
        assert math.isclose(
            row["purchases"] / row["negotiations"], spec.purchase_rate, rel_tol=2e-2
        )
        # Revenue = purchases x value per purchase (purchases rounded to 0.01: +-0.005 x value).
        expected_revenue = row["purchases"] * spec.revenue_per_purchase
        assert math.isclose(row["revenue"], expected_revenue, abs_tol=0.005 * 250_000)
    # Month budget near typical spend x 30 days: 7 channels, ~232k RUB/day less weekends.
    assert 5_000_000 < plan["spend"].sum() < 8_000_000


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        (
            {"month": "2026-13"},
            "`month` must be a month as 'YYYY-MM' or the first day of a month, got '2026-13'",
        ),
        (
            {"month": 202611},
            "`month` must be a month as 'YYYY-MM' or the first day of a month, got 202611",
        ),
        (
            {"as_of": dt.date(2026, 12, 1)},
            "`as_of` must be a day of 2026-11 (2026-11-01 to 2026-11-30), "
            "got datetime.date(2026, 12, 1)",
        ),
        ({"history_days": -1}, "`history_days` must be an integer >= 0, got -1"),
        ({"seed": "7"}, "`seed` must be an integer >= 0, got '7'"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object], text: str) -> None:
    with pytest.raises(InputError, match=message(text)):
        generate_sample(**kwargs)  # type: ignore[arg-type]


def test_month_as_date_and_as_of_default() -> None:
    feb = generate_sample(dt.date(2027, 2, 14), history_days=3)
    assert feb.month == dt.date(2027, 2, 1) and feb.as_of == dt.date(2027, 2, 17)
    assert feb.month_end == dt.date(2027, 2, 28)
    assert feb.daily["date"].min() == dt.date(2027, 1, 29)
    last_day = generate_sample("2026-11", as_of=dt.date(2026, 11, 30), history_days=0)
    assert last_day.month_to_date()["date"].nunique() == 30


# --------------------------------------------------------------------------- exports


def test_write_read_round_trip(sample: SampleMonth, tmp_path: Path) -> None:
    paths = write_exports(sample, tmp_path / "exports")
    assert paths == {
        "plan": tmp_path / "exports" / "plan.csv",
        "daily": tmp_path / "exports" / "daily_facts.csv",
    }
    text = paths["daily"].read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(DAILY_COLUMNS)
    assert "2026-09-02,Google Search,Generic — Moscow," in text
    plan, daily = read_exports(tmp_path / "exports")
    pd.testing.assert_frame_equal(plan, sample.plan)
    pd.testing.assert_frame_equal(daily, sample.daily)
    assert type(daily["date"].iloc[0]) is dt.date


def test_read_exports_names_what_is_wrong(sample: SampleMonth, tmp_path: Path) -> None:
    missing = tmp_path / "nothing"
    with pytest.raises(
        InputError, match=message(f"export file {str(missing / 'plan.csv')!r} does not exist")
    ):
        read_exports(missing)
    paths = write_exports(sample, tmp_path)
    sample.daily.drop(columns=["calls", "pp"]).to_csv(paths["daily"], index=False)
    with pytest.raises(
        InputError, match=message("file 'daily_facts.csv' is missing the columns: calls, pp")
    ):
        read_exports(tmp_path)
