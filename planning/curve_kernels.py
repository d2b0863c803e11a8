"""The curve forms' formulas, vectorised: response, marginal and the spend at a given marginal.

One function per form and quantity (``hill_response``, ``hill_marginal``, ``hill_spend_at``,
and the same for saturating, power, negexp and linear), each taking a spend (or marginal) array
and the form's parameters as numbers or arrays and broadcasting over both (numpy). No
extrapolation cap is applied here: `planning.response` applies `max_spend` and `saturation`
around them, for one curve (`Curve`) or many channels at once (`CurveStack`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import expit

FloatArray = npt.NDArray[np.float64]

_INF = math.inf


def _like(p: Any, m: FloatArray) -> FloatArray:
    """Parameter `p` as a float array of the shape of `m`."""
    if isinstance(p, np.ndarray) and p.shape == m.shape and p.dtype == np.float64:
        return p
    return np.broadcast_to(np.asarray(p, dtype=np.float64), m.shape)


def hill_response(s: FloatArray, vmax: Any, k: Any, slope: Any) -> FloatArray:
    with np.errstate(divide="ignore", over="ignore"):
        q = (s / k) ** (-slope)  # x = 0 -> q = inf -> 0; x = inf -> q = 0 -> vmax
        return np.asarray(vmax / (1.0 + q), dtype=np.float64)


def hill_marginal(s: FloatArray, vmax: Any, k: Any, slope: Any) -> FloatArray:
    # x^(n-1) / (1 + x^n)^2, rewritten as x^(-n-1) / (1 + x^-n)^2 for x >= 1 (no overflow)
    x = s / k
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        small = x ** (slope - 1.0) / (1.0 + x**slope) ** 2
        large = x ** (-slope - 1.0) / (1.0 + x ** (-slope)) ** 2
        shape = np.where(x < 1.0, small, large)
    return np.asarray(vmax * slope / k * shape, dtype=np.float64)


def hill_spend_at(
    m: FloatArray, vmax: Any, k: Any, slope: Any, hint: FloatArray | None = None
) -> FloatArray:
    """Spend on the decreasing-marginal branch where the Hill marginal equals `m` (m > 0 finite).

    In ``v = ln(s / k)`` the log-marginal ``g(v) = C + (n - 1) v - 2 ln(1 + e^(n v))`` with
    ``C = ln(vmax n / k)`` is concave; Newton from a point right of the root stays right of it and
    converges monotonically. ``g(v) <= C - (n + 1) v`` and, for ``n < 1``, ``g(v) <= C + (n - 1) v``
    give such a point ``v_right``; Newton starts there, or at `hint` (a spend near the answer, e.g.
    the previous one) when that is right of the root too. For ``n > 1`` the branch starts at the
    inflection ``x^n = (n-1)/(n+1)`` (where the marginal peaks); a target at or above the peak
    returns the inflection. ``n == 1`` is solved in closed form: ``s = sqrt(vmax k / m) - k``.
    """
    vmax, k, n = (_like(p, m) for p in (vmax, k, slope))
    one = n == 1.0
    if one.all():  # Michaelis-Menten
        return np.asarray(np.maximum(np.sqrt(vmax * k / m) - k, 0.0), dtype=np.float64)
    rest = ~one & (vmax > 0)
    out = np.zeros(m.shape)
    if np.any(one):
        out[one] = np.maximum(np.sqrt(vmax[one] * k[one] / m[one]) - k[one], 0.0)
    if not np.any(rest):
        return out
    every = bool(rest.all())
    pick = (lambda a: a) if every else (lambda a: a[rest])
    vm, kk, nn, t = pick(vmax), pick(k), pick(n), np.log(pick(m))
    c = np.log(vm * nn / kk)
    with np.errstate(divide="ignore", invalid="ignore"):
        v_right = np.minimum((c - t) / (nn + 1.0), np.where(nn < 1.0, (c - t) / (1.0 - nn), np.inf))
        v_peak = np.where(nn > 1.0, np.log((nn - 1.0) / (nn + 1.0)) / nn, -np.inf)
        g_peak = c + (nn - 1.0) * v_peak - 2.0 * np.logaddexp(0.0, nn * v_peak)
        v = v_right.copy()
        if hint is not None:  # a hint right of the root (g <= t) is a closer start
            v_h = np.log(pick(hint) / kk)
            g_h = c + (nn - 1.0) * v_h - 2.0 * np.logaddexp(0.0, nn * v_h)
            use = np.isfinite(v_h) & (v_h > v_peak) & (g_h <= t)
            v[use] = np.minimum(v_h[use], v_right[use])
    at_peak = (nn > 1.0) & (g_peak <= t)  # the target is above the peak marginal
    v = np.maximum(v, v_peak)
    active = np.flatnonzero(~at_peak)
    for _ in range(100):
        if active.size == 0:
            break
        va, na = v[active], nn[active]
        g = c[active] + (na - 1.0) * va - 2.0 * np.logaddexp(0.0, na * va)
        dg = (na - 1.0) - 2.0 * na * expit(na * va)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = (g - t[active]) / dg
        step[~np.isfinite(step)] = 0.0
        v[active] = np.clip(va - step, v_peak[active], v_right[active])
        active = active[np.abs(step) > 1e-14 * np.maximum(1.0, np.abs(va))]
    v[at_peak] = v_peak[at_peak]
    if every:
        return np.asarray(kk * np.exp(v), dtype=np.float64)
    out[rest] = kk * np.exp(v)
    return out


def saturating_response(s: FloatArray, vmax: Any, k: Any) -> FloatArray:
    """``vmax s / (k + s)``, written ``vmax / (1 + k / s)``: 0 at ``s = 0``, `vmax` at ``inf``."""
    with np.errstate(divide="ignore"):
        return np.asarray(vmax / (1.0 + k / s), dtype=np.float64)


def saturating_marginal(s: FloatArray, vmax: Any, k: Any) -> FloatArray:
    """``vmax k / (k + s)^2``: ``vmax / k`` at 0, falling to 0."""
    return np.asarray(vmax * k / (k + s) / (k + s), dtype=np.float64)  # no overflow at s ~ 1e300


def saturating_spend_at(m: FloatArray, vmax: Any, k: Any) -> FloatArray:
    """``vmax k / (k + s)^2 = m`` -> ``s = sqrt(vmax k / m) - k`` (0 when ``m >= vmax / k``)."""
    return np.asarray(np.maximum(np.sqrt(vmax * k / m) - k, 0.0), dtype=np.float64)


def power_response(s: FloatArray, a: Any, b: Any) -> FloatArray:
    return np.asarray(a * s**b, dtype=np.float64)


def power_marginal(s: FloatArray, a: Any, b: Any) -> FloatArray:
    with np.errstate(divide="ignore"):
        return np.asarray(a * b * s ** (b - 1.0), dtype=np.float64)


def power_spend_at(m: FloatArray, a: Any, b: Any) -> FloatArray:
    a, b = _like(a, m), _like(b, m)
    out = np.where(m < a, _INF, 0.0)  # b == 1: a step (constant marginal a)
    curved = (b < 1.0) & (a > 0)
    with np.errstate(divide="ignore", over="ignore"):
        out[curved] = (m[curved] / (a[curved] * b[curved])) ** (1.0 / (b[curved] - 1.0))
    return out


def negexp_response(s: FloatArray, vmax: Any, k: Any) -> FloatArray:
    return np.asarray(-vmax * np.expm1(-s / k), dtype=np.float64)


def negexp_marginal(s: FloatArray, vmax: Any, k: Any) -> FloatArray:
    return np.asarray(vmax / k * np.exp(-s / k), dtype=np.float64)


def negexp_spend_at(m: FloatArray, vmax: Any, k: Any) -> FloatArray:
    with np.errstate(divide="ignore"):
        return np.asarray(np.maximum(k * np.log(vmax / (k * m)), 0.0), dtype=np.float64)


def linear_response(s: FloatArray, cpa: Any, capacity: Any) -> FloatArray:
    return np.asarray(np.minimum(s / cpa, capacity), dtype=np.float64)


def linear_marginal(s: FloatArray, cpa: Any, capacity: Any) -> FloatArray:
    return np.asarray(np.where(s < cpa * capacity, 1.0 / cpa, 0.0), dtype=np.float64)


def linear_spend_at(m: FloatArray, cpa: Any, capacity: Any) -> FloatArray:
    return np.asarray(np.where(m < 1.0 / cpa, _INF, 0.0), dtype=np.float64)


# --- the optimizer's inverse marginals -----------------------------------------------------------

SpendAt = Callable[[FloatArray], FloatArray]


def closed_form_spend_at(kernel: Any, params: Sequence[FloatArray]) -> SpendAt | None:
    """One form's spend-at-marginal for many evaluations, when it has a closed form; else None.

    Made once per solve (`planning.allocation.allocator`) for a group of channels of one form,
    their parameters as arrays: the optimizer calls it for every multiplier it tries, with
    ``m > 0`` finite (the caller checks). It evaluates the kernel's own expression in the same
    order (so bit for bit the kernel's result), with the constant products taken once and without
    the kernel's per-call checks (broadcasting, masks for other slopes, ``np.errstate``: the
    caller sets that once around the whole solve). Closed forms: saturating, Hill with every slope
    1 (Michaelis-Menten), negative exponential, power with every ``b < 1`` and ``a > 0``. Hill with
    other slopes (Newton), the averaged curve (a bracketed search), linear and the power's
    step (ties the allocator handles) keep the kernel.
    """
    if kernel is saturating_spend_at or (
        kernel is hill_spend_at and bool(np.all(params[2] == 1.0))
    ):
        vmax, k = params[0], params[1]
        vk = vmax * k  # the kernel's ``vmax * k / m`` is ``(vmax * k) / m``

        def mm(m: FloatArray) -> FloatArray:
            return np.maximum(np.sqrt(vk / m) - k, 0.0)

        return mm
    if kernel is negexp_spend_at:
        vmax, k = params[0], params[1]

        def negexp(m: FloatArray) -> FloatArray:
            return np.maximum(k * np.log(vmax / (k * m)), 0.0)

        return negexp
    if kernel is power_spend_at and bool(np.all((params[1] < 1.0) & (params[0] > 0))):
        ab, e = params[0] * params[1], 1.0 / (params[1] - 1.0)

        def power(m: FloatArray) -> FloatArray:
            return np.asarray((m / ab) ** e, dtype=np.float64)

        return power
    return None
