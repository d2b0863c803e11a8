"""The Executive sheet: the month on one printed page, by channel.

For the user: per channel the plan, fact, run-rate and run-rate % of plan of spend, leads,
purchases and revenue (those the funnel has), and the plan / fact / run-rate of the key cost
ratios and ROMI; a Total row; a bar chart of the chart metric by channel (plan vs fact vs
run-rate) and, beside it, the cumulative pace chart drawn from the Pace sheet.

Written once by the template (`write_executive_template`): every cell is a formula over the
Plan sheet (SUMIF by channel; the Total row points at the Plan's Total row; ratios recomputed
from the summed absolutes), so no button writes it. Read by no button: it is for people.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from planning.funnel import Funnel
from workbook_templates import layout as L
from workbook_templates.cells import quotient
from workbook_templates.plan_sheet import (
    PlanColumns,
    PlanExtent,
    fmt_for_abs,
    fmt_for_ratio,
    ratio_parts,
)
from workbook_templates.styles import FMT_DATE, FMT_PCT, FONT_TITLE, header_row, total_row_style

#: Per metric: the Plan's value columns summed by channel, then run-rate % of plan.
SUMMED_KINDS = ("p", "f", "rr")


@dataclass(frozen=True)
class ExecutiveSheet:
    """The written Executive sheet: where its rows end, so charts go below them."""

    ws: Worksheet
    total_row: int

    @property
    def chart_row(self) -> int:
        return self.total_row + 3

    def place_pace_chart(self, chart: LineChart) -> None:
        """Put the Pace chart to the right of the bar chart."""
        self.ws.add_chart(chart, f"J{self.chart_row}")


@dataclass(frozen=True)
class _Columns:
    metrics: list[str]
    ratios: list[str]
    headers: list[str]
    cols: PlanColumns


def _columns(funnel: Funnel) -> _Columns:
    """The sheet's metrics (of `layout.EXEC_METRICS`), ratios (the second stage's CPA or CPC,
    the last stage's CPA, ROMI: those the funnel has) and headers."""
    metrics = [m for m in L.EXEC_METRICS if m in funnel.metrics]
    last = funnel.names[-1]
    ratios = [
        r
        for r in (
            f"cpa_{funnel.names[1]}" if len(funnel.names) > 1 else "cpc",
            f"cpa_{last}",
            "romi",
        )
        if r in funnel.ratio_names()
    ]
    headers = ["channel"]
    for m in metrics:
        headers += [L.abs_header(m, k) for k in (*SUMMED_KINDS, "%rr")]
    for r in ratios:
        headers += [L.ratio_header(r, k) for k in L.RATIO_KINDS]
    return _Columns(metrics, ratios, headers, PlanColumns(headers))


def _write_sums(
    ws: Worksheet, ec: _Columns, channels: list[str], plan: PlanExtent, total_row: int
) -> None:
    """Channel rows: SUMIF over the Plan's lines; the Total row: the Plan's Total row (the sum
    of every line, whatever its channel)."""
    key_range = f"{L.PLAN}!$A${plan.first_row}:$A${plan.last_line}"
    for row, channel in enumerate(channels, start=L.EXEC_FIRST_ROW):
        ws.cell(row=row, column=1, value=channel)
        for m in ec.metrics:
            for k in SUMMED_KINDS:
                col = plan.cols[L.abs_header(m, k)]
                c = ws[f"{ec.cols[L.abs_header(m, k)]}{row}"]
                c.value = (
                    f"=SUMIF({key_range},$A{row},"
                    f"{L.PLAN}!${col}${plan.first_row}:${col}${plan.last_line})"
                )
                c.number_format = fmt_for_abs(m, k)
    ws.cell(row=total_row, column=1, value=L.TOTAL_LABEL)
    for m in ec.metrics:
        for k in SUMMED_KINDS:
            c = ws[f"{ec.cols[L.abs_header(m, k)]}{total_row}"]
            c.value = f"={L.PLAN}!{plan.cols[L.abs_header(m, k)]}{plan.total_row}"
            c.number_format = fmt_for_abs(m, k)


def _write_ratios(ws: Worksheet, ec: _Columns, funnel: Funnel, rows: list[int]) -> None:
    """Run-rate % of plan and the ratios of every row, from the row's own sums; blank over a
    zero denominator (a channel without facts yet, a new month's Total row)."""
    for row in rows:
        for m in ec.metrics:
            rr = f"{ec.cols[L.abs_header(m, 'rr')]}{row}"
            p = f"{ec.cols[L.abs_header(m, 'p')]}{row}"
            c = ws[f"{ec.cols[L.abs_header(m, '%rr')]}{row}"]
            c.value = quotient(rr, p)
            c.number_format = FMT_PCT
        for r in ec.ratios:
            num, den = ratio_parts(r, funnel)
            for k in L.RATIO_KINDS:
                n = f"{ec.cols[L.abs_header(num, k)]}{row}"
                d = f"{ec.cols[L.abs_header(den, k)]}{row}"
                c = ws[f"{ec.cols[L.ratio_header(r, k)]}{row}"]
                c.value = quotient(n, d, expr=f"({n}-{d})/{d}" if r == "romi" else None)
                c.number_format = fmt_for_ratio(r)


def _write_as_of(ws: Worksheet) -> None:
    """Row 2: "as of" and the as-of date; before the first sync (as-of blank, a new month)
    "month" and the month's first day, never as-of 0 read as 1899-12-30. (Both labels are
    formula literals, so the workbook's language translates them like any label.)"""
    ws["A2"] = '=IF(AsOf="","month","as of")'
    ws["B2"] = '=IF(AsOf="",Month,AsOf)'
    ws["B2"].number_format = FMT_DATE


def _layout(ws: Worksheet, width: int) -> None:
    """Column widths, frozen panes and a one-page landscape print."""
    ws.column_dimensions["A"].width = 16
    for col_i in range(2, width + 1):
        ws.column_dimensions[get_column_letter(col_i)].width = 11
    ws.row_dimensions[L.EXEC_HEADER_ROW].height = 30
    ws.freeze_panes = f"B{L.EXEC_FIRST_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1
    fit = ws.sheet_properties.pageSetUpPr
    assert fit is not None  # a new worksheet has one
    fit.fitToPage = True


def _bar_chart(
    ws: Worksheet, ec: _Columns, metric: str, funnel: Funnel, total_row: int
) -> BarChart:
    """The chart metric by channel: plan vs fact vs run-rate."""
    bar = BarChart()
    bar.type = "col"
    bar.title = f"{L.metric_label(metric, funnel)} by channel: plan vs fact vs run-rate"
    bar.height, bar.width = 7.5, 16
    first_col = ec.cols.index[L.abs_header(metric, "p")]
    data = Reference(
        ws,
        min_col=first_col,
        max_col=first_col + 2,
        min_row=L.EXEC_HEADER_ROW,
        max_row=total_row - 1,
    )
    bar.add_data(data, titles_from_data=True)
    bar.set_categories(Reference(ws, min_col=1, min_row=L.EXEC_FIRST_ROW, max_row=total_row - 1))
    return bar


def write_executive_template(
    wb: Workbook,
    month: dt.date,
    funnel: Funnel,
    lines: pd.DataFrame,
    chart_metric: str,
    plan: PlanExtent,
) -> ExecutiveSheet:
    """Add the Executive sheet first in `wb`: one row per distinct channel of `lines`, in order,
    over the Plan sheet at `plan`."""
    ws = wb.create_sheet(L.EXECUTIVE, 0)
    ws["A1"] = f"Executive report — {month.strftime('%B %Y')}"
    ws["A1"].font = FONT_TITLE
    _write_as_of(ws)
    ws["C2"] = "days left"
    ws["D2"] = "=DaysLeft"
    ec = _columns(funnel)
    header_row(ws, L.EXEC_HEADER_ROW, ec.headers)

    channels = list(dict.fromkeys(lines["channel"].dropna().tolist()))
    total_row = L.EXEC_FIRST_ROW + len(channels)
    _write_sums(ws, ec, channels, plan, total_row)
    _write_ratios(ws, ec, funnel, list(range(L.EXEC_FIRST_ROW, total_row + 1)))
    total_row_style(ws, total_row, len(ec.headers))
    _layout(ws, len(ec.headers))
    sheet = ExecutiveSheet(ws, total_row)
    if chart_metric in ec.metrics and channels:
        ws.add_chart(_bar_chart(ws, ec, chart_metric, funnel, total_row), f"A{sheet.chart_row}")
    return sheet
