"""The Plan after a budget split: each line's new spend and its planned counts.

Apply Split writes a channel's proposed spend over its lines (`distribute`: in proportion to
their current spend, in whole units) and, so the Plan keeps telling one story, the lines'
planned counts (every absolute below spend: traffic, leads, ..., purchases, revenue) with them.
Optimize Split computes the same thing beforehand to say what the Plan will show.

Two ways to set the counts (`COUNTS_MODES`):

- ``keep ratios`` (the default): every count of a line is scaled by new spend / old spend, so
  the line's planned CPA, CPC, CRs, ROAS and ROMI stay exactly what they were.
- ``curves``: the conversion (leads) is the curves' expected conversions of the channel at its
  new spend, shared over its lines by new spend; the stages above it (traffic) scale with spend
  (CPC kept), the stages below and revenue with the leads (CRs and revenue per lead kept).

A line with nothing to scale from (old spend blank or 0 while its new spend is not; in
``curves`` mode, leads blank or 0 under counts below) keeps those counts as they were and is
listed in `SplitCounts.kept`, so the button can name it. Blank counts stay blank.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

KEEP_RATIOS = "keep ratios"
CURVES = "curves"
COUNTS_MODES = (KEEP_RATIOS, CURVES)
DEFAULT_COUNTS = KEEP_RATIOS


def distribute(total: float, weights: Sequence[float]) -> list[float]:
    """Split `total` over lines in proportion to `weights` (equally if they sum to 0), in whole
    units when `total` is whole, else in cents; the parts sum to `total` exactly (largest
    remainders get the units left over, ties to the first line)."""
    whole = float(total).is_integer()
    unit = 1.0 if whole else 0.01
    units = round(total / unit)
    w = np.array([max(float(x), 0.0) if math.isfinite(x) else 0.0 for x in weights])
    if w.sum() <= 0:
        w = np.ones(len(w))
    raw = units * w / w.sum()
    base = np.floor(raw + 1e-9).astype(np.int64)
    rest = int(units - base.sum())
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:rest]] += 1
    return [float(b) if whole else round(b * unit, 2) for b in base]


@dataclass(frozen=True)
class ChannelTarget:
    """One channel of the proposal: its monthly spend and the curves' expected conversions."""

    channel: str
    proposed: float
    expected: float = math.nan


@dataclass(frozen=True)
class PlanLines:
    """The Plan's lines as numbers: channel, spend p and, per count metric in funnel order,
    its p (NaN where blank). `conversion` is the metric the curves predict (leads)."""

    channels: Sequence[str]
    spend: Sequence[float]
    counts: Mapping[str, Sequence[float]]
    conversion: str = "leads"


@dataclass(frozen=True)
class LineChange:
    """A line Apply Split writes: its new spend and the counts that change (metric → p)."""

    index: int
    spend: float
    counts: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SplitCounts:
    """The lines that change, the lines whose counts could not be set (index, why) and per
    metric the Plan's total p afterwards (blank counted as 0, summed in line order)."""

    changes: list[LineChange]
    kept: list[tuple[int, str]]
    totals: dict[str, float]


def cell_float(value: float) -> float:
    """`value` to 15 significant digits: what a spreadsheet cell keeps (Excel shows 15; the
    xlsx writer keeps 16), so the counts written are exactly the counts summed here."""
    return value if not math.isfinite(value) else float(f"{value:.15g}")


def _scaled(value: float, k: float) -> float:
    return value if math.isnan(value) else cell_float(value * k)


def _line_counts(
    lines: PlanLines, i: int, new: float, leads_new: float, mode: str
) -> tuple[dict[str, float], str | None]:
    """One line's new counts and, when some could not be set, why."""
    old = lines.spend[i]
    old = 0.0 if math.isnan(old) else old
    counts = {m: float(v[i]) for m, v in lines.counts.items()}
    k_spend = new / old if old > 0 else None
    if mode == KEEP_RATIOS:
        if k_spend is None:
            return {}, "its spend p was blank or 0: nothing to scale its counts from"
        return {m: _scaled(v, k_spend) for m, v in counts.items()}, None
    metrics = list(counts)
    at = metrics.index(lines.conversion)
    out: dict[str, float] = {}
    why = None
    for m in metrics[:at]:
        if k_spend is not None:
            out[m] = _scaled(counts[m], k_spend)
    out[lines.conversion] = cell_float(leads_new)
    lead_old = counts[lines.conversion]
    below = metrics[at + 1 :]
    if lead_old > 0:
        out.update({m: _scaled(counts[m], leads_new / lead_old) for m in below})
    elif any(counts[m] > 0 for m in below):
        why = f"its {lines.conversion} p was blank or 0: the counts below it are unchanged"
    return out, why


def split_counts(lines: PlanLines, targets: Sequence[ChannelTarget], mode: str) -> SplitCounts:
    """The Plan after the split `targets` with counts set by `mode` (see the module)."""
    if mode not in COUNTS_MODES:
        raise ValueError(f"counts mode {mode!r} is not one of {COUNTS_MODES}")
    changes: list[LineChange] = []
    kept: list[tuple[int, str]] = []
    after = {m: [float(x) for x in v] for m, v in lines.counts.items()}
    for t in targets:
        idx = [i for i, c in enumerate(lines.channels) if c == t.channel]
        now = [0.0 if math.isnan(lines.spend[i]) else float(lines.spend[i]) for i in idx]
        same = math.isclose(sum(now), t.proposed, rel_tol=0, abs_tol=0.005)
        if not idx or (same and mode == KEEP_RATIOS):
            continue
        parts = now if same else distribute(t.proposed, now)
        no_curve = math.isnan(t.expected) or lines.conversion not in lines.counts
        how = KEEP_RATIOS if no_curve else mode  # nothing to set the leads to: keep the ratios
        for i, new in zip(idx, parts, strict=True):
            share = new / t.proposed if t.proposed > 0 else 1 / len(idx)
            counts, why = _line_counts(lines, i, new, t.expected * share, how)
            counts = {m: v for m, v in counts.items() if not _same(v, lines.counts[m][i])}
            if why is not None and (counts or new != now[idx.index(i)]):
                kept.append((i, why))
            if counts or new != now[idx.index(i)]:
                changes.append(LineChange(i, new, counts))
            for m, v in counts.items():
                after[m][i] = v
    totals = {m: cell_float(sum(0.0 if math.isnan(x) else x for x in v)) for m, v in after.items()}
    return SplitCounts(changes, kept, totals)


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b
