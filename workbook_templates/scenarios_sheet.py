"""The Scenarios sheet: what-if budgets side by side, before the strategist decides.

For the user: at the top a key/value block (objective, min leads; yellow inputs). Below it the
inputs table, one scenario per row: a name, `budget` (a change like +20% that scales every
channel, or an amount), `moves` ("30% from Yandex Direct to Programmatic", several separated by
";"), `value per lead`, one column per channel (the month's amount or a change like -30%) and a
`status` the button writes. Rows 10 and 11 are fixed (the current plan and the Optimize Split
proposal, greyed); the user's rows follow, `SCENARIO_ROWS` rows in all. Input cells are text-
formatted so that "+20%" stays the text typed (not 0.2): amounts may arrive as text or numbers.

Below, the results (`RESULT_HEADERS`): per scenario a row per channel and a Total row (bold by
conditional formatting: the button writes values only); at their right the chart data: totals
(scenario, leads, ROMI) and points (per scenario a spend and a leads column, a row per channel).
Two charts drawn once by the template over reserved ranges: leads as bars with ROMI as a line
on a secondary axis; the Curves sheet's channel curves with each scenario's points as markers.

Written by the template (`write_scenarios_template`) and Compare Scenarios
(`ensure_scenarios_sheet` for an older workbook, `write_channel_columns` when the Plan's
channels changed, `write_scenario_results`). Read by Compare Scenarios (`read_scenarios`, raw
cells: no input is checked and no number computed here).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference, ScatterChart, Series
from openpyxl.chart.data_source import StrRef
from openpyxl.chart.marker import Marker
from openpyxl.chart.series import SeriesLabel, XYSeries
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.drawing.line import LineProperties
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from sheets_sync.workbooks.interface import WorkbookError, WorkbookTarget, column_letter
from sheets_sync.workbooks.roles import canonical_label
from workbook_templates import layout as L
from workbook_templates.cells import sheet_value
from workbook_templates.styles import (
    FILL_INPUT,
    FILL_OUTPUT,
    FILL_TOTAL,
    FMT_COUNT,
    FMT_COUNT_1DP,
    FMT_MONEY,
    FMT_PCT_WHOLE,
    FMT_TEXT,
    FMT_X,
    FONT_BOLD,
    FONT_NOTE,
    FONT_TITLE,
    header_cell,
    header_row,
)

# --- Layout --------------------------------------------------------------------------------

SCENARIOS = L.SCENARIOS
CURRENT, PROPOSAL = "current plan", L.SPLIT
"""The names of the two fixed scenarios (rows `CURRENT_ROW`, `PROPOSAL_ROW`)."""

TITLE = "Scenarios: what if the budget were split otherwise?"
NOTE = (
    "One scenario per row (yellow). A channel cell is the month's amount or a change like "
    "+20% / -30%; budget scales every channel (+20%); moves: e.g. 30% from Yandex Direct to "
    'Programmatic (several separated by ";"); value per lead: blank = the plan\'s revenue per '
    "lead per channel. Blank means unchanged from the current plan. Then run Compare Scenarios."
)

#: Settings block: headers in row 4, one item per row below.
SETTINGS_HEADER_ROW = 4
SETTINGS_HEADERS = ("item", "value", "help")
OBJECTIVE, MIN_LEADS = "objective", "min leads"
OBJECTIVES = ("leads", "value", "romi")
SETTINGS_ITEMS: tuple[tuple[str, Any, str], ...] = (
    (OBJECTIVE, "leads", "best scenario: leads (most leads), value (most revenue) or romi"),
    (MIN_LEADS, None, "with romi: the best ROMI among scenarios with at least this many leads"),
)
SETTINGS_FIRST_ROW = SETTINGS_HEADER_ROW + 1

#: Inputs table: header row, the two fixed rows, then the user's rows.
INPUT_HEADER_ROW = 9
SCENARIO, BUDGET, MOVES, VALUE_PER_LEAD = "scenario", "budget", "moves", "value per lead"
STATUS = "status"
INPUT_COLUMNS = (SCENARIO, BUDGET, MOVES, VALUE_PER_LEAD)
CURRENT_ROW = INPUT_HEADER_ROW + 1
PROPOSAL_ROW = CURRENT_ROW + 1
FIRST_USER_ROW = PROPOSAL_ROW + 1
SCENARIO_ROWS = 20  # rows of the inputs table (the fixed ones included), formatted and charted
LAST_INPUT_ROW = CURRENT_ROW + SCENARIO_ROWS - 1
FIXED_NOTES = {
    CURRENT_ROW: "fixed: the Plan's spend p as it is",
    PROPOSAL_ROW: "fixed: the last Optimize Split proposal",
}

#: Results table (written by Compare Scenarios), and the chart data at its right.
RESULTS_HEADER_ROW = LAST_INPUT_ROW + 3
RESULTS_FIRST_ROW = RESULTS_HEADER_ROW + 1
_COUNTS = ("leads", "leads low", "leads high", "purchases", "purchases low", "purchases high")
RESULT_HEADERS: tuple[str, ...] = (
    *("scenario", "channel", "spend", *_COUNTS),
    *("CPA", "CAC", "revenue", "ROAS", "ROMI", "Δ leads", "Δ ROMI", "best", "flags"),
)
FMT_SIGNED_COUNT = "+#,##0;-#,##0;0"
FMT_SIGNED_PCT_WHOLE = "+0%;-0%;0%"
RESULT_FORMATS: dict[str, str] = {
    "spend": FMT_MONEY,
    **dict.fromkeys(_COUNTS, FMT_COUNT),
    **dict.fromkeys(("CPA", "CAC", "revenue"), FMT_MONEY),
    "ROAS": FMT_X,
    "ROMI": FMT_PCT_WHOLE,
    "Δ leads": FMT_SIGNED_COUNT,
    "Δ ROMI": FMT_SIGNED_PCT_WHOLE,
}
TOTALS_HEADERS = ("scenario", "leads", "ROMI")
TOTALS_COL = 40  # column AN: the charts' data, clear of the results and of the two charts
POINTS_TITLE_ROW = RESULTS_HEADER_ROW - 1  # names each points slot's scenario (series titles)
POINTS_COL = TOTALS_COL + len(TOTALS_HEADERS) + 1
POINT_QUANTITIES = ("spend", "leads")
UNUSED_TITLE = " "
LABELS = {
    1: "Results (written by Compare Scenarios)",
    TOTALS_COL: "chart data: totals",
    POINTS_COL: "chart data: points",
}
READ_CHUNK = 100  # rows read at a time when finding how far an old results block reaches


def point_column(slot: int, quantity: str) -> int:
    """1-based column of `quantity` (spend, leads) of points slot `slot` (one per scenario)."""
    return POINTS_COL + 1 + len(POINT_QUANTITIES) * slot + POINT_QUANTITIES.index(quantity)


def _point_heads(names: Sequence[str | None]) -> list[list[str]]:
    """The points slots' title row (each slot's scenario over its columns; an unused slot gets
    `UNUSED_TITLE`: a blank one shows as "Column X" in LibreOffice's legend) and header row."""
    titles = [name or UNUSED_TITLE for name in names for _ in POINT_QUANTITIES]
    return [titles, [q for _ in names for q in POINT_QUANTITIES]]


def input_headers(channels: Sequence[str]) -> list[str]:
    """The inputs table's header row for `channels`."""
    return [*INPUT_COLUMNS, *channels, STATUS]


def plan_channels(lines: pd.DataFrame) -> list[str]:
    """The distinct channels of the Plan's lines, in order (as Optimize Split lists them)."""
    names = [str(c).strip() for c in lines["channel"].dropna().tolist()]
    return [c for c in dict.fromkeys(names) if c]


def example_rows(channels: Sequence[str]) -> list[dict[str, str]]:
    """The seed's example scenarios (header -> cell): +20% budget, and -30% on the first
    Direct/Context channel with +30% on the first Programmatic one when the Plan has both."""
    rows = [{SCENARIO: "+20% budget", BUDGET: "+20%"}]
    context = next((c for c in channels if "direct" in c.lower() or "context" in c.lower()), None)
    programmatic = next((c for c in channels if "programmatic" in c.lower()), None)
    if context is not None and programmatic is not None and context != programmatic:
        rows.append(
            {SCENARIO: "-30% Context, +30% Programmatic", context: "-30%", programmatic: "+30%"}
        )
    return rows


def _blocks(channels: Sequence[str]) -> list[tuple[int, int, list[list[Any]]]]:
    """Every cell a new sheet holds, as (row, column, block): the template's and
    `ensure_scenarios_sheet`'s content, so both stay the same."""
    headers = input_headers(channels)
    fixed = [
        [name, *[None] * (len(headers) - 2), FIXED_NOTES[row]]
        for name, row in ((CURRENT, CURRENT_ROW), (PROPOSAL, PROPOSAL_ROW))
    ]
    examples = [[ex.get(h) for h in headers] for ex in example_rows(channels)]
    settings = [list(SETTINGS_HEADERS), *[list(item) for item in SETTINGS_ITEMS]]
    return [
        (1, 1, [[TITLE]]),
        (2, 1, [[NOTE]]),
        (SETTINGS_HEADER_ROW, 1, settings),
        (INPUT_HEADER_ROW, 1, [headers, *fixed, *examples]),
        *[(POINTS_TITLE_ROW, col, [[label]]) for col, label in LABELS.items()],
        (RESULTS_HEADER_ROW, 1, [list(RESULT_HEADERS)]),
        (RESULTS_HEADER_ROW, TOTALS_COL, [list(TOTALS_HEADERS)]),
        (POINTS_TITLE_ROW, POINTS_COL + 1, _point_heads([None] * SCENARIO_ROWS)),
        (RESULTS_HEADER_ROW, POINTS_COL, [["channel"]]),
    ]


# --- Template ------------------------------------------------------------------------------


def _style_settings(ws: Worksheet) -> None:
    header_row(ws, SETTINGS_HEADER_ROW, SETTINGS_HEADERS)
    for r in range(SETTINGS_FIRST_ROW, SETTINGS_FIRST_ROW + len(SETTINGS_ITEMS)):
        ws.cell(row=r, column=1).font = FONT_BOLD
        ws.cell(row=r, column=2).fill = FILL_INPUT
        ws.cell(row=r, column=3).font = FONT_NOTE
    ws.cell(row=SETTINGS_FIRST_ROW + 1, column=2).number_format = FMT_COUNT
    dv = DataValidation(
        type="list",
        formula1='"' + ",".join(OBJECTIVES) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Scenarios objective",
        error=f"objective must be one of {', '.join(OBJECTIVES)}",
    )
    dv.add(f"B{SETTINGS_FIRST_ROW}")
    ws.add_data_validation(dv)


def _style_headers(ws: Worksheet, row: int, first: int, last: int) -> None:
    """Columns `first`..`last` of `row` (their text already written) as header cells."""
    for col in range(first, last + 1):
        header_cell(ws, row, col, str(ws.cell(row=row, column=col).value))


def _style_inputs(ws: Worksheet, width: int) -> None:
    """Header, the greyed fixed rows, the yellow text-formatted input cells, the status."""
    _style_headers(ws, INPUT_HEADER_ROW, 1, width)
    for row in range(CURRENT_ROW, LAST_INPUT_ROW + 1):
        fixed = row < FIRST_USER_ROW
        for col in range(1, width):
            c = ws.cell(row=row, column=col)
            c.fill = FILL_TOTAL if fixed else FILL_INPUT
            c.number_format = FMT_MONEY if col == 4 else FMT_TEXT
            if fixed and col == 1:
                c.font = FONT_BOLD
        ws.cell(row=row, column=width).fill = FILL_OUTPUT


def _style_results(ws: Worksheet, n_channels: int) -> None:
    """Headers, number formats of the rows a full run fills, bold grey Total rows."""
    for col in LABELS:
        ws.cell(row=POINTS_TITLE_ROW, column=col).font = FONT_BOLD
    _style_headers(ws, RESULTS_HEADER_ROW, 1, len(RESULT_HEADERS))
    _style_headers(ws, RESULTS_HEADER_ROW, TOTALS_COL, TOTALS_COL + len(TOTALS_HEADERS) - 1)
    _style_headers(ws, RESULTS_HEADER_ROW, POINTS_COL, point_column(SCENARIO_ROWS - 1, "leads"))
    last = RESULTS_FIRST_ROW + SCENARIO_ROWS * (max(n_channels, 1) + 1) - 1
    for row in range(RESULTS_FIRST_ROW, last + 1):
        for header, fmt in RESULT_FORMATS.items():
            ws.cell(row=row, column=RESULT_HEADERS.index(header) + 1).number_format = fmt
    end = get_column_letter(len(RESULT_HEADERS))
    grey = PatternFill("solid", fgColor=FILL_TOTAL.fgColor, bgColor=FILL_TOTAL.fgColor)
    is_total = f'$B{RESULTS_FIRST_ROW}="{L.TOTAL_LABEL}"'
    rule = FormulaRule(formula=[is_total], font=FONT_BOLD, fill=grey, stopIfTrue=False)
    ws.conditional_formatting.add(f"A{RESULTS_FIRST_ROW}:{end}{last}", rule)
    for row in range(RESULTS_FIRST_ROW, RESULTS_FIRST_ROW + SCENARIO_ROWS):
        ws.cell(row=row, column=TOTALS_COL + 1).number_format = FMT_COUNT
        ws.cell(row=row, column=TOTALS_COL + 2).number_format = FMT_PCT_WHOLE
    for slot in range(SCENARIO_ROWS):
        for q, fmt in zip(POINT_QUANTITIES, (FMT_MONEY, FMT_COUNT_1DP), strict=True):
            for row in range(RESULTS_FIRST_ROW, RESULTS_FIRST_ROW + max(n_channels, 1)):
                ws.cell(row=row, column=point_column(slot, q)).number_format = fmt


def _widths(ws: Worksheet, width: int) -> None:
    for letter, w in zip("ABCD", (30, 14, 34, 13), strict=True):
        ws.column_dimensions[letter].width = w
    for col in range(5, max(width, len(RESULT_HEADERS) + 1)):
        ws.column_dimensions[get_column_letter(col)].width = 13
    ws.column_dimensions[get_column_letter(width)].width = 40
    ws.column_dimensions[get_column_letter(len(RESULT_HEADERS))].width = 40
    ws.column_dimensions[get_column_letter(TOTALS_COL)].width = 30
    ws.row_dimensions[INPUT_HEADER_ROW].height = 30
    ws.row_dimensions[RESULTS_HEADER_ROW].height = 30


def write_scenarios_template(wb: Workbook, channels: Sequence[str]) -> None:
    """Add the Scenarios sheet for `channels` (the Plan's, in order) with its two charts; the
    channel curves come from the Curves sheet (`write_curves_template`), which must exist."""
    ws = wb.create_sheet(SCENARIOS)
    for row, col, block in _blocks(channels):
        for i, line in enumerate(block):
            for j, value in enumerate(line):
                ws.cell(row=row + i, column=col + j, value=value)
    ws["A1"].font = FONT_TITLE
    ws["A2"].font = FONT_NOTE
    ws["A2"].alignment = Alignment(vertical="top")
    width = len(input_headers(channels))
    _style_settings(ws)
    _style_inputs(ws, width)
    _style_results(ws, len(channels))
    _widths(ws, width)
    curves = wb[L.CURVES]
    slots = max(curves.max_column // len(L.CURVE_QUANTITIES) - len(L.CURVE_MARKER_SLOTS), 0)
    first_col = width + 2  # right of the inputs (and of their status column)
    ws.add_chart(scenarios_chart(ws), f"{get_column_letter(first_col)}{SETTINGS_HEADER_ROW}")
    second = _column_after(ws, first_col, SCENARIOS_CHART_CM[0] + 0.5)
    ws.add_chart(points_chart(ws, curves, slots), f"{get_column_letter(second)}1")


# --- Charts --------------------------------------------------------------------------------

SCENARIOS_CHART_CM = (16, 9.5)  # width, height
POINTS_CHART_CM = (24, 11)
#: Marker per scenario slot: the current plan grey, the proposal red, then a palette.
POINT_COLOURS = ("7F7F7F", "C00000", "2F5597", "548235", "BF9000", "7030A0", "00B0F0", "FF6600")
Symbol = Literal["circle", "diamond", "triangle", "square", "x", "star", "plus"]
POINT_SYMBOLS: tuple[Symbol, ...] = ("circle", "diamond", "triangle", "square", "x", "star", "plus")


def _column_after(ws: Worksheet, col: int, cm: float) -> int:
    """The first column right of a chart `cm` wide anchored at column `col`."""
    total = 0.0
    while total < cm:
        dim = ws.column_dimensions.get(get_column_letter(col))  # .get: no new dimension
        w = dim.width if dim is not None and dim.width else 8.43
        total += (w * 7 + 5) / 96 * 2.54
        col += 1
    return col


def scenarios_chart(ws: Worksheet) -> BarChart:
    """Total leads per scenario as bars, ROMI as a line on a secondary axis, over the totals
    block (`SCENARIO_ROWS` rows reserved)."""
    last = RESULTS_FIRST_ROW + SCENARIO_ROWS - 1
    bar = BarChart()
    bar.type = "col"
    bar.title = "Scenarios: leads and ROMI"
    bar.style = 10
    bar.width, bar.height = SCENARIOS_CHART_CM
    bar.add_data(
        Reference(ws, min_col=TOTALS_COL + 1, min_row=RESULTS_HEADER_ROW, max_row=last),
        titles_from_data=True,
    )
    bar.set_categories(Reference(ws, min_col=TOTALS_COL, min_row=RESULTS_FIRST_ROW, max_row=last))
    bar.y_axis.title = "leads per month"
    bar.y_axis.number_format = FMT_COUNT
    bar.y_axis.scaling.min = 0
    bar.x_axis.delete = False
    bar.y_axis.delete = False
    line = LineChart()
    line.add_data(
        Reference(ws, min_col=TOTALS_COL + 2, min_row=RESULTS_HEADER_ROW, max_row=last),
        titles_from_data=True,
    )
    romi = line.series[0]
    romi.graphicalProperties.line.solidFill = "C00000"
    romi.marker = Marker(symbol="circle", size=7, spPr=GraphicalProperties(solidFill="C00000"))
    line.y_axis.axId = 200
    line.y_axis.title = "ROMI"
    line.y_axis.number_format = FMT_PCT_WHOLE
    line.y_axis.majorGridlines = None
    line.y_axis.crosses = "max"
    line.y_axis.delete = False
    bar += line
    if bar.legend is not None:
        bar.legend.position = "b"
    return bar


def _xy_series(
    ws: Worksheet, cols: tuple[int, int], rows: tuple[int, int], title_row: int
) -> XYSeries:
    """Columns `cols` (x, y) over rows `rows` (first, last) of `ws`, titled by the y column's
    cell in `title_row`."""
    xs = Reference(ws, min_col=cols[0], min_row=rows[0], max_row=rows[1])
    ys = Reference(ws, min_col=cols[1], min_row=rows[0], max_row=rows[1])
    series = Series(ys, xs)
    title = f"{quote_sheetname(ws.title)}!${get_column_letter(cols[1])}${title_row}"
    series.tx = SeriesLabel(strRef=StrRef(title))
    return series


def _points_series(ws: Worksheet, slot: int, n_rows: int) -> XYSeries:
    """Points slot `slot`: one marker per channel at (spend, leads), titled by its scenario."""
    cols = (point_column(slot, "spend"), point_column(slot, "leads"))
    rows = (RESULTS_FIRST_ROW, RESULTS_FIRST_ROW + n_rows - 1)
    series = _xy_series(ws, cols, rows, POINTS_TITLE_ROW)
    colour = POINT_COLOURS[slot % len(POINT_COLOURS)]
    fill = GraphicalProperties(solidFill=colour, ln=LineProperties(solidFill=colour))
    series.marker = Marker(symbol=POINT_SYMBOLS[slot % len(POINT_SYMBOLS)], size=8, spPr=fill)
    series.graphicalProperties.line.noFill = True
    return series


def _curve_series(curves: Worksheet, slot: int, last: int) -> XYSeries:
    """Curves-sheet channel slot `slot` (2..) as a line: monthly spend -> expected leads."""
    cols = (L.curve_column(slot, "spend"), L.curve_column(slot, "conversions"))
    series = _xy_series(curves, cols, (L.CURVES_FIRST_ROW, last), L.CURVES_TITLE_ROW)
    series.marker = Marker(symbol="none")
    series.smooth = False
    return series


def points_chart(ws: Worksheet, curves: Worksheet, slots: int) -> ScatterChart:
    """The channel curves of the Curves sheet's `slots` channel slots, and per scenario slot
    (`SCENARIO_ROWS` reserved) its channels' points from the points block."""
    chart = ScatterChart()
    chart.title = "Channel curves and each scenario's points (leads per month vs spend)"
    chart.style = 13
    chart.width, chart.height = POINTS_CHART_CM
    chart.x_axis.title = "spend per month"
    chart.y_axis.title = "leads per month"
    chart.x_axis.number_format = FMT_MONEY
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    if chart.legend is not None:
        chart.legend.position = "r"
    last = L.CURVES_FIRST_ROW + max(L.CURVE_POINTS, slots) - 1
    first_slot = len(L.CURVE_MARKER_SLOTS)
    for slot in range(first_slot, first_slot + slots):
        chart.series.append(_curve_series(curves, slot, last))
    n_rows = max(slots, L.MIN_CURVE_SLOTS)
    for slot in range(SCENARIO_ROWS):
        chart.series.append(_points_series(ws, slot, n_rows))
    return chart


# --- Reading and writing at run time -------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


@dataclass(frozen=True)
class ScenarioRow:
    """One of the user's scenario rows, its cells raw as read (None for blank). `letters`:
    each header's column letter, for `ref`."""

    row: int
    name: Any
    budget: Any
    moves: Any
    value_per_lead: Any
    channels: dict[str, Any]
    letters: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def ref(self, column: str) -> str:
        """``"Scenarios!E12"``: where `column` (an input header or a channel) of this row is."""
        if column not in self.letters:
            raise WorkbookError(f"sheet `{SCENARIOS}` has no column `{column}`")
        return f"{SCENARIOS}!{self.letters[column]}{self.row}"


@dataclass(frozen=True)
class ScenarioInputs:
    """What the Scenarios sheet asks for: the objective and min leads with their cells, the
    channel columns in order, and the user's non-blank rows. `headers`: the inputs table's
    header row as read (where the status column is); `fixed_rows`: the rows of the current
    plan and the Optimize Split proposal."""

    objective: Any
    objective_ref: str
    min_leads: Any
    min_leads_ref: str
    channels: tuple[str, ...]
    rows: tuple[ScenarioRow, ...]
    headers: tuple[str, ...] = ()
    fixed_rows: tuple[int, ...] = (CURRENT_ROW, PROPOSAL_ROW)


def ensure_scenarios_sheet(wb: WorkbookTarget, channels: Sequence[str]) -> bool:
    """Add the Scenarios sheet with its headers, fixed rows and examples when the workbook
    predates it (staged; no charts or formats: only the template draws them). True if added."""
    if SCENARIOS in wb.sheet_names():
        return False
    wb.add_sheet(SCENARIOS)
    for row, col, block in _blocks(channels):
        wb.write_block(SCENARIOS, row, col, block)
    return True


def _read_settings(wb: WorkbookTarget) -> dict[str, tuple[Any, str]]:
    """Settings item (lower-case) -> (raw value, its cell); defaults' cells where missing."""
    out = {
        key: (None, f"{SCENARIOS}!B{SETTINGS_FIRST_ROW + i}")
        for i, (key, _, _) in enumerate(SETTINGS_ITEMS)
    }
    table = wb.read_table(SCENARIOS, header_row=SETTINGS_HEADER_ROW)
    for i, (key, value) in enumerate(zip(table.values("item"), table.values("value"), strict=True)):
        if isinstance(value, str):  # a code the catalog translates ("лиды") read as its id
            value = canonical_label(value)
        out[canonical_label(str(key)).lower()] = (value, table.cell_ref(i, "value"))
    return out


def _input_header(wb: WorkbookTarget) -> list[str]:
    """The inputs table's headers; a missing input column is a `WorkbookError` naming it."""
    table = wb.read_table(SCENARIOS, header_row=INPUT_HEADER_ROW)
    for h in INPUT_COLUMNS:
        table.column(h)
    return list(table.headers)


def read_scenarios(wb: WorkbookTarget) -> ScenarioInputs:
    """The settings and the user's scenario rows (rows `FIRST_USER_ROW`..`LAST_INPUT_ROW`; a
    row whose input cells are all blank is skipped), raw; columns found by their header."""
    settings = _read_settings(wb)
    headers = _input_header(wb)
    channels = tuple(h for h in headers if h not in INPUT_COLUMNS and h != STATUS)
    letters = {h: column_letter(i) for i, h in enumerate(headers, start=1)}
    n_rows = LAST_INPUT_ROW - FIRST_USER_ROW + 1
    grid = wb.read_cells(SCENARIOS, FIRST_USER_ROW, 1, n_rows, len(headers), formulas=False)
    rows = []
    for i, line in enumerate(grid):
        cells = dict(zip(headers, line, strict=False))
        if all(_blank(cells.get(h)) for h in (*INPUT_COLUMNS, *channels)):
            continue
        name, budget, moves, value = (cells.get(h) for h in INPUT_COLUMNS)
        by_channel = {c: cells.get(c) for c in channels}
        row = FIRST_USER_ROW + i
        rows.append(ScenarioRow(row, name, budget, moves, value, by_channel, letters))
    return ScenarioInputs(
        *settings[OBJECTIVE], *settings[MIN_LEADS], channels, tuple(rows), tuple(headers)
    )


def write_channel_columns(wb: WorkbookTarget, channels: Sequence[str]) -> None:
    """Rewrite the inputs table for `channels`: the input columns, one column per channel
    (inputs of channels that remain kept, others dropped), the status last; staged."""
    old = _input_header(wb)
    new = input_headers(channels)
    width = max(len(old), len(new))
    grid = wb.read_cells(SCENARIOS, CURRENT_ROW, 1, SCENARIO_ROWS, len(old), formulas=True)
    rows: list[list[Any]] = [[*new, *[None] * (width - len(new))]]
    for line in grid:
        cells = dict(zip(old, line, strict=False))
        rows.append([*(cells.get(h) for h in new), *[None] * (width - len(new))])
    wb.write_block(SCENARIOS, INPUT_HEADER_ROW, 1, rows)


def _used_rows(wb: WorkbookTarget, col: int, width: int) -> int:
    """How many rows from `RESULTS_FIRST_ROW` down a block `width` wide at `col` fills (up to
    its last non-blank row; read in chunks until a blank chunk)."""
    used, start = 0, RESULTS_FIRST_ROW
    while True:
        chunk = wb.read_cells(SCENARIOS, start, col, READ_CHUNK, width, formulas=False)
        filled = [i for i, line in enumerate(chunk) if any(not _blank(v) for v in line)]
        if not filled:
            return used
        used = start - RESULTS_FIRST_ROW + filled[-1] + 1
        start += READ_CHUNK


def _padded(rows: Sequence[Sequence[Any]], width: int, height: int) -> list[list[Any]]:
    """`rows` as cell values, each cut or padded to `width`, with blank rows up to `height`."""
    out = [[sheet_value(v) for v in [*row, *[None] * width][:width]] for row in rows]
    return out + [[None] * width for _ in range(height - len(out))]


def _write_points(
    wb: WorkbookTarget,
    channels: Sequence[str],
    points: Sequence[tuple[str, Sequence[tuple[float, float]]]],
) -> None:
    """The points block: each slot's scenario (row `POINTS_TITLE_ROW`) and headers, then per
    channel its spend and leads in each scenario's slot; unused slots and old rows cleared."""
    names: list[str | None] = [name for name, _ in points]
    names += [None] * (SCENARIO_ROWS - len(names))
    heads = _point_heads(names)
    wb.write_block(SCENARIOS, POINTS_TITLE_ROW, POINTS_COL + 1, heads)
    blank = (None,) * len(POINT_QUANTITIES)
    height = max([len(channels), *(len(pairs) for _, pairs in points)])
    rows = [
        [
            channels[i] if i < len(channels) else None,
            *(v for _, pairs in points for v in (pairs[i] if i < len(pairs) else blank)),
        ]
        for i in range(height)
    ]
    width = 1 + len(heads[0])
    block = _padded(rows, width, _used_rows(wb, POINTS_COL, width))
    if block:
        wb.write_block(SCENARIOS, RESULTS_FIRST_ROW, POINTS_COL, block)


def write_scenario_results(
    wb: WorkbookTarget,
    inputs: ScenarioInputs,
    statuses: Mapping[int, str],
    results: Sequence[Sequence[Any]],
    totals: Sequence[tuple[str, float | None, float | None]],
    points: Sequence[tuple[str, Sequence[tuple[float, float]]]],
) -> None:
    """Stage a run's output: each input row's status (rows without one cleared), the results
    table (rows in `RESULT_HEADERS` order), the totals of chart 1 and the points of chart 2;
    what an earlier run wrote beyond is cleared. NaN and inf become blanks. Does not save."""
    headers = list(inputs.headers) or _input_header(wb)
    status_col = headers.index(STATUS) + 1 if STATUS in headers else len(headers) + 1
    last = max(LAST_INPUT_ROW, *statuses.keys())
    column = [[sheet_value(statuses.get(r))] for r in range(CURRENT_ROW, last + 1)]
    wb.write_block(SCENARIOS, CURRENT_ROW, status_col, column)
    for col, width, rows in (
        (1, len(RESULT_HEADERS), results),
        (TOTALS_COL, len(TOTALS_HEADERS), totals),
    ):
        block = _padded(rows, width, _used_rows(wb, col, width))
        if block:
            wb.write_block(SCENARIOS, RESULTS_FIRST_ROW, col, block)
    _write_points(wb, inputs.channels, points)
