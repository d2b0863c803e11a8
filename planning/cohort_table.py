"""The cohort table for the Cohorts sheet: each week's leads followed week by week.

One row per (channel, cohort week, week_since): the leads created in the cohort week (weeks start
on Monday) and, per stage, how many of them reached it within ``week_since + 1`` weeks of their
own lead day (lag ``< 7 * (week_since + 1)`` days: week 0 is the lead's first 7 days). Counts are
cumulative over week_since, never more than the leads, and the conversion rate is ``count /
leads`` of the row; revenue is the revenue of the cohort's deals purchased by then.

Decisions
---------
- Cohort weeks: the `weeks` Mondays up to `as_of`'s week (the current week, partial, included).
  week_since runs ``0..(as_of - cohort Monday) // 7``: a row exists once some lead of the cohort
  can have reached that week.
- Every channel of the deals (and of the spend) gets every cohort week, even with 0 leads (its
  rates are then nan), so the sheet is a full grid. With `total`, the channel `POOLED` (``""``)
  rows sum every channel; its ratios are recomputed from the sums.
- `maturing`: the row can still grow, because not every lead of the cohort has yet been observed
  for the row's whole window: ``cohort's last day (Sunday) + 7 * week_since + 6 > as_of``.
  A row that is not maturing is final.
- spend (columns channel, date, spend: daily) is the cohort week's spend of the channel up to
  `as_of`; ``cost_per_pp = spend / pp`` and ``cost_per_purchase = spend / purchases`` of the row,
  nan when the count is 0 or no spend is given.
- Stages follow `planning.cohort_deals`: a stage reached after `as_of` is not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd

from planning.cohort_deals import NEVER, POOLED, day_deals
from planning.errors import InputError

__all__ = ["CohortTable", "cohort_table"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class CohortTable:
    """The cohort table (see the module docstring).

    `frame` columns: ``channel, cohort_week, week_since, leads, <stage>... , <stage>_cr...,
    revenue, spend, cost_per_pp, cost_per_purchase, maturing``; `stages` the stage columns in
    funnel order.
    """

    frame: pd.DataFrame
    stages: tuple[str, ...]
    as_of: date
    weeks: int


def _weekday(days: IntArray) -> IntArray:
    """Monday 0 .. Sunday 6 of day numbers (1970-01-01 was a Thursday)."""
    return (days + 3) % 7


def _spend_by_week(
    spend: pd.DataFrame, channels: list[str], first_monday: int, weeks: int, today: int
) -> FloatArray:
    missing = [c for c in ("channel", "date", "spend") if c not in spend.columns]
    if missing:
        raise InputError(f"`spend` has no column {missing[0]!r}: give channel, date, spend")
    day = pd.to_datetime(spend["date"], errors="coerce").to_numpy(dtype="datetime64[ns]")
    if np.isnat(day).any():
        row = int(np.flatnonzero(np.isnat(day))[0])
        raise InputError(
            "is not a date", line=row + 1, column="date", value=spend["date"].iloc[row]
        )
    amount = pd.to_numeric(spend["spend"], errors="coerce").fillna(0.0).to_numpy(np.float64)
    days = day.astype("datetime64[D]").astype(np.int64)
    week = (days - first_monday) // 7
    names = spend["channel"].astype(str)
    channel = pd.Categorical(names, categories=channels).codes.astype(np.int64)
    keep = (week >= 0) & (week < weeks) & (days <= today)
    out = np.bincount(
        channel[keep] * weeks + week[keep], weights=amount[keep], minlength=len(channels) * weeks
    )
    return out.astype(np.float64).reshape(len(channels), weeks)


def _cumulative(
    channel: IntArray,
    week: IntArray,
    lag_week: IntArray,
    n: int,
    weeks: int,
    weights: FloatArray | None = None,
) -> FloatArray:
    """Per (channel, cohort week, week_since): the count (or weight) with lag week <= week_since."""
    keep = lag_week < weeks
    index = (channel[keep] * weeks + week[keep]) * weeks + lag_week[keep]
    w = None if weights is None else weights[keep]
    flat = np.bincount(index, weights=w, minlength=n * weeks * weeks).astype(np.float64)
    return np.cumsum(flat.reshape(n, weeks, weeks), axis=2)


def cohort_table(
    deals: pd.DataFrame,
    as_of: date,
    *,
    spend: pd.DataFrame | None = None,
    weeks: int = 8,
    total: bool = True,
) -> CohortTable:
    """The cohort table of `deals` as of `as_of` (see the module docstring).

    `spend`: columns channel, date, spend (daily). Weeks of the lead start on Monday. A stage
    reached after `as_of` is not counted (the export may be newer).
    """
    if isinstance(weeks, bool) or not isinstance(weeks, int | np.integer) or weeks < 1:
        raise InputError(f"`weeks` must be a whole number, at least 1, got {weeks!r}")
    days = day_deals(deals, as_of)
    today = days.as_of
    first_monday = today - int(_weekday(np.array([today]))[0]) - 7 * (weeks - 1)
    channels = list(days.channels)
    if spend is not None:
        channels = sorted(set(channels) | {str(c) for c in spend["channel"].unique()})
    remap = np.array([channels.index(c) for c in days.channels], dtype=np.int64)
    n = len(channels)
    week = (days.created - first_monday) // 7
    inside = week >= 0
    channel = remap[days.channel][inside]
    week = week[inside]
    leads = np.bincount(channel * weeks + week, minlength=n * weeks).reshape(n, weeks)
    counts = {}
    for s, stage in enumerate(days.stages):
        reached = days.reached[s][inside]
        lag = np.maximum(reached - days.created[inside], 0) // 7
        lag_week = np.where(reached == NEVER, weeks, lag)
        counts[stage] = _cumulative(channel, week, lag_week, n, weeks)
    purchased = days.reached[days.stages.index("purchases")][inside]
    lag = np.maximum(purchased - days.created[inside], 0) // 7
    revenue = _cumulative(
        channel,
        week,
        np.where(purchased == NEVER, weeks, lag),
        n,
        weeks,
        days.revenue[inside],
    )
    cost = None
    if spend is not None:
        cost = _spend_by_week(spend, channels, first_monday, weeks, today)
    names = list(channels)
    if total:
        names.append(POOLED)
        leads = np.vstack([leads, leads.sum(axis=0, keepdims=True)])
        counts = {k: np.concatenate([v, v.sum(axis=0, keepdims=True)]) for k, v in counts.items()}
        revenue = np.concatenate([revenue, revenue.sum(axis=0, keepdims=True)])
        if cost is not None:
            cost = np.vstack([cost, cost.sum(axis=0, keepdims=True)])
    frame = _frame(names, first_monday, weeks, today, leads, counts, revenue, cost)
    return CohortTable(frame, days.stages, as_of, int(weeks))


def _frame(
    names: list[str],
    first_monday: int,
    weeks: int,
    today: int,
    leads: IntArray,
    counts: dict[str, FloatArray],
    revenue: FloatArray,
    cost: FloatArray | None,
) -> pd.DataFrame:
    """The rows of the grid (channel, cohort week, week_since) that exist, as a frame."""
    c, w, k = np.meshgrid(np.arange(len(names)), np.arange(weeks), np.arange(weeks), indexing="ij")
    monday = first_monday + 7 * w
    exists = (monday + 7 * k <= today).ravel()
    c, w, k, monday = (a.ravel()[exists] for a in (c, w, k, monday))
    n_leads = leads[c, w].astype(np.float64)
    frame = pd.DataFrame(
        {
            "channel": np.array(names, dtype=object)[c],
            "cohort_week": pd.to_datetime(monday.astype("datetime64[D]")).astype("datetime64[ns]"),
            "week_since": k.astype(np.int64),
            "leads": leads[c, w].astype(np.int64),
        }
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        for stage, values in counts.items():
            frame[stage] = values[c, w, k].astype(np.int64)
        for stage, values in counts.items():
            frame[f"{stage}_cr"] = np.where(n_leads > 0, values[c, w, k] / n_leads, np.nan)
        frame["revenue"] = revenue[c, w, k]
        spent = np.full(len(c), np.nan) if cost is None else cost[c, w]
        frame["spend"] = spent
        for column, stage in (("cost_per_pp", "pp"), ("cost_per_purchase", "purchases")):
            count = counts[stage][c, w, k]
            frame[column] = np.where(count > 0, spent / count, np.nan)
    frame["maturing"] = monday + 6 + 7 * k + 6 > today
    return frame
