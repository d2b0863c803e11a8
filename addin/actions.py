"""Button actions, written once against the workbook interface.

The same functions serve the CLI now and the Excel ribbon, the Google Sheets menu and the
HTTP server later: each reads through a `WorkbookTarget`, computes with `planning`, stages
its writes and commits them in one `save()`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from addin.split_action import carry_over
from addin.workbook_io import (
    line_name,
    read_daily,
    read_funnel,
    read_plan,
    read_settings,
    to_date,
)
from planning.errors import InputError
from planning.funnel import Funnel, bottom_up, rollup
from planning.runrate import forecast_frame, month_progress
from sheets_sync.workbook import WorkbookTarget
from sheets_sync.xlsx_workbook import XlsxWorkbook, save_atomic
from workbook_templates import layout as L
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook


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
    if L.PACE in wb.sheet_names() and settings.chart_metric in metrics:
        pace = wb.read_table(L.PACE, header_row=1)
        days = [
            to_date(d, pace.cell_ref(i, "day"), "day") for i, d in enumerate(pace.values("day"))
        ]
        m = settings.chart_metric
        series = pace_series(daily, m, days, as_of, float(fc[f"{m}_rr"].sum()))
        wb.write_block(L.PACE, pace.first_row, pace.column("fact"), series)
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


SUMMARY_METRICS = ("spend", "leads", "purchases")


def plan_summary(wb: WorkbookTarget) -> dict[str, Any]:
    """Plan vs fact vs run-rate per channel and in total, recomputed from summed absolutes."""
    settings = read_settings(wb)
    funnel = read_funnel(wb)
    _, plan = read_plan(wb, funnel)
    progress = month_progress(settings.month, settings.as_of or settings.month)
    kinds: dict[str, pd.DataFrame] = {}
    for kind in ("p", "f", "rr"):
        frame = pd.DataFrame({"channel": plan["channel"]})
        for m in funnel.metrics:
            h = L.abs_header(m, kind)
            frame[m] = plan.get(h, math.nan)
        kinds[kind] = frame
    per_kind = {k: rollup(f, ["channel"], funnel) for k, f in kinds.items()}
    totals = {k: rollup(f, [], funnel) for k, f in kinds.items()}
    last = funnel.names[-1]
    first_cpa = f"cpa_{funnel.names[1]}" if len(funnel.names) > 1 else "cpc"

    def block(rows: dict[str, pd.Series]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for m in (*[x for x in SUMMARY_METRICS if x in funnel.metrics and x != "purchases"], last):
            p, f, rr = (_num(rows[k].get(m)) for k in ("p", "f", "rr"))
            out[m] = {
                "plan": p,
                "fact": f,
                "runrate": rr,
                "fact_pct": _div(f, p),
                "runrate_pct": _div(rr, p),
            }
        for ratio in (first_cpa, f"cpa_{last}"):
            out[ratio] = {
                "plan": _num(rows["p"].get(ratio)),
                "fact": _num(rows["f"].get(ratio)),
                "runrate": _num(rows["rr"].get(ratio)),
            }
        return out

    channels = []
    for i in range(len(per_kind["p"])):
        name = per_kind["p"].iloc[i]["channel"]
        rows = {k: per_kind[k].iloc[i] for k in per_kind}
        channels.append({"channel": name, **block(rows)})
    total = block({k: totals[k].iloc[0] for k in totals})
    return {
        "month": f"{settings.month:%Y-%m}",
        "as_of": settings.as_of.isoformat() if settings.as_of else None,
        "days_elapsed": progress.days_elapsed,
        "days_left": progress.days_left,
        "currency": settings.currency,
        "channels": channels,
        "total": total,
    }


def _num(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _div(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


# --- New Month ------------------------------------------------------------------------

MIN_CLICKS = 100  # traffic needed before a fact CPC replaces the planned one
MIN_DENOMINATOR = 30  # source-stage count needed before a fact CR replaces the planned one
MIN_PURCHASES = 10  # purchases needed before a fact revenue per purchase replaces the plan's


@dataclass
class NewMonthResult:
    """The next month's workbook and where each planned ratio came from."""

    path: Path
    month: dt.date
    lines: int
    basis: pd.DataFrame  # per line and ratio: "fact", "plan" or "none"


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _ratio(num: float, den: float) -> float:
    return num / den if den and math.isfinite(den) and math.isfinite(num) else math.nan


def plan_next_line(row: pd.Series, funnel: Funnel) -> tuple[dict[str, float], dict[str, str]]:
    """Next month's plan counts for one line and the basis of each ratio.

    Budget is carried over (`spend p`); CPC and each CR come from this month's facts where
    the denominator is large enough (MIN_CLICKS, MIN_DENOMINATOR), else from this month's plan.
    """

    def get(metric: str, kind: str) -> float:
        v = row.get(L.abs_header(metric, kind), math.nan)
        return float(v) if v is not None else math.nan

    basis: dict[str, str] = {}
    budget = get("spend", "p")
    first = funnel.first
    if get(first, "f") >= MIN_CLICKS and get("spend", "f") > 0:
        cpc, basis["cpc"] = _ratio(get("spend", "f"), get(first, "f")), "fact"
    else:
        cpc, basis["cpc"] = _ratio(get("spend", "p"), get(first, "p")), "plan"
    crs: dict[str, float] = {}
    for stage in funnel.names[1:]:
        src = funnel.source_of(stage)
        assert src is not None
        if get(src, "f") >= MIN_DENOMINATOR:
            crs[stage], basis[f"cr_{stage}"] = _ratio(get(stage, "f"), get(src, "f")), "fact"
        else:
            crs[stage], basis[f"cr_{stage}"] = _ratio(get(stage, "p"), get(src, "p")), "plan"
    last = funnel.names[-1]
    if get(last, "f") >= MIN_PURCHASES:
        value, basis["value"] = _ratio(get("revenue", "f"), get(last, "f")), "fact"
    else:
        value, basis["value"] = _ratio(get("revenue", "p"), get(last, "p")), "plan"
    usable = (
        math.isfinite(budget)
        and budget >= 0
        and math.isfinite(cpc)
        and cpc > 0
        and all(math.isfinite(c) for c in crs.values())
    )
    if not usable:
        return {}, {k: "none" for k in basis}
    fp = bottom_up(
        budget, cpc, crs, funnel, value_per_conversion=value if math.isfinite(value) else None
    )
    return {m: round(v, 2) for m, v in fp.counts.items() if math.isfinite(v)}, basis


def default_next_path(path: Path, month: dt.date, new: dt.date) -> Path:
    old_tag, new_tag = f"{month:%Y-%m}", f"{new:%Y-%m}"
    if old_tag in path.name:
        return path.with_name(path.name.replace(old_tag, new_tag))
    return path.with_name(f"{path.stem}-{new_tag}{path.suffix}")


def mapping_records(wb: WorkbookTarget) -> list[dict[str, str]]:
    """The workbook's Mapping rules as records keyed by `layout.MAPPING_HEADERS`, in order,
    for the next month's Mapping sheet; [] when the workbook has no Mapping sheet. A bad rule
    raises the Mapping sheet's error naming its cell (New Month does not drop rules quietly).
    The rules are read as Sync Facts reads them (`addin.sync_action.read_rules`): blank rows
    are skipped, texts stripped, the data source, field and match lower-cased."""
    if L.MAPPING not in wb.sheet_names():
        return []
    from addin.sync_action import read_rules  # late: sync_action imports this module

    return [
        {
            "data source": rule.source,
            "field": rule.field,
            "match": rule.match,
            "pattern": rule.pattern,
            "channel": rule.channel,
            "campaign": rule.campaign,
        }
        for rule in read_rules(wb)
    ]


def new_month(wb: WorkbookTarget, out: Path, overwrite: bool = False) -> NewMonthResult:
    """Write next month's planning workbook to `out`; the current workbook is not changed.

    Same lines, stages, settings and Mapping rules; planned counts from bottom-up with the
    carried-over budget and the ratios chosen by `plan_next_line`. This month's plan and fact
    per line are kept as values on the new workbook's History sheet.
    """
    settings = read_settings(wb)
    funnel = read_funnel(wb)
    _, plan = read_plan(wb, funnel)
    new = next_month(settings.month)
    if out.exists() and not overwrite:
        raise InputError(f"{out} already exists; pass --overwrite to replace it")
    lines: list[dict[str, Any]] = []
    basis_rows: list[dict[str, Any]] = []
    for _, row in plan.iterrows():
        counts, basis = plan_next_line(row, funnel)
        line: dict[str, Any] = {"channel": row["channel"], "campaign": row["campaign"]}
        line.update({L.abs_header(m, "p"): v for m, v in counts.items()})
        lines.append(line)
        basis_rows.append({"channel": row["channel"], "campaign": row["campaign"], **basis})
    # Optimize Split's history and inputs roll over to the new month.
    split_history, split_inputs = carry_over(wb)
    mapping = mapping_records(wb)
    history_cols = list(L.KEYS) + [
        L.abs_header(m, k) for m in funnel.metrics for k in ("p", "f") if L.abs_header(m, k) in plan
    ]
    spec = PlanWorkbookSpec(
        month=new,
        funnel=funnel,
        lines=pd.DataFrame(
            lines, columns=list(dict.fromkeys([*L.KEYS, *[k for li in lines for k in li]]))
        ),
        window=settings.window,
        method=settings.method,
        currency=settings.currency,
        chart_metric=settings.chart_metric if settings.chart_metric in funnel.metrics else "leads",
        history=plan[history_cols],
        daily_history=split_history,
        split_inputs=split_inputs,
        mapping=mapping,
        history_title=f"{settings.month:%B %Y}: plan and fact per line (from {wb.name})",
    )
    save_atomic(build_plan_workbook(spec), out)
    wb.notify(f"New month {new:%Y-%m} written to {out} ({len(lines)} lines)")
    return NewMonthResult(path=out, month=new, lines=len(lines), basis=pd.DataFrame(basis_rows))


def open_workbook(path: Path | str) -> XlsxWorkbook:
    """The xlsx adapter for a path (the CLI's workbook)."""
    return XlsxWorkbook(path)
