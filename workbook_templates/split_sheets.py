"""The Optimize Split sheets of the planning workbook: Optimize Split, Curves, Split Undo.

- **Optimize Split**: a key/value block (inputs: objective, budget, step, max change; then what
  the last run found), and one row per channel: inputs the user types (min, max, locked, CPA
  cap, value per conversion) and the proposal written by Optimize Split (current, proposed,
  expected conversions with their band, marginal CPA, confidence, flags). Δ, Δ% and the Total
  row are formulas. A scatter chart of the response curves sits to the right of the table.
- **Curves**: the chart's data: per channel a grid of monthly spends and the expected
  conversions (with the band), plus the current and proposed points. The template reserves one
  series slot per channel (at least `layout.MIN_CURVE_SLOTS` when there are no lines yet).
- **Split Undo** (hidden): what Apply Split replaced, so Undo Split restores it exactly.
"""

from __future__ import annotations

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.chart.data_source import StrRef
from openpyxl.chart.series import SeriesLabel
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.worksheet import Worksheet

from workbook_templates import layout as L

FMT_MONEY = "#,##0"
FMT_COUNT = "#,##0.0"
FMT_COST = "#,##0.00"
FMT_PCT = "0.0%"

FILL_HEADER = PatternFill("solid", fgColor="1F3864")
FILL_GROUP = PatternFill("solid", fgColor="D9E1F2")
FILL_INPUT = PatternFill("solid", fgColor="FFF2CC")
FILL_OUTPUT = PatternFill("solid", fgColor="E2EFDA")
FILL_TOTAL = PatternFill("solid", fgColor="EDEDED")
FONT_HEADER = Font(bold=True, color="FFFFFF")
FONT_BOLD = Font(bold=True)
FONT_TITLE = Font(bold=True, size=14)
FONT_NOTE = Font(italic=True, color="595959")

#: Number format per Optimize Split column.
SPLIT_FORMATS: dict[str, str] = {
    L.SPLIT_MIN: FMT_MONEY,
    L.SPLIT_MAX: FMT_MONEY,
    L.SPLIT_LOCKED: "@",
    L.SPLIT_CPA_CAP: FMT_COST,
    L.SPLIT_VALUE: FMT_COST,
    L.SPLIT_CURRENT: FMT_MONEY,
    L.SPLIT_PROPOSED: FMT_MONEY,
    L.SPLIT_DELTA: "+#,##0;-#,##0;0",
    L.SPLIT_DELTA_PCT: "+0.0%;-0.0%;0.0%",
    L.SPLIT_CONV_NOW: FMT_COUNT,
    L.SPLIT_EXPECTED: FMT_COUNT,
    L.SPLIT_LOW: FMT_COUNT,
    L.SPLIT_HIGH: FMT_COUNT,
    L.SPLIT_MARGINAL_CPA: FMT_COST,
}
#: Number format per info-block item (the rest: General).
INFO_FORMATS: dict[str, str] = {
    L.SPLIT_BUDGET: FMT_MONEY,
    L.SPLIT_STEP: FMT_MONEY,
    L.SPLIT_MAX_CHANGE: "0%",
    "days": "0",
    "budget used": FMT_MONEY,
    "current spend": FMT_MONEY,
    "proposed spend": FMT_MONEY,
    "conversions now": FMT_COUNT,
    "expected conversions": FMT_COUNT,
    "uplift": "+#,##0.0;-#,##0.0;0.0",
    "uplift %": "+0.0%;-0.0%;0.0%",
    "value now": FMT_MONEY,
    "expected value": FMT_MONEY,
    "marginal return": "0.000E+00",
}
FORMATTED_ROWS = 40  # channel rows pre-formatted below the header (more are written plain)


def split_letter(header: str) -> str:
    """Column letter of an Optimize Split header in the template's order."""
    return get_column_letter(L.SPLIT_HEADERS.index(header) + 1)


def _header(ws: Worksheet, row: int, col: int, text: str) -> None:
    c = ws.cell(row=row, column=col, value=text)
    c.font = FONT_HEADER
    c.fill = FILL_HEADER
    c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _channels(lines: pd.DataFrame) -> list[str]:
    return [str(c) for c in dict.fromkeys(lines["channel"].dropna().tolist()) if str(c).strip()]


def write_split_sheets(
    wb: Workbook, month_label: str, lines: pd.DataFrame, inputs: pd.DataFrame | None = None
) -> None:
    """Add Optimize Split, Curves and the hidden Split Undo sheet to `wb`.

    `lines`: the Plan's lines (a ``channel`` column; one Optimize Split row per distinct
    channel, in order). `inputs`: optional per-channel inputs (``channel`` and any of
    `layout.SPLIT_INPUTS`), e.g. carried over from last month.
    """
    channels = _channels(lines)
    ws = wb.create_sheet(L.SPLIT)
    ws["A1"] = f"Optimize Split — {month_label}"
    ws["A1"].font = FONT_TITLE
    ws["A2"] = (
        "Type the inputs (yellow), run Optimize Split (funnelplan optimize), check the proposal "
        "and the curves, then Apply Split; nothing in the Plan changes before Apply, and Undo "
        "Split restores it. Amounts are for the month."
    )
    ws["A2"].font = FONT_NOTE
    for i, h in enumerate(L.SPLIT_INFO_HEADERS, start=1):
        _header(ws, L.SPLIT_INFO_HEADER_ROW, i, h)
    defaults = {
        L.SPLIT_OBJECTIVE: "leads",
        L.SPLIT_BUDGET: None,
        L.SPLIT_STEP: 1000,
        L.SPLIT_MAX_CHANGE: L.SPLIT_MAX_CHANGE_DEFAULT,
    }
    items = [*L.SPLIT_INFO_INPUTS, *L.SPLIT_INFO_OUTPUTS]
    for r, (key, help_text) in enumerate(items, start=L.SPLIT_INFO_FIRST_ROW):
        ws.cell(row=r, column=1, value=key).font = FONT_BOLD
        value = ws.cell(row=r, column=2, value=defaults.get(key))
        value.fill = FILL_INPUT if key in defaults else FILL_OUTPUT
        value.number_format = INFO_FORMATS.get(key, "General")
        ws.cell(row=r, column=3, value=help_text).font = FONT_NOTE

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
        _header(ws, L.SPLIT_HEADER_ROW, i, h)

    given: dict[str, dict[str, object]] = {}
    if inputs is not None and len(inputs):
        given = {
            str(r["channel"]): {str(k): v for k, v in r.items()} for r in inputs.to_dict("records")
        }
    first_row = L.SPLIT_FIRST_ROW
    for i in range(max(FORMATTED_ROWS, len(channels) + 1)):
        row = first_row + i
        for h, fmt in SPLIT_FORMATS.items():
            cell = ws.cell(row=row, column=L.SPLIT_HEADERS.index(h) + 1)
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
        for h, formula in L.split_row_formulas(row, split_letter).items():
            ws[f"{split_letter(h)}{row}"] = formula
    total_row = first_row + len(channels)
    ws.cell(row=total_row, column=1, value=L.TOTAL_LABEL)
    for h, formula in L.split_total_formulas(
        total_row, first_row, total_row - 1, split_letter
    ).items():
        ws[f"{split_letter(h)}{total_row}"] = formula
    for col in range(1, len(L.SPLIT_HEADERS) + 1):
        ws.cell(row=total_row, column=col).font = FONT_BOLD
        ws.cell(row=total_row, column=col).fill = FILL_TOTAL
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 30
    ws.column_dimensions["C"].width = 14
    for col in range(4, len(L.SPLIT_HEADERS)):
        ws.column_dimensions[get_column_letter(col)].width = 12
    ws.column_dimensions[split_letter(L.SPLIT_FLAGS)].width = 48
    ws.row_dimensions[L.SPLIT_HEADER_ROW].height = 30
    ws.freeze_panes = ws.cell(row=first_row, column=2)

    slots = len(channels) if channels else L.MIN_CURVE_SLOTS
    curves = _write_curves(wb, slots)
    chart = response_chart(curves, slots)
    # beside the info block, above the table (which grows downwards, never into it)
    ws.add_chart(chart, f"{split_letter(L.SPLIT_DELTA_PCT)}{L.SPLIT_INFO_HEADER_ROW}")

    undo = wb.create_sheet(L.SPLIT_UNDO)
    undo.sheet_state = "hidden"
    for i, h in enumerate(L.UNDO_HEADERS, start=1):
        _header(undo, 1, i, h)


def _write_curves(wb: Workbook, slots: int) -> Worksheet:
    ws = wb.create_sheet(L.CURVES)
    titles = [*L.CURVE_MARKER_SLOTS, *[""] * slots]
    for slot, title in enumerate(titles):
        for q in L.CURVE_QUANTITIES:
            col = L.curve_column(slot, q)
            ws.cell(row=L.CURVES_TITLE_ROW, column=col, value=title or None).font = FONT_BOLD
            _header(ws, L.CURVES_HEADER_ROW, col, q)
            ws.column_dimensions[get_column_letter(col)].width = 11
    return ws


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
    chart.x_axis.number_format = "#,##0"
    if chart.legend is not None:
        chart.legend.position = "b"
    rows = max(L.CURVE_POINTS, slots)
    last = L.CURVES_FIRST_ROW + rows - 1
    sheet = quote_sheetname(L.CURVES)
    for slot in range(len(L.CURVE_MARKER_SLOTS) + slots):
        x_col = L.curve_column(slot, "spend")
        y_col = L.curve_column(slot, "conversions")
        xs = Reference(ws, min_col=x_col, min_row=L.CURVES_FIRST_ROW, max_row=last)
        ys = Reference(ws, min_col=y_col, min_row=L.CURVES_FIRST_ROW, max_row=last)
        series = Series(ys, xs)
        title = f"{sheet}!${get_column_letter(y_col)}${L.CURVES_TITLE_ROW}"
        series.tx = SeriesLabel(strRef=StrRef(title))
        if slot < len(L.CURVE_MARKER_SLOTS):
            series.marker.symbol = "circle" if slot == 0 else "diamond"
            series.marker.size = 8
            colour = "7F7F7F" if slot == 0 else "C00000"
            series.marker.graphicalProperties = GraphicalProperties(solidFill=colour)
            series.marker.graphicalProperties.line.solidFill = colour
            series.graphicalProperties.line.noFill = True
        else:
            series.marker.symbol = "none"
            series.smooth = False
        chart.series.append(series)
    return chart
