"""The exact methods behind `planning.optimize`: bisection on the multiplier, the budget-grid DP.

Everything works on a `Problem` (the channels' curves as a `CurveStack` and per-channel arrays of
shape ``(n_channels,)``: value per conversion, bounds, CPA-cap ranges) and returns spends per day
(currency/day) in the same order. `planning.optimize` checks the input, chooses the method and
verifies the answer; see its docstring for the methods.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from planning.curve_kernels import closed_form_spend_at, hill_spend_at
from planning.response import CurveStack

__all__ = [
    "LAM_MIN",
    "Grid",
    "Problem",
    "allocator",
    "concave_max",
    "exact_total",
    "first_multiplier",
    "grid_max",
    "number_text",
    "polish_bounds",
    "round_to_step",
    "solve_multiplier",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
LAM_MIN, _LAM_MAX = 1e-300, 1e300
"""The multiplier's search range (value per unit of spend)."""


def number_text(x: float) -> str:
    """A number as people read it: ``1,500,000`` or ``1,234.57``."""
    if math.isinf(x):
        return "unlimited" if x > 0 else "-unlimited"
    text = f"{x:,.2f}"
    return text[:-3] if text.endswith(".00") else text


# --- the problem as arrays ----------------------------------------------------------------------


@dataclass
class Problem:
    """A checked problem: per-channel arrays of shape ``(n_channels,)`` in the order of `names`."""

    names: list[str]
    stack: CurveStack
    v: FloatArray  # value per conversion
    lo: FloatArray  # effective bounds (locked: current; CPA caps applied)
    hi: FloatArray
    cpa_low: FloatArray  # with a CPA cap a positive spend must lie in [cpa_low, cpa_high]
    cpa_high: FloatArray
    current: FloatArray | None
    capped: bool

    def objective(self, x: FloatArray) -> float:
        return float(np.sum(self.v * self.stack.response(x)))

    def concave_on(self, lo: FloatArray) -> BoolArray:
        """Channels whose curve is concave on ``[lo, inf)``: concave curves, and S-shaped ones
        whose lower bound is past the inflection (and the CPA cap's lowest spend)."""
        start = np.maximum(self.stack.inflection, np.nan_to_num(self.cpa_low))
        return np.asarray(self.stack.concave | (lo >= start), dtype=bool)


# --- concave: bisection on the multiplier --------------------------------------------------------


def allocator(p: Problem, lo: FloatArray, hi: FloatArray) -> Callable[[float], FloatArray]:
    """lambda -> each channel's spend where ``value * marginal == lambda``, clipped to bounds.

    Called for every multiplier the solve tries (`solve_multiplier`): the forms with a closed-form
    inverse marginal are evaluated by `closed_form_spend_at` (made once here), the others by their
    kernel as `CurveStack.spend_at_marginal` calls it; a multiplier giving a marginal of 0 or
    infinity somewhere (a value of 0, the extreme multipliers) goes through
    `CurveStack.spend_at_marginal` itself. Either way the spends are the stack's, bit for bit.
    No ``np.errstate`` per call: `solve_multiplier` sets it once around the whole solve.
    """
    stack = p.stack
    v = p.v
    groups = [
        (idx, closed_form_spend_at(kernels[2], params), kernels[2], params, v[idx])
        for idx, kernels, params in stack._groups
    ]
    v_min, v_max = (float(np.min(v)), float(np.max(v))) if v.size else (1.0, 1.0)
    last: list[FloatArray] = []

    def spend_at(lam: float) -> FloatArray:
        """The stack's spends at marginals ``lam / v`` (unclipped to the bounds)."""
        hint = last[0] if last else None
        if not (v_min > 0 and lam / v_max > 0 and lam / v_min < math.inf):
            with np.errstate(divide="ignore"):  # a value of 0: an infinite marginal
                m = lam / v
            return stack.spend_at_marginal(m, hint)
        out = np.empty(stack.n)
        for idx, fast, kernel, params, v_g in groups:
            m = lam / v_g  # bit for bit ``(lam / v)[idx]``; every one > 0 and finite
            if fast is not None:
                out[idx] = fast(m)
            elif kernel is hill_spend_at and hint is not None:  # Newton from the last spends
                out[idx] = hill_spend_at(m, *params[:3], hint=hint[idx])
            else:
                out[idx] = kernel(m, *params)
        return np.minimum(np.maximum(out, stack.inflection), stack.saturation)

    def alloc(lam: float) -> FloatArray:
        if math.isinf(lam):
            return lo.copy()
        spend = spend_at(lam)
        last[:] = [spend]
        return np.minimum(np.maximum(spend, lo), hi)  # np.clip's result, without its overhead

    return alloc


Measure = Callable[[FloatArray], tuple[float, float]]


def solve_multiplier(
    alloc: Callable[[float], FloatArray], measure: Measure, lam0: float, lam_max: float = math.inf
) -> tuple[FloatArray, float, int] | None:
    """The allocation on the multiplier path where ``have == want`` (``measure(x)``; ``have /
    want`` non-increasing in lambda, both >= 0).

    The root of ``log(have / want)`` (nearly linear in ``log lambda`` for these curves) is
    bracketed, then found by Brent's method (bisection safeguarding interpolation steps, so a
    jump from tied step marginals is bisected down to ``1e-13``); it ends by interpolating
    linearly, on ``have - want``, between the closest allocations either side. None when
    ``have < want`` down to the smallest multiplier.
    """
    with np.errstate(divide="ignore", over="ignore"):  # once for the solve, not per multiplier
        return _solve_multiplier(alloc, measure, lam0, lam_max)


def _solve_multiplier(
    alloc: Callable[[float], FloatArray], measure: Measure, lam0: float, lam_max: float
) -> tuple[FloatArray, float, int] | None:

    def point(ell: float) -> tuple[float, FloatArray, float, float]:
        x = alloc(math.exp(ell) if ell < math.inf else math.inf)
        have, want = measure(x)
        f = float(np.log(have) - np.log(want)) if have != want else 0.0  # errstate: the caller's
        return ell, x, f, have - want

    l_min, l_max = math.log(LAM_MIN), math.log(min(lam_max, _LAM_MAX))
    a = b = point(min(max(math.log(lam0), l_min), l_max))
    it = 1
    if a[2] >= 0:
        while b[2] >= 0:
            a = b
            if a[0] >= l_max:
                b = point(l_max if math.isfinite(lam_max) else math.inf)
                break
            b, it = point(min(a[0] + 2.5, l_max)), it + 1
    else:
        while a[2] < 0:
            b = a
            if b[0] <= l_min:
                return None
            a, it = point(max(b[0] - 2.5, l_min)), it + 1
    if math.isfinite(b[0]) and a[2] - b[2] > 1e-14:
        from scipy.optimize import brentq  # only here: keeps importing `planning` light

        best = [a, b]  # the closest points either side of the root: the final bracket

        def f(ell: float) -> float:
            nonlocal it
            if ell in (best[0][0], best[1][0]):  # the bracket's ends, already evaluated
                return best[0][2] if ell == best[0][0] else best[1][2]
            m = point(ell)
            it += 1
            if m[2] >= 0 and m[0] >= best[0][0]:
                best[0] = m
            elif m[2] < 0 and m[0] <= best[1][0]:
                best[1] = m
            return m[2]

        brentq(f, a[0], b[0], xtol=1e-13, rtol=1e-15, maxiter=400)
        a, b = best
    lam = math.exp(a[0] if not math.isfinite(b[0]) or abs(a[2]) <= abs(b[2]) else b[0])
    ties = np.isinf(a[1])
    if np.any(ties):
        return _fill_ties(b[1], ties, measure), lam, it
    t = 0.0 if a[3] - b[3] <= 0 else b[3] / (b[3] - a[3])
    return b[1] + t * np.maximum(a[1] - b[1], 0.0), lam, it


def _fill_ties(xb: FloatArray, ties: BoolArray, measure: Measure) -> FloatArray:
    """Channels tied at the multiplier with no cap on spend share the extra spend `u` that brings
    ``have`` to ``want`` (found by doubling, then bisection)."""

    def short(u: float) -> bool:
        x = xb.copy()
        x[ties] += u / int(ties.sum())
        have, want = measure(x)
        return have < want

    low, high = 0.0, max(1.0, float(np.sum(xb)))
    while short(high):
        low, high = high, high * 2.0
    for _ in range(200):
        mid = 0.5 * (low + high)
        if mid in (low, high):
            break
        low, high = (mid, high) if short(mid) else (low, mid)
    x = xb.copy()
    x[ties] += high / int(ties.sum())
    return x


def first_multiplier(p: Problem, lo: FloatArray, hi: FloatArray, spend: float) -> float:
    """A first multiplier: the median marginal value at an even split of `spend`."""
    x = np.clip(np.full(p.stack.n, spend / p.stack.n), lo, hi)
    m = p.v * p.stack.marginal(np.maximum(x, 1e-9))
    m = m[np.isfinite(m) & (m > 0)]
    if not m.size:
        return 1.0
    half = m.size // 2  # np.median's value: the middle one, or the mean of the middle two
    if m.size % 2:
        return float(np.partition(m, half)[half])
    low, high = np.partition(m, [half - 1, half])[half - 1 : half + 1]
    return float((low + high) / 2.0)


def concave_max(
    p: Problem, lo: FloatArray, hi: FloatArray, budget: float
) -> tuple[FloatArray, float, int, str]:
    """The exact split of `budget` within ``[lo, hi]`` (``sum(lo) <= budget <= sum(hi)``)."""
    alloc = allocator(p, lo, hi)
    found = solve_multiplier(
        alloc, lambda x: (float(np.sum(x)), budget), first_multiplier(p, lo, hi, budget)
    )
    if found is None:  # every curve flat before the budget is spent
        x = alloc(LAM_MIN)
        left = budget - float(np.sum(x))
        note = ""
        if left > 1e-9 * budget and float(np.sum(hi - x)) > 0:
            x = _spread(x, hi, left)
            note = (
                f"the curves saturate: {number_text(left)} of the budget brings no more conversions"
            )
        return exact_total(x, lo, hi, budget), 0.0, 1, note
    x, lam, it = found
    return exact_total(x, lo, hi, budget), lam, it, ""


def exact_total(x: FloatArray, lo: FloatArray, hi: FloatArray, total: float) -> FloatArray:
    """Put the float residual ``total - sum(x)`` on the channel with the most room for it."""
    x = np.clip(x, lo, hi)
    for _ in range(3):
        r = total - float(np.sum(x))
        if r == 0:
            break
        room = hi - x if r > 0 else x - lo
        i = int(np.argmax(room))
        x[i] = min(max(x[i] + r, lo[i]), hi[i])
    return x


# --- S-shaped: dynamic programming on a budget grid ----------------------------------------------


def _maxplus(a: FloatArray, f: FloatArray) -> tuple[FloatArray, npt.NDArray[np.int32]]:
    """``out[b] = max_e a[b - e] + f[e]`` and its argmax ``e`` (the DP's step for one channel)."""
    e1 = f.size
    pad = np.concatenate([np.full(e1 - 1, -np.inf), a])
    window = sliding_window_view(pad, e1)  # window[b, i] = a[b + i - (e1 - 1)], e = e1 - 1 - i
    rf = f[::-1]
    out, arg = np.empty(a.size), np.empty(a.size, dtype=np.int32)
    for start in range(0, a.size, 256):
        block = window[start : start + 256] + rf
        i = block.argmax(axis=1)
        out[start : start + 256] = block[np.arange(i.size), i]
        arg[start : start + 256] = e1 - 1 - i
    return out, arg


class Grid:
    """Best value for every grid budget ``b * step`` spent above `lo` (``b = 0 .. points``)."""

    def __init__(self, p: Problem, lo: FloatArray, hi: FloatArray, total: float, points: int):
        self.p, self.lo, self.step = p, lo, total / points
        n, st = p.stack.n, p.stack
        free = hi - lo > 0
        count = np.where(free, np.floor((hi - lo) / self.step * (1 + 1e-12) + 1e-9), 0)
        count = np.minimum(count, points).astype(np.int64)
        concave = p.concave_on(lo)
        self.concave = np.flatnonzero(free & concave)
        self.sshaped = np.flatnonzero(free & ~concave)
        at_lo = st.response(lo)
        base = float(np.sum(p.v * at_lo))
        # concave channels: merge their grid increments, largest first (exact for concave steps)
        ch = np.repeat(self.concave, count[self.concave])
        e = (
            np.arange(ch.size)
            - np.repeat(np.cumsum(count[self.concave]) - count[self.concave], count[self.concave])
            + 1
        )
        gain = p.v[ch] * (
            st.response_of(ch, lo[ch] + e * self.step)
            - st.response_of(ch, lo[ch] + (e - 1) * self.step)
        )
        self.order = ch[np.argsort(-gain, kind="stable")]
        table = np.full(points + 1, -np.inf)
        top = np.concatenate([[0.0], np.cumsum(-np.sort(-gain))])[: points + 1]
        table[: top.size] = base + top
        # S-shaped channels, one max-plus convolution each
        self.args: list[npt.NDArray[np.int32]] = []
        for j in self.sshaped:
            s = lo[j] + np.arange(count[j] + 1) * self.step
            f = p.v[j] * (st.response_of(np.full(s.size, j), s) - at_lo[j])
            ok = (s == 0) | ((s >= p.cpa_low[j]) & (s <= p.cpa_high[j]))
            table, arg = _maxplus(table, np.where(ok, f, -np.inf))
            self.args.append(arg)
        self.table = table
        self.n = n

    def allocation(self, b: int) -> FloatArray:
        """The split at grid budget `b` (backtracking the S-shaped channels' choices)."""
        x = self.lo.copy()
        for j, arg in zip(self.sshaped[::-1], self.args[::-1], strict=True):
            e = int(arg[b])
            x[j] += e * self.step
            b -= e
        x += np.bincount(self.order[:b], minlength=self.n) * self.step
        return x


def _floor(p: Problem, lo: FloatArray) -> FloatArray:
    """Where each channel's concave part starts (its inflection, its CPA cap's lowest spend)."""
    return np.maximum(np.maximum(lo, p.stack.inflection), np.nan_to_num(p.cpa_low))


def polish_bounds(
    p: Problem, x: FloatArray, lo: FloatArray, hi: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Bounds keeping the grid's choice: idle S-shaped channels fixed, spending ones on their
    concave part (a spend below it stays fixed); concave channels keep ``[lo, hi]``."""
    floor = _floor(p, lo)
    lo2, hi2 = lo.copy(), hi.copy()
    sshaped = ~p.concave_on(lo)
    spending = sshaped & (x > lo) & (x >= floor)
    lo2[spending] = floor[spending]
    fixed = sshaped & ~spending
    lo2[fixed] = hi2[fixed] = x[fixed]
    return lo2, hi2


def _spread(x: FloatArray, hi: FloatArray, amount: float) -> FloatArray:
    """Add `amount` over the room ``hi - x`` (evenly over unlimited rooms if any)."""
    room = hi - x
    share = np.isinf(room)
    weights = share / share.sum() if share.any() else room / room.sum()
    return np.asarray(x + amount * weights, dtype=np.float64)


def _convex_stretch(
    p: Problem, x: FloatArray, lo: FloatArray, hi: FloatArray, budget: float
) -> FloatArray | None:
    """S-shaped channels spending inside their convex stretch (at most a few, usually one) can be
    best there when the rest is short of curvature: SLSQP over just them, the other channels
    solved exactly for what is left (the envelope theorem gives the gradient). None if none."""
    st, floor = p.stack, _floor(p, lo)
    k = np.flatnonzero(~p.concave_on(lo) & (x > lo) & (x <= floor + 1e-8 * budget))
    if k.size == 0 or k.size > 50:
        return None
    from scipy.optimize import minimize  # only here: keeps importing `planning` light

    lo_r, hi_r = polish_bounds(p, x, lo, hi)
    rest = np.ones(st.n, dtype=bool)
    rest[k] = False
    low_rest, high_rest = float(np.sum(lo_r[rest])), float(np.sum(hi_r[rest]))
    memo: dict[bytes, tuple[FloatArray, float]] = {}
    # the rest keeps a sliver above its minimum: its marginal there may be inf
    gap = min(1e-9 * budget, 0.5 * (high_rest - low_rest))

    def solve(s: FloatArray) -> tuple[FloatArray, float]:
        """The split with `s` pinned, the rest taking what is left (clipped to what it can)."""
        key = s.tobytes()
        if key not in memo:
            lo3, hi3 = lo_r.copy(), hi_r.copy()
            lo3[k] = hi3[k] = s
            left = min(max(budget - float(np.sum(s)), low_rest + gap), high_rest)
            if high_rest > low_rest:
                x3, lam, _, _ = concave_max(p, lo3, hi3, float(np.sum(s)) + left)
            else:
                x3, lam = lo3, 0.0
            memo[key] = (x3, lam if math.isfinite(lam) else 0.0)
        return memo[key]

    def value(s: FloatArray) -> float:
        return -p.objective(solve(s)[0])

    def slope(s: FloatArray) -> FloatArray:
        x3, lam = solve(s)
        return -(p.v[k] * st.marginal(x3)[k] - lam)

    total = budget - low_rest - gap
    start = x[k].copy()
    if float(np.sum(start)) > total:
        start = np.maximum(lo[k], start - (float(np.sum(start)) - total) / k.size)
    res = minimize(
        value,
        start,
        jac=slope,
        method="SLSQP",
        bounds=list(zip(lo[k], np.minimum(hi[k], floor[k]), strict=True)),
        constraints=[
            {"type": "ineq", "fun": lambda s: total - np.sum(s), "jac": lambda s: -np.ones_like(s)},
            {
                "type": "ineq",
                "fun": lambda s: np.sum(s) - (budget - high_rest),
                "jac": np.ones_like,
            },
        ],
        options={"maxiter": 200, "ftol": 1e-15},
    )
    s = np.clip(res.x, lo[k], np.minimum(hi[k], floor[k]))
    x3, _ = solve(s)
    return x3 if abs(float(np.sum(x3)) - budget) <= 1e-7 * budget else None


def grid_max(
    p: Problem, lo: FloatArray, hi: FloatArray, budget: float, points: int
) -> tuple[FloatArray, float, int, str, float]:
    """The DP's split of `budget` on its grid, then polished (kept only if it does better)."""
    total = budget - float(np.sum(lo))
    if total <= 0:
        return lo.copy(), math.nan, 0, "", math.nan
    grid = Grid(p, lo, hi, total, points)
    reach = np.flatnonzero(np.isfinite(grid.table))
    b = points if np.isfinite(grid.table[points]) else int(reach[np.argmax(grid.table[reach])])
    x = grid.allocation(b)
    if b < points:  # the grid's floors left some budget: spread it over the room continuously
        x = _spread(x, hi, budget - float(np.sum(x)))
    x = exact_total(x, lo, hi, budget)
    best, note, lam, it = p.objective(x), "polish not kept", math.nan, 0

    def attempt(lo3: FloatArray, hi3: FloatArray) -> bool:
        nonlocal x, best, lam, it, note
        if not float(np.sum(lo3)) <= budget <= float(np.sum(hi3)):
            return False
        x3, lam3, it3, _ = concave_max(p, lo3, hi3, budget)
        it += it3
        if p.objective(x3) < best:
            return False
        x, best, lam, note = x3, p.objective(x3), lam3, "polished on the concave parts"
        return True

    attempt(*polish_bounds(p, x, lo, hi))
    # S-shaped channels idle or below their concave part: switching one to its other choice
    # (idle, or its best spend on [floor, hi] at the multiplier) is tried, most promising first.
    # The price of budget is the lowest marginal value among the channels that could give some.
    floor, v, st = _floor(p, lo), p.v, p.stack
    lo2, hi2 = polish_bounds(p, x, lo, hi)
    givers = (x > lo2) & (hi2 > lo2)
    price = float(np.min(v[givers] * st.marginal(x)[givers])) if givers.any() else 0.0
    on = np.clip(st.spend_at_marginal(np.full(st.n, price) / v), floor, hi) if price > 0 else hi
    on = np.where(floor < hi, on, hi)
    ideas = []
    for j in np.flatnonzero(~p.concave_on(lo) & (hi > lo) & (x < floor)):
        for s in (lo[j], on[j]):
            gain = v[j] * (st.response_of(np.array([j, j]), np.array([s, x[j]])) @ [1, -1])
            if s != x[j]:
                ideas.append((price * (s - x[j]) - gain, int(j), float(s)))
    for _, k, s in sorted(ideas)[:20]:
        lo3, hi3 = polish_bounds(p, x, lo, hi)
        lo3[k], hi3[k] = (floor[k], hi[k]) if s == on[k] and floor[k] < hi[k] else (s, s)
        attempt(lo3, hi3)
    # channels still inside their convex stretch: a small local solve over just them
    for _ in range(3):  # a channel pushed down to its inflection joins the stretch next round
        moved = _convex_stretch(p, x, lo, hi, budget)
        if moved is None or p.objective(moved) <= best:
            break
        x, best, note = (
            exact_total(moved, lo, hi, budget),
            p.objective(moved),
            "polished in a convex stretch",
        )
        attempt(*polish_bounds(p, x, lo, hi))
    return x, lam, it, note, grid.step


# --- rounding and results ------------------------------------------------------------------------


def round_to_step(
    p: Problem, x: FloatArray, lo: FloatArray, hi: FloatArray, step: float
) -> tuple[FloatArray, str]:
    """Round to multiples of `step` (within bounds) keeping ``sum(x)`` exact."""
    total = float(np.sum(x))
    down = np.clip(np.floor(x / step + 1e-9) * step, lo, hi)
    up = np.clip(np.ceil(x / step - 1e-9) * step, lo, hi)
    sshaped = ~p.concave_on(lo)
    for cand in (down, up):  # an S-shaped channel must not fall into its CPA cap's gap
        gap = sshaped & (cand > 0) & (cand < np.nan_to_num(p.cpa_low))
        cand[gap] = x[gap]
    inc = up - down
    gain = p.v * (p.stack.response(up) - p.stack.response(down))
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(inc > 0, gain / inc, -np.inf)
    out, left, remainder = down.copy(), total - float(np.sum(down)), ""
    for i in np.argsort(-rate, kind="stable"):
        if inc[i] <= 0 or left <= 0:
            continue
        take = min(inc[i], left)
        out[i] = up[i] if take == inc[i] else down[i] + take
        if take < inc[i] - 1e-9 * step:
            remainder = f"; {p.names[i]!r} takes the remainder that is not a multiple of the step"
        left -= take
    out = exact_total(out, lo, hi, total)
    return out, remainder
