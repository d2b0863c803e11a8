"""Channel-level history from the fact store, for the Daily History sheet Optimize Split fits
its curves on (the demo writes it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from addin.actions.sync_facts.map import by_basis, source_basis
from sheets_sync.mapping import Rule, map_facts
from sheets_sync.store import FactStore
from sheets_sync.sync_config import SyncConfig
from workbook_templates import layout as L


def channel_history(
    store: FactStore,
    config: SyncConfig,
    rules: Sequence[Rule],
    end: dt.date,
    start: dt.date | None = None,
) -> pd.DataFrame:
    """Channel-level days up to `end` (``date, channel, spend, leads``) from the store, mapped
    with `rules`: what the Daily History sheet holds for Optimize Split's curves. Each channel
    starts on its first day with spend (a channel with none is left out)."""
    columns = list(L.DAILY_HISTORY_HEADERS)
    basis_of = {s.name: source_basis(config, s) for s in config.sources}
    frames = [
        store.source_facts(start=start, end=end, basis=b, sources=names, metrics=columns[2:])
        for b, names in by_basis(basis_of)
    ]
    facts = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if facts.empty:
        return pd.DataFrame(columns=columns)
    mapped = map_facts(facts, rules)
    mapped = mapped[mapped["rule"] > 0]
    wide = (
        mapped.groupby([mapped["date"].dt.date, "channel", "metric"])["value"]
        .sum()
        .unstack("metric")
        .reindex(columns=columns[2:])
        .fillna(0.0)
        .reset_index()
    )
    wide = wide.rename(columns={wide.columns[0]: "date"})
    # A channel's history starts on its first day with spend: CRM events of leads created
    # before the ad exports begin are not days the curves can use.
    first = wide[wide["spend"] > 0].groupby("channel")["date"].min()
    wide = wide[wide["date"] >= wide["channel"].map(first)]
    return wide[columns].sort_values(["date", "channel"], ignore_index=True)
