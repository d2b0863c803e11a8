"""The optimizer's inverse marginals: closed forms made once per solve give the kernels' spends bit
for bit, the solve sets np.errstate once, and maximize's split is the one the plain allocator
(`CurveStack.spend_at_marginal` clipped to the bounds, per multiplier) gives."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planning import allocation
from planning.allocation import Problem, allocator, first_multiplier, solve_multiplier
from planning.curve_average import Averaged
from planning.curve_kernels import (
    closed_form_spend_at,
    hill_spend_at,
    negexp_spend_at,
    power_spend_at,
    saturating_spend_at,
)
from planning.optimize import ChannelBounds, _prepare, maximize
from planning.response import Curve, CurveStack, Hill, Linear, NegExp, Power, Saturating

FloatArray = np.ndarray


def plain_allocator(p: Problem, lo: FloatArray, hi: FloatArray) -> Callable[[float], FloatArray]:
    """The obvious allocator (the one before the closed forms): the stack's inverse per call."""
    last: list[FloatArray] = []

    def alloc(lam: float) -> FloatArray:
        if math.isinf(lam):
            return lo.copy()
        with np.errstate(divide="ignore"):
            m = lam / p.v
        spend = p.stack.spend_at_marginal(m, last[0] if last else None)
        last[:] = [spend]
        return np.asarray(np.clip(spend, lo, hi), dtype=np.float64)

    return alloc


def test_known_numbers() -> None:
    m = np.array([0.025])
    # Michaelis-Menten vmax 100, k 1000: sqrt(100 * 1000 / 0.025) - 1000 = sqrt(4e6) - 1000
    # = 2000 - 1000 = 1000 (check: 100 * 1000 / 2000^2 = 1e5 / 4e6 = 0.025)
    one = [np.array([100.0]), np.array([1000.0]), np.array([1.0])]
    fast = closed_form_spend_at(hill_spend_at, one)
    assert fast is not None and fast(m)[0] == 1000.0
    sat = closed_form_spend_at(saturating_spend_at, one[:2])
    assert sat is not None and sat(m)[0] == 1000.0
    # negexp vmax 100, k 1000 at m 0.05: 1000 * ln(100 / (1000 * 0.05)) = 1000 ln 2 = 693.147...
    neg = closed_form_spend_at(negexp_spend_at, one[:2])
    assert neg is not None and neg(np.array([0.05]))[0] == pytest.approx(693.1471805599453)
    # power a 2, b 0.5 at m 0.1: (0.1 / (2 * 0.5)) ** (1 / (0.5 - 1)) = 0.1 ** -2 = 100
    pw = closed_form_spend_at(power_spend_at, [np.array([2.0]), np.array([0.5])])
    assert pw is not None and pw(np.array([0.1]))[0] == pytest.approx(100.0)
    # no closed form: a Hill slope other than 1, a power step (b == 1)
    assert closed_form_spend_at(hill_spend_at, [*one[:2], np.array([1.0, 2.0])]) is None
    assert closed_form_spend_at(power_spend_at, [np.array([2.0]), np.array([1.0])]) is None


positive = st.floats(1e-3, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(
    vmax=st.lists(positive, min_size=1, max_size=8),
    k=positive,
    m=st.floats(1e-12, 1e6, allow_nan=False, allow_infinity=False),
    b=st.floats(0.05, 0.95),
)
def test_closed_forms_are_the_kernels_bit_for_bit(
    vmax: list[float], k: float, m: float, b: float
) -> None:
    v = np.array(vmax)
    kk = np.full(v.size, k)
    ms = np.full(v.size, m) * np.linspace(0.5, 2.0, v.size)
    with np.errstate(divide="ignore", over="ignore"):
        for kernel, params in (
            (hill_spend_at, [v, kk, np.ones(v.size)]),
            (saturating_spend_at, [v, kk]),
            (negexp_spend_at, [v, kk]),
            (power_spend_at, [v, np.full(v.size, b)]),
        ):
            fast = closed_form_spend_at(kernel, params)
            assert fast is not None
            np.testing.assert_array_equal(fast(ms), kernel(ms, *params))


def _curve(draw: st.DrawFn) -> Curve:
    vmax, k = draw(positive), draw(positive)
    form = draw(st.sampled_from(["mm", "hill", "saturating", "negexp", "power", "step", "linear"]))
    if form == "mm":
        return Hill(vmax, k, 1.0)
    if form == "hill":
        return Hill(vmax, k, draw(st.floats(0.3, 1.0)))
    if form == "saturating":
        return Saturating(vmax, k)
    if form == "negexp":
        return NegExp(vmax, k)
    if form == "power":
        return Power(vmax / 100, draw(st.floats(0.1, 0.9)))
    if form == "step":
        return Power(vmax / k, 1.0)
    return Linear(k / vmax, vmax)


@st.composite
def problems(draw: st.DrawFn) -> tuple[dict[str, Curve], float, dict[str, float] | None]:
    n = draw(st.integers(1, 9))
    curves = {f"ch{i}": _curve(draw) for i in range(n)}
    if draw(st.booleans()):  # an averaged curve (the fitted curve by default)
        w = draw(st.floats(0.0, 1.0))
        curves["avg"] = Averaged((Saturating(50.0, 800.0), NegExp(40.0, 600.0)), (w, 1.0 - w))
    values = None
    if draw(st.booleans()):
        values = {name: draw(st.sampled_from([0.0, 0.5, 1.0, 3.0, 1e3])) for name in curves}
    return curves, draw(st.floats(1.0, 1e5)), values


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(problem=problems(), lams=st.lists(st.floats(-700, 700), min_size=1, max_size=8))
def test_allocator_equals_the_plain_allocator(
    problem: tuple[dict[str, Curve], float, dict[str, float] | None], lams: list[float]
) -> None:
    curves, budget, values = problem
    p = _prepare(curves, None, values)
    hi = np.minimum(p.hi, budget)
    fast, plain = allocator(p, p.lo, hi), plain_allocator(p, p.lo, hi)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        for ell in [*lams, math.inf]:
            lam = math.exp(ell) if math.isfinite(ell) else math.inf
            np.testing.assert_array_equal(fast(lam), plain(lam))


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(problem=problems())
def test_maximize_gives_the_plain_allocators_split(
    problem: tuple[dict[str, Curve], float, dict[str, float] | None],
) -> None:
    curves, budget, values = problem
    p = _prepare(curves, None, values)
    lo = p.lo
    hi = np.maximum(lo, np.minimum(p.hi, lo + budget))
    if not np.all(p.concave_on(lo)):
        return  # the grid DP's path; the bisection is what changed
    ours = allocation.concave_max(p, lo, hi, budget)
    found = solve_multiplier(
        plain_allocator(p, lo, hi),
        lambda x: (float(np.sum(x)), budget),
        first_multiplier(p, lo, hi, budget),
    )
    if found is None:
        return  # flat curves: both spread the budget the same way (concave_max's own branch)
    x, lam, it = found
    np.testing.assert_array_equal(ours[0], allocation.exact_total(x, lo, hi, budget))
    assert (ours[1], ours[2]) == (lam, it)


@settings(max_examples=100, deadline=None)
@given(m=st.lists(st.floats(-1.0, 1e6, allow_nan=False), min_size=1, max_size=40))
def test_first_multiplier_is_the_median_marginal(m: list[float]) -> None:
    class Stack:  # a stand-in for the stack: its marginals are `m`
        n = len(m)

        def marginal(self, x: Any) -> FloatArray:
            return np.array(m)

    zero = np.zeros(len(m))
    p = Problem(["c"] * len(m), Stack(), np.ones(len(m)), zero, zero, zero, zero, None, False)  # type: ignore[arg-type]
    kept = np.array(m)[np.array(m) > 0]
    expected = float(np.median(kept)) if kept.size else 1.0
    assert first_multiplier(p, p.lo, p.hi + 1, 10.0) == expected


def _concave_100() -> tuple[dict[str, Curve], float]:
    rng = np.random.default_rng(101)
    vmax, k = rng.uniform(20, 200, 100), rng.uniform(500, 5000, 100)
    curves: dict[str, Curve] = {
        f"ch{i}": Hill(vmax[i], k[i], 1.0) if i % 2 == 0 else NegExp(vmax[i], k[i])
        for i in range(100)
    }
    return curves, float(np.sum(k))


def test_closed_form_stacks_never_call_the_general_inverse(monkeypatch: pytest.MonkeyPatch) -> None:
    curves, budget = _concave_100()
    before = maximize(curves, budget)

    def general(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("CurveStack.spend_at_marginal called for closed-form curves")

    monkeypatch.setattr(CurveStack, "spend_at_marginal", general)
    after = maximize(curves, budget, bounds={"ch0": ChannelBounds(min=10.0)})
    assert after.method == "bisection" and after.allocation[0] >= 10.0
    again = maximize(curves, budget)
    np.testing.assert_array_equal(again.allocation, before.allocation)


def test_the_solve_sets_errstate_once(monkeypatch: pytest.MonkeyPatch) -> None:
    curves, budget = _concave_100()
    p = _prepare(curves, None)
    hi = np.minimum(p.hi, budget)
    alloc = allocator(p, p.lo, hi)
    entered = []
    real = np.errstate

    def counting(**kwargs: Any) -> Any:
        entered.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(np, "errstate", counting)
    found = solve_multiplier(alloc, lambda x: (float(np.sum(x)), budget), 0.01)
    assert found is not None and found[2] >= 5  # several multipliers tried...
    assert len(entered) == 1  # ...under one errstate (before: two per multiplier, and negexp's)
