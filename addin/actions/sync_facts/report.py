"""Step 5, report: the Data Quality report (`sheets_sync.quality.build_report`) and the facts
no plan line takes, written to the Data Quality and Unmapped sheets (owned whole, the old rows
cleared), and what the sync did told through the workbook's notifications."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from addin.actions.sync_facts.book import PlanBook
from addin.actions.sync_facts.fill import Filled
from addin.actions.sync_facts.map import Mapped, Windows
from addin.actions.texts import day, month, number, texts_of
from sheets_sync.file_quarantine import QuarantinedFile
from sheets_sync.quality import (
    QualityReport,
    ReportFacts,
    ReportTerms,
    SourceRead,
    build_report,
    in_windows,
)
from sheets_sync.sync_config import SyncConfig
from sheets_sync.workbooks.interface import WorkbookTarget
from workbook_templates import layout as L
from workbook_templates.fact_blocks import write_over
from workbook_templates.quality_formats import quality_formats
from workbook_templates.quality_sheet import quality_block
from workbook_templates.unmapped_sheet import unmapped_block


@dataclass
class Reported:
    """The report step's report and the Unmapped sheet's rows (`layout.UNMAPPED_HEADERS`)."""

    quality: QualityReport
    unplanned: pd.DataFrame


def _stored(mapped: pd.DataFrame, windows: Windows) -> pd.DataFrame:
    """The store's facts inside this sync's files' windows (per source), classified."""
    parts = []
    for source, ws in windows.items():
        mine = mapped[mapped["source"] == source]
        parts.append(mine[in_windows(pd.to_datetime(mine["date"]), ws)])
    if not parts:
        return pd.DataFrame(columns=["source", "metric", "value", "status"])
    return pd.concat(parts)[["source", "metric", "value", "status"]]


def _earlier(mapped: pd.DataFrame, windows: Windows) -> pd.DataFrame:
    """Filled facts of days no file of this sync covers (from earlier loads)."""
    filled = mapped[mapped["status"] == "filled"]
    parts = []
    for source, mine in filled.groupby("source", sort=False):
        ws = windows.get(str(source), [])
        if ws:
            mine = mine[~in_windows(pd.to_datetime(mine["date"]), ws)]
        parts.append(mine)
    if not parts:
        return pd.DataFrame(columns=["source", "metric", "value"])
    return pd.concat(parts)[["source", "metric", "value"]]


def unplanned_rows(mapped: pd.DataFrame) -> pd.DataFrame:
    """The month's facts (up to as-of) that reach no plan line, one row per source and keys."""
    rest = mapped[mapped["status"].isin(["unmapped", "unplanned"])]
    columns = list(L.UNMAPPED_HEADERS)
    if rest.empty:
        return pd.DataFrame(columns=columns)
    keys = ["status", "source", "utm_source", "utm_medium", "utm_campaign", "channel", "campaign"]
    rest = rest.assign(**{k: rest[k].fillna("").astype(str) for k in keys[1:]})
    values = rest.pivot_table(index=keys, columns="metric", values="value", aggfunc="sum")
    span = rest.groupby(keys)["date"].agg(["min", "max"])
    out = values.join(span).reset_index()
    out = out.rename(columns={"source": "data source", "min": "from", "max": "to"})
    out["from"] = pd.to_datetime(out["from"]).dt.date
    out["to"] = pd.to_datetime(out["to"]).dt.date
    out = out.reindex(columns=columns)
    order = out["spend"].fillna(0.0) if "spend" in out else pd.Series(0.0, index=out.index)
    out = out.assign(_order=-order).sort_values(["status", "_order", "data source", "utm_campaign"])
    return out.drop(columns="_order").reset_index(drop=True)


def write_report(
    wb: WorkbookTarget,
    config: SyncConfig,
    book: PlanBook,
    reads: Sequence[SourceRead],
    warnings: dict[str, list[str]],
    mapped: Mapped,
    now: dt.datetime,
    unreadable: Sequence[QuarantinedFile] = (),
) -> Reported:
    """The report step: build the report and write the Data Quality and Unmapped sheets (added
    when missing). `unreadable`: the files quarantined whole by the read step, listed and
    flagged first (a file the sync could not read is the first thing to fix)."""
    facts = mapped.facts
    report = build_report(
        ReportFacts(
            reads,
            {s.name: s.kind for s in config.fact_sources},
            _stored(facts, mapped.windows),
            _earlier(facts, mapped.windows),
            facts[facts["status"] != "outside"],
            warnings=warnings,
        ),
        ReportTerms(now, book.month, mapped.as_of, config.fresh_hours, config.lead_mismatch),
    )
    if unreadable:
        report = dataclasses.replace(
            report,
            files_quarantined=list(unreadable),
            flags=[f.flag() for f in unreadable] + report.flags,
        )
    unplanned = unplanned_rows(facts)
    for sheet in (L.DATA_QUALITY, L.UNMAPPED):
        if sheet not in wb.sheet_names():
            wb.add_sheet(sheet)
    t = texts_of(wb)  # the sheets in the workbook's language; the report stays English
    quality = quality_block(report, wb.name, t.lang)
    write_over(wb, L.DATA_QUALITY, 1, quality, L.DQ_WIDTH, formats=quality_formats(quality))
    block = [[t(h) for h in L.UNMAPPED_HEADERS], *unmapped_block(unplanned)]
    write_over(wb, L.UNMAPPED, L.UNMAPPED_HEADER_ROW, block)
    return Reported(report, unplanned)


def notify_sync(
    wb: WorkbookTarget, book: PlanBook, as_of: dt.date | None, filled: Filled, reported: Reported
) -> None:
    """Tell the user what was filled, what was left blank, what reached no line, the flags."""
    t = texts_of(wb)
    counts = {
        "book": wb.name,
        "month": month(book.month, t),
        "filled": filled.lines_filled,
        "lines": filled.lines,
        "columns": len(filled.metrics),
    }
    if as_of:
        said = t(
            "Facts synced into {book} for {month} up to {day}: {filled} of {lines} lines, "
            "{columns} fact columns",
            day=day(as_of, t),
            **counts,
        )
    else:
        said = t(
            "Facts synced into {book} for {month}: {filled} of {lines} lines, "
            "{columns} fact columns",
            **counts,
        )
    wb.notify(said)
    missing = filled.lines_without_facts
    if missing:
        names = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        wb.notify(t("{n} plan lines have no facts: {names}", n=len(missing), names=names))
    unplanned = reported.unplanned
    if len(unplanned):
        spend = float(unplanned["spend"].fillna(0).sum()) if "spend" in unplanned else 0.0
        wb.notify(
            t(
                "{n} source lines reach no plan line ({spend} spend): see the {sheet} sheet",
                n=len(unplanned),
                spend=number(spend, t, 2),
                sheet=t(L.UNMAPPED),
            )
        )
    for flag in reported.quality.flags:
        wb.notify(t("Data quality: {flag}", flag=flag))
