"""The Review's results by city and by product: the fact store's facts by dimension, this month
and last month, reviewed by `planning.review_dims`.

This month's facts are the Drill sheet's (`addin.actions.drill.drill_facts`: the configured
sources' facts of the plan month up to as-of, mapped and matched to the Plan's lines), summed by
`planning.drill.drill` at level ``city`` and ``product``: so the rows' total is the Plan's facts,
the channel table's total facts. Last month's are the same reading over last month's window:
the whole month when this one is over (as-of on or after its last day), else its first days up
to the same day of the month (the 17th: October 1–17), capped at its length. They are matched to
this month's Plan lines (the channels reviewed), so a value's change is like for like.

The blocks need a sync config with a fact store (the buttons' `known_config`); without one the
Review says so in one line under each title and the rest of the sheet is unchanged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd

from addin.actions.drill import drill_facts
from planning.drill import drill
from planning.funnel import Funnel
from planning.review import ReviewRules
from planning.review_dims import DIM_LEVELS, DimReview, dim_metrics, review_dimension
from planning.runrate import month_end
from sheets_sync.store import FactStore
from sheets_sync.sync_config import SyncConfig
from sheets_sync.workbooks.interface import WorkbookTarget
from workbook_templates.settings_sheet import read_settings

__all__ = ["DimReviews", "dimension_reviews", "last_month_window"]

NO_STORE = "No fact store to break the facts down: set up Sync Facts (sync.toml) and press it."


@dataclass(frozen=True)
class DimReviews:
    """The reviews by `planning.review_dims.DIM_LEVELS` (empty with a `note` saying why)."""

    reviews: tuple[DimReview, ...]
    note: str = ""
    as_of: dt.date | None = None
    last_window: tuple[dt.date, dt.date] | None = None


def last_month_window(month: dt.date, as_of: dt.date | None) -> tuple[dt.date, dt.date]:
    """Last month's first and last day compared with `month` up to `as_of` (module docstring).

    >>> last_month_window(dt.date(2026, 11, 1), dt.date(2026, 11, 17))
    (datetime.date(2026, 10, 1), datetime.date(2026, 10, 17))
    >>> last_month_window(dt.date(2026, 3, 1), dt.date(2026, 3, 30))  # February has 28 days
    (datetime.date(2026, 2, 1), datetime.date(2026, 2, 28))
    """
    first = (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    if as_of is None or as_of >= month_end(month):
        return first, month_end(first)
    return first, min(first.replace(day=1) + dt.timedelta(days=as_of.day - 1), month_end(first))


class _Window:
    """The fact store read over another window: `drill_facts` asks for the plan month; this
    answers with `first`..`last` instead (every other argument as asked)."""

    def __init__(self, store: FactStore, first: dt.date, last: dt.date) -> None:
        self._store, self._first, self._last = store, first, last

    def source_facts(self, **kwargs: Any) -> pd.DataFrame:
        kwargs.update(start=self._first, end=self._last)
        return self._store.source_facts(**kwargs)


def dimension_reviews(
    wb: WorkbookTarget,
    config: SyncConfig | None,
    plan: pd.DataFrame,
    funnel: Funnel,
    rules: ReviewRules,
) -> DimReviews:
    """The month by city and by product against last month (module docstring)."""
    if config is None or (config.store_url is None and not config.store.exists()):
        return DimReviews((), NO_STORE)
    month = read_settings(wb).month
    metrics = dim_metrics(funnel)
    with FactStore(config.store_location) as store:
        now, as_of = drill_facts(store, config, wb, plan)
        window = last_month_window(month, as_of)
        before, _ = drill_facts(cast(FactStore, _Window(store, *window)), config, wb, plan)
    has_last = bool((before["line"] >= 0).any()) if len(before) else False
    reviews = []
    for level in DIM_LEVELS:
        this = drill(now, plan, level, metrics=metrics)
        last = drill(before, plan, level, metrics=metrics) if has_last else None
        reviews.append(review_dimension(this, funnel, rules, last))
    return DimReviews(tuple(reviews), "", as_of, window if has_last else None)
