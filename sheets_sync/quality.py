"""The Data Quality report of a sync: freshness, unmapped share, duplicates, quarantine, the CRM
vs ad-platform leads check and a reconciliation line per source and metric.

Everything here is computed from frames, so the same report feeds the workbook's Data Quality
sheet, the CLI and ``--json``:

- `SourceRead`: one input as a sync read it (the source's config name and kind, the file, the
  `ReadResult`, its hash and the store's `LoadOutcome`);
- `file_totals`: per source and metric, what the files hold: the accepted facts (on the basis
  the sync uses for that source), the values of quarantined rows and of dropped duplicates, and
  what a later file of the same sync restates (its window replaces the earlier file's days in
  the store, so those values are not expected to arrive);
- `classify`: each stored fact of the files' windows as ``filled`` (on a plan line, in the plan
  month up to as-of), ``unplanned`` (mapped to a line the Plan does not have), ``unmapped`` (no
  rule) or ``outside`` (before the month or after as-of);
- `reconciliation`: per source and metric, **total in the files = filled + unplanned +
  unmapped + outside + quarantined + duplicates + restated**; ``difference`` is what is
  missing (or, negative, counted twice) and flags the line;
- `lead_mismatch`: per channel, CRM leads vs the ad platforms' own conversions (platform_leads),
  flagged above 5 %;
- `build_report`: all of it, with the per-source lines and the flags, as a `QualityReport`,
  from a `ReportFacts` (the frames) and `ReportTerms` (now, the month, the thresholds).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sheets_sync.facts import METRICS, ReadResult, input_window
from sheets_sync.file_quarantine import QuarantinedFile
from sheets_sync.metric_sums import metric_sums
from sheets_sync.quality_text import (
    MISMATCH_FLAG,
    MISMATCH_NONE,
    QUARANTINED_FLAG,
    QUARANTINED_FLAG_ONE,
    QUARANTINED_MONEY_FLAG,
    QUARANTINED_MONEY_FLAG_ONE,
    RECONCILE_FLAG,
    STALE_FLAG,
    STALE_LATEST,
    STALE_NO_DATA,
    UNMAPPED_ROWS_FLAG,
    UNMAPPED_SPEND_FLAG,
)

__all__ = [
    "FRESH_HOURS",
    "MISMATCH",
    "QUARANTINED_MONEY",
    "RECONCILIATION_COLUMNS",
    "STATUSES",
    "QualityReport",
    "ReportFacts",
    "ReportTerms",
    "SourceQuality",
    "SourceRead",
    "build_report",
    "classify",
    "file_totals",
    "lead_mismatch",
    "quarantined_money",
    "reconciliation",
]

FRESH_HOURS = 6.0
"""A source whose newest data point is older than this (hours before `now`) is flagged."""
MISMATCH = 0.05
"""CRM leads and the ad platforms' conversions may differ by this share before a flag."""
QUARANTINED_MONEY = 0.01
"""A file whose quarantined rows carry more than this share of its money (spend, revenue:
quarantined / (accepted + quarantined)) is flagged; below it the money is only listed."""

STATUSES = ("filled", "unplanned", "unmapped", "outside")
RECONCILIATION_COLUMNS = (
    "source",
    "metric",
    "total",
    "filled",
    "unplanned",
    "unmapped",
    "outside",
    "quarantined",
    "duplicates",
    "restated",
    "difference",
    "ok",
    "earlier",
)
"""``earlier``: filled from loads of earlier syncs (days of the month no file of this sync
covers); part of the Plan's facts, outside the identity."""

TOLERANCE = 0.01
"""A reconciliation line is off when more than a cent (plus float noise: `RELATIVE` of the
total) is unaccounted for."""
RELATIVE = 1e-10


@dataclass
class SourceRead:
    """One input of a sync: which source, which file, what was read and what the store did."""

    source: str
    kind: str
    label: str
    """The file's path (or ``"sql: <url>"``) as shown to the user."""
    result: ReadResult
    file_hash: str
    basis: str = "event"
    """The basis the sync counts this source on (``"event"`` unless the config asks for
    ``"cohort"`` and the source has cohort rows)."""
    outcome: Any = None
    """The store's `LoadOutcome` (skipped, rows, replaced, date_from, date_to) once loaded."""
    _window: tuple[ReadResult, tuple[dt.date, dt.date] | None] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    """`window()` of `result`, computed once (recomputed if `result` is replaced)."""

    def window(self) -> tuple[dt.date, dt.date] | None:
        """The days the file covers, as the store deletes them on a load: the reader's date
        range widened to every fact's date (both bases; `sheets_sync.facts.input_window`)."""
        cached = self._window
        if cached is None or cached[0] is not self.result:
            info = self.result.info
            cached = (self.result, input_window(self.result.facts, info.date_from, info.date_to))
            self._window = cached
        return cached[1]

    def facts_on_basis(self) -> pd.DataFrame:
        facts = self.result.facts
        return facts[facts["basis"] == self.basis]


def in_windows(dates: pd.Series, windows: Sequence[tuple[dt.date, dt.date]]) -> pd.Series:
    """Which of `dates` (datetime64) fall in any of `windows` (inclusive)."""
    mask = pd.Series(False, index=dates.index)
    for lo, hi in windows:
        mask |= (dates >= pd.Timestamp(lo)) & (dates <= pd.Timestamp(hi))
    return mask


def file_totals(reads: Sequence[SourceRead]) -> pd.DataFrame:
    """Per source and metric: ``total`` in the files and its ``quarantined``, ``duplicates`` and
    ``restated`` parts (see the module docstring). `reads` in load order."""
    rows: list[pd.DataFrame] = []
    extra: list[dict[str, Any]] = []
    for i, read in enumerate(reads):
        facts = read.facts_on_basis()
        later = [
            w for r in reads[i + 1 :] if r.source == read.source and (w := r.window()) is not None
        ]
        if not facts.empty:
            dates = pd.to_datetime(facts["date"])
            restated = in_windows(dates, later) if later else pd.Series(False, index=facts.index)
            amount = facts["value"].to_numpy(dtype=np.float64)
            sums = metric_sums(  # by the metric's codes: a groupby on strings took seconds
                facts["metric"],
                {"total": amount, "restated": np.where(restated.to_numpy(), amount, 0.0)},
            )
            rows.append(sums.assign(source=read.source)[["source", *sums.columns]])
        info = read.result.info
        for metric, value in info.quarantined_totals.items():
            extra.append({"source": read.source, "metric": metric, "quarantined": float(value)})
        for metric, value in info.duplicate_totals.items():
            extra.append({"source": read.source, "metric": metric, "duplicates": float(value)})
    columns = ["source", "metric", "total", "quarantined", "duplicates", "restated"]
    parts = [*rows, pd.DataFrame(extra)] if extra else rows
    if not parts:
        return pd.DataFrame(
            {c: pd.Series(dtype=object if i < 2 else float) for i, c in enumerate(columns)}
        )
    out = pd.concat(parts, ignore_index=True).reindex(columns=columns)
    out[columns[2:]] = out[columns[2:]].fillna(0.0)
    out = out.groupby(["source", "metric"], sort=False)[columns[2:]].sum().reset_index()
    out["total"] += out["quarantined"] + out["duplicates"]
    return out


def classify(
    dates: pd.Series, rule: pd.Series, line: pd.Series, start: dt.date, as_of: dt.date | None
) -> pd.Series:
    """Status of each fact: ``outside`` (before `start` or after `as_of`), ``unmapped`` (rule 0),
    ``filled`` (a plan line: `line` >= 0) or ``unplanned``."""
    d = pd.to_datetime(dates)
    inside = d >= pd.Timestamp(start)
    if as_of is None:
        inside &= False
    else:
        inside &= d <= pd.Timestamp(as_of)
    status = np.where(
        ~inside.to_numpy(),
        "outside",
        np.where(
            rule.to_numpy() == 0,
            "unmapped",
            np.where(line.to_numpy() >= 0, "filled", "unplanned"),
        ),
    )
    return pd.Series(status, index=dates.index, dtype=object)


def reconciliation(
    totals: pd.DataFrame, stored: pd.DataFrame, earlier: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The reconciliation table (`RECONCILIATION_COLUMNS`).

    `totals`: `file_totals`. `stored`: the store's facts of the files' windows with ``source``,
    ``metric``, ``value`` and ``status`` (`classify`). `earlier`: ``source, metric, value`` filled
    from days no file of this sync covers (shown, outside the identity).
    """
    keys = ["source", "metric"]
    if stored.empty:
        parts = pd.DataFrame(columns=[*keys, *STATUSES])
    else:
        parts = (
            stored.pivot_table(
                index=keys, columns="status", values="value", aggfunc="sum", fill_value=0.0
            )
            .reindex(columns=list(STATUSES), fill_value=0.0)
            .reset_index()
        )
        parts.columns.name = None
    out = totals.merge(parts, on=keys, how="outer")
    if earlier is not None and not earlier.empty:
        e = earlier.groupby(keys, sort=False)["value"].sum().rename("earlier").reset_index()
        out = out.merge(e, on=keys, how="left")
    else:
        out["earlier"] = 0.0
    numeric = [
        c for c in RECONCILIATION_COLUMNS if c not in ("source", "metric", "ok", "difference")
    ]
    for c in numeric:
        if c not in out.columns:
            out[c] = 0.0
        out[c] = pd.to_numeric(out[c], errors="coerce").fillna(0.0).astype(np.float64)
    accounted = out[[*STATUSES, "quarantined", "duplicates", "restated"]].sum(axis=1)
    out["difference"] = out["total"] - accounted
    limit = TOLERANCE + RELATIVE * out["total"].abs().to_numpy()
    out["ok"] = np.abs(out["difference"].to_numpy()) <= limit
    out = out[list(RECONCILIATION_COLUMNS)]
    return out.sort_values(keys, key=_metric_order, ignore_index=True)


def _metric_order(column: pd.Series) -> pd.Series:
    if column.name != "metric":
        return column
    order = {m: i for i, m in enumerate(METRICS)}
    return column.map(lambda m: order.get(m, len(order)))


def lead_mismatch(
    mapped: pd.DataFrame,
    crm_sources: Sequence[str],
    ad_sources: Sequence[str],
    threshold: float = MISMATCH,
) -> pd.DataFrame:
    """Per channel: CRM ``leads`` vs the ad platforms' ``platform_leads`` in the window.

    `mapped`: facts in the plan month up to as-of with ``source``, ``channel``, ``metric``,
    ``value`` and ``rule``. Only channels with facts of both kinds are compared;
    ``difference`` = (platform − CRM) / CRM; flagged above `threshold` (or CRM 0 and platform
    > 0)."""
    columns = ["channel", "crm_leads", "platform_leads", "difference", "flagged"]
    if mapped.empty or not crm_sources or not ad_sources:
        return pd.DataFrame(columns=columns)
    m = mapped[mapped["rule"] > 0]
    crm = m[m["source"].isin(crm_sources) & (m["metric"] == "leads")]
    ad = m[m["source"].isin(ad_sources) & (m["metric"] == "platform_leads")]
    a = crm.groupby("channel")["value"].sum().rename("crm_leads")
    b = ad.groupby("channel")["value"].sum().rename("platform_leads")
    both = pd.concat([a, b], axis=1, join="inner").reset_index()
    if both.empty:
        return pd.DataFrame(columns=columns)
    crm_v = both["crm_leads"].to_numpy(dtype=np.float64)
    ad_v = both["platform_leads"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = np.where(crm_v > 0, (ad_v - crm_v) / np.where(crm_v > 0, crm_v, 1.0), np.nan)
    both["difference"] = diff
    both["flagged"] = np.where(crm_v > 0, np.abs(diff) > threshold, ad_v > 0)
    return both[columns]


@dataclass
class SourceQuality:
    """One source's line on the Data Quality sheet."""

    source: str
    kind: str
    files: int = 0
    skipped: int = 0
    """Files already in the store (same hash): nothing changed."""
    latest: dt.datetime | None = None
    age_hours: float | None = None
    stale: bool = False
    rows_read: int = 0
    rows_ok: int = 0
    quarantined: int = 0
    duplicates: int = 0
    unmapped_share: float | None = None
    unmapped_basis: str = ""
    """``"spend"`` when the source has spend in the window, else ``"rows"``."""
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["latest"] = None if self.latest is None else self.latest.isoformat()
        return out


@dataclass
class QualityReport:
    """The whole Data Quality report of one sync."""

    now: dt.datetime
    month: dt.date
    as_of: dt.date | None
    sources: list[SourceQuality]
    reconciliation: pd.DataFrame
    mismatch: pd.DataFrame
    quarantine: pd.DataFrame
    """Quarantined rows of this sync's files (source, file, line, column, value, reason)."""
    flags: list[str] = field(default_factory=list)
    fresh_hours: float = FRESH_HOURS
    files_quarantined: list[QuarantinedFile] = field(default_factory=list)
    """Whole files no reader could read (not loaded; each also flagged)."""

    @property
    def ok(self) -> bool:
        return not self.flags

    def to_dict(self, quarantine_rows: int = 20) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "month": f"{self.month:%Y-%m}",
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "fresh_hours": self.fresh_hours,
            "sources": [s.to_dict() for s in self.sources],
            "reconciliation": _records(self.reconciliation),
            "lead_mismatch": _records(self.mismatch),
            "quarantined": _records(self.quarantine.head(quarantine_rows)),
            "quarantined_total": len(self.quarantine),
            "files_quarantined": [f.to_dict() for f in self.files_quarantined],
            "flags": list(self.flags),
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in frame.to_dict("records"):
        clean: dict[str, Any] = {}
        for k, v in rec.items():
            if isinstance(v, np.generic):
                v = v.item()
            if isinstance(v, float) and not math.isfinite(v):
                v = None
            clean[str(k)] = v
        out.append(clean)
    return out


@dataclass(frozen=True)
class ReportFacts:
    """What a sync's report is computed from.

    `kinds`: every configured source → its kind (sources with no file read still get a line).
    `stored`: store facts of the files' windows, classified (``source, metric, value, status``).
    `earlier`: ``source, metric, value`` filled from days outside this sync's files.
    `window_facts`: every configured source's facts of the plan month up to as-of, mapped
    (``source, metric, value, rule, channel, status``), for the unmapped share and the leads
    check. `warnings`: per source, what the sync noted while reading it."""

    reads: Sequence[SourceRead]
    kinds: Mapping[str, str]
    stored: pd.DataFrame
    earlier: pd.DataFrame
    window_facts: pd.DataFrame
    warnings: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportTerms:
    """When the report is made and what it flags: data older than `fresh_hours` before `now`,
    CRM and ad-platform leads apart by more than `mismatch_share`."""

    now: dt.datetime
    month: dt.date
    as_of: dt.date | None
    fresh_hours: float = FRESH_HOURS
    mismatch_share: float = MISMATCH


def build_report(facts: ReportFacts, terms: ReportTerms) -> QualityReport:
    """The report of a sync: a line per configured source, the reconciliation, the leads
    check, the quarantined rows and the flags of all of them."""
    recon = reconciliation(file_totals(facts.reads), facts.stored, facts.earlier)
    sources = [_source_quality(name, kind, facts, terms) for name, kind in facts.kinds.items()]
    crm = [n for n, k in facts.kinds.items() if k == "crm"]
    ads = [n for n, k in facts.kinds.items() if k == "ad"]
    mm = lead_mismatch(facts.window_facts, crm, ads, terms.mismatch_share)
    flags = [flag for sq in sources for flag in _source_flags(sq, terms.fresh_hours)]
    flags += [flag for r in facts.reads for flag in r.result.info.flags]
    flags += [line for r in facts.reads for line, over in quarantined_money(r) if over]
    flags += _reconciliation_flags(recon) + _mismatch_flags(mm)
    return QualityReport(
        now=terms.now,
        month=terms.month,
        as_of=terms.as_of,
        sources=sources,
        reconciliation=recon,
        mismatch=mm,
        quarantine=_quarantine(facts.reads),
        flags=flags,
        fresh_hours=terms.fresh_hours,
    )


def _source_quality(name: str, kind: str, facts: ReportFacts, terms: ReportTerms) -> SourceQuality:
    """One source's line: its files' rows, its newest data and age, its unmapped share."""
    mine = [r for r in facts.reads if r.source == name]
    sq = SourceQuality(source=name, kind=kind, files=len(mine))
    sq.warnings = list(facts.warnings.get(name, []))
    sq.skipped = sum(1 for r in mine if getattr(r.outcome, "skipped", False))
    for r in mine:
        info = r.result.info
        sq.rows_read += info.rows_read
        sq.rows_ok += info.rows_ok
        sq.quarantined += info.rows_quarantined
        sq.duplicates += info.duplicates
        sq.warnings += [w for w in info.warnings if w not in sq.warnings]
        sq.warnings += [line for line, over in quarantined_money(r) if not over]
        latest = info.latest
        if latest is None and (w := r.window()) is not None:
            latest = dt.datetime.combine(w[1], dt.time()) + dt.timedelta(days=1)
        if latest is not None and (sq.latest is None or latest > sq.latest):
            sq.latest = latest
    if sq.latest is not None:
        sq.age_hours = round((terms.now - sq.latest).total_seconds() / 3600, 2)
        sq.stale = sq.age_hours > terms.fresh_hours
    else:
        sq.stale = True
    window = facts.window_facts
    mine_window = window[window["source"] == name] if len(window) else None
    if mine_window is not None and len(mine_window):
        spend = mine_window[mine_window["metric"] == "spend"]
        if len(spend) and spend["value"].sum() > 0:
            total = float(spend["value"].sum())
            unmapped = float(spend.loc[spend["rule"] == 0, "value"].sum())
            sq.unmapped_share, sq.unmapped_basis = unmapped / total, "spend"
        else:
            sq.unmapped_share = float((mine_window["rule"] == 0).mean())
            sq.unmapped_basis = "rows"
    return sq


def quarantined_money(read: SourceRead) -> list[tuple[str, bool]]:
    """Per money metric of one file whose quarantined rows carry money: the one-line message
    ("crm: deals.csv: 11,300,000.00 of revenue in 1,234 quarantined rows (79.0% of the file's
    revenue)") and whether its share is over `QUARANTINED_MONEY` (then it is a flag). The share
    is of the file's accepted plus quarantined money."""
    info = read.result.info
    out: list[tuple[str, bool]] = []
    for metric in ("spend", "revenue"):
        held = float(info.quarantined_totals.get(metric, 0.0))
        if not held > 0:
            continue
        whole = held + float(info.totals.get(metric, 0.0))
        share = held / whole if whole > 0 else 1.0
        template = (
            QUARANTINED_MONEY_FLAG_ONE if info.rows_quarantined == 1 else QUARANTINED_MONEY_FLAG
        )
        name = read.label.replace("\\", "/").rsplit("/", 1)[-1]
        line = template.format(
            source=read.source,
            file=name,
            held=f"{held:,.2f}",
            metric=metric,
            n=f"{info.rows_quarantined:,}",
            share=f"{share:.1%}",
        )
        out.append((line, share > QUARANTINED_MONEY))
    return out


def _source_flags(sq: SourceQuality, fresh_hours: float) -> list[str]:
    """A source's flags: stale, partly unmapped, rows quarantined."""
    flags: list[str] = []
    if sq.stale:
        when = (
            STALE_NO_DATA
            if sq.latest is None
            else STALE_LATEST.format(date=f"{sq.latest:%Y-%m-%d %H:%M}")
        )
        flags.append(STALE_FLAG.format(source=sq.source, hours=f"{fresh_hours:g}", when=when))
    if sq.unmapped_share:
        template = UNMAPPED_SPEND_FLAG if sq.unmapped_basis == "spend" else UNMAPPED_ROWS_FLAG
        flags.append(template.format(source=sq.source, share=f"{sq.unmapped_share:.1%}"))
    if sq.quarantined:
        template = QUARANTINED_FLAG_ONE if sq.quarantined == 1 else QUARANTINED_FLAG
        flags.append(template.format(source=sq.source, n=sq.quarantined))
    return flags


def _reconciliation_flags(recon: pd.DataFrame) -> list[str]:
    return [
        RECONCILE_FLAG.format(
            source=rec["source"],
            metric=rec["metric"],
            total=f"{rec['total']:,.2f}",
            difference=f"{rec['difference']:+,.2f}",
        )
        for rec in recon[~recon["ok"]].to_dict("records")
    ]


def _mismatch_flags(mm: pd.DataFrame) -> list[str]:
    flags: list[str] = []
    for rec in mm[mm["flagged"].astype(bool)].to_dict("records"):
        diff = rec["difference"]
        pct = MISMATCH_NONE if diff is None or not math.isfinite(diff) else f"{diff:+.1%}"
        flags.append(
            MISMATCH_FLAG.format(
                channel=rec["channel"],
                platform=f"{rec['platform_leads']:,.0f}",
                crm=f"{rec['crm_leads']:,.0f}",
                pct=pct,
            )
        )
    return flags


def _quarantine(reads: Sequence[SourceRead]) -> pd.DataFrame:
    """The quarantined rows of every read, in order."""
    parts = [r.result.quarantine for r in reads if len(r.result.quarantine)]
    if not parts:
        return pd.DataFrame(columns=["source", "file", "line", "column", "value", "reason"])
    return pd.concat(parts, ignore_index=True)
