"""CRM deals mapped to plan channels with the Mapping rules, the same rules as the facts.

A deal carries the UTM keys of its lead and its source; `map_deals` runs `map_facts` over them
(first matching rule wins, case and surrounding spaces ignored), so a deal gets exactly the
channel and campaign its leads' facts get. Deals no rule matches are not dropped silently: they
are counted per source and UTM keys (`MappedDeals.unmapped`) for the Cohorts sheet's status line
and the buttons' messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from sheets_sync.facts import DEAL_COLUMNS, require_columns
from sheets_sync.mapping import Rule, map_facts

__all__ = ["UNMAPPED_COLUMNS", "MappedDeals", "map_deals"]

UNMAPPED_COLUMNS: tuple[str, ...] = ("source", "utm_source", "utm_medium", "utm_campaign", "deals")


@dataclass(frozen=True)
class MappedDeals:
    """`deals`: the deals a rule matched (`DEAL_COLUMNS` plus ``channel``, ``campaign`` and
    ``rule``); `unmapped`: the others counted per source and UTM keys (`UNMAPPED_COLUMNS`, most
    deals first)."""

    deals: pd.DataFrame
    unmapped: pd.DataFrame

    @property
    def unmapped_deals(self) -> int:
        return int(self.unmapped["deals"].sum()) if len(self.unmapped) else 0


def map_deals(deals: pd.DataFrame, rules: Sequence[Rule]) -> MappedDeals:
    """`deals` (`DEAL_COLUMNS`) mapped with `rules` (`sheets_sync.mapping.map_facts`)."""
    require_columns(deals, DEAL_COLUMNS, "deals", "are")
    mapped = map_facts(deals, rules)
    hit = mapped["rule"].to_numpy() > 0
    missed = mapped[~hit]
    keys = list(UNMAPPED_COLUMNS[:-1])
    if missed.empty:
        unmapped = pd.DataFrame({c: pd.Series(dtype=object) for c in keys})
        unmapped["deals"] = pd.Series(dtype="int64")
    else:
        texts = missed[keys].fillna("").astype(str)
        unmapped = texts.groupby(keys, sort=False).size().rename("deals").reset_index()
        unmapped = unmapped.sort_values(["deals", *keys], ascending=[False, *[True] * len(keys)])
        unmapped = unmapped.reset_index(drop=True)
    return MappedDeals(mapped[hit].reset_index(drop=True), unmapped)
