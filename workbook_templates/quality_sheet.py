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

from sheets_sync.i18n import LANGUAGES, Translator, translator
from sheets_sync.quality import RECONCILIATION_COLUMNS, QualityReport
from sheets_sync.quality_text import localize_line
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
        dq.column_dimensions[get_column_letter(col)].width = 15  # 99,999,999.99
    for letter in "CD":  # the sync's time and the sources' latest data: date and time
        dq.column_dimensions[letter].width = 17


def _file_name(path: Any) -> Any:
    """A quarantined row's file as its name (the folder is the config's)."""
    if path is None or (isinstance(path, float) and math.isnan(path)):
        return None
    return PurePath(str(path)).name


def _summary(report: QualityReport, workbook: str, t: Translator) -> list[list[Any]]:
    return [
        [
            t("Data Quality"),
            t("synced"),
            report.now.replace(microsecond=0),
            t("month"),
            f"{report.month:%Y-%m}",
            t("as of"),
            report.as_of,
            t("status"),
            "OK" if report.ok else t("{n} flags", n=len(report.flags)),
            t("workbook"),
            workbook or None,
        ]
    ]


def _yes_no(value: Any, t: Translator, no: str = "no") -> str:
    return t("yes") if value else t(no)


def _sources(report: QualityReport, t: Translator) -> list[list[Any]]:
    rows: list[list[Any]] = [
        [
            t(
                "Sources: freshness (no fresh data > {hours} h is flagged)",
                hours=f"{report.fresh_hours:g}",
            )
        ],
        [t(h) for h in SOURCE_HEADERS],
    ]
    for s in report.sources:
        rows.append(
            [
                s.source,
                s.kind,
                s.files,
                s.latest,
                s.age_hours,
                _yes_no(not s.stale, t),
                s.rows_read,
                s.rows_ok,
                s.quarantined,
                s.duplicates,
                s.unmapped_share,
                t(s.unmapped_basis) if s.unmapped_basis else None,
                "; ".join(localize_line(t, w) for w in s.warnings) or None,
            ]
        )
    return rows


def _reconciliation(report: QualityReport, t: Translator) -> list[list[Any]]:
    rows: list[list[Any]] = [
        [
            t(
                "Reconciliation: total in the files = filled + unplanned + unmapped + outside "
                "the month (or after as-of) + quarantined + duplicates + restated by a later file"
            )
        ],
        [*(t(c) for c in RECONCILIATION_COLUMNS[:-1]), t("earlier loads")],
    ]
    for rec in report.reconciliation.to_dict("records"):
        rows.append(
            [
                rec["source"],
                t(rec["metric"]),
                *(rec[c] for c in ("total", "filled", "unplanned", "unmapped", "outside")),
                *(rec[c] for c in ("quarantined", "duplicates", "restated", "difference")),
                _yes_no(rec["ok"], t, "NO"),
                rec["earlier"],
            ]
        )
    return rows


def _mismatch(report: QualityReport, t: Translator) -> list[list[Any]]:
    rows: list[list[Any]] = [
        [t("Leads check: CRM leads vs the ad platforms' own conversions, per channel")],
        [t(h) for h in MISMATCH_HEADERS],
    ]
    for rec in report.mismatch.to_dict("records"):
        rows.append(
            [
                rec["channel"],
                rec["crm_leads"],
                rec["platform_leads"],
                rec["difference"],
                _yes_no(rec["flagged"], t),
            ]
        )
    return rows


def _files_quarantined(report: QualityReport, t: Translator) -> list[list[Any]]:
    """The files no reader could read (empty, garbage): none listed when there are none."""
    files = report.files_quarantined
    if not files:
        return []
    rows: list[list[Any]] = [
        [
            t(
                "Quarantined files: {n} (not read, not loaded; the other files were synced)",
                n=len(files),
            )
        ],
        [t(h) for h in FILE_QUARANTINE_HEADERS],
    ]
    rows += [[f.source, f.name, f.size, localize_line(t, f.reason)] for f in files]
    return rows


def quarantine_title(total: int, shown: int, t: Translator | None = None) -> str:
    """The quarantined rows' title: how many there are and, when not all are listed, where
    the rest are."""
    t = t or translator("en")
    if total == shown:
        return t("Quarantined rows: {total} (all shown)", total=total)
    return t(
        "Quarantined rows: {total} (showing the first {shown} of {total}; all {total} are in "
        "the fact store's quarantine table, and `funnelplan inspect FILE` lists a file's)",
        total=total,
        shown=shown,
    )


def _quarantine(report: QualityReport, t: Translator) -> list[list[Any]]:
    q = report.quarantine
    shown = q.head(QUARANTINE_SHOWN)
    if not len(q):
        return [[t("Quarantined rows: none")]]
    rows: list[list[Any]] = [
        [quarantine_title(len(q), len(shown), t)],
        [t(h) for h in QUARANTINE_HEADERS],
    ]
    for rec in shown.to_dict("records"):
        reason = rec.get("reason")
        rows.append(
            [
                rec.get("source") or "?",
                _file_name(rec.get("file")),
                rec.get("line"),
                rec.get("column"),
                None if rec.get("value") is None else str(rec.get("value")),
                localize_line(t, reason) if isinstance(reason, str) else reason,
            ]
        )
    return rows


def _flags(report: QualityReport, t: Translator) -> list[list[Any]]:
    title = t("Flags: {n}", n=len(report.flags)) if report.flags else t("Flags: none")
    rows: list[list[Any]] = [[title]]
    rows += [[t("flag"), localize_line(t, flag)] for flag in report.flags]
    return rows


def quality_block(report: QualityReport, workbook: str = "", lang: str = "en") -> list[list[Any]]:
    """The Data Quality sheet from A1 in `lang`: every row's column A filled, at most
    `layout.DQ_WIDTH` wide (Sync Facts pads and clears the rest). Names (sources, channels,
    files, columns, values) are written as they are; the flags, warnings and reasons are
    translated (`sheets_sync.quality_text.localize_line`); the report keeps them English."""
    t = translator(lang)
    rows = [
        *_summary(report, workbook, t),
        *_sources(report, t),
        *_reconciliation(report, t),
        *_mismatch(report, t),
        *_files_quarantined(report, t),
        *_quarantine(report, t),
        *_flags(report, t),
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
    """True when `row` starts with `headers` in any of the workbook languages."""
    cells = [str(v).strip() if v is not None else "" for v in row[: len(headers)]]
    return any(cells == [translator(lang)(h) for h in headers] for lang in LANGUAGES)


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
