"""Number formats for the columns buttons fill at run time (Daily, Daily History, Unmapped,
History, Curves, the Alerts incidents, Drill, Data Quality), set on the template's columns.

Decision: a button writes plain values; the xlsx adapter gives a written cell without a
format its column's (`sheets_sync.workbooks.cell_formats`), and Excel, LibreOffice and Google
Sheets keep a formatted cell's format when a value is written into it. So the template
formats every column a button fills, by its header, and the formats travel with the
workbook. Headers are read in English: this runs before the Russian post-pass.
"""

from __future__ import annotations

from collections.abc import Callable

from openpyxl import Workbook
from openpyxl.styles.numbers import FORMAT_GENERAL
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from sheets_sync.facts import METRICS, MONEY
from sheets_sync.i18n.formats import localized_format
from workbook_templates import layout as L
from workbook_templates.alerts_sheet import ALERTS
from workbook_templates.drill_sheet import DRILL, drill_format
from workbook_templates.drill_sheet import HEADER_ROW as DRILL_HEADER_ROW
from workbook_templates.styles import (
    FMT_COST,
    FMT_COUNT,
    FMT_COUNT_1DP,
    FMT_DATE,
    FMT_MONEY,
    FMT_PCT,
)

PREFORMATTED_ROWS = 1000
"""Rows below a header whose blank cells get the column's format too (a month of Daily rows
is about 500): Google Sheets keeps an imported cell's format, the xlsx adapter reads the
column's."""

DATE_HEADERS = frozenset({"date", "from", "to", "day", "latest data", "since", "opened", "closed"})
COUNT_1DP_HEADERS = frozenset({"conversions", "low", "high", "age, h"})
SHARE_HEADERS = frozenset({"unmapped share"})
COST_HEADERS = frozenset({"value", "threshold"})


def metric_format(header: str) -> str | None:
    """The format of a column named by a metric or a fixed header; None for text columns."""
    name = header.strip().lower()
    if name in DATE_HEADERS:
        return FMT_DATE
    if name in COUNT_1DP_HEADERS:
        return FMT_COUNT_1DP
    if name in SHARE_HEADERS:
        return FMT_PCT
    if name in COST_HEADERS:
        return FMT_COST
    if name in MONEY or name == "spend":
        return FMT_MONEY
    if name in _COUNT_NAMES:
        return FMT_COUNT
    return None


#: Whole counts: every fact metric that is not money, and Data Quality's row counts.
_COUNT_NAMES = frozenset(m for m in METRICS if m not in MONEY) | {
    "files",
    "rows read",
    "rows ok",
    "quarantined",
    "duplicates",
}


def plan_header_format(header: str) -> str | None:
    """A Plan-style header's format ("spend p", "leads %f", "cpa leads f"), for History."""
    from workbook_templates.plan_sheet import fmt_for_abs

    parts = header.strip().split(" ")
    if len(parts) < 2 or parts[-1] not in L.ABS_KINDS:
        return metric_format(header)
    metric, kind = " ".join(parts[:-1]), parts[-1]
    if " " in metric or metric.startswith(("cr", "cp", "ro")):
        return FMT_PCT if metric.startswith(("cr", "ro")) else FMT_COST
    return fmt_for_abs(metric, kind)


def format_columns(
    ws: Worksheet,
    header_row: int,
    rule: Callable[[str], str | None],
    first_col: int = 1,
    lang: str = "en",
) -> None:
    """Give each column under a header of `header_row` the format `rule` names for it, in
    `lang`'s form (``dd.mm.yyyy``, ``[$-419]``): the column itself and its existing General
    cells below the header."""
    for col in range(first_col, ws.max_column + 1):
        header = ws.cell(row=header_row, column=col).value
        fmt = rule(str(header)) if isinstance(header, str) else None
        if fmt is None:
            continue
        fmt = localized_format(fmt, lang)
        ws.column_dimensions[get_column_letter(col)].number_format = fmt
        last = max(ws.max_row, header_row + PREFORMATTED_ROWS)
        for row in range(header_row + 1, last + 1):
            cell = ws.cell(row=row, column=col)
            if cell.number_format == FORMAT_GENERAL and not isinstance(cell.value, str):
                cell.number_format = fmt


def format_filled_columns(wb: Workbook, lang: str = "en") -> None:
    """Format the columns of the sheets buttons fill (those present in `wb`), in `lang`."""
    plain = ((L.DAILY, 1), (L.DAILY_HISTORY, 1), (L.UNMAPPED, L.UNMAPPED_HEADER_ROW))
    for sheet, row in plain:
        if sheet in wb.sheetnames:
            format_columns(wb[sheet], row, metric_format, lang=lang)
    if L.HISTORY in wb.sheetnames:
        format_columns(wb[L.HISTORY], 3, plan_header_format, lang=lang)
    if L.CURVES in wb.sheetnames:
        format_columns(wb[L.CURVES], L.CURVES_HEADER_ROW, metric_format, lang=lang)
    if DRILL in wb.sheetnames:
        format_columns(wb[DRILL], DRILL_HEADER_ROW, drill_format, lang=lang)
    if ALERTS in wb.sheetnames:
        ws = wb[ALERTS]
        first = _incidents_col(ws)
        format_columns(ws, _alerts_header_row(ws), metric_format, first_col=first, lang=lang)


def _alerts_header_row(ws: Worksheet) -> int:
    for row in range(1, 10):
        if ws.cell(row=row, column=1).value == "rule":
            return row
    return 4


def _incidents_col(ws: Worksheet) -> int:
    """The first column of the Alerts incidents table (its "status" header)."""
    row = _alerts_header_row(ws)
    for col in range(1, ws.max_column + 1):
        if ws.cell(row=row, column=col).value == "status":
            return col
    return ws.max_column + 1
