"""The Review sheet: the month's results against plan, why they differ, and the brief for Month+1.

For the user: at the top the rule (yellow inputs: what to compare, when a KPI is achieved, how
far a surprise is, how many performers to list, and the waterfall's channel and metric); beside
it the waterfall chart of the chosen channel's (or the total's) gap from plan to fact, bar by
bar (spend, CPC, each CR, revenue per purchase: `planning.variance`). Below, written by the
Review Month button: achieved vs missed per channel; top performers, underperformers and
surprises; the recommendations for Month+1 (Optimize Split's proposal, the attribution's
verdict); the **Brief** (budget and KPIs per channel) that New Month plans the next month to.

The waterfall is an ordinary stacked column chart: an invisible ``base`` series lifts the
``worse than plan`` (red) / ``better than plan`` (green) bars to where the running total stands,
``plan / fact`` are whole bars. A step goes to one of the two by whether it moved the metric the
good way, not by its sign: up is better for purchases and revenue, worse for CPA. The chart's
colours cannot follow the metric chosen in the drop-down (a chart's series colours are fixed;
invert-if-negative would colour by sign only, which is wrong for CPA), so the button writes each
step to the right series for its own metric (`review_rows.variance_rows`) and the colours stay
fixed. Its data are formulas (`chart_formulas`) that look up the chosen channel and metric in
the variance table the button writes at the right (`VAR_COL`), so choosing another channel in
the drop-down redraws the chart without the button. A running total below 0 (possible in the
middle of the bars, never at plan or fact) is drawn from 0.

Written by the template (`write_review_template`: the rule, the chart data formulas, the chart)
and by Review Month (`write_variance`, `write_blocks`). Read by Review Month (`read_rules`) and
New Month (`read_brief`). Texts are English msgids translated with the workbook's language
(catalog: ``locales/ru/review.po``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.utils import get_column_letter

from planning.brief import BriefLine
from planning.errors import InputError
from planning.funnel import Funnel
from planning.review import ReviewRules
from sheets_sync.cells import is_blank
from sheets_sync.workbooks.interface import WorkbookTarget
from sheets_sync.workbooks.roles import canonical_label
from workbook_templates import input_checks as checks
from workbook_templates.cells import to_number
from workbook_templates.styles import (
    FILL_INPUT,
    FMT_COUNT,
    FMT_INT,
    FMT_PCT_WHOLE,
    FONT_NOTE,
    FONT_TITLE,
    header_row,
)

REVIEW = "Review"
SETTINGS_ROW = 3  # header row of the rule block (item, value, help)
COMPARE_CODES = ("auto", "fact", "rr")
SETTINGS: tuple[tuple[str, Any, str], ...] = (
    (
        "compare with",
        "auto",
        "auto: the run-rate (month-end forecast) until the month is over, then the fact; "
        "or fact, or rr",
    ),
    (
        "achieved from",
        1.0,
        "a count is achieved at fact ÷ plan ≥ this, a cost (CPL, CPA) at plan ÷ fact ≥ this",
    ),
    ("surprise vs plan", 0.25, "a KPI this far from its plan, either way, is a surprise"),
    ("surprise vs last month", 0.25, "a KPI this far from last month, either way, is a surprise"),
    ("min count", 10, "a count below this on both sides is noise, never a surprise"),
    ("top", 3, "how many top performers and underperformers to list"),
    ("waterfall channel", "Total", "the channel the waterfall shows (Total: all channels)"),
    ("waterfall metric", None, "the outcome stage, revenue or CPA"),
)
_ROW = {key: SETTINGS_ROW + 1 + i for i, (key, _, _) in enumerate(SETTINGS)}
CHANNEL_CELL = f"$B${_ROW['waterfall channel']}"
METRIC_CELL = f"$B${_ROW['waterfall metric']}"

MAX_BARS = 16  # the chart's slots: plan, up to 14 parts, fact
CHART_COL = 27  # AA: the chart's data (formulas)
CHART_HEADERS = ("#", "bar", "base", "worse than plan", "better than plan", "plan / fact")
#: The chart's series colours: the two step series and the plan / fact bars.
WORSE_COLOUR, BETTER_COLOUR, END_COLOUR = "C00000", "70AD47", "4472C4"
CHANNELS_COL = CHART_COL + len(CHART_HEADERS)  # the waterfall channel drop-down's list
CHANNEL_SLOTS = 60
VAR_COL = CHANNELS_COL + 1  # the variance table the button writes
VAR_HEADERS = (
    "key",
    "channel",
    "metric",
    "#",
    "bar",
    "effect",
    "base",
    "worse than plan",
    "better than plan",
    "plan / fact",
    "note",
)
VAR_ROWS = 2000  # the lookups' extent
BLOCKS_ROW = 27  # the button's blocks start below the rule and the chart
BLOCKS_WIDTH = 22
BRIEF_TITLE = "Brief for next month"
BRIEF_HEADERS = ("channel", "budget", "leads", "CPL", "{outcome}", "CPA", "basis")

NOTE = (
    "Press Review Month to fill it. The waterfall follows the channel and metric chosen above; "
    "the Brief below is what New Month plans next month to (delete it to copy this month)."
)


def col(n: int) -> str:
    return get_column_letter(n)


def _lookup(key: str, column: int) -> str:
    keys = f"${col(VAR_COL)}${SETTINGS_ROW + 1}:${col(VAR_COL)}${SETTINGS_ROW + VAR_ROWS}"
    values = f"${col(column)}${SETTINGS_ROW + 1}:${col(column)}${SETTINGS_ROW + VAR_ROWS}"
    return f'=IF(ISNA(MATCH({key},{keys},0)),"",INDEX({values},MATCH({key},{keys},0)))'


def chart_formulas(row: int) -> list[Any]:
    """The chart data row `row`: its slot number, then the bar's label and its four series
    looked up by ``channel|metric|slot`` in the variance table ("" when the slot is unused)."""
    slot = row - SETTINGS_ROW
    key = f'{CHANNEL_CELL}&"|"&{METRIC_CELL}&"|"&{col(CHART_COL)}{row}'
    bar = VAR_HEADERS.index("bar")
    return [slot, *(_lookup(key, VAR_COL + bar + k) for k in (0, 2, 3, 4, 5))]


def write_review_template(wb: Workbook, funnel: Funnel) -> None:
    """Add the Review sheet: title, the rule with its drop-downs and checks, the chart data and
    the waterfall chart, the variance table's headers."""
    ws = wb.create_sheet(REVIEW)
    ws["A1"] = REVIEW
    ws["A1"].font = FONT_TITLE
    ws["A2"] = NOTE
    ws["A2"].font = FONT_NOTE
    header_row(ws, SETTINGS_ROW, ("item", "value", "help"))
    outcome = funnel.names[-1]
    for key, default, help_text in SETTINGS:
        r = _ROW[key]
        ws.cell(row=r, column=1, value=key)
        value = ws.cell(row=r, column=2, value=outcome if key == "waterfall metric" else default)
        value.fill = FILL_INPUT
        ws.cell(row=r, column=3, value=help_text)
    for key in ("achieved from", "surprise vs plan", "surprise vs last month"):
        ws.cell(row=_ROW[key], column=2).number_format = FMT_PCT_WHOLE
    ws.cell(row=_ROW["top"], column=2).number_format = FMT_INT
    ws.cell(row=_ROW["min count"], column=2).number_format = FMT_COUNT
    dvs = [
        checks.choice(f"B{_ROW['compare with']}", COMPARE_CODES, "compare with"),
        checks.choice(METRIC_CELL.replace("$", ""), (outcome, "revenue", "CPA"), "metric"),
        checks.choice(
            CHANNEL_CELL.replace("$", ""),
            f"${col(CHANNELS_COL)}${SETTINGS_ROW + 1}:"
            f"${col(CHANNELS_COL)}${SETTINGS_ROW + CHANNEL_SLOTS}",
            "channel",
        ),
        checks.whole(f"B{_ROW['top']}", 0, 50, "top", "a whole number from 0 to 50"),
    ]
    for key in ("achieved from", "surprise vs plan", "surprise vs last month", "min count"):
        dvs.append(checks.at_least(f"B{_ROW[key]}", 0, key, "a number ≥ 0"))
    for dv in dvs:
        ws.add_data_validation(dv)
    header_row(ws, SETTINGS_ROW, CHART_HEADERS, first_col=CHART_COL)
    header_row(ws, SETTINGS_ROW, ("channels",), first_col=CHANNELS_COL)
    header_row(ws, SETTINGS_ROW, VAR_HEADERS, first_col=VAR_COL)
    for r in range(SETTINGS_ROW + 1, SETTINGS_ROW + 1 + MAX_BARS):
        for j, value in enumerate(chart_formulas(r)):
            c = ws.cell(row=r, column=CHART_COL + j, value=value)
            c.number_format = FMT_COUNT if j >= 2 else c.number_format
    ws.add_chart(_chart(ws), "E3")
    ws.column_dimensions["A"].width = 24


def _chart(ws: Any) -> BarChart:
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.title = "Waterfall: plan to fact"
    first, last = SETTINGS_ROW, SETTINGS_ROW + MAX_BARS
    data = Reference(ws, min_col=CHART_COL + 2, max_col=CHART_COL + 5, min_row=first, max_row=last)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=CHART_COL + 1, min_row=first + 1, max_row=last))
    base = chart.series[0]
    base.graphicalProperties.noFill = True
    base.graphicalProperties.line.noFill = True
    colours = (WORSE_COLOUR, BETTER_COLOUR, END_COLOUR)
    for series, colour in zip(chart.series[1:], colours, strict=True):
        series.graphicalProperties.solidFill = colour
        series.graphicalProperties.line.solidFill = colour
    chart.legend.position = "b"
    chart.height, chart.width = 10, 22
    return chart


# --------------------------------------------------------------------------- reading


def read_rules(wb: WorkbookTarget) -> tuple[str, ReviewRules]:
    """(compare with, the rule) as typed on the sheet (blank: the default); a bad cell raises an
    `InputError` naming it."""
    cells = wb.read_cells(REVIEW, SETTINGS_ROW + 1, 1, len(SETTINGS), 2, formulas=False)
    typed = {canonical_label(str(k or "")).lower(): v for k, v in cells}
    defaults = {key: default for key, default, _ in SETTINGS}

    def number(key: str) -> float:
        raw = typed.get(key)
        v = to_number(raw, f"{REVIEW}!B{_ROW[key]}", key)
        return float(defaults[key]) if math.isnan(v) else v

    compare = str(typed.get("compare with") or "auto").strip().lower()
    if compare not in COMPARE_CODES:
        raise InputError(
            f"is not one of {', '.join(COMPARE_CODES)}",
            line=f"{REVIEW}!B{_ROW['compare with']}",
            column="compare with",
            value=typed.get("compare with"),
        )
    try:
        rules = ReviewRules(
            achieved_from=number("achieved from"),
            surprise_vs_plan=number("surprise vs plan"),
            surprise_vs_last=number("surprise vs last month"),
            min_count=number("min count"),
            top=int(number("top")),
        )
    except InputError as error:
        raise InputError(f"{error} (sheet `{REVIEW}`, rows {SETTINGS_ROW + 1}-)") from error
    return compare, rules


@dataclass(frozen=True)
class BriefTargets:
    """The Brief as New Month reads it: per channel budget, leads and outcome."""

    lines: tuple[BriefLine, ...]
    where: str


def _find_brief(wb: WorkbookTarget, rows: int = 400) -> int | None:
    cells = wb.read_cells(REVIEW, BLOCKS_ROW, 1, rows, 1, formulas=False)
    for i, (value,) in enumerate(cells):
        if isinstance(value, str) and canonical_label(value) == BRIEF_TITLE:
            return BLOCKS_ROW + i
    return None


def read_brief(wb: WorkbookTarget) -> BriefTargets | None:
    """The Brief block (its title row, then headers, then one row per channel until a blank or
    Total); None when the workbook has no Review sheet or no Brief. Budget, leads and the outcome
    are read (CPL and CPA follow from them); a bad number raises an `InputError` naming the cell."""
    if REVIEW not in wb.sheet_names():
        return None
    title = _find_brief(wb)
    if title is None:
        return None
    n = len(BRIEF_HEADERS)
    cells = wb.read_cells(REVIEW, title + 2, 1, CHANNEL_SLOTS, n, formulas=False)
    out = []
    for i, line in enumerate(cells):
        if is_blank(line[0]) or canonical_label(str(line[0])) == "Total":
            break
        row = title + 2 + i
        values = []
        for j in (1, 2, 4):
            where = f"{REVIEW}!{col(1 + j)}{row}"
            v = to_number(line[j], where, BRIEF_HEADERS[j])
            if v < 0:
                raise InputError("must not be negative", line=where, value=line[j])
            values.append(v)
        budget, leads, outcome = values
        out.append(BriefLine(str(line[0]).strip(), budget, leads, outcome, "brief"))
    return BriefTargets(tuple(out), f"{REVIEW}!A{title}") if out else None


# --------------------------------------------------------------------------- writing


def write_channels(wb: WorkbookTarget, channels: Sequence[str]) -> None:
    """The waterfall channel drop-down's list (cleared below)."""
    block: list[list[str | None]] = [[c] for c in channels[:CHANNEL_SLOTS]]
    block += [[None]] * (CHANNEL_SLOTS - len(block))
    wb.write_block(REVIEW, SETTINGS_ROW + 1, CHANNELS_COL, block)


def _extent(wb: WorkbookTarget, row: int, column: int, limit: int) -> int:
    """Rows from `row` down to the last non-blank cell of `column` (0 when none)."""
    cells = wb.read_cells(REVIEW, row, column, limit, 1)
    last = 0
    for i, (value,) in enumerate(cells):
        if not is_blank(value):
            last = i + 1
    return last


def write_variance(wb: WorkbookTarget, rows: Sequence[Sequence[Any]]) -> None:
    """The variance table (rows of `VAR_HEADERS`), clearing the old one's rest."""
    if len(rows) > VAR_ROWS:
        raise InputError(f"the variance table has {len(rows)} rows; the chart reads {VAR_ROWS}")
    old = _extent(wb, SETTINGS_ROW + 1, VAR_COL, VAR_ROWS)
    width = len(VAR_HEADERS)
    block = [list(r) + [None] * (width - len(r)) for r in rows]
    block += [[None] * width for _ in range(max(0, old - len(rows)))]
    if block:
        wb.write_block(REVIEW, SETTINGS_ROW + 1, VAR_COL, block)


def write_blocks(
    wb: WorkbookTarget,
    rows: Sequence[Sequence[Any]],
    formats: Sequence[Sequence[str | None]] | None = None,
) -> None:
    """The button's blocks from `BLOCKS_ROW` down in column A on (clearing the old ones' rest);
    `formats` per cell where the adapter can set number formats (the .xlsx file)."""
    old = _extent(wb, BLOCKS_ROW, 1, 600)
    block = [list(r) + [None] * (BLOCKS_WIDTH - len(r)) for r in rows]
    block += [[None] * BLOCKS_WIDTH for _ in range(max(0, old - len(rows)))]
    wb.write_block(REVIEW, BLOCKS_ROW, 1, block)
    apply = getattr(wb, "write_number_formats", None)
    if formats is not None and apply is not None:
        apply(REVIEW, BLOCKS_ROW, 1, formats)
