"""Optimize Split: the budget split across channels that brings the most value, and its targets.

Units: spend is account currency per day (like the curves), conversions are per day.

- `maximize`: the split of `budget` that maximises ``sum(value[i] * curve[i](spend[i]))`` under
  per-channel ``min <= spend <= max``, locked channels (kept at their `current` spend) and
  per-channel CPA caps (a channel's average CPA ``spend / conversions`` at most its cap). The
  split always sums to the budget.
- `max_conversions_at_cpa`: the most conversions whose blended CPA (total spend / total
  conversions) is at most a target, optionally within a budget.
- `min_budget_for`: the least budget that reaches a number of conversions.

Methods. With concave curves the optimum equalises the marginal value ``value * marginal`` at a
multiplier ``lambda`` across channels not at a bound; each channel's spend at ``lambda`` is the
closed-form (or Newton) inverse of its marginal clipped to its bounds, and the multiplier is found
by bisection in ``log lambda`` (Brent's method: bisection safeguarding interpolation steps):
method ``"bisection"``, exact to rounding. Channels with a step marginal (`Linear`, `Power` with
``b == 1``) tie at one multiplier; the tied channels share what is left so the total is exact.
When any curve is S-shaped (and its lower bound is below its inflection) the split is found by
dynamic programming over a grid of the budget (``grid_points`` steps of the budget above the
minimums; concave channels combined exactly by merging their sorted increments), method
``"grid-dp"``: exact on that grid, never a local optimum. It is then polished, each step kept
only if it raises the objective: with the DP's choice of which S-shaped channels spend, every
spending channel is restricted to its concave part and the split solved exactly; an S-shaped
channel idle or short of its concave part is tried switched (idle or spending); a channel left
inside its convex stretch (at most a few, usually none) gets a small local solve (SLSQP over just
those channels, the rest solved exactly for what they leave).

`step` rounds the split to multiples of `step` keeping the total exact: every channel is rounded
down, then the channels whose rounding up gains the most value per unit take the rest.

The target questions walk the same multiplier path: the least budget is where the path's
conversions reach the target; the most conversions at a blended CPA is where ``spend = target *
conversions`` past the point of best CPA (the best CPA itself, for the error message, by
Dinkelbach's iteration). With S-shaped curves the DP's table (best value for every grid budget)
answers both. Every answer is checked before it is returned (the split sums to the budget and
respects every bound and cap); a violation raises ``PlanningError("Optimization failed: ...")``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from planning.allocation import (
    LAM_MIN,
    Grid,
    Problem,
    allocator,
    concave_max,
    exact_total,
    first_multiplier,
    grid_max,
    polish_bounds,
    round_to_step,
    solve_multiplier,
)
from planning.allocation import number_text as _num
from planning.errors import InputError, PlanningError
from planning.response import Curve, CurveStack, is_curve

__all__ = [
    "ChannelBounds",
    "InfeasibleError",
    "SplitResult",
    "channel_bounds",
    "max_conversions_at_cpa",
    "maximize",
    "min_budget_for",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class InfeasibleError(PlanningError):
    """No split meets the constraints; the message names the constraint and by how much."""


def _check_number(
    value: Any, *, name: str, line: str | None = None, positive: bool = False, inf: bool = False
) -> float:
    """`value` as a float >= 0 (> 0 if `positive`; ``inf`` allowed if `inf`), else InputError."""
    where: dict[str, Any] = {"line": line, "column": name} if line is not None else {}
    label = "" if line is not None else f"`{name}` "
    if isinstance(value, bool | np.bool_) or not isinstance(value, Real):
        raise InputError(f"{label}must be a number, got {value!r}", **where, has_value=False)
    x = float(value)
    bad = math.isnan(x) or (math.isinf(x) and not (inf and x > 0)) or x < 0 or (positive and x == 0)
    if bad:
        need = "> 0" if positive else ">= 0"
        raise InputError(
            f"{label}must be a {'' if inf else 'finite '}number {need}, got {value!r}",
            **where,
            has_value=False,
        )
    return x


@dataclass(frozen=True)
class ChannelBounds:
    """Constraints on one channel's daily spend (currency/day).

    `min`/`max` bound the spend; a `locked` channel keeps its current spend (its `min`/`max` are
    then ignored); `cpa_cap` bounds its average CPA ``spend / conversions`` (currency per
    conversion; zero spend always meets it).
    """

    min: float = 0.0
    max: float = math.inf
    locked: bool = False
    cpa_cap: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "min", _check_number(self.min, name="min"))
        object.__setattr__(self, "max", _check_number(self.max, name="max", inf=True))
        if not isinstance(self.locked, bool | np.bool_):
            raise InputError(f"`locked` must be True or False, got {self.locked!r}")
        if self.cpa_cap is not None:
            cap = _check_number(self.cpa_cap, name="cpa_cap", positive=True, inf=True)
            object.__setattr__(self, "cpa_cap", cap)
        if self.min > self.max:
            raise InputError(f"`min` {_num(self.min)} is above `max` {_num(self.max)}")


_FREE = ChannelBounds()


def channel_bounds(
    channel: str,
    min: float = 0.0,
    max: float = math.inf,
    locked: bool = False,
    cpa_cap: float | None = None,
) -> ChannelBounds:
    """`ChannelBounds` whose errors name the channel (for bounds read from a table):
    ``line 'Meta': `min` 500 is above `max` 300``."""
    try:
        return ChannelBounds(min, max, locked, cpa_cap)
    except InputError as error:
        raise InputError(error.reason, line=channel, has_value=False) from None


@dataclass
class SplitResult:
    """A proposed split and the solver's diagnostics; arrays have shape ``(n_channels,)``.

    `allocation` is spend per day per channel, `expected` conversions per day, `value` expected
    times the value per conversion, `marginal_cpa` the cost of one more conversion at the proposed
    spend (``1 / marginal``; ``inf`` where the curve is flat), `delta` the change against `current`.
    `objective` is the total value (total conversions for the target functions); `multiplier` the
    marginal value of one more unit of budget; `grid_step` the DP's budget grid step (NaN when the
    method is ``"bisection"``).
    """

    channels: list[str]
    allocation: FloatArray
    expected: FloatArray
    value: FloatArray
    marginal_cpa: FloatArray
    current: FloatArray | None
    delta: FloatArray | None
    objective: float
    method: str
    iterations: int
    multiplier: float
    success: bool
    message: str
    budget: float = math.nan
    grid_step: float = math.nan

    def to_frame(self) -> pd.DataFrame:
        """One row per channel: current, proposed, delta, expected, value, marginal_cpa, cpa."""
        n = len(self.channels)
        nan = np.full(n, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            cpa = np.where(self.expected > 0, self.allocation / self.expected, np.nan)
        return pd.DataFrame(
            {
                "channel": self.channels,
                "current": self.current if self.current is not None else nan,
                "proposed": self.allocation,
                "delta": self.delta if self.delta is not None else nan,
                "expected": self.expected,
                "value": self.value,
                "marginal_cpa": self.marginal_cpa,
                "cpa": cpa,
            }
        )


def _per_channel(
    what: str, given: Mapping[str, Any] | None, names: list[str], column: str
) -> dict[str, float] | None:
    """Check a per-channel mapping (e.g. `values`): every channel, no other, numbers >= 0."""
    if given is None:
        return None
    if not isinstance(given, Mapping):
        raise InputError(f"`{column}` must be a mapping of channel name to number, got {given!r}")
    for key in given:
        if key not in names:
            raise InputError(f"has a {what} but no response curve", line=str(key))
    for name in names:
        if name not in given:
            raise InputError(f"has no {what}", line=name, column=column)
    return {name: _check_number(given[name], name=column, line=name) for name in names}


def _prepare(
    curves: Mapping[str, Curve],
    bounds: Mapping[str, ChannelBounds] | None,
    values: Mapping[str, float] | None = None,
    current: Mapping[str, float] | None = None,
) -> Problem:
    if not isinstance(curves, Mapping) or not curves:
        raise InputError("`curves` must be a non-empty mapping of channel name to `Curve`")
    names = [str(k) for k in curves]
    for name, curve in zip(names, curves.values(), strict=True):
        if not is_curve(curve):
            raise InputError(f"must be a `Curve`, got {curve!r}", line=name, column="curve")
    bounds = {} if bounds is None else bounds
    if not isinstance(bounds, Mapping):
        raise InputError("`bounds` must be a mapping of channel name to `ChannelBounds`")
    for key, b in bounds.items():
        if key not in curves:
            raise InputError("has bounds but no response curve", line=str(key))
        if not isinstance(b, ChannelBounds):
            raise InputError(
                f"must be a `ChannelBounds`, got {b!r}", line=str(key), column="bounds"
            )
    vals = _per_channel("value per conversion", values, names, "value")
    cur = _per_channel("current spend", current, names, "current")
    stack = CurveStack(list(curves.values()))
    n = len(names)
    bs = [bounds.get(name, _FREE) for name in names] if bounds else []
    lo = np.array([b.min for b in bs], dtype=np.float64) if bs else np.zeros(n)
    hi = np.array([b.max for b in bs], dtype=np.float64) if bs else np.full(n, np.inf)
    for i, b in enumerate(bs):
        if b.locked:
            if cur is None:
                raise InputError("is locked but has no current spend", line=names[i])
            lo[i] = hi[i] = cur[names[i]]
    locked = np.array([b.locked for b in bs], dtype=bool) if bs else np.zeros(n, dtype=bool)
    cap = np.array([np.nan if b.cpa_cap is None or b.locked else b.cpa_cap for b in bs])
    cap = cap if bs else np.full(n, np.nan)  # no bounds: every channel free, no lists
    cpa_low, cpa_high = np.zeros(n), np.full(n, np.inf)
    with_cap = np.flatnonzero(~np.isnan(cap))
    if with_cap.size:
        sub = CurveStack([stack.curves[i] for i in with_cap])
        cpa_low[with_cap], cpa_high[with_cap] = sub.cpa_range(cap[with_cap])
    for i in (int(k) for k in np.flatnonzero(~np.isnan(cap))):
        low, high, name, c = cpa_low[i], cpa_high[i], names[i], _num(cap[i])
        if lo[i] == 0:
            hi[i] = min(hi[i], high) if low <= min(hi[i], high) else 0.0
            continue
        if low > high:
            raise InfeasibleError(
                f"channel {name!r}: no spend meets its CPA cap {c}, "
                f"and its minimum spend is {_num(lo[i])}"
            )
        if lo[i] > high:
            raise InfeasibleError(
                f"channel {name!r}: its CPA cap {c} allows a spend of at most {_num(high)}, "
                f"below its minimum spend {_num(lo[i])} by {_num(lo[i] - high)}"
            )
        if low > hi[i]:
            raise InfeasibleError(
                f"channel {name!r}: its CPA cap {c} needs a spend of at least {_num(low)}, "
                f"above its maximum spend {_num(hi[i])} by {_num(low - hi[i])}"
            )
        lo[i], hi[i] = max(lo[i], low), min(hi[i], high)
    return Problem(
        names=names,
        stack=stack,
        v=np.array([vals[k] for k in names]) if vals else np.ones(n),
        lo=lo,
        hi=hi,
        cpa_low=cpa_low,
        cpa_high=cpa_high,
        current=None if cur is None else np.array([cur[k] for k in names]),
        capped=bool(np.any(~np.isnan(cap) & ~locked)),
    )


def _result(
    p: Problem,
    x: FloatArray,
    method: str,
    iterations: int,
    lam: float,
    message: str,
    grid_step: float = math.nan,
) -> SplitResult:
    st = p.stack
    expected = st.response(x)
    marginal = st.marginal(x)
    with np.errstate(divide="ignore"):
        mcpa = np.where(marginal > 0, 1.0 / marginal, np.inf)
    return SplitResult(
        channels=list(p.names),
        allocation=x,
        expected=expected,
        value=expected * p.v,
        marginal_cpa=mcpa,
        current=p.current,
        delta=None if p.current is None else x - p.current,
        objective=float(np.sum(expected * p.v)),
        method=method,
        iterations=iterations,
        multiplier=lam,
        success=True,
        message=message,
        budget=float(np.sum(x)),
        grid_step=grid_step,
    )


def _verify(p: Problem, x: FloatArray, lo: FloatArray, hi: FloatArray, total: float | None) -> None:
    """The split respects every bound and cap (and sums to `total`), else a PlanningError."""
    scale = 1e-9 * max(1.0, float(np.max(np.abs(x))) if x.size else 1.0, total or 0.0)
    problems = []
    if not np.all(np.isfinite(x)):
        problems.append("a spend is not finite")
    if total is not None and abs(float(np.sum(x)) - total) > scale:
        problems.append(f"the split sums to {float(np.sum(x))!r}, not {total!r}")
    outside = (x < lo - scale) | (x > hi + scale)
    problems += [f"{p.names[i]!r} is outside its bounds" for i in np.flatnonzero(outside)]
    gap = (x > scale) & ((x < p.cpa_low - scale) | (x > p.cpa_high + scale))
    problems += [f"{p.names[i]!r} breaks its CPA cap" for i in np.flatnonzero(gap)]
    if problems:
        raise PlanningError("Optimization failed: " + "; ".join(problems))


# --- the public functions ------------------------------------------------------------------------


def _options(step: float | None, grid_points: int) -> float | None:
    if isinstance(grid_points, bool) or not isinstance(grid_points, int | np.integer):
        raise InputError(f"`grid_points` must be a whole number, got {grid_points!r}")
    if grid_points < 10:
        raise InputError(f"`grid_points` must be at least 10, got {grid_points!r}")
    return None if step is None else _check_number(step, name="step", positive=True)


def _sum_check(p: Problem, total: float) -> None:
    lo_sum, hi_sum = float(np.sum(p.lo)), float(np.sum(p.hi))
    if lo_sum > total * (1 + 1e-12):
        raise InfeasibleError(
            f"minimum spends add up to {_num(lo_sum)}, above the budget {_num(total)} "
            f"by {_num(lo_sum - total)}"
        )
    if hi_sum < total * (1 - 1e-12):
        caps = " (with the CPA caps)" if p.capped else ""
        raise InfeasibleError(
            f"maximum spends{caps} add up to {_num(hi_sum)}, below the budget {_num(total)} "
            f"by {_num(total - hi_sum)}"
        )


def maximize(
    curves: Mapping[str, Curve],
    budget: float,
    bounds: Mapping[str, ChannelBounds] | None = None,
    values: Mapping[str, float] | None = None,
    current: Mapping[str, float] | None = None,
    step: float | None = None,
    grid_points: int = 2000,
) -> SplitResult:
    """The split of `budget` (currency/day) that maximises the value of the conversions.

    `values` is the value of one conversion per channel (default 1: conversions are counted);
    `current` the current spend per channel (needed for locked channels and `delta`); `step`
    rounds the split to multiples of `step` keeping the total exact; `grid_points` is the DP's
    budget grid when a curve is S-shaped. Raises `InfeasibleError` when no split meets the
    constraints, `InputError` on bad input.
    """
    p = _prepare(curves, bounds, values, current)
    total = _check_number(budget, name="budget", positive=True)
    step = _options(step, grid_points)
    _sum_check(p, total)
    lo = p.lo
    hi = np.maximum(lo, np.minimum(p.hi, lo + (total - float(np.sum(lo)))))
    grid_step = math.nan
    if total - float(np.sum(lo)) <= 1e-12 * total:
        x, lam, it, note, method = (
            exact_total(lo.copy(), lo, hi, total),
            math.inf,
            0,
            "",
            "bisection",
        )
        message = "the minimum spends take the whole budget"
    elif np.all(p.concave_on(lo) | (hi <= lo)):
        x, lam, it, note = concave_max(p, lo, hi, total)
        method = "bisection"
        message = (
            f"exact: marginal value per unit of spend equal at {lam:.6g} ({it} iterations)"
            if lam > 0
            else "exact: every curve is flat at the proposed spend"
        )
    else:
        x, lam, it, note, grid_step = grid_max(p, lo, hi, total, grid_points)
        method = "grid-dp"
        shown = _num(grid_step) if grid_step >= 1000 else f"{grid_step:.6g}"
        message = f"exact on a grid of {grid_points} steps of {shown} above the minimums"
    if step is not None:
        x, remainder = round_to_step(p, x, lo, hi, step)
        note += ("; " if note else "") + f"rounded to multiples of {_num(step)}{remainder}"
    _verify(p, x, p.lo, p.hi, total)
    return _result(p, x, method, it, lam, message + (f"; {note}" if note else ""), grid_step)


def _target_bounds(p: Problem, cap: FloatArray) -> FloatArray:
    """Upper bounds for the target questions: spend past saturation (or past `cap`) buys nothing."""
    return np.maximum(p.lo, np.minimum(np.minimum(p.hi, p.stack.saturation), cap))


def _grid_target(
    p: Problem, hi: FloatArray, points: int, pick: Callable[[FloatArray, FloatArray], int]
) -> tuple[FloatArray, float]:
    total = float(np.sum(hi - p.lo))
    if not math.isfinite(total):
        raise InputError("`max_budget` is needed: with an S-shaped curve the spend must be bounded")
    if total <= 0:
        return p.lo.copy(), math.nan
    grid = Grid(p, p.lo, hi, total, points)
    spend = np.asarray(float(np.sum(p.lo)) + grid.step * np.arange(points + 1), dtype=np.float64)
    return grid.allocation(pick(spend, grid.table)), grid.step


def max_conversions_at_cpa(
    curves: Mapping[str, Curve],
    target_cpa: float,
    bounds: Mapping[str, ChannelBounds] | None = None,
    max_budget: float | None = None,
    *,
    current: Mapping[str, float] | None = None,
    grid_points: int = 2000,
) -> SplitResult:
    """The split with the most conversions whose blended CPA (total spend / total conversions) is
    at most `target_cpa`, spending at most `max_budget` (currency/day) if given."""
    p = _prepare(curves, bounds, None, current)
    t = _check_number(target_cpa, name="target_cpa", positive=True)
    bmax = (
        math.inf
        if max_budget is None
        else _check_number(max_budget, name="max_budget", positive=True)
    )
    _options(None, grid_points)
    lo_sum = float(np.sum(p.lo))
    if lo_sum > bmax:
        raise InfeasibleError(
            f"minimum spends add up to {_num(lo_sum)}, above the budget {_num(bmax)} "
            f"by {_num(lo_sum - bmax)}"
        )
    st = p.stack
    conv = lambda x: float(np.sum(st.response(x)))  # noqa: E731
    if np.all(p.concave_on(p.lo)):
        hi = _target_bounds(p, np.full(st.n, np.inf))
        alloc = allocator(p, p.lo, hi)

        def within(lam: float) -> FloatArray:
            x = alloc(lam)
            if float(np.sum(x)) > bmax:
                x = concave_max(p, p.lo, hi, bmax)[0]
            return x

        top = within(LAM_MIN)
        if not np.all(np.isfinite(top)):
            raise InputError(
                "`max_budget` is needed: a channel keeps its CPA under the target at any spend"
            )
        x, lam, it = top, LAM_MIN, 1
        if conv(top) == 0:
            raise InfeasibleError(
                f"target CPA {_num(t)} is unreachable: no split brings conversions"
            )
        if t * conv(top) < float(np.sum(top)):
            peak = within(1.0 / t)
            if conv(peak) == 0 or t * conv(peak) < float(np.sum(peak)):
                best = _best_cpa(within, top, conv)
                raise InfeasibleError(
                    f"target CPA {_num(t)} is below the best achievable blended CPA {_num(best)} "
                    f"by {_num(best - t)}"
                )
            found = solve_multiplier(
                within, lambda x: (float(np.sum(x)), t * conv(x)), 0.5 / t, 1.0 / t
            )
            if found is not None:
                x, lam, it = found
        method, grid_step = "bisection", math.nan
    else:
        x, grid_step = _cpa_on_grid(p, t, bmax, lo_sum, grid_points)
        lam, it, method = math.nan, 1, "grid-dp"
    _verify(p, x, p.lo, p.hi, None)
    total = float(np.sum(x))
    message = f"blended CPA {_num(total / conv(x))} at a budget of {_num(total)}"
    return _result(p, x, method, it, lam, message, grid_step)


def _cpa_on_grid(
    p: Problem, t: float, bmax: float, lo_sum: float, grid_points: int
) -> tuple[FloatArray, float]:
    """`max_conversions_at_cpa` when a curve is S-shaped: the grid split with the most
    conversions whose blended CPA is at most `t`, spending at most `bmax`; ``(x, grid step)``."""
    st = p.stack
    hi = _target_bounds(p, np.full(st.n, np.inf))
    hi = np.minimum(hi, p.lo + min(bmax, t * float(np.sum(st.response(hi)))) - lo_sum)

    def pick(spend: FloatArray, table: FloatArray) -> int:
        ok = np.flatnonzero(spend <= t * table * (1 + 1e-12))
        if ok.size == 0:
            with np.errstate(divide="ignore", invalid="ignore"):
                best = float(np.nanmin(np.where(table > 0, spend / table, np.inf)))
            raise InfeasibleError(
                f"target CPA {_num(t)} is below the best achievable blended CPA {_num(best)} "
                f"by {_num(best - t)}"
            )
        return int(ok[np.argmax(table[ok])])

    return _grid_target(p, hi, grid_points, pick)


def _best_cpa(
    within: Callable[[float], FloatArray], x: FloatArray, conv: Callable[[FloatArray], float]
) -> float:
    """The lowest blended CPA any split reaches (Dinkelbach's iteration on the multiplier path)."""
    c = float(np.sum(x)) / conv(x) if conv(x) > 0 else math.inf
    for _ in range(100):
        if not math.isfinite(c) or c <= 0:
            return c
        y = within(1.0 / c)
        c_new = float(np.sum(y)) / conv(y) if conv(y) > 0 else math.inf
        if c_new >= c * (1 - 1e-13):
            return min(c, c_new)
        c = c_new
    return c


def min_budget_for(
    curves: Mapping[str, Curve],
    target_conversions: float,
    bounds: Mapping[str, ChannelBounds] | None = None,
    *,
    current: Mapping[str, float] | None = None,
    grid_points: int = 2000,
) -> SplitResult:
    """The least budget (currency/day) and its split that reach `target_conversions` per day."""
    p = _prepare(curves, bounds, None, current)
    n_target = _check_number(target_conversions, name="target_conversions", positive=True)
    _options(None, grid_points)
    st = p.stack
    conv = lambda x: float(np.sum(st.response(x)))  # noqa: E731
    most = conv(np.maximum(p.lo, np.minimum(p.hi, st.saturation)))
    if most < n_target * (1 - 1e-12):
        raise InfeasibleError(
            f"target of {_num(n_target)} conversions is above the most reachable, {_num(most)}, "
            f"by {_num(n_target - most)}"
        )
    x, lam, it, method, grid_step = p.lo.copy(), math.inf, 0, "bisection", math.nan
    if conv(p.lo) < n_target:
        if np.all(p.concave_on(p.lo)):
            hi = _target_bounds(p, st.spend_for_response(np.full(st.n, n_target)))
            alloc = allocator(p, p.lo, hi)
            found = solve_multiplier(
                alloc, lambda y: (conv(y), n_target), first_multiplier(p, p.lo, hi, 1.0)
            )
            x, lam, it = found if found is not None else (alloc(LAM_MIN), LAM_MIN, 1)
        else:
            hi = _target_bounds(p, st.spend_for_response(np.full(st.n, n_target)))
            # a feasible split bounds the grid: every S-shaped channel on its concave part
            lo1, hi1 = polish_bounds(p, np.where(p.concave_on(p.lo), p.lo, hi), p.lo, hi)
            alloc1 = allocator(p, lo1, hi1)
            found = solve_multiplier(alloc1, lambda y: (conv(y), n_target), 1.0)
            upper = float(np.sum(found[0] if found is not None else alloc1(LAM_MIN)))
            hi = np.minimum(hi, p.lo + upper - float(np.sum(p.lo)))

            def pick(spend: FloatArray, table: FloatArray) -> int:
                ok = np.flatnonzero(table >= n_target * (1 - 1e-12))
                return int(ok[0]) if ok.size else int(np.argmax(table))

            x, grid_step = _grid_target(p, hi, grid_points, pick)
            lo2, hi2 = polish_bounds(p, x, p.lo, hi)
            found = solve_multiplier(allocator(p, lo2, hi2), lambda y: (conv(y), n_target), 1.0)
            if found is not None and float(np.sum(found[0])) <= float(np.sum(x)):
                x, lam, it = found
            method = "grid-dp"
    _verify(p, x, p.lo, p.hi, None)
    message = f"{_num(conv(x))} conversions at a budget of {_num(float(np.sum(x)))}"
    return _result(p, x, method, it, lam, message, grid_step)
