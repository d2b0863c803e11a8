"""What the Cohorts sheet and the lag-aware run-rate take from the fact store: the CRM deals
mapped to the Plan's channels, and the channels' daily spend.

Decisions:

* the deals read are those of the config's fact sources created in the `HISTORY_DAYS` up to
  as-of: twice the lag curves' 90-day horizon, enough for every age of the curve to be seen by
  fully observed leads while the curves follow the recent months;
* a deal's channel comes from the Mapping rules, exactly like its facts
  (`sheets_sync.deal_mapping`), then its plan line (`sheets_sync.mapping.match_lines`): a deal
  reaching a line takes the line's channel and campaign as the Plan spells them; a deal mapped to
  a channel the Plan has no line for keeps the rule's names (its channel still has its cohorts)
  and is counted as unplanned; a deal no rule matches is counted, per source and UTM keys, and
  left out;
* spend is the ad sources' (event basis) mapped the same way, summed per channel and day;
* a channel's deals count from its first day with spend in the store (like the Daily History,
  `addin.actions.sync_facts.history`): leads dated before the ad data begins come from a CRM
  history the rest of the data does not cover, and such early rows often over-represent the
  deals that moved on (an export of the deals that changed, a sample's leads made up for the
  first days' purchases), which would bend the lag curves upwards. They are counted
  (`CohortInputs.before_spend`). A channel with no spend at all keeps every deal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sheets_sync.deal_mapping import map_deals
from sheets_sync.mapping import Rule, map_facts, match_lines
from sheets_sync.store import FactStore
from sheets_sync.sync_config import SyncConfig

__all__ = ["HISTORY_DAYS", "CohortInputs", "plan_channels", "read_cohort_inputs"]

HISTORY_DAYS = 180


@dataclass(frozen=True)
class CohortInputs:
    """The deals and spend as of a day."""

    as_of: dt.date
    deals: pd.DataFrame
    """The mapped deals: ``source, id, channel, campaign, line`` (the Plan row, -1 for none),
    ``created``, the stage days, ``revenue``."""
    stored: int
    """Deals the store holds for the period (mapped or not)."""
    unmapped: pd.DataFrame
    """Deals no Mapping rule matched, per source and UTM keys
    (`sheets_sync.deal_mapping.UNMAPPED_COLUMNS`)."""
    unplanned: int
    """Mapped deals whose channel and campaign no Plan line has."""
    spend: pd.DataFrame
    """``channel, date, spend``: the channels' daily spend from `first_day` to as-of."""
    before_spend: int = 0
    """Mapped deals left out: created before their channel's first day with spend."""

    @property
    def unmapped_deals(self) -> int:
        return int(self.unmapped["deals"].sum()) if len(self.unmapped) else 0


def plan_channels(frame: pd.DataFrame, plan: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per mapped row (``channel``, ``campaign``, ``rule``): its plan line (-1 for none) and
    its channel as the Plan spells it (the rule's where no line takes it)."""
    line = match_lines(frame, plan)
    channels = plan["channel"].astype(str).to_numpy(dtype=object)
    own = frame["channel"].astype(str).to_numpy(dtype=object)
    channel = np.where(line >= 0, channels[np.maximum(line, 0)] if len(plan) else own, own)
    return line, channel


def read_cohort_inputs(
    store: FactStore,
    config: SyncConfig,
    rules: Sequence[Rule],
    plan: pd.DataFrame,
    as_of: dt.date,
    first_day: dt.date | None = None,
) -> CohortInputs:
    """The deals created in the `HISTORY_DAYS` up to `as_of` (from their channel's first day
    with spend) and the spend from `first_day` (default: 8 weeks before `as_of`) to `as_of`,
    mapped with `rules` onto `plan`'s lines."""
    sources = [s.name for s in config.fact_sources]
    start = as_of - dt.timedelta(days=HISTORY_DAYS)
    raw = store.deals(sources, created_from=start, created_to=as_of)
    mapped = map_deals(raw, rules)
    deals = mapped.deals
    line, channel = plan_channels(deals, plan)
    campaigns = plan["campaign"].astype(str).to_numpy(dtype=object)
    campaign = deals["campaign"].astype(str).to_numpy(dtype=object)
    if len(plan):
        campaign = np.where(line >= 0, campaigns[np.maximum(line, 0)], campaign)
    deals = deals.assign(channel=channel, campaign=campaign, line=line).drop(columns=["rule"])
    spend = _spend(store, sources, rules, plan, start, as_of)
    first_spend = spend[spend["spend"] > 0].groupby("channel")["date"].min()
    # a dict: an empty datetime Series as the mapper fails (cast to float), NaT-typed either way
    since = pd.to_datetime(deals["channel"].map(first_spend.to_dict()))
    early = (since.notna() & (deals["created"] < since)).to_numpy(dtype=bool)
    deals = deals[~early].reset_index(drop=True)
    first = pd.Timestamp(first_day or as_of - dt.timedelta(days=7 * 8))
    return CohortInputs(
        as_of=as_of,
        deals=deals,
        stored=len(raw),
        unmapped=mapped.unmapped,
        unplanned=int((deals["line"] < 0).sum()),
        spend=spend[spend["date"] >= first].reset_index(drop=True),
        before_spend=int(early.sum()),
    )


def _spend(
    store: FactStore,
    sources: list[str],
    rules: Sequence[Rule],
    plan: pd.DataFrame,
    start: dt.date,
    end: dt.date,
) -> pd.DataFrame:
    facts = store.source_facts(start=start, end=end, sources=sources, metrics=["spend"])
    columns = ["channel", "date", "spend"]
    if facts.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    mapped = map_facts(facts, rules)
    mapped = mapped[mapped["rule"] > 0]
    _, channel = plan_channels(mapped, plan)
    daily = (
        mapped.assign(channel=channel)
        .groupby(["channel", "date"], sort=True)["value"]
        .sum()
        .rename("spend")
        .reset_index()
    )
    return daily[columns]
