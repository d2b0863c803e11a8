"""Variance explained in total over channels: the channels' parts summed, and the budget's mix.

The decision (see `planning.variance` for one line):

- **Purchases and revenue** are additive over channels, so the total's gap is the sum of the
  channels' gaps and the total's parts are **the sums of the channels' parts, key by key** (each
  channel's ratios computed from its own absolutes; nothing is averaged). Each channel's spend
  part ``L_c × ln(spend_c,f / spend_c,p)`` is split, with ``spend_c = S × share_c``, into
  **spend** (``L_c × ln(S_f / S_p)``: the total budget, S summed over the channels with a spend
  part) and **mix** (the rest: the budget's shift between channels), the standard LMDI
  activity/structure split. The parts and what is not comparable add up to the total gap
  exactly. A channel whose gap is undefined (its outcome blank) is left out, with a note;
  channels whose chains differ (a blank stage in one) add parts under different keys.
- **CPA** is not additive, so the total's CPA gap is decomposed on the **summed absolutes**
  (`total_line`: the total's CPC and CRs recomputed from the sums, never averaged): the mix
  across channels is inside the total's price and conversion effects there; the purchases
  decomposition shows it apart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from planning.errors import InputError
from planning.funnel import DEFAULT_FUNNEL, Funnel
from planning.variance import (
    Decomposition,
    Metric,
    Part,
    PlanFact,
    Side,
    _nodes,
    _side,
    decompose,
    decompose_cpa,
    log_mean,
)

__all__ = ["decompose_total", "decompose_total_cpa", "total_line"]


def total_line(
    lines: Sequence[PlanFact], funnel: Funnel = DEFAULT_FUNNEL, label: str = "Total"
) -> PlanFact:
    """The lines' absolutes summed per side; a metric blank in any line is blank in the total.

    (A total over lines of which one lacks its calls would understate the calls and so the CR
    to calls: blank is the honest total.)
    """
    names = funnel.metrics
    sides: dict[str, dict[str, float | None]] = {}
    both: tuple[Side, Side] = ("plan", "fact")
    for side in both:
        values = [_side(line, side, names) for line in lines]
        total: dict[str, float | None] = {}
        for name in names:
            column = [v[name] for v in values]
            total[name] = None if any(math.isnan(x) for x in column) else math.fsum(column)
        sides[side] = total
    return PlanFact(label, sides["plan"], sides["fact"])


def decompose_total(
    lines: Sequence[PlanFact],
    funnel: Funnel = DEFAULT_FUNNEL,
    *,
    metric: Metric = "outcome",
    outcome: str | None = None,
    label: str = "Total",
) -> Decomposition:
    """The total's gap in the outcome (or revenue): the channels' parts summed, spend split into
    the total budget and the mix (module docstring). `plan`/`fact` of the summed parts are
    ``None`` (no one value stands for a sum of channels' effects)."""
    if not lines:
        raise InputError("a total needs at least one line")
    channel = [decompose(line, funnel, metric=metric, outcome=outcome) for line in lines]
    kept = [d for d in channel if math.isfinite(d.gap)]
    notes = [d.notes[-1].about(d.label, True) for d in channel if not math.isfinite(d.gap)]
    name = channel[0].metric
    if not kept:
        return Decomposition(
            label, name, math.nan, math.nan, math.nan, (), math.nan, None, tuple(notes)
        )
    spends = [d.part("spend") for d in kept if _has(d, "spend")]
    budget_p = math.fsum(p.plan or 0.0 for p in spends)
    budget_f = math.fsum(p.fact or 0.0 for p in spends)
    sums: dict[str, list[float]] = {}
    labels: dict[str, tuple[str, str]] = {}
    for d in kept:
        for p in d.parts:
            if p.key == "spend":
                budget = log_mean(d.fact, d.plan) * math.log(budget_f / budget_p)
                _add(sums, labels, "spend", "Spend", "spend", budget)
                _add(sums, labels, "mix", "Mix across channels", "spend", p.effect - budget)
            else:
                _add(sums, labels, p.key, p.label, p.node, p.effect)
        notes += [n.about(d.label) for n in d.notes]
    order = {n: i for i, n in enumerate(_nodes(funnel, _outcome(funnel, outcome), True))}
    keys = sorted(sums, key=lambda k: (order.get(labels[k][1], len(order)), k != "spend"))
    parts = tuple(Part(k, labels[k][0], labels[k][1], None, None, math.fsum(sums[k])) for k in keys)
    y_plan = math.fsum(d.plan for d in kept)
    y_fact = math.fsum(d.fact for d in kept)
    gap = math.fsum(d.gap for d in kept)
    not_comparable = math.fsum(d.not_comparable for d in kept)
    return Decomposition(
        label, name, y_plan, y_fact, gap, parts, not_comparable, None, tuple(notes)
    )


def decompose_total_cpa(
    lines: Sequence[PlanFact],
    funnel: Funnel = DEFAULT_FUNNEL,
    *,
    outcome: str | None = None,
    label: str = "Total",
) -> Decomposition:
    """The total CPA's gap on the summed absolutes (`total_line`), by `decompose_cpa`."""
    if not lines:
        raise InputError("a total needs at least one line")
    return decompose_cpa(total_line(lines, funnel, label), funnel, outcome=outcome)


def _outcome(funnel: Funnel, outcome: str | None) -> str:
    return funnel.names[-1] if outcome is None else funnel.stage(outcome).name


def _has(d: Decomposition, key: str) -> bool:
    return any(p.key == key for p in d.parts)


def _add(
    sums: dict[str, list[float]],
    labels: dict[str, tuple[str, str]],
    key: str,
    label: str,
    node: str,
    effect: float,
) -> None:
    sums.setdefault(key, []).append(effect)
    labels.setdefault(key, (label, node))
