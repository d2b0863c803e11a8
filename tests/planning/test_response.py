"""Response curves: known numbers worked by hand, derivatives, caps, inverses, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.errors import InputError
from planning.response import (
    FORMS,
    Curve,
    CurveStack,
    Hill,
    Linear,
    NegExp,
    Power,
    Saturating,
    curve_from_params,
)

# --- known numbers ---------------------------------------------------------------------------


def test_hill_slope_1_at_k_is_half_of_vmax() -> None:
    h = Hill(vmax=100, k=1000, slope=1)
    # 100 * 1000 / (1000 + 1000) = 50
    assert h.response(1000) == pytest.approx(50.0, rel=1e-15)
    # d/ds 100 s / (1000 + s) = 100 * 1000 / (1000 + s)^2 = 100_000 / 4_000_000 = 0.025
    assert h.marginal(1000) == pytest.approx(0.025, rel=1e-14)
    # at 0: vmax / k = 0.1
    assert h.marginal(0) == pytest.approx(0.1, rel=1e-15)
    assert h.response(0) == 0.0


def test_hill_s_shaped_numbers() -> None:
    h = Hill(vmax=100, k=1000, slope=2)
    # 100 * 1000^2 / (1000^2 + 1000^2) = 50
    assert h.response(1000) == pytest.approx(50.0)
    # vmax n k^n s^(n-1) / (k^n + s^n)^2 = 100 * 2 * 1e6 * 1000 / (2e6)^2 = 2e11 / 4e12 = 0.05
    assert h.marginal(1000) == pytest.approx(0.05)
    assert h.marginal(0) == 0.0
    assert not h.concave
    # the marginal peaks at the inflection x^n = (n-1)/(n+1) = 1/3: s = 1000 / sqrt(3)
    assert h.inflection == pytest.approx(1000 / math.sqrt(3))


def test_saturating_numbers_by_hand() -> None:
    c = Saturating(vmax=100, k=1000)
    # 100 * 1000 / (1000 + 1000) = 50; at 3000: 100 * 3000 / 4000 = 75
    assert c.response(1000) == pytest.approx(50.0, rel=1e-15)
    assert c.response(3000) == pytest.approx(75.0, rel=1e-15)
    # d/ds 100 s / (1000 + s) = 100 * 1000 / (1000 + s)^2: 1e5 / 4e6 = 0.025 at 1000,
    # 1e5 / 1.6e7 = 0.00625 at 3000, vmax / k = 0.1 at 0
    assert c.marginal(1000) == pytest.approx(0.025, rel=1e-15)
    assert c.marginal(3000) == pytest.approx(0.00625, rel=1e-15)
    assert c.marginal(0) == pytest.approx(0.1, rel=1e-15)
    # inverse: s = sqrt(vmax k / m) - k = sqrt(1e5 / 0.00625) - 1000 = sqrt(1.6e7) - 1000 = 3000
    assert c.spend_at_marginal(0.00625) == pytest.approx(3000.0, rel=1e-14)
    # a marginal at or above vmax / k = 0.1 is reached only at 0
    assert c.spend_at_marginal(0.2) == 0.0
    assert c.response(0) == 0.0 and c.response(math.inf) == 100.0
    assert c.concave and c.inflection == 0.0 and c.saturation == math.inf
    assert Saturating(0, 1000).saturation == 0.0  # brings nothing
    # capped at 2000: flat at 100 * 2000 / 3000 = 66.67 beyond it, marginal 0
    capped = Saturating(100, 1000, max_spend=2000)
    assert capped.response(5000) == pytest.approx(200 / 3) and capped.marginal(5000) == 0.0


def test_power_negexp_linear_numbers() -> None:
    p = Power(a=3, b=0.5)
    # 3 * sqrt(100) = 30; marginal 3 * 0.5 / sqrt(100) = 0.15
    assert p.response(100) == pytest.approx(30.0)
    assert p.marginal(100) == pytest.approx(0.15)
    assert p.marginal(0) == math.inf
    n = NegExp(vmax=50, k=200)
    # at s = 200 ln 2: 50 * (1 - 1/2) = 25; marginal 50 / 200 * 1/2 = 0.125
    assert n.response(200 * math.log(2)) == pytest.approx(25.0)
    assert n.marginal(200 * math.log(2)) == pytest.approx(0.125)
    lin = Linear(cpa=10, capacity=5)
    # min(30 / 10, 5) = 3; min(100 / 10, 5) = 5; the capacity is reached at 10 * 5 = 50
    assert lin.response(30) == 3.0
    assert lin.response(100) == 5.0
    assert lin.saturation == 50.0
    assert list(lin.marginal(np.array([0.0, 49.9, 50.0, 60.0]))) == [0.1, 0.1, 0.0, 0.0]


def test_scalar_in_float_out_and_arrays_keep_their_shape() -> None:
    h = Hill(100, 1000, 0.7)
    assert type(h.response(10)) is float
    assert type(h.marginal(np.float64(10))) is float
    grid = np.array([[0.0, 10.0], [100.0, 1000.0]])
    out = h.response(grid)
    assert isinstance(out, np.ndarray) and out.shape == (2, 2)
    assert out[1, 1] == pytest.approx(h.response(1000.0))
    assert h.response([1.0, 2.0]).shape == (2,)  # type: ignore[union-attr]


def test_nan_spend_gives_nan() -> None:
    assert math.isnan(Hill(100, 1000, 1).response(float("nan")))


# --- the extrapolation cap -------------------------------------------------------------------


def test_max_spend_caps_response_and_zeroes_marginal() -> None:
    h = Hill(100, 1000, 1, max_spend=1000)
    # beyond 1000 the response stays at response(1000) = 50 and the marginal is 0
    assert h.response(3000) == pytest.approx(50.0)
    assert h.marginal(3000) == 0.0
    assert h.marginal(1000) == 0.0
    # below the cap nothing changes: 100 * 500 / 1500
    assert h.response(500) == pytest.approx(100 * 500 / 1500)
    assert h.marginal(500) == pytest.approx(100 * 1000 / 1500**2)
    assert h.saturation == 1000.0
    assert Hill(100, 1000, 1).saturation == math.inf


def test_linear_saturation_uses_the_smaller_of_capacity_and_cap() -> None:
    assert Linear(10, 5, max_spend=30).saturation == 30.0
    assert Linear(10, 5, max_spend=30).response(100) == 3.0
    assert Linear(math.inf, 5).saturation == 0.0  # brings nothing
    assert Linear(10, 0).response(100) == 0.0


# --- forms, flags, params --------------------------------------------------------------------


def test_concave_flags_and_forms() -> None:
    assert Hill(1, 1, 0.5).concave and Hill(1, 1, 1).concave and not Hill(1, 1, 1.5).concave
    curves: list[Curve] = [Hill(1, 1, 1), Saturating(1, 1), Power(1, 0.5), NegExp(1, 1)]
    curves.append(Linear(1, 1))
    assert [c.form for c in curves] == list(FORMS)
    assert all(c.concave for c in curves[1:])


@pytest.mark.parametrize(
    "curve",
    [Hill(100, 1000, 0.8), Saturating(100, 1000), Power(2, 0.4), NegExp(30, 500), Linear(12, 40)],
)
def test_curve_from_params_round_trips(curve: Curve) -> None:
    again = curve_from_params(curve.form, curve.params(), max_spend=5000)
    assert again.params() == curve.params()
    assert again.max_spend == 5000
    assert again.response(700) == pytest.approx(curve.response(700))


def test_curve_from_params_accepts_case_and_space_in_form() -> None:
    assert curve_from_params(" Hill ", {"vmax": 100, "k": 1000, "slope": 1}).response(1000) == 50


def test_params_are_floats() -> None:
    assert Linear(10, 5).params() == {"cpa": 10.0, "capacity": 5.0}
    assert type(Linear(10, 5).cpa) is float


# --- validation messages ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Hill(100, 0, 1), "`k` of a hill curve must be > 0, got 0"),
        (lambda: Hill(-1, 10, 1), "`vmax` of a hill curve must be >= 0, got -1"),
        (lambda: Hill(1, 10, float("nan")), "`slope` of a hill curve must be finite, got nan"),
        (lambda: Power(1, 1.5), "`b` of a power curve must be <= 1 (concave), got 1.5"),
        (lambda: Power(1, 0), "`b` of a power curve must be > 0, got 0"),
        (lambda: Power("1", 0.5), "`a` of a power curve must be a number, got '1'"),
        (lambda: NegExp(1, True), "`k` of a negexp curve must be a number, got True"),
        (lambda: Saturating(1, 0), "`k` of a saturating curve must be > 0, got 0"),
        (lambda: Saturating(-2, 1), "`vmax` of a saturating curve must be >= 0, got -2"),
        (lambda: Linear(0, 5), "`cpa` of a linear curve must be > 0, got 0"),
        (lambda: Hill(1, 1, 1, max_spend=0), "`max_spend` of a hill curve must be > 0, got 0"),
    ],
)
def test_bad_parameters_are_named(make: object, message: str) -> None:
    with pytest.raises(InputError) as err:
        make()  # type: ignore[operator]
    assert str(err.value) == message


def test_curve_from_params_messages() -> None:
    with pytest.raises(InputError) as err:
        curve_from_params("logistic", {})
    assert str(err.value) == (
        "`form` must be one of hill, saturating, power, negexp, linear, got 'logistic'"
    )
    with pytest.raises(InputError) as err:
        curve_from_params("hill", {"vmax": 1, "k": 2, "n": 1})
    assert (
        str(err.value)
        == "parameters of a hill curve are vmax, k, slope: missing `slope`; unknown `n`"
    )


def test_negative_spend_is_an_error() -> None:
    with pytest.raises(InputError) as err:
        Hill(1, 1, 1).response(np.array([1.0, -2.0]))
    assert str(err.value) == "`spend` must be >= 0, got -2.0"
    with pytest.raises(InputError) as err:
        Power(1, 0.5).marginal("abc")
    assert "`spend` must be a number or an array of numbers" in str(err.value)


# --- properties ------------------------------------------------------------------------------

positive = st.floats(min_value=0.5, max_value=1e4)
spends = st.floats(min_value=1.0, max_value=1e5)


def _curves() -> st.SearchStrategy[Curve]:
    return st.one_of(
        st.builds(Hill, positive, positive, st.floats(min_value=0.3, max_value=4.0)),
        st.builds(Power, positive, st.floats(min_value=0.1, max_value=1.0)),
        st.builds(NegExp, positive, positive),
        st.builds(Saturating, positive, positive),
    )


@settings(max_examples=100, deadline=None)
@given(positive, positive, st.lists(spends, min_size=1, max_size=10))
def test_saturating_is_hill_with_slope_1(vmax: float, k: float, xs: list[float]) -> None:
    s = np.array(xs)
    a, b = Saturating(vmax, k), Hill(vmax, k, 1.0)
    assert np.allclose(a.response(s), b.response(s), rtol=1e-13)
    assert np.allclose(a.marginal(s), b.marginal(s), rtol=1e-13)
    m = np.asarray(b.marginal(s))
    assert np.allclose(a.spend_at_marginal(m), b.spend_at_marginal(m), rtol=1e-9)


@settings(max_examples=300, deadline=None)
@given(_curves(), spends)
def test_marginal_is_the_derivative(curve: Curve, s: float) -> None:
    h = 1e-5 * s
    numeric = (float(curve.response(s + h)) - float(curve.response(s - h))) / (2 * h)
    # the difference quotient loses ~1e-16 * response / h to rounding where the curve is flat
    noise = 1e-14 * float(curve.response(s)) / h
    assert float(curve.marginal(s)) == pytest.approx(numeric, rel=1e-5, abs=noise)


@settings(max_examples=300, deadline=None)
@given(_curves(), spends)
def test_spend_at_marginal_inverts_the_marginal_on_the_concave_branch(
    curve: Curve, s: float
) -> None:
    if s < curve.inflection * 1.01:
        return
    m = float(curve.marginal(s))
    if m < 1e-250 or (isinstance(curve, Power) and curve.b > 1 - 1e-6):
        return  # b near 1: the marginal is flat to rounding, any spend inverts it
    assert float(curve.spend_at_marginal(m)) == pytest.approx(s, rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(_curves(), st.lists(spends, min_size=2, max_size=20))
def test_response_increases_and_concave_marginals_decrease(curve: Curve, xs: list[float]) -> None:
    s = np.sort(np.array(xs))
    r = np.asarray(curve.response(s))
    assert np.all(np.diff(r) >= -1e-12 * np.abs(r[1:]))
    if curve.concave:
        m = np.asarray(curve.marginal(s))
        assert np.all(np.diff(m) <= 1e-12 * np.abs(m[:-1]))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.one_of(_curves(), st.builds(Linear, positive, positive, positive)),
        min_size=1,
        max_size=8,
    ),
    st.data(),
)
def test_stack_matches_each_curve(curves: list[Curve], data: st.DataObject) -> None:
    stack = CurveStack(curves)
    s = np.array([data.draw(spends) for _ in curves])
    assert np.allclose(stack.response(s), [c.response(x) for c, x in zip(curves, s, strict=True)])
    assert np.allclose(stack.marginal(s), [c.marginal(x) for c, x in zip(curves, s, strict=True)])
    assert list(stack.saturation) == [c.saturation for c in curves]
    assert list(stack.inflection) == pytest.approx([c.inflection for c in curves], rel=1e-14)
    assert list(stack.concave) == [c.concave for c in curves]
    channel = np.arange(len(curves))[::-1].copy()
    assert np.allclose(
        stack.response_of(channel, s), [curves[i].response(s[j]) for j, i in enumerate(channel)]
    )


# --- inverses and CPA ranges -----------------------------------------------------------------


def test_inverse_marginal_known_numbers() -> None:
    # Hill slope 1: vmax k / (k + s)^2 = m  ->  s = sqrt(vmax k / m) - k = sqrt(4e6) - 1000 = 1000
    assert Hill(100, 1000, 1).spend_at_marginal(0.025) == pytest.approx(1000.0)
    # NegExp: vmax / k exp(-s / k) = m -> s = k ln(vmax / (k m)) = 200 ln 2 at m = 0.125
    assert NegExp(50, 200).spend_at_marginal(0.125) == pytest.approx(200 * math.log(2))
    # Linear: a step at 1 / cpa; below it the whole capacity, above it nothing
    assert list(Linear(10, 5).spend_at_marginal(np.array([0.05, 0.2]))) == [50.0, 0.0]
    # S-shaped: a marginal above the peak returns the inflection
    h = Hill(100, 1000, 3)
    assert h.spend_at_marginal(1.0) == pytest.approx(h.inflection)
    # marginal 0 -> saturation
    assert Hill(100, 1000, 1, max_spend=700).spend_at_marginal(0.0) == 700.0


def test_cpa_range_known_numbers() -> None:
    stack = CurveStack([Hill(100, 1000, 1), Hill(100, 1000, 3), Linear(10, 5), Power(1, 0.5)])
    low, high = stack.cpa_range(np.array([20.0, 20.0, 12.0, np.nan]))
    # Hill slope 1: CPA(s) = s / (100 s / (1000 + s)) = (1000 + s) / 100 <= 20  ->  s <= 1000
    assert low[0] == 0.0 and high[0] == pytest.approx(1000.0)
    # Hill slope 3: CPA(s) = (1e9 + s^3) / (100 s^2) = 20 at s = 1000 (1e9 + 1e9 = 2e9 = 20 * 1e8)
    # and at s = 1000 * golden ratio (x^3 - 2 x^2 + 1 = 0 -> x = (1 + sqrt 5) / 2)
    assert low[1] == pytest.approx(1000.0) and high[1] == pytest.approx(500 * (1 + math.sqrt(5)))
    # Linear(10, 5): CPA 10 up to 50, then s / 5 <= 12 -> s <= 60
    assert high[2] == pytest.approx(60.0)
    assert (low[3], high[3]) == (0.0, math.inf)


def test_cpa_range_when_no_spend_meets_the_cap() -> None:
    low, high = CurveStack([Hill(100, 1000, 1)]).cpa_range(np.array([5.0]))  # best CPA 10
    assert low[0] == math.inf and high[0] == 0.0


def test_spend_for_response() -> None:
    stack = CurveStack([Hill(100, 1000, 1), Power(2, 0.5), Hill(10, 10, 1)])
    out = stack.spend_for_response(np.array([50.0, 20.0, 20.0]))
    # 100 s / (1000 + s) = 50 -> 1000; 2 sqrt(s) = 20 -> 100; vmax 10 < 20 -> never
    assert out[0] == pytest.approx(1000.0) and out[1] == pytest.approx(100.0)
    assert out[2] == math.inf


def test_stack_rejects_non_curves() -> None:
    with pytest.raises(InputError) as err:
        CurveStack([Hill(1, 1, 1), "hill"])  # type: ignore[list-item]
    assert str(err.value) == "curve 2 must be a `Curve`, got 'hill'"
