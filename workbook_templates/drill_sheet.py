"""The Drill sheet (issue 15): the month's plan, fact and run-rate at any level and filter.

Layout: the inputs at the top (A1 ``level``, B1 the level: ``channel``, ``campaign``,
``segment``, ``creative``, ``city`` or ``product``; A2:A7 the same six names, B2:B7 a filter
for each, blank = all), a status line in A8, the table's header in row `HEADER_ROW` and its rows
below: one per value of the level (the row with no value last, "(no value)"), the total, and
below it, outside the total, the facts no plan line took ("not in the Plan"). Columns:
the level's value, per metric of `planning.drill.DRILL_METRICS` its ``p`` / ``f`` / ``rr``,
then CPL, CPA and CR (plan and fact), ratios of the row's sums.

Written by `write_drill_template` (every new workbook: `funnelplan template`, the demo, New
Month; the inputs, the level a drop-down of the six names, a note in the status line, the
header, the columns' number formats (`drill_format`, set by `column_formats`)) and by the Drill
button (`addin.actions.drill`: the status and the table, the old rows cleared; on a workbook
made before the template had the sheet, the sheet and its inputs on the first press). Read by
the Drill button (`read_drill_inputs`). Texts are English msgids translated with the
workbook's translator (review.po), in a new workbook by the post-pass (`localize`, which also
translates the level drop-down's names: `localize.WORDED_OPTIONS`); the level and filter names
are read back in either language. Not protected, like every sheet a button rewrites; the input
cells are unlocked anyway (a user protecting the sheet can still choose).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Protection

from planning.drill import DRILL_METRICS, LEVELS, RATIOS, Drill, DrillRow
from planning.errors import InputError
from sheets_sync.i18n import Translator
from sheets_sync.i18n.header_words import localized_header
from sheets_sync.workbooks.interface import WorkbookTarget
from sheets_sync.workbooks.roles import canonical_label
from workbook_templates import input_checks as checks
from workbook_templates import layout as L
from workbook_templates.styles import (
    FILL_INPUT,
    FMT_COST,
    FMT_COUNT,
    FMT_CR,
    FMT_MONEY,
    FONT_BOLD,
    FONT_NOTE,
    header_row,
)

__all__ = [
    "DRILL",
    "HEADER_ROW",
    "DrillInputs",
    "drill_format",
    "drill_headers",
    "drill_rows",
    "read_drill_inputs",
    "write_drill",
    "write_drill_template",
]

DRILL = "Drill"
"""The sheet's (English) name; a Russian workbook's is its translation."""
LEVEL_ROW = 1
FILTER_ROWS = range(2, 2 + len(LEVELS))
STATUS_ROW = FILTER_ROWS.stop
HEADER_ROW = STATUS_ROW + 2
CLEARED_ROWS = 400
"""Rows below the header the button clears before writing (a drill has at most a few hundred
values; more are cut with a note)."""
NO_VALUE = "(no value)"
NOT_IN_PLAN = "not in the Plan (unmapped)"
KINDS = ("p", "f", "rr")
NOTE = "Choose a level and filters above, then press Drill."
"""The status line of a new sheet (the button writes its own over it)."""
LEVEL_ERROR = "choose a level from the list"


@dataclass(frozen=True)
class DrillInputs:
    """What the user chose on the sheet: the level and the filters set (level -> value)."""

    level: str
    filters: dict[str, str]


def input_block(t: Translator, level: str = "channel") -> list[list[Any]]:
    """The inputs' cells A1:B7: the labels and the level in the workbook's language (read back
    in either)."""
    return [[t("level"), t(level)], *[[t(name), None] for name in LEVELS]]


def write_drill_template(wb: Workbook, t: Translator) -> None:
    """Add the Drill sheet: its inputs (yellow, unlocked; the level a drop-down of `LEVELS` as
    `t` words them), the note in the status line, the header by channel.

    A new workbook's template passes English (`t` the identity) and the post-pass translates
    it; a sheet written straight in another language passes that language's translator."""
    ws = wb.create_sheet(t(DRILL))
    for r, row in enumerate(input_block(t), start=1):
        for c, value in enumerate(row, start=1):
            ws.cell(r, c, value)
        ws.cell(r, 2).fill = FILL_INPUT
        ws.cell(r, 2).protection = Protection(locked=False)
    ws.cell(LEVEL_ROW, 1).font = FONT_BOLD
    ws.add_data_validation(
        checks.choice(f"B{LEVEL_ROW}", [t(name) for name in LEVELS], t("level"), t(LEVEL_ERROR))
    )
    ws.cell(STATUS_ROW, 1, t(NOTE)).font = FONT_NOTE
    header_row(ws, HEADER_ROW, drill_headers("channel", t))
    ws.column_dimensions["A"].width = 28
    ws.freeze_panes = f"B{HEADER_ROW + 1}"


def drill_format(header: str) -> str | None:
    """The number format of the table's column `header` (English): money for spend and
    revenue, whole counts, cost per lead or purchase with kopecks, CR in percent; None for the
    level's column."""
    name, _, kind = header.strip().rpartition(" ")
    if name in DRILL_METRICS and kind in KINDS:
        return FMT_MONEY if name in ("spend", "revenue") else FMT_COUNT
    if name in RATIOS and kind in ("p", "f"):
        return FMT_CR if name == "CR" else FMT_COST
    return None


def _code(text: Any, t: Translator) -> str:
    """A level name typed in either language, as its English code (`LEVELS`): a Russian name
    in an English workbook too (`canonical_label` knows every language's)."""
    raw = "" if text is None else str(text).strip()
    for candidate in (raw, t.reverse(raw), raw.casefold(), canonical_label(raw).casefold()):
        if candidate in LEVELS:
            return candidate
    return raw


def read_drill_inputs(wb: WorkbookTarget, sheet: str, t: Translator) -> DrillInputs:
    """The level and filters on the sheet; `InputError` for a level that is not one of
    `LEVELS` (an empty level is ``channel``)."""
    cells = wb.read_cells(sheet, LEVEL_ROW, 1, len(LEVELS) + 1, 2, formulas=False)
    level = _code(cells[0][1], t) or "channel"
    if level not in LEVELS:
        where = f"{sheet}!B{LEVEL_ROW}"
        names = ", ".join(LEVELS)
        raise InputError(f"the level must be one of {names}", line=where, value=cells[0][1])
    filters: dict[str, str] = {}
    for (label, value), name in zip(cells[1:], LEVELS, strict=True):
        text = "" if value is None else str(value).strip()
        if text:
            filters[_code(label, t) if _code(label, t) in LEVELS else name] = (
                "" if text == t(NO_VALUE) or text == NO_VALUE else text
            )
    return DrillInputs(level, filters)


def drill_headers(level: str, t: Translator) -> list[str]:
    """The table's header: the level, each metric's p / f / rr, the ratios' p and f."""
    headers = [t(level)]
    for metric in DRILL_METRICS:
        headers += [localized_header(f"{metric} {kind}", t) for kind in KINDS]
    for name in RATIOS:
        headers += [localized_header(f"{name} {kind}", t) for kind in ("p", "f")]
    return headers


def _values(row: DrillRow, label: str) -> list[Any]:
    out: list[Any] = [label]
    for metric in DRILL_METRICS:
        out += [row.plan.get(metric), row.fact.get(metric), row.runrate.get(metric)]
    for name in RATIOS:
        out += [row.ratio(name, "p"), row.ratio(name, "f")]
    return out


def drill_rows(result: Drill, t: Translator) -> list[list[Any]]:
    """The table's rows under its header: the values, the total, the facts outside it."""
    rows = [_values(row, row.key or t(NO_VALUE)) for row in result.rows]
    rows.append(_values(result.total, t(L.TOTAL_LABEL)))
    outside = DrillRow(key="", fact=dict(result.unmapped))
    rows.append([t(NOT_IN_PLAN), *[None if v == 0 else v for v in _values(outside, "")[1:]]])
    return rows


def write_drill(
    wb: WorkbookTarget,
    sheet: str,
    status: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    old_rows: int,
) -> None:
    """Stage the status, the header and the rows; rows up to `old_rows` below cleared."""
    width = len(headers)
    wb.write_block(sheet, STATUS_ROW, 1, [[status]])
    wb.write_block(sheet, HEADER_ROW, 1, [list(headers)])
    body = [list(r) + [None] * (width - len(r)) for r in rows]
    body += [[None] * width for _ in range(max(0, old_rows - len(body)))]
    if body:
        wb.write_block(sheet, HEADER_ROW + 1, 1, body)


def used_rows(wb: WorkbookTarget, sheet: str) -> int:
    """How many rows under the header hold something in column A (what to clear)."""
    cells = wb.read_cells(sheet, HEADER_ROW + 1, 1, CLEARED_ROWS, 1, formulas=False)
    filled = [i for i, row in enumerate(cells) if row and row[0] not in (None, "")]
    return filled[-1] + 1 if filled else 0
