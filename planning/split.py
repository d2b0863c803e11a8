"""The one split path of Optimize Split: a `SplitRequest` (the current split and the inputs,
resolved by the surface and checked here) and the fitted curves in, a `Proposal` out. The
button (`addin.actions.optimize_split`), the CSV mode (`addin.cli.optimize_csv`) and the
`OPTIMIZE_SPLIT` formula (`addin.functions`) all call `propose`; the defaults are here.

Amounts are over a period of `days` days (the month on the sheets, `--days` in the CSV mode,
one day in the formula); the curves are per day, so an amount ``x`` is ``x / days`` a day and a
daily response ``y`` is ``y * days`` over the period. The solver (`planning.optimize.maximize`)
works per day; the proposal is rounded to cents.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from planning.curves import ChannelFit, FitOptions, flag_number
from planning.errors import InputError, PlanningError
from planning.optimize import ChannelBounds, InfeasibleError, SplitResult, maximize
from planning.response import Curve, Linear
from planning.scenarios import Scenario, evaluate
from planning.split_flags import flag

PLAN_CPA_BAND = 1.5
"""A channel with no history gets the Plan's CPA, its band CPA x/÷ this factor."""
OBJECTIVES = ("leads", "value", "attributed")
DEFAULT_OBJECTIVE = "leads"
DEFAULT_CHANGE = 0.5
"""A channel without limits moves at most ±50% of its current spend (`SplitRequest.max_change`)."""
DEFAULT_STEP = 1000
"""The step a new Optimize Split sheet holds (the button rounds to it until the user types
another); the CSV mode and the formula round only when given a step."""


@dataclass(frozen=True)
class ChannelInputs:
    """A channel's inputs, in period amounts: spend bounds, a lock, an average CPA cap and the
    value of one conversion (``None``: not given)."""

    min: float = 0.0
    max: float = math.inf
    locked: bool = False
    cpa_cap: float | None = None
    value: float | None = None

    @property
    def unlimited(self) -> bool:
        """No limit given: min 0, no max, not locked (`SplitRequest.max_change` applies)."""
        return self.min == 0 and math.isinf(self.max) and not self.locked


@dataclass(frozen=True)
class SplitRequest:
    """What to split and how, every input resolved by the surface (an argument, else the sheet,
    else the default here) and checked here, once. Amounts are over `days` days.

    - `current`: each channel's spend now; its channels, in its order, are the proposal's;
    - `budget`: the amount to split (> 0);
    - `days`: the days the amounts cover (the curves are per day);
    - `inputs`: per channel its bounds, lock, CPA cap and value per conversion (a channel
      without any: `ChannelInputs()`; every channel of `current` has one after the checks);
    - `objective`: ``"leads"`` (the most conversions) or ``"value"`` (the most conversions x
      value per conversion; every channel with a curve needs a value); ``"attributed"`` is
      ``"leads"`` on curves whose conversions the caller re-weighted by attribution;
    - `step`: round each proposal to a multiple of it, the total staying `budget` (``None`` or
      0: no rounding);
    - `max_change`: a channel with no limits given (`ChannelInputs.unlimited`) and some current
      spend moves at most this share of it either way (0.5: between 50% and 150% of now), as
      budget optimisers such as Robyn do by default, since fitted curves are least
      trustworthy far from the spend they were fitted on; its line is flagged. With a `step`
      those limits are widened to its multiples (so the rounding can keep to them); 0: none.
    """

    current: Mapping[str, float]
    budget: float
    days: int = 1
    inputs: Mapping[str, ChannelInputs] = field(default_factory=dict)
    objective: str = DEFAULT_OBJECTIVE
    step: float | None = None
    max_change: float = DEFAULT_CHANGE

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise InputError(
                f"`objective` must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}"
            )
        budget = _positive("budget", self.budget)
        days = self.days
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise InputError(f"`days` must be a whole number of days >= 1, got {days!r}")
        step = self.step
        if step is not None and (not math.isfinite(step) or step < 0):
            raise InputError(f"`step` must be a number >= 0, got {step!r}")
        change = self.max_change
        ok = isinstance(change, int | float) and not isinstance(change, bool)
        if not ok or not math.isfinite(float(change)) or float(change) < 0:
            raise InputError(
                f"`max_change` must be a share >= 0 (0.5 = ±50%, 0 = no default limits), "
                f"got {change!r}"
            )
        current = {str(c): float(v) for c, v in self.current.items()}
        inputs = {c: self.inputs.get(c, ChannelInputs()) for c in current}
        object.__setattr__(self, "current", current)
        object.__setattr__(self, "budget", budget)
        object.__setattr__(self, "step", float(step) if step else None)
        object.__setattr__(self, "max_change", float(change))
        object.__setattr__(self, "inputs", inputs)

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(self.current)

    def limits(self) -> tuple[dict[str, ChannelInputs], set[str]]:
        """Each channel's inputs with the `max_change` limits put on the unlimited ones, and
        the channels that got them."""
        specs = dict(self.inputs)
        defaulted: set[str] = set()
        for c, spec in self.inputs.items():
            now = self.current[c]
            if spec.unlimited and self.max_change > 0 and now > 0:
                low = now * max(0.0, 1 - self.max_change)
                high = now * (1 + self.max_change)
                if self.step:  # widened to the step's multiples, so the rounding can keep to them
                    low = math.floor(low / self.step) * self.step
                    high = math.ceil(high / self.step) * self.step
                specs[c] = replace(spec, min=low, max=high)
                defaulted.add(c)
        return specs, defaulted


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


@dataclass(frozen=True)
class ProposalTotals:
    """A proposal's totals: sums of the absolutes (conversions of the channels with a curve);
    uplift %, CPAs and values recomputed from the sums (NaN where undefined; the values NaN
    unless every channel has a value per conversion)."""

    current: float
    proposed: float
    delta: float
    conversions_now: float
    expected_conversions: float
    low: float
    high: float
    uplift: float
    uplift_pct: float
    cpa_now: float
    cpa: float
    value_now: float
    value: float


@dataclass
class Proposal:
    """A proposed split: per channel (`channels`, in the request's order) and the diagnostics.

    `now` / `new`: the current split and the proposal evaluated on the curves (channels with a
    curve only); `result`: the solver's answer (per-day amounts; its `message` speaks of
    amounts a day); `values`: value per conversion per channel when every channel has one
    (else ``None``: no revenue figures); `history`: what the curves were fitted on.
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

    @property
    def totals(self) -> ProposalTotals:
        cur = sum(c.current for c in self.channels)
        new = sum(c.proposed for c in self.channels)
        conv_now = sum(c.conversions_now for c in self.channels if math.isfinite(c.expected))
        conv = sum(c.expected for c in self.channels if math.isfinite(c.expected))
        valued = self.values is not None
        return ProposalTotals(
            current=cur,
            proposed=new,
            delta=new - cur,
            conversions_now=conv_now,
            expected_conversions=conv,
            low=float(self.new.low.sum()),
            high=float(self.new.high.sum()),
            uplift=conv - conv_now,
            uplift_pct=(conv - conv_now) / conv_now if conv_now else math.nan,
            cpa_now=cur / conv_now if conv_now else math.nan,
            cpa=new / conv if conv else math.nan,
            value_now=self.now.total_revenue if valued else math.nan,
            value=self.new.total_revenue if valued else math.nan,
        )

    def status(self) -> str:
        """A short line for the sheet: whether it is exact, and the rounding."""
        r = self.result
        how = {"bisection": "exact", "grid-dp": "exact on a budget grid"}.get(r.method, r.method)
        if self.step:
            how += f", steps of {self.step:,.0f}"
        return ("ok: " if r.success else "failed: ") + how

    def to_dict(self) -> dict[str, Any]:
        """The JSON of `funnelplan optimize --json` and of the demo's summary."""
        r = self.result
        return {
            "objective": self.objective,
            "budget": self.budget,
            "days": self.days,
            "step": self.step,
            "history": self.history,
            "channels": [c.to_dict() for c in self.channels],
            "total": asdict(self.totals),
            "solver": {
                "method": r.method,
                "iterations": r.iterations,
                "multiplier": r.multiplier,
                "success": r.success,
                "message": r.message,
            },
        }


def _positive(name: str, value: Any) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(float(value)) or float(value) <= 0:
        raise InputError(f"`{name}` must be a number > 0, got {value!r}")
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
    flags = [
        f for f in fit.flags if getattr(f, "code", "") != "cap" and "extrapolation capped" not in f
    ]
    per_day = cp.proposed / days
    observed = fit.max_observed_spend
    if math.isfinite(observed) and observed > 0 and per_day > observed * (1 + 1e-9):
        flags.append(
            flag("extrapolated", times=f"{per_day / observed:.2f}", observed=f"{observed:,.0f}")
        )
    tol = max(0.5 * (step or 0.0), 1e-6 * max(cp.proposed, 1.0))
    if spec.locked:
        flags.append(flag("locked"))
    else:
        if spec.min > 0 and abs(cp.proposed - spec.min) <= tol:
            flags.append(flag("at_min"))
        if math.isfinite(spec.max) and abs(cp.proposed - spec.max) <= tol:
            flags.append(flag("at_max"))
    capped = spec.cpa_cap is not None and cp.expected > 0
    if capped and cp.proposed / cp.expected >= (spec.cpa_cap or 0.0) * (1 - 1e-3):
        flags.append(flag("cpa_cap", cap=f"{spec.cpa_cap:g}"))
    if math.isinf(cp.marginal_cpa) and cp.proposed > 0:
        flat = fit.curve.saturation * days
        flags.append(flag("saturated", flat=f"{flat:,.0f}"))
    return flags


def _free_budget(request: SplitRequest, excluded: list[str]) -> float:
    """The budget less what the channels without a curve keep (their current spend)."""
    kept = sum(request.current[c] for c in excluded)
    free = request.budget - kept
    if free <= 0:
        raise InfeasibleError(
            f"the budget {request.budget:,.2f} does not cover the {kept:,.2f} kept on channels "
            f"without a curve ({', '.join(excluded)}): short by {kept - request.budget:,.2f}"
        )
    return free


def _values(
    objective: str, specs: Mapping[str, ChannelInputs], included: list[str]
) -> dict[str, float] | None:
    """Value per conversion of every channel with a curve, or ``None`` when one has none (an
    error for the objective `value`)."""
    if all(specs[c].value is not None for c in included):
        return {c: float(specs[c].value or 0.0) for c in included}
    if objective == "value":
        missing = next(c for c in included if specs[c].value is None)
        raise InputError(
            "has no value per conversion; the objective `value` needs one for every channel",
            line=missing,
            column="value per conversion",
        )
    return None


def _solve(
    request: SplitRequest,
    curves: Mapping[str, Curve],
    specs: Mapping[str, ChannelInputs],
    defaulted: set[str],
    free: float,
    values: Mapping[str, float] | None,
) -> SplitResult:
    """`maximize` per day over the channels of `curves`; an infeasible split says the amounts'
    days and which channels have the default limits."""
    days, step = request.days, request.step
    bounds = {
        c: ChannelBounds(
            min=specs[c].min / days,
            max=specs[c].max / days,
            locked=specs[c].locked,
            cpa_cap=specs[c].cpa_cap,
        )
        for c in curves
    }
    try:
        result = maximize(
            curves,
            free / days,
            bounds=bounds,
            values=values if request.objective == "value" else None,
            current={c: request.current[c] / days for c in curves},
            step=step / days if step else None,
        )
    except InfeasibleError as err:
        message = str(err)
        if days != 1:
            message += f" (amounts a day: x {days} for the {days} days)"
        limited = [c for c in curves if c in defaulted]
        if limited:
            message += (
                f"; {', '.join(limited)} without min/max keep within "
                f"±{request.max_change:.0%} of current: set their min/max or a larger max change"
            )
        if message == str(err):
            raise
        raise InfeasibleError(message) from err
    if not result.success:
        raise PlanningError(f"Optimization failed: {result.message}")
    return result


def _kept_line(channel: str, spend: float) -> ChannelProposal:
    """The line of a channel without a curve: kept at its current spend."""
    return ChannelProposal(
        channel=channel,
        current=spend,
        proposed=spend,
        conversions_now=math.nan,
        expected=math.nan,
        low=math.nan,
        high=math.nan,
        marginal_cpa=math.nan,
        confidence="none",
        form="",
        flags=[flag("kept")],
    )


def propose(request: SplitRequest, fits: Mapping[str, ChannelFit], history: str = "") -> Proposal:
    """The best split of `request.budget` over its days across the channels of its `current`.

    `fits`: per channel its curve (per day); a channel without one is kept at its current
    spend and flagged. `history`: what the curves were fitted on (said with the proposal).
    Raises `InputError` on bad input, `InfeasibleError` when no split meets the limits.
    """
    days, step = request.days, request.step
    specs, defaulted = request.limits()
    included = [c for c in request.channels if c in fits]
    excluded = [c for c in request.channels if c not in fits]
    if not included:
        raise InputError(
            "no channel has a response curve (no history and no plan CPA): nothing to optimise"
        )
    free = _free_budget(request, excluded)
    values = _values(request.objective, specs, included)
    curves = {c: fits[c].curve for c in included}
    result = _solve(request, curves, specs, defaulted, free, values)
    proposed = _to_period(result.allocation, days, step, free)
    if abs(float(proposed.sum()) - free) > max(0.01, 1e-9 * free):
        raise PlanningError(
            f"Optimization failed: the split sums to {proposed.sum():,.2f}, not {free:,.2f}"
        )
    new_split = dict(zip(included, proposed.tolist(), strict=True))
    now = evaluate(fits, {c: request.current[c] for c in included}, values, days, name="current")
    new = evaluate(fits, new_split, values, days, name="proposal")
    lines: list[ChannelProposal] = []
    for c in request.channels:
        if c not in new_split:
            lines.append(_kept_line(c, request.current[c]))
            continue
        i = included.index(c)
        cp = ChannelProposal(
            channel=c,
            current=request.current[c],
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
            cp.flags.append(flag("default_limits", pct=f"{request.max_change:.0%}"))
        lines.append(cp)
    return Proposal(
        objective=request.objective,
        budget=request.budget,
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
    note = flag("low_plan_cpa", cpa=f"{cpa:,.0f}", capacity=flag_number(capacity))
    return ChannelFit(channel, Linear(cpa, capacity), "low", (note,), band, 0, 0.0, {}, (0.0, 1.0))
