"""The month's review in numbers: achieved vs missed per channel, performers, surprises.

One `ChannelReview` per channel (and one for the total) from the Plan's lines summed per channel
(`planning.variance_total.total_line`: a metric blank in any line of the channel is blank in the
channel). The KPIs are ``spend``, ``leads``, the outcome (the funnel's last stage, "purchases"),
``revenue`` and the ratios recomputed from those sums (never averaged): CPL = spend / leads,
CPA = spend / outcome, ROMI = (revenue − spend) / spend.

The decisions, all in `ReviewRules` (the Review sheet's input cells):

- **% of plan.** A count (leads, outcome, revenue) is ``actual / plan``; a cost (CPL, CPA) is
  ``plan / actual``, so for every KPI above 100 % is better than planned. ROMI is a difference
  (``actual − plan``, in points), it can be negative. Spend's % is shown, it is not judged.
- **Achieved** when that % is at least `achieved_from` (1.0 = 100 %); ROMI when ``actual >=
  plan``. A channel is *achieved* when both its outcome and its CPA are, *missed* when both are
  not, else *mixed*; *no plan* when its outcome has no plan (blank or 0), *no fact* when it has
  one but no actual.
- **Top performers**: channels whose outcome is achieved, the highest outcome % first (ties: the
  better CPA %); **underperformers**: those missed on the outcome, the lowest % first; at most
  `top` of each.
- **Surprises**: a KPI of a channel that moved by at least `surprise_vs_plan` from its plan, or
  `surprise_vs_last` from last month (``actual / reference − 1``); counts (or, for a cost, the
  count under it) below `min_count` on both sides are noise and never a surprise. Largest first,
  at most `max_surprises`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from planning.errors import InputError
from planning.funnel import Funnel
from planning.variance import PlanFact
from planning.variance_total import total_line

__all__ = [
    "COSTS",
    "COUNTS",
    "KPIS",
    "ChannelReview",
    "Kpi",
    "ReviewRules",
    "Surprise",
    "kpi_values",
    "leads_stage",
    "performers",
    "review_channels",
    "surprises",
]

#: The KPIs in the order the sheet shows them; ``outcome`` is the funnel's last stage.
KPIS = ("spend", "leads", "outcome", "revenue", "cpl", "cpa", "romi")
COUNTS = ("leads", "outcome", "revenue")
COSTS = ("cpl", "cpa")
#: The count under each cost (what makes it noise when small).
_UNDER = {"cpl": "leads", "cpa": "outcome"}


@dataclass(frozen=True)
class ReviewRules:
    """The rule the user tunes on the Review sheet (module docstring)."""

    achieved_from: float = 1.0
    surprise_vs_plan: float = 0.25
    surprise_vs_last: float = 0.25
    min_count: float = 10.0
    top: int = 3
    max_surprises: int = 10

    def __post_init__(self) -> None:
        for name in ("achieved_from", "surprise_vs_plan", "surprise_vs_last", "min_count"):
            v = getattr(self, name)
            if not math.isfinite(v) or v < 0:
                raise InputError(f"{name} must be a number >= 0", value=v)
        if self.top < 0 or self.max_surprises < 0:
            raise InputError("top and max_surprises must be >= 0", value=self.top)


@dataclass(frozen=True)
class Kpi:
    """One KPI of one channel: plan, actual, % of plan (module docstring; ROMI: the difference)
    and whether it is achieved (None: not judged, or no plan)."""

    key: str
    plan: float
    actual: float
    pct: float
    achieved: bool | None


@dataclass(frozen=True)
class ChannelReview:
    """A channel's KPIs (by `KPIS` key), its status and last month's KPIs (NaN where unknown)."""

    channel: str
    kpis: Mapping[str, Kpi]
    status: str
    last: Mapping[str, float] = field(default_factory=dict)

    def actual(self, key: str) -> float:
        return self.kpis[key].actual


@dataclass(frozen=True)
class Surprise:
    """A KPI far from its reference: `against` is ``plan`` or ``last month``; `change` is
    ``actual / reference − 1``; `good` says whether the move is good for the team."""

    channel: str
    key: str
    against: str
    actual: float
    reference: float
    change: float
    good: bool


def leads_stage(funnel: Funnel) -> str:
    """The stage the CPL is counted on: ``leads`` when the funnel has it, else its second stage
    (its first when it has one)."""
    if "leads" in funnel.names:
        return "leads"
    return funnel.names[1] if len(funnel.names) > 1 else funnel.names[0]


def _num(values: Mapping[str, float | None], key: str) -> float:
    v = values.get(key)
    return math.nan if v is None else float(v)


def _div(a: float, b: float) -> float:
    return a / b if b != 0 and math.isfinite(a) and math.isfinite(b) else math.nan


def kpi_values(side: Mapping[str, float | None], funnel: Funnel) -> dict[str, float]:
    """The KPIs of one side's absolutes (ratios from these absolutes; NaN where undefined)."""
    spend = _num(side, "spend")
    leads = _num(side, leads_stage(funnel))
    outcome = _num(side, funnel.names[-1])
    revenue = _num(side, "revenue")
    return {
        "spend": spend,
        "leads": leads,
        "outcome": outcome,
        "revenue": revenue,
        "cpl": _div(spend, leads),
        "cpa": _div(spend, outcome),
        "romi": _div(revenue - spend, spend),
    }


def _kpi(key: str, plan: float, actual: float, achieved_from: float) -> Kpi:
    if key == "romi":
        pct = actual - plan if math.isfinite(actual) and math.isfinite(plan) else math.nan
        return Kpi(key, plan, actual, pct, None if math.isnan(pct) else pct >= 0)
    pct = _div(plan, actual) if key in COSTS else _div(actual, plan)
    judged = key != "spend" and math.isfinite(pct)
    return Kpi(key, plan, actual, pct, (pct >= achieved_from) if judged else None)


def _status(kpis: Mapping[str, Kpi]) -> str:
    outcome, cpa = kpis["outcome"].achieved, kpis["cpa"].achieved
    if outcome is None:
        planned = kpis["outcome"].plan
        return "no fact" if math.isfinite(planned) and planned > 0 else "no plan"
    if cpa is None or outcome == cpa:
        return "achieved" if outcome else "missed"
    return "mixed"


def review_channels(
    lines: Sequence[PlanFact],
    funnel: Funnel,
    rules: ReviewRules = ReviewRules(),
    last: Mapping[str, Mapping[str, float | None]] | None = None,
    total_label: str = "Total",
) -> list[ChannelReview]:
    """One review per channel (lines grouped by `PlanFact.label`, in first-seen order), then the
    total over every line. `last`: per channel (and `total_label`) last month's absolutes."""
    order: dict[str, list[PlanFact]] = {}
    for line in lines:
        order.setdefault(line.label, []).append(line)
    groups = [(channel, total_line(group, funnel, channel)) for channel, group in order.items()]
    if lines:
        groups.append((total_label, total_line(lines, funnel, total_label)))
    out = []
    for channel, pf in groups:
        plan, actual = kpi_values(pf.plan, funnel), kpi_values(pf.fact, funnel)
        kpis = {k: _kpi(k, plan[k], actual[k], rules.achieved_from) for k in KPIS}
        before = (last or {}).get(channel)
        last_kpis = kpi_values(before, funnel) if before is not None else {}
        out.append(ChannelReview(channel, kpis, _status(kpis), last_kpis))
    return out


def performers(
    reviews: Sequence[ChannelReview], rules: ReviewRules = ReviewRules(), total_label: str = "Total"
) -> tuple[list[ChannelReview], list[ChannelReview]]:
    """(top performers, underperformers) by the outcome's % of plan (module docstring)."""
    channels = [r for r in reviews if r.channel != total_label]
    judged = [r for r in channels if r.kpis["outcome"].achieved is not None]

    def key(r: ChannelReview) -> tuple[float, float]:
        cpa = r.kpis["cpa"].pct
        return r.kpis["outcome"].pct, cpa if math.isfinite(cpa) else -math.inf

    top = sorted((r for r in judged if r.kpis["outcome"].achieved), key=key, reverse=True)
    under = sorted((r for r in judged if not r.kpis["outcome"].achieved), key=key)
    return top[: rules.top], under[: rules.top]


def _noise(
    review: ChannelReview, key: str, reference: Mapping[str, float], rules: ReviewRules
) -> bool:
    count = _UNDER.get(key, key)
    if count not in COUNTS:
        return False
    a, b = review.actual(count), reference.get(count, math.nan)
    return not (a >= rules.min_count or b >= rules.min_count)


def surprises(
    reviews: Sequence[ChannelReview], rules: ReviewRules = ReviewRules(), total_label: str = "Total"
) -> list[Surprise]:
    """KPIs (counts and costs) far from plan or from last month, the largest move first."""
    found: list[Surprise] = []
    for r in reviews:
        if r.channel == total_label:
            continue
        plans = {k: r.kpis[k].plan for k in KPIS}
        for against, reference, threshold in (
            ("plan", plans, rules.surprise_vs_plan),
            ("last month", r.last, rules.surprise_vs_last),
        ):
            for key in (*COUNTS, *COSTS):
                actual, ref = r.actual(key), reference.get(key, math.nan)
                change = _div(actual, ref) - 1
                if not math.isfinite(change) or ref <= 0 or abs(change) < threshold:
                    continue
                if _noise(r, key, reference, rules):
                    continue
                good = change < 0 if key in COSTS else change > 0
                found.append(Surprise(r.channel, key, against, actual, ref, change, good))
    found.sort(key=lambda s: (-abs(s.change), s.channel, s.key, s.against))
    return found[: rules.max_surprises]
