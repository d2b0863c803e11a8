"""The lag-aware (cohort) month-end forecast of the stages below leads.

Purchases lag leads by weeks: a straight line through month-to-date purchases is wrong early in
the month and after a change in lead volume. The cohort forecast instead follows each day's leads
along the lag curve of the stage (`planning.cohort_lags`):

    forecast = happened + from_existing + from_new
    from_existing = sum over lead days d <= as_of of leads_d * (F[end - d] - F[as_of - d])
    from_new      = sum over days t in (as_of, end] of rate_t * F[end - t]

`happened` is the stage's events dated in the month up to `as_of` (whatever the lead's day);
`F` is the cumulative share reaching the stage by age (flat beyond its horizon). It is the
aggregate (unconditional) expectation: it needs only the daily leads, so the Plan and the
RUNRATE formula can use it. When `as_of` is before the month, only the month's events count
(``F[as_of - d]`` becomes ``F[month_start - 1 - d]``); on or after the month's end nothing is
left to add.

A `LagCurve` that is not `enough` (too few events or too short a history) falls back to the
straight line ``happened / days_elapsed * days_in_month``, flagged ``method="linear"`` with a note;
the straight line does not tell existing from new leads, so what it adds is all in `from_new`.

Revenue: ``revenue_forecast = revenue_mtd + (purchases_forecast - purchases_mtd) * revenue per
purchase``, the revenue per purchase recomputed from summed revenue / summed purchases of the
deals' history (`revenue_per_purchase`), never an average of ratios.

The lag curves live in `planning.cohort_lags`, the deals' shape in `planning.cohort_deals`, the
cohort table for the sheet in `planning.cohort_table`; this module re-exports them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd

from planning.cohort_deals import (
    COHORT_STAGES,
    POOLED,
    check_deals,
    day_deals,
    day_number,
    deals_frame,
    stages_of,
)
from planning.cohort_lags import LagCurve, curves_of_days, lag_curves, shares_at
from planning.cohort_table import CohortTable, cohort_table
from planning.errors import InputError
from planning.runrate import forecast_series, month_end, month_progress, parse_month
from planning.runrate_inputs import parse_dates, parse_numbers

__all__ = [
    "COHORT_STAGES",
    "POOLED",
    "CohortForecast",
    "CohortTable",
    "LagCurve",
    "channel_forecasts",
    "check_deals",
    "cohort_forecast",
    "cohort_table",
    "deals_frame",
    "lag_curves",
    "revenue_forecast",
    "revenue_per_purchase",
    "stages_of",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class CohortForecast:
    """The month-end forecast of one stage (see the module docstring)."""

    stage: str
    happened: float  # stage events dated in the month up to as_of
    from_existing: float  # what leads created up to as_of will still bring by month end
    from_new: float  # what the rest-of-month leads will bring by month end
    forecast: float  # happened + from_existing + from_new
    method: str  # "cohort", or "linear" when the curve is not enough (fallback)
    note: str = ""  # why it fell back, "" when it did not


def _curve_array(curve: LagCurve | npt.ArrayLike) -> FloatArray:
    values = curve.cumulative if isinstance(curve, LagCurve) else curve
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.size == 0:
        raise InputError("`curve` is empty: give F[0..H], the cumulative shares by age")
    if not np.all(np.isfinite(array)) or array.min() < 0 or array.max() > 1:
        raise InputError("`curve` must hold shares between 0 and 1")
    if np.any(np.diff(array) < -1e-12):
        day = int(np.flatnonzero(np.diff(array) < -1e-12)[0]) + 1
        raise InputError(f"`curve` must not decrease: F[{day}] is below F[{day - 1}]")
    return array


def _leads(leads_by_day: pd.Series) -> tuple[npt.NDArray[np.int64], FloatArray]:
    if not isinstance(leads_by_day, pd.Series):
        raise InputError("`leads_by_day` must be a pandas Series of daily leads indexed by date")
    days = parse_dates(leads_by_day.index.to_series(), "date")
    leads = parse_numbers(leads_by_day, "leads")
    if np.any(leads < 0):
        raise InputError("`leads_by_day` must not be negative")
    return days, leads


def _rates(rate: float | Sequence[float], n: int) -> FloatArray:
    array = np.asarray(rate, dtype=np.float64)
    if array.ndim == 0:
        array = np.full(n, float(array))
    if array.shape != (n,):
        raise InputError(f"`leads_per_day_left` must be one rate or {n} (one per day left)")
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise InputError("`leads_per_day_left` must be numbers, at least 0")
    return array


def cohort_forecast(
    leads_by_day: pd.Series,
    stage_mtd: float,
    curve: LagCurve | npt.ArrayLike,
    month: date | str,
    as_of: date,
    leads_per_day_left: float | Sequence[float],
    *,
    stage: str = "",
) -> CohortForecast:
    """The cohort forecast of one stage (see the module docstring).

    `leads_by_day` holds daily leads indexed by date (it may start before the month; days after
    `as_of` are ignored, duplicates summed); `stage_mtd` is the stage's count in the month up to
    `as_of`; `curve` a `LagCurve` or F[0..H] itself; `leads_per_day_left` one rate for every day
    in ``(as_of, month end]`` or a rate per day. `stage` defaults to the curve's.
    """
    start = parse_month(month)
    end = month_end(start)
    progress = month_progress(start, as_of)
    happened = float(stage_mtd)
    if not math.isfinite(happened) or happened < 0:
        raise InputError(f"`stage_mtd` must be a number, at least 0, got {stage_mtd!r}")
    name = stage or (curve.stage if isinstance(curve, LagCurve) else "")
    if isinstance(curve, LagCurve) and not curve.enough:
        elapsed = progress.days_elapsed
        line = happened / elapsed * progress.days_in_month if elapsed else math.nan
        note = (
            f"the {curve.stage} lag curve of {curve.channel or 'all channels'} is not enough "
            f"({curve.events} events, oldest lead {curve.max_age_observed} days): straight line"
        )
        return CohortForecast(name, happened, 0.0, line - happened, line, "linear", note)
    shares = _curve_array(curve)
    days, leads = _leads(leads_by_day)
    today, last = day_number(as_of), day_number(end)
    if today >= last:
        return CohortForecast(name, happened, 0.0, 0.0, happened, "cohort")
    floor = max(today, day_number(start) - 1)  # events after this day and up to `last` count
    seen = days <= today
    gain = shares_at(shares, last - days[seen]) - shares_at(shares, floor - days[seen])
    from_existing = float(np.dot(leads[seen], gain))
    future = np.arange(today + 1, last + 1)
    rates = _rates(leads_per_day_left, len(future))
    new_gain = shares_at(shares, last - future) - shares_at(shares, floor - future)
    from_new = float(np.dot(rates, new_gain))
    total = happened + from_existing + from_new
    return CohortForecast(name, happened, from_existing, from_new, total, "cohort")


def revenue_per_purchase(deals: pd.DataFrame, as_of: date, channel: str | None = None) -> float:
    """Summed revenue / summed purchases of the deals purchased up to `as_of` (of `channel`,
    or every channel when None); nan when there is no purchase."""
    days = day_deals(deals, as_of)
    bought = days.reached[days.stages.index("purchases")] <= days.as_of
    if channel is not None:
        code = days.channels.index(channel) if channel in days.channels else -1
        bought &= days.channel == code
    count = int(bought.sum())
    return float(days.revenue[bought].sum()) / count if count else math.nan


def revenue_forecast(
    revenue_mtd: float, purchases_mtd: float, purchases_forecast: float, per_purchase: float
) -> float:
    """``revenue_mtd + (purchases_forecast - purchases_mtd) * per_purchase``; with no purchase
    still to come the revenue so far (even when `per_purchase` is nan)."""
    more = float(purchases_forecast) - float(purchases_mtd)
    if more == 0:
        return float(revenue_mtd)
    return float(revenue_mtd) + more * float(per_purchase)


def _daily_leads(days: npt.NDArray[np.int64], first: int, last: int) -> pd.Series:
    counts = np.bincount(days - first, minlength=last - first + 1)[: last - first + 1]
    index = pd.to_datetime(np.arange(first, last + 1).astype("datetime64[D]"))
    return pd.Series(counts.astype(np.float64), index=index)


def channel_forecasts(
    deals: pd.DataFrame,
    month: date | str,
    as_of: date,
    *,
    window: int = 5,
    curves: dict[tuple[str, str], LagCurve] | None = None,
    stages: Sequence[str] | None = None,
) -> dict[tuple[str, str], CohortForecast]:
    """(channel, stage) -> the cohort forecast of every channel of `deals`, from the deals alone.

    The leads are the deals by their created day; `happened` the deals reaching the stage in the
    month up to `as_of`; the rest-of-month leads' rate the leads' own `last_n` run-rate over
    `window` days (`planning.runrate`, exactly what RUNRATE gives the leads); `curves` default
    to `lag_curves(deals, as_of)`.
    """
    start = parse_month(month)
    days = day_deals(deals, as_of)
    curves = curves_of_days(days) if curves is None else curves
    wanted = tuple(days.stages if stages is None else stages)
    first_of_month, today = day_number(start), days.as_of
    out: dict[tuple[str, str], CohortForecast] = {}
    for code, name in enumerate(days.channels):
        mine = days.channel == code
        created = days.created[mine]
        first = min(int(created.min()) if created.size else today, first_of_month, today)
        leads = _daily_leads(created, first, today)
        if today < first_of_month:  # before the month: the last `window` days' mean
            rate = float(leads.iloc[-window:].sum()) / window
        else:
            rate = forecast_series(leads, start, as_of, window=window).daily_rate
        for stage in wanted:
            reached = days.reached[days.stages.index(stage)][mine]
            happened = float(((reached >= first_of_month) & (reached <= today)).sum())
            curve = curves.get((name, stage)) or curves[(POOLED, stage)]
            out[(name, stage)] = cohort_forecast(
                leads, happened, curve, start, as_of, rate, stage=stage
            )
    return out
