"""The Sync Facts sheets of the planning workbook: Mapping, Data Quality, Unmapped.

- **Mapping**: the rules that map source rows (data source, UTM source / medium / campaign) to
  plan lines, one per row under the header (`layout.MAPPING_HEADERS`); first match wins.
  Marketers edit it; Sync Facts only reads it. The template writes the starting rules (the
  sync config's ``[[mapping]]``), drop-down lists for `field` and `match`, and a help note.
- **Data Quality** (owned by Sync Facts): per source freshness, rows read / quarantined /
  duplicates and unmapped share; the reconciliation per source and metric; the CRM vs
  ad-platform leads check per channel; the first quarantined rows; the flags. Stacked
  sections whose column A is never blank, so the next sync finds the old extent and clears it.
- **Unmapped** (owned by Sync Facts): the month's facts no plan line takes, with their spend:
  ``unmapped`` (no rule) and ``unplanned`` (a rule names a line the Plan does not have).

The template builds the sheets with openpyxl (`write_sync_sheets`); Sync Facts fills the owned
ones through the workbook interface with the value blocks of `quality_block` and
`unmapped_block` (values only: numbers, texts, dates).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from sheets_sync.mapping import rule_row
from sheets_sync.quality import RECONCILIATION_COLUMNS
from workbook_templates import layout as L

if TYPE_CHECKING:
    from sheets_sync.quality import QualityReport

FILL_HEADER = PatternFill("solid", fgColor="1F3864")
FILL_INPUT = PatternFill("solid", fgColor="FFF2CC")
FONT_HEADER = Font(bold=True, color="FFFFFF")
FONT_TITLE = Font(bold=True, size=14)
FONT_NOTE = Font(italic=True, color="595959")

MAPPING_NOTE = (
    "One rule per row, first match wins. data source: a source name from the sync config, or "
    "blank for any. field: utm_source, utm_medium or utm_campaign (ad exports put the campaign "
    "name there). match: exact, contains or regex (case and surrounding spaces ignored). "
    "channel / campaign: the Plan line; campaign blank = the row's own utm_campaign. Rows no "
    "rule maps are listed on the Unmapped sheet with their spend."
)
MAPPING_ROWS = 200  # rows below the header with the drop-down lists and the input fill


def _header(ws: Any, row: int, col: int, text: str) -> None:
    c = ws.cell(row=row, column=col, value=text)
    c.font = FONT_HEADER
    c.fill = FILL_HEADER
    c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def write_mapping_sheet(wb: Workbook, rules: Sequence[Mapping[str, Any]] = ()) -> None:
    """Add the Mapping sheet with `rules` (dicts keyed by `layout.MAPPING_HEADERS`, as
    `sheets_sync.sync_config` and `addin.actions.refresh_runrate.mapping_records` give them)."""
    ws = wb.create_sheet(L.MAPPING)
    for i, h in enumerate(L.MAPPING_HEADERS, start=1):
        _header(ws, L.MAPPING_HEADER_ROW, i, h)
    for r, rule in enumerate(rules, start=L.MAPPING_HEADER_ROW + 1):
        for c, value in enumerate(rule_row(rule), start=1):
            ws.cell(row=r, column=c, value=value)
    last = L.MAPPING_HEADER_ROW + max(MAPPING_ROWS, len(rules))
    for col in range(1, len(L.MAPPING_HEADERS) + 1):
        for r in range(L.MAPPING_HEADER_ROW + 1, last + 1):
            ws.cell(row=r, column=col).fill = FILL_INPUT
    for header, options in (("field", L.MAPPING_FIELDS), ("match", L.MAPPING_MATCHES)):
        letter = get_column_letter(L.MAPPING_HEADERS.index(header) + 1)
        dv = DataValidation(
            type="list",
            formula1='"' + ",".join(options) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=f"Mapping {header}",
            error=f"{header} must be one of {', '.join(options)}",
        )
        dv.add(f"{letter}{L.MAPPING_HEADER_ROW + 1}:{letter}{last}")
        ws.add_data_validation(dv)
    note_col = len(L.MAPPING_HEADERS) + 2
    note = ws.cell(row=1, column=note_col, value=MAPPING_NOTE)
    note.font = FONT_NOTE
    note.alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions[get_column_letter(note_col)].width = 60
    for letter, width in zip("ABCDEF", (16, 14, 10, 30, 18, 28), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"


def write_report_sheets(wb: Workbook) -> None:
    """Add the (empty) Data Quality and Unmapped sheets, formatted; Sync Facts fills them."""
    dq = wb.create_sheet(L.DATA_QUALITY)
    dq["A1"] = "Data Quality"
    dq["A1"].font = FONT_TITLE
    dq["B1"] = "filled by Sync Facts (funnelplan sync)"
    dq["B1"].font = FONT_NOTE
    dq.column_dimensions["A"].width = 24
    for col in range(2, L.DQ_WIDTH + 1):
        dq.column_dimensions[get_column_letter(col)].width = 13
    un = wb.create_sheet(L.UNMAPPED)
    for i, h in enumerate(L.UNMAPPED_HEADERS, start=1):
        _header(un, L.UNMAPPED_HEADER_ROW, i, h)
    for letter, width in zip("ABCDEFG", (11, 14, 14, 12, 30, 16, 24), strict=True):
        un.column_dimensions[letter].width = width
    un.freeze_panes = "A2"


def write_sync_sheets(wb: Workbook, rules: Sequence[Mapping[str, Any]] = ()) -> None:
    """Mapping (with `rules`), Data Quality and Unmapped."""
    write_mapping_sheet(wb, rules)
    write_report_sheets(wb)


# --- value blocks Sync Facts writes ---------------------------------------------------------


def _cell(value: Any) -> Any:
    """A value a sheet cell takes: NaN/None → blank, numpy scalars → Python, rounded money."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, dt.date):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return round(value, 6)
    return value


def _file_name(path: Any) -> Any:
    """A quarantined row's file as its name (the folder is the config's)."""
    if path is None or (isinstance(path, float) and math.isnan(path)):
        return None
    return PurePath(str(path)).name


def unmapped_block(frame: pd.DataFrame) -> list[list[Any]]:
    """The Unmapped sheet's rows under its header: `frame` has `layout.UNMAPPED_HEADERS`."""
    rows = []
    for rec in frame.reindex(columns=list(L.UNMAPPED_HEADERS)).itertuples(index=False):
        rows.append([_cell(v) for v in rec])
    return rows


def quality_block(report: QualityReport, workbook: str = "") -> list[list[Any]]:
    """The Data Quality sheet from A1: every row's column A filled, at most `layout.DQ_WIDTH`
    wide (Sync Facts pads and clears the rest)."""
    rows: list[list[Any]] = []
    as_of = report.as_of
    rows.append(
        [
            "Data Quality",
            "synced",
            report.now.replace(microsecond=0),
            "month",
            f"{report.month:%Y-%m}",
            "as of",
            as_of,
            "status",
            "OK" if report.ok else f"{len(report.flags)} flags",
            "workbook",
            workbook or None,
        ]
    )
    rows.append([f"Sources: freshness (no fresh data > {report.fresh_hours:g} h is flagged)"])
    rows.append(
        [
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
        ]
    )
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
    rows.append(
        [
            "Reconciliation: total in the files = filled + unplanned + unmapped + outside the "
            "month (or after as-of) + quarantined + duplicates + restated by a later file"
        ]
    )
    rows.append([*RECONCILIATION_COLUMNS[:-1], "earlier loads"])
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
    rows.append(["Leads check: CRM leads vs the ad platforms' own conversions, per channel"])
    rows.append(["channel", "CRM leads", "platform conversions", "difference", "flagged"])
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
    q = report.quarantine
    shown = q.head(50)
    rows.append(
        [f"Quarantined rows: {len(q)} (first {len(shown)})" if len(q) else "Quarantined rows: none"]
    )
    if len(q):
        rows.append(["source", "file", "line", "column", "value", "reason"])
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
    rows.append([f"Flags: {len(report.flags)}" if report.flags else "Flags: none"])
    for flag in report.flags:
        rows.append(["flag", flag])
    return [[_cell(v) for v in row[: L.DQ_WIDTH]] for row in rows]
