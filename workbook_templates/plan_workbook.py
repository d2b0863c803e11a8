"""Build the planning workbook (Plan, Executive, Daily, Settings, optional History) with openpyxl.

The Optimize Split sheets (Optimize Split, Curves, the hidden Split Undo) come from
`workbook_templates.split_sheets`; the Sync Facts sheets (Mapping, Data Quality, Unmapped) from
`workbook_templates.sync_sheets`.

Plan numbers (`p`), facts (`f`) and run-rates (`rr`) are values; every derived cell (CR, CPA,
CPC, ROAS, ROMI, % of plan, pace, totals, the Executive roll-up and the chart's series) is a
native formula, so it updates when a marketer types a plan number. Ratios on the totals row and
in the roll-up are recomputed from summed absolutes, never averaged; a zero denominator shows
``#DIV/0!``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.worksheet import Worksheet

from planning.funnel import DEFAULT_FUNNEL, Funnel
from planning.runrate import METHODS
from workbook_templates import layout as L
from workbook_templates.split_sheets import write_split_sheets
from workbook_templates.sync_sheets import write_sync_sheets

FMT_MONEY = "#,##0"
FMT_COUNT = "#,##0"
FMT_COST = "#,##0.00"
FMT_PCT = "0.0%"
FMT_CR = "0.00%"
FMT_X = "0.00"

FILL_HEADER = PatternFill("solid", fgColor="1F3864")
FILL_GROUP = PatternFill("solid", fgColor="D9E1F2")
FILL_P = PatternFill("solid", fgColor="FFF2CC")
FILL_F = PatternFill("solid", fgColor="DDEBF7")
FILL_RR = PatternFill("solid", fgColor="E2EFDA")
FILL_TOTAL = PatternFill("solid", fgColor="EDEDED")
FONT_HEADER = Font(bold=True, color="FFFFFF")
FONT_BOLD = Font(bold=True)
FONT_TITLE = Font(bold=True, size=14)

DAILY_KEYS = ("date", "channel", "campaign")


@dataclass(frozen=True)
class PlanWorkbookSpec:
    """What goes into a new planning workbook.

    `lines` has columns ``channel``, ``campaign`` and any header-named value columns
    (``"spend p"``, ``"leads f"``, ``"leads rr"`` …); missing ones stay blank. `daily` has
    ``date, channel, campaign`` and the funnel's metrics. `history` (New Month) is last
    month's lines with header-named values, kept as values on a History sheet.
    `daily_history` (optional): channel-level days before the month (``date, channel, spend,
    leads``) for the Daily History sheet, on which Optimize Split fits its response curves with
    the Daily sheet. `split_inputs` (optional): per channel the Optimize Split inputs
    (``channel`` and any of ``min``, ``max``, ``locked``, ``cpa cap``, ``value per conversion``).
    """

    month: dt.date
    funnel: Funnel = DEFAULT_FUNNEL
    lines: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(L.KEYS)))
    daily: pd.DataFrame | None = None
    as_of: dt.date | None = None
    window: int = 5
    method: str = "last_n"
    currency: str = "RUB"
    blank_rows: int = 0
    chart_metric: str = "leads"
    history: pd.DataFrame | None = None
    history_title: str = ""
    daily_history: pd.DataFrame | None = None
    split_inputs: pd.DataFrame | None = None
    mapping: Sequence[Mapping[str, Any]] = ()

    def __post_init__(self) -> None:
        if self.month.day != 1:
            raise ValueError(f"`month` must be the first day of a month, got {self.month}")
        missing = [k for k in L.KEYS if k not in self.lines.columns]
        if missing:
            raise ValueError(f"`lines` has no column {missing[0]!r}")
        if self.method not in METHODS:
            raise ValueError(f"`method` must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.chart_metric not in self.funnel.metrics:
            raise ValueError(f"`chart_metric` {self.chart_metric!r} is not a funnel metric")


def _fmt_for_abs(metric: str, kind: str) -> str:
    if kind in ("%f", "%rr"):
        return FMT_PCT
    if metric in ("spend", "revenue"):
        return FMT_MONEY
    return FMT_COUNT if kind != "pace" else "#,##0.0"


def _fmt_for_ratio(ratio: str) -> str:
    if ratio.startswith("cr_"):
        return FMT_CR
    if ratio == "romi":
        return FMT_PCT
    if ratio == "roas":
        return FMT_X
    return FMT_COST


def _clean(value: object) -> object:
    """A cell value: NaN/inf and pandas NA become blank, numpy scalars plain Python."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class _Cols:
    """Header → column letter on the Plan sheet."""

    def __init__(self, headers: Sequence[str]) -> None:
        self.index = {h: i + 1 for i, h in enumerate(headers)}

    def __getitem__(self, header: str) -> str:
        return get_column_letter(self.index[header])


def _ratio_parts(ratio: str, funnel: Funnel) -> tuple[str, str]:
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
    ratio: str, kind: str, row: int, cols: _Cols, funnel: Funnel, guard: bool
) -> str:
    num, den = _ratio_parts(ratio, funnel)
    n = f"{cols[L.abs_header(num, kind)]}{row}"
    d = f"{cols[L.abs_header(den, kind)]}{row}"
    expr = f"({n}-{d})/{d}" if ratio == "romi" else f"{n}/{d}"
    blanks = [f'{n}=""', f'{d}=""']
    if guard:
        blanks.insert(0, f'$A{row}=""')
    return f'=IF(OR({",".join(blanks)}),"",{expr})'


def _abs_formula(metric: str, kind: str, row: int, cols: _Cols, guard: bool) -> str:
    p = f"{cols[L.abs_header(metric, 'p')]}{row}"
    f = f"{cols[L.abs_header(metric, 'f')]}{row}"
    rr = f"{cols[L.abs_header(metric, 'rr')]}{row}"

    def blank_if(*cells: str) -> str:
        tests = ([f'$A{row}=""'] if guard else []) + [f'{c}=""' for c in cells]
        return f"OR({','.join(tests)})"

    if kind == "%f":
        return f'=IF({blank_if(f, p)},"",{f}/{p})'
    if kind == "%rr":
        return f'=IF({blank_if(rr, p)},"",{rr}/{p})'
    if kind == "pace":
        return f'=IF({blank_if(p)},"",({p}-N({f}))/DaysLeft)'
    raise ValueError(kind)


def _header_cell(ws: Worksheet, row: int, col: int, text: str) -> None:
    c = ws.cell(row=row, column=col, value=text)
    c.font = FONT_HEADER
    c.fill = FILL_HEADER
    c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _write_plan(wb: Workbook, spec: PlanWorkbookSpec) -> tuple[int, int, _Cols]:
    """Write the Plan sheet; returns (first line row, total row, columns)."""
    ws = wb.create_sheet(L.PLAN)
    funnel = spec.funnel
    headers = L.plan_headers(funnel)
    cols = _Cols(headers)
    month_name = spec.month.strftime("%B %Y")
    ws["A1"] = f"Funnel plan — {month_name}"
    ws["A1"].font = FONT_TITLE
    ws["A2"] = (
        "p = plan (type here) · f = fact (filled by Sync Facts) · "
        "rr = run-rate (Refresh Run-Rate) · %f, %rr = share of plan · "
        "pace = needed per day for the rest of the month"
    )
    ws["A2"].font = Font(italic=True, color="595959")

    # Row 3: group labels over each metric's block; row 4: the unique headers.
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
    for i, h in enumerate(headers, start=1):
        _header_cell(ws, L.PLAN_HEADER_ROW, i, h)

    lines = spec.lines.reset_index(drop=True)
    n_rows = len(lines) + spec.blank_rows
    first_row = L.PLAN_FIRST_ROW
    total_row = first_row + n_rows
    for i in range(n_rows):
        row = first_row + i
        values = lines.iloc[i] if i < len(lines) else None
        for metric in funnel.metrics:
            for kind in ("p", "f", "rr"):
                h = L.abs_header(metric, kind)
                c = ws.cell(row=row, column=cols.index[h])
                if values is not None and h in lines.columns:
                    c.value = _clean(values[h])
                c.number_format = _fmt_for_abs(metric, kind)
                c.fill = {"p": FILL_P, "f": FILL_F, "rr": FILL_RR}[kind]
            for kind in ("%f", "%rr", "pace"):
                h = L.abs_header(metric, kind)
                c = ws.cell(row=row, column=cols.index[h])
                c.value = _abs_formula(metric, kind, row, cols, guard=True)
                c.number_format = _fmt_for_abs(metric, kind)
        for ratio in funnel.ratio_names():
            for kind in L.ratio_kinds(ratio):
                c = ws.cell(row=row, column=cols.index[L.ratio_header(ratio, kind)])
                c.value = _ratio_formula(ratio, kind, row, cols, funnel, guard=True)
                c.number_format = _fmt_for_ratio(ratio)
        if values is not None:
            for k_i, key in enumerate(L.KEYS, start=1):
                ws.cell(row=row, column=k_i, value=_clean(values[key]))

    # Totals: absolutes are sums; every ratio is recomputed from the sums.
    ws.cell(row=total_row, column=1, value=L.TOTAL_LABEL)
    last_line = max(total_row - 1, first_row)
    for metric in funnel.metrics:
        for kind in ("p", "f", "rr"):
            col = cols[L.abs_header(metric, kind)]
            c = ws[f"{col}{total_row}"]
            c.value = f"=SUM({col}{first_row}:{col}{last_line})"
            c.number_format = _fmt_for_abs(metric, kind)
        for kind in ("%f", "%rr", "pace"):
            c = ws[f"{cols[L.abs_header(metric, kind)]}{total_row}"]
            c.value = _abs_formula(metric, kind, total_row, cols, guard=False)
            c.number_format = _fmt_for_abs(metric, kind)
    for ratio in funnel.ratio_names():
        for kind in L.ratio_kinds(ratio):
            c = ws[f"{cols[L.ratio_header(ratio, kind)]}{total_row}"]
            c.value = _ratio_formula(ratio, kind, total_row, cols, funnel, guard=False)
            c.number_format = _fmt_for_ratio(ratio)
    for col_i in range(1, len(headers) + 1):
        cell = ws.cell(row=total_row, column=col_i)
        cell.font = FONT_BOLD
        cell.fill = FILL_TOTAL

    ws.freeze_panes = ws.cell(row=first_row, column=len(L.KEYS) + 1)
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 24
    for col_i in range(len(L.KEYS) + 1, len(headers) + 1):
        ws.column_dimensions[get_column_letter(col_i)].width = 11
    ws.row_dimensions[L.PLAN_HEADER_ROW].height = 30
    return first_row, total_row, cols


def _write_settings(wb: Workbook, spec: PlanWorkbookSpec) -> None:
    ws = wb.create_sheet(L.SETTINGS)
    for i, h in enumerate(("setting", "value", "help"), start=1):
        _header_cell(ws, L.SETTINGS_HEADER_ROW, i, h)
    rows: list[tuple[str, object, str, str | None, str]] = [
        (L.SETTING_MONTH, spec.month, "first day of the planned month", "Month", "yyyy-mm"),
        (
            L.SETTING_AS_OF,
            spec.as_of,
            "last complete day of facts (Refresh Run-Rate sets it)",
            "AsOf",
            "yyyy-mm-dd",
        ),
        (L.SETTING_DAYS_IN_MONTH, "=DAY(EOMONTH(B2,0))", "formula", "DaysInMonth", "0"),
        (
            L.SETTING_DAYS_ELAPSED,
            '=IF(B3="",0,MAX(0,MIN(B4,B3-B2+1)))',
            "formula: days of the month up to as-of",
            "DaysElapsed",
            "0",
        ),
        (L.SETTING_DAYS_LEFT, "=B4-B5", "formula", "DaysLeft", "0"),
        (L.SETTING_WINDOW, spec.window, "run-rate: average of the last N complete days", None, "0"),
        (L.SETTING_METHOD, spec.method, "last_n, last_n_dow (day of week) or linear", None, "@"),
        (L.SETTING_CURRENCY, spec.currency, "currency of spend and revenue", None, "@"),
        (
            L.SETTING_CHART_METRIC,
            spec.chart_metric,
            "metric drawn on the Executive chart",
            None,
            "@",
        ),
    ]
    for r, (key, value, help_text, name, fmt) in enumerate(rows, start=2):
        ws.cell(row=r, column=1, value=key).font = FONT_BOLD
        c = ws.cell(row=r, column=2, value=value)
        c.number_format = fmt
        ws.cell(row=r, column=3, value=help_text)
        if name:
            wb.defined_names[name] = DefinedName(name, attr_text=f"{L.SETTINGS}!$B${r}")
    col0 = L.STAGES_FIRST_COL
    for i, h in enumerate(("stage", "label", "cr from"), start=col0):
        _header_cell(ws, L.SETTINGS_HEADER_ROW, i, h)
    for r, stage in enumerate(spec.funnel.stages, start=2):
        ws.cell(row=r, column=col0, value=stage.name)
        ws.cell(row=r, column=col0 + 1, value=stage.title)
        ws.cell(row=r, column=col0 + 2, value=spec.funnel.source_of(stage.name))
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 14
    ws.column_dimensions["C"].width = 48
    ws.column_dimensions["E"].width = 14
    ws.column_dimensions["F"].width = 22
    ws.column_dimensions["G"].width = 12


def _write_daily(wb: Workbook, spec: PlanWorkbookSpec) -> None:
    ws = wb.create_sheet(L.DAILY)
    headers = [*DAILY_KEYS, *spec.funnel.metrics]
    for i, h in enumerate(headers, start=1):
        _header_cell(ws, 1, i, h)
    if spec.daily is not None and len(spec.daily):
        frame = spec.daily.reindex(columns=headers)
        for r, record in enumerate(frame.itertuples(index=False), start=2):
            for c_i, value in enumerate(record, start=1):
                cell = ws.cell(row=r, column=c_i, value=_clean(value))
                if c_i == 1:
                    cell.number_format = "yyyy-mm-dd"
                elif c_i > len(DAILY_KEYS):
                    cell.number_format = (
                        FMT_MONEY if headers[c_i - 1] in ("spend", "revenue") else "0"
                    )
    ws.freeze_panes = "A2"
    ws.column_dimensions["A"].width = 12
    ws.column_dimensions["B"].width = 16
    ws.column_dimensions["C"].width = 24


def _write_daily_history(wb: Workbook, spec: PlanWorkbookSpec) -> None:
    ws = wb.create_sheet(L.DAILY_HISTORY)
    headers = list(L.DAILY_HISTORY_HEADERS)
    for i, h in enumerate(headers, start=1):
        _header_cell(ws, 1, i, h)
    ws.cell(
        row=1,
        column=len(headers) + 2,
        value=(
            "Days before the month, one row per channel and day (several are summed): "
            "Optimize Split fits its response curves on these and the Daily sheet."
        ),
    ).font = Font(italic=True, color="595959")
    if spec.daily_history is not None and len(spec.daily_history):
        frame = spec.daily_history.reindex(columns=headers)
        for r, record in enumerate(frame.itertuples(index=False), start=2):
            for c_i, value in enumerate(record, start=1):
                cell = ws.cell(row=r, column=c_i, value=_clean(value))
                if c_i == 1:
                    cell.number_format = "yyyy-mm-dd"
                elif headers[c_i - 1] == "spend":
                    cell.number_format = FMT_MONEY
    ws.freeze_panes = "A2"
    ws.column_dimensions["A"].width = 12
    ws.column_dimensions["B"].width = 16


def _write_executive(
    wb: Workbook, spec: PlanWorkbookSpec, first_row: int, total_row: int, cols: _Cols
) -> None:
    ws = wb.create_sheet(L.EXECUTIVE, 0)
    funnel = spec.funnel
    ws["A1"] = f"Executive report — {spec.month.strftime('%B %Y')}"
    ws["A1"].font = FONT_TITLE
    ws["A2"] = "as of"
    ws["B2"] = "=AsOf"
    ws["B2"].number_format = "yyyy-mm-dd"
    ws["C2"] = "days left"
    ws["D2"] = "=DaysLeft"
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
        headers += [L.abs_header(m, k) for k in ("p", "f", "rr", "%rr")]
    for r in ratios:
        headers += [L.ratio_header(r, k) for k in L.RATIO_KINDS]
    ecols = _Cols(headers)
    for i, h in enumerate(headers, start=1):
        _header_cell(ws, L.EXEC_HEADER_ROW, i, h)

    channels = list(dict.fromkeys(spec.lines["channel"].dropna().tolist()))
    last_line = max(total_row - 1, first_row)
    key_range = f"{L.PLAN}!$A${first_row}:$A${last_line}"
    rows = list(range(L.EXEC_FIRST_ROW, L.EXEC_FIRST_ROW + len(channels)))
    exec_total = L.EXEC_FIRST_ROW + len(channels)
    for row, channel in zip(rows, channels, strict=True):
        ws.cell(row=row, column=1, value=channel)
        for m in metrics:
            for k in ("p", "f", "rr"):
                col = cols[L.abs_header(m, k)]
                c = ws[f"{ecols[L.abs_header(m, k)]}{row}"]
                c.value = (
                    f"=SUMIF({key_range},$A{row},{L.PLAN}!${col}${first_row}:${col}${last_line})"
                )
                c.number_format = _fmt_for_abs(m, k)
    ws.cell(row=exec_total, column=1, value=L.TOTAL_LABEL)
    for m in metrics:
        for k in ("p", "f", "rr"):
            # The Plan's totals row: the sum of every line, whatever its channel.
            col = ecols[L.abs_header(m, k)]
            c = ws[f"{col}{exec_total}"]
            c.value = f"={L.PLAN}!{cols[L.abs_header(m, k)]}{total_row}"
            c.number_format = _fmt_for_abs(m, k)
    for row in [*rows, exec_total]:
        for m in metrics:
            rr = f"{ecols[L.abs_header(m, 'rr')]}{row}"
            p = f"{ecols[L.abs_header(m, 'p')]}{row}"
            c = ws[f"{ecols[L.abs_header(m, '%rr')]}{row}"]
            c.value = f"={rr}/{p}"
            c.number_format = FMT_PCT
        for r in ratios:
            num, den = _ratio_parts(r, funnel)
            for k in L.RATIO_KINDS:
                n = f"{ecols[L.abs_header(num, k)]}{row}"
                d = f"{ecols[L.abs_header(den, k)]}{row}"
                c = ws[f"{ecols[L.ratio_header(r, k)]}{row}"]
                c.value = f"=({n}-{d})/{d}" if r == "romi" else f"={n}/{d}"
                c.number_format = _fmt_for_ratio(r)
    for col_i in range(1, len(headers) + 1):
        ws.cell(row=exec_total, column=col_i).font = FONT_BOLD
        ws.cell(row=exec_total, column=col_i).fill = FILL_TOTAL
    ws.column_dimensions["A"].width = 16
    for col_i in range(2, len(headers) + 1):
        ws.column_dimensions[get_column_letter(col_i)].width = 11
    ws.row_dimensions[L.EXEC_HEADER_ROW].height = 30
    ws.freeze_panes = ws.cell(row=L.EXEC_FIRST_ROW, column=2)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True

    # Bar chart: the chart metric by channel, plan vs fact vs run-rate.
    m = spec.chart_metric
    if m in metrics and channels:
        bar = BarChart()
        bar.type = "col"
        bar.title = f"{L.metric_label(m, funnel)} by channel: plan vs fact vs run-rate"
        bar.height, bar.width = 7.5, 16
        first_col = ecols.index[L.abs_header(m, "p")]
        data = Reference(
            ws,
            min_col=first_col,
            max_col=first_col + 2,
            min_row=L.EXEC_HEADER_ROW,
            max_row=exec_total - 1,
        )
        bar.add_data(data, titles_from_data=True)
        bar.set_categories(
            Reference(ws, min_col=1, min_row=L.EXEC_FIRST_ROW, max_row=exec_total - 1)
        )
        ws.add_chart(bar, f"A{exec_total + 3}")

    _write_pace(wb, ws, spec, cols, total_row, chart_top=exec_total + 3)


def _write_pace(
    wb: Workbook,
    exec_ws: Worksheet,
    spec: PlanWorkbookSpec,
    cols: _Cols,
    total_row: int,
    chart_top: int,
) -> None:
    """The Pace sheet (cumulative plan / fact / run-rate of the chart metric per day) and its
    chart on the Executive sheet.

    plan(d) = total plan × d / days in month is a formula; fact and run-rate are written by
    Refresh Run-Rate as values, blank where they do not apply, so the chart draws gaps.
    """
    ws = wb.create_sheet(L.PACE)
    funnel = spec.funnel
    m = spec.chart_metric
    dim = calendar.monthrange(spec.month.year, spec.month.month)[1]
    for i, h in enumerate(L.PACE_HEADERS, start=1):
        _header_cell(ws, 1, i, h)
    plan_total = f"{L.PLAN}!${cols[L.abs_header(m, 'p')]}${total_row}"
    for d in range(1, dim + 1):
        r = 1 + d
        ws.cell(row=r, column=1, value=spec.month.replace(day=d)).number_format = "yyyy-mm-dd"
        ws.cell(row=r, column=2, value=f"={plan_total}*DAY(A{r})/DaysInMonth")
        for c_i in (2, 3, 4):
            ws.cell(row=r, column=c_i).number_format = FMT_COUNT
    ws["F1"] = (
        f"{L.metric_label(m, funnel)}, cumulative: fact and run-rate are set by Refresh Run-Rate"
    )
    ws.column_dimensions["A"].width = 12
    line = LineChart()
    line.title = f"{L.metric_label(m, funnel)}: plan vs fact vs run-rate, cumulative"
    line.height, line.width = 7.5, 16
    line.y_axis.title = L.metric_label(m, funnel)
    line.x_axis.title = "day"
    line.x_axis.number_format = "dd"
    line.display_blanks = "gap"
    line.add_data(
        Reference(ws, min_col=2, max_col=4, min_row=1, max_row=1 + dim), titles_from_data=True
    )
    line.set_categories(Reference(ws, min_col=1, min_row=2, max_row=1 + dim))
    exec_ws.add_chart(line, f"J{chart_top}")


def _write_history(wb: Workbook, spec: PlanWorkbookSpec) -> None:
    if spec.history is None:
        return
    ws = wb.create_sheet(L.HISTORY)
    ws["A1"] = spec.history_title or "Last month: plan vs fact"
    ws["A1"].font = FONT_TITLE
    headers = list(spec.history.columns)
    for i, h in enumerate(headers, start=1):
        _header_cell(ws, 3, i, str(h))
    for r, record in enumerate(spec.history.itertuples(index=False), start=4):
        for c_i, value in enumerate(record, start=1):
            ws.cell(row=r, column=c_i, value=_clean(value))
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 24


def build_plan_workbook(spec: PlanWorkbookSpec) -> Workbook:
    """The planning workbook for `spec`: Executive, Plan, Optimize Split, Curves, Daily,
    Daily History, Mapping, Data Quality, Unmapped, Settings, Pace (and History), and the
    hidden Split Undo last."""
    wb = Workbook()
    default = wb.active
    if default is not None:
        wb.remove(default)
    first_row, total_row, cols = _write_plan(wb, spec)
    write_split_sheets(wb, spec.month.strftime("%B %Y"), spec.lines, spec.split_inputs)
    _write_daily(wb, spec)
    _write_daily_history(wb, spec)
    write_sync_sheets(wb, spec.mapping)
    _write_settings(wb, spec)
    _write_executive(wb, spec, first_row, total_row, cols)
    _write_history(wb, spec)
    undo = wb[L.SPLIT_UNDO]
    wb.move_sheet(undo, offset=len(wb.sheetnames) - 1 - wb.sheetnames.index(L.SPLIT_UNDO))
    wb.active = 0
    return wb
