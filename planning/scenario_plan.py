"""Scenarios as the strategist types them: budget instructions → splits → outcomes → the best.

A scenario is written against the current plan (seed 000, step 4: "+20% budget → how many more
leads?", "−30% Context, +30% Programmatic → ROMI?"):

- per channel, an amount for the period or a change (``+20%``, ``-30%``); blank: unchanged;
- `budget`: a change applied to every channel (``+20%`` scales the whole split) or an amount
  (the split scaled to that total, the shares kept);
- `moves`: ``30% from Context to Programmatic`` (several separated by ``;``): 30% of the
  source's spend moves to the target, the total kept (`planning.scenarios.move`);
- `value per lead`: one value per lead for every channel instead of the plan's per channel.

They apply in that order: channel cells, then the budget, then the moves. `resolve` turns a
`ScenarioSpec` into a spend per channel; `outcomes` evaluates splits on the fitted curves with
`planning.scenarios.evaluate` (the same numbers as `planning.scenarios.compare`) and adds what
the funnel below leads gives: purchases = leads x the plan's purchases per lead, revenue = leads
x value per lead, CAC, ROAS, ROMI, each total summed from absolutes with its ratios recomputed
from the sums, and the Δ against the first split (the current plan). A channel whose daily spend
goes past the highest daily spend of its history is flagged as extrapolated. `best` names the
best scenario under an objective: most leads, most value, or the best ROMI among scenarios that
bring at least a minimum of leads.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from numbers import Real
from typing import Any, Literal

import numpy as np

from planning.curves import ChannelFit
from planning.errors import InputError
from planning.scenarios import Scenario, evaluate, move
from planning.split_flags import flag

__all__ = [
    "OBJECTIVES",
    "Change",
    "Economics",
    "Move",
    "Outcome",
    "ScenarioOutcome",
    "ScenarioSpec",
    "best",
    "outcomes",
    "parse_change",
    "parse_moves",
    "resolve",
]

Objective = Literal["leads", "value", "romi"]
OBJECTIVES: tuple[str, ...] = ("leads", "value", "romi")
TOTAL = "Total"

_PCT = re.compile(r"^([+\-−–]?)\s*(\d+(?:[.,]\d+)?)\s*%$")
_MOVE = re.compile(
    r"^(?:move\s+|перенести\s+)?(\d+(?:[.,]\d+)?)\s*%\s*(?:of\s+)?(?:from|из|с)\s+(.+?)\s+"
    r"(?:to|into|в|на)\s+(.+)$",
    re.IGNORECASE,
)


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _number_text(text: str) -> float | None:
    """``"1 200 000"``, ``"1200000,5"``, ``"1,200,000.5"`` as a number; None if it is not one."""
    compact = re.sub(r"[\s\u00a0\u202f]", "", text)
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", compact):
        compact = compact.replace(",", "")
    compact = compact.replace(",", ".")
    try:
        return float(compact)
    except ValueError:
        return None


# --- inputs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """A budget instruction: an `amount` for the period, or a `pct` change (+20 = +20%)."""

    amount: float | None = None
    pct: float | None = None

    def apply(self, current: float) -> float:
        if self.amount is not None:
            return self.amount
        assert self.pct is not None
        return current * (1.0 + self.pct / 100.0)


def parse_change(value: Any, where: str, column: str) -> Change | None:
    """A cell as a `Change`: a number is an amount (>= 0), ``+20%`` / ``-30%`` a change (a
    number formatted as a percentage arrives as its fraction and is read as an amount: type
    the sign, ``+20%``); blank is None. Anything else is an error naming the cell and value."""
    if _blank(value):
        return None
    if _is_number(value):
        amount = float(value)
    else:
        text = str(value).strip()
        found = _PCT.match(text)
        if found:
            sign = -1.0 if found.group(1) in ("-", "−", "–") else 1.0
            pct = sign * float(found.group(2).replace(",", "."))
            if pct < -100:
                raise InputError(
                    "cuts more than 100%: a budget cannot be negative",
                    line=where,
                    column=column,
                    value=value,
                )
            return Change(pct=pct)
        parsed = _number_text(text)
        if parsed is None:
            raise InputError(
                "is not an amount or a change like +20% or -30%",
                line=where,
                column=column,
                value=value,
            )
        amount = parsed
    if not math.isfinite(amount) or amount < 0:
        raise InputError(
            "must be an amount >= 0 (or a change like -30%)", line=where, column=column, value=value
        )
    return Change(amount=amount)


@dataclass(frozen=True)
class Move:
    """`pct` % (0-100) of channel `src`'s spend moves to channel `dst`."""

    pct: float
    src: str
    dst: str


def parse_moves(value: Any, where: str, column: str = "moves") -> tuple[Move, ...]:
    """``30% from Context to Programmatic; 10% from VK Ads to Meta Ads`` (``из … в …`` too)."""
    if _blank(value):
        return ()
    moves: list[Move] = []
    for part in re.split(r"[;\n]", str(value)):
        text = part.strip()
        if not text:
            continue
        found = _MOVE.match(text)
        if not found:
            raise InputError(
                "is not a move like '30% from Context to Programmatic'",
                line=where,
                column=column,
                value=text,
            )
        pct = float(found.group(1).replace(",", "."))
        if pct > 100:
            raise InputError(
                "moves more than 100% of a channel", line=where, column=column, value=text
            )
        moves.append(Move(pct, found.group(2).strip(), found.group(3).strip()))
    return tuple(moves)


@dataclass(frozen=True)
class ScenarioSpec:
    """One typed scenario. `where` names its row for messages; `refs` a cell per column
    (``budget``, ``moves``, ``value per lead`` and each channel) when known."""

    name: str
    where: str = ""
    budget: Change | None = None
    channels: Mapping[str, Change] = field(default_factory=dict)
    moves: tuple[Move, ...] = ()
    value_per_lead: float | None = None
    refs: Mapping[str, str] = field(default_factory=dict)

    def ref(self, column: str) -> str:
        return self.refs.get(column, self.where)


def _channel(name: str, spend: Mapping[str, float], spec: ScenarioSpec) -> str:
    """`name` as one of the split's channels (case and spaces ignored), else an error."""
    wanted = " ".join(name.split()).casefold()
    for channel in spend:
        if " ".join(channel.split()).casefold() == wanted:
            return channel
    raise InputError(
        f"names {name!r}, which is not a channel of the plan ({', '.join(spend)})",
        line=spec.ref("moves"),
        column="moves",
    )


def resolve(base: Mapping[str, float], spec: ScenarioSpec) -> dict[str, float]:
    """The scenario's spend per channel (the channels of `base`, in its order)."""
    spend = {c: float(v) for c, v in base.items()}
    for channel, change in spec.channels.items():
        if channel not in spend:
            raise InputError(
                f"is not a channel of the plan ({', '.join(spend)})",
                line=spec.ref(channel),
                column=channel,
                value=channel,
            )
        spend[channel] = change.apply(spend[channel])
    if spec.budget is not None:
        total = sum(spend.values())
        if spec.budget.amount is not None and total <= 0:
            raise InputError(
                "cannot be spread: every channel's budget is 0",
                line=spec.ref("budget"),
                column="budget",
                value=spec.budget.amount,
            )
        target = spec.budget.apply(total)
        spend = {c: v * target / total if total else 0.0 for c, v in spend.items()}
    for m in spec.moves:
        src, dst = _channel(m.src, spend, spec), _channel(m.dst, spend, spec)
        if src == dst:
            raise InputError(
                f"moves from {src!r} to itself", line=spec.ref("moves"), column="moves"
            )
        if spend[src] <= 0:
            raise InputError(
                f"moves from {src!r}, which has no budget in this scenario",
                line=spec.ref("moves"),
                column="moves",
            )
        spend = move(spend, src, dst, m.pct)
    for channel, v in spend.items():
        if not math.isfinite(v) or v < 0:
            raise InputError(
                f"gives {channel!r} a negative budget ({v:,.0f})",
                line=spec.where,
                column=channel,
            )
    return spend


# --- outcomes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Economics:
    """What a lead is worth below the curves, per channel: purchases per lead and value per
    lead (revenue per lead; nan where the plan has none)."""

    purchases_per_lead: Mapping[str, float]
    value_per_lead: Mapping[str, float]


@dataclass(frozen=True)
class Outcome:
    """One channel (or the `TOTAL`) of a scenario, over the period."""

    channel: str
    spend: float
    leads: float
    leads_low: float
    leads_high: float
    purchases: float
    purchases_low: float
    purchases_high: float
    revenue: float
    delta_leads: float
    delta_romi: float
    flags: tuple[str, ...] = ()

    @property
    def cpa(self) -> float:
        return _ratio(self.spend, self.leads)

    @property
    def cac(self) -> float:
        return _ratio(self.spend, self.purchases)

    @property
    def roas(self) -> float:
        return _ratio(self.revenue, self.spend)

    @property
    def romi(self) -> float:
        return _ratio(self.revenue - self.spend, self.spend)


@dataclass(frozen=True)
class ScenarioOutcome:
    """A scenario evaluated: its channels, its total, and `scenario` (the curves' evaluation,
    `planning.scenarios.Scenario`)."""

    name: str
    channels: tuple[Outcome, ...]
    total: Outcome
    scenario: Scenario


def _ratio(num: float, den: float) -> float:
    return num / den if den and math.isfinite(den) and math.isfinite(num) else math.nan


def _nan_sum(values: Sequence[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(sum(finite)) if finite else math.nan


def _extrapolated(fit: ChannelFit, spend: float, days: int) -> tuple[str, ...]:
    observed = fit.max_observed_spend
    per_day = spend / days
    if math.isfinite(observed) and observed > 0 and per_day > observed * 1.0001:
        return (flag("extrapolated_scenario", times=f"{per_day / observed:.2f}"),)
    return ()


def _channel_rows(
    s: Scenario, fits: Mapping[str, ChannelFit], economics: Economics
) -> list[Outcome]:
    rows = []
    for i, c in enumerate(s.channels):
        ppl = economics.purchases_per_lead.get(c, math.nan)
        rows.append(
            Outcome(
                channel=c,
                spend=float(s.spend[i]),
                leads=float(s.conversions[i]),
                leads_low=float(s.low[i]),
                leads_high=float(s.high[i]),
                purchases=float(s.conversions[i]) * ppl,
                purchases_low=float(s.low[i]) * ppl,
                purchases_high=float(s.high[i]) * ppl,
                revenue=float(s.revenue[i]),
                delta_leads=math.nan,
                delta_romi=math.nan,
                flags=_extrapolated(fits[c], float(s.spend[i]), s.days),
            )
        )
    return rows


def _total(rows: Sequence[Outcome]) -> Outcome:
    return Outcome(
        channel=TOTAL,
        spend=float(sum(r.spend for r in rows)),
        leads=float(sum(r.leads for r in rows)),
        leads_low=float(sum(r.leads_low for r in rows)),
        leads_high=float(sum(r.leads_high for r in rows)),
        purchases=_nan_sum([r.purchases for r in rows]),
        purchases_low=_nan_sum([r.purchases_low for r in rows]),
        purchases_high=_nan_sum([r.purchases_high for r in rows]),
        revenue=_nan_sum([r.revenue for r in rows]),
        delta_leads=math.nan,
        delta_romi=math.nan,
        flags=tuple(f"{r.channel}: {f}" for r in rows for f in r.flags),
    )


def _with_delta(row: Outcome, base: Outcome | None) -> Outcome:
    if base is None:
        return row
    return replace(row, delta_leads=row.leads - base.leads, delta_romi=row.romi - base.romi)


def outcomes(
    fits: Mapping[str, ChannelFit],
    splits: Mapping[str, Mapping[str, float]],
    economics: Economics,
    days: int,
    values: Mapping[str, float | None] | None = None,
) -> list[ScenarioOutcome]:
    """Each split of `splits` (name → spend per channel over `days` days) evaluated; the Δ
    columns are against the first split. `values` may give a scenario one value per lead for
    every channel (else the economics' per channel; a channel without one has no revenue)."""
    results: list[ScenarioOutcome] = []
    base: dict[str, Outcome] = {}
    for n, (name, spend) in enumerate(splits.items()):
        override = (values or {}).get(name)
        per_lead = {
            c: (override if override is not None else economics.value_per_lead.get(c, math.nan))
            for c in spend
        }
        known = {c: v for c, v in per_lead.items() if v is not None and math.isfinite(v)}
        scenario = evaluate(fits, spend, per_lead if len(known) == len(spend) else None, days, name)
        if len(known) != len(spend) and known:  # revenue from the channels that have a value
            scenario = _partial_values(scenario, per_lead)
        rows = _channel_rows(scenario, fits, economics)
        total = _total(rows)
        if n == 0:
            base = {r.channel: r for r in [*rows, total]}
        rows = [_with_delta(r, base.get(r.channel)) for r in rows]
        results.append(
            ScenarioOutcome(name, tuple(rows), _with_delta(total, base[TOTAL]), scenario)
        )
    return results


def _partial_values(scenario: Scenario, per_lead: Mapping[str, float | None]) -> Scenario:
    """`scenario` with the values of the channels that have one (nan for the others)."""
    value = np.array(
        [v if v is not None and math.isfinite(v) else math.nan for v in per_lead.values()]
    )
    return replace(scenario, value_per_conversion=value)


def best(
    results: Sequence[ScenarioOutcome], objective: str, min_leads: float | None = None
) -> str | None:
    """The name of the best scenario under `objective` (``leads``: most leads; ``value``: most
    revenue; ``romi``: the best ROMI among scenarios with at least `min_leads` leads); None when
    no scenario qualifies (or every candidate's measure is undefined)."""
    if objective not in OBJECTIVES:
        raise InputError(
            f"must be one of {', '.join(OBJECTIVES)}", column="objective", value=objective
        )
    floor = -math.inf if min_leads is None else float(min_leads)
    measure = {
        "leads": lambda t: t.leads,
        "value": lambda t: t.revenue,
        "romi": lambda t: t.romi,
    }[objective]
    scored = [
        (measure(r.total), r.name)
        for r in results
        if r.total.leads >= floor and not math.isnan(measure(r.total))
    ]
    return max(scored, key=lambda x: x[0])[1] if scored else None
