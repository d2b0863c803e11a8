"""Least-squares fits of the scaled curve forms, the numerical core of `planning.curves`.

The forms work on scaled numbers (spend divided by its median, conversions by their mean) in
log-parameters, each with its analytic Jacobian and bounds: ``hill`` ``(ln vmax, ln k, slope)``,
``saturating`` ``(ln vmax, ln k)``, ``power`` ``(ln a, b)``, ``negexp`` ``(ln vmax, ln k)``,
optionally with a weekend factor as a last parameter. `point_fit` fits one form from a few
starting points (a batched Levenberg-Marquardt, then `scipy.optimize.least_squares`);
`batched_lm` refits many weighted replicates at once (the bootstrap band); `bootstrap_average`
refits every form of an average on them and weighs each replicate's forms by its own AICcs;
`aicc` scores a fit; `account_curve` turns a scaled fit back into a `Curve` in account units.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy.optimize import least_squares

from planning.curve_average import akaike_weights
from planning.response import Curve, Hill, NegExp, Power, Saturating

__all__ = ["Model", "account_curve", "aicc", "batched_lm", "bootstrap_average", "point_fit"]

Floats = npt.NDArray[np.float64]

_LOG_LO, _LOG_HI = math.log(1e-4), math.log(1e4)
_WEEKEND_BOUNDS = (math.log(0.2), math.log(5.0))
_LM_ITERATIONS = 25


Model = Callable[[Floats, Floats], tuple[Floats, Floats]]
"""``(theta, x) -> (f, J)``: `theta` of shape ``(..., p)``, `x` of shape ``(n,)``; response `f`
of shape ``(..., n)`` and Jacobian `J` of shape ``(..., n, p)``."""


def _hill(theta: Floats, x: Floats) -> tuple[Floats, Floats]:
    """``v / (1 + (k / x)^h)`` with ``theta = (ln v, ln k, h)``."""
    v, lk, h = np.exp(theta[..., 0:1]), theta[..., 1:2], theta[..., 2:3]
    pos = x > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        dlog = lk - np.log(x)  # ln(k / x)
        sig = np.where(pos, 0.5 * (1 + np.tanh(-h * dlog / 2)), 0.0)  # 1 / (1 + (k/x)^h)
        f = v * sig
        g = v * sig * (1 - sig)  # -df / d(h ln(k/x))
        d_h = np.where(pos, -g * dlog, 0.0)
    return f, np.stack([f, -g * h, d_h], axis=-1)


def _saturating(theta: Floats, x: Floats) -> tuple[Floats, Floats]:
    """``v x / (k + x)`` with ``theta = (ln v, ln k)``; ``df / d ln k = -f k / (k + x)``."""
    v, k = np.exp(theta[..., 0:1]), np.exp(theta[..., 1:2])
    f = v * x / (k + x)
    return f, np.stack([f, -f * k / (k + x)], axis=-1)


def _power(theta: Floats, x: Floats) -> tuple[Floats, Floats]:
    """``a x^b`` with ``theta = (ln a, b)``."""
    la, b = theta[..., 0:1], theta[..., 1:2]
    pos = x > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        lx = np.log(x)
        f = np.where(pos, np.exp(la + b * lx), 0.0)
        d_b = np.where(pos, f * lx, 0.0)
    return f, np.stack([f, d_b], axis=-1)


def _negexp(theta: Floats, x: Floats) -> tuple[Floats, Floats]:
    """``v (1 - exp(-x / k))`` with ``theta = (ln v, ln k)``."""
    v, k = np.exp(theta[..., 0:1]), np.exp(theta[..., 1:2])
    f = v * -np.expm1(-x / k)
    return f, np.stack([f, -v * np.exp(-x / k) * x / k], axis=-1)


_MODELS: dict[str, tuple[Model, tuple[float, ...], tuple[float, ...]]] = {
    "hill": (_hill, (_LOG_LO, _LOG_LO, 0.1), (_LOG_HI, _LOG_HI, 1.0)),
    "saturating": (_saturating, (_LOG_LO, _LOG_LO), (_LOG_HI, _LOG_HI)),
    "power": (_power, (_LOG_LO, 0.05), (_LOG_HI, 1.0)),
    "negexp": (_negexp, (_LOG_LO, _LOG_LO), (_LOG_HI, _LOG_HI)),
}


def _model(form: str, we: Floats | None) -> tuple[Model, Floats, Floats]:
    """The scaled model of `form`, with a weekend factor ``exp(theta[-1])`` when `we` is given."""
    base, lo, hi = _MODELS[form]
    if we is None:
        return base, np.array(lo), np.array(hi)

    def model(theta: Floats, x: Floats) -> tuple[Floats, Floats]:
        f, jac = base(theta[..., :-1], x)
        m = np.exp(theta[..., -1:] * we)
        fm = f * m
        return fm, np.concatenate([jac * m[..., None], (fm * we)[..., None]], axis=-1)

    return model, np.array([*lo, _WEEKEND_BOUNDS[0]]), np.array([*hi, _WEEKEND_BOUNDS[1]])


def _starts(form: str) -> list[Floats]:
    """Starting points that put the curve through (median spend, mean conversions) ~ (1, 1)."""
    if form == "power":
        return [np.array([0.0, b]) for b in (0.3, 0.6, 0.95)]
    if form == "negexp":
        return [np.array([math.log(1 / -math.expm1(-1 / k)), math.log(k)]) for k in (0.5, 1.5, 5)]
    if form == "saturating":
        return [np.array([math.log(1 + k), math.log(k)]) for k in (0.5, 2.0, 8.0)]
    return [
        np.array([math.log(1 + k**h), math.log(k), h])
        for k, h in ((0.7, 0.9), (2.0, 0.7), (8.0, 1.0), (1.0, 0.4))
    ]


def point_fit(form: str, x: Floats, y: Floats, we: Floats | None) -> tuple[Floats, float]:
    """``(theta, residual sum of squares)`` of the best fit from a few starting points.

    The starts are first improved all at once by `batched_lm`; the best is then polished by
    bounded least squares (`scipy.optimize.least_squares`, trust-region reflective).
    """
    model, lo, hi = _model(form, we)
    starts = np.array([np.append(s, 0.0) if we is not None else s for s in _starts(form)])
    starts = np.clip(starts, lo + 1e-9, hi - 1e-9)
    thetas, costs = batched_lm(form, starts, x, y, we, np.ones((len(starts), len(x))))
    start = thetas[int(np.argmin(np.where(np.isfinite(costs), costs, np.inf)))]
    res = least_squares(
        lambda t: model(t, x)[0] - y,
        np.clip(start, lo + 1e-12, hi - 1e-12),
        jac=lambda t: model(t, x)[1],
        bounds=(lo, hi),
        x_scale="jac",
    )
    rss = float(np.sum(res.fun**2))
    return np.asarray(res.x, dtype=np.float64), rss if math.isfinite(rss) else math.inf


def aicc(rss: float, n: int, p: int) -> float:
    """AICc of a fit with `p` parameters to `n` points (``inf`` if undefined); smaller is better."""
    if n - p - 1 <= 0 or not math.isfinite(rss):
        return math.inf
    return n * math.log(max(rss, 1e-300) / n) + 2 * p + 2 * p * (p + 1) / (n - p - 1)


def batched_lm(
    form: str, theta: Floats, x: Floats, y: Floats, we: Floats | None, weights: Floats
) -> tuple[Floats, Floats]:
    """Minimise ``sum_i w[b, i] (f(theta_b, x_i) - y_i)^2`` for every row `b` at once.

    A batched Levenberg-Marquardt with steps projected on the bounds; a row stops when its
    projected step is below 1e-9 (at a bound the raw step may keep pointing out of the box,
    which is not progress), the others go on. `theta`: starting points
    of shape ``(B, p)`` or one of shape ``(p,)`` for all; `weights` of shape ``(B, n)``. Returns
    the thetas ``(B, p)`` and their weighted costs ``(B,)``.
    """
    model, lo, hi = _model(form, we)
    n_rep = weights.shape[0]
    thetas = np.array(np.broadcast_to(theta, (n_rep, len(lo))), dtype=np.float64)
    f, jac = model(thetas, x)
    r = f - y
    cost = np.sum(weights * r * r, axis=1)
    # only the rows still moving are iterated (a row whose step is below 1e-9 has converged)
    live = np.arange(n_rep)
    t, w, j, res, c = thetas, weights, jac, r, cost
    damping = np.full(n_rep, 1e-3)
    eye = np.eye(len(lo))
    for _ in range(_LM_ITERATIONS):
        jw_t = np.swapaxes(j * w[..., None], 1, 2)  # (B, p, n)
        a = jw_t @ j
        g = (jw_t @ res[..., None])[..., 0]
        diag = np.diagonal(a, axis1=1, axis2=2)[:, :, None] * eye + 1e-12 * eye
        with np.errstate(invalid="ignore", over="ignore"):
            step = np.linalg.solve(a + damping[:, None, None] * diag, -g[..., None])[..., 0]
        trial = np.clip(t + np.nan_to_num(step), lo, hi)
        moving = np.max(np.abs(trial - t), axis=1) >= 1e-9  # the step projected on the bounds
        if not moving.all():
            thetas[live], cost[live] = t, c
            live, trial, damping = live[moving], trial[moving], damping[moving]
            t, w, j, res, c = t[moving], w[moving], j[moving], res[moving], c[moving]
            if live.size == 0:
                break
        f2, jac2 = model(trial, x)
        r2 = f2 - y
        cost2 = np.sum(w * r2 * r2, axis=1)
        better = cost2 < c
        t = np.where(better[:, None], trial, t)
        j = np.where(better[:, None, None], jac2, j)
        res = np.where(better[:, None], r2, res)
        c = np.where(better, cost2, c)
        damping = np.where(better, damping / 3, np.minimum(damping * 4, 1e12))
    thetas[live], cost[live] = t, c
    return thetas, cost


def bootstrap_average(
    thetas: dict[str, Floats], x: Floats, y: Floats, we: Floats | None, weights: Floats
) -> tuple[dict[str, Floats], Floats]:
    """Every form refitted on every bootstrap replicate (`batched_lm` from its point fit
    ``thetas[form]``), and each replicate's Akaike weights of the forms from its own weighted
    residuals: ``({form: thetas (B, p)}, weights (B, n_forms))`` in the order of `thetas`."""
    n = len(x)
    fitted: dict[str, Floats] = {}
    scores = []
    for form, theta in thetas.items():
        fitted[form], cost = batched_lm(form, theta, x, y, we, weights)
        p = len(theta)
        scores.append([aicc(float(c), n, p) for c in cost])
    table = np.array(scores).T  # (B, n_forms)
    return fitted, np.array([akaike_weights(row) for row in table])


def account_curve(
    form: str, theta: Floats, s_scale: float, c_scale: float, weekend: bool, cap: float
) -> Curve:
    """The curve in account units from scaled `theta`: the average day when `weekend`."""
    amp = c_scale * (5 + 2 * math.exp(theta[-1])) / 7 if weekend else c_scale
    if form == "hill":
        return Hill(amp * math.exp(theta[0]), s_scale * math.exp(theta[1]), theta[2], cap)
    if form == "saturating":
        return Saturating(amp * math.exp(theta[0]), s_scale * math.exp(theta[1]), cap)
    if form == "power":
        b = float(theta[1])
        return Power(amp * math.exp(theta[0]) / s_scale**b, b, cap)
    return NegExp(amp * math.exp(theta[0]), s_scale * math.exp(theta[1]), cap)
