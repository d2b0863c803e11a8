"""A weighted average of fitted curve forms: the model-averaged response curve.

``Averaged(parts, weights)`` responds ``sum(w_i * part_i(s))`` with weights ``w_i >= 0`` adding
up to 1 (Akaike weights, `akaike_weights`, when `planning.curves` fits it). Its parts are concave
curves of the fitted forms (`Hill` with ``slope <= 1``, `Saturating`, `Power`, `NegExp`), at
most one of each, so the average is concave and increasing, and the exact optimizer handles it
like any concave curve: its marginal is the weighted sum of the parts' marginals, and the spend
at a given marginal (which has no closed form) is solved numerically.

`CurveStack` holds curves of one class as arrays of equal-length parameter rows: an average's
row is every fitted form's weight and parameters in `PART_FORMS` order (13 numbers), a form that
is not part of it with weight 0 and placeholder parameters. The parts' own `max_spend` is ignored:
the average's cap applies to the sum.

Spend at a marginal ``m``: the average's marginal ``M(s)`` is a weighted mean of decreasing
marginals, so it lies between them and its root lies between the parts' own roots (closed
form each): ``min_i s_i <= s* <= max_i s_i``. Inside that bracket the root of ``ln M(e^u) -
ln m`` (nearly linear in ``u = ln s``) is found by regula falsi with the Illinois modification,
falling back to bisection, to a relative ``1e-13`` in spend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from planning.curve_kernels import (
    hill_marginal,
    hill_response,
    hill_spend_at,
    negexp_marginal,
    negexp_response,
    negexp_spend_at,
    power_marginal,
    power_response,
    power_spend_at,
    saturating_marginal,
    saturating_response,
    saturating_spend_at,
)
from planning.errors import InputError
from planning.response import Curve, Hill, NegExp, Power, Saturating

__all__ = ["PART_FORMS", "Averaged", "akaike_weights"]

FloatArray = npt.NDArray[np.float64]

PART_FORMS: tuple[str, ...] = ("hill", "saturating", "power", "negexp")
"""The forms an average may hold, in the order of its parameter row."""

_KERNELS: tuple[tuple[Any, Any, Any], ...] = (
    (hill_response, hill_marginal, hill_spend_at),
    (saturating_response, saturating_marginal, saturating_spend_at),
    (power_response, power_marginal, power_spend_at),
    (negexp_response, negexp_marginal, negexp_spend_at),
)
_CLASSES: tuple[type[Curve], ...] = (Hill, Saturating, Power, NegExp)
_PLACEHOLDER: tuple[tuple[float, ...], ...] = ((0.0, 1.0, 1.0), (0.0, 1.0), (0.0, 1.0), (0.0, 1.0))
"""Parameters of an absent form: amplitude 0 (they are never evaluated with weight 0)."""
_ARITY = tuple(len(p) for p in _PLACEHOLDER)
_TINY, _HUGE = 1e-300, 1e300


def akaike_weights(criterion: Sequence[float]) -> FloatArray:
    """``exp(-(c_i - min c) / 2)`` normalised to add up to 1; an infinite criterion weighs 0.

    >>> akaike_weights([10.0, 10.0 + 2 * math.log(3)]).round(6).tolist()
    [0.75, 0.25]
    """
    c = np.asarray(criterion, dtype=np.float64)
    finite = np.isfinite(c)
    if not finite.any():
        raise InputError("no finite criterion to weigh the forms by", has_value=False)
    w = np.where(finite, np.exp(-0.5 * (np.where(finite, c, 0.0) - np.min(c[finite]))), 0.0)
    return np.asarray(w / w.sum(), dtype=np.float64)


def _split(params: Sequence[Any]) -> list[tuple[Any, tuple[Any, ...]]]:
    """A parameter row (or columns) as (weight, the form's parameters) per form."""
    out, i = [], 0
    for arity in _ARITY:
        out.append((params[i], tuple(params[i + 1 : i + 1 + arity])))
        i += 1 + arity
    return out


def _weighted(kernel: int, s: FloatArray, params: Sequence[Any]) -> FloatArray:
    """``sum_i w_i * kernel_i(s, part_i)`` over the forms with weight > 0."""
    total = np.zeros(np.shape(s))
    for (w, part), kernels in zip(_split(params), _KERNELS, strict=True):
        w = np.broadcast_to(np.asarray(w, dtype=np.float64), total.shape)
        if np.any(w > 0):
            with np.errstate(invalid="ignore"):
                total = total + np.where(w > 0, w * kernels[kernel](s, *part), 0.0)
    return total


def average_response(s: FloatArray, *params: Any) -> FloatArray:
    return _weighted(0, s, params)


def average_marginal(s: FloatArray, *params: Any) -> FloatArray:
    return _weighted(1, s, params)


def average_spend_at(m: FloatArray, *params: Any) -> FloatArray:
    """The spend where the average's marginal equals `m` (``m > 0`` finite; see the module)."""
    m = np.asarray(m, dtype=np.float64)
    low, high = np.full(m.shape, np.inf), np.zeros(m.shape)
    for (w, part), kernels in zip(_split(params), _KERNELS, strict=True):
        w = np.broadcast_to(np.asarray(w, dtype=np.float64), m.shape)
        on = w > 0
        if np.any(on):
            s = kernels[2](m[on], *(np.broadcast_to(p, m.shape)[on] for p in part))
            low[on], high[on] = np.minimum(low[on], s), np.maximum(high[on], s)
    ends = np.where(np.isinf(low), 0.0, low), high  # the answers at a bracket's end
    low = np.clip(low, _TINY, _HUGE)
    high = np.clip(high, low, _HUGE)
    log_m = np.log(m)

    def g(u: FloatArray, rows: npt.NDArray[np.intp]) -> FloatArray:
        marginal = average_marginal(np.exp(u), *(np.broadcast_to(p, m.shape)[rows] for p in params))
        with np.errstate(divide="ignore"):
            return np.asarray(np.log(marginal) - log_m[rows], dtype=np.float64)

    every = np.arange(m.size)
    a, b = np.log(low), np.log(high)
    ga, gb = g(a, every), g(b, every)
    out = np.where(ga <= 0, ends[0], ends[1])  # the marginal at `low` is at most m, or ...
    active = np.flatnonzero((ga > 0) & (gb < 0))  # ... a root strictly inside the bracket
    a, b, ga, gb = a[active], b[active], ga[active], gb[active]
    side = np.zeros(active.size)
    for _ in range(200):
        if active.size == 0:
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            u = b - gb * (b - a) / (gb - ga)
        inside = np.isfinite(u) & (u > a) & (u < b)
        u = np.where(inside, u, 0.5 * (a + b))
        gu = g(u, active)
        right = gu < 0  # the root is left of u: u is the new right end
        # Illinois: an end kept twice in a row has its value halved
        ga = np.where(right & (side == 1), 0.5 * ga, ga)
        gb = np.where(~right & (side == -1), 0.5 * gb, gb)
        a, ga = np.where(right, a, u), np.where(right, ga, gu)
        b, gb = np.where(right, u, b), np.where(right, gu, gb)
        side = np.where(right, 1.0, -1.0)
        done = (b - a <= 1e-13 * np.maximum(1.0, np.abs(a))) | (gu == 0)
        out[active[done]] = np.exp(np.where(gu == 0, u, 0.5 * (a + b)))[done]
        keep = ~done
        active, a, b, ga, gb, side = (v[keep] for v in (active, a, b, ga, gb, side))
    out[active] = np.exp(0.5 * (a + b))
    return out


@dataclass(frozen=True, eq=False)
class Averaged(Curve):
    """``sum(weights[i] * parts[i](s))``: concave parts of distinct fitted forms, weights >= 0
    adding up to 1 (see the module); flat beyond `max_spend`."""

    parts: tuple[Curve, ...]
    weights: tuple[float, ...]
    max_spend: float = math.inf
    _kernels: ClassVar[tuple[Any, Any, Any]] = (
        average_response,
        average_marginal,
        average_spend_at,
    )

    def __post_init__(self) -> None:
        parts, weights = tuple(self.parts), tuple(float(w) for w in self.weights)
        forms = [type(p) for p in parts]
        if not parts or len(parts) != len(weights) or len(set(forms)) != len(forms):
            raise InputError(
                "an average needs one weight per part and parts of distinct forms",
                has_value=False,
            )
        for part in parts:
            if type(part) not in _CLASSES or not part.concave:
                raise InputError(
                    f"a part of an average must be a concave {', '.join(PART_FORMS)} curve, "
                    f"got {part!r}",
                    has_value=False,
                )
        if any(not w >= 0 for w in weights) or abs(sum(weights) - 1.0) > 1e-9:
            raise InputError(
                f"the weights of an average must be >= 0 and add up to 1, got {weights}",
                has_value=False,
            )
        object.__setattr__(self, "parts", parts)
        object.__setattr__(self, "weights", weights)
        self._check_cap()

    @property
    def form(self) -> str:
        return "average"

    def _zero(self) -> bool:
        return all(w == 0 or p._zero() for p, w in zip(self.parts, self.weights, strict=True))

    @classmethod
    def _shape(cls, params: list[FloatArray], cap: FloatArray) -> tuple[npt.NDArray[Any], ...]:
        alive = np.zeros(cap.shape, dtype=bool)
        for w, part in _split(params):
            alive |= (w > 0) & (part[0] > 0)
        zero = np.zeros(cap.shape)
        return np.where(alive, cap, 0.0), zero, np.ones(cap.shape, dtype=bool), zero

    @cached_property
    def _values(self) -> tuple[float, ...]:
        row: list[float] = []
        for cls, placeholder in zip(_CLASSES, _PLACEHOLDER, strict=True):
            found = [
                (p, w) for p, w in zip(self.parts, self.weights, strict=True) if type(p) is cls
            ]
            if found:
                part, weight = found[0]
                row += [weight, *part.params().values()]
            else:
                row += [0.0, *placeholder]
        return tuple(row)

    def params(self) -> dict[str, float]:
        """Each part's weight and parameters, named ``<form> weight`` and ``<form> <name>``."""
        out: dict[str, float] = {}
        for part, weight in zip(self.parts, self.weights, strict=True):
            out[f"{part.form} weight"] = weight
            out.update({f"{part.form} {k}": v for k, v in part.params().items()})
        return out
