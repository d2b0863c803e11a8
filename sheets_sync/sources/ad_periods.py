"""Ad-export rows that cover a period, not a day, and rows dated where they should not be.

Meta Ads exported without a daily breakdown writes one row per campaign for the whole report
("Reporting starts" 2026-11-01, "Reporting ends" 2026-11-17). Dated on its first day, such a
file put the month's spend on the 1st, moved the as-of there and made a line's run-rate 4.5 M
against a 217 k plan.

Decision: **refused by default** (`refuse_periods`). Spreading a period row evenly over its
days would keep month-to-date right but invent the daily shape: every day the same, the
weekend dip gone, the last days equal to the period's average. The run-rate methods that look
at the last days (last_n, last_n_dow, auto's change-point, the anomaly band) would then be
fooled without a sign, while the sums look right. A refused row is quarantined with a reason
saying what to export instead, and the file gets a flag (the sync is not ok), so nothing is
dropped silently and nothing is made up. A source whose only export is by period can opt in
with ``spread_periods = true`` (`spread`): each row becomes one row per day, its values divided
by the days; the file's warnings say how many rows were spread over how many days.

`future_rows` / `outside_flags`: rows dated after the sync's clock are quarantined ("date in
the future": not counted, not used for freshness: a future date made a source look fresh,
age -1,167 h); a file with more than `OUTSIDE_SHARE` of its spend (or, without spend, rows)
dated after the plan month, or with nothing in it, is flagged (days before the month are
history, see `outside_flags`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from sheets_sync.facts import FileInfo
from sheets_sync.sources.cell_values import DateParse, parse_dates
from sheets_sync.sources.fact_frames import quarantine_cells
from sheets_sync.sources.textfile import Bools, Floats, Grid, Ints

__all__ = [
    "OUTSIDE_SHARE",
    "PERIOD_STARTS",
    "Spread",
    "future_rows",
    "outside_flags",
    "period_days",
    "refuse_periods",
    "spread",
]

PERIOD_STARTS = frozenset({"reporting starts", "начало отчетности", "начало отчётности"})
"""Date headers that start a period (the row's day is not its only day)."""
OUTSIDE_SHARE = 0.2
"""A file with more than this share of its spend (rows, without spend) dated after the plan
month is flagged: an export of the wrong month, or a date range set too wide."""
REFUSED = "covers several days: export a daily breakdown"


def period_days(
    grid: Grid, columns: Mapping[str, str], dates: DateParse
) -> tuple[Ints, Bools] | None:
    """Per row, the days it covers (1 for a day row; the end cell blank or unreadable = 1)
    and the rows whose period ends before it starts; None when the file has no period (no
    end column, or its date column is a day, not a period's start)."""
    end_column = columns.get("date_end")
    start_header = grid.headers[list(grid.frame.columns).index(columns["date"])]
    if end_column is None or start_header.strip().casefold() not in PERIOD_STARTS:
        return None
    ends = parse_dates(grid.frame[end_column], what=end_column).values
    start = dates.values.astype("datetime64[D]")
    finish = ends.astype("datetime64[D]")
    known = ~np.isnat(start) & ~np.isnat(finish)
    span = np.where(known, (finish - start).astype(np.int64) + 1, 1)
    backwards = known & (span < 1)
    return np.where(backwards, 1, span).astype(np.int64), backwards


def refuse_periods(
    grid: Grid,
    source: str,
    columns: Mapping[str, str],
    days: Ints,
    info: FileInfo,
    parts: list[pd.DataFrame],
) -> Bools:
    """Quarantine the rows covering more than one day (see the module notes) and flag the
    file, naming a row and what to export instead; returns the rows refused."""
    refused = days > 1
    if not refused.any():
        return refused
    end_column = columns["date_end"]
    parts.append(quarantine_cells(grid, source, refused, end_column, REFUSED))
    first = int(np.flatnonzero(refused)[0])
    start = grid.frame[columns["date"]].iloc[first]
    end = grid.frame[end_column].iloc[first]
    info.flags.append(
        f"{grid.path}: {int(refused.sum())} row(s) cover a period, not a day (line "
        f"{grid.lines[first]}: {start} .. {end}, {days[first]} days); export with a daily "
        f"breakdown (Meta: Breakdown > By time > Day), or set spread_periods = true for "
        f"source {source!r}"
    )
    return refused


@dataclass
class Spread:
    """Kept rows expanded one per day: ``rows`` indexes the kept arrays, ``dates`` each new
    row's day, ``share`` what part of the row's values it carries (1 / the row's days)."""

    rows: Ints
    dates: npt.NDArray[np.datetime64]
    share: Floats


def spread(dates: npt.NDArray[np.datetime64], days: Ints, info: FileInfo) -> Spread:
    """Each kept row repeated over its ``days`` (its day, the next …), values split evenly;
    the file's warnings say how many rows were spread over how many days."""
    rows = np.repeat(np.arange(len(days), dtype=np.int64), days)
    starts = np.cumsum(days) - days
    offset = np.arange(len(rows), dtype=np.int64) - np.repeat(starts, days)
    day = dates.astype("datetime64[D]")[rows] + offset.astype("timedelta64[D]")
    periods = days > 1
    if periods.any():
        info.warnings.append(
            f"{int(periods.sum())} period row(s) spread evenly over {int(days[periods].sum())} "
            "days (spread_periods = true): month-to-date is right, the daily shape is not"
        )
    return Spread(rows, day.astype("datetime64[ns]"), 1.0 / np.repeat(days, days))


def future_rows(
    grid: Grid,
    source: str,
    column: str,
    dates: DateParse,
    today: dt.date | None,
    parts: list[pd.DataFrame],
) -> Bools:
    """Rows dated after ``today`` (the sync's clock), quarantined "date in the future"."""
    if today is None:
        return np.zeros(len(dates.values), dtype=bool)
    after = dates.values >= np.datetime64(today + dt.timedelta(days=1), "ns")
    parts.append(quarantine_cells(grid, source, after, column, "date in the future"))
    return after


def outside_flags(
    info: FileInfo,
    dates: npt.NDArray[np.datetime64],
    spend: Floats | None,
    month: tuple[dt.date, dt.date] | None,
) -> list[str]:
    """A flag when the kept rows (``dates``, ``spend``) say the file is not this month's:
    more than `OUTSIDE_SHARE` of the spend (rows, without spend) dated after ``month``, or
    nothing inside it. Days before the month are history the store keeps for the curves, the
    cohorts and attribution (the demo exports two and a half months on purpose): counted as
    outside on Data Quality, not flagged."""
    if month is None or not len(dates):
        return []
    lo = np.datetime64(month[0], "ns")
    hi = np.datetime64(month[1] + dt.timedelta(days=1), "ns")
    after = dates >= hi
    inside = (dates >= lo) & ~after
    weights = np.nan_to_num(spend, nan=0.0) if spend is not None else None
    if weights is not None and weights.sum() > 0:
        share, basis = float(weights[after].sum() / weights.sum()), "spend"
    else:
        share, basis = float(after.mean()), "rows"
    what = f"{month[0]:%Y-%m}"
    if not inside.any():
        return [
            f"{info.path}: no row is dated in {what} ({len(dates)} rows); export the plan month"
        ]
    if share <= OUTSIDE_SHARE:
        return []
    return [
        f"{info.path}: {share:.0%} of its {basis} is dated after {what} "
        f"({int(after.sum())} of {len(dates)} rows); export the plan month"
    ]
