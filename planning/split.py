"""The shared core of Optimize Split: fitted curves, the current split and the inputs in, a
`Proposal` out (the workbook action and the CSV mode both use it).

Amounts are over a period of `days` days (the month on the sheets, `--days` in the CSV mode);
the curves are per day, so an amount ``x`` is ``x / days`` a day and a daily response ``y`` is
``y * days`` over the period. The solver (`planning.optimize.maximize`) works per day.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from planning.curves import ChannelFit, FitOptions
from planning.errors import InputError, PlanningError
from planning.optimize import ChannelBounds, InfeasibleError, SplitResult, maximize
from planning.response import Linear
from planning.scenarios import Scenario, evaluate

PLAN_CPA_BAND = 1.5
"""A channel with no history gets the Plan's CPA, its band CPA x/÷ this factor."""
OBJECTIVES = ("leads", "value")


DEFAULT_CHANGE = 0.5  # a channel without limits moves at most ±50% of its current spend


@dataclass(frozen=True)
class ChannelInputs:
    """A channel's inputs, in period amounts: spend bounds, a lock, an average CPA cap and the
    value of one conversion (``None``: not given)."""

    min: float = 0.0
    max: float = math.inf
    locked: bool = False
    cpa_cap: float | None = None
    value: float | None = None


@dataclass
class ChannelProposal:
    """One channel's line of a proposal; money and conversions over the proposal's days."""

    channel: str
    current: float
    proposed: float
    conversions_now: float
    expected: float
    low: float
    high: float
    marginal_cpa: float
    confidence: str
    form: str
    flags: list[str] = field(default_factory=list)

    @property
    def delta(self) -> float:
        return self.proposed - self.current

    @property
    def delta_pct(self) -> float:
        return self.delta / self.current if self.current else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "current": self.current,
            "proposed": self.proposed,
            "delta": self.delta,
            "delta_pct": self.delta_pct,
            "conversions_now": self.conversions_now,
            "expected_conversions": self.expected,
            "low": self.low,
            "high": self.high,
            "marginal_cpa": self.marginal_cpa,
            "confidence": self.confidence,
            "form": self.form,
            "flags": list(self.flags),
        }


@dataclass
class Proposal:
    """A proposed split: per channel (`channels`, in the given order) and the diagnostics.

    `now` / `new`: the current split and the proposal evaluated on the curves (channels with a
    curve only); `result`: the solver's answer (per-day amounts); `values`: value per conversion
    per channel when every channel has one (else ``None``: no revenue figures).
    """

    objective: str
    budget: float
    days: int
    step: float | None
    channels: list[ChannelProposal]
    now: Scenario
    new: Scenario
    result: SplitResult
    fits: dict[str, ChannelFit]
    values: dict[str, float] | None
    history: str = ""

    def totals(self) -> dict[str, float]:
        """Sums of the absolutes; CPA, uplift % and value recomputed from the sums."""
        cur = sum(c.current for c in self.channels)
        new = sum(c.proposed for c in self.channels)
        conv_now = sum(c.conversions_now for c in self.channels if math.isfinite(c.expected))
        conv = sum(c.expected for c in self.channels if math.isfinite(c.expected))
        out = {
            "current": cur,
            "proposed": new,
            "delta": new - cur,
            "conversions_now": conv_now,
            "expected_conversions": conv,
            "low": float(self.new.low.sum()),
            "high": float(self.new.high.sum()),
            "uplift": conv - conv_now,
            "uplift_pct": (conv - conv_now) / conv_now if conv_now else math.nan,
            "cpa_now": cur / conv_now if conv_now else math.nan,
            "cpa": new / conv if conv else math.nan,
            "value_now": math.nan,
            "value": math.nan,
        }
        if self.values is not None:
            out["value_now"] = self.now.total_revenue
            out["value"] = self.new.total_revenue
        return out

    def solver(self) -> dict[str, Any]:
        """The solver's diagnostics (its `message` speaks of amounts a day)."""
        r = self.result
        return {
            "method": r.method,
            "iterations": r.iterations,
            "multiplier": r.multiplier,
            "success": r.success,
            "message": r.message,
        }

    def status(self) -> str:
        """A short line for the sheet: whether it is exact, and the rounding."""
        r = self.result
        how = {"bisection": "exact", "grid-dp": "exact on a budget grid"}.get(r.method, r.method)
        if self.step:
            how += f", steps of {self.step:,.0f}"
        return ("ok: " if r.success else "failed: ") + how

    def to_dict(self) -> dict[str, Any]:
        """The JSON the CLI prints."""
        return {
            "objective": self.objective,
            "budget": self.budget,
            "days": self.days,
            "step": self.step,
            "history": self.history,
            "channels": [c.to_dict() for c in self.channels],
            "total": self.totals(),
            "solver": self.solver(),
        }


def _positive(name: str, value: Any) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(float(value)) or float(value) <= 0:
        raise InputError(f"`{name}` must be a number > 0, got {value!r}")
    return float(value)


def check_change(name: str, value: Any) -> float:
    """A max change (a share of the current spend, 0.5 = ±50%; 0 = no default limits)."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(float(value)) or float(value) < 0:
        raise InputError(
            f"`{name}` must be a share >= 0 (0.5 = ±50%, 0 = no default limits), got {value!r}"
        )
    return float(value)


def _to_period(per_day: np.ndarray, days: int, step: float | None, total: float) -> np.ndarray:
    """Per-day amounts x `days`, snapped to multiples of `step` where they are one up to float
    noise, in cents, with the float residue put on the largest so the sum is `total` exactly."""
    p = np.asarray(per_day, dtype=np.float64) * days
    if step:
        k = np.round(p / step)
        p = np.where(np.abs(p - k * step) <= 1e-6 * step, k * step, p)
    p = np.round(p, 2)
    residue = round(total - float(p.sum()), 2)
    if p.size and residue and abs(residue) <= 0.01 * p.size + 1e-9:
        p[int(np.argmax(p))] += residue
    return p


def _flags(
    fit: ChannelFit, spec: ChannelInputs, cp: ChannelProposal, days: int, step: float | None
) -> list[str]:
    """What the user should know about a channel's line, most important first."""
    # The fit's extrapolation-cap note is said here only when the proposal reaches past what
    # was observed, in the period's amounts (the fit speaks per day).
    flags = [f for f in fit.flags if "extrapolation capped" not in f]
    per_day = cp.proposed / days
    observed = fit.max_observed_spend
    if math.isfinite(observed) and observed > 0 and per_day > observed * (1 + 1e-9):
        flags.append(
            f"extrapolated: x{per_day / observed:.2f} the highest daily spend seen "
            f"({observed:,.0f} a day)"
        )
    tol = max(0.5 * (step or 0.0), 1e-6 * max(cp.proposed, 1.0))
    if spec.locked:
        flags.append("locked")
    else:
        if spec.min > 0 and abs(cp.proposed - spec.min) <= tol:
            flags.append("at min")
        if math.isfinite(spec.max) and abs(cp.proposed - spec.max) <= tol:
            flags.append("at max")
    capped = spec.cpa_cap is not None and cp.expected > 0
    if capped and cp.proposed / cp.expected >= (spec.cpa_cap or 0.0) * (1 - 1e-3):
        flags.append(f"at CPA cap {spec.cpa_cap:g}")
    if math.isinf(cp.marginal_cpa) and cp.proposed > 0:
        flat = fit.curve.saturation * days
        flags.append(f"saturated: no more conversions beyond {flat:,.0f}")
    return flags


def propose(
    fits: Mapping[str, ChannelFit],
    current: Mapping[str, float],
    budget: float,
    *,
    days: int = 1,
    inputs: Mapping[str, ChannelInputs] | None = None,
    objective: str = "leads",
    step: float | None = None,
    history: str = "",
    default_change: float = DEFAULT_CHANGE,
) -> Proposal:
    """The best split of `budget` over `days` days across the channels of `current`.

    `current`: each channel's spend over the period now (its order is the proposal's);
    `fits`: per channel its curve (per day); a channel of `current` without one is kept at its
    current spend and flagged. `inputs`: per channel bounds, lock, CPA cap and value per
    conversion, in period amounts. `objective`: ``"leads"`` (the most conversions) or
    ``"value"`` (the most conversions x value per conversion; every channel needs a value).
    `step`: round each proposal to a multiple of it (the total stays `budget`).
    `default_change`: a channel with no limits given (min 0, no max) and some current spend
    may move at most this share of it either way (0.5: between 50% and 150% of now), as
    budget optimisers such as Robyn do by default; its line is flagged so the user knows.
    Fitted curves are least trustworthy far from the spend they were fitted on. With a `step`
    those limits are widened to its multiples (so the rounding can keep to them); 0 disables.
    """
    if objective not in OBJECTIVES:
        raise InputError(f"`objective` must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    budget = _positive("budget", budget)
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise InputError(f"`days` must be a whole number of days >= 1, got {days!r}")
    if step is not None and (not math.isfinite(step) or step < 0):
        raise InputError(f"`step` must be a number >= 0, got {step!r}")
    step = step or None
    default_change = check_change("default_change", default_change)
    inputs = dict(inputs or {})
    now_spend = {c: float(v) for c, v in current.items()}
    specs = {c: inputs.get(c, ChannelInputs()) for c in current}
    defaulted: set[str] = set()
    for c, spec in specs.items():
        unset = spec.min == 0 and math.isinf(spec.max) and not spec.locked
        if unset and default_change > 0 and now_spend[c] > 0:
            low = now_spend[c] * max(0.0, 1 - default_change)
            high = now_spend[c] * (1 + default_change)
            if step:  # widened to the step's multiples, so the rounding can keep to them
                low, high = math.floor(low / step) * step, math.ceil(high / step) * step
            specs[c] = replace(spec, min=low, max=high)
            defaulted.add(c)
    included = [c for c in now_spend if c in fits]
    excluded = [c for c in now_spend if c not in fits]
    if not included:
        raise InputError(
            "no channel has a response curve (no history and no plan CPA): nothing to optimise"
        )
    kept = sum(now_spend[c] for c in excluded)
    free = budget - kept
    if free <= 0:
        raise InfeasibleError(
            f"the budget {budget:,.2f} does not cover the {kept:,.2f} kept on channels without "
            f"a curve ({', '.join(excluded)}): short by {kept - budget:,.2f}"
        )
    values: dict[str, float] | None = None
    if all(specs[c].value is not None for c in included):
        values = {c: float(specs[c].value or 0.0) for c in included}
    elif objective == "value":
        missing = next(c for c in included if specs[c].value is None)
        raise InputError(
            "has no value per conversion; the objective `value` needs one for every channel",
            line=missing,
            column="value per conversion",
        )
    bounds = {
        c: ChannelBounds(
            min=specs[c].min / days,
            max=specs[c].max / days,
            locked=specs[c].locked,
            cpa_cap=specs[c].cpa_cap,
        )
        for c in included
    }
    try:
        result = maximize(
            {c: fits[c].curve for c in included},
            free / days,
            bounds=bounds,
            values=values if objective == "value" else None,
            current={c: now_spend[c] / days for c in included},
            step=step / days if step else None,
        )
    except InfeasibleError as err:
        message = str(err)
        if days != 1:
            message += f" (amounts a day: x {days} for the {days} days)"
        if defaulted & set(included):
            message += (
                f"; {', '.join(c for c in included if c in defaulted)} without min/max keep "
                f"within ±{default_change:.0%} of current: set their min/max or a larger max change"
            )
        if message == str(err):
            raise
        raise InfeasibleError(message) from err
    if not result.success:
        raise PlanningError(f"Optimization failed: {result.message}")
    proposed = _to_period(result.allocation, days, step, free)
    if abs(float(proposed.sum()) - free) > max(0.01, 1e-9 * free):
        raise PlanningError(
            f"Optimization failed: the split sums to {proposed.sum():,.2f}, not {free:,.2f}"
        )
    new_split = dict(zip(included, proposed.tolist(), strict=True))
    now = evaluate(fits, {c: now_spend[c] for c in included}, values, days, name="current")
    new = evaluate(fits, new_split, values, days, name="proposal")
    lines: list[ChannelProposal] = []
    for c in now_spend:
        if c in new_split:
            i = included.index(c)
            cp = ChannelProposal(
                channel=c,
                current=now_spend[c],
                proposed=new_split[c],
                conversions_now=float(now.conversions[i]),
                expected=float(new.conversions[i]),
                low=float(new.low[i]),
                high=float(new.high[i]),
                marginal_cpa=float(new.marginal_cpa[i]),
                confidence=fits[c].confidence,
                form=fits[c].curve.form,
            )
            cp.flags = _flags(fits[c], specs[c], cp, days, step)
            if c in defaulted:
                cp.flags.append(
                    f"default limits ±{default_change:.0%} of current (set min/max to change)"
                )
        else:
            cp = ChannelProposal(
                channel=c,
                current=now_spend[c],
                proposed=now_spend[c],
                conversions_now=math.nan,
                expected=math.nan,
                low=math.nan,
                high=math.nan,
                marginal_cpa=math.nan,
                confidence="none",
                form="",
                flags=["no history and no plan CPA: kept at its current spend"],
            )
        lines.append(cp)
    return Proposal(
        objective=objective,
        budget=budget,
        days=days,
        step=step,
        channels=lines,
        now=now,
        new=new,
        result=result,
        fits=dict(fits),
        values=values,
        history=history,
    )


def plan_cpa_fit(channel: str, spend: float, leads: float, days: int) -> ChannelFit | None:
    """The low-confidence fallback for a channel with no history: the Plan's CPA (monthly
    `spend p` / `leads p`), capacity 1.75 x the planned leads a day; band CPA x/÷ 1.5.
    ``None`` when the Plan gives no CPA (no spend or no leads planned)."""
    if not (spend > 0 and leads > 0 and math.isfinite(spend) and math.isfinite(leads)):
        return None
    cpa = spend / leads
    capacity = FitOptions().extrapolation * leads / days
    band = (Linear(cpa * PLAN_CPA_BAND, capacity), Linear(cpa / PLAN_CPA_BAND, capacity))
    flag = (
        f"low confidence: no history; the Plan's CPA {cpa:,.0f} up to {capacity:,.3g} "
        "conversions/day"
    )
    return ChannelFit(channel, Linear(cpa, capacity), "low", (flag,), band, 0, 0.0, {}, (0.0, 1.0))
