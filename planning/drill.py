"""The Drill sheet's numbers (issue 15): plan, fact and run-rate at any level and filter.

A level is one of `LEVELS`: the Plan's own ``channel`` and ``campaign``, or a fact dimension
below or beside them (``segment`` = ad group / utm_term, ``creative`` = ad / utm_content,
``city``, ``product``). `drill` takes the month's facts already matched to plan lines (the facts
the Plan's ``f`` columns sum) and the Plan's lines, and gives one `DrillRow` per value of the
level, plus the total. The decisions:

* **Facts reconcile.** Every fact of a plan line lands in exactly one row: a fact with no value
  for the level (an ad export has no city, a lead no utm_term) goes to the row with the blank
  key (the sheet's "(no city)" row), so the rows' facts sum to the Plan's ``f`` at every level
  (under the same filters). Facts that reached no plan line are not in the Plan's ``f``: they
  are summed apart (`Drill.unmapped`) and shown below the total, outside it.
* **Plan only where the Plan has it.** ``p`` is given at the ``channel`` and ``campaign`` levels
  and only while no dimension filter is set (the plan has no city or segment); elsewhere it is
  None. A plan line with no facts still gives its channel/campaign row.
* **Run-rate shared by fact.** A line's ``rr`` (whatever method the Plan used) is shared among
  the rows in proportion to the line's facts of that metric in each row; a line with an ``rr``
  but no fact of the metric gives it to the blank-key row (for channel/campaign: its own row).
  So the rows' ``rr`` sum to the Plan's ``rr`` when no dimension filter is set.
* **Ratios from sums.** CPL = spend / leads, CPA = spend / purchases, CR = purchases / leads,
  each recomputed from the row's summed absolutes (never an average of the lines' ratios); None
  when the denominator is 0 or the row has no fact of the numerator's metric (a segment the ad
  exports do not break spend down by has no CPL, rather than a CPL of 0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from planning.errors import InputError

__all__ = ["DRILL_METRICS", "LEVELS", "PLAN_LEVELS", "RATIOS", "Drill", "DrillRow", "drill"]

LEVELS: tuple[str, ...] = ("channel", "campaign", "segment", "creative", "city", "product")
"""What the Drill sheet can break the facts down by (``channel → campaign → segment →
creative``, or ``city``, or ``product``)."""
PLAN_LEVELS: tuple[str, ...] = ("channel", "campaign")
"""The levels the Plan has: plan numbers exist only there."""
DRILL_METRICS: tuple[str, ...] = ("spend", "traffic", "leads", "purchases", "revenue")
"""The absolutes the sheet shows (p, f, rr each)."""
RATIOS: dict[str, tuple[str, str]] = {
    "CPL": ("spend", "leads"),
    "CPA": ("spend", "purchases"),
    "CR": ("purchases", "leads"),
}
"""Ratio name -> (numerator, denominator): recomputed from each row's sums."""

_FACT_COLUMNS = ("line", "metric", "value", *LEVELS)


def _ratio(numerator: float | None, denominator: float | None, has_numerator: bool) -> float | None:
    if numerator is None or denominator is None or denominator == 0 or not has_numerator:
        return None
    return numerator / denominator


@dataclass(frozen=True)
class DrillRow:
    """One value of the level: its key (``""`` = no value for the level) and per metric the
    plan (None below the Plan's levels), the fact and the run-rate (None: no line has one)."""

    key: str
    fact: dict[str, float]
    plan: dict[str, float | None] = field(default_factory=dict)
    runrate: dict[str, float | None] = field(default_factory=dict)
    has_fact: frozenset[str] = frozenset()
    """The metrics some fact of this row reported (a 0 still counts as reported)."""

    def ratio(self, name: str, kind: str = "f") -> float | None:
        """`RATIOS`' ``name`` of the row's plan (``"p"``), fact (``"f"``) or run-rate
        (``"rr"``): the ratio of the row's sums, None when it cannot be computed."""
        top, bottom = RATIOS[name]
        if kind == "f":
            return _ratio(self.fact.get(top), self.fact.get(bottom), top in self.has_fact)
        values = self.plan if kind == "p" else self.runrate
        return _ratio(values.get(top), values.get(bottom), True)


@dataclass(frozen=True)
class Drill:
    """A drill-down: its level, the filters, one row per value (blank key last) and the total
    (the rows summed), and the facts no plan line took (outside the total)."""

    level: str
    filters: tuple[tuple[str, str], ...]
    rows: tuple[DrillRow, ...]
    total: DrillRow
    unmapped: dict[str, float]


def _norm(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str).str.strip().str.casefold()


def _check(level: str, filters: Mapping[str, str]) -> None:
    if level not in LEVELS:
        raise InputError(f"the level must be one of {', '.join(LEVELS)}", value=level)
    for name in filters:
        if name not in LEVELS:
            raise InputError(f"a filter must be one of {', '.join(LEVELS)}", value=name)


def _filtered(frame: pd.DataFrame, filters: Mapping[str, str]) -> pd.DataFrame:
    keep = np.ones(len(frame), dtype=bool)
    for name, wanted in filters.items():
        if name in frame.columns:
            keep &= (_norm(frame[name]) == str(wanted).strip().casefold()).to_numpy()
    return frame[keep]


def _sums(frame: pd.DataFrame, by: str, metrics: Sequence[str]) -> dict[str, dict[str, float]]:
    """key -> metric -> sum of ``frame``'s values (metrics absent from the frame left out)."""
    chosen = frame[frame["metric"].isin(metrics)]
    grouped: dict[Any, float] = chosen.groupby([by, "metric"], sort=False)["value"].sum().to_dict()
    out: dict[str, dict[str, float]] = {}
    for (key, metric), value in grouped.items():
        out.setdefault(str(key), {})[str(metric)] = float(value)
    return out


def _runrates(
    kept: pd.DataFrame,
    whole: pd.DataFrame,
    lines: pd.DataFrame,
    level: str,
    metrics: Sequence[str],
    residual: bool,
) -> dict[str, dict[str, float]]:
    """key -> metric -> the lines' rr shared by the facts (see the module): each line's rr
    times the share of the line's facts (`whole`: all of them) that `kept` holds per key; a line
    with no fact of the metric gives its rr whole to its own row (channel/campaign) or the
    blank-key row, when `residual` (no dimension filter hides those rows)."""
    out: dict[str, dict[str, float]] = {}

    def add(key: str, metric: str, value: float) -> None:
        bucket = out.setdefault(key, {})
        bucket[metric] = bucket.get(metric, 0.0) + value

    for metric in metrics:
        column = f"{metric} rr"
        if column not in lines.columns:
            continue
        per_line = whole[whole["metric"] == metric].groupby("line")["value"].sum().to_dict()
        mine = kept[kept["metric"] == metric]
        per_key: dict[Any, float] = mine.groupby(["line", level])["value"].sum().to_dict()
        runrate = {line: float(v) for line, v in lines[column].items() if not pd.isna(v)}
        for (line, key), value in per_key.items():
            line_fact = float(per_line.get(line, 0.0))
            if line in runrate and line_fact != 0:
                add(str(key), metric, runrate[line] * float(value) / line_fact)
        for line, rr in runrate.items():
            if residual and float(per_line.get(line, 0.0)) == 0:
                add(str(lines.at[line, level]) if level in PLAN_LEVELS else "", metric, rr)
    return out


def drill(
    facts: pd.DataFrame,
    lines: pd.DataFrame,
    level: str,
    filters: Mapping[str, str] | None = None,
    metrics: Sequence[str] = DRILL_METRICS,
) -> Drill:
    """The drill-down of `facts` at `level` under `filters` (see the module).

    `facts`: ``line`` (the Plan row index of `lines`, -1 for a fact no plan line took),
    ``metric``, ``value`` and the text columns of `LEVELS` (a line's facts carry the line's
    channel and campaign; ``""`` = none). `lines`: the Plan's lines, indexed by ``line``, with
    ``channel``, ``campaign`` and any ``"<metric> p"`` / ``"<metric> rr"`` columns (NaN blank).
    `filters`: level name -> the value kept (case and surrounding spaces ignored; ``""`` keeps
    the facts with none).
    """
    wanted = dict(filters or {})
    _check(level, wanted)
    frame = facts.loc[:, list(_FACT_COLUMNS)].copy()
    for name in LEVELS:
        frame[name] = frame[name].fillna("").astype(str).str.strip()
    plan_lines = _filtered(lines, {k: v for k, v in wanted.items() if k in PLAN_LEVELS})
    dims_filtered = any(k not in PLAN_LEVELS for k in wanted)
    mapped = frame[frame["line"] >= 0]
    unmapped = _filtered(frame[frame["line"] < 0], wanted)
    kept = _filtered(mapped, wanted)
    sums = _sums(kept, level, metrics)
    has = kept.groupby(level)["metric"].unique() if len(kept) else pd.Series(dtype=object)
    shared = _runrates(kept, mapped, plan_lines, level, metrics, residual=not dims_filtered)
    plans: dict[str, dict[str, float]] = {}
    if level in PLAN_LEVELS and not dims_filtered:
        for metric in metrics:
            column = f"{metric} p"
            if column in plan_lines.columns:
                by_key = plan_lines.groupby(level)[column].sum(min_count=1)
                for key, value in by_key.items():
                    if not pd.isna(value):
                        plans.setdefault(str(key), {})[metric] = float(value)
    keys = sorted(set(sums) | set(shared) | set(plans), key=lambda k: (k == "", k.casefold()))
    if level in PLAN_LEVELS and not dims_filtered:
        order = {str(k): i for i, k in enumerate(dict.fromkeys(plan_lines[level].astype(str)))}
        keys.sort(key=lambda k: (k == "", order.get(k, len(order)), k.casefold()))
    rows = tuple(
        _row(key, sums.get(key, {}), plans.get(key), shared.get(key, {}), has, metrics)
        for key in keys
    )
    total = _total(rows, metrics, level in PLAN_LEVELS and not dims_filtered)
    lost = {m: float(unmapped.loc[unmapped["metric"] == m, "value"].sum()) for m in metrics}
    return Drill(level, tuple(wanted.items()), rows, total, lost)


def _row(
    key: str,
    sums: dict[str, float],
    plan: dict[str, float] | None,
    rr: dict[str, float],
    has: pd.Series,
    metrics: Sequence[str],
) -> DrillRow:
    reported = frozenset(str(m) for m in has.get(key, ())) if len(has) else frozenset()
    return DrillRow(
        key=key,
        fact={m: sums.get(m, 0.0) for m in metrics},
        plan={m: (plan or {}).get(m) for m in metrics} if plan is not None else {},
        runrate={m: rr.get(m) for m in metrics},
        has_fact=reported,
    )


def _total(rows: Sequence[DrillRow], metrics: Sequence[str], with_plan: bool) -> DrillRow:
    def summed(values: list[float | None]) -> float | None:
        present = [v for v in values if v is not None]
        return float(sum(present)) if present else None

    return DrillRow(
        key="",
        fact={m: float(sum(r.fact[m] for r in rows)) for m in metrics},
        plan={m: summed([r.plan.get(m) for r in rows]) for m in metrics} if with_plan else {},
        runrate={m: summed([r.runrate.get(m) for r in rows]) for m in metrics},
        has_fact=frozenset().union(*(r.has_fact for r in rows)) if rows else frozenset(),
    )
