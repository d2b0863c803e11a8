"""The morning numbers (seed 002): the last day's volumes against the pace the plan needs, and
each channel's CPA of target leads and of target calls (CPA2) against its KPI.

- `volumes`: for the as-of day D and a count metric, the day's fact, the pace needed that day
  to make the month's plan, ``(plan - month to date before D) / days left counting D``, the
  month to date through D and the month-end run-rate (as Refresh Run-Rate computes it).
- `channel_days`: per channel, D's spend and counts, CPA = spend / leads and CPA2 = spend /
  calls, and the KPIs: the plan's CPAs of the channel, from its summed planned spend and counts.

Pure: `planning.alerts.AlertInputs` in, dataclasses out.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd

from planning.alerts import AlertInputs
from planning.runrate import divide, forecast_frame


@dataclass(frozen=True)
class Volume:
    """One count on the as-of day against the needed pace."""

    metric: str
    day: dt.date
    fact: float
    needed: float  # per day; NaN without a plan or on a day after the month
    mtd: float
    plan: float
    rr: float

    @property
    def ok(self) -> bool | None:
        """The day made the needed pace (None: no plan to judge by)."""
        if math.isnan(self.needed):
            return None
        return self.fact >= self.needed

    @property
    def gap(self) -> float:
        """(fact - needed) / needed."""
        return (self.fact - self.needed) / self.needed if self.needed else math.nan


@dataclass(frozen=True)
class ChannelDay:
    """A channel's as-of day: spend, target leads and calls, their CPAs and the KPIs."""

    channel: str
    spend: float
    leads: float
    calls: float
    cpa: float
    cpa_kpi: float
    cpa2: float
    cpa2_kpi: float


def _daily(inputs: AlertInputs) -> pd.DataFrame:
    daily = inputs.daily.copy()
    daily["date"] = pd.to_datetime(daily["date"]).dt.date
    return daily


def volumes(inputs: AlertInputs, metrics: tuple[str, ...]) -> list[Volume]:
    """The as-of day's `metrics` (counts) in total against the pace the plan needs."""
    daily, day = _daily(inputs), inputs.as_of
    present = [m for m in metrics if m in daily.columns]
    rr: dict[str, float] = {m: math.nan for m in present}
    if len(daily) and present:
        fc = forecast_frame(
            daily,
            inputs.month,
            day,
            [],
            present,
            inputs.window,
            inputs.method,  # type: ignore[arg-type]
        )
        rr = {m: float(fc[f"{m}_rr"].iloc[0]) for m in present}
    left = inputs.days_in_month - (day - inputs.month).days  # counting `day`
    out = []
    for m in present:
        plan = float(inputs.plan[m].sum(min_count=1)) if m in inputs.plan else math.nan
        before = float(daily.loc[daily["date"] < day, m].sum())
        fact = float(daily.loc[daily["date"] == day, m].sum())
        needed = (plan - before) / left if left > 0 and not math.isnan(plan) else math.nan
        out.append(Volume(m, day, fact, max(needed, 0.0), before + fact, plan, rr[m]))
    return out


def channel_days(
    inputs: AlertInputs, first: str = "leads", second: str = "calls"
) -> list[ChannelDay]:
    """Per channel (in the Plan's order), the as-of day's CPA of `first` and of `second`
    against the plan's."""
    daily = _daily(inputs)
    day = daily[daily["date"] == inputs.as_of]
    cols = [c for c in ("spend", first, second) if c in daily.columns]
    facts = day.groupby("channel")[cols].sum() if len(day) else pd.DataFrame(columns=cols)
    plan_cols = [c for c in ("spend", first, second) if c in inputs.plan.columns]
    plan = inputs.plan.groupby("channel", sort=False)[plan_cols].sum(min_count=1)
    out = []
    for channel in plan.index:
        f = facts.loc[channel] if channel in facts.index else None

        def fact(m: str, f: pd.Series | None = f) -> float:
            return float(f[m]) if f is not None and m in f.index else math.nan

        def planned(m: str, channel: str = str(channel)) -> float:
            return (
                float(plan[m].to_dict().get(channel, math.nan)) if m in plan.columns else math.nan
            )

        spend = fact("spend")
        out.append(
            ChannelDay(
                channel=str(channel),
                spend=spend,
                leads=fact(first),
                calls=fact(second),
                cpa=divide(spend, fact(first)),
                cpa_kpi=divide(planned("spend"), planned(first)),
                cpa2=divide(spend, fact(second)),
                cpa2_kpi=divide(planned("spend"), planned(second)),
            )
        )
    return out
