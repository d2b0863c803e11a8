"""Refresh Run-Rate: the Plan's month-end forecast (`rr`) from the Daily sheet.

Reads through the workbook interface, computes with `planning.runrate`, stages its writes and
commits them in one `save()`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from addin.actions.base import Action, ActionContext
from planning.errors import InputError
from planning.runrate import forecast_frame
from sheets_sync.workbooks.interface import WorkbookTarget
from workbook_templates import layout as L
from workbook_templates.cells import line_name
from workbook_templates.daily_sheet import read_daily
from workbook_templates.pace_sheet import read_pace, write_pace
from workbook_templates.plan_sheet import read_plan
from workbook_templates.settings_sheet import read_funnel, read_settings


@dataclass
class RefreshResult:
    """What Refresh Run-Rate did: as-of used, lines forecast, lines with no facts."""

    as_of: dt.date
    lines_forecast: int
    lines_without_facts: list[str] = field(default_factory=list)
    forecast: pd.DataFrame = field(default_factory=pd.DataFrame)


def refresh(wb: WorkbookTarget, as_of: dt.date | None = None, save: bool = True) -> RefreshResult:
    """Recompute the Plan's run-rate (`rr`) columns from the Daily sheet as of a date.

    `as_of` defaults to the Settings sheet's, else the latest date on the Daily sheet. The
    % of plan, pace and cost columns are formulas over `rr`, so they follow. Writes only
    the `rr` columns and the Settings as-of cell; saves unless `save` is false (a caller
    that writes more, like Sync Facts, saves once for both).
    """
    settings = read_settings(wb)
    funnel = read_funnel(wb)
    table, plan = read_plan(wb, funnel)
    daily = read_daily(wb, funnel, settings.month)
    if as_of is None:
        as_of = settings.as_of
    if as_of is None:
        if daily.empty:
            raise InputError("no as-of date: the Daily sheet is empty and Settings has no `as of`")
        as_of = max(daily["date"])
    metrics = [m for m in funnel.metrics if m in daily.columns]
    keys = list(L.KEYS)
    fc = forecast_frame(
        daily,
        settings.month,
        as_of,
        keys=keys,
        metrics=metrics,
        window=settings.window,
        method=settings.method,  # type: ignore[arg-type]
    )
    by_line = {(r["channel"], r["campaign"]): r for r in fc.to_dict("records")}
    missing: list[str] = []
    columns: dict[str, list[Any]] = {m: [] for m in metrics}
    for ch, camp in zip(plan["channel"], plan["campaign"], strict=True):
        rec = by_line.get((ch, camp))
        if rec is None:
            missing.append(line_name(ch, camp))
        for m in metrics:
            v = None if rec is None else rec[f"{m}_rr"]
            columns[m].append(None if v is None or not math.isfinite(v) else round(float(v), 4))
    for m in metrics:
        header = L.abs_header(m, "rr")
        if table.has(header) and len(plan):
            wb.write_block(L.PLAN, table.first_row, table.column(header), [[v] for v in columns[m]])
    wb.write_block(L.SETTINGS, settings.as_of_row, settings.as_of_col, [[as_of]])
    pace = read_pace(wb) if settings.chart_metric in metrics else None
    if pace is not None:
        m = settings.chart_metric
        write_pace(wb, pace, pace_series(daily, m, pace.days, as_of, float(fc[f"{m}_rr"].sum())))
    if save:
        wb.save()
    done = len(plan) - len(missing)
    wb.notify(f"Run-rate refreshed as of {as_of:%Y-%m-%d}: {done} lines forecast")
    if missing:
        wb.notify(f"{len(missing)} plan lines have no facts: {', '.join(missing[:5])}")
    return RefreshResult(as_of=as_of, lines_forecast=done, lines_without_facts=missing, forecast=fc)


def pace_series(
    daily: pd.DataFrame, metric: str, days: list[dt.date], as_of: dt.date, forecast: float
) -> list[list[float | None]]:
    """Per day: [cumulative fact, cumulative run-rate] of `metric` over all lines.

    The fact runs up to as-of; the run-rate runs from as-of (where it equals the fact) to the
    month end (where it equals `forecast`), straight in between. Blank where not defined.
    """
    per_day: dict[dt.date, float] = {}
    if len(daily):
        per_day = {d: float(v) for d, v in daily.groupby("date")[metric].sum().items()}  # type: ignore[misc]
    end = days[-1] if days else as_of
    mtd = sum(v for d, v in per_day.items() if d <= as_of)
    days_left = (end - as_of).days
    rows: list[list[float | None]] = []
    running = 0.0
    for day in days:
        running += float(per_day.get(day, 0.0))
        fact = round(running, 4) if day <= as_of else None
        rr: float | None = None
        if days_left > 0 and day >= as_of and math.isfinite(forecast):
            rr = round(mtd + (forecast - mtd) * (day - as_of).days / days_left, 4)
        rows.append([fact, rr])
    return rows


def run_button(ctx: ActionContext) -> str:
    """The Refresh Run-Rate button."""
    result = refresh(ctx.workbook)
    message = (
        f"Run-rate refreshed as of {result.as_of:%Y-%m-%d}: {result.lines_forecast} lines forecast."
    )
    missing = result.lines_without_facts
    if missing:
        message += f" {len(missing)} plan lines have no facts: {', '.join(missing[:5])}."
    return message


ACTION = Action(
    "refresh_runrate",
    "Refresh Run-Rate",
    "Recompute the month-end forecast of every plan line from the Daily sheet.",
    run_button,
    group="Facts",
    icon="CalculateNow",
    tip="Recompute the month-end forecast and the pace of every plan line from the facts so far.",
)
