"""planning.scenarios: splits and rules evaluated on curves, worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from planning.curves import ChannelFit
from planning.errors import InputError
from planning.response import Hill, Linear, NegExp
from planning.scenarios import TOTAL, compare, evaluate, move, scale_total


def _fits() -> dict[str, ChannelFit]:
    """A: Hill(vmax 100/day, k 1 000/day, slope 1) with a band from vmax 80 and 120 (the band's
    ends are exactly those two curves: levels 0 and 1). B: constant CPA 25 up to 20 a day."""
    return {
        "A": ChannelFit(
            "A",
            Hill(100.0, 1000.0, 1.0),
            "high",
            (),
            (Hill(80.0, 1000.0, 1.0), Hill(120.0, 1000.0, 1.0)),
            30,
            1500.0,
            {},
            (0.0, 1.0),
        ),
        "B": ChannelFit("B", Linear(25.0, 20.0), "low", ("thin history",), (), 30, 400.0),
    }


def test_evaluate_a_month_worked_by_hand() -> None:
    s = evaluate(_fits(), {"A": 30_000, "B": 9_000}, values={"A": 50, "B": 100}, days=30)
    # A: 30 000 over 30 days = 1 000/day -> 100 x 1 000 / (1 000 + 1 000) = 50/day -> 1 500;
    # band 40/day and 60/day -> 1 200 and 1 800. CPA 30 000 / 1 500 = 20.
    # B: 300/day -> 300 / 25 = 12/day (under the 20/day capacity) -> 360; CPA 25.
    assert s.conversions.tolist() == pytest.approx([1500, 360])
    assert s.low.tolist() == pytest.approx([1200, 360])
    assert s.high.tolist() == pytest.approx([1800, 360])
    assert s.cpa.tolist() == pytest.approx([20, 25])
    # marginal of A: vmax k / (k + s)^2 = 100 x 1 000 / 2 000^2 = 0.025 -> marginal CPA 40
    assert s.marginal_cpa.tolist() == pytest.approx([40, 25])
    # revenue: 1 500 x 50 = 75 000 and 360 x 100 = 36 000; ROMI (75 000 - 30 000) / 30 000 = 1.5
    assert s.revenue.tolist() == pytest.approx([75_000, 36_000])
    assert s.romi.tolist() == pytest.approx([1.5, 3.0])
    # totals: spend 39 000, conversions 1 860 -> CPA 39 000 / 1 860 = 20.97 (a mean of the two
    # CPAs would be 22.5); revenue 111 000 -> ROMI (111 000 - 39 000) / 39 000 = 1.846
    assert s.total_spend == 39_000 and s.total_conversions == pytest.approx(1860)
    assert s.total_cpa == pytest.approx(39_000 / 1860)
    assert s.total_romi == pytest.approx(72_000 / 39_000)
    frame = s.to_frame()
    assert list(frame.index) == ["A", "B", TOTAL]
    total = frame.loc[TOTAL]
    assert total["low"] == pytest.approx(1560) and total["high"] == pytest.approx(2160)
    # the band of a ratio comes from the band of the conversions: CPA 39 000 / 2 160 .. / 1 560
    assert total["cpa_low"] == pytest.approx(39_000 / 2160)
    assert total["cpa_high"] == pytest.approx(39_000 / 1560)
    assert total["revenue_low"] == pytest.approx(1200 * 50 + 360 * 100)
    assert total["romi_high"] == pytest.approx((1800 * 50 + 360 * 100 - 39_000) / 39_000)
    assert math.isnan(total["marginal_cpa"]) and total["confidence"] == "low"


def test_per_day_and_monthly_amounts_agree() -> None:
    daily = evaluate(_fits(), {"A": 1000, "B": 300})
    monthly = evaluate(_fits(), {"A": 30_000, "B": 9_000}, days=30)
    np.testing.assert_allclose(daily.conversions * 30, monthly.conversions)
    np.testing.assert_allclose(daily.marginal_cpa, monthly.marginal_cpa)


def test_zero_spend_and_no_value_give_nan_ratios_not_zero() -> None:
    s = evaluate(_fits(), {"A": 0, "B": 0})
    assert s.conversions.tolist() == [0, 0]
    assert np.isnan(s.cpa).all() and np.isnan(s.romi).all() and np.isnan(s.revenue).all()
    assert math.isnan(s.total_cpa) and math.isnan(s.total_romi)


def test_a_saturated_channel_has_an_infinite_marginal_cpa() -> None:
    # B at 600/day is past its capacity (25 x 20 = 500/day): flat, one more lead costs infinitely
    s = evaluate(_fits(), {"A": 1000, "B": 600})
    assert s.conversions[1] == 20 and math.isinf(s.marginal_cpa[1])


def test_scale_total_plus_20_percent_worked_by_hand() -> None:
    split = {"A": 1000.0, "B": 300.0}
    assert scale_total(split, 20) == pytest.approx({"A": 1200, "B": 360})
    now, more = evaluate(_fits(), split), evaluate(_fits(), scale_total(split, 20))
    # A: 100 x 1 200 / 2 200 = 54.545 (+4.545); B: 360 / 25 = 14.4 (+2.4) -> +6.945 a day
    assert more.total_conversions - now.total_conversions == pytest.approx(
        100 * 1200 / 2200 - 50 + 2.4
    )


def test_move_30_percent_worked_by_hand_and_compare() -> None:
    split = {"A": 1000.0, "B": 300.0}
    moved = move(split, "A", "B", 30)  # "−30 % A, + that to B"
    assert moved == pytest.approx({"A": 700, "B": 600})
    table = compare(_fits(), {"current": split, "proposal": moved}, values={"A": 50, "B": 100})
    assert list(table.index) == ["A", "B", TOTAL]
    # A: 100 x 700 / 1 700 = 41.18; B: 600/day is past capacity: 20
    assert table.loc["A", ("conversions", "proposal")] == pytest.approx(100 * 700 / 1700)
    assert table.loc["B", ("conversions", "proposal")] == pytest.approx(20)
    assert table.loc[TOTAL, ("spend", "Δ proposal")] == pytest.approx(0)
    delta = 100 * 700 / 1700 + 20 - 62
    assert table.loc[TOTAL, ("conversions", "Δ proposal")] == pytest.approx(delta)
    # ROMI of the total recomputed from sums: revenue (41.18 x 50 + 20 x 100) over 1 300 spent
    romi = (100 * 700 / 1700 * 50 + 2000 - 1300) / 1300
    assert table.loc[TOTAL, ("romi", "proposal")] == pytest.approx(romi)
    assert ("low", "Δ proposal") not in table.columns


@given(
    st.dictionaries(
        st.sampled_from(["A", "B", "C"]),
        st.floats(0, 1e7, allow_nan=False),
        min_size=1,
    )
)
def test_scale_by_zero_percent_is_the_identity(split: dict[str, float]) -> None:
    assert scale_total(split, 0) == split


@given(
    st.floats(0, 1e7, allow_nan=False),
    st.floats(0, 1e7, allow_nan=False),
    st.floats(0, 1e7, allow_nan=False),
    st.floats(0, 100, allow_nan=False),
)
def test_move_keeps_the_total_and_never_goes_negative(
    a: float, b: float, c: float, pct: float
) -> None:
    split = {"A": a, "B": b, "C": c}
    moved = move(split, "A", "C", pct)
    assert sum(moved.values()) == pytest.approx(a + b + c, rel=1e-12, abs=1e-6)
    assert moved["B"] == b and min(moved.values()) >= 0
    assert moved["A"] == pytest.approx(a * (1 - pct / 100), abs=1e-6)


@given(st.floats(0, 1e6, allow_nan=False), st.floats(0, 100, allow_nan=False))
def test_more_budget_never_brings_fewer_conversions(spend: float, pct: float) -> None:
    fits = {"N": ChannelFit("N", NegExp(40.0, 2000.0), "given", (), (), 0, math.nan)}
    now = evaluate(fits, {"N": spend}, days=7)
    more = evaluate(fits, scale_total({"N": spend}, pct), days=7)
    assert more.total_conversions >= now.total_conversions - 1e-9
    assert now.low[0] <= now.conversions[0] <= now.high[0]


def test_bad_inputs_name_the_channel_and_value() -> None:
    fits = _fits()
    with pytest.raises(InputError) as err:
        evaluate(fits, {"A": -5, "B": 1})
    assert str(err.value) == "line 'A', column `spend`: value -5 must not be negative"
    with pytest.raises(InputError) as err:
        evaluate(fits, {"A": "100", "B": 1})
    assert str(err.value) == "line 'A', column `spend`: value '100' is not a number"
    with pytest.raises(InputError) as err:
        evaluate(fits, {"A": 1, "C": 1})
    assert str(err.value) == "channel 'C' has no response curve; curves exist for: 'A', 'B'"
    with pytest.raises(InputError) as err:
        evaluate(fits, {"A": 1}, values={"B": 3})
    assert str(err.value) == "line 'A', column `value per conversion`: has no value per conversion"
    with pytest.raises(InputError) as err:
        evaluate(fits, {"A": 1}, days=0)
    assert str(err.value) == "`days` must be a whole number of days >= 1, got 0"
    with pytest.raises(InputError) as err:
        move({"A": 1, "B": 2}, "A", "Context", 30)
    assert str(err.value) == "`dst` 'Context' is not a channel of the split; channels: 'A', 'B'"
    with pytest.raises(InputError) as err:
        move({"A": 1, "B": 2}, "A", "A", 30)
    assert str(err.value) == "`src` and `dst` must be different channels, got 'A' twice"
    with pytest.raises(InputError) as err:
        move({"A": 1, "B": 2}, "A", "B", 130)
    assert str(err.value) == "`pct` must be a percentage between 0 and 100, got 130"
    with pytest.raises(InputError) as err:
        scale_total({"A": 1}, -101)
    assert str(err.value) == "`pct` must be a percentage >= -100, got -101"
    with pytest.raises(InputError) as err:
        compare(fits, {"current": {"A": 1, "B": 1}, "proposal": {"A": 2}})
    assert str(err.value) == "scenario 'proposal' and 'current' split different channels: 'B'"
