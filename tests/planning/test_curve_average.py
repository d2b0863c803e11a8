"""The model-averaged curve (`planning.curve_average`) and the fit that builds it: Akaike weights
and the average worked by hand, validation, properties (hypothesis), the exact optimizer on
averages, and `fit_channel` averaging the forms (weights, flag, band, weekend factor)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.curve_average import PART_FORMS, Averaged, akaike_weights
from planning.curves import FitOptions, fit_channel, given_curves
from planning.errors import InputError
from planning.optimize import ChannelBounds, maximize
from planning.response import Curve, CurveStack, Hill, Linear, NegExp, Power, Saturating


def message(text: str) -> str:
    return "^" + re.escape(text) + "$"


# --------------------------------------------------------------------------- known numbers


def test_akaike_weights_by_hand() -> None:
    # AICc 10 and 10 + 2 ln 3: exp(0) : exp(-ln 3) = 1 : 1/3 -> 3/4 and 1/4
    assert akaike_weights([10.0, 10.0 + 2 * math.log(3)]).tolist() == pytest.approx([0.75, 0.25])
    # equal criteria weigh equally; an infinite one (a failed fit) weighs 0
    assert akaike_weights([-5.0, -5.0, math.inf]).tolist() == pytest.approx([0.5, 0.5, 0.0])
    # differences of 0, 2, 4: 1 : e^-1 : e^-2, over 1 + e^-1 + e^-2 = 1.5032147
    w = akaike_weights([3.0, 5.0, 7.0])
    assert w.tolist() == pytest.approx([0.6652410, 0.2447284, 0.0900306], rel=1e-6)
    with pytest.raises(InputError, match=message("no finite criterion to weigh the forms by")):
        akaike_weights([math.inf])


AVERAGE = Averaged((Saturating(100.0, 1000.0), NegExp(60.0, 1000.0)), (0.75, 0.25))


def test_average_by_hand() -> None:
    # at 1,000: saturating 100 * 1000 / 2000 = 50, negexp 60 (1 - e^-1) = 37.927;
    # 0.75 * 50 + 0.25 * 37.927 = 37.5 + 9.4818 = 46.9818
    assert AVERAGE.response(1000.0) == pytest.approx(37.5 + 15 * (1 - math.exp(-1)), rel=1e-15)
    # marginals: saturating 100 * 1000 / 2000^2 = 0.025, negexp 60 / 1000 e^-1 = 0.0220728;
    # 0.75 * 0.025 + 0.25 * 0.0220728 = 0.01875 + 0.0055182 = 0.0242682
    m = 0.01875 + 0.015 * math.exp(-1)
    assert AVERAGE.marginal(1000.0) == pytest.approx(m, rel=1e-15)
    # at 0: 0.75 * vmax / k + 0.25 * vmax / k = 0.75 * 0.1 + 0.25 * 0.06 = 0.09
    assert AVERAGE.marginal(0.0) == pytest.approx(0.09, rel=1e-15)
    # the inverse of the marginal at 1,000 (no closed form: solved numerically)
    assert AVERAGE.spend_at_marginal(m) == pytest.approx(1000.0, rel=1e-12)
    # a marginal at or above the one at 0 is reached at 0; a marginal of 0 at saturation
    assert AVERAGE.spend_at_marginal(0.2) == 0.0
    capped = Averaged(AVERAGE.parts, AVERAGE.weights, max_spend=3000.0)
    assert capped.spend_at_marginal(0.0) == 3000.0
    # beyond the cap: flat at 0.75 * 100 * 3000 / 4000 + 0.25 * 60 (1 - e^-3) = 56.25 + 14.2532
    assert capped.response(9000.0) == pytest.approx(56.25 + 15 * (1 - math.exp(-3)))
    assert capped.marginal(9000.0) == 0.0


def test_average_with_a_constant_cpa_part_by_hand() -> None:
    # power with b = 1 (a constant CPA of 100, the fit's bound) and a saturating curve, half each:
    # marginal 0.5 * 0.01 + 0.5 * 100 * 1000 / (1000 + s)^2; at 1,000: 0.005 + 0.0125 = 0.0175
    a = Averaged((Power(0.01, 1.0), Saturating(100.0, 1000.0)), (0.5, 0.5), max_spend=50_000.0)
    assert a.marginal(1000.0) == pytest.approx(0.0175, rel=1e-15)
    assert a.spend_at_marginal(0.0175) == pytest.approx(1000.0, rel=1e-12)
    # the marginal never falls below 0.005: a lower one is reached only at the cap
    assert a.spend_at_marginal(0.004) == 50_000.0
    # 0.0051 = 0.005 + 50,000 / (1000 + s)^2 -> (1000 + s)^2 = 5e8 -> s = 22,360.68 - 1,000
    assert a.spend_at_marginal(0.0051) == pytest.approx(math.sqrt(5e8) - 1000.0, rel=1e-10)


def test_average_of_one_part_is_that_part() -> None:
    part = Hill(70.0, 60_000.0, 0.9)
    one = Averaged((part,), (1.0,))
    s = np.array([0.0, 1_000.0, 60_000.0, 1e6])
    assert np.allclose(one.response(s), part.response(s), rtol=1e-15)
    assert np.allclose(one.marginal(s[1:]), part.marginal(s[1:]), rtol=1e-15)
    m = np.asarray(part.marginal(s[1:]))
    assert np.allclose(one.spend_at_marginal(m), s[1:], rtol=1e-10)


def test_form_params_and_stack_row() -> None:
    assert AVERAGE.form == "average" and AVERAGE.concave and AVERAGE.inflection == 0.0
    assert AVERAGE.params() == {
        "saturating weight": 0.75,
        "saturating vmax": 100.0,
        "saturating k": 1000.0,
        "negexp weight": 0.25,
        "negexp vmax": 60.0,
        "negexp k": 1000.0,
    }
    # the stack's row: (weight, parameters) per form of PART_FORMS; absent forms weigh 0
    assert PART_FORMS == ("hill", "saturating", "power", "negexp")
    assert AVERAGE._values == (0, 0, 1, 1, 0.75, 100, 1000, 0, 0, 1, 0.25, 60, 1000)
    assert AVERAGE.saturation == math.inf
    empty = Averaged((Saturating(0.0, 10.0), Power(0.0, 0.5)), (0.5, 0.5), max_spend=50.0)
    assert empty.saturation == 0.0 and CurveStack([empty]).saturation.tolist() == [0.0]


@pytest.mark.parametrize(
    ("parts", "weights", "text"),
    [
        ((Saturating(1, 1),), (0.5,), "the weights of an average must be >= 0 and add up to 1"),
        ((Saturating(1, 1), NegExp(1, 1)), (1.5, -0.5), "the weights of an average must be"),
        ((Saturating(1, 1), Saturating(2, 1)), (0.5, 0.5), "parts of distinct forms"),
        ((Saturating(1, 1),), (0.5, 0.5), "one weight per part"),
        ((Hill(1, 1, 2.0),), (1.0,), "a part of an average must be a concave hill, saturating"),
        ((Linear(1, 1),), (1.0,), "a part of an average must be a concave"),
    ],
)
def test_invalid_averages(parts: tuple[Curve, ...], weights: tuple[float, ...], text: str) -> None:
    with pytest.raises(InputError, match=re.escape(text)):
        Averaged(parts, weights)


# --------------------------------------------------------------------------- properties

positive = st.floats(min_value=0.5, max_value=1e4)
spends = st.floats(min_value=1.0, max_value=1e5)
PARTS = {
    "hill": st.builds(Hill, positive, positive, st.floats(min_value=0.3, max_value=1.0)),
    "saturating": st.builds(Saturating, positive, positive),
    "power": st.builds(Power, positive, st.floats(min_value=0.1, max_value=0.95)),
    "negexp": st.builds(NegExp, positive, positive),
}


@st.composite
def averages(draw: st.DrawFn) -> Averaged:
    forms = draw(st.lists(st.sampled_from(PART_FORMS), min_size=1, max_size=4, unique=True))
    parts = tuple(draw(PARTS[f]) for f in forms)
    raw = np.array([draw(st.floats(0.01, 1.0)) for _ in forms])
    return Averaged(parts, tuple((raw / raw.sum()).tolist()))


@settings(max_examples=200, deadline=None)
@given(averages(), st.lists(spends, min_size=2, max_size=12))
def test_average_is_the_weighted_sum_increasing_and_concave(a: Averaged, xs: list[float]) -> None:
    s = np.sort(np.array(xs))
    r = np.asarray(a.response(s))
    parts = sum(w * np.asarray(p.response(s)) for p, w in zip(a.parts, a.weights, strict=True))
    assert np.allclose(r, parts, rtol=1e-12)
    assert np.all(np.diff(r) >= -1e-12 * np.abs(r[1:]))
    m = np.asarray(a.marginal(s))
    assert np.all(np.diff(m) <= 1e-12 * np.abs(m[:-1]))
    # a weighted mean: between the parts' marginals
    each = np.array([np.asarray(p.marginal(s)) for p in a.parts])
    assert np.all(m >= each.min(axis=0) * (1 - 1e-12)) and np.all(
        m <= each.max(axis=0) * (1 + 1e-12)
    )


@settings(max_examples=200, deadline=None)
@given(averages(), spends)
def test_average_marginal_is_the_derivative(a: Averaged, s: float) -> None:
    h = 1e-5 * s
    numeric = (float(a.response(s + h)) - float(a.response(s - h))) / (2 * h)
    noise = 1e-14 * float(a.response(s)) / h
    assert float(a.marginal(s)) == pytest.approx(numeric, rel=1e-5, abs=noise)


@settings(max_examples=200, deadline=None)
@given(averages(), spends)
def test_average_spend_at_marginal_inverts_the_marginal(a: Averaged, s: float) -> None:
    m = float(a.marginal(s))
    if m < 1e-250:
        return
    assert float(a.spend_at_marginal(m)) == pytest.approx(s, rel=1e-9)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(averages(), PARTS["saturating"]), min_size=1, max_size=6), st.data())
def test_stack_of_averages_matches_each_curve(curves: list[Curve], data: st.DataObject) -> None:
    stack = CurveStack(curves)
    s = np.array([data.draw(spends) for _ in curves])
    assert np.allclose(stack.response(s), [c.response(x) for c, x in zip(curves, s, strict=True)])
    assert np.allclose(stack.marginal(s), [c.marginal(x) for c, x in zip(curves, s, strict=True)])
    m = stack.marginal(s)
    back = stack.spend_at_marginal(m)
    assert np.allclose(back[m > 1e-250], s[m > 1e-250], rtol=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.lists(averages(), min_size=2, max_size=5), st.floats(0.1, 3.0))
def test_exact_optimizer_on_averages_equalises_marginals(curves: list[Averaged], f: float) -> None:
    names = [f"c{i}" for i in range(len(curves))]
    budget = f * 1000.0 * len(curves)
    bounds = {n: ChannelBounds(max=3000.0) for n in names}
    got = maximize(dict(zip(names, curves, strict=True)), budget, bounds=bounds)
    assert got.method == "bisection"
    assert float(got.allocation.sum()) == pytest.approx(budget, rel=1e-9)
    marginal = np.array([float(c.marginal(x)) for c, x in zip(curves, got.allocation, strict=True)])
    inside = (got.allocation > 1e-6 * budget) & (got.allocation < 3000.0 * (1 - 1e-9))
    if inside.sum() >= 2:  # interior channels share one marginal (the multiplier)
        assert marginal[inside] == pytest.approx(np.full(inside.sum(), marginal[inside][0]), 1e-6)
    # no channel at its upper bound has a smaller marginal than an interior one (KKT)
    top = got.allocation >= 3000.0 * (1 - 1e-9)
    if inside.any() and top.any():
        assert marginal[top].min() >= marginal[inside].max() * (1 - 1e-6)


# --------------------------------------------------------------------------- the fit


SPEND = np.linspace(6_000.0, 60_000.0, 40)


def test_noise_free_michaelis_menten_is_fitted_by_the_saturating_form() -> None:
    truth = Saturating(12.0, 15_000.0)
    fit = fit_channel(SPEND, truth.response(SPEND), "Telegram", FitOptions(n_bootstrap=10))
    # the 2-parameter form fits exactly; hill (slope 1) too, at the price of a third parameter
    assert min(fit.criterion, key=fit.criterion.__getitem__) == "saturating"
    grid = np.linspace(1_000.0, 100_000.0, 50)
    assert np.allclose(fit.curve.response(grid), truth.response(grid), rtol=1e-3)


def test_noisy_fit_averages_the_forms_with_their_akaike_weights() -> None:
    rng = np.random.default_rng(3)
    spend = 30_000.0 * np.exp(rng.normal(0.0, 0.3, 90))
    conversions = rng.poisson(Saturating(40.0, 40_000.0).response(spend)).astype(float)
    fit = fit_channel(spend, conversions, "Search", FitOptions(n_bootstrap=30))
    curve = fit.curve
    assert isinstance(curve, Averaged) and fit.confidence == "high"
    forms = [p.form for p in curve.parts]
    weights = akaike_weights([fit.criterion[f] for f in forms])
    assert list(curve.weights) == pytest.approx(weights.tolist())
    assert sum(curve.weights) == pytest.approx(1.0)
    # the flag says the weights, largest first, in whole percent
    shares = sorted(zip(curve.weights, forms, strict=True), reverse=True)
    assert fit.flags[0] == "curve: " + ", ".join(f"{w:.0%} {f}" for w, f in shares if w >= 0.005)
    assert fit.flags[1].startswith("extrapolation capped at")
    # every part and every band curve is capped where the average is
    assert all(isinstance(c, Averaged) for c in fit.band_curves) and len(fit.band_curves) == 30
    assert {c.max_spend for c in fit.band_curves} == {curve.max_spend}
    low, high = fit.band(30_000.0)
    assert low < float(curve.response(30_000.0)) < high
    picked = fit_channel(spend, conversions, "Search", FitOptions(n_bootstrap=0, average=False))
    assert picked.curve.form == min(forms, key=fit.criterion.__getitem__)


def test_the_weekend_factor_of_an_average_is_the_weighted_mean_of_the_forms() -> None:
    rng = np.random.default_rng(4)
    spend = 30_000.0 * np.exp(rng.normal(0.0, 0.3, 70))
    weekend = np.arange(70) % 7 >= 5
    mean = np.asarray(Saturating(40.0, 40_000.0).response(spend)) * np.where(weekend, 0.6, 1.0)
    conversions = rng.poisson(mean).astype(float)
    fit = fit_channel(spend, conversions, "Search", FitOptions(n_bootstrap=0), weekend=weekend)
    assert isinstance(fit.curve, Averaged)
    factors = []
    for form in (p.form for p in fit.curve.parts):
        one = fit_channel(
            spend, conversions, "Search", FitOptions(forms=(form,), n_bootstrap=0), weekend=weekend
        )
        factors.append(one.criterion["weekend_factor"])
    expected = float(np.dot(fit.curve.weights, factors))
    assert fit.criterion["weekend_factor"] == pytest.approx(expected, rel=1e-6)
    assert 0.4 < fit.criterion["weekend_factor"] < 0.8  # the truth's 0.6


def test_a_saturating_curve_can_be_given() -> None:
    import pandas as pd

    table = pd.DataFrame({"channel": ["Telegram"], "form": ["saturating"], "vmax": [12.0],
                          "k": [15_000.0], "slope": [None]})  # fmt: skip
    fit = given_curves(table)["Telegram"]
    assert fit.curve == Saturating(12.0, 15_000.0)
    # 12 * 15,000 / 30,000 = 6
    assert fit.curve.response(15_000.0) == pytest.approx(6.0)
    assert fit.flags == ("given saturating curve: no uncertainty band",)
