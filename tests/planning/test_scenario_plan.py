"""Scenarios typed as a strategist types them: parsing, resolving, outcomes, the best one."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from planning.curves import ChannelFit, FitOptions, fit_history
from planning.errors import InputError
from planning.response import Linear
from planning.scenario_plan import (
    Change,
    Economics,
    Move,
    ScenarioSpec,
    best,
    outcomes,
    parse_change,
    parse_moves,
    resolve,
)
from planning.scenarios import compare, scale_total


def _linear(name: str, cpa: float) -> ChannelFit:
    return ChannelFit(name, Linear(cpa, math.inf), "given", (), (), 0, math.nan)


# --- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "change"),
    [
        (1500, Change(amount=1500.0)),
        ("+20%", Change(pct=20.0)),
        ("-30 %", Change(pct=-30.0)),
        ("−30%", Change(pct=-30.0)),
        ("12,5%", Change(pct=12.5)),
        ("1 200 000", Change(amount=1_200_000.0)),
        ("1,200,000", Change(amount=1_200_000.0)),
        ("1200,5", Change(amount=1200.5)),
        (None, None),
        ("  ", None),
    ],
)
def test_parse_change(raw: object, change: Change | None) -> None:
    assert parse_change(raw, "Scenarios!E12", "Programmatic") == change


@pytest.mark.parametrize(
    ("raw", "says"), [("lots", "not an amount"), (-5, ">= 0"), ("-150%", "100%")]
)
def test_a_bad_change_names_the_cell_and_the_value(raw: object, says: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_change(raw, "Scenarios!E12", "Programmatic")
    text = str(caught.value)
    assert "Scenarios!E12" in text and "Programmatic" in text and repr(raw) in text and says in text


def test_parse_moves_in_english_and_russian() -> None:
    moves = parse_moves("30% from Yandex Direct to Programmatic; 10,5% из VK Ads в Meta Ads", "B12")
    assert moves == (
        Move(30.0, "Yandex Direct", "Programmatic"),
        Move(10.5, "VK Ads", "Meta Ads"),
    )
    with pytest.raises(InputError, match="is not a move like"):
        parse_moves("half of Direct to Programmatic", "Scenarios!C12")


# --- resolving -------------------------------------------------------------------------------

BASE = {"A": 100.0, "B": 200.0, "C": 300.0}


def test_resolve_applies_channels_then_budget_then_moves() -> None:
    spec = ScenarioSpec(
        "mix",
        "Scenarios!A12",
        budget=Change(pct=20.0),
        channels={"A": Change(pct=10.0)},
        moves=(Move(50.0, "c", "A"),),  # channel names match ignoring case
    )
    # A 110, B 200, C 300 -> x1.2 -> 132, 240, 360 -> half of C to A
    assert resolve(BASE, spec) == pytest.approx({"A": 312.0, "B": 240.0, "C": 180.0})


def test_resolve_a_budget_amount_keeps_the_shares() -> None:
    spec = ScenarioSpec("1200", budget=Change(amount=1200.0))
    assert resolve(BASE, spec) == pytest.approx({"A": 200.0, "B": 400.0, "C": 600.0})


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        (
            ScenarioSpec(
                "x", "A12", channels={"A": Change(amount=0.0)}, moves=(Move(10, "A", "B"),)
            ),
            "no budget",
        ),
        (
            ScenarioSpec("x", "A12", moves=(Move(10, "Radio", "B"),)),
            "'Radio', which is not a channel",
        ),
        (ScenarioSpec("x", "A12", moves=(Move(10, "B", "b"),)), "to itself"),
        (ScenarioSpec("x", "A12", channels={"Radio": Change(amount=5.0)}), "not a channel"),
    ],
)
def test_resolve_refuses_what_cannot_be(spec: ScenarioSpec, says: str) -> None:
    with pytest.raises(InputError, match=says):
        resolve(BASE, spec)


@given(
    st.lists(st.floats(0, 1e7, allow_nan=False), min_size=3, max_size=3),
    st.floats(-100, 300, allow_nan=False),
    st.floats(0, 100, allow_nan=False),
)
def test_resolved_budgets_follow_the_rules(spend: list[float], pct: float, moved: float) -> None:
    base = dict(zip("ABC", spend, strict=True))
    total = sum(spend)
    scaled = resolve(base, ScenarioSpec("s", budget=Change(pct=pct)))
    assert sum(scaled.values()) == pytest.approx(total * (1 + pct / 100), rel=1e-9, abs=1e-6)
    if base["A"] > 0:
        kept = resolve(base, ScenarioSpec("m", moves=(Move(moved, "A", "C"),)))
        assert sum(kept.values()) == pytest.approx(total, rel=1e-9, abs=1e-6)
        assert min(kept.values()) >= 0


# --- outcomes --------------------------------------------------------------------------------


def test_outcomes_known_numbers_and_totals_from_sums() -> None:
    fits = {"A": _linear("A", 100.0), "B": _linear("B", 200.0)}
    economics = Economics({"A": 0.1, "B": 0.05}, {"A": 500.0, "B": 1000.0})
    current = {"A": 1000.0, "B": 4000.0}
    more = {"A": 2000.0, "B": 4000.0}
    now, scenario = outcomes(fits, {"current": current, "more": more}, economics, days=1)
    a, b = now.channels
    assert (a.leads, a.purchases, a.revenue) == pytest.approx((10.0, 1.0, 5000.0))
    assert (a.cpa, a.cac, a.roas, a.romi) == pytest.approx((100.0, 1000.0, 5.0, 4.0))
    assert (b.leads, b.purchases, b.revenue) == pytest.approx((20.0, 1.0, 20000.0))
    total = now.total
    # 5000 spend over 30 leads: 166.67, not the average of 100 and 200
    assert total.cpa == pytest.approx(5000 / 30)
    assert total.cac == pytest.approx(2500.0)
    assert total.romi == pytest.approx((25000 - 5000) / 5000)
    assert math.isnan(total.delta_leads) is False and total.delta_leads == 0
    assert scenario.total.delta_leads == pytest.approx(10.0)
    assert scenario.total.delta_romi == pytest.approx((30000 - 6000) / 6000 - 4.0)
    assert best([now, scenario], "leads") == "more"
    assert best([now, scenario], "romi") == "current"  # 4.0 vs 4.0: a tie goes to the first
    assert best([now, scenario], "romi", min_leads=50) is None


def test_a_value_per_lead_for_the_whole_scenario() -> None:
    fits = {"A": _linear("A", 100.0), "B": _linear("B", 200.0)}
    economics = Economics({}, {"A": 500.0, "B": math.nan})
    (result,) = outcomes(fits, {"s": {"A": 1000.0, "B": 2000.0}}, economics, 1, {"s": 300.0})
    assert result.total.revenue == pytest.approx(20 * 300.0)
    (partial,) = outcomes(fits, {"s": {"A": 1000.0, "B": 2000.0}}, economics, 1)
    assert partial.channels[0].revenue == pytest.approx(5000.0)
    assert math.isnan(partial.channels[1].revenue)
    assert partial.total.revenue == pytest.approx(5000.0)  # what is known, summed
    assert math.isnan(partial.total.purchases)


def _history(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for channel, vmax, k in (("Search", 60.0, 40_000.0), ("Display", 30.0, 25_000.0)):
        for day in pd.date_range("2026-09-01", periods=60):
            spend = float(rng.uniform(10_000, 40_000))
            leads = vmax * spend / (k + spend) * float(rng.lognormal(0, 0.08))
            rows.append((day.date(), channel, spend, leads))
    return pd.DataFrame(rows, columns=["date", "channel", "spend", "conversions"])


def test_outcomes_equal_planning_scenarios_compare_on_the_same_fits() -> None:
    fits = fit_history(_history(), FitOptions(n_bootstrap=60))
    current = {"Search": 25_000.0 * 30, "Display": 20_000.0 * 30}
    splits = {"current": current, "+20% budget": scale_total(current, 20)}
    values = {"Search": 900.0, "Display": 700.0}
    mine = outcomes(fits, splits, Economics({}, values), days=30)
    table = compare(fits, splits, values, days=30)
    for result in mine:
        for o in (*result.channels, result.total):
            row = table.loc[o.channel]
            assert o.spend == pytest.approx(row[("spend", result.name)])
            assert o.leads == pytest.approx(row[("conversions", result.name)])
            assert o.leads_low == pytest.approx(row[("low", result.name)])
            assert o.leads_high == pytest.approx(row[("high", result.name)])
            assert o.cpa == pytest.approx(row[("cpa", result.name)])
            assert o.revenue == pytest.approx(row[("revenue", result.name)])
            assert o.romi == pytest.approx(row[("romi", result.name)])


def test_the_band_widens_and_a_flag_says_so_past_the_fitted_range() -> None:
    fits = fit_history(_history(), FitOptions(n_bootstrap=100))
    observed = fits["Search"].max_observed_spend
    inside = {"Search": observed * 0.6 * 30, "Display": 20_000.0 * 30}
    outside = {"Search": observed * 1.6 * 30, "Display": 20_000.0 * 30}
    a, b = outcomes(fits, {"inside": inside, "outside": outside}, Economics({}, {}), days=30)
    width_in = (a.channels[0].leads_high - a.channels[0].leads_low) / a.channels[0].leads
    width_out = (b.channels[0].leads_high - b.channels[0].leads_low) / b.channels[0].leads
    assert width_out > width_in
    assert not a.channels[0].flags
    assert b.channels[0].flags and "extrapolated: x1.60" in b.channels[0].flags[0]
    assert b.total.flags == (f"Search: {b.channels[0].flags[0]}",)
