"""Optimize Split: known splits worked by hand, invariants, optimality against SLSQP and brute
force, the S-shaped case a local method gets wrong, and exact error messages."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from planning.errors import InputError
from planning.optimize import (
    ChannelBounds,
    InfeasibleError,
    SplitResult,
    channel_bounds,
    max_conversions_at_cpa,
    maximize,
    min_budget_for,
)
from planning.response import Curve, Hill, Linear, NegExp, Power

HILLS = {"a": Hill(100, 1000, 1), "b": Hill(50, 500, 1)}


def _check(result: SplitResult, budget: float, lo: Mapping[str, float] | None = None) -> None:
    assert math.fsum(result.allocation) == pytest.approx(budget, rel=1e-12, abs=1e-9)
    assert np.all(result.allocation >= 0)


def _objective(
    curves: Mapping[str, Curve], x: np.ndarray, values: np.ndarray | None = None
) -> float:
    v = np.ones(len(curves)) if values is None else values
    return float(
        sum(vi * float(c.response(xi)) for vi, c, xi in zip(v, curves.values(), x, strict=True))
    )


# --- known numbers ---------------------------------------------------------------------------


def test_two_power_curves_equal_marginals_in_closed_form() -> None:
    # marginals a_i * 0.5 / sqrt(s_i) equal -> sqrt(s_1 / s_2) = a_1 / a_2 = 2 -> s_1 = 4 s_2;
    # s_1 + s_2 = 1000 -> s_1 = 800, s_2 = 200; objective 2 sqrt(800) + sqrt(200) = 50 sqrt(2)
    r = maximize({"a": Power(2, 0.5), "b": Power(1, 0.5)}, 1000)
    assert r.allocation == pytest.approx([800.0, 200.0], rel=1e-12)
    assert r.objective == pytest.approx(50 * math.sqrt(2), rel=1e-12)
    assert r.method == "bisection" and r.success
    # the multiplier is the common marginal: 2 * 0.5 / sqrt(800)
    assert r.multiplier == pytest.approx(1 / math.sqrt(800), rel=1e-9)


def test_values_per_conversion_move_the_split() -> None:
    # value-weighted marginals: 1 * 2 * 0.5 / sqrt(s_1) = 4 * 1 * 0.5 / sqrt(s_2) -> s_2 = 4 s_1
    r = maximize({"a": Power(2, 0.5), "b": Power(1, 0.5)}, 1000, values={"a": 1, "b": 4})
    assert r.allocation == pytest.approx([200.0, 800.0], rel=1e-12)
    # value = expected * value per conversion: 4 * sqrt(800)
    assert r.value[1] == pytest.approx(4 * math.sqrt(800))


def test_two_hill_slope_1_curves() -> None:
    # 100 * 1000 / (1000 + x)^2 = 50 * 500 / (500 + y)^2 -> 1000 + x = 2 (500 + y) -> x = 2 y;
    # x + y = 2000 -> x = 4000 / 3, y = 2000 / 3;
    # objective 100 (4000/3) / (7000/3) + 50 (2000/3) / (3500/3) = 400/7 + 200/7 = 600/7
    r = maximize(HILLS, 2000)
    assert r.allocation == pytest.approx([4000 / 3, 2000 / 3], rel=1e-12)
    assert r.objective == pytest.approx(600 / 7, rel=1e-12)
    # marginal CPA = 1 / marginal = (7000/3)^2 / 100_000 for both
    assert r.marginal_cpa == pytest.approx([(7000 / 3) ** 2 / 1e5] * 2, rel=1e-9)


def test_linear_pair_cheaper_cpa_fills_to_capacity_first() -> None:
    curves = {"cheap": Linear(cpa=10, capacity=30), "dear": Linear(cpa=20, capacity=100)}
    # 1000: cheap takes 10 * 30 = 300 (30 conversions), dear the other 700 (35): 65
    r = maximize(curves, 1000)
    assert r.allocation == pytest.approx([300.0, 700.0], rel=1e-12)
    assert r.objective == pytest.approx(65.0)
    # the marginal CPA of the full channel is inf (flat), the other's is its CPA
    assert list(r.marginal_cpa) == [math.inf, pytest.approx(20.0)]
    # 200: all into cheap
    assert maximize(curves, 200).allocation == pytest.approx([200.0, 0.0], abs=1e-9)


def test_tied_linear_channels_share_and_the_total_is_exact() -> None:
    curves = {"x": Linear(10, 30), "y": Linear(10, 50), "z": Linear(20, 100)}
    r = maximize(curves, 500)
    # x and y tie at CPA 10: any split of 500 between them gives 50 conversions; z gets nothing
    assert r.objective == pytest.approx(50.0)
    assert r.allocation[2] == pytest.approx(0.0, abs=1e-9)
    _check(r, 500)


def test_bounds_locked_and_cpa_cap() -> None:
    # a max of 1000 on a: b takes the rest
    r = maximize(HILLS, 2000, bounds={"a": ChannelBounds(max=1000)})
    assert r.allocation == pytest.approx([1000.0, 1000.0])
    # a locked at its current 300: b takes 1700
    r = maximize(
        HILLS, 2000, bounds={"a": ChannelBounds(locked=True)}, current={"a": 300, "b": 100}
    )
    assert r.allocation == pytest.approx([300.0, 1700.0])
    assert r.allocation[0] == 300.0
    assert r.delta == pytest.approx([0.0, 1600.0])
    # a's CPA (1000 + s) / 100 <= 15 -> s <= 500
    r = maximize(HILLS, 2000, bounds={"a": ChannelBounds(cpa_cap=15)})
    assert r.allocation == pytest.approx([500.0, 1500.0], rel=1e-9)
    assert r.allocation[0] / r.expected[0] <= 15 * (1 + 1e-9)


def test_minimums_hold() -> None:
    r = maximize(HILLS, 2000, bounds={"b": ChannelBounds(min=900)})
    assert r.allocation == pytest.approx([1100.0, 900.0])


def test_rounding_to_a_step_keeps_the_total() -> None:
    # exact split 1333.33 / 666.67; floors 1300 / 600 leave 100: rounding b up gains
    # 50 (700/1200 - 600/1100) = 1.894 > a's 100 (1400/2400 - 1300/2300) = 1.812 -> 1300 / 700
    r = maximize(HILLS, 2000, step=100)
    assert list(r.allocation) == [1300.0, 700.0]
    assert "rounded to multiples of 100" in r.message
    # a budget that is no multiple of the step: one channel takes the remainder 50
    r = maximize(HILLS, 2050, step=100)
    assert math.fsum(r.allocation) == 2050.0
    assert sorted(x % 100 for x in r.allocation) == [0.0, 50.0]
    assert "takes the remainder" in r.message


def test_saturated_curves_spread_the_rest_and_say_so() -> None:
    curves = {"x": Linear(10, 30), "y": Linear(10, 50)}
    r = maximize(curves, 3000)
    # both full at 300 + 500 = 800 spent for 80 conversions; 2,200 more brings nothing
    assert r.objective == pytest.approx(80.0)
    _check(r, 3000)
    assert "the curves saturate: 2,200 of the budget brings no more conversions" in r.message
    assert r.multiplier == 0.0


def test_to_frame() -> None:
    r = maximize(HILLS, 2000, current={"a": 1000, "b": 1000})
    frame = r.to_frame()
    assert list(frame.columns) == [
        "channel",
        "current",
        "proposed",
        "delta",
        "expected",
        "value",
        "marginal_cpa",
        "cpa",
    ]
    assert list(frame["channel"]) == ["a", "b"]
    assert frame["delta"].sum() == pytest.approx(0.0, abs=1e-9)
    assert frame["cpa"].iloc[0] == pytest.approx(r.allocation[0] / r.expected[0])


# --- S-shaped ----------------------------------------------------------------------------------


def test_s_shaped_where_a_local_method_is_wrong_and_dp_right() -> None:
    curves = {"p": Hill(100, 1000, 3), "q": Hill(100, 1000, 3)}
    # the even split 500 / 500 gives 2 * 100 * 0.125 / 1.125 = 22.2 and is a stationary point
    # (equal marginals): SLSQP started there stays there. All of 1000 in one channel gives
    # 100 * 1 / 2 = 50.
    even = np.array([500.0, 500.0])
    local = _slsqp(curves, 1000, np.zeros(2), np.full(2, np.inf), start=even)
    assert _objective(curves, local) == pytest.approx(200 / 9, rel=1e-6)
    r = maximize(curves, 1000)
    assert r.method == "grid-dp"
    assert r.objective == pytest.approx(50.0, rel=1e-9)
    assert sorted(r.allocation) == pytest.approx([0.0, 1000.0], abs=1e-6)
    assert "exact on a grid of 2000 steps of 0.5 above the minimums" in r.message
    assert r.grid_step == 0.5


def test_s_shaped_with_a_concave_channel_is_polished() -> None:
    curves = {"s1": Hill(100, 1000, 3), "s2": Hill(100, 1000, 3), "c": Hill(30, 800, 0.8)}
    r = maximize(curves, 1500)
    # one S-shaped channel on, the other off; the spending channels' marginals equal
    assert r.allocation[0] == 0.0 or r.allocation[1] == 0.0
    on = 1 if r.allocation[0] == 0.0 else 0
    m = 1 / r.marginal_cpa
    assert m[on] == pytest.approx(m[2], rel=1e-9)
    assert "polished" in r.message


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.floats(10, 100), st.floats(200, 2000), st.floats(0.5, 4.0)),
        min_size=2,
        max_size=2,
    ),
    st.floats(100, 5000),
)
def test_s_shaped_pair_matches_brute_force(
    params: list[tuple[float, float, float]], budget: float
) -> None:
    curves = {f"c{i}": Hill(*p) for i, p in enumerate(params)}
    r = maximize(curves, budget, grid_points=500)
    # brute force over a fine grid of the split
    x = np.linspace(0, budget, 20001)
    brute = np.max(curves["c0"].response(x) + curves["c1"].response(budget - x))  # type: ignore[operator]
    assert r.objective >= brute - 1e-9 * brute
    _check(r, budget)


# --- properties: sum, bounds, optimality -----------------------------------------------------

concave_curve = st.one_of(
    st.builds(Hill, st.floats(1, 100), st.floats(100, 5000), st.floats(0.4, 1.0)),
    st.builds(Power, st.floats(0.05, 3), st.floats(0.2, 0.95)),
    st.builds(NegExp, st.floats(1, 100), st.floats(100, 5000)),
    st.builds(Linear, st.floats(5, 100), st.floats(1, 200)),
)


@st.composite
def problems(
    draw: st.DrawFn, curve: st.SearchStrategy[Curve] = concave_curve, most: int = 8
) -> tuple:
    n = draw(st.integers(1, most))
    curves = {f"ch{i}": draw(curve) for i in range(n)}
    budget = draw(st.floats(100, 20_000))
    bounds = {}
    for name in curves:
        if draw(st.booleans()):
            lo = draw(st.floats(0, budget / n))
            hi = lo + draw(st.floats(0, budget))
            bounds[name] = ChannelBounds(min=lo, max=hi)
    lo_sum = sum(b.min for b in bounds.values())
    hi_sum = sum(b.max for b in bounds.values()) + (n - len(bounds)) * math.inf
    assume(lo_sum <= budget <= hi_sum)
    values = {name: draw(st.floats(0.1, 10)) for name in curves}
    return curves, budget, bounds, values


def _random_feasible(
    rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, budget: float
) -> np.ndarray:
    x = lo + (budget - lo.sum()) * rng.dirichlet(np.ones(lo.size))
    for _ in range(50):  # water-fill what the maxima cut off
        over = np.maximum(x - hi, 0.0)
        x = np.minimum(x, hi)
        left = over.sum()
        if left <= 1e-12 * budget:
            break
        room = hi - x
        x = (
            x
            + left * np.where(np.isinf(room), 1.0, room) / np.where(np.isinf(room), 1.0, room).sum()
        )
    return x


def _bounds_arrays(curves: Mapping[str, Curve], bounds: Mapping[str, ChannelBounds]) -> tuple:
    lo = np.array([bounds[k].min if k in bounds else 0.0 for k in curves])
    hi = np.array([bounds[k].max if k in bounds else math.inf for k in curves])
    return lo, hi


@settings(max_examples=150, deadline=None)
@given(problems(), st.integers(0, 2**32 - 1))
def test_split_sums_to_budget_respects_bounds_and_beats_random_splits(
    problem: tuple, seed: int
) -> None:
    curves, budget, bounds, values = problem
    r = maximize(curves, budget, bounds=bounds, values=values)
    lo, hi = _bounds_arrays(curves, bounds)
    _check(r, budget)
    assert np.all(r.allocation >= lo - 1e-9 * budget) and np.all(r.allocation <= hi + 1e-9 * budget)
    v = np.array(list(values.values()))
    rng = np.random.default_rng(seed)
    for _ in range(20):
        x = _random_feasible(rng, lo, hi, budget)
        assert r.objective >= _objective(curves, x, v) - 1e-9 * abs(r.objective)


def _slsqp(
    curves: Mapping[str, Curve],
    budget: float,
    lo: np.ndarray,
    hi: np.ndarray,
    values: np.ndarray | None = None,
    start: np.ndarray | None = None,
) -> np.ndarray:
    cs = list(curves.values())
    v = np.ones(len(cs)) if values is None else values
    x0 = start if start is not None else _random_feasible(np.random.default_rng(0), lo, hi, budget)

    def f(x: np.ndarray) -> float:
        return -sum(
            vi * float(c.response(max(xi, 0.0))) for vi, c, xi in zip(v, cs, x, strict=True)
        )

    def jac(x: np.ndarray) -> np.ndarray:
        return -np.array(
            [vi * float(c.marginal(max(xi, 1e-6))) for vi, c, xi in zip(v, cs, x, strict=True)]
        )

    res = minimize(
        f,
        x0,
        jac=jac,
        method="SLSQP",
        bounds=[(a, None if math.isinf(b) else b) for a, b in zip(lo, hi, strict=True)],
        constraints=[
            {"type": "eq", "fun": lambda x: x.sum() - budget, "jac": lambda x: np.ones_like(x)}
        ],
        options={"maxiter": 500, "ftol": 1e-12},
    )
    return np.asarray(res.x)


def _at_least_slsqp(
    r: SplitResult,
    curves: Mapping[str, Curve],
    x: np.ndarray,
    v: np.ndarray,
    budget: float,
    lo: np.ndarray,
    hi: np.ndarray,
) -> None:
    """Our objective >= SLSQP's, when SLSQP's point is feasible; SLSQP may overspend by its
    tolerance, which is worth at most (overspend * its largest marginal value)."""
    over = abs(x.sum() - budget)
    if over > 1e-6 * budget or np.any(x < lo - 1e-6) or np.any(x > hi + 1e-6):
        return
    worth = over * max(
        float(vi * c.marginal(max(xi, 1e-9)))
        for vi, c, xi in zip(v, curves.values(), x, strict=True)
    )
    assert r.objective >= _objective(curves, x, v) - 1e-9 * abs(r.objective) - worth


smooth_curve = st.one_of(
    st.builds(Hill, st.floats(1, 100), st.floats(100, 5000), st.floats(0.6, 1.0)),
    st.builds(NegExp, st.floats(1, 100), st.floats(100, 5000)),
)


@settings(max_examples=60, deadline=None)
@given(problems(smooth_curve, most=5))
def test_objective_never_below_slsqp(problem: tuple) -> None:
    curves, budget, bounds, values = problem
    lo, hi = _bounds_arrays(curves, bounds)
    v = np.array(list(values.values()))
    r = maximize(curves, budget, bounds=bounds, values=values)
    _at_least_slsqp(r, curves, _slsqp(curves, budget, lo, hi, v), v, budget, lo, hi)


s_curve = st.builds(Hill, st.floats(5, 100), st.floats(100, 3000), st.floats(0.5, 3.5))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(s_curve, most=5))
def test_s_shaped_split_sums_to_budget_and_respects_bounds(problem: tuple) -> None:
    curves, budget, bounds, values = problem
    r = maximize(curves, budget, bounds=bounds, values=values, grid_points=400)
    lo, hi = _bounds_arrays(curves, bounds)
    _check(r, budget)
    assert np.all(r.allocation >= lo - 1e-9 * budget) and np.all(r.allocation <= hi + 1e-9 * budget)
    v = np.array(list(values.values()))
    _at_least_slsqp(r, curves, _slsqp(curves, budget, lo, hi, v), v, budget, lo, hi)


@settings(max_examples=60, deadline=None)
@given(problems(), st.floats(50, 5000))
def test_step_rounding_keeps_total_and_bounds(problem: tuple, step: float) -> None:
    curves, budget, bounds, values = problem
    r = maximize(curves, budget, bounds=bounds, values=values, step=step)
    lo, hi = _bounds_arrays(curves, bounds)
    _check(r, budget)
    assert np.all(r.allocation >= lo - 1e-9 * budget) and np.all(r.allocation <= hi + 1e-9 * budget)


# --- target questions ------------------------------------------------------------------------


def test_max_conversions_at_cpa_known_numbers() -> None:
    # b is a half-scale copy of a (f_b(s) = f_a(2 s) / 2): at equal marginals x = 2 y and both
    # channels have CPA (1000 + x) / 100; blended CPA 25 -> x = 1500, y = 750; 60 + 30 = 90
    r = max_conversions_at_cpa(HILLS, 25)
    assert r.allocation == pytest.approx([1500.0, 750.0], rel=1e-9)
    assert r.objective == pytest.approx(90.0, rel=1e-9)
    assert r.budget == pytest.approx(2250.0)
    # within a budget of 1000 the CPA target does not bind: the split of 1000 (2/3, 1/3)
    r = max_conversions_at_cpa(HILLS, 25, max_budget=1000)
    assert r.allocation == pytest.approx([2000 / 3, 1000 / 3], rel=1e-9)


def test_min_budget_for_known_numbers() -> None:
    # at budget 1000 the split is 2000/3, 1000/3: 100 (2000/3)/(5000/3) + 50 (1000/3)/(2500/3)
    # = 40 + 20 = 60 conversions
    r = min_budget_for(HILLS, 60)
    assert r.budget == pytest.approx(1000.0, rel=1e-9)
    assert r.objective == pytest.approx(60.0, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(problems(smooth_curve, most=5), st.floats(0.1, 0.9))
def test_targets_are_tight(problem: tuple, share: float) -> None:
    curves, _, bounds, _ = problem
    bounds = {k: ChannelBounds(max=b.max) for k, b in bounds.items()}  # no minimums
    most = sum(
        float(c.response(bounds[k].max if k in bounds else math.inf)) for k, c in curves.items()
    )
    target = share * most
    r = min_budget_for(curves, target, bounds=bounds)
    assert r.objective >= target * (1 - 1e-9)
    # a slightly smaller budget falls short
    assert maximize(curves, r.budget * 0.999, bounds=bounds).objective < target
    cpa = r.budget / r.objective
    r2 = max_conversions_at_cpa(curves, cpa, bounds=bounds)
    assert r2.budget / r2.objective <= cpa * (1 + 1e-9)
    assert r2.objective >= r.objective * (1 - 1e-9)


def test_s_shaped_targets() -> None:
    curves = {"s1": Hill(100, 1000, 3), "s2": Hill(100, 1000, 3), "c": Hill(30, 800, 0.8)}
    r = min_budget_for(curves, 100)
    assert r.objective >= 100 * (1 - 1e-9)
    assert r.method == "grid-dp"
    # neither S-shaped channel reaches CPA 15 alone (best: 1260 / 66.7 = 18.9): only c spends
    r = max_conversions_at_cpa(curves, 15, max_budget=5000)
    assert r.allocation[:2] == pytest.approx([0.0, 0.0])
    assert r.budget / r.objective <= 15 * (1 + 1e-9)


# --- errors ----------------------------------------------------------------------------------


def _message(func: object, *args: object, **kwargs: object) -> str:
    with pytest.raises((InputError, InfeasibleError)) as err:
        func(*args, **kwargs)  # type: ignore[operator]
    return str(err.value)


def test_infeasible_messages() -> None:
    assert (
        _message(
            maximize,
            HILLS,
            2000,
            bounds={"a": ChannelBounds(min=1500), "b": ChannelBounds(min=600)},
        )
        == "minimum spends add up to 2,100, above the budget 2,000 by 100"
    )
    locked = {"a": ChannelBounds(locked=True), "b": ChannelBounds(min=600)}
    assert _message(maximize, HILLS, 2000, bounds=locked, current={"a": 1500, "b": 0}) == (
        "minimum spends add up to 2,100, above the budget 2,000 by 100"
    )
    assert (
        _message(
            maximize, HILLS, 2000, bounds={"a": ChannelBounds(max=500), "b": ChannelBounds(max=600)}
        )
        == "maximum spends add up to 1,100, below the budget 2,000 by 900"
    )
    # b's CPA (500 + s) / 50 <= 15 -> s <= 250: 500 + 250 = 750
    assert (
        _message(
            maximize,
            HILLS,
            2000,
            bounds={"a": ChannelBounds(max=500), "b": ChannelBounds(cpa_cap=15)},
        )
        == "maximum spends (with the CPA caps) add up to 750, below the budget 2,000 by 1,250"
    )
    assert _message(maximize, HILLS, 2000, bounds={"a": ChannelBounds(min=1000, cpa_cap=15)}) == (
        "channel 'a': its CPA cap 15 allows a spend of at most 500, below its minimum spend 1,000 "
        "by 500"
    )
    assert _message(maximize, HILLS, 2000, bounds={"a": ChannelBounds(min=10, cpa_cap=5)}) == (
        "channel 'a': no spend meets its CPA cap 5, and its minimum spend is 10"
    )
    # best CPA: 1 / marginal at 0 = k / vmax = 10 for both channels
    assert _message(max_conversions_at_cpa, HILLS, 5) == (
        "target CPA 5 is below the best achievable blended CPA 10 by 5"
    )
    assert _message(min_budget_for, HILLS, 200) == (
        "target of 200 conversions is above the most reachable, 150, by 50"
    )


def test_input_messages() -> None:
    assert _message(maximize, HILLS, 0) == "`budget` must be a finite number > 0, got 0"
    assert _message(maximize, HILLS, -5) == "`budget` must be a finite number > 0, got -5"
    assert (
        _message(maximize, {}, 5)
        == "`curves` must be a non-empty mapping of channel name to `Curve`"
    )
    assert _message(maximize, HILLS, 100, bounds={"c": ChannelBounds()}) == (
        "line 'c': has bounds but no response curve"
    )
    assert _message(maximize, HILLS, 100, current={"a": -1, "b": 0}) == (
        "line 'a', column `current`: must be a finite number >= 0, got -1"
    )
    assert _message(maximize, HILLS, 100, current={"a": 1}) == (
        "line 'b', column `current`: has no current spend"
    )
    assert _message(maximize, HILLS, 100, values={"a": 1, "b": 1, "z": 2}) == (
        "line 'z': has a value per conversion but no response curve"
    )
    assert _message(maximize, HILLS, 100, bounds={"a": ChannelBounds(locked=True)}) == (
        "line 'a': is locked but has no current spend"
    )
    assert (
        _message(maximize, {"a": "hill"}, 100)
        == "line 'a', column `curve`: must be a `Curve`, got 'hill'"
    )
    assert _message(maximize, HILLS, 100, step=0) == "`step` must be a finite number > 0, got 0"
    assert (
        _message(maximize, HILLS, 100, grid_points=5) == "`grid_points` must be at least 10, got 5"
    )


def test_bounds_messages() -> None:
    assert _message(ChannelBounds, min=5, max=3) == "`min` 5 is above `max` 3"
    assert _message(channel_bounds, "Meta", 500, 300) == "line 'Meta': `min` 500 is above `max` 300"
    assert _message(ChannelBounds, min=-1) == "`min` must be a finite number >= 0, got -1"
    assert _message(ChannelBounds, cpa_cap=0) == "`cpa_cap` must be a number > 0, got 0"
    assert _message(ChannelBounds, locked="yes") == "`locked` must be True or False, got 'yes'"
