"""The Plan sheet: one row per plan line (channel, campaign), then a Total row.

For the user: per funnel metric a block of plan (`p`, typed here), fact (`f`, filled by Sync
Facts), run-rate (`rr`, Refresh Run-Rate), % of plan for fact and run-rate and the daily pace
still needed; then per ratio (CR, CPA, CPC, ROAS, ROMI) its plan, fact and run-rate. Headers
are in `layout.PLAN_HEADER_ROW` (`layout.plan_headers`); buttons find columns by header text.

Plan numbers, facts and run-rates are values; every derived cell (ratios, % of plan, pace,
totals) is a native formula, so it updates when a marketer types a plan number. Ratios on the
Total row are recomputed from the summed absolutes, never averaged. A ratio or % of plan over a
blank or zero denominator is blank, and so is pace when no day of the month is left
(`cells.quotient`: the denominator is tested, so a real error such as ``#REF!`` still shows).

Written by the template (`write_plan_template`); Sync Facts writes `f`, Refresh Run-Rate `rr`,
Apply / Undo Split `spend p`. Read by every button through `read_plan`; the Executive and Pace
sheets' formulas point into it (`PlanExtent`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from planning.errors import InputError
from planning.funnel import Funnel
from sheets_sync.workbooks.interface import Table, WorkbookTarget
from workbook_templates import layout as L
from workbook_templates.cells import line_name, quotient, sheet_value, to_number
from workbook_templates.styles import (
    FILL_FACT,
    FILL_GROUP,
    FILL_INPUT,
    FILL_OUTPUT,
    FMT_COST,
    FMT_COUNT,
    FMT_COUNT_1DP,
    FMT_CR,
    FMT_MONEY,
    FMT_PCT,
    FMT_X,
    FONT_BOLD,
    FONT_NOTE,
    FONT_TITLE,
    header_row,
    total_row_style,
)

#: The value columns of a metric (the rest of its block are formulas) and their fills.
VALUE_KINDS = ("p", "f", "rr")
FORMULA_KINDS = ("%f", "%rr", "pace")
_FILLS = {"p": FILL_INPUT, "f": FILL_FACT, "rr": FILL_OUTPUT}

LEGEND = (
    "p = plan (type here) · f = fact (filled by Sync Facts) · "
    "rr = run-rate (Refresh Run-Rate) · %f, %rr = share of plan · "
    "pace = needed per day for the rest of the month"
)


class PlanColumns:
    """Header → column (`index`: 1-based number, ``cols[header]``: letter) on a sheet."""

    def __init__(self, headers: Sequence[str]) -> None:
        self.index = {h: i + 1 for i, h in enumerate(headers)}

    def __getitem__(self, header: str) -> str:
        return get_column_letter(self.index[header])


@dataclass(frozen=True)
class PlanExtent:
    """Where the template put the Plan's lines: the Executive and Pace formulas point here."""

    first_row: int
    total_row: int
    cols: PlanColumns

    @property
    def last_line(self) -> int:
        """The last line row (the first one when the Plan has no lines)."""
        return max(self.total_row - 1, self.first_row)


def fmt_for_abs(metric: str, kind: str) -> str:
    """Number format of an absolute-metric column (`kind` one of `layout.ABS_KINDS`)."""
    if kind in ("%f", "%rr"):
        return FMT_PCT
    if metric in ("spend", "revenue"):
        return FMT_MONEY
    return FMT_COUNT if kind != "pace" else FMT_COUNT_1DP


def fmt_for_ratio(ratio: str) -> str:
    """Number format of a ratio column."""
    if ratio.startswith("cr_"):
        return FMT_CR
    if ratio == "romi":
        return FMT_PCT
    if ratio == "roas":
        return FMT_X
    return FMT_COST


def ratio_parts(ratio: str, funnel: Funnel) -> tuple[str, str]:
    """Numerator and denominator metric of a ratio (ROMI's numerator is revenue − spend)."""
    if ratio == "cpc":
        return "spend", funnel.first
    if ratio in ("roas", "romi"):
        return "revenue", "spend"
    kind, stage = ratio.split("_", 1)
    if kind == "cr":
        source = funnel.source_of(stage)
        assert source is not None
        return stage, source
    return "spend", stage


def _ratio_formula(
    ratio: str, kind: str, row: int, cols: PlanColumns, funnel: Funnel, guard: bool
) -> str:
    """Blank on a spare row, over a blank numerator, and over a blank or zero denominator."""
    num, den = ratio_parts(ratio, funnel)
    n = f"{cols[L.abs_header(num, kind)]}{row}"
    d = f"{cols[L.abs_header(den, kind)]}{row}"
    blanks = ([f'$A{row}=""'] if guard else []) + [f'{n}=""']
    return quotient(n, d, blank_if=blanks, expr=f"({n}-{d})/{d}" if ratio == "romi" else None)


def _abs_formula(metric: str, kind: str, row: int, cols: PlanColumns, guard: bool) -> str:
    """% of plan: blank over a blank fact / run-rate and a blank or zero plan. Pace: blank over
    a blank plan and when no day is left (as-of on the month's last day)."""
    p = f"{cols[L.abs_header(metric, 'p')]}{row}"
    f = f"{cols[L.abs_header(metric, 'f')]}{row}"
    rr = f"{cols[L.abs_header(metric, 'rr')]}{row}"
    spare = [f'$A{row}=""'] if guard else []

    if kind == "%f":
        return quotient(f, p, blank_if=[*spare, f'{f}=""'])
    if kind == "%rr":
        return quotient(rr, p, blank_if=[*spare, f'{rr}=""'])
    if kind == "pace":
        return quotient(f"({p}-N({f}))", "DaysLeft", blank_if=[*spare, f'{p}=""'])
    raise ValueError(kind)


def _write_titles(ws: Worksheet, month: dt.date) -> None:
    ws["A1"] = f"Funnel plan — {month.strftime('%B %Y')}"
    ws["A1"].font = FONT_TITLE
    ws["A2"] = LEGEND
    ws["A2"].font = FONT_NOTE


def _write_headers(ws: Worksheet, funnel: Funnel, headers: list[str], cols: PlanColumns) -> None:
    """Row 3: group labels over each metric's and ratio's block; the header row below."""
    groups: list[tuple[str, list[str]]] = [("Line", list(L.KEYS))]
    for metric in funnel.metrics:
        groups.append(
            (L.metric_label(metric, funnel), [L.abs_header(metric, k) for k in L.ABS_KINDS])
        )
    for ratio in funnel.ratio_names():
        groups.append(
            (
                L.ratio_label(ratio, funnel),
                [L.ratio_header(ratio, k) for k in L.ratio_kinds(ratio)],
            )
        )
    for label, members in groups:
        first, last = cols.index[members[0]], cols.index[members[-1]]
        cell = ws.cell(row=3, column=first, value=label)
        cell.font = FONT_BOLD
        cell.fill = FILL_GROUP
        cell.alignment = Alignment(horizontal="center")
        if last > first:
            ws.merge_cells(start_row=3, start_column=first, end_row=3, end_column=last)
    header_row(ws, L.PLAN_HEADER_ROW, headers)


def _write_line(
    ws: Worksheet,
    row: int,
    values: pd.Series | None,
    columns: pd.Index,
    funnel: Funnel,
    cols: PlanColumns,
) -> None:
    """One line row: values (blank when `values` is None: a spare row) and its formulas."""
    for metric in funnel.metrics:
        for kind in VALUE_KINDS:
            h = L.abs_header(metric, kind)
            c = ws.cell(row=row, column=cols.index[h])
            if values is not None and h in columns:
                c.value = sheet_value(values[h])
            c.number_format = fmt_for_abs(metric, kind)
            c.fill = _FILLS[kind]
        for kind in FORMULA_KINDS:
            c = ws.cell(row=row, column=cols.index[L.abs_header(metric, kind)])
            c.value = _abs_formula(metric, kind, row, cols, guard=True)
            c.number_format = fmt_for_abs(metric, kind)
    for ratio in funnel.ratio_names():
        for kind in L.ratio_kinds(ratio):
            c = ws.cell(row=row, column=cols.index[L.ratio_header(ratio, kind)])
            c.value = _ratio_formula(ratio, kind, row, cols, funnel, guard=True)
            c.number_format = fmt_for_ratio(ratio)
    if values is not None:
        for k_i, key in enumerate(L.KEYS, start=1):
            ws.cell(row=row, column=k_i, value=sheet_value(values[key]))


def _write_total(ws: Worksheet, funnel: Funnel, extent: PlanExtent, width: int) -> None:
    """The Total row: absolutes are sums; every ratio is recomputed from the sums."""
    row, cols = extent.total_row, extent.cols
    ws.cell(row=row, column=1, value=L.TOTAL_LABEL)
    for metric in funnel.metrics:
        for kind in VALUE_KINDS:
            col = cols[L.abs_header(metric, kind)]
            c = ws[f"{col}{row}"]
            c.value = f"=SUM({col}{extent.first_row}:{col}{extent.last_line})"
            c.number_format = fmt_for_abs(metric, kind)
        for kind in FORMULA_KINDS:
            c = ws[f"{cols[L.abs_header(metric, kind)]}{row}"]
            c.value = _abs_formula(metric, kind, row, cols, guard=False)
            c.number_format = fmt_for_abs(metric, kind)
    for ratio in funnel.ratio_names():
        for kind in L.ratio_kinds(ratio):
            c = ws[f"{cols[L.ratio_header(ratio, kind)]}{row}"]
            c.value = _ratio_formula(ratio, kind, row, cols, funnel, guard=False)
            c.number_format = fmt_for_ratio(ratio)
    total_row_style(ws, row, width)


def write_plan_template(
    wb: Workbook, month: dt.date, funnel: Funnel, lines: pd.DataFrame, blank_rows: int = 0
) -> PlanExtent:
    """Add the Plan sheet with `lines` (``channel``, ``campaign`` and any header-named value
    columns) and `blank_rows` spare rows above the Total row; returns where the lines are."""
    ws = wb.create_sheet(L.PLAN)
    headers = L.plan_headers(funnel)
    cols = PlanColumns(headers)
    _write_titles(ws, month)
    _write_headers(ws, funnel, headers, cols)

    lines = lines.reset_index(drop=True)
    n_rows = len(lines) + blank_rows
    extent = PlanExtent(L.PLAN_FIRST_ROW, L.PLAN_FIRST_ROW + n_rows, cols)
    for i in range(n_rows):
        values = lines.iloc[i] if i < len(lines) else None
        _write_line(ws, extent.first_row + i, values, lines.columns, funnel, cols)
    _write_total(ws, funnel, extent, len(headers))

    ws.freeze_panes = ws.cell(row=extent.first_row, column=len(L.KEYS) + 1)
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 24
    for col_i in range(len(L.KEYS) + 1, len(headers) + 1):
        ws.column_dimensions[get_column_letter(col_i)].width = 11
    ws.row_dimensions[L.PLAN_HEADER_ROW].height = 30
    return extent


def read_plan(wb: WorkbookTarget, funnel: Funnel) -> tuple[Table, pd.DataFrame]:
    """Plan lines with numeric p / f / rr columns (NaN where blank), checked cell by cell.

    Negative spend is refused; so is text in a number cell.
    """
    table = wb.read_table(L.PLAN, header_row=L.PLAN_HEADER_ROW, stop_labels=(L.TOTAL_LABEL,))
    for key in L.KEYS:
        table.column(key)
    data: dict[str, list[Any]] = {k: table.values(k) for k in L.KEYS}
    for metric in funnel.metrics:
        for kind in VALUE_KINDS:
            header = L.abs_header(metric, kind)
            if not table.has(header):
                continue
            column: list[float] = []
            for i, raw in enumerate(table.values(header)):
                name = line_name(data["channel"][i], data["campaign"][i])
                where = f"{table.cell_ref(i, header)} ({name})"
                v = to_number(raw, where, header)
                if metric == "spend" and v < 0:
                    raise InputError("must not be negative", line=where, column=header, value=raw)
                column.append(v)
            data[header] = column
    return table, pd.DataFrame(data)
