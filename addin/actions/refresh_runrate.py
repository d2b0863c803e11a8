"""Refresh Run-Rate: the Plan's month-end forecast (`rr`) from the Daily sheet.

Reads through the workbook interface, computes with `planning.runrate`, stages its writes and
commits them in one `save()`.

The stages below leads (PP, negotiations, purchases, and revenue with the purchases) follow the
leads along the channel's lag curve where the CRM history allows (`addin.actions.runrate_cohort`):
the curves come from the fact store's deals when the workbook's sync config is known (the button
finds it; Sync Facts passes its own), else from the Cohorts sheet's published curves, else there
is none and the run-rate is exactly the usual one. Lines and stages that keep the usual method
where curves exist are listed in the message and on the Cohorts sheet.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

from addin.actions.base import Action, ActionContext
from addin.actions.button_config import known_config
from addin.actions.cohort_inputs import read_cohort_inputs
from addin.actions.runrate_cohort import (
    CohortBasis,
    CohortRates,
    basis_from_sheet,
    basis_from_store,
    cohort_rates,
)
from addin.actions.texts import ENGLISH, texts_of
from addin.actions.texts import day as day_text
from planning.errors import InputError
from planning.funnel import Funnel
from planning.runrate import forecast_frame
from sheets_sync.i18n import Translator
from sheets_sync.store import FactStore
from sheets_sync.sync_config import SyncConfig
from sheets_sync.workbooks.interface import Table, WorkbookTarget
from workbook_templates import layout as L
from workbook_templates.cells import line_name
from workbook_templates.cohorts_sheet import COHORTS, read_curves, write_runrate_notes
from workbook_templates.daily_history_sheet import read_daily_history
from workbook_templates.daily_sheet import read_daily
from workbook_templates.mapping_sheet import read_rules
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
    cohort: CohortRates = field(default_factory=CohortRates)
    """The lower stages' cohort run-rates and the notes on what kept the usual method."""


@dataclass(frozen=True)
class AlreadyRead:
    """The Plan and the Daily sheet as a caller already holds them, so `refresh` does not read
    them again: Sync Facts read the Plan before filling its ``f`` columns (refresh uses the
    lines and where the ``rr`` columns are, which the fill does not change) and has the Daily
    rows it just wrote (`daily_sheet.write_daily`, exactly what `read_daily` reads back)."""

    funnel: Funnel
    table: Table
    plan: pd.DataFrame
    daily: pd.DataFrame


def refresh(
    wb: WorkbookTarget,
    as_of: dt.date | None = None,
    save: bool = True,
    cohort: CohortBasis | None = None,
    config: SyncConfig | None = None,
    read: AlreadyRead | None = None,
) -> RefreshResult:
    """Recompute the Plan's run-rate (`rr`) columns from the Daily sheet as of a date, and its
    fact (`f`) columns as of the same date when the Daily sheet has later days
    (`facts_as_of`: a refresh as of an earlier day than the sync's; refused when a fact
    cannot be recomputed, or when as-of is not a day of the month).

    `as_of` defaults to the Settings sheet's, else the latest date on the Daily sheet. The
    % of plan, pace and cost columns are formulas over `rr`, so they follow. Writes only
    the `rr` columns, the Settings as-of cell and, when lower stages were considered for the
    cohort forecast, the Cohorts sheet's run-rate notes; saves unless `save` is false (a caller
    that writes more, like Sync Facts, saves once for both). `cohort`: the lag curves and lead
    history from the fact store (`runrate_cohort.basis_from_store`); else, with the workbook's
    sync `config`, they are read from its store; else the Cohorts sheet's published curves, if
    any. `read`: the Plan and Daily already read (Sync Facts), else they are read here.
    """
    settings = read_settings(wb)
    funnel, table, plan, daily = _sheets(wb, settings.month, read)
    if as_of is None:
        as_of = settings.as_of
    if as_of is None:
        if daily.empty:
            raise InputError("no as-of date: the Daily sheet is empty and Settings has no `as of`")
        as_of = max(daily["date"])
    metrics = [m for m in funnel.metrics if m in daily.columns]
    _check_month(as_of, settings.month)
    facts = facts_as_of(daily, plan, funnel, as_of)
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
    if cohort is None and config is not None:
        cohort = store_basis(wb, config, as_of, plan, settings.month)
    if cohort is None and COHORTS in wb.sheet_names():
        cohort = sheet_basis(wb, daily, plan, settings.month)
    rates = cohort_rates(daily, plan, fc, settings.month, as_of, cohort, metrics)
    columns, missing = _rr_columns(plan, fc, rates, metrics)
    for m in metrics:
        header = L.abs_header(m, "rr")
        if table.has(header) and len(plan):
            wb.write_block(L.PLAN, table.first_row, table.column(header), [[v] for v in columns[m]])
    for m, values in facts.items():  # f as of the same day as rr (days after as-of dropped)
        header = L.abs_header(m, "f")
        wb.write_block(L.PLAN, table.first_row, table.column(header), [[v] for v in values])
    wb.write_block(L.SETTINGS, settings.as_of_row, settings.as_of_col, [[as_of]])
    if rates.origin and COHORTS in wb.sheet_names():
        write_runrate_notes(wb, _notes(rates, texts_of(wb)))
    pace = read_pace(wb) if settings.chart_metric in metrics else None
    if pace is not None:
        m = settings.chart_metric
        total = _total(fc, rates, plan, m)
        write_pace(wb, pace, pace_series(daily, m, pace.days, as_of, total))
    if save:
        wb.save()
    done = len(plan) - len(missing)
    t = texts_of(wb)
    when = day_text(as_of, t)
    wb.notify(t("Run-rate refreshed as of {day}: {n} lines forecast", day=when, n=done))
    if missing:
        names = ", ".join(missing[:5])
        wb.notify(t("{n} plan lines have no facts: {names}", n=len(missing), names=names))
    if rates.origin:
        wb.notify(cohort_sentence(rates, t))
    return RefreshResult(
        as_of=as_of, lines_forecast=done, lines_without_facts=missing, forecast=fc, cohort=rates
    )


def _check_month(as_of: dt.date, month: dt.date) -> None:
    """An as-of outside the planned month is refused, naming the Settings sheet's month."""
    next_month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    if not month <= as_of < next_month:
        raise InputError(
            f"as-of {as_of:%Y-%m-%d} is not a day of the month {month:%Y-%m} (sheet "
            f"`{L.SETTINGS}`): the run-rate and the facts are computed within the month"
        )


def facts_as_of(
    daily: pd.DataFrame, plan: pd.DataFrame, funnel: Funnel, as_of: dt.date
) -> dict[str, list[Any]]:
    """The Plan's `f` columns as of `as_of`, when the Daily sheet has days after it (a refresh
    as of an earlier day than the sync's): per metric, each line's Daily rows up to as-of,
    summed, so `f` and `rr` are as of the same day. Empty (nothing to rewrite) when no Daily row
    is after as-of. Refused, naming the sheet and the day, when a fact cannot be recomputed:
    a metric with facts on the Plan but no column on the Daily sheet, or a line with facts but
    no rows there. A line whose Daily rows all come after as-of gets 0."""
    if daily.empty or max(daily["date"]) <= as_of:
        return {}
    day = f"{as_of:%Y-%m-%d}"
    upto = daily[daily["date"] <= as_of]
    lines = set(zip(daily["channel"], daily["campaign"], strict=True))
    out: dict[str, list[Any]] = {}
    for m in funnel.metrics:
        header = L.abs_header(m, "f")
        if header not in plan:
            continue
        has_facts = plan[header].notna() & (plan[header] != 0)
        if m not in daily.columns:
            if bool(has_facts.any()):
                raise InputError(
                    f"cannot compute `{header}` as of {day}: sheet `{L.DAILY}` has no `{m}` "
                    f"column; sync the facts with as-of {day} instead"
                )
            continue
        sums = upto.groupby(["channel", "campaign"])[m].sum()
        column: list[Any] = []
        for i, (ch, camp) in enumerate(zip(plan["channel"], plan["campaign"], strict=True)):
            if (ch, camp) not in lines:
                if bool(has_facts.iloc[i]):
                    raise InputError(
                        f"cannot compute `{header}` as of {day}: sheet `{L.DAILY}` has no days "
                        f"of this line; sync the facts with as-of {day} instead",
                        line=line_name(ch, camp),
                    )
                column.append(plan[header].iloc[i] if bool(has_facts.iloc[i]) else None)
                continue
            v = float(sums.get((ch, camp), 0.0))
            column.append(int(v) if v.is_integer() else round(v, 4))
        out[m] = column
    return out


def _rr_columns(
    plan: pd.DataFrame, fc: pd.DataFrame, rates: CohortRates, metrics: list[str]
) -> tuple[dict[str, list[Any]], list[str]]:
    """Per metric, the Plan's `rr` column (the cohort rate where there is one, else the
    forecast; blank when not finite), and the lines with no facts."""
    by_line = {(r["channel"], r["campaign"]): r for r in fc.to_dict("records")}
    missing: list[str] = []
    columns: dict[str, list[Any]] = {m: [] for m in metrics}
    for i, (ch, camp) in enumerate(zip(plan["channel"], plan["campaign"], strict=True)):
        rec = by_line.get((ch, camp))
        if rec is None:
            missing.append(line_name(ch, camp))
        for m in metrics:
            v = None if rec is None else rates.values.get((i, m), rec[f"{m}_rr"])
            columns[m].append(None if v is None or not math.isfinite(v) else round(float(v), 4))
    return columns, missing


def _sheets(
    wb: WorkbookTarget, month: dt.date, read: AlreadyRead | None
) -> tuple[Funnel, Table, pd.DataFrame, pd.DataFrame]:
    """The funnel, the Plan (table and lines) and the Daily rows: `read` when given and
    `read_daily` would accept its rows, else read from the sheets (which names a refused cell)."""
    if read is not None and _as_read_daily_accepts(read.daily, month):
        return read.funnel, read.table, read.plan, read.daily
    funnel = read_funnel(wb)
    table, plan = read_plan(wb, funnel)
    return funnel, table, plan, read_daily(wb, funnel, month)


def _as_read_daily_accepts(daily: pd.DataFrame, month: dt.date) -> bool:
    """Whether `read_daily` would accept these rows: every date in `month`, no negative spend."""
    next_month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    dates_ok = all(month <= d < next_month for d in daily["date"])
    return dates_ok and not ("spend" in daily and bool((daily["spend"] < 0).any()))


def sheet_basis(
    wb: WorkbookTarget, daily: pd.DataFrame, plan: pd.DataFrame, month: dt.date
) -> CohortBasis | None:
    """The Cohorts sheet's published curves with the Daily History's lead days (None when the
    sheet publishes none; an unreadable Daily History gives no earlier days)."""
    published = read_curves(wb)
    if not published.curves:
        return None
    try:
        history = read_daily_history(wb, month, "leads")
    except InputError:
        history = None
    return basis_from_sheet(published, history, daily, plan, month)


def store_basis(
    wb: WorkbookTarget, config: SyncConfig, as_of: dt.date, plan: pd.DataFrame, month: dt.date
) -> CohortBasis | None:
    """The fact store's deals as the cohort basis; None when the store does not exist yet or
    cannot be opened now (a sync holding it): the Cohorts sheet's curves are used instead."""
    if config.store_url is None and not config.store.exists():
        return None
    try:
        with FactStore(config.store_location) as store:
            inputs = read_cohort_inputs(store, config, read_rules(wb), plan, as_of)
    except duckdb.Error:
        return None
    return basis_from_store(inputs, month, config.basis)


def _total(fc: pd.DataFrame, rates: CohortRates, plan: pd.DataFrame, metric: str) -> float:
    """The month-end forecast of `metric` over every line, the cohort run-rates included."""
    total = float(fc[f"{metric}_rr"].sum())
    by_key = {(r["channel"], r["campaign"]): r[f"{metric}_rr"] for r in fc.to_dict("records")}
    seen: set[tuple[str, str]] = set()
    for (row, m), value in rates.values.items():
        key = (plan["channel"].iloc[row], plan["campaign"].iloc[row])
        if m == metric and key not in seen:
            seen.add(key)
            total += value - float(by_key[key])
    return total


def _lines(n: int, t: Translator = ENGLISH) -> str:
    return t.plural("{n} line", "{n} lines", n)


def _notes(rates: CohortRates, t: Translator = ENGLISH) -> list[str]:
    head = t(
        "As refreshed: {lines} on the cohort forecast (curves from {origin})",
        lines=_lines(rates.lines, t),
        origin=t(rates.origin),
    )
    return [head, *rates.notes]


def cohort_sentence(rates: CohortRates, t: Translator = ENGLISH) -> str:
    """What the lower stages' run-rate did, in a sentence (in `t`'s language): the lines on the
    cohort forecast, then those that kept the usual run-rate for some stage, each with its
    stages."""
    text = t(
        "Lower stages: {lines} on the cohort forecast (curves from {origin})",
        lines=_lines(rates.lines, t),
        origin=t(rates.origin),
    )
    general = [t(f.reason) for f in rates.fallbacks if not f.line]
    stages: dict[str, list[str]] = {}
    for f in rates.fallbacks:
        if f.line:
            stages.setdefault(f.line, []).append(f.stage)
    if general:
        text += "; " + "; ".join(general)
    if stages:
        named = [f"{line} ({', '.join(s)})" for line, s in stages.items()]
        shown = ", ".join(named[:3]) + (" …" if len(named) > 3 else "")
        text += t(
            "; {lines} kept the usual run-rate: {shown}; see the {sheet} sheet",
            lines=_lines(len(named), t),
            shown=shown,
            sheet=t(COHORTS),
        )
    return text + "."


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
    """The Refresh Run-Rate button: the curves from the fact store when the workbook's sync
    config is known, else from the Cohorts sheet."""
    result = refresh(ctx.workbook, config=known_config(ctx))
    t = texts_of(ctx.workbook)
    message = t(
        "Run-rate refreshed as of {day}: {n} lines forecast.",
        day=day_text(result.as_of, t),
        n=result.lines_forecast,
    )
    missing = result.lines_without_facts
    if missing:
        names = ", ".join(missing[:5])
        message += " " + t("{n} plan lines have no facts: {names}", n=len(missing), names=names)
        message += "."
    if result.cohort.origin:
        message += " " + cohort_sentence(result.cohort, t)
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
