"""The Curves sheet: the data of the response-curve chart on the Optimize Split sheet.

For the user (rarely read directly): series slots of four columns (spend, conversions, low,
high; `layout.curve_column`), row 1 naming the slot, row 2 the quantities, data from row 3.
Slot 0 holds the current split's points, slot 1 the proposal's (one row per channel), slots
2.. one channel's expected conversions per month on a grid of monthly spends, with the band.

Written by the template (`write_curves_template`: one slot per channel, at least
`layout.MIN_CURVE_SLOTS` when there are no lines yet; `response_chart` draws over it) and by
Optimize Split (`write_curves`). Optimize Split reads how many slots the chart has
(`curve_slots`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.chart.data_source import StrRef
from openpyxl.chart.series import SeriesLabel, XYSeries
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.worksheet import Worksheet

from sheets_sync.i18n import Translator, translator
from sheets_sync.workbooks.interface import WorkbookError, WorkbookTarget
from sheets_sync.workbooks.roles import language_of
from workbook_templates import layout as L
from workbook_templates.cells import cell
from workbook_templates.styles import FMT_MONEY, FONT_BOLD, header_cell

ENGLISH = translator("en")
#: Marker colours: the current split grey, the proposal red.
MARKER_COLOURS = ("7F7F7F", "C00000")
MARKER_SYMBOLS = ("circle", "diamond")


def write_curves_template(wb: Workbook, slots: int) -> Worksheet:
    """Add the Curves sheet with the marker slots and `slots` channel slots (titles blank)."""
    ws = wb.create_sheet(L.CURVES)
    titles = [*L.CURVE_MARKER_SLOTS, *[""] * slots]
    for slot, title in enumerate(titles):
        for q in L.CURVE_QUANTITIES:
            col = L.curve_column(slot, q)
            ws.cell(row=L.CURVES_TITLE_ROW, column=col, value=title or None).font = FONT_BOLD
            header_cell(ws, L.CURVES_HEADER_ROW, col, q)
            ws.column_dimensions[get_column_letter(col)].width = 11
    return ws


def _series(ws: Worksheet, slot: int, last: int) -> XYSeries:
    """Slot `slot`'s series: spend → conversions, titled by the slot's row-1 cell."""
    x_col = L.curve_column(slot, "spend")
    y_col = L.curve_column(slot, "conversions")
    xs = Reference(ws, min_col=x_col, min_row=L.CURVES_FIRST_ROW, max_row=last)
    ys = Reference(ws, min_col=y_col, min_row=L.CURVES_FIRST_ROW, max_row=last)
    series = Series(ys, xs)
    title = f"{quote_sheetname(L.CURVES)}!${get_column_letter(y_col)}${L.CURVES_TITLE_ROW}"
    series.tx = SeriesLabel(strRef=StrRef(title))
    if slot < len(L.CURVE_MARKER_SLOTS):
        series.marker.symbol = MARKER_SYMBOLS[slot]
        series.marker.size = 8
        colour = MARKER_COLOURS[slot]
        series.marker.graphicalProperties = GraphicalProperties(solidFill=colour)
        series.marker.graphicalProperties.line.solidFill = colour
        series.graphicalProperties.line.noFill = True
    else:
        series.marker.symbol = "none"
        series.smooth = False
    return series


def response_chart(ws: Worksheet, slots: int) -> ScatterChart:
    """A scatter chart over the Curves sheet: one line per channel slot (monthly spend →
    expected conversions) and the current and proposed points as markers."""
    chart = ScatterChart()
    chart.title = "Response curves: expected conversions per month vs spend"
    chart.style = 13
    chart.height, chart.width = 9.5, 19
    chart.x_axis.title = "spend per month"
    chart.y_axis.title = "conversions per month"
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.x_axis.number_format = FMT_MONEY
    if chart.legend is not None:
        chart.legend.position = "b"
    last = L.CURVES_FIRST_ROW + max(L.CURVE_POINTS, slots) - 1
    for slot in range(len(L.CURVE_MARKER_SLOTS) + slots):
        chart.series.append(_series(ws, slot, last))
    return chart


def curve_slots(wb: WorkbookTarget) -> int:
    """Channel series slots the Curves sheet's chart reserves (0 when it has no headers)."""
    try:
        headers = wb.read_table(L.CURVES, header_row=L.CURVES_HEADER_ROW).headers
    except WorkbookError:  # a fresh, empty sheet
        return 0
    return max(len(headers) // len(L.CURVE_QUANTITIES) - len(L.CURVE_MARKER_SLOTS), 0)


def _titles(
    n_slots: int, channels: Sequence[str], t: Translator = ENGLISH
) -> tuple[list[Any], list[Any]]:
    """Rows 1 and 2: each slot's title (marker name, channel or blank) and the quantities; the
    marker names and the quantities in `t`'s language (as the template's post-pass wrote
    them), a channel as written."""
    width = len(L.CURVE_QUANTITIES)
    titles: list[Any] = []
    headers: list[Any] = []
    for slot in range(n_slots):
        if slot < len(L.CURVE_MARKER_SLOTS):
            title: str | None = t(L.CURVE_MARKER_SLOTS[slot])
        else:
            j = slot - len(L.CURVE_MARKER_SLOTS)
            title = channels[j] if j < len(channels) else None
        titles += [title] * width
        headers += [t(q) for q in L.CURVE_QUANTITIES]
    return titles, headers


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
    t = translator(language_of(wb))
    wb.write_block(L.CURVES, L.CURVES_TITLE_ROW, 1, list(_titles(n_slots, channels, t)))
    block: list[list[Any]] = [[None] * (n_slots * width) for _ in range(height)]
    columns: list[Sequence[Sequence[Any]] | None] = [*markers, *curves]
    for slot, data in enumerate(columns):
        if data is None:
            continue
        for i, point in enumerate(data):
            for q, value in enumerate(point):
                block[i][slot * width + q] = cell(value, 4)
    wb.write_block(L.CURVES, L.CURVES_FIRST_ROW, 1, block)
