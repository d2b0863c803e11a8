"""Reading and writing the Optimize Split, Curves and Split Undo sheets through the workbook
interface (layout: `workbook_templates.layout`). No numbers are computed here.

Columns are found by their header text, so a user may reorder the table's columns or add
their own (kept with their channel on every rerun). Every bad input cell becomes an
`InputError` naming the cell, the channel, the column and the value.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from planning.errors import InputError
from planning.split import OBJECTIVES, ChannelInputs
from sheets_sync.workbooks.interface import Table, WorkbookError, WorkbookTarget, column_letter
from workbook_templates import layout as L
from workbook_templates.workbook_io import to_number


@dataclass
class SplitSheet:
    """What the Optimize Split sheet holds now. `fresh`: the sheet was just added (an older
    workbook), so it has no inputs yet. `rows`: per channel its raw cells by header (inputs and
    any column the user added); `where`: per channel its table row index (0-based)."""

    fresh: bool
    headers: list[str]
    first_col: int
    table: Table | None = None
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    where: dict[str, int] = field(default_factory=dict)
    n_rows: int = 0
    info: dict[str, Any] = field(default_factory=dict)
    info_refs: dict[str, str] = field(default_factory=dict)
    info_rows: dict[str, int] = field(default_factory=dict)
    info_col: int = 2

    def letter(self, header: str) -> str:
        return column_letter(self.first_col + self.headers.index(header))

    def ref(self, channel: str, header: str) -> str:
        """``"Optimize Split!B25 (Meta Ads)"``: where a channel's input lives."""
        row = L.SPLIT_FIRST_ROW + self.where[channel]
        return f"{L.SPLIT}!{self.letter(header)}{row} ({channel})"


def ensure_sheets(wb: WorkbookTarget) -> list[str]:
    """Add the Optimize Split and Curves sheets when the workbook predates them (their headers
    staged; no chart: only the template draws one; Apply Split adds Split Undo). Returns the
    sheets added."""
    added = []
    names = wb.sheet_names()
    if L.SPLIT not in names:
        wb.add_sheet(L.SPLIT)
        wb.write_block(L.SPLIT, 1, 1, [[f"{L.SPLIT} (added by Optimize Split)"]])
        wb.write_block(L.SPLIT, L.SPLIT_INFO_HEADER_ROW, 1, [list(L.SPLIT_INFO_HEADERS)])
        items = [*L.SPLIT_INFO_INPUTS, *L.SPLIT_INFO_OUTPUTS]
        defaults = {
            L.SPLIT_OBJECTIVE: "leads",
            L.SPLIT_STEP: 1000,
            L.SPLIT_MAX_CHANGE: L.SPLIT_MAX_CHANGE_DEFAULT,
        }
        wb.write_block(
            L.SPLIT,
            L.SPLIT_INFO_FIRST_ROW,
            1,
            [[key, defaults.get(key), help_text] for key, help_text in items],
        )
        wb.write_block(L.SPLIT, L.SPLIT_HEADER_ROW, 1, [list(L.SPLIT_HEADERS)])
        added.append(L.SPLIT)
    if L.CURVES not in names:
        wb.add_sheet(L.CURVES)
        added.append(L.CURVES)
    return added


def read_split_sheet(wb: WorkbookTarget, fresh: bool = False) -> SplitSheet:
    """The Optimize Split sheet's info block and channel table (raw); duplicate channel rows
    and a missing header raise an error naming the cell."""
    if fresh:
        return SplitSheet(fresh=True, headers=list(L.SPLIT_HEADERS), first_col=1)
    info = wb.read_table(L.SPLIT, header_row=L.SPLIT_INFO_HEADER_ROW)
    keys = [str(k).strip().lower() for k in info.values("item")]
    values = info.values("value")
    sheet_info = dict(zip(keys, values, strict=True))
    table = wb.read_table(L.SPLIT, header_row=L.SPLIT_HEADER_ROW, stop_labels=(L.TOTAL_LABEL,))
    for h in L.SPLIT_HEADERS:
        table.column(h)
    out = SplitSheet(
        fresh=False,
        headers=list(table.headers),
        first_col=table.first_col,
        table=table,
        n_rows=len(table.rows),
        info=sheet_info,
        info_refs={k: info.cell_ref(i, "value") for i, k in enumerate(keys)},
        info_rows={k: info.first_row + i for i, k in enumerate(keys)},
        info_col=info.column("value"),
    )
    first: dict[str, str] = {}
    for i, record in enumerate(table.records()):
        channel = str(record[L.SPLIT_CHANNEL]).strip()
        where = table.cell_ref(i, L.SPLIT_CHANNEL)
        if channel in first:
            raise InputError(
                f"appears twice in the channel column (also {first[channel]}); keep one row "
                "per channel",
                line=where,
                column=L.SPLIT_CHANNEL,
                value=channel,
            )
        first[channel] = where
        out.rows[channel] = record
        out.where[channel] = i
    return out


def _cell_number(sheet: SplitSheet, channel: str, header: str) -> float:
    """An input cell's number (blank → nan); text or a negative number → InputError."""
    raw = sheet.rows[channel].get(header)
    where = sheet.ref(channel, header)
    v = to_number(raw, where, header)
    if v < 0:
        raise InputError("must not be negative", line=where, column=header, value=raw)
    return v


def _locked(sheet: SplitSheet, channel: str) -> bool:
    raw = sheet.rows[channel].get(L.SPLIT_LOCKED)
    if raw is None or isinstance(raw, bool):
        return bool(raw)
    text = str(int(raw) if isinstance(raw, float) and raw.is_integer() else raw).strip().lower()
    if text in L.LOCKED_WORDS:
        return True
    if text in L.UNLOCKED_WORDS:
        return False
    raise InputError(
        "is not yes or no (blank = no)",
        line=sheet.ref(channel, L.SPLIT_LOCKED),
        column=L.SPLIT_LOCKED,
        value=raw,
    )


def channel_inputs(sheet: SplitSheet, channels: Sequence[str]) -> dict[str, ChannelInputs]:
    """The checked inputs of every channel of `channels` (blank for channels not on the sheet).

    min and max must be numbers >= 0 with min <= max; CPA cap > 0; value per conversion >= 0.
    """
    out: dict[str, ChannelInputs] = {}
    for channel in channels:
        if channel not in sheet.rows:
            out[channel] = ChannelInputs()
            continue
        low = _cell_number(sheet, channel, L.SPLIT_MIN)
        high = _cell_number(sheet, channel, L.SPLIT_MAX)
        low = 0.0 if math.isnan(low) else low
        high = math.inf if math.isnan(high) else high
        if low > high:
            raise InputError(
                f"is below `min` {low:g}; `max` must be >= `min`",
                line=sheet.ref(channel, L.SPLIT_MAX),
                column=L.SPLIT_MAX,
                value=sheet.rows[channel][L.SPLIT_MAX],
            )
        cap = _cell_number(sheet, channel, L.SPLIT_CPA_CAP)
        if cap == 0:
            raise InputError(
                "must be > 0 (blank = no cap)",
                line=sheet.ref(channel, L.SPLIT_CPA_CAP),
                column=L.SPLIT_CPA_CAP,
                value=sheet.rows[channel][L.SPLIT_CPA_CAP],
            )
        value = _cell_number(sheet, channel, L.SPLIT_VALUE)
        out[channel] = ChannelInputs(
            min=low,
            max=high,
            locked=_locked(sheet, channel),
            cpa_cap=None if math.isnan(cap) else cap,
            value=None if math.isnan(value) else value,
        )
    return out


def info_inputs(sheet: SplitSheet) -> tuple[str | None, float | None, float | None]:
    """``(objective, budget, step)`` typed in the info block (``None`` where blank)."""
    if sheet.fresh:
        return None, None, None
    raw_obj = sheet.info.get(L.SPLIT_OBJECTIVE)
    objective = None if raw_obj in (None, "") else str(raw_obj).strip().lower()
    if objective is not None and objective not in OBJECTIVES:
        raise InputError(
            f"is not an objective; use one of {', '.join(OBJECTIVES)}",
            line=sheet.info_refs[L.SPLIT_OBJECTIVE],
            column=L.SPLIT_OBJECTIVE,
            value=raw_obj,
        )
    numbers: list[float | None] = []
    for key in (L.SPLIT_BUDGET, L.SPLIT_STEP):
        if key not in sheet.info:
            numbers.append(None)
            continue
        where = sheet.info_refs[key]
        v = to_number(sheet.info[key], where, key)
        if not math.isnan(v) and (v < 0 or (key == L.SPLIT_BUDGET and v == 0)):
            must = "must be > 0" if key == L.SPLIT_BUDGET else "must not be negative"
            raise InputError(must, line=where, column=key, value=sheet.info[key])
        numbers.append(None if math.isnan(v) else v)
    return objective, numbers[0], numbers[1]


def info_max_change(sheet: SplitSheet) -> float | None:
    """The `max change` typed in the info block: a share of the current spend (0.5 = ±50%),
    0 = no default limits; ``None`` where blank or when the sheet has no such item."""
    if sheet.fresh or L.SPLIT_MAX_CHANGE not in sheet.info:
        return None
    raw = sheet.info[L.SPLIT_MAX_CHANGE]
    where = sheet.info_refs[L.SPLIT_MAX_CHANGE]
    v = to_number(raw, where, L.SPLIT_MAX_CHANGE)
    if v < 0:
        raise InputError(
            "must not be negative (0 = no limit)", line=where, column=L.SPLIT_MAX_CHANGE, value=raw
        )
    return None if math.isnan(v) else v


def cell(value: Any, digits: int = 2) -> Any:
    """A number for a sheet: rounded, NaN and inf blank (never NaN in the sheet)."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        r = round(value, digits)
        return int(r) if r.is_integer() and abs(r) < 2**53 else r
    return value


def write_split_table(
    wb: WorkbookTarget,
    sheet: SplitSheet,
    channels: Sequence[str],
    outputs: dict[str, dict[str, Any]],
) -> None:
    """Rewrite the channel table: one row per channel of `channels` (the Plan's, in order),
    keeping each channel's inputs and added columns, with `outputs` (per channel, by output
    header); Δ, Δ% and the Total row as formulas; rows of channels gone from the Plan cleared."""
    headers = sheet.headers
    first = L.SPLIT_FIRST_ROW

    def letter(header: str) -> str:
        return sheet.letter(header)

    rows: list[list[Any]] = []
    for i, channel in enumerate(channels):
        old = sheet.rows.get(channel, {})
        formulas = L.split_row_formulas(first + i, letter)
        row: list[Any] = []
        for h in headers:
            if h == L.SPLIT_CHANNEL:
                row.append(channel)
            elif h in formulas:
                row.append(formulas[h])
            elif h in L.SPLIT_OUTPUTS:
                row.append(outputs.get(channel, {}).get(h))
            else:
                row.append(old.get(h))
        rows.append(row)
    total_row = first + len(channels)
    totals = L.split_total_formulas(total_row, first, total_row - 1, letter)
    rows.append([L.TOTAL_LABEL if h == L.SPLIT_CHANNEL else totals.get(h) for h in headers])
    # the old table (and its Total row) may have been longer: clear what is left of it
    rows += [[None] * len(headers) for _ in range(sheet.n_rows + 1 - len(channels))]
    wb.write_block(L.SPLIT, first, sheet.first_col, rows)


def write_info(wb: WorkbookTarget, sheet: SplitSheet, values: dict[str, Any]) -> None:
    """Write the info block's output items (rows found by their key)."""
    rows = sheet.info_rows or {
        key: L.SPLIT_INFO_FIRST_ROW + i
        for i, (key, _) in enumerate([*L.SPLIT_INFO_INPUTS, *L.SPLIT_INFO_OUTPUTS])
    }
    for key, value in values.items():
        if key in rows:
            wb.write_block(L.SPLIT, rows[key], sheet.info_col, [[value]])


# --- Curves ------------------------------------------------------------------------------


def curve_slots(wb: WorkbookTarget) -> int:
    """Channel series slots the Curves sheet's chart reserves (0 when it has no headers)."""
    try:
        headers = wb.read_table(L.CURVES, header_row=L.CURVES_HEADER_ROW).headers
    except WorkbookError:  # a fresh, empty sheet
        return 0
    return max(len(headers) // len(L.CURVE_QUANTITIES) - len(L.CURVE_MARKER_SLOTS), 0)


def write_curves(
    wb: WorkbookTarget,
    slots: int,
    markers: Sequence[Sequence[Sequence[Any]]],
    channels: Sequence[str],
    curves: Sequence[Sequence[Sequence[Any]] | None],
) -> None:
    """Write the Curves sheet: the marker slots (rows of spend, conversions, low, high per
    channel), then one slot per channel with its grid; reserved slots beyond the channels and
    rows past the data are cleared."""
    n_slots = len(L.CURVE_MARKER_SLOTS) + max(slots, len(channels))
    width = len(L.CURVE_QUANTITIES)
    height = max(L.CURVE_POINTS, len(channels), slots)
    titles: list[Any] = []
    headers: list[Any] = []
    for slot in range(n_slots):
        if slot < len(L.CURVE_MARKER_SLOTS):
            title: str | None = L.CURVE_MARKER_SLOTS[slot]
        else:
            j = slot - len(L.CURVE_MARKER_SLOTS)
            title = channels[j] if j < len(channels) else None
        titles += [title] * width
        headers += list(L.CURVE_QUANTITIES)
    wb.write_block(L.CURVES, L.CURVES_TITLE_ROW, 1, [titles, headers])
    block: list[list[Any]] = [[None] * (n_slots * width) for _ in range(height)]
    columns: list[Sequence[Sequence[Any]] | None] = [*markers, *curves]
    for slot, data in enumerate(columns):
        if data is None:
            continue
        for i, point in enumerate(data):
            for q, value in enumerate(point):
                block[i][slot * width + q] = cell(value, 4)
    wb.write_block(L.CURVES, L.CURVES_FIRST_ROW, 1, block)


# --- Split Undo ----------------------------------------------------------------------------

KINDS = ("blank", "number", "text", "formula", "bool", "date")


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
    return f"{sheet}!{column_letter(col)}{row}"
