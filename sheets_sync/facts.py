"""What every source reader returns: normalised daily fact rows, quarantined rows, file info.

Every reader (ad-platform exports, call tracking, CRM, a Google Sheet tab, a SQL query) turns
its input into the same long frame, one value per row:

``date``
    the day (pandas ``datetime64[ns]`` at midnight);
``source``
    the data source's name from the sync config (``"yandex_direct"``, ``"crm"`` …);
``utm_source``, ``utm_medium``, ``utm_campaign``
    the line keys the mapping rules match on (``""`` when the input has none). Ad exports put
    the platform's usual UTM source (``"google"``, ``"yandex"``, ``"facebook"``, ``"vk"``, or the
    column map's ``utm_source``) and ``"cpc"`` there, and the campaign name in ``utm_campaign``;
``metric``
    one of `METRICS`;
``basis``
    ``"event"`` (counted on the day it happened) or ``"cohort"`` (counted on the day the lead
    was created). Ad and call rows are ``"event"`` only; CRM rows come in both;
``value``
    float64, already in account currency without VAT for money metrics.

A CRM reader also returns its kept rows one per deal (`DEAL_COLUMNS`, ``ReadResult.deals``):
the lead's day and the day each later stage was reached, what the Cohorts sheet and the
lag-aware run-rate need; other readers leave it empty.

Rows a reader cannot read go to the quarantine frame (`QUARANTINE_COLUMNS`) with the file, the
1-based line (CSV line or sheet row), the column, the raw value and the reason; they are never
dropped silently. Rows that repeat a natural key (lead id, call id, date + campaign for an ad
row) are dropped and counted (`FileInfo.duplicates`, `FileInfo.duplicate_totals`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from planning.errors import InputError

__all__ = [
    "BASES",
    "DEAL_COLUMNS",
    "DEAL_STAGES",
    "DIMENSIONS",
    "FACT_COLUMNS",
    "METRICS",
    "MONEY",
    "QUARANTINE_COLUMNS",
    "FileInfo",
    "ReadResult",
    "empty_deals",
    "empty_facts",
    "empty_quarantine",
    "input_window",
    "require_columns",
]

FACT_COLUMNS: tuple[str, ...] = (
    "date",
    "source",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "metric",
    "basis",
    "value",
)
DIMENSIONS: tuple[str, ...] = ("city", "product", "segment", "creative")
"""Optional breakdown columns a fact frame may carry after `FACT_COLUMNS` (issue 15): the
city and product (a CRM's fields), the segment (an ad export's ad group / ad set, a lead's
``utm_term``) and the creative (an ad export's ad, a lead's ``utm_content``); ``""`` where the
input has none. A reader that has none leaves the columns out; the store keeps them blank then
(`sheets_sync.store`), and every reading that does not ask for them sums them away, so the Plan's
facts are the same with or without them."""
QUARANTINE_COLUMNS: tuple[str, ...] = ("source", "file", "line", "column", "value", "reason")

METRICS: tuple[str, ...] = (
    "spend",
    "impressions",
    "traffic",
    "platform_leads",
    "leads",
    "calls",
    "calls_all",
    "pp",
    "negotiations",
    "purchases",
    "revenue",
)
"""Plan metrics (spend, traffic = clicks, leads, calls = target calls, pp, negotiations,
purchases, revenue) plus what only the reports use: impressions, platform_leads (the ad
platform's own conversions, checked against CRM leads) and calls_all (every call)."""

MONEY: frozenset[str] = frozenset({"spend", "revenue"})

DEAL_STAGES: tuple[str, ...] = ("pp", "negotiations", "purchases")
"""The stages below leads a deal row dates (`DEAL_COLUMNS`), in funnel order."""
DEAL_COLUMNS: tuple[str, ...] = (
    "source",
    "id",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "created",
    *DEAL_STAGES,
    "revenue",
)
"""One row per deal a CRM export keeps: ``id`` (text, ``""`` when the export has none),
the UTM keys, ``created`` (the lead's day) and per stage the day it was reached
(``datetime64[ns]`` at midnight, NaT when not reached; the reader's fallbacks applied),
``revenue`` (a purchased deal's amount in account currency, else 0)."""
BASES: tuple[str, str] = ("event", "cohort")


@dataclass
class FileInfo:
    """How one input was read: what `funnelplan inspect` prints and Data Quality sums up."""

    path: str
    source: str
    kind: str
    """``"ad"``, ``"calls"``, ``"crm"``, ``"sql"`` or ``"gsheet"``."""
    platform: str = ""
    """The column map that matched (``"google_ads"``, ``"yandex_direct"``, ``"meta_ads"``,
    ``"vk_ads"``, a configured one, or ``""``)."""
    encoding: str = ""
    delimiter: str = ""
    date_format: str = ""
    header_line: int = 0
    """1-based line (or sheet row) of the header; report lines above it are skipped."""
    rows_read: int = 0
    """Data rows seen (the header, report lines above it and totals rows not counted)."""
    rows_ok: int = 0
    rows_quarantined: int = 0
    duplicates: int = 0
    totals: dict[str, float] = field(default_factory=dict)
    """Per metric, the sum of the accepted rows (event basis)."""
    quarantined_totals: dict[str, float] = field(default_factory=dict)
    """Per metric, the sum of the values that could be read in quarantined rows."""
    duplicate_totals: dict[str, float] = field(default_factory=dict)
    file_totals_row: dict[str, float] | None = None
    """The file's own totals row ("Итого", "Total"), parsed, when it has one."""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    latest: dt.datetime | None = None
    """The newest data point: the last timestamp (calls, CRM) or the end of the last day."""
    warnings: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    """What makes this file's sync not ok, one line each naming the file (its own total row
    disagreeing with its rows, too much of it outside the month, period rows refused); Data
    Quality lists them among its flags."""

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        for key in ("date_from", "date_to", "latest"):
            out[key] = None if out[key] is None else out[key].isoformat()
        return out


@dataclass
class ReadResult:
    """One input, read: facts (`FACT_COLUMNS`), quarantine (`QUARANTINE_COLUMNS`), info, and
    for a CRM export its deals (`DEAL_COLUMNS`; empty for other inputs)."""

    facts: pd.DataFrame
    quarantine: pd.DataFrame
    info: FileInfo
    deals: pd.DataFrame = field(default_factory=lambda: empty_deals())


def empty_facts() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in FACT_COLUMNS})
    frame["date"] = pd.Series(dtype="datetime64[ns]")
    frame["value"] = pd.Series(dtype="float64")
    return frame


def empty_deals() -> pd.DataFrame:
    """A deals frame (`DEAL_COLUMNS`) with no rows, typed."""
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in DEAL_COLUMNS})
    for column in ("created", *DEAL_STAGES):
        frame[column] = pd.Series(dtype="datetime64[ns]")
    frame["revenue"] = pd.Series(dtype="float64")
    return frame


def empty_quarantine() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in QUARANTINE_COLUMNS})
    frame["line"] = pd.Series(dtype="int64")
    return frame


def _day(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def input_window(
    facts: pd.DataFrame, date_from: dt.date | None, date_to: dt.date | None
) -> tuple[dt.date, dt.date] | None:
    """The days an input covers, as the store deletes them on a load: the reader's date range
    (`FileInfo.date_from`..`FileInfo.date_to`) widened to every fact's date (both bases); None
    when there is no date at all. A missing end takes the other end's value."""
    lows = [_day(date_from)] if date_from is not None else []
    highs = [_day(date_to)] if date_to is not None else []
    if not facts.empty:
        dates = pd.to_datetime(facts["date"])
        lows.append(dates.min().date())
        highs.append(dates.max().date())
    if not lows and not highs:
        return None
    lo = min(lows) if lows else max(highs)
    hi = max(highs) if highs else lo
    return lo, hi


def require_columns(table: Any, columns: Sequence[str], what: str, verb: str = "is") -> None:
    """`InputError` unless `table` is a DataFrame holding every one of `columns`: "the {what}
    must be a table (DataFrame), got ..." or "the {what} {verb} missing the columns: ..."."""
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"the {what} must be a table (DataFrame), got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(
            f"the {what} {verb} missing the columns: {', '.join(missing)}",
            value=missing,
            has_value=False,
        )
