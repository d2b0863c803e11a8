"""The Split Undo sheet (hidden): what Apply Split replaced, so Undo Split restores it exactly.

One row per replaced cell (`layout.UNDO_HEADERS`: cell, sheet, row, column, old kind, old,
new). The old content is stored with its kind (`encode`): a formula as its text without the
``=`` (so this sheet does not compute it), a blank as blank, everything else as itself.

Written by the template (`write_split_undo_template`: hidden, headers only) and by Apply Split
(`write_undo`; Apply Split adds the sheet to a workbook without one); read by Undo Split and
Apply Split (`read_undo`), and cleared by Undo Split.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook

from planning.errors import InputError
from sheets_sync.i18n import translator
from sheets_sync.workbooks.interface import WorkbookTarget, column_letter
from sheets_sync.workbooks.roles import language_of
from workbook_templates import layout as L
from workbook_templates.cells import to_number
from workbook_templates.styles import header_row

KINDS = ("blank", "number", "text", "formula", "bool", "date")


def write_split_undo_template(wb: Workbook) -> None:
    """Add the hidden Split Undo sheet with its headers."""
    undo = wb.create_sheet(L.SPLIT_UNDO)
    undo.sheet_state = "hidden"
    header_row(undo, 1, L.UNDO_HEADERS)


def encode(value: Any) -> tuple[str, Any]:
    """A cell's content as (kind, what the undo sheet stores): a formula is kept as its text
    without the ``=`` (so the undo sheet does not compute it), everything else as itself."""
    if value is None:
        return "blank", None
    if isinstance(value, bool):
        return "bool", value
    if isinstance(value, (int, float)):
        return "number", value
    if isinstance(value, (dt.date, dt.datetime)):
        return "date", value
    text = str(value)
    if text.startswith("="):
        return "formula", text[1:]
    return "text", text


def decode(kind: Any, stored: Any, where: str) -> Any:
    """The cell content `encode` stored; an unknown kind names the undo sheet's cell."""
    if kind == "blank":
        return None
    if kind == "formula":
        return f"={stored}"
    if kind == "bool":
        return bool(stored)
    if kind in ("number", "text", "date"):
        return stored
    raise InputError(
        f"is not a kind of cell Apply Split records ({', '.join(KINDS)})",
        line=where,
        column="old kind",
        value=kind,
    )


@dataclass(frozen=True)
class UndoRecord:
    """One replaced cell: where (sheet, 1-based row and column), what it held, what was written."""

    ref: str
    sheet: str
    row: int
    col: int
    old: Any
    new: Any


def undo_rows_to_replace(wb: WorkbookTarget) -> int:
    """Before Apply Split records its cells: the rows the previous record takes (0 when the
    sheet had to be added, hidden, with its headers; a replaced record is said)."""
    if L.SPLIT_UNDO not in wb.sheet_names():
        wb.add_sheet(L.SPLIT_UNDO, hidden=True)
        t = translator(language_of(wb))  # as the template's post-pass writes them
        wb.write_block(L.SPLIT_UNDO, 1, 1, [[t(h) for h in L.UNDO_HEADERS]])
        return 0
    previous, old_rows = read_undo(wb)
    if previous:
        wb.notify("the undo record of the previous Apply Split was replaced")
    return old_rows


def read_undo(wb: WorkbookTarget) -> tuple[list[UndoRecord], int]:
    """The recorded cells and the number of rows the record takes on the undo sheet."""
    if L.SPLIT_UNDO not in wb.sheet_names():
        return [], 0
    table = wb.read_table(L.SPLIT_UNDO, header_row=1)
    records = []
    for i, rec in enumerate(table.records()):
        where = table.cell_ref(i, "cell")
        row = to_number(rec.get("row"), where, "row", allow_blank=False)
        col = to_number(rec.get("column"), where, "column", allow_blank=False)
        old = decode(rec.get("old kind"), rec.get("old"), table.cell_ref(i, "old kind"))
        records.append(
            UndoRecord(str(rec["cell"]), str(rec["sheet"]), int(row), int(col), old, rec["new"])
        )
    return records, len(table.rows)


def write_undo(wb: WorkbookTarget, records: Sequence[UndoRecord], old_rows: int) -> None:
    """Replace the undo record with `records` (clearing the rows of the previous one)."""
    rows: list[list[Any]] = []
    for r in records:
        kind, stored = encode(r.old)
        rows.append([r.ref, r.sheet, r.row, r.col, kind, stored, r.new])
    rows += [[None] * len(L.UNDO_HEADERS) for _ in range(old_rows - len(records))]
    if rows:
        wb.write_block(L.SPLIT_UNDO, 2, 1, rows)


def a1(sheet: str, row: int, col: int) -> str:
    """``"Plan!E7"``: the A1 reference of a 1-based cell, as the undo sheet records it."""
    return f"{sheet}!{column_letter(col)}{row}"
