"""The Optimize Split sheet: the proposed budget split across channels, before it is applied.

For the user: at the top a key/value block (`layout.SPLIT_INFO_*`): the inputs objective,
budget, step and max change (yellow), then what the last run found (green). Below it one row
per channel (`layout.SPLIT_HEADERS`): inputs the user types (min, max, locked, CPA cap, value
per conversion) and the proposal (current, proposed, expected conversions with their band,
marginal CPA, confidence, flags). Δ, Δ% and the Total row are formulas. The response-curve
chart (over the Curves sheet) sits beside the info block.

Columns are found by their header text, so a user may reorder the table's columns or add their
own (kept with their channel on every rerun). Every bad input cell becomes an `InputError`
naming the cell, the channel, the column and the value. No numbers are computed here.

Written by the template (`write_optimize_split_template`, which adds the Curves sheet too) and
by Optimize Split (`ensure_sheets` for an older workbook, `write_split_table`, `write_info`).
Read by Optimize Split (`read_split_sheet`, `channel_inputs`, `info_inputs`, `info_max_change`)
and Apply Split (the proposal).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from planning.errors import InputError
from planning.split import (
    DEFAULT_CHANGE,
    DEFAULT_OBJECTIVE,
    DEFAULT_STEP,
    OBJECTIVES,
    ChannelInputs,
)
from planning.split_counts import COUNTS_MODES, DEFAULT_COUNTS
from sheets_sync.workbooks.interface import Table, WorkbookTarget, column_letter
from sheets_sync.workbooks.roles import canonical_label
from workbook_templates import layout as L
from workbook_templates.cells import quotient, to_number
from workbook_templates.curves_sheet import response_chart, write_curves_template
from workbook_templates.styles import (
    FILL_INPUT,
    FILL_OUTPUT,
    FMT_COST,
    FMT_COUNT_1DP,
    FMT_INT,
    FMT_MONEY,
    FMT_PCT_WHOLE,
    FMT_RETURN,
    FMT_SIGNED_COUNT_1DP,
    FMT_SIGNED_MONEY,
    FMT_SIGNED_PCT,
    FMT_TEXT,
    FONT_BOLD,
    FONT_NOTE,
    FONT_TITLE,
    header_cell,
    header_row,
    total_row_style,
)

# --- Layout --------------------------------------------------------------------------------

#: The info block's inputs and their values in a new sheet (budget blank: the Plan's total).
INFO_DEFAULTS: dict[str, Any] = {
    L.SPLIT_OBJECTIVE: DEFAULT_OBJECTIVE,
    L.SPLIT_BUDGET: None,
    L.SPLIT_STEP: DEFAULT_STEP,
    L.SPLIT_MAX_CHANGE: DEFAULT_CHANGE,
    L.SPLIT_COUNTS: DEFAULT_COUNTS,
}
INFO_ITEMS = (*L.SPLIT_INFO_INPUTS, *L.SPLIT_INFO_OUTPUTS)

#: Number format per Optimize Split column.
SPLIT_FORMATS: dict[str, str] = {
    L.SPLIT_MIN: FMT_MONEY,
    L.SPLIT_MAX: FMT_MONEY,
    L.SPLIT_LOCKED: FMT_TEXT,
    L.SPLIT_CPA_CAP: FMT_COST,
    L.SPLIT_VALUE: FMT_COST,
    L.SPLIT_CURRENT: FMT_MONEY,
    L.SPLIT_PROPOSED: FMT_MONEY,
    L.SPLIT_DELTA: FMT_SIGNED_MONEY,
    L.SPLIT_DELTA_PCT: FMT_SIGNED_PCT,
    L.SPLIT_CONV_NOW: FMT_COUNT_1DP,
    L.SPLIT_EXPECTED: FMT_COUNT_1DP,
    L.SPLIT_LOW: FMT_COUNT_1DP,
    L.SPLIT_HIGH: FMT_COUNT_1DP,
    L.SPLIT_MARGINAL_CPA: FMT_COST,
}
#: Number format per info-block item (the rest: General).
INFO_FORMATS: dict[str, str] = {
    L.SPLIT_BUDGET: FMT_MONEY,
    L.SPLIT_STEP: FMT_MONEY,
    L.SPLIT_MAX_CHANGE: FMT_PCT_WHOLE,
    "days": FMT_INT,
    "budget used": FMT_MONEY,
    "current spend": FMT_MONEY,
    "proposed spend": FMT_MONEY,
    "conversions now": FMT_COUNT_1DP,
    "expected conversions": FMT_COUNT_1DP,
    "uplift": FMT_SIGNED_COUNT_1DP,
    "uplift %": FMT_SIGNED_PCT,
    L.SPLIT_LEADS_AFTER: FMT_COUNT_1DP,
    "value now": FMT_MONEY,
    "expected value": FMT_MONEY,
    "marginal return": FMT_RETURN,
}
HELP_LAST_COL = L.SPLIT_HEADERS.index(L.SPLIT_DELTA_PCT)
"""The info block's help is merged from column C up to here; the chart starts after it."""
FORMATTED_ROWS = 40  # channel rows pre-formatted below the header (more are written plain)

#: Columns summed on the Total row; Δ% there is recomputed from the sums.
SPLIT_SUMMED = (
    L.SPLIT_CURRENT,
    L.SPLIT_PROPOSED,
    L.SPLIT_DELTA,
    L.SPLIT_CONV_NOW,
    L.SPLIT_EXPECTED,
    L.SPLIT_LOW,
    L.SPLIT_HIGH,
)

NOTE = (
    "Type the inputs (yellow), run Optimize Split (funnelplan optimize), check the proposal "
    "and the curves, then Apply Split; nothing in the Plan changes before Apply, and Undo "
    "Split restores it. Amounts are for the month."
)


def split_letter(header: str) -> str:
    """Column letter of an Optimize Split header in the template's order."""
    return get_column_letter(L.SPLIT_HEADERS.index(header) + 1)


def split_row_formulas(row: int, letter: Callable[[str], str]) -> dict[str, str]:
    """The formulas of a channel row: Δ and Δ% from `current` and `proposed`.

    `letter` maps a header to its column letter. Blank when either is blank; Δ% also blank
    when the current spend is 0 (`cells.quotient`).
    """
    cur, new = f"{letter(L.SPLIT_CURRENT)}{row}", f"{letter(L.SPLIT_PROPOSED)}{row}"
    blank = f'OR({cur}="",{new}="")'
    return {
        L.SPLIT_DELTA: f'=IF({blank},"",{new}-{cur})',
        L.SPLIT_DELTA_PCT: quotient(
            cur, cur, blank_if=[f'{cur}=""', f'{new}=""'], expr=f"({new}-{cur})/{cur}"
        ),
    }


def split_total_formulas(
    row: int, first: int, last: int, letter: Callable[[str], str]
) -> dict[str, str]:
    """The Total row: sums of the absolutes over rows `first`..`last` and Δ% from the summed
    current and proposed spend (never an average of the channels' Δ%)."""
    last = max(last, first)
    out = {h: f"=SUM({letter(h)}{first}:{letter(h)}{last})" for h in SPLIT_SUMMED}
    cur, new = f"{letter(L.SPLIT_CURRENT)}{row}", f"{letter(L.SPLIT_PROPOSED)}{row}"
    out[L.SPLIT_DELTA_PCT] = quotient(cur, cur, expr=f"({new}-{cur})/{cur}")
    return out


# --- Template ------------------------------------------------------------------------------


def _channels(lines: pd.DataFrame) -> list[str]:
    return [str(c) for c in dict.fromkeys(lines["channel"].dropna().tolist()) if str(c).strip()]


def _write_info_block(ws: Worksheet, month_label: str) -> None:
    """Title, note and the key/value block with the inputs' defaults."""
    ws["A1"] = f"{L.SPLIT} — {month_label}"
    ws["A1"].font = FONT_TITLE
    ws["A2"] = NOTE
    ws["A2"].font = FONT_NOTE
    header_row(ws, L.SPLIT_INFO_HEADER_ROW, L.SPLIT_INFO_HEADERS)
    for r, (key, help_text) in enumerate(INFO_ITEMS, start=L.SPLIT_INFO_FIRST_ROW):
        ws.cell(row=r, column=1, value=key).font = FONT_BOLD
        value = ws.cell(row=r, column=2, value=INFO_DEFAULTS.get(key))
        value.fill = FILL_INPUT if key in INFO_DEFAULTS else FILL_OUTPUT
        value.number_format = INFO_FORMATS.get(key, "General")
        help_cell = ws.cell(row=r, column=3, value=help_text)
        help_cell.font = FONT_NOTE
        help_cell.alignment = Alignment(wrap_text=True, vertical="top")
        # the help spans the columns up to the chart's, wrapped: the chart covers no text
        ws.merge_cells(start_row=r, start_column=3, end_row=r, end_column=HELP_LAST_COL)


def _write_table_headers(ws: Worksheet) -> None:
    """The group labels (inputs / proposal) over the header row, and the header row."""
    group_row = L.SPLIT_HEADER_ROW - 1
    for label, members, fill in (
        ("inputs (type here)", L.SPLIT_INPUTS, FILL_INPUT),
        ("proposal (written by Optimize Split)", L.SPLIT_OUTPUTS, FILL_OUTPUT),
    ):
        first = L.SPLIT_HEADERS.index(members[0]) + 1
        last = L.SPLIT_HEADERS.index(members[-1]) + 1
        cell = ws.cell(row=group_row, column=first, value=label)
        cell.font, cell.fill = FONT_BOLD, fill
        cell.alignment = Alignment(horizontal="center")
        ws.merge_cells(start_row=group_row, start_column=first, end_row=group_row, end_column=last)
    for i, h in enumerate(L.SPLIT_HEADERS, start=1):
        header_cell(ws, L.SPLIT_HEADER_ROW, i, h)


def _write_channel_rows(ws: Worksheet, channels: list[str], inputs: pd.DataFrame | None) -> None:
    """Formats of the first rows, each channel with its given inputs and formulas, the Total."""
    given: dict[str, dict[str, Any]] = {}
    if inputs is not None and len(inputs):
        given = {
            str(r["channel"]): {str(k): v for k, v in r.items()} for r in inputs.to_dict("records")
        }
    first_row = L.SPLIT_FIRST_ROW
    for i in range(max(FORMATTED_ROWS, len(channels) + 1)):
        for h, fmt in SPLIT_FORMATS.items():
            cell = ws.cell(row=first_row + i, column=L.SPLIT_HEADERS.index(h) + 1)
            cell.number_format = fmt
            if h in L.SPLIT_INPUTS and i < len(channels):
                cell.fill = FILL_INPUT
    for i, channel in enumerate(channels):
        row = first_row + i
        ws.cell(row=row, column=1, value=channel)
        for h in L.SPLIT_INPUTS:
            value = given.get(channel, {}).get(h)
            if value is not None and not (isinstance(value, float) and pd.isna(value)):
                ws.cell(row=row, column=L.SPLIT_HEADERS.index(h) + 1, value=value)
        for h, formula in split_row_formulas(row, split_letter).items():
            ws[f"{split_letter(h)}{row}"] = formula
    total_row = first_row + len(channels)
    ws.cell(row=total_row, column=1, value=L.TOTAL_LABEL)
    for h, formula in split_total_formulas(
        total_row, first_row, total_row - 1, split_letter
    ).items():
        ws[f"{split_letter(h)}{total_row}"] = formula
    total_row_style(ws, total_row, len(L.SPLIT_HEADERS))


def write_optimize_split_template(
    wb: Workbook, month_label: str, lines: pd.DataFrame, inputs: pd.DataFrame | None = None
) -> None:
    """Add the Optimize Split sheet and, for its chart, the Curves sheet to `wb`.

    `lines`: the Plan's lines (a ``channel`` column; one Optimize Split row per distinct
    channel, in order). `inputs`: optional per-channel inputs (``channel`` and any of
    `layout.SPLIT_INPUTS`), e.g. carried over from last month.
    """
    channels = _channels(lines)
    ws = wb.create_sheet(L.SPLIT)
    _write_info_block(ws, month_label)
    _write_table_headers(ws)
    _write_channel_rows(ws, channels, inputs)
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 30
    ws.column_dimensions["C"].width = 14
    for col in range(4, len(L.SPLIT_HEADERS)):
        ws.column_dimensions[get_column_letter(col)].width = 12
    ws.column_dimensions[split_letter(L.SPLIT_FLAGS)].width = 48
    ws.row_dimensions[L.SPLIT_HEADER_ROW].height = 30
    ws.freeze_panes = "B1"  # the channel names only: the table stays reachable on a laptop

    slots = len(channels) if channels else L.MIN_CURVE_SLOTS
    curves = write_curves_template(wb, slots)
    chart = response_chart(curves, slots)
    # beside the info block's help (merged up to HELP_LAST_COL), above the table
    ws.add_chart(chart, f"{get_column_letter(HELP_LAST_COL + 1)}{L.SPLIT_INFO_HEADER_ROW}")


# --- Reading and writing at run time -------------------------------------------------------


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
        wb.write_block(
            L.SPLIT,
            L.SPLIT_INFO_FIRST_ROW,
            1,
            [[key, INFO_DEFAULTS.get(key), help_text] for key, help_text in INFO_ITEMS],
        )
        wb.write_block(L.SPLIT, L.SPLIT_HEADER_ROW, 1, [list(L.SPLIT_HEADERS)])
        added.append(L.SPLIT)
    if L.CURVES not in names:
        wb.add_sheet(L.CURVES)
        added.append(L.CURVES)
    return added


def _read_channels(table: Table, out: SplitSheet) -> None:
    """Each channel row into `out.rows` / `out.where`; a channel twice names both cells."""
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


def read_split_sheet(wb: WorkbookTarget, fresh: bool = False) -> SplitSheet:
    """The Optimize Split sheet's info block and channel table (raw); duplicate channel rows
    and a missing header raise an error naming the cell."""
    if fresh:
        return SplitSheet(fresh=True, headers=list(L.SPLIT_HEADERS), first_col=1)
    info = wb.read_table(L.SPLIT, header_row=L.SPLIT_INFO_HEADER_ROW)
    keys = [canonical_label(str(k)).lower() for k in info.values("item")]  # either language
    values = info.values("value")
    table = wb.read_table(L.SPLIT, header_row=L.SPLIT_HEADER_ROW, stop_labels=(L.TOTAL_LABEL,))
    for h in L.SPLIT_HEADERS:
        table.column(h)
    out = SplitSheet(
        fresh=False,
        headers=list(table.headers),
        first_col=table.first_col,
        table=table,
        n_rows=len(table.rows),
        info=dict(zip(keys, values, strict=True)),
        info_refs={k: info.cell_ref(i, "value") for i, k in enumerate(keys)},
        info_rows={k: info.first_row + i for i, k in enumerate(keys)},
        info_col=info.column("value"),
    )
    _read_channels(table, out)
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


def _channel_input(sheet: SplitSheet, channel: str) -> ChannelInputs:
    """One channel's checked inputs (see `channel_inputs`)."""
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
    return ChannelInputs(
        min=low,
        max=high,
        locked=_locked(sheet, channel),
        cpa_cap=None if math.isnan(cap) else cap,
        value=None if math.isnan(value) else value,
    )


def channel_inputs(sheet: SplitSheet, channels: Sequence[str]) -> dict[str, ChannelInputs]:
    """The checked inputs of every channel of `channels` (blank for channels not on the sheet).

    min and max must be numbers >= 0 with min <= max; CPA cap > 0; value per conversion >= 0.
    """
    return {
        channel: _channel_input(sheet, channel) if channel in sheet.rows else ChannelInputs()
        for channel in channels
    }


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


def info_counts(sheet: SplitSheet) -> str:
    """How Apply Split sets the lines' planned counts (`planning.split_counts.COUNTS_MODES`):
    the `counts` item, blank or missing = keep ratios; anything else names its cell."""
    raw = None if sheet.fresh else sheet.info.get(L.SPLIT_COUNTS)
    if raw is None or str(raw).strip() == "":
        return DEFAULT_COUNTS
    mode = str(raw).strip().lower()
    if mode not in COUNTS_MODES:
        raise InputError(
            f"is not a way to set the counts; use one of {', '.join(COUNTS_MODES)}",
            line=sheet.info_refs[L.SPLIT_COUNTS],
            column=L.SPLIT_COUNTS,
            value=raw,
        )
    return mode


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
    rows: list[list[Any]] = []
    for i, channel in enumerate(channels):
        old = sheet.rows.get(channel, {})
        formulas = split_row_formulas(first + i, sheet.letter)
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
    totals = split_total_formulas(total_row, first, total_row - 1, sheet.letter)
    rows.append([L.TOTAL_LABEL if h == L.SPLIT_CHANNEL else totals.get(h) for h in headers])
    # the old table (and its Total row) may have been longer: clear what is left of it
    rows += [[None] * len(headers) for _ in range(sheet.n_rows + 1 - len(channels))]
    wb.write_block(L.SPLIT, first, sheet.first_col, rows)


def write_info(wb: WorkbookTarget, sheet: SplitSheet, values: dict[str, Any]) -> None:
    """Write the info block's output items (rows found by their key)."""
    rows = sheet.info_rows or {
        key: L.SPLIT_INFO_FIRST_ROW + i for i, (key, _) in enumerate(INFO_ITEMS)
    }
    for key, value in values.items():
        if key in rows:
            wb.write_block(L.SPLIT, rows[key], sheet.info_col, [[value]])
