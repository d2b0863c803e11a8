"""The lag-aware run-rate of the stages below leads, for Refresh Run-Rate.

Purchases lag leads by weeks, so the Plan's ``rr`` of PP, negotiations and purchases follows
each day's leads along the channel's lag curve (`planning.cohorts.cohort_forecast`) instead of
a straight line through the month so far; revenue follows the purchases
(`planning.cohorts.revenue_forecast`: the revenue so far plus the purchases still to come times
the channel's revenue per purchase).

Per Plan line and stage:

* leads by day: the line's Daily rows up to as-of, plus its lead days before the month (up to
  the curve's horizon back): from the fact store's deals mapped to the line when the sync config
  is known, else from the Daily History sheet (channel days, shared out to the channel's lines
  by their leads this month, equally when the channel has none), else none;
* the stage so far: the line's Daily rows of the stage up to as-of; the rest of the month's
  leads: the leads' own run-rate (``(leads rr - leads so far) / days left``);
* the curve: the line's channel's, from the store's deals (`planning.cohorts.lag_curves`) or, with
  no store, the Cohorts sheet's published curves.

A line keeps the usual run-rate of a stage, with a note saying why, when its channel has no
curve, its curve is not `enough`, the Daily sheet has no leads, or revenue has no revenue per
purchase to go by. With a config on the ``cohort`` basis the Daily sheet dates the lower stages
by the lead's day, which the cohort forecast does not model: every line keeps the usual method
(one note). With no curve at all, nothing changes and nothing is noted.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from addin.actions.cohort_inputs import CohortInputs
from planning.cohorts import (
    POOLED,
    CohortForecast,
    LagCurve,
    cohort_forecast,
    lag_curves,
    revenue_forecast,
    revenue_per_purchase,
)
from planning.runrate import month_end
from workbook_templates.cells import line_name
from workbook_templates.cohorts_sheet import HORIZON, CohortsReport, PublishedCurves

__all__ = [
    "LOWER_STAGES",
    "CohortBasis",
    "CohortRates",
    "Fallback",
    "basis_from_sheet",
    "basis_from_store",
    "cohort_rates",
]

LOWER_STAGES: tuple[str, ...] = ("pp", "negotiations", "purchases")


@dataclass(frozen=True)
class CohortBasis:
    """What the lag-aware run-rate needs beyond the Daily sheet."""

    curves: Mapping[tuple[str, str], LagCurve]
    per_purchase: Mapping[str, float]
    earlier: pd.DataFrame
    """Lead days before the month: ``line`` (the Plan row), ``date``, ``leads``."""
    origin: str
    """Where the curves come from: ``"the fact store"`` or ``"the Cohorts sheet"``."""
    off: str = ""
    """When set, no line gets a cohort forecast, and this says why."""


@dataclass(frozen=True)
class Fallback:
    """A Plan line's stage that kept the usual run-rate though curves exist, and why."""

    line: str
    """The line's name (``channel / campaign``); ``""`` for every line."""
    stage: str
    reason: str

    @property
    def note(self) -> str:
        where = f"{self.line}, {self.stage}: " if self.line else ""
        return f"{where}{self.reason}"


@dataclass(frozen=True)
class CohortRates:
    """The cohort run-rates: per (Plan row, metric) the month-end forecast, the forecasts
    themselves, and what kept the usual method (`fallbacks`)."""

    values: dict[tuple[int, str], float] = field(default_factory=dict)
    forecasts: dict[tuple[int, str], CohortForecast] = field(default_factory=dict)
    fallbacks: list[Fallback] = field(default_factory=list)
    origin: str = ""

    @property
    def notes(self) -> list[str]:
        return [f.note for f in self.fallbacks]

    @property
    def lines(self) -> int:
        """Plan lines with at least one stage on the cohort forecast."""
        return len({row for row, _ in self.forecasts})


def _earlier_frame(rows: list[int], dates: list[dt.date], leads: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"line": rows, "date": pd.to_datetime(dates), "leads": leads})


def basis_from_store(
    inputs: CohortInputs,
    month: dt.date,
    basis: str = "event",
    report: CohortsReport | None = None,
) -> CohortBasis:
    """The curves, revenue per purchase and earlier lead days from the store's deals.
    `report`: the Cohorts sheet's report made from the same `inputs` (Sync Facts has just
    written it), whose curves and revenue per purchase are then taken instead of fitted again."""
    deals = inputs.deals
    frame = deals[["channel", "created", "pp", "negotiations", "purchases", "revenue"]]
    off = ""
    if basis == "cohort":
        off = (
            "the sync config counts CRM stages on the lead's day (basis = cohort): the lower "
            "stages keep the usual run-rate"
        )
    if deals.empty:
        return CohortBasis({}, {}, _earlier_frame([], [], []), "the fact store", off)
    if report is not None and report.as_of == inputs.as_of:
        curves, per_purchase = dict(report.curves), dict(report.per_purchase)
    else:
        curves = lag_curves(frame, inputs.as_of, horizon=HORIZON)
        channels = sorted({c for c, _ in curves})
        per_purchase = {
            c: revenue_per_purchase(frame, inputs.as_of, None if c == POOLED else c)
            for c in channels
        }
    start = pd.Timestamp(month - dt.timedelta(days=HORIZON + 31))
    before = deals[(deals["line"] >= 0) & (deals["created"] < pd.Timestamp(month))]
    before = before[before["created"] >= start]
    counts = before.groupby(["line", "created"]).size().rename("leads").reset_index()
    earlier = pd.DataFrame(
        {
            "line": counts["line"].astype(int),
            "date": counts["created"],
            "leads": counts["leads"].astype(float),
        }
    )
    return CohortBasis(curves, per_purchase, earlier, "the fact store", off)


def basis_from_sheet(
    published: PublishedCurves,
    history: pd.DataFrame | None,
    daily: pd.DataFrame,
    plan: pd.DataFrame,
    month: dt.date,
) -> CohortBasis:
    """The Cohorts sheet's curves, with the lead days before the month from the Daily History
    sheet (``date, channel, leads``): each channel's days shared out to its Plan lines by their
    leads so far this month (equally when the channel has none)."""
    rows: list[int] = []
    dates: list[dt.date] = []
    leads: list[float] = []
    if history is not None and len(history) and "leads" in history:
        month_leads = (
            daily.groupby(["channel", "campaign"])["leads"].sum()
            if len(daily) and "leads" in daily
            else pd.Series(dtype=float)
        )
        lines_of: dict[str, list[int]] = {}
        for i, ch in enumerate(plan["channel"].astype(str)):
            lines_of.setdefault(ch.strip().casefold(), []).append(i)
        for channel, days in history.groupby(history["channel"].astype(str).str.strip()):
            mine = lines_of.get(str(channel).casefold(), [])
            if not mine:
                continue
            own = [
                float(month_leads.get((plan["channel"].iloc[i], plan["campaign"].iloc[i]), 0.0))
                for i in mine
            ]
            total = sum(own)
            shares = [o / total for o in own] if total > 0 else [1.0 / len(mine)] * len(mine)
            for day, count in zip(days["date"], days["leads"], strict=True):
                for i, share in zip(mine, shares, strict=True):
                    rows.append(i)
                    dates.append(day)
                    leads.append(float(count) * share)
    return CohortBasis(
        dict(published.curves),
        dict(published.per_purchase),
        _earlier_frame(rows, dates, leads),
        "the Cohorts sheet",
    )


def _line_leads(
    daily: pd.DataFrame, earlier: pd.DataFrame, row: int, key: tuple[str, str], as_of: dt.date
) -> pd.Series:
    """The line's leads by day: the earlier days, then the Daily sheet's up to `as_of`."""
    mine = daily[(daily["channel"] == key[0]) & (daily["campaign"] == key[1])]
    mine = mine[pd.to_datetime(mine["date"]) <= pd.Timestamp(as_of)]
    month_days = pd.Series(
        mine["leads"].to_numpy(dtype=float), index=pd.to_datetime(mine["date"].to_numpy())
    )
    old = earlier[earlier["line"] == row]
    before = pd.Series(old["leads"].to_numpy(dtype=float), index=pd.to_datetime(old["date"]))
    both = pd.concat([before, month_days])
    return both.groupby(level=0).sum() if len(both) else both


@dataclass(frozen=True)
class _Line:
    row: int
    key: tuple[str, str]
    record: Mapping[Any, Any]


def cohort_rates(
    daily: pd.DataFrame,
    plan: pd.DataFrame,
    forecast: pd.DataFrame,
    month: dt.date,
    as_of: dt.date,
    basis: CohortBasis | None,
    metrics: Sequence[str],
) -> CohortRates:
    """The cohort run-rates of the Plan's lines (see the module docstring). `forecast` is the
    usual `planning.runrate.forecast_frame` of the Daily sheet (``channel, campaign``,
    ``<m>_mtd``, ``<m>_rr``); `metrics` the Daily sheet's metrics."""
    stages = [s for s in LOWER_STAGES if s in metrics]
    if basis is None or not basis.curves or not stages:
        return CohortRates()
    if basis.off:
        return CohortRates(fallbacks=[Fallback("", "", basis.off)], origin=basis.origin)
    if "leads" not in metrics:
        reason = "the Daily sheet has no leads: the lower stages keep the usual run-rate"
        return CohortRates(fallbacks=[Fallback("", "", reason)], origin=basis.origin)
    by_key = {(r["channel"], r["campaign"]): r for r in forecast.to_dict("records")}
    days_left = (month_end(month) - as_of).days
    out = CohortRates(origin=basis.origin)
    for row, (ch, camp) in enumerate(zip(plan["channel"], plan["campaign"], strict=True)):
        record = by_key.get((ch, camp))
        if record is None:
            continue  # no facts: the usual refresh lists it
        line = _Line(row, (ch, camp), record)
        leads = _line_leads(daily, basis.earlier, row, line.key, as_of)
        rate = (record["leads_rr"] - record["leads_mtd"]) / days_left if days_left > 0 else 0.0
        rate = max(rate, 0.0) if math.isfinite(rate) else 0.0
        for stage in stages:
            _stage(out, basis, line, stage, leads, month, as_of, rate)
        if "revenue" in metrics and (row, "purchases") in out.forecasts:
            _revenue(out, basis, line)
    return out


def _stage(
    out: CohortRates,
    basis: CohortBasis,
    line: _Line,
    stage: str,
    leads: pd.Series,
    month: dt.date,
    as_of: dt.date,
    rate: float,
) -> None:
    name = line_name(*line.key)
    curve = basis.curves.get((str(line.key[0]), stage))
    if curve is None:
        out.fallbacks.append(Fallback(name, stage, "no CRM deals of its channel, usual run-rate"))
        return
    if not curve.enough:
        reason = (
            f"too little history for the lag curve ({curve.events} events, oldest lead "
            f"{curve.max_age_observed} days), usual run-rate"
        )
        out.fallbacks.append(Fallback(name, stage, reason))
        return
    result = cohort_forecast(
        leads, float(line.record[f"{stage}_mtd"]), curve, month, as_of, rate, stage=stage
    )
    out.forecasts[(line.row, stage)] = result
    out.values[(line.row, stage)] = result.forecast


def _revenue(out: CohortRates, basis: CohortBasis, line: _Line) -> None:
    channel = str(line.key[0])
    per = basis.per_purchase.get(channel, math.nan)
    if not math.isfinite(per):
        per = basis.per_purchase.get(POOLED, math.nan)
    purchases = out.forecasts[(line.row, "purchases")]
    value = revenue_forecast(
        float(line.record["revenue_mtd"]), purchases.happened, purchases.forecast, per
    )
    if not math.isfinite(value):
        reason = "no purchase yet to price the purchases to come, usual run-rate"
        out.fallbacks.append(Fallback(line_name(*line.key), "revenue", reason))
        return
    out.values[(line.row, "revenue")] = value
