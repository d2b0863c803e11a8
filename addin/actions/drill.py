"""Drill: the Drill sheet from the fact store's facts by dimension (issue 15).

The facts are the ones Sync Facts fills the Plan's ``f`` with, taken again from the store with
their dimensions (`FactStore.source_facts(dimensions=True)`): the configured sources' facts of
the plan month up to the Settings sheet's as-of, each source on its basis
(`sync_facts.map.source_basis`), mapped with the Mapping rules and matched to the Plan's lines
the same way (`map_facts`, `match_lines`). A fact on a plan line carries the line's channel and
campaign (as the Plan spells them); the rest is "not in the Plan". The numbers are
`planning.drill`; the sheet is `workbook_templates.drill_sheet`: every new workbook has it (the
template); a workbook made before gets it with its inputs on the first press (by channel; press
again after choosing a level and filters). The sheet is found by its role, so a Russian or
renamed sheet is the one written.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from addin.actions.base import Action, ActionContext, ActionError
from addin.actions.button_config import button_config
from addin.actions.sync_facts.map import by_basis, source_basis
from addin.actions.texts import day, texts_of
from planning.drill import LEVELS, Drill, drill
from planning.runrate import month_end
from sheets_sync.facts import DIMENSIONS
from sheets_sync.i18n import Translator
from sheets_sync.mapping import map_facts, match_lines
from sheets_sync.store import FactStore
from sheets_sync.sync_config import SyncConfig
from sheets_sync.workbooks.interface import WorkbookTarget
from workbook_templates.drill_sheet import (
    DRILL,
    drill_headers,
    drill_rows,
    input_block,
    read_drill_inputs,
    used_rows,
    write_drill,
)
from workbook_templates.mapping_sheet import read_rules
from workbook_templates.plan_sheet import read_plan
from workbook_templates.settings_sheet import read_funnel, read_settings

__all__ = ["ACTION", "drill_facts", "refresh_drill", "run_button"]


def drill_facts(
    store: FactStore, config: SyncConfig, wb: WorkbookTarget, plan: pd.DataFrame
) -> tuple[pd.DataFrame, dt.date | None]:
    """The month's facts up to as-of with ``line`` (-1: no plan line), the level columns
    (`planning.drill.LEVELS`), ``metric`` and ``value``; and the as-of used."""
    settings = read_settings(wb)
    first, last = settings.month, month_end(settings.month)
    as_of = settings.as_of
    basis_of = {src.name: source_basis(config, src) for src in config.sources}
    frames = [
        store.source_facts(start=first, end=last, basis=b, sources=names, dimensions=True)
        for b, names in by_basis(basis_of)
    ]
    facts = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if facts.empty:
        return _empty(), as_of
    if as_of is None:
        as_of = pd.Timestamp(facts["date"].max()).date()
    facts = facts[pd.to_datetime(facts["date"]) <= pd.Timestamp(as_of)]
    mapped = map_facts(facts.reset_index(drop=True), read_rules(wb))
    line = match_lines(mapped, plan)
    out = pd.DataFrame(
        {
            "line": line,
            "metric": mapped["metric"].astype(str).to_numpy(),
            "value": mapped["value"].to_numpy(dtype=np.float64),
        }
    )
    on_plan = line >= 0
    for key in ("channel", "campaign"):  # as the Plan spells the line
        names = plan[key].fillna("").astype(str).to_numpy(dtype=object)
        out[key] = np.where(on_plan, names[np.where(on_plan, line, 0)], "")
    for name in DIMENSIONS:
        out[name] = mapped[name].astype(str).to_numpy()
    return out, as_of


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in ("metric", *LEVELS)})
    frame["line"] = pd.Series(dtype="int64")
    frame["value"] = pd.Series(dtype="float64")
    return frame


def refresh_drill(wb: WorkbookTarget, config: SyncConfig, save: bool = True) -> Drill:
    """Read the Drill sheet's level and filters (the sheet added when missing), fill it from
    `config`'s store, save; the drill written."""
    if config.store_url is None and not config.store.exists():
        raise ActionError(
            f"Drill reads the facts from the fact store {config.store}, which does not exist "
            "yet: press Sync Facts first."
        )
    t = texts_of(wb)
    if DRILL not in wb.sheet_names():
        wb.add_sheet(DRILL)
        wb.write_block(DRILL, 1, 1, input_block(t))
        old = 0
    else:
        old = used_rows(wb, DRILL)
    inputs = read_drill_inputs(wb, DRILL, t)
    _, plan = read_plan(wb, read_funnel(wb))
    with FactStore(config.store_location) as store:
        facts, as_of = drill_facts(store, config, wb, plan)
    result = drill(facts, plan, inputs.level, inputs.filters)
    status = _status(result, as_of, t)
    write_drill(wb, DRILL, status, drill_headers(inputs.level, t), drill_rows(result, t), old)
    if save:
        wb.save()
    return result


def _status(result: Drill, as_of: dt.date | None, t: Translator) -> str:
    filters = ", ".join(f"{t(k)} = {v or t('(no value)')}" for k, v in result.filters)
    return t(
        "By {level}, as of {as_of}; filters: {filters}",
        level=t(result.level),
        as_of="-" if as_of is None else day(as_of, t),
        filters=filters or t("none"),
    )


def summary(result: Drill, t: Translator) -> str:
    """The button's sentence."""
    return t(
        "Drill: {n} rows by {level} on sheet `{sheet}`.",
        n=len(result.rows),
        level=t(result.level),
        sheet=t(DRILL),
    )


def run_button(ctx: ActionContext) -> str:
    """The Drill button."""
    try:
        config = button_config(ctx)
    except ActionError as err:
        raise ActionError(f"Drill reads the facts through the sync config: {err}") from None
    return summary(refresh_drill(ctx.workbook, config), texts_of(ctx.workbook))


ACTION = Action(
    "drill",
    "Drill",
    "The month's plan, fact and run-rate by channel, campaign, segment, creative, city or "
    "product, with filters (the Drill sheet's level and filter cells), from the fact store.",
    run_button,
    group="Facts",
    icon="FilterBySelection",
    tip=(
        "Drill: choose a level (channel → campaign → segment → creative, or city, or product) "
        "and filters on the Drill sheet; plan, fact, run-rate, CPL, CPA and CR per value, "
        "ratios from sums, a row for facts with no value so the total equals the Plan's."
    ),
)
