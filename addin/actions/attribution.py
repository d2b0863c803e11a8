"""The Attribution button: journeys from the fact store, every model, the true CPA per channel
on the Attribution sheet.

The journeys come from the sync config's sources of kind ``paths`` (loaded into the fact store
first, idempotently). A touch's channel is its own when the export names one (a direct visit),
else the Mapping sheet's rule for its UTMs (the same rules as the facts), else ``Other``. The
conversions counted are those from the sheet's `from` to `to` (default: the plan month up to
as-of), each journey with its touches inside the lookback; journeys that converted outside the
period are left out, the non-converting journeys of the period stay (the Markov chain needs
them). Spend per channel is the Daily sheet's over the same days.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from addin.actions.base import Action, ActionContext, ActionError
from addin.actions.sync_facts.button import button_config
from addin.actions.texts import ENGLISH, number, texts_of
from planning.attribution import build_paths
from planning.attribution_report import AttributionReport, attribution_report
from sheets_sync.i18n import Translator
from sheets_sync.mapping import Rule, map_facts
from sheets_sync.paths_sync import load_paths_sources
from sheets_sync.store import FactStore
from sheets_sync.store_folder import store_folder
from sheets_sync.sync_config import SyncConfig
from sheets_sync.workbooks.interface import WorkbookTarget
from workbook_templates.attribution_sheet import (
    ATTRIBUTION,
    AttributionSettings,
    read_attribution_settings,
    write_report,
    write_sources,
)
from workbook_templates.daily_sheet import read_daily
from workbook_templates.mapping_sheet import read_rules
from workbook_templates.settings_sheet import Settings, read_funnel, read_settings

OTHER = "Other"
KINDS = (("lead", "leads"), ("purchase", "purchases"))


def channels_of(touches: pd.DataFrame, rules: list[Rule]) -> pd.Series:
    """Each touch's channel: its own, else the Mapping rules' for its UTMs, else `OTHER`
    (blank when the touch has neither: the models count it as unknown)."""
    own = touches["channel"].fillna("").astype(str).str.strip()
    frame = touches.assign(
        source=touches.get("source", pd.Series("", index=touches.index)).fillna(""),
        **{c: touches[c].fillna("") for c in ("utm_source", "utm_medium", "utm_campaign")},
    )
    mapped = map_facts(frame[["source", "utm_source", "utm_medium", "utm_campaign"]], rules)
    has_utm = (frame[["utm_source", "utm_medium", "utm_campaign"]] != "").any(axis=1)
    channel = np.where(own != "", own, np.where(mapped["channel"] != "", mapped["channel"], ""))
    channel = np.where((channel == "") & has_utm.to_numpy(), OTHER, channel)
    return pd.Series(channel, index=touches.index, dtype=object)


def _keyed(touches: pd.DataFrame, outcomes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Journey ids are unique within a source only: key them by source too (when both frames
    say their source, as the store's do)."""
    if "source" not in touches or "source" not in outcomes:
        return touches, outcomes

    def keyed(frame: pd.DataFrame) -> pd.DataFrame:
        key = frame["source"].astype(str) + ":" + frame["journey"].astype(str)
        return frame.assign(journey=key)

    return keyed(touches), keyed(outcomes)


def period(settings: Settings, att: AttributionSettings) -> tuple[dt.date, dt.date]:
    start = att.start or settings.month
    end = att.end or settings.as_of or dt.date.today()
    if end < start:
        raise ActionError(f"Attribution: `to` ({end}) is before `from` ({start}) on {ATTRIBUTION}.")
    return start, end


def spend_by_channel(
    wb: WorkbookTarget, settings: Settings, start: dt.date, end: dt.date
) -> dict[str, float]:
    daily = read_daily(wb, read_funnel(wb), settings.month)
    if daily.empty or "spend" not in daily:
        return {}
    days = pd.to_datetime(daily["date"]).dt.date
    inside = daily[(days >= start) & (days <= end)]
    return {str(c): float(v) for c, v in inside.groupby("channel")["spend"].sum().items() if c}


def report_for(
    touches: pd.DataFrame,
    outcomes: pd.DataFrame,
    kind: str,
    start: dt.date,
    end: dt.date,
    att: AttributionSettings,
    spend: Mapping[str, float],
) -> AttributionReport | None:
    """One conversion kind's report over the period, or None when nothing converted."""
    mine = outcomes[outcomes["kind"] == kind]
    day = pd.to_datetime(mine["ts"]).dt.date
    inside = mine[(day >= start) & (day <= end)]
    if inside.empty:
        return None
    elsewhere = set(mine.loc[~mine.index.isin(inside.index), "journey"]) - set(inside["journey"])
    touch_day = pd.to_datetime(touches["ts"]).dt.date
    keep = ~touches["journey"].isin(elsewhere) & (
        touches["journey"].isin(set(inside["journey"]))
        | ((touch_day >= start) & (touch_day <= end))
    )
    conv = inside.assign(conversions=1.0)[["journey", "ts", "conversions", "value"]]
    paths, issues = build_paths(
        touches.loc[keep, ["journey", "ts", "channel"]],
        conv,
        lookback_days=att.lookback_days,
        now=pd.Timestamp(end) + pd.Timedelta(days=1),
    )
    return attribution_report(
        paths,
        issues,
        spend,
        kind=kind,
        chosen=att.model,
        order=att.order,
        half_life_days=att.half_life_days,
    )


def attribution(
    wb: WorkbookTarget,
    touches: pd.DataFrame,
    outcomes: pd.DataFrame,
    save: bool = True,
    **overrides: Any,
) -> dict[str, AttributionReport | None]:
    """Attribute the journeys (touches with UTMs or channels, outcomes with kind and value)
    and write the Attribution sheet; returns the report per kind. `overrides`: settings given
    instead of the sheet's (model, order, lookback_days, half_life_days, start, end)."""
    if ATTRIBUTION not in wb.sheet_names():
        raise ActionError(
            f"This workbook has no `{ATTRIBUTION}` sheet: a workbook made by this version has "
            "one (funnelplan template or New Month)."
        )
    att = read_attribution_settings(wb)
    given = {k: v for k, v in overrides.items() if v is not None}
    if given:
        att = dataclasses.replace(att, **given)
    settings = read_settings(wb)
    start, end = period(settings, att)
    touches, outcomes = _keyed(touches, outcomes)
    touches = touches.assign(channel=channels_of(touches, read_rules(wb)))
    spend = spend_by_channel(wb, settings, start, end)
    reports = {
        label: report_for(touches, outcomes, kind, start, end, att, spend) for kind, label in KINDS
    }
    write_report(wb, reports["leads"], reports["purchases"])
    if save:
        wb.save()
    return reports


def journeys(config: SyncConfig) -> tuple[pd.DataFrame, pd.DataFrame, list[list[Any]]]:
    """The config's `paths` sources loaded into its store, every journey stored, and a row
    per input read (source, file, touches, journeys, converting, quarantined, notes)."""
    store_folder(config)
    with FactStore(config.store_location) as store:
        loads = load_paths_sources(config, store)
        touches, outcomes = store.paths()
    rows = []
    for load in loads:
        counts = load.result.counts
        notes = "; ".join(w for info in load.result.files for w in info.warnings)
        rows.append(
            [
                load.source,
                Path(load.file).name if not load.file.startswith("sql:") else load.file,
                counts.get("touches"),
                counts.get("journeys"),
                counts.get("converting"),
                len(load.result.quarantine),
                notes[:500] or None,
            ]
        )
    return touches, outcomes, rows


def summary(
    reports: Mapping[str, AttributionReport | None], sheet: bool = True, t: Translator = ENGLISH
) -> str:
    """The button's sentence, in `t`'s language."""
    leads = reports.get("leads")
    name = t(ATTRIBUTION)
    if leads is None:
        return t(
            "Attribution: no lead conversions in the period; see the {sheet} sheet.", sheet=name
        )
    top = sorted(leads.channels, key=lambda c: -c.conversions.get(leads.chosen, 0.0))[:3]
    under = [c.channel for c in leads.channels if c.verdict == "under_credited"]
    text = t(
        "Attribution ({model}): {leads} leads; most credited {top}",
        model=leads.chosen,
        leads=number(leads.conversions, t),
        top=", ".join(f"{c.channel} {number(c.conversions[leads.chosen], t)}" for c in top),
    )
    if under:
        text += t("; under-credited by last click: {channels}", channels=", ".join(under))
    return text + (t(". See the {sheet} sheet.", sheet=name) if sheet else ".")


def run_button(ctx: ActionContext) -> str:
    """The Attribution button."""
    try:
        config = button_config(ctx)
    except ActionError as err:
        raise ActionError(
            f"Attribution reads the journeys through the sync config: {err}"
        ) from None
    if not any(s.kind == "paths" for s in config.sources):
        raise ActionError(
            f"{config.origin} has no source of kind `paths` (journeys): add one, e.g. a "
            "Metrica visits export (README, Attribution)."
        )
    touches, outcomes, inputs = journeys(config)
    reports = attribution(ctx.workbook, touches, outcomes, save=False)
    write_sources(ctx.workbook, inputs)
    ctx.workbook.save()
    return summary(reports, t=texts_of(ctx.workbook))


ACTION = Action(
    "attribution",
    "Attribution",
    "Credit the leads and purchases across each journey's channels (rules, Markov, Shapley) "
    "and show the true CPA per channel.",
    run_button,
    group="Facts",
    icon="PivotTableInsert",
    tip=(
        "Which channels really bring the leads: every attribution model side by side, the true "
        "CPA, assists and removal effects, from the journeys in the fact store."
    ),
)
