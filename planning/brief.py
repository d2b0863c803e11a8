"""The brief for Month+1: budget and KPIs per channel, and next month's lines planned to them.

**The rule** (`brief_line`): the budget is Optimize Split's proposal for the channel when there is
one, else this month's planned budget. The leads are this month's actual CPL (run-rate or fact,
whichever the review compares) applied to that budget, corrected by the split's response curve
for diminishing returns::

    leads = actual_leads × (budget / actual_spend) × (expected / now) / (proposed / current)

where ``expected``/``now`` are the curve's conversions at the proposed/current budget: when the
curve says the channel's return falls off (``expected/now < proposed/current``) the brief asks
for fewer leads than a straight line would. Without a proposal the correction is 1 (this
month's CPL at the budget). The outcome ("purchases") is those leads times this month's actual
outcome per lead; CPL and CPA are the budget over those. A channel whose actual spend or leads
is blank or 0 takes its plan's leads per spend, and one whose actual outcome is blank or 0 its
plan's outcome per lead (no outcome yet is no evidence of a rate of 0), and says so in `basis`.

`apply_brief` sets next month's lines to the brief: per channel, each line's budget is the
channel's brief budget split in proportion to the lines' own budgets (equally when they are all
0), then the lines' counts are scaled so the channel's leads and outcome sum to the brief's:
stages up to the leads by the leads' factor, the outcome and revenue by the outcome's, the stages
in between by the geometric interpolation of the two (so each CR moves smoothly). Channels not in
the brief keep their lines as planned.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from planning.funnel import Funnel
from planning.review import ChannelReview, leads_stage

__all__ = ["BriefLine", "SplitChannel", "apply_brief", "brief_line", "brief_lines"]


@dataclass(frozen=True)
class SplitChannel:
    """Optimize Split's proposal for one channel (NaN where the sheet is blank)."""

    current: float
    proposed: float
    now: float
    expected: float


@dataclass(frozen=True)
class BriefLine:
    """One channel's targets for next month; `basis` says where the numbers came from."""

    channel: str
    budget: float
    leads: float
    outcome: float
    basis: str

    @property
    def cpl(self) -> float:
        return self.budget / self.leads if self.leads > 0 else math.nan

    @property
    def cpa(self) -> float:
        return self.budget / self.outcome if self.outcome > 0 else math.nan


def _ok(*values: float) -> bool:
    return all(math.isfinite(v) and v > 0 for v in values)


def brief_line(review: ChannelReview, split: SplitChannel | None) -> BriefLine:
    """One channel's brief by the module's rule."""
    k = review.kpis
    spend, leads, outcome = k["spend"].actual, k["leads"].actual, k["outcome"].actual
    has_split = split is not None and math.isfinite(split.proposed) and split.proposed >= 0
    budget = split.proposed if has_split and split is not None else k["spend"].plan
    budget = budget if math.isfinite(budget) else 0.0
    curve = 1.0
    if (
        split is not None
        and _ok(split.current, split.proposed, split.now)
        and math.isfinite(split.expected)
        and split.expected >= 0
    ):
        curve = (split.expected / split.now) / (split.proposed / split.current)
    basis = "split" if has_split else "plan budget"
    if _ok(spend, leads):
        per_spend, source = leads / spend, "actual"
    else:
        per_spend, source = _ratio(k["leads"].plan, k["spend"].plan), "plan"
    per_lead = outcome / leads if _ok(leads, outcome) else math.nan
    if not math.isfinite(per_lead):
        per_lead, source = _ratio(k["outcome"].plan, k["leads"].plan), "plan"
    new_leads = budget * per_spend * curve
    return BriefLine(
        review.channel, budget, new_leads, new_leads * per_lead, f"{basis}, {source} ratios"
    )


def _ratio(a: float, b: float) -> float:
    return a / b if _ok(b) and math.isfinite(a) else math.nan


def brief_lines(
    reviews: Sequence[ChannelReview],
    split: Mapping[str, SplitChannel],
    total_label: str = "Total",
) -> list[BriefLine]:
    """The brief of every channel (the total left out: it is the channels' sum)."""
    return [brief_line(r, split.get(r.channel)) for r in reviews if r.channel != total_label]


def _factors(funnel: Funnel, f_leads: float, f_outcome: float) -> dict[str, float]:
    """Each metric's scale factor (module docstring); spend is set, not scaled."""
    names = funnel.names
    lead = leads_stage(funnel)
    i_lead, i_out = names.index(lead), len(names) - 1
    out: dict[str, float] = {}
    for i, name in enumerate(names):
        if i <= i_lead or i_out == i_lead:
            out[name] = f_leads
        else:
            w = (i - i_lead) / (i_out - i_lead)
            out[name] = f_leads ** (1 - w) * f_outcome**w
    out["revenue"] = f_outcome
    return out


def apply_brief(
    lines: Sequence[tuple[str, Mapping[str, float]]],
    brief: Sequence[BriefLine],
    funnel: Funnel,
) -> list[dict[str, float]]:
    """Next month's planned counts per line (``spend`` and the funnel's metrics), set to the
    brief per channel. `lines`: (channel, counts) in the Plan's order; returns new dicts."""
    by_channel = {b.channel: b for b in brief}
    lead, last = leads_stage(funnel), funnel.names[-1]
    out = [dict(counts) for _, counts in lines]
    for channel, b in by_channel.items():
        idx = [i for i, (c, _) in enumerate(lines) if c == channel]
        if not idx:
            continue
        spends = [max(out[i].get("spend", 0.0) or 0.0, 0.0) for i in idx]
        total = math.fsum(s for s in spends if math.isfinite(s))
        shares = [s / total for s in spends] if total > 0 else [1 / len(idx)] * len(idx)
        leads = math.fsum(out[i].get(lead, 0.0) or 0.0 for i in idx)
        outcome = math.fsum(out[i].get(last, 0.0) or 0.0 for i in idx)
        f_leads = b.leads / leads if leads > 0 and math.isfinite(b.leads) else 1.0
        f_out = b.outcome / outcome if outcome > 0 and math.isfinite(b.outcome) else f_leads
        factors = _factors(funnel, f_leads, f_out)
        for i, share in zip(idx, shares, strict=True):
            new = {m: v * factors.get(m, 1.0) for m, v in out[i].items() if m != "spend"}
            new["spend"] = b.budget * share
            out[i] = new
    return out
