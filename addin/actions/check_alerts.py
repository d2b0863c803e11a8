"""The Alerts button: evaluate the Alerts sheet's rules on the Plan, Daily and Data Quality
numbers, keep the incident log, and list the open and recent incidents beside the rules.

`alert_inputs` gathers what the rules look at from a workbook (the digest uses it too);
`check_alerts` evaluates, updates the incident log in the fact store (when the workbook has a
sync config; else the incidents are this run's firings only) and writes the incidents block.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from addin.actions.base import Action, ActionContext, ActionError
from addin.actions.sync_facts.button import button_config
from addin.actions.texts import ENGLISH, day, texts_of
from planning.alert_rules import Rule, default_rules
from planning.alerts import (
    AlertInputs,
    Evaluation,
    FailedLoad,
    Firing,
    LeadsCheck,
    SourceAge,
    evaluate,
)
from sheets_sync.i18n import Translator
from sheets_sync.incident_log import Incident, IncidentLog, IncidentUpdate
from sheets_sync.store import FactStore
from sheets_sync.sync_config import SyncConfig
from sheets_sync.workbooks.interface import WorkbookTarget
from workbook_templates.alerts_sheet import ALERTS, read_rules, write_incidents, write_rules
from workbook_templates.daily_history_sheet import read_daily_history
from workbook_templates.daily_sheet import read_daily
from workbook_templates.plan_sheet import read_plan
from workbook_templates.quality_sheet import read_quality_signals
from workbook_templates.settings_sheet import read_funnel, read_settings

RECENT_DAYS = 14


@dataclass(frozen=True)
class AlertsOutcome:
    """One evaluation: the rules used, the inputs, what fired, and the incident log's view."""

    rules: tuple[Rule, ...]
    inputs: AlertInputs
    evaluation: Evaluation
    update: IncidentUpdate | None  # None: no incident log (no sync config)
    incidents: tuple[Incident, ...]  # open and recently closed (empty without a log)
    due: tuple[Incident, ...]  # open incidents to tell the team about


def alert_inputs(
    wb: WorkbookTarget, now: dt.datetime, failed: Sequence[FailedLoad] = ()
) -> tuple[AlertInputs, list[Rule]]:
    """The numbers the rules look at, from the workbook, and the rules (the Alerts sheet's;
    the defaults when the workbook has none)."""
    settings = read_settings(wb)
    funnel = read_funnel(wb)
    _, plan_frame = read_plan(wb, funnel)
    plan = plan_frame[["channel", "campaign"]].copy()
    for m in funnel.metrics:
        header = f"{m} p"
        if header in plan_frame:
            plan[m] = plan_frame[header]
    daily = read_daily(wb, funnel, settings.month)
    history = read_daily_history(wb, settings.month, funnel.stages[1].name)
    as_of = settings.as_of or (max(daily["date"]) if len(daily) else settings.month)
    quality = read_quality_signals(wb)
    # a source's age as Data Quality measured it at the last sync (what the team sees there);
    # without one, the age of its latest data now
    ages = []
    for source, latest, age in quality.sources:
        hours = age if age is not None or latest is None else (now - latest).total_seconds() / 3600
        if hours is not None:
            ages.append(SourceAge(source, round(hours, 2)))
    inputs = AlertInputs(
        month=settings.month,
        as_of=as_of,
        plan=plan,
        daily=daily,
        history=history,
        window=settings.window,
        method=settings.method,
        freshness=tuple(ages),
        leads_check=tuple(LeadsCheck(c, crm, p) for c, crm, p in quality.leads_check),
        failed_loads=tuple(failed),
        funnel=funnel,
    )
    rules = read_rules(wb, funnel)
    return inputs, list(default_rules() if rules is None else rules)


def check_alerts(
    wb: WorkbookTarget, now: dt.datetime, log: IncidentLog | None, write: bool = True
) -> AlertsOutcome:
    """Evaluate, update the incident log (when given) and write the incidents block (and the
    default rules to a workbook that has no Alerts sheet) unless `write` is false."""
    failed = log.failed_loads() if log is not None else ()
    inputs, rules = alert_inputs(wb, now, failed)
    evaluation = evaluate(rules, inputs)
    update = log.update(evaluation.firings, now) if log is not None else None
    incidents = tuple(log.recent(now, RECENT_DAYS)) if log is not None else ()
    due = tuple(log.due()) if log is not None else ()
    if write:
        if ALERTS not in wb.sheet_names():
            write_rules(wb, rules)
        owners = {r.name: r.owner or None for r in rules}
        rows = (
            [incident_row(i, owners.get(i.rule)) for i in incidents]
            if log is not None
            else [firing_row(f, now) for f in evaluation.firings]
        )
        write_incidents(wb, rows)
        wb.save()
    return AlertsOutcome(tuple(rules), inputs, evaluation, update, incidents, due)


def incident_row(i: Incident, owner: str | None = None) -> list[Any]:
    return [
        i.status,
        i.rule,
        i.place,
        i.metric.replace("_", " "),
        i.value,
        i.threshold,
        i.since,
        i.opened_at,
        i.closed_at,
        i.severity,
        owner,
        i.note,
    ]


def firing_row(f: Firing, now: dt.datetime) -> list[Any]:
    return [
        "open",
        f.rule.name,
        f.where,
        f.rule.metric.replace("_", " "),
        f.value,
        f.limit,
        f.since,
        now,
        None,
        f.rule.severity,
        f.rule.owner or None,
        f.note or None,
    ]


def _config(ctx: ActionContext) -> SyncConfig | None:
    """The workbook's sync config (its fact store holds the incident log), if it has one."""
    try:
        return button_config(ctx)
    except ActionError:
        return None


def run_with_config(
    wb: WorkbookTarget, config: SyncConfig | None, now: dt.datetime, write: bool = True
) -> AlertsOutcome:
    """`check_alerts` with the incident log of `config`'s fact store (none without a config)."""
    if config is None:
        return check_alerts(wb, now, None, write)
    with FactStore(config.store_location) as store:
        return check_alerts(wb, now, IncidentLog(store), write)


def summary(outcome: AlertsOutcome, t: Translator = ENGLISH) -> str:
    """The button's sentence, in `t`'s language."""
    firings = outcome.evaluation.firings
    when = day(outcome.inputs.as_of, t)
    if not firings:
        return t("Alerts: none of {n} rules fires as of {day}.", n=len(outcome.rules), day=when)
    worst = sorted({f.rule.severity for f in firings})
    message = t(
        "Alerts: {n} firing as of {day} ({severities}); see the {sheet} sheet.",
        n=len(firings),
        day=when,
        severities=", ".join(worst),
        sheet=t(ALERTS),
    )
    if outcome.update is not None:
        u = outcome.update
        message += t(
            " New {new}, still open {open}, closed {closed}.",
            new=len(u.opened),
            open=len(u.continuing),
            closed=len(u.closed),
        )
    else:
        message += t(" No sync config beside the workbook: no incident log is kept.")
    return message


def run_button(ctx: ActionContext) -> str:
    """The Alerts button."""
    outcome = run_with_config(ctx.workbook, _config(ctx), ctx.now)
    return summary(outcome, texts_of(ctx.workbook))


def frame_of(incidents: Sequence[Incident]) -> pd.DataFrame:
    """The incidents as a table (the CLI's --json)."""
    return pd.DataFrame([i.__dict__ for i in incidents])


ACTION = Action(
    "check_alerts",
    "Alerts",
    "Evaluate the Alerts sheet's rules and list the open and recent incidents.",
    run_button,
    group="Facts",
    icon="HighImportance",
    tip=(
        "Check the alert rules (CPA vs KPI, ROAS, pacing, anomalies, data freshness, CRM "
        "mismatch) on the facts so far; open incidents are listed on the Alerts sheet."
    ),
)
