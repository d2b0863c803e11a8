"""The Data Quality sheet: how far this month's facts can be trusted.

For the user, stacked sections from A1: a summary line (synced, month, as of, status); per
source its freshness, rows read / ok / quarantined / duplicates and unmapped share; the
reconciliation per source and metric (total in the files = filled + unplanned + unmapped +
outside + quarantined + duplicates + restated); the CRM vs ad-platform leads check per
channel; the files no reader could read (quarantined whole, with their size and reason); the
first 50 quarantined rows under a title saying how many there are; the flags. Column A is
never blank inside the written range, at most `layout.DQ_WIDTH` wide, so the next sync finds
the old extent and clears it.

Written by the template (`write_quality_template`: an empty, formatted sheet) and by Sync Facts
(the block `quality_block` returns: values only). Read by the alerts (`read_quality_signals`:
freshness and the CRM leads check).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from sheets_sync.quality import RECONCILIATION_COLUMNS, QualityReport
from sheets_sync.workbooks.interface import WorkbookError, WorkbookTarget
from workbook_templates import layout as L
from workbook_templates.cells import sheet_value
from workbook_templates.styles import FONT_NOTE, FONT_TITLE

SOURCE_HEADERS = (
    "source",
    "kind",
    "files",
    "latest data",
    "age, h",
    "fresh",
    "rows read",
    "rows ok",
    "quarantined",
    "duplicates",
    "unmapped share",
    "of",
    "warnings",
)
MISMATCH_HEADERS = ("channel", "CRM leads", "platform conversions", "difference", "flagged")
QUARANTINE_HEADERS = ("source", "file", "line", "column", "value", "reason")
FILE_QUARANTINE_HEADERS = ("source", "file", "size, bytes", "reason")
QUARANTINE_SHOWN = 50
"""Quarantined rows listed on the sheet. Decision: a broken export can quarantine thousands of
rows and the sheet is read by people, so the first 50 are listed and the title says how many
there are and where all of them are (the fact store's ``quarantine`` table keeps every one;
``funnelplan inspect FILE`` lists a file's)."""


def write_quality_template(wb: Workbook) -> None:
    """Add the (empty) Data Quality sheet, formatted; Sync Facts fills it."""
    dq = wb.create_sheet(L.DATA_QUALITY)
    dq["A1"] = "Data Quality"
    dq["A1"].font = FONT_TITLE
    dq["B1"] = "filled by Sync Facts (funnelplan sync)"
    dq["B1"].font = FONT_NOTE
    dq.column_dimensions["A"].width = 24
    for col in range(2, L.DQ_WIDTH + 1):
        dq.column_dimensions[get_column_letter(col)].width = 13


def _file_name(path: Any) -> Any:
    """A quarantined row's file as its name (the folder is the config's)."""
    if path is None or (isinstance(path, float) and math.isnan(path)):
        return None
    return PurePath(str(path)).name


def _summary(report: QualityReport, workbook: str) -> list[list[Any]]:
    return [
        [
            "Data Quality",
            "synced",
            report.now.replace(microsecond=0),
            "month",
            f"{report.month:%Y-%m}",
            "as of",
            report.as_of,
            "status",
            "OK" if report.ok else f"{len(report.flags)} flags",
            "workbook",
            workbook or None,
        ]
    ]


def _sources(report: QualityReport) -> list[list[Any]]:
    rows: list[list[Any]] = [
        [f"Sources: freshness (no fresh data > {report.fresh_hours:g} h is flagged)"],
        list(SOURCE_HEADERS),
    ]
    for s in report.sources:
        rows.append(
            [
                s.source,
                s.kind,
                s.files,
                s.latest,
                s.age_hours,
                "no" if s.stale else "yes",
                s.rows_read,
                s.rows_ok,
                s.quarantined,
                s.duplicates,
                s.unmapped_share,
                s.unmapped_basis or None,
                "; ".join(s.warnings) or None,
            ]
        )
    return rows


def _reconciliation(report: QualityReport) -> list[list[Any]]:
    rows: list[list[Any]] = [
        [
            "Reconciliation: total in the files = filled + unplanned + unmapped + outside the "
            "month (or after as-of) + quarantined + duplicates + restated by a later file"
        ],
        [*RECONCILIATION_COLUMNS[:-1], "earlier loads"],
    ]
    for rec in report.reconciliation.to_dict("records"):
        rows.append(
            [
                rec["source"],
                rec["metric"],
                *(rec[c] for c in ("total", "filled", "unplanned", "unmapped", "outside")),
                *(rec[c] for c in ("quarantined", "duplicates", "restated", "difference")),
                "yes" if rec["ok"] else "NO",
                rec["earlier"],
            ]
        )
    return rows


def _mismatch(report: QualityReport) -> list[list[Any]]:
    rows: list[list[Any]] = [
        ["Leads check: CRM leads vs the ad platforms' own conversions, per channel"],
        list(MISMATCH_HEADERS),
    ]
    for rec in report.mismatch.to_dict("records"):
        rows.append(
            [
                rec["channel"],
                rec["crm_leads"],
                rec["platform_leads"],
                rec["difference"],
                "yes" if rec["flagged"] else "no",
            ]
        )
    return rows


def _files_quarantined(report: QualityReport) -> list[list[Any]]:
    """The files no reader could read (empty, garbage): none listed when there are none."""
    files = report.files_quarantined
    if not files:
        return []
    rows: list[list[Any]] = [
        [f"Quarantined files: {len(files)} (not read, not loaded; the other files were synced)"],
        list(FILE_QUARANTINE_HEADERS),
    ]
    rows += [[f.source, f.name, f.size, f.reason] for f in files]
    return rows


def quarantine_title(total: int, shown: int) -> str:
    """The quarantined rows' title: how many there are and, when not all are listed, where
    the rest are."""
    if total == shown:
        return f"Quarantined rows: {total} (all shown)"
    return (
        f"Quarantined rows: {total} (showing the first {shown} of {total}; all {total} are in "
        "the fact store's quarantine table, and `funnelplan inspect FILE` lists a file's)"
    )


def _quarantine(report: QualityReport) -> list[list[Any]]:
    q = report.quarantine
    shown = q.head(QUARANTINE_SHOWN)
    if not len(q):
        return [["Quarantined rows: none"]]
    rows: list[list[Any]] = [[quarantine_title(len(q), len(shown))], list(QUARANTINE_HEADERS)]
    for rec in shown.to_dict("records"):
        rows.append(
            [
                rec.get("source") or "?",
                _file_name(rec.get("file")),
                rec.get("line"),
                rec.get("column"),
                None if rec.get("value") is None else str(rec.get("value")),
                rec.get("reason"),
            ]
        )
    return rows


def _flags(report: QualityReport) -> list[list[Any]]:
    rows: list[list[Any]] = [[f"Flags: {len(report.flags)}" if report.flags else "Flags: none"]]
    rows += [["flag", flag] for flag in report.flags]
    return rows


def quality_block(report: QualityReport, workbook: str = "") -> list[list[Any]]:
    """The Data Quality sheet from A1: every row's column A filled, at most `layout.DQ_WIDTH`
    wide (Sync Facts pads and clears the rest)."""
    rows = [
        *_summary(report, workbook),
        *_sources(report),
        *_reconciliation(report),
        *_mismatch(report),
        *_files_quarantined(report),
        *_quarantine(report),
        *_flags(report),
    ]
    return [[sheet_value(v, 6) for v in row[: L.DQ_WIDTH]] for row in rows]


# --------------------------------------------------------------------------- reading back


@dataclass(frozen=True)
class QualitySignals:
    """What the alerts read back from the Data Quality sheet: when it was synced, each
    source's latest data and age at the sync, and the CRM vs platform leads per channel."""

    synced: dt.datetime | None
    sources: tuple[tuple[str, dt.datetime | None, float | None], ...]  # source, latest, age h
    leads_check: tuple[tuple[str, float, float], ...]  # channel, CRM leads, platform conversions


def _row_is(row: Sequence[Any], headers: Sequence[str]) -> bool:
    return [str(v).strip() if v is not None else "" for v in row[: len(headers)]] == list(headers)


def _float(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def read_quality_signals(wb: WorkbookTarget) -> QualitySignals:
    """The Data Quality sheet's freshness and leads check, as the last sync wrote them (empty
    when the workbook was never synced)."""
    if L.DATA_QUALITY not in wb.sheet_names():
        return QualitySignals(None, (), ())
    try:
        extent = 1 + len(wb.read_table(L.DATA_QUALITY, header_row=1).rows)
    except WorkbookError:
        return QualitySignals(None, (), ())
    cells = wb.read_cells(L.DATA_QUALITY, 1, 1, extent, L.DQ_WIDTH, formulas=False)
    synced = cells[0][2] if isinstance(cells[0][2], dt.datetime) else None
    sources: list[tuple[str, dt.datetime | None, float | None]] = []
    checks: list[tuple[str, float, float]] = []
    section = ""
    for row in cells[1:]:
        if _row_is(row, SOURCE_HEADERS):
            section = "sources"
        elif _row_is(row, MISMATCH_HEADERS):
            section = "leads"
        elif row[1] is None and row[0] is not None:  # a section title
            section = ""
        elif section == "sources":
            latest = row[3] if isinstance(row[3], dt.datetime) else None
            sources.append((str(row[0]), latest, _float(row[4])))
        elif section == "leads":
            crm, platform = _float(row[1]), _float(row[2])
            if crm is not None and platform is not None:
                checks.append((str(row[0]), crm, platform))
    return QualitySignals(synced, tuple(sources), tuple(checks))
