"""Refresh Cohorts: the Cohorts sheet from the CRM deals in the fact store.

The deals (each lead's day and the day it reached PP, negotiations, a purchase) are those Sync
Facts loaded from the config's CRM exports, mapped to the Plan's channels with the Mapping rules
(`addin.actions.cohort_inputs`); the numbers are `planning.cohorts` (the cohort table, the lag
curves, the revenue per purchase); the sheet is `workbook_templates.cohorts_sheet`. Sync Facts
runs the same update (`update_cohorts`) after filling the facts, in its one save.

As-of: the one given (Sync Facts passes its own), else the Settings sheet's, else the newest
lead day in the store. With no deals at all the sheet says so (nothing fails).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from addin.actions.base import Action, ActionContext, ActionError
from addin.actions.button_config import button_config
from addin.actions.cohort_inputs import HISTORY_DAYS, CohortInputs, read_cohort_inputs
from addin.actions.texts import ENGLISH, day, number, texts_of
from planning.cohorts import (
    POOLED,
    LagCurve,
    cohort_table,
    lag_curves,
    revenue_per_purchase,
)
from sheets_sync.i18n import Translator
from sheets_sync.mapping import Rule
from sheets_sync.store import FactStore
from sheets_sync.sync_config import SyncConfig
from sheets_sync.workbooks.interface import WorkbookTarget
from workbook_templates.cohorts_sheet import HORIZON, WEEKS, CohortsReport, write_cohorts
from workbook_templates.mapping_sheet import read_rules
from workbook_templates.plan_sheet import read_plan
from workbook_templates.settings_sheet import read_funnel, read_settings

__all__ = [
    "ACTION",
    "MATURE_SHARE",
    "CohortsOutcome",
    "cohorts_report",
    "mature_age",
    "refresh_cohorts",
    "run_button",
    "update_cohorts",
]

MATURE_SHARE = 0.9
"""A lead week is mature once its youngest lead is as old as the age by which the channel's
purchase curve reaches this share of its last value."""


@dataclass(frozen=True)
class CohortsOutcome:
    """What an update of the Cohorts sheet did."""

    as_of: dt.date
    report: CohortsReport
    inputs: CohortInputs
    rows: int

    @property
    def channels(self) -> list[str]:
        return sorted({c for c, _ in self.report.curves if c != POOLED})

    @property
    def enough(self) -> list[str]:
        """Channels whose purchase curve allows a forecast."""
        return [c for c in self.channels if _enough(self.report.curves, c)]


def _enough(curves: dict[tuple[str, str], LagCurve] | object, channel: str) -> bool:
    curve = curves.get((channel, "purchases")) if isinstance(curves, dict) else None
    return bool(curve is not None and curve.enough)


def mature_age(curve: LagCurve | None, share: float = MATURE_SHARE) -> int | None:
    """The first age (days) at which `curve` reaches `share` of its last value; None when it
    never rises (no event to tell by)."""
    if curve is None or curve.cumulative.size == 0 or curve.cumulative[-1] <= 0:
        return None
    target = share * float(curve.cumulative[-1])
    return int(np.argmax(curve.cumulative >= target - 1e-12))


def cohorts_report(inputs: CohortInputs) -> CohortsReport:
    """The cohort table, the lag curves (horizon `HORIZON`), the revenue per purchase and the
    mature age of each channel, from `inputs`."""
    as_of = inputs.as_of
    deals = inputs.deals
    if deals.empty:
        return CohortsReport(as_of, None, {}, status=_status(inputs))
    frame = deals[["channel", "created", "pp", "negotiations", "purchases", "revenue"]]
    curves = lag_curves(frame, as_of, horizon=HORIZON)
    table = cohort_table(frame, as_of, spend=inputs.spend, weeks=WEEKS)
    channels = sorted({c for c, _ in curves})
    per_purchase = {
        c: revenue_per_purchase(frame, as_of, None if c == POOLED else c) for c in channels
    }
    mature = {c: mature_age(curves.get((c, "purchases"))) for c in channels}
    return CohortsReport(as_of, table, curves, per_purchase, mature, status=_status(inputs))


def _status(inputs: CohortInputs) -> str:
    start = inputs.as_of - dt.timedelta(days=HISTORY_DAYS)
    if inputs.stored == 0:
        return ""
    channels = inputs.deals["channel"].nunique()
    text = (
        f"As of {inputs.as_of:%Y-%m-%d}: {inputs.stored:,} CRM deals created since "
        f"{start:%Y-%m-%d}, {len(inputs.deals):,} of them in {channels} channels"
    )
    if inputs.unmapped_deals:
        top = inputs.unmapped.iloc[0]
        keys = " / ".join(str(top[k]) or "-" for k in ("utm_source", "utm_medium", "utm_campaign"))
        text += (
            f"; {inputs.unmapped_deals:,} matched no Mapping rule and are left out (most: "
            f"{top['source']} {keys}, {int(top['deals'])})"
        )
    if inputs.unplanned:
        text += f"; {inputs.unplanned:,} reach no Plan line (their channels are shown)"
    if inputs.before_spend:
        text += (
            f"; {inputs.before_spend:,} created before their channel's first day with spend are "
            "left out"
        )
    return text + "."


def update_cohorts(
    wb: WorkbookTarget,
    store: FactStore,
    config: SyncConfig,
    rules: list[Rule],
    plan: pd.DataFrame,
    as_of: dt.date,
) -> CohortsOutcome:
    """Stage the Cohorts sheet from the store's deals as of `as_of` (the caller saves)."""
    first = as_of - dt.timedelta(days=7 * WEEKS + 7)
    inputs = read_cohort_inputs(store, config, rules, plan, as_of, first_day=first)
    report = cohorts_report(inputs)
    rows = write_cohorts(wb, report)
    return CohortsOutcome(as_of, report, inputs, rows)


def _as_of(wb: WorkbookTarget, store: FactStore, config: SyncConfig) -> dt.date:
    settings = read_settings(wb)
    if settings.as_of is not None:
        return settings.as_of
    deals = store.deals([s.name for s in config.fact_sources])
    if len(deals):
        return pd.Timestamp(deals["created"].max()).date()
    return dt.date.today()


def refresh_cohorts(
    wb: WorkbookTarget, config: SyncConfig, as_of: dt.date | None = None, save: bool = True
) -> CohortsOutcome:
    """The Cohorts sheet from `config`'s fact store (see the module docstring)."""
    if config.store_url is None and not config.store.exists():
        raise ActionError(
            f"Refresh Cohorts reads the CRM deals from the fact store {config.store}, which "
            "does not exist yet: press Sync Facts first."
        )
    _, plan = read_plan(wb, read_funnel(wb))
    with FactStore(config.store_location) as store:
        day = as_of or _as_of(wb, store, config)
        outcome = update_cohorts(wb, store, config, read_rules(wb), plan, day)
    if save:
        wb.save()
    return outcome


def summary(outcome: CohortsOutcome, t: Translator = ENGLISH) -> str:
    """The button's sentence, in `t`'s language."""
    inputs = outcome.inputs
    if outcome.report.table is None:
        return t("Cohorts: no CRM deals in the fact store yet (add a CRM export and Sync Facts).")
    text = t(
        "Cohorts refreshed as of {day}: {deals} deals in {channels} channels; lag curves "
        "enough for a forecast in {enough}",
        day=day(outcome.as_of, t),
        deals=number(len(inputs.deals), t),
        channels=len(outcome.channels),
        enough=len(outcome.enough),
    )
    if inputs.unmapped_deals:
        text += t("; {deals} deals matched no Mapping rule", deals=number(inputs.unmapped_deals, t))
    return text + "."


def run_button(ctx: ActionContext) -> str:
    """The Refresh Cohorts button."""
    try:
        config = button_config(ctx)
    except ActionError as err:
        raise ActionError(
            f"Refresh Cohorts reads the deals through the sync config: {err}"
        ) from None
    return summary(refresh_cohorts(ctx.workbook, config), texts_of(ctx.workbook))


ACTION = Action(
    "refresh_cohorts",
    "Refresh Cohorts",
    "Follow each week's leads down the funnel (PP, negotiations, purchases by week since the "
    "lead) per channel from the CRM deals in the fact store.",
    run_button,
    group="Facts",
    icon="ChartTypeLineInsertGallery",
    tip=(
        "Cohorts: per channel, each week's leads and how many reached PP, negotiations and a "
        "purchase by week 0, 1, 2 … since the lead; the lag curves the lower stages' run-rate "
        "uses."
    ),
)
