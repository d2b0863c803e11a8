"""New Month: next month's planning workbook, planned from what this month learned.

Same lines, stages, settings and Mapping rules; budgets carried over; CPC and CRs from this
month's facts where the denominators are large enough, else from this month's plan. When the
Review sheet has a Brief (Review Month), each channel's lines are then set to its budget and
KPIs (`brief_targets`) instead of copying this month.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from addin.actions.base import Action, ActionContext, ActionError
from addin.actions.brief_targets import apply_brief_targets
from addin.actions.optimize_split import carry_over
from addin.actions.texts import month, month_name, texts_of
from planning.errors import InputError
from planning.funnel import Funnel, bottom_up
from sheets_sync.i18n import translator
from sheets_sync.workbooks.interface import WorkbookTarget
from sheets_sync.workbooks.xlsx import save_atomic
from workbook_templates import layout as L
from workbook_templates.alerts_sheet import read_rules as read_alert_rules
from workbook_templates.mapping_sheet import read_rules, read_stage_rules
from workbook_templates.plan_sheet import read_plan
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook
from workbook_templates.settings_sheet import read_funnel, read_settings

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
    brief: str | None = None  # where the Brief the lines were set to was (None: no Brief)


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
    The rules are read as Sync Facts reads them (`workbook_templates.mapping_sheet.read_rules`):
    blank rows are skipped, texts stripped, the data source, field and match lower-cased."""
    if L.MAPPING not in wb.sheet_names():
        return []
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


def new_month(
    wb: WorkbookTarget, out: Path, overwrite: bool = False, lang: str | None = None
) -> NewMonthResult:
    """Write next month's planning workbook to `out`; the current workbook is not changed.

    Same lines, stages, settings (the language too, unless `lang` names another) and Mapping
    rules; planned counts from bottom-up with the carried-over budget and the ratios chosen by
    `plan_next_line`. This month's plan and fact per line are kept as values on the new
    workbook's History sheet.
    """
    settings = read_settings(wb)
    new_lang = lang or settings.language
    new_t = translator(new_lang)  # the History title is written in the new workbook's language
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
    # the Review sheet's Brief, when there is one, sets the lines' budgets and KPIs
    brief = apply_brief_targets(wb, lines, funnel)
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
        crm_stages=read_stage_rules(wb),  # the CRM stages block carries over too
        alert_rules=read_alert_rules(wb, funnel),  # the team's rules carry over
        history_title=new_t(
            "{month}: plan and fact per line (from {book})",
            month=month_name(settings.month, new_t).capitalize(),  # "Ноябрь 2026"
            book=wb.name,
        ),
        lang=new_lang,
    )
    save_atomic(build_plan_workbook(spec), out)
    t = texts_of(wb)
    wb.notify(
        t(
            "New month {month} written to {path} ({lines} lines)",
            month=month(new, t),
            path=out,
            lines=len(lines),
        )
    )
    return NewMonthResult(
        path=out, month=new, lines=len(lines), basis=pd.DataFrame(basis_rows), brief=brief
    )


def run_button(ctx: ActionContext) -> str:
    """The New Month button: next month's workbook beside this one (or, on the function
    server, in its output folder, to be returned)."""
    wb = ctx.workbook
    if ctx.output_dir is not None:  # the function server returns the new workbook as a file
        safe = re.sub(r"[^\w. -]", "_", wb.name).strip(" .") or "plan"
        book = ctx.output_dir / f"{safe}.xlsx"
    elif ctx.spreadsheet_id:
        raise ActionError(
            "New Month on a Google Sheet runs on the function server (Funnel Plan menu), which "
            "returns next month's workbook to import as a new spreadsheet."
        )
    else:
        book = ctx.file("New Month writes next month's workbook beside it")
    month = read_settings(wb).month
    target = default_next_path(book, month, next_month(month))
    if target.exists():
        raise ActionError(
            f"New Month would write {target.name}, which already exists next to this workbook: "
            "rename or delete it, then click New Month again."
        )
    result = new_month(wb, target)
    t = texts_of(wb)
    return t(
        "New Month: {month} written to {file} ({lines} lines).",
        month=month_name(result.month, t),
        file=result.path.name,
        lines=result.lines,
    )


ACTION = Action(
    "new_month",
    "New Month",
    "Write next month's workbook beside this one, planned from this month's facts.",
    run_button,
    group="Month",
    icon="FileNew",
    tip="Write next month's planning workbook beside this one, planned from this month's facts.",
)
