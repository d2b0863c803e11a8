"""Step 3, map: the configured sources' facts taken from the store (each on the config's
`basis`; sources without cohort rows on the event basis), mapped with the Mapping rules
(`sheets_sync.mapping.map_facts`) and matched to the Plan's lines (channel and campaign,
ignoring case and surrounding spaces; a facts line with no such plan line goes to a line of
its channel with a blank campaign, if there is one), then classified against as-of
(`sheets_sync.quality.classify`).

As-of is the latest day with facts in the plan month, but never today or later while today is
in the month (today's data is partial); an explicit as-of overrides it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from addin.actions.sync_facts.book import PlanBook
from planning.errors import InputError
from sheets_sync.facts import empty_facts
from sheets_sync.mapping import map_facts, match_lines
from sheets_sync.quality import SourceRead, classify
from sheets_sync.store import FactStore
from sheets_sync.sync_config import SourceConfig, SyncConfig

Windows = dict[str, list[tuple[dt.date, dt.date]]]
"""Per source, the days each of this sync's inputs covers."""


@dataclass
class Mapped:
    """The map step's facts and the as-of they were classified against."""

    facts: pd.DataFrame
    """The store's facts of the plan month (and, summed, of this sync's windows outside it),
    mapped, with ``line`` (the Plan row, -1 for none) and ``status`` (`classify`)."""
    windows: Windows
    as_of: dt.date | None


def source_basis(config: SyncConfig, src: SourceConfig) -> str:
    """The basis a source's facts are taken on from the store: ``"cohort"`` for a CRM source
    when the config asks for it, else ``"event"``."""
    return "cohort" if config.basis == "cohort" and src.kind == "crm" else "event"


def by_basis(basis_of: dict[str, str]) -> list[tuple[str, list[str]]]:
    """(basis, source names on it) for the event then the cohort basis, bases with no source
    left out: one store query per basis."""
    groups = [(b, [n for n, nb in basis_of.items() if nb == b]) for b in ("event", "cohort")]
    return [(b, names) for b, names in groups if names]


def _empty_mapped() -> pd.DataFrame:
    frame = empty_facts()
    frame["channel"] = pd.Series(dtype=object)
    frame["campaign"] = pd.Series(dtype=object)
    frame["rule"] = pd.Series(dtype="int64")
    return frame


def _default_as_of(days: pd.Series, book: PlanBook, now: dt.datetime) -> dt.date | None:
    if days.empty:
        return None
    latest: dt.date = pd.Timestamp(days.max()).date()
    today = now.date()
    if book.month <= today <= book.month_end and latest >= today:
        latest = today - dt.timedelta(days=1)
    return latest if latest >= book.month else None


def _windows(reads: list[SourceRead]) -> Windows:
    windows: Windows = {}
    for r in reads:
        w = r.window()
        if w is not None:
            windows.setdefault(r.source, []).append(w)
    return windows


def _stored_facts(
    store: FactStore, config: SyncConfig, book: PlanBook, reads: list[SourceRead], windows: Windows
) -> pd.DataFrame:
    """The configured sources' facts from the store: the plan month day by day, the rest of
    this sync's windows only summed (for the reconciliation)."""
    basis_of = {
        name: next((r.basis for r in reads if r.source == name), None) or source_basis(config, src)
        for name, src in {s.name: s for s in config.sources}.items()
    }
    frames = []
    for b, names in by_basis(basis_of):
        frames.append(
            store.source_facts(start=book.month, end=book.month_end, basis=b, sources=names)
        )
        outside = {k: windows[k] for k in names if k in windows}
        frames.append(store.source_facts_outside(book.month, book.month_end, outside, basis=b))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def map_to_plan(
    store: FactStore,
    config: SyncConfig,
    book: PlanBook,
    reads: list[SourceRead],
    now: dt.datetime,
    as_of: dt.date | None = None,
) -> Mapped:
    """The map step: the store's facts mapped, matched to plan lines and classified."""
    windows = _windows(reads)
    facts = _stored_facts(store, config, book, reads, windows)
    mapped = map_facts(facts, book.rules) if len(facts) else _empty_mapped()
    mapped["line"] = match_lines(mapped, book.plan)
    dates = pd.to_datetime(mapped["date"])
    if as_of is None:
        in_month = (dates >= pd.Timestamp(book.month)) & (dates <= pd.Timestamp(book.month_end))
        as_of = _default_as_of(dates[in_month], book, now)
    elif not book.month <= as_of <= book.month_end:
        raise InputError(
            f"as-of {as_of} is not a day of the plan month {book.month:%Y-%m}",
            value=as_of,
            has_value=False,
        )
    mapped["status"] = classify(dates, mapped["rule"], mapped["line"], book.month, as_of)
    return Mapped(mapped, windows, as_of)
