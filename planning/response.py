"""Response curves: daily conversions as a function of daily spend, one channel each.

Units: `spend` is account currency **per day**, the response is conversions **per day** (the
history rows are daily); the marginal is conversions per extra unit of currency.

Forms (``x = spend``):

- `Hill` ``(vmax, k, slope)``: ``vmax * x**slope / (k**slope + x**slope)``; `vmax` conversions per
  day at saturation, `k` the spend giving half of it; concave iff ``slope <= 1``, S-shaped above;
- `Saturating` ``(vmax, k)``: ``vmax * x / (k + x)`` (Michaelis-Menten): `Hill` with slope 1, a
  form of its own so that fitting it costs two parameters, not three (AICc);
- `Power` ``(a, b)``: ``a * x**b`` with ``0 < b <= 1`` (``b == 1``: constant CPA ``1 / a``);
- `NegExp` ``(vmax, k)``: ``vmax * (1 - exp(-x / k))``;
- `Linear` ``(cpa, capacity)``: ``min(x / cpa, capacity)``: constant CPA up to a capacity cap, the
  low-confidence fallback when history is too thin for a curve.

Every curve takes ``max_spend`` (default ``inf``), the extrapolation cap: beyond it the response
stays flat at ``response(max_spend)`` and the marginal is 0. `saturation` is the spend beyond which
the marginal is 0 (``max_spend``, the capacity's spend ``cpa * capacity`` for `Linear`, 0 for a
curve that is 0 everywhere).

`response` and `marginal` take a number (returning a float) or an array (returning an ndarray of
the same shape); negative spend is an `InputError`, NaN gives NaN. `CurveStack` evaluates many
channels' curves at once (ndarray of shape ``(n_channels,)``), which is what the optimiser uses.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from numbers import Real
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from planning.curve_kernels import (
    hill_marginal,
    hill_response,
    hill_spend_at,
    linear_marginal,
    linear_response,
    linear_spend_at,
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

__all__ = [
    "FORMS",
    "Curve",
    "CurveStack",
    "Hill",
    "Linear",
    "NegExp",
    "Power",
    "Saturating",
    "curve_from_params",
    "is_curve",
]

FloatArray = npt.NDArray[np.float64]
ArrayLike = float | int | Sequence[float] | FloatArray

FORMS: tuple[str, ...] = ("hill", "saturating", "power", "negexp", "linear")
"""The curve forms, as `Curve.form` spells them."""

_INF = math.inf


def _param(form: str, name: str, value: Any, *, low: str, allow_inf: bool = False) -> float:
    """`value` as a float, checked against `low` (">0" or ">=0"); an InputError names it."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, Real):
        raise InputError(
            f"`{name}` of a {form} curve must be a number, got {value!r}",
            value=value,
            has_value=False,
        )
    x = float(value)
    shown = repr(value) if type(value) in (int, float) else repr(x)
    if math.isnan(x) or (math.isinf(x) and not allow_inf):
        raise InputError(
            f"`{name}` of a {form} curve must be finite, got {shown}", value=value, has_value=False
        )
    if (low == ">0" and x <= 0) or (low == ">=0" and x < 0):
        bound = "> 0" if low == ">0" else ">= 0"
        raise InputError(
            f"`{name}` of a {form} curve must be {bound}, got {shown}", value=value, has_value=False
        )
    return x


def _set(obj: Curve, name: str, low: str, *, allow_inf: bool = False) -> None:
    """Validate field `name` of a curve and store it as a float."""
    value = _param(obj.form, name, getattr(obj, name), low=low, allow_inf=allow_inf)
    object.__setattr__(obj, name, value)


def _spend(spend: ArrayLike) -> tuple[FloatArray, bool]:
    """Spend as a float array and whether it was a scalar; negative spend is an InputError."""
    scalar = np.ndim(spend) == 0
    try:
        s = np.asarray(spend, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            f"`spend` must be a number or an array of numbers, got {spend!r}",
            value=spend,
            has_value=False,
        ) from None
    if np.any(s < 0):
        bad = float(s.flat[int(np.argmax((s < 0).ravel()))])
        raise InputError(f"`spend` must be >= 0, got {bad!r}", value=bad, has_value=False)
    return s, scalar


def _out(values: FloatArray, scalar: bool) -> float | FloatArray:
    return float(values.reshape(-1)[0]) if scalar else values


# --- the curves --------------------------------------------------------------------------------


class Curve(ABC):
    """Daily conversions as a function of daily spend (currency/day -> conversions/day)."""

    max_spend: float
    _kernels: ClassVar[tuple[Any, Any, Any]]

    @property
    @abstractmethod
    def form(self) -> str:
        """One of `FORMS` (``"average"`` for `planning.curve_average.Averaged`)."""

    @property
    def concave(self) -> bool:
        """True when the marginal never increases with spend."""
        return True

    @abstractmethod
    def params(self) -> dict[str, float]:
        """The form's parameters by name (`max_spend` excluded)."""

    @property
    def saturation(self) -> float:
        """The spend beyond which the marginal is 0 (``inf`` if none)."""
        return 0.0 if self._zero() else self.max_spend

    @property
    def inflection(self) -> float:
        """Where the marginal peaks: 0 for a concave curve."""
        return 0.0

    def _zero(self) -> bool:
        return False

    @classmethod
    def _shape(cls, params: list[FloatArray], cap: FloatArray) -> tuple[npt.NDArray[Any], ...]:
        """Vectorised over a group of curves of this class: (saturation, inflection, concave,
        ratio peak), as the scalar properties give them one curve at a time."""
        zero = np.zeros(cap.shape)
        return np.where(params[0] == 0, 0.0, cap), zero, np.ones(cap.shape, dtype=bool), zero

    @cached_property
    def _values(self) -> tuple[float, ...]:
        return tuple(self.params().values())

    def _check_cap(self) -> None:
        _set(self, "max_spend", ">0", allow_inf=True)

    def response(self, spend: ArrayLike) -> float | FloatArray:
        """Conversions per day at `spend` per day (flat beyond `max_spend`)."""
        s, scalar = _spend(spend)
        return _out(self._kernels[0](np.minimum(s, self.max_spend), *self._values), scalar)

    def marginal(self, spend: ArrayLike) -> float | FloatArray:
        """d conversions / d spend at `spend` (0 at and beyond `saturation`; may be inf at 0)."""
        s, scalar = _spend(spend)
        m = np.where(s >= self.saturation, 0.0, self._kernels[1](s, *self._values))
        return _out(np.asarray(m, dtype=np.float64), scalar)

    def spend_at_marginal(self, marginal: ArrayLike) -> float | FloatArray:
        """The spend where the marginal falls to `marginal`, on the curve's concave branch.

        Between the inflection (0 for a concave curve) and `saturation`; a marginal of 0 or less
        gives `saturation`. Where the marginal is a step (`Linear`, `Power` with ``b == 1``) a
        marginal equal to the step gives 0.
        """
        scalar = np.ndim(marginal) == 0
        m = np.atleast_1d(np.asarray(marginal, dtype=np.float64))
        out = CurveStack([self] * m.size).spend_at_marginal(m.ravel()).reshape(np.shape(marginal))
        return _out(out, scalar)


@dataclass(frozen=True)
class Hill(Curve):
    """``vmax * s**slope / (k**slope + s**slope)``: concave iff ``slope <= 1``, else S-shaped."""

    vmax: float
    k: float
    slope: float
    max_spend: float = _INF
    _kernels: ClassVar[tuple[Any, Any, Any]] = (hill_response, hill_marginal, hill_spend_at)

    def __post_init__(self) -> None:
        _set(self, "vmax", ">=0")
        _set(self, "k", ">0")
        _set(self, "slope", ">0")
        self._check_cap()

    @property
    def form(self) -> str:
        return "hill"

    @property
    def concave(self) -> bool:
        return self.slope <= 1.0

    @property
    def inflection(self) -> float:
        if self.slope <= 1.0:
            return 0.0
        return min(
            self.k * ((self.slope - 1.0) / (self.slope + 1.0)) ** (1.0 / self.slope), self.max_spend
        )

    def _zero(self) -> bool:
        return self.vmax == 0

    @classmethod
    def _shape(cls, params: list[FloatArray], cap: FloatArray) -> tuple[npt.NDArray[Any], ...]:
        vmax, k, n = params
        s_shaped = n > 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            inflection = np.where(s_shaped, k * ((n - 1.0) / (n + 1.0)) ** (1.0 / n), 0.0)
            peak = np.where(s_shaped, k * (n - 1.0) ** (1.0 / n), 0.0)
        return np.where(vmax == 0, 0.0, cap), np.minimum(inflection, cap), ~s_shaped, peak

    def params(self) -> dict[str, float]:
        return {"vmax": float(self.vmax), "k": float(self.k), "slope": float(self.slope)}


@dataclass(frozen=True)
class Saturating(Curve):
    """``vmax * s / (k + s)`` (Michaelis-Menten): `vmax` conversions per day at saturation, `k`
    the spend giving half of it; the same curve as ``Hill(vmax, k, 1)``."""

    vmax: float
    k: float
    max_spend: float = _INF
    _kernels: ClassVar[tuple[Any, Any, Any]] = (
        saturating_response,
        saturating_marginal,
        saturating_spend_at,
    )

    def __post_init__(self) -> None:
        _set(self, "vmax", ">=0")
        _set(self, "k", ">0")
        self._check_cap()

    @property
    def form(self) -> str:
        return "saturating"

    def _zero(self) -> bool:
        return self.vmax == 0

    def params(self) -> dict[str, float]:
        return {"vmax": float(self.vmax), "k": float(self.k)}


@dataclass(frozen=True)
class Power(Curve):
    """``a * s**b`` with ``0 < b <= 1``."""

    a: float
    b: float
    max_spend: float = _INF
    _kernels: ClassVar[tuple[Any, Any, Any]] = (power_response, power_marginal, power_spend_at)

    def __post_init__(self) -> None:
        _set(self, "a", ">=0")
        _set(self, "b", ">0")
        if self.b > 1:
            raise InputError(
                f"`b` of a power curve must be <= 1 (concave), got {self.b!r}",
                value=self.b,
                has_value=False,
            )
        self._check_cap()

    @property
    def form(self) -> str:
        return "power"

    def _zero(self) -> bool:
        return self.a == 0

    def params(self) -> dict[str, float]:
        return {"a": float(self.a), "b": float(self.b)}


@dataclass(frozen=True)
class NegExp(Curve):
    """``vmax * (1 - exp(-s / k))``."""

    vmax: float
    k: float
    max_spend: float = _INF
    _kernels: ClassVar[tuple[Any, Any, Any]] = (
        negexp_response,
        negexp_marginal,
        negexp_spend_at,
    )

    def __post_init__(self) -> None:
        _set(self, "vmax", ">=0")
        _set(self, "k", ">0")
        self._check_cap()

    @property
    def form(self) -> str:
        return "negexp"

    def _zero(self) -> bool:
        return self.vmax == 0

    def params(self) -> dict[str, float]:
        return {"vmax": float(self.vmax), "k": float(self.k)}


@dataclass(frozen=True)
class Linear(Curve):
    """``min(s / cpa, capacity)``: a constant CPA up to `capacity` conversions per day.

    ``cpa`` may be ``inf`` and ``capacity`` 0 (a channel that brings nothing); ``capacity`` may be
    ``inf`` (no cap).
    """

    cpa: float
    capacity: float
    max_spend: float = _INF
    _kernels: ClassVar[tuple[Any, Any, Any]] = (
        linear_response,
        linear_marginal,
        linear_spend_at,
    )

    def __post_init__(self) -> None:
        _set(self, "cpa", ">0", allow_inf=True)
        _set(self, "capacity", ">=0", allow_inf=True)
        self._check_cap()

    @property
    def form(self) -> str:
        return "linear"

    def _zero(self) -> bool:
        return self.capacity == 0 or math.isinf(self.cpa)

    @property
    def saturation(self) -> float:
        if self._zero():
            return 0.0
        return min(self.max_spend, self.cpa * self.capacity)

    @classmethod
    def _shape(cls, params: list[FloatArray], cap: FloatArray) -> tuple[npt.NDArray[Any], ...]:
        cpa, capacity = params
        zero = (capacity == 0) | np.isinf(cpa)
        with np.errstate(invalid="ignore"):
            saturation = np.where(zero, 0.0, np.minimum(cap, cpa * capacity))
        none = np.zeros(cap.shape)
        return saturation, none, np.ones(cap.shape, dtype=bool), none

    def params(self) -> dict[str, float]:
        return {"cpa": float(self.cpa), "capacity": float(self.capacity)}


_CLASSES: dict[str, type[Curve]] = {
    "hill": Hill,
    "saturating": Saturating,
    "power": Power,
    "negexp": NegExp,
    "linear": Linear,
}
_KNOWN = frozenset(_CLASSES.values())
_NAMES: dict[str, tuple[str, ...]] = {
    "hill": ("vmax", "k", "slope"),
    "saturating": ("vmax", "k"),
    "power": ("a", "b"),
    "negexp": ("vmax", "k"),
    "linear": ("cpa", "capacity"),
}


def is_curve(value: Any) -> bool:
    """Whether `value` is a response curve (an exact built-in form is checked first, fast)."""
    return type(value) in _KNOWN or isinstance(value, Curve)


def curve_from_params(form: str, params: Mapping[str, float], max_spend: float = _INF) -> Curve:
    """A curve from its form name and parameters (e.g. from an MMM): exactly the form's names.

    >>> curve_from_params("hill", {"vmax": 100, "k": 1000, "slope": 1}).response(1000)
    50.0
    """
    key = form.strip().lower() if isinstance(form, str) else form
    if key not in _CLASSES:
        raise InputError(
            f"`form` must be one of {', '.join(FORMS)}, got {form!r}", value=form, has_value=False
        )
    names = _NAMES[key]
    missing = [n for n in names if n not in params]
    extra = [str(n) for n in params if n not in names]
    if missing or extra:
        problem = "missing " + ", ".join(f"`{n}`" for n in missing) if missing else ""
        if extra:
            problem += ("; " if problem else "") + "unknown " + ", ".join(f"`{n}`" for n in extra)
        raise InputError(
            f"parameters of a {key} curve are {', '.join(names)}: {problem}",
            value=dict(params),
            has_value=False,
        )
    return _CLASSES[key](*(params[n] for n in names), max_spend=max_spend)  # type: ignore[call-arg]


# --- many channels at once ---------------------------------------------------------------------


class CurveStack:
    """The curves of `n` channels evaluated together: every method maps an ndarray of shape
    ``(n,)`` (one entry per channel, in the order given) to an ndarray of shape ``(n,)``.

    Channels are grouped by form, each group's parameters held as arrays, so one call costs a few
    numpy operations per form whatever `n` is.
    """

    def __init__(self, curves: Sequence[Curve]) -> None:
        self.curves = tuple(curves)
        self.n = len(self.curves)
        groups: dict[type[Curve], list[int]] = {}
        for i, c in enumerate(self.curves):
            if not is_curve(c):
                raise InputError(f"curve {i + 1} must be a `Curve`, got {c!r}", has_value=False)
            groups.setdefault(type(c), []).append(i)
        n = self.n
        self.max_spend = np.empty(n)
        self.saturation = np.empty(n)
        """Per channel, the spend beyond which the marginal is 0."""
        self.inflection = np.empty(n)
        """Per channel, where the marginal peaks (0 for concave curves)."""
        self.concave = np.empty(n, dtype=bool)
        self.ratio_peak = np.empty(n)
        """Where conversions per unit of spend peak (0 for concave curves): the best average CPA."""
        self._groups: list[tuple[npt.NDArray[np.intp], tuple[Any, Any, Any], list[FloatArray]]] = []
        self._group_of = np.zeros(n, dtype=np.intp)
        self._pos = np.zeros(n, dtype=np.intp)
        for g, (cls, members) in enumerate(groups.items()):
            idx = np.array(members, dtype=np.intp)
            table = np.array(
                [(*self.curves[i]._values, self.curves[i].max_spend) for i in members],
                dtype=np.float64,
            )
            params = [np.ascontiguousarray(column) for column in table[:, :-1].T]
            cap = table[:, -1].copy()
            sat, infl, concave, peak = cls._shape(params, cap)
            self.max_spend[idx], self.saturation[idx], self.inflection[idx] = cap, sat, infl
            self.concave[idx], self.ratio_peak[idx] = concave, np.minimum(peak, cap)
            self._groups.append((idx, cls._kernels, params))
            self._group_of[idx] = g
            self._pos[idx] = np.arange(idx.size)

    def response_of(self, channel: npt.NDArray[np.intp], spend: FloatArray) -> FloatArray:
        """The response of channel ``channel[i]`` at ``spend[i]`` (equal shapes, any length)."""
        s = np.minimum(spend, self.max_spend[channel])
        out = np.empty(s.shape)
        group, pos = self._group_of[channel], self._pos[channel]
        for g, (_, kernels, params) in enumerate(self._groups):
            sel = group == g
            if np.any(sel):
                out[sel] = kernels[0](s[sel], *(p[pos[sel]] for p in params))
        return out

    def response(self, spend: FloatArray) -> FloatArray:
        """Conversions per day of each channel at its `spend` (shape ``(n,)``)."""
        s = np.minimum(spend, self.max_spend)
        out = np.empty(self.n)
        for idx, kernels, params in self._groups:
            out[idx] = kernels[0](s[idx], *params)
        return out

    def marginal(self, spend: FloatArray) -> FloatArray:
        """d conversions / d spend of each channel at its `spend` (0 at/after saturation)."""
        out = np.empty(self.n)
        for idx, kernels, params in self._groups:
            out[idx] = kernels[1](spend[idx], *params)
        out[spend >= self.saturation] = 0.0
        return out

    def spend_at_marginal(self, marginal: FloatArray, hint: FloatArray | None = None) -> FloatArray:
        """Per channel, the spend on its concave branch where its marginal equals `marginal`.

        In ``[inflection, saturation]``; ``marginal <= 0`` gives `saturation`, ``inf`` the
        inflection (0 for concave curves). `hint` (spends near the answers, e.g. from a nearby
        marginal) speeds up the curves solved numerically.
        """
        m = np.asarray(marginal, dtype=np.float64)
        out = np.empty(self.n)
        inner = (m > 0) & np.isfinite(m)
        every = bool(inner.all())
        for idx, kernels, params in self._groups:
            extra = {} if hint is None or kernels[2] is not hill_spend_at else {"hint": hint[idx]}
            if every:
                out[idx] = kernels[2](m[idx], *params, **extra)
                continue
            sel = inner[idx]
            res = np.zeros(idx.size)
            if np.any(sel):
                extra = {k: v[sel] for k, v in extra.items()}
                res[sel] = kernels[2](m[idx][sel], *(p[sel] for p in params), **extra)
            out[idx] = res
        out = np.minimum(np.maximum(out, self.inflection), self.saturation)
        out[m <= 0] = self.saturation[m <= 0]
        out[np.isposinf(m)] = self.inflection[np.isposinf(m)]
        return out

    def spend_for_response(self, target: FloatArray) -> FloatArray:
        """Per channel, the least spend whose response reaches `target` (``inf`` if none does)."""
        target = np.asarray(target, dtype=np.float64)
        low, high = np.full(self.n, _TINY), np.full(self.n, _HUGE)
        _, high = _log_bisect(lambda s: self.response(s) >= target, low, high)
        out = np.where(self.response(np.full(self.n, _HUGE)) >= target, high, np.inf)
        return np.where(target <= 0, 0.0, out)

    def cpa_range(self, cap: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Per channel, the spends ``[low, high]`` whose average CPA ``s / response(s)`` is at
        most `cap` (currency per conversion; NaN means no cap: ``[0, inf]``).

        The average CPA falls to its minimum at `ratio_peak` (0 for concave curves) and rises
        after it, so the set is an interval (plus zero spend, which costs nothing). When no spend
        meets the cap, ``low = inf`` and ``high = 0``.
        """
        cap = np.asarray(cap, dtype=np.float64)
        capped = ~np.isnan(cap)
        c = np.where(capped, cap, np.inf)

        def ok(s: FloatArray) -> npt.NDArray[np.bool_]:
            with np.errstate(invalid="ignore"):
                return np.asarray(c * self.response(s) >= s, dtype=bool)

        peak = np.maximum(self.ratio_peak, _TINY)
        reachable = ok(peak)
        huge = np.full(self.n, _HUGE)
        high, _ = _log_bisect(lambda s: ~ok(s), peak.copy(), huge)
        high = np.where(ok(huge), np.inf, high)
        tiny = np.full(self.n, _TINY)
        _, low = _log_bisect(ok, tiny, peak.copy())
        low = np.where(ok(tiny), 0.0, low)
        low = np.where(reachable, low, np.inf)
        high = np.where(reachable, high, 0.0)
        return np.where(capped, low, 0.0), np.where(capped, high, np.inf)


_TINY, _HUGE = 1e-300, 1e300


def _log_bisect(
    flip: Any, low: FloatArray, high: FloatArray, iterations: int = 130
) -> tuple[FloatArray, FloatArray]:
    """Bisect ``[low, high]`` in log space towards where `flip` (monotone, False at `low`,
    True at `high`) turns True; returns the final ``(low, high)`` (flip False / True)."""
    for _ in range(iterations):
        mid = np.exp(0.5 * (np.log(low) + np.log(high)))
        turned = flip(mid)
        high = np.where(turned, mid, high)
        low = np.where(turned, low, mid)
    return low, high
