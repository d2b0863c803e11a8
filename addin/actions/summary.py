"""Plan vs fact vs run-rate per channel and in total, read back from the workbook.

Not a button: the CLI's `refresh` and `demo` print it (a `PlanSummary`; ``--json`` prints its
`to_dict`); ratios are recomputed from the summed absolutes.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from planning.funnel import rollup
from planning.runrate import month_progress
from sheets_sync.cells import finite_number
from sheets_sync.workbooks.interface import WorkbookTarget
from workbook_templates import layout as L
from workbook_templates.plan_sheet import read_plan
from workbook_templates.settings_sheet import read_funnel, read_settings

SUMMARY_METRICS = ("spend", "leads", "purchases")


@dataclass(frozen=True)
class MetricSummary:
    """One metric's plan, fact and run-rate, and fact and run-rate as a share of plan (None when
    a value is missing or the plan is 0)."""

    plan: float | None
    fact: float | None
    runrate: float | None
    fact_pct: float | None
    runrate_pct: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CostSummary:
    """A cost per unit (``cpc``, ``cpa_<stage>``): plan, fact and run-rate, each recomputed
    from the summed absolutes."""

    plan: float | None
    fact: float | None
    runrate: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Figures:
    """Plan vs fact vs run-rate of one channel or of the total: the metrics (spend, leads, the
    last stage) in that order, then the costs per unit (the first stage's, the last stage's)."""

    metrics: Mapping[str, MetricSummary]
    costs: Mapping[str, CostSummary]

    def cost_of(self, metric: str) -> CostSummary | None:
        """The cost per unit of `metric` (``cpa_<metric>``), if the summary has it."""
        return self.costs.get(f"cpa_{metric}")

    def to_dict(self) -> dict[str, Any]:
        return {
            **{m: v.to_dict() for m, v in self.metrics.items()},
            **{c: v.to_dict() for c, v in self.costs.items()},
        }


@dataclass(frozen=True)
class ChannelSummary:
    channel: str
    figures: Figures

    def to_dict(self) -> dict[str, Any]:
        return {"channel": self.channel, **self.figures.to_dict()}


@dataclass(frozen=True)
class PlanSummary:
    """Plan vs fact vs run-rate per channel (in the Plan's order) and in total."""

    month: dt.date
    as_of: dt.date | None
    days_elapsed: int
    days_left: int
    currency: str
    channels: tuple[ChannelSummary, ...]
    total: Figures

    def to_dict(self) -> dict[str, Any]:
        """As ``refresh --json`` and ``demo --json`` print it."""
        return {
            "month": f"{self.month:%Y-%m}",
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "days_elapsed": self.days_elapsed,
            "days_left": self.days_left,
            "currency": self.currency,
            "channels": [c.to_dict() for c in self.channels],
            "total": self.total.to_dict(),
        }


def plan_summary(wb: WorkbookTarget) -> PlanSummary:
    """Plan vs fact vs run-rate per channel and in total, recomputed from summed absolutes."""
    settings = read_settings(wb)
    funnel = read_funnel(wb)
    _, plan = read_plan(wb, funnel)
    progress = month_progress(settings.month, settings.as_of or settings.month)
    kinds: dict[str, pd.DataFrame] = {}
    for kind in ("p", "f", "rr"):
        frame = pd.DataFrame({"channel": plan["channel"]})
        for m in funnel.metrics:
            h = L.abs_header(m, kind)
            frame[m] = plan.get(h, math.nan)
        kinds[kind] = frame
    per_kind = {k: rollup(f, ["channel"], funnel) for k, f in kinds.items()}
    totals = {k: rollup(f, [], funnel) for k, f in kinds.items()}
    last = funnel.names[-1]
    first_cpa = f"cpa_{funnel.names[1]}" if len(funnel.names) > 1 else "cpc"
    shown = [x for x in SUMMARY_METRICS if x in funnel.metrics and x != "purchases"]
    metrics = list(dict.fromkeys([*shown, last]))
    costs = list(dict.fromkeys([first_cpa, f"cpa_{last}"]))

    def figures(rows: dict[str, pd.Series]) -> Figures:
        return Figures(
            metrics={m: _metric(*(rows[k].get(m) for k in ("p", "f", "rr"))) for m in metrics},
            costs={
                c: CostSummary(*(finite_number(rows[k].get(c)) for k in ("p", "f", "rr")))
                for c in costs
            },
        )

    channels = tuple(
        ChannelSummary(
            channel=per_kind["p"].iloc[i]["channel"],
            figures=figures({k: per_kind[k].iloc[i] for k in per_kind}),
        )
        for i in range(len(per_kind["p"]))
    )
    return PlanSummary(
        month=settings.month,
        as_of=settings.as_of,
        days_elapsed=progress.days_elapsed,
        days_left=progress.days_left,
        currency=settings.currency,
        channels=channels,
        total=figures({k: totals[k].iloc[0] for k in totals}),
    )


def _metric(plan: Any, fact: Any, runrate: Any) -> MetricSummary:
    p, f, rr = finite_number(plan), finite_number(fact), finite_number(runrate)
    return MetricSummary(plan=p, fact=f, runrate=rr, fact_pct=_div(f, p), runrate_pct=_div(rr, p))


def _div(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b
