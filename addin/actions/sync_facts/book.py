"""Step 0, the workbook: the sheets a sync needs, the plan month, the Plan's lines and the
Mapping rules (the sheet seeded with the config's ``[[mapping]]`` when it is missing or holds
no rule) and its CRM stage rows, read once into a `PlanBook`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from addin.actions.texts import texts_of
from planning.funnel import Funnel
from planning.runrate import month_end
from sheets_sync.mapping import Rule, rules_from_records
from sheets_sync.sources.crm_stages import StageRule
from sheets_sync.sync_config import SyncConfig
from sheets_sync.workbooks.interface import Table, WorkbookError, WorkbookTarget
from workbook_templates import layout as L
from workbook_templates.mapping_sheet import read_rules, read_stage_rules, write_rules
from workbook_templates.plan_sheet import read_plan
from workbook_templates.settings_sheet import read_funnel, read_settings

REQUIRED_SHEETS = (L.PLAN, L.SETTINGS, L.DAILY)


@dataclass(frozen=True)
class PlanBook:
    """What the sync takes from the workbook before it reads a source."""

    month: dt.date
    month_end: dt.date
    funnel: Funnel
    table: Table
    """The Plan sheet's table (where each ``f`` column is)."""
    plan: pd.DataFrame
    """The Plan's lines, in sheet order (``channel``, ``campaign``, ...)."""
    rules: list[Rule]
    mapping_created: bool
    """The Mapping sheet was added or filled from the config."""
    stage_rules: tuple[StageRule, ...] = ()
    """The Mapping sheet's CRM stages block (what the CRM sources' stage names count as)."""


def require_sheets(wb: WorkbookTarget) -> None:
    """The sheets a sync needs, or a message that says the workbook is not a planning one."""
    names = wb.sheet_names()
    for sheet in REQUIRED_SHEETS:
        if sheet not in names:
            shown = ", ".join(names[:8]) + (" …" if len(names) > 8 else "")
            raise WorkbookError(
                f"workbook {wb.name} has no sheet `{sheet}`: is it a funnelplan planning "
                f"workbook? (its sheets: {shown})"
            )


def ensure_mapping(wb: WorkbookTarget, config: SyncConfig) -> tuple[bool, list[Rule]]:
    """Seed the Mapping sheet with the config's rules when the workbook has none, or has the
    sheet with no rule at all (e.g. a new month's workbook): (True when it did, the rules the
    sync maps with). The sheet is read once."""
    if L.MAPPING in wb.sheet_names():
        rules = read_rules(wb)
        if not config.mapping or rules:
            return False, rules
        added = False
    else:
        wb.add_sheet(L.MAPPING)
        added = True
    write_rules(wb, config.mapping)
    t = texts_of(wb)
    n, sheet = len(config.mapping), t(L.MAPPING)
    if added:
        wb.notify(t("{sheet} sheet added with the config's {n} rules", sheet=sheet, n=n))
    else:
        wb.notify(t("{sheet} sheet filled with the config's {n} rules", sheet=sheet, n=n))
    records = [dict(r) for r in config.mapping]
    return True, rules_from_records(records, first_row=L.MAPPING_HEADER_ROW + 1)


def open_book(wb: WorkbookTarget, config: SyncConfig) -> PlanBook:
    """Check the workbook and read what the sync needs of it."""
    require_sheets(wb)
    settings = read_settings(wb)
    funnel = read_funnel(wb)
    table, plan = read_plan(wb, funnel)
    mapping_created, rules = ensure_mapping(wb, config)
    return PlanBook(
        month=settings.month,
        month_end=month_end(settings.month),
        funnel=funnel,
        table=table,
        plan=plan,
        rules=rules,
        mapping_created=mapping_created,
        stage_rules=read_stage_rules(wb),
    )
