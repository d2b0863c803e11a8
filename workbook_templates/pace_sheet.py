"""The Pace sheet: the chart metric day by day, cumulative: plan vs fact vs run-rate.

For the user: one row per day of the month (`layout.PACE_HEADERS`: day, plan, fact, run-rate)
and the line chart drawn from it on the Executive sheet. plan(d) = the Plan's total × d / days
in month is a formula; fact and run-rate are values, blank where they do not apply, so the
chart draws gaps.

Written by the template (`write_pace_template`: days, plan formulas, the chart); Refresh
Run-Rate reads its days (`read_pace`) and writes fact and run-rate (`write_pace`).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference

from planning.funnel import Funnel
from sheets_sync.workbooks.interface import WorkbookTarget
from workbook_templates import layout as L
from workbook_templates.cells import to_date
from workbook_templates.plan_sheet import PlanExtent
from workbook_templates.styles import FMT_COUNT, FMT_DATE, header_row


def write_pace_template(
    wb: Workbook, month: dt.date, funnel: Funnel, chart_metric: str, plan: PlanExtent
) -> LineChart:
    """Add the Pace sheet for `chart_metric`; returns its chart (the Executive sheet shows it)."""
    ws = wb.create_sheet(L.PACE)
    dim = calendar.monthrange(month.year, month.month)[1]
    header_row(ws, 1, L.PACE_HEADERS)
    plan_total = f"{L.PLAN}!${plan.cols[L.abs_header(chart_metric, 'p')]}${plan.total_row}"
    for d in range(1, dim + 1):
        r = 1 + d
        ws.cell(row=r, column=1, value=month.replace(day=d)).number_format = FMT_DATE
        ws.cell(row=r, column=2, value=f"={plan_total}*DAY(A{r})/DaysInMonth")
        for c_i in (2, 3, 4):
            ws.cell(row=r, column=c_i).number_format = FMT_COUNT
    label = L.metric_label(chart_metric, funnel)
    ws["F1"] = f"{label}, cumulative: fact and run-rate are set by Refresh Run-Rate"
    ws.column_dimensions["A"].width = 12
    line = LineChart()
    line.title = f"{label}: plan vs fact vs run-rate, cumulative"
    line.height, line.width = 7.5, 16
    line.y_axis.title = label
    line.x_axis.title = "day"
    line.x_axis.number_format = "dd"
    line.display_blanks = "gap"
    line.add_data(
        Reference(ws, min_col=2, max_col=4, min_row=1, max_row=1 + dim), titles_from_data=True
    )
    line.set_categories(Reference(ws, min_col=1, min_row=2, max_row=1 + dim))
    return line


@dataclass(frozen=True)
class PaceDays:
    """The Pace sheet's days and where its fact column starts."""

    days: list[dt.date]
    first_row: int
    fact_col: int


def read_pace(wb: WorkbookTarget) -> PaceDays | None:
    """The Pace sheet's days (``None`` when the workbook has no Pace sheet)."""
    if L.PACE not in wb.sheet_names():
        return None
    pace = wb.read_table(L.PACE, header_row=1)
    days = [to_date(d, pace.cell_ref(i, "day"), "day") for i, d in enumerate(pace.values("day"))]
    return PaceDays(days, pace.first_row, pace.column("fact"))


def write_pace(
    wb: WorkbookTarget, pace: PaceDays, series: Sequence[Sequence[float | None]]
) -> None:
    """Write per day [cumulative fact, cumulative run-rate] into the fact and run-rate columns."""
    wb.write_block(L.PACE, pace.first_row, pace.fact_col, series)
