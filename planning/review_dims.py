"""The month's results by a fact dimension (city, product) for the Review (issue 15).

The Plan is per channel/campaign: there is **no plan per city or product**, so a city or a
product is reviewed against itself last month, not against a plan. The numbers come from the
Drill sheet's aggregation (`planning.drill.drill` at level ``city`` or ``product``, the facts
the Plan's ``f`` columns sum), never a second one; this module only reads its rows. The
decisions:

* **Facts, not the run-rate.** A row shows the month's facts up to as-of (the Drill sheet's),
  also while the channel table compares the run-rate: the run-rate has no city.
* **Rows reconcile.** One row per value of the dimension, the biggest by leads first; the facts
  with no value (an ad export has no city) in the blank-key row ("(no value)"), last; beyond
  `max_rows` values the smallest are summed into one ``other`` row. So the rows sum to the total,
  and the total is the Plan's facts (the channel table's total facts).
* **Blank, never 0.** A metric no fact of the row reported is blank (NaN), not 0: today only the
  CRM has a city or product, so a city's spend is blank. CPL = spend / leads, CPA = spend /
  outcome, ROMI = (revenue − spend) / spend are from the row's sums (`planning.review
  .kpi_values`), blank when spend is. When no row with a value has spend (spend is not broken
  down by the dimension), the blank-key row's spend is the month's whole spend while its leads
  are only the leads without a value: its ratios would mislead and are blank too; the total keeps
  them.
* **Shares** of the month's (the total's) leads and revenue.
* **Against last month.** The same dimension value last month, over the same day-of-month window
  when the review is month to date (the caller gives `last` so). ``change`` = now ÷ last − 1 for
  leads, the outcome and revenue. The row's ``status`` uses the Review's rule (`ReviewRules`)
  with last month in the plan's place: the outcome is *achieved* at now ÷ last ≥
  ``achieved_from``, CPA (where both months have one) at last ÷ now ≥ ``achieved_from``; both
  achieved → ``achieved``, both not → ``missed``, else ``mixed`` (CPA unknown: the outcome
  decides). ``no last month`` when last month had no outcome for it; ``too few`` when the outcome
  is under ``min_count`` in both months (noise, as for the surprises).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from planning.drill import Drill, DrillRow
from planning.funnel import Funnel
from planning.review import ReviewRules, kpi_values, leads_stage

__all__ = [
    "DIM_LEVELS",
    "MAX_ROWS",
    "OTHER",
    "DimReview",
    "DimRow",
    "dim_metrics",
    "review_dimension",
]

DIM_LEVELS = ("city", "product")
"""The dimensions the Review shows."""
MAX_ROWS = 15
"""Values shown one per row; the rest summed into the `OTHER` row."""
OTHER = "\x00other"
"""The key of the row summing the values beyond `MAX_ROWS` (the sheet names it)."""
_COUNTS = ("leads", "outcome", "revenue")


def dim_metrics(funnel: Funnel) -> tuple[str, str, str, str]:
    """The metric codes `drill` is asked for: spend, the leads stage, the outcome, revenue."""
    return ("spend", leads_stage(funnel), funnel.names[-1], "revenue")


@dataclass(frozen=True)
class DimRow:
    """One value of the dimension (``""``: no value; `OTHER`: the rest). Every number is NaN
    where unknown (see the module): the KPIs (``spend``, ``leads``, ``outcome``, ``revenue``,
    ``cpl``, ``cpa``, ``romi``), the shares of the month's leads and revenue, last month's KPIs
    and ``change`` (now ÷ last − 1) of leads, outcome and revenue."""

    key: str
    kpis: Mapping[str, float]
    lead_share: float
    revenue_share: float
    last: Mapping[str, float]
    change: Mapping[str, float]
    status: str
    values: int = 1
    """How many values of the dimension the row holds (more than 1 only for `OTHER`)."""


@dataclass(frozen=True)
class DimReview:
    """The dimension's rows (biggest first, blank key last) and the total."""

    level: str
    rows: tuple[DimRow, ...]
    total: DimRow
    has_last: bool


def _side(
    sums: Mapping[str, float], reported: frozenset[str], metrics: Sequence[str]
) -> dict[str, float | None]:
    return {m: (sums.get(m, 0.0) if m in reported else None) for m in metrics}


def _kpis(
    sums: Mapping[str, float], reported: frozenset[str], funnel: Funnel, ratios: bool
) -> dict[str, float]:
    values = kpi_values(_side(sums, reported, dim_metrics(funnel)), funnel)
    if not ratios:
        values.update(cpl=math.nan, cpa=math.nan, romi=math.nan)
    return values


def _div(a: float, b: float) -> float:
    return a / b if math.isfinite(a) and math.isfinite(b) and b != 0 else math.nan


def _status(now: Mapping[str, float], last: Mapping[str, float], rules: ReviewRules) -> str:
    before, after = last.get("outcome", math.nan), now.get("outcome", math.nan)
    if not (math.isfinite(before) and before > 0):
        return "no last month"
    if not (after >= rules.min_count or before >= rules.min_count):
        return "too few"
    outcome = _div(after, before) >= rules.achieved_from
    pct_cpa = _div(last.get("cpa", math.nan), now.get("cpa", math.nan))
    if not math.isfinite(pct_cpa) or outcome == (pct_cpa >= rules.achieved_from):
        return "achieved" if outcome else "missed"
    return "mixed"


@dataclass(frozen=True)
class _Group:
    key: str
    sums: dict[str, float]
    reported: frozenset[str]
    values: int = 1


def _group(row: DrillRow) -> _Group:
    return _Group(row.key, dict(row.fact), row.has_fact)


def _merge(key: str, groups: Sequence[_Group]) -> _Group:
    """`groups` summed (the `OTHER` row): per metric the sum, reported where any reported."""
    metrics = {m for g in groups for m in g.sums}
    sums = {m: math.fsum(g.sums.get(m, 0.0) for g in groups) for m in metrics}
    reported = frozenset().union(*(g.reported for g in groups))
    return _Group(key, sums, reported, sum(g.values for g in groups))


def _ordered(drill: Drill, lead: str, max_rows: int) -> list[_Group]:
    """The rows biggest by leads first (ties by key), beyond `max_rows` summed into `OTHER`,
    the blank-key row last."""
    keyed = sorted(
        (_group(r) for r in drill.rows if r.key),
        key=lambda g: (-g.sums.get(lead, 0.0), g.key.casefold()),
    )
    if len(keyed) > max_rows:
        keyed = [*keyed[: max_rows - 1], _merge(OTHER, keyed[max_rows - 1 :])]
    blank = [_group(r) for r in drill.rows if not r.key]
    return keyed + blank


def _last_of(last: Drill | None) -> dict[str, _Group]:
    return {} if last is None else {r.key: _group(r) for r in last.rows}


def review_dimension(
    now: Drill,
    funnel: Funnel,
    rules: ReviewRules | None = None,
    last: Drill | None = None,
    max_rows: int = MAX_ROWS,
) -> DimReview:
    """The dimension's review (module docstring) from this month's drill `now` and last
    month's `last` (None: unknown), both at the same level over `dim_metrics(funnel)`;
    `rules`: the Review sheet's (None: the defaults)."""
    rules = rules or ReviewRules()
    if max_rows < 1:
        raise ValueError("max_rows must be at least 1")
    lead = leads_stage(funnel)
    groups = _ordered(now, lead, max_rows)
    split_spend = any("spend" in g.reported for g in groups if g.key)
    before = _last_of(last)
    if last is not None:
        other = [g for k, g in before.items() if k and k not in {x.key for x in groups}]
        if any(g.key == OTHER for g in groups) and other:
            before[OTHER] = _merge(OTHER, other)
    split_last = any("spend" in g.reported for k, g in before.items() if k)
    total = _Group("", dict(now.total.fact), now.total.has_fact)
    total_kpis = _kpis(total.sums, total.reported, funnel, True)
    last_total = None if last is None else _Group("", dict(last.total.fact), last.total.has_fact)

    def row(g: _Group, prior: _Group | None, ratios: bool, ratios_last: bool) -> DimRow:
        kpis = _kpis(g.sums, g.reported, funnel, ratios)
        then = {} if prior is None else _kpis(prior.sums, prior.reported, funnel, ratios_last)
        change = {k: _div(kpis[k], then.get(k, math.nan)) - 1 for k in _COUNTS}
        return DimRow(
            g.key,
            kpis,
            _div(kpis["leads"], total_kpis["leads"]),
            _div(kpis["revenue"], total_kpis["revenue"]),
            then,
            change,
            _status(kpis, then, rules),
            g.values,
        )

    rows = tuple(
        row(g, before.get(g.key), split_spend or bool(g.key), split_last or bool(g.key))
        for g in groups
    )
    return DimReview(now.level, rows, row(total, last_total, True, True), last is not None)
