"""Build a new planning workbook with openpyxl: every sheet from its module's template writer.

One module per sheet, each holding the sheet's layout, its template and how buttons read and
write it: `plan_sheet`, `executive_sheet`, `pace_sheet`, `optimize_split_sheet`, `curves_sheet`,
`scenarios_sheet`, `split_undo_sheet`, `daily_sheet`, `daily_history_sheet`, `mapping_sheet`,
`quality_sheet`, `unmapped_sheet`, `settings_sheet`, `history_sheet`, `alerts_sheet`,
`attribution_sheet`, `cohorts_sheet`, `review_sheet`, `drill_sheet`. Shared vocabulary (sheet
names, header texts and rows) is in `layout`, the look in `styles`, cell values in `cells`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from openpyxl import Workbook

from planning.alert_rules import Rule
from planning.funnel import DEFAULT_FUNNEL, Funnel
from planning.runrate import METHODS
from sheets_sync.i18n import resolve_language, translator
from sheets_sync.sources.crm_stages import StageRule
from workbook_templates import layout as L
from workbook_templates.alerts_sheet import write_alerts_template
from workbook_templates.attribution_sheet import write_attribution_template
from workbook_templates.cohorts_sheet import write_cohorts_template
from workbook_templates.daily_history_sheet import write_daily_history_template
from workbook_templates.daily_sheet import write_daily_template
from workbook_templates.drill_sheet import write_drill_template
from workbook_templates.executive_sheet import write_executive_template
from workbook_templates.finishing import dress_workbook, fit_widths
from workbook_templates.glossary_sheet import write_glossary_template
from workbook_templates.history_sheet import write_history_template
from workbook_templates.localize import add_role_names, localize_workbook
from workbook_templates.mapping_sheet import write_mapping_template
from workbook_templates.optimize_split_sheet import write_optimize_split_template
from workbook_templates.pace_sheet import write_pace_template
from workbook_templates.plan_sheet import write_plan_template
from workbook_templates.quality_sheet import write_quality_template
from workbook_templates.review_sheet import write_review_template
from workbook_templates.scenarios_sheet import plan_channels, write_scenarios_template
from workbook_templates.settings_sheet import write_settings_template
from workbook_templates.split_undo_sheet import write_split_undo_template
from workbook_templates.unmapped_sheet import write_unmapped_template


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
    `mapping`: the Mapping sheet's starting rules. `alert_rules`: the Alerts sheet's (None:
    `planning.alert_rules.default_rules()`).
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
    crm_stages: Sequence[StageRule] = ()
    """The Mapping sheet's CRM stages rows (New Month carries them over)."""
    alert_rules: Sequence[Rule] | None = None  # None: the defaults
    lang: str = field(default_factory=lambda: resolve_language(None))
    """The workbook's language (``ru``/``en``; default: the system's). The template is drawn in
    English, then translated in place (`workbook_templates.localize`)."""

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
        object.__setattr__(self, "lang", resolve_language(self.lang))


def build_plan_workbook(spec: PlanWorkbookSpec) -> Workbook:
    """The planning workbook for `spec`: Executive, Plan, Optimize Split, Curves, Scenarios,
    Review, Drill, Daily, Daily History, Mapping, Data Quality, Alerts, Attribution, Cohorts,
    Unmapped, Settings, Pace (and History), Glossary, and the hidden Split Undo last; in
    `spec.lang`, every sheet with its ``_fp_role_<role>`` defined name."""
    wb = Workbook()
    default = wb.active
    if default is not None:
        wb.remove(default)
    funnel = spec.funnel
    plan = write_plan_template(wb, spec.month, funnel, spec.lines, spec.blank_rows)
    write_optimize_split_template(wb, spec.month.strftime("%B %Y"), spec.lines, spec.split_inputs)
    write_scenarios_template(wb, plan_channels(spec.lines))
    write_review_template(wb, funnel)
    write_drill_template(wb, translator("en"))  # English, like every template: see below
    write_split_undo_template(wb)
    write_daily_template(wb, funnel, spec.daily)
    write_daily_history_template(wb, spec.daily_history)
    write_mapping_template(wb, spec.mapping, spec.crm_stages)
    write_quality_template(wb)
    write_alerts_template(wb, spec.alert_rules, funnel)
    write_attribution_template(wb)
    write_cohorts_template(wb)
    write_unmapped_template(wb)
    write_settings_template(
        wb,
        funnel,
        month=spec.month,
        as_of=spec.as_of,
        window=spec.window,
        method=spec.method,
        currency=spec.currency,
        chart_metric=spec.chart_metric,
        language=spec.lang,
    )
    executive = write_executive_template(
        wb, spec.month, funnel, spec.lines, spec.chart_metric, plan
    )
    executive.place_pace_chart(write_pace_template(wb, spec.month, funnel, spec.chart_metric, plan))
    if spec.history is not None:
        write_history_template(wb, spec.history, spec.history_title)
    write_glossary_template(wb, funnel)
    undo = wb[L.SPLIT_UNDO]
    wb.move_sheet(undo, offset=len(wb.sheetnames) - 1 - wb.sheetnames.index(L.SPLIT_UNDO))
    wb.active = 0
    dress_workbook(wb, funnel.metrics, spec.lang)  # English headers, lang formats
    roles = {ws.title: ws.title for ws in wb.worksheets}
    renames = localize_workbook(wb, spec.lang)
    add_role_names(wb, {role: renames.get(title, title) for role, title in roles.items()})
    fit_widths(wb)  # last: the widths fit the texts as translated
    return wb
