"""Where things are in the planning workbook: sheet names, header texts, rows.

Actions find columns by their header text (never by letter), so a user may reorder or add
columns; these names are the contract between the template, the actions and every adapter.
"""

from __future__ import annotations

from planning.funnel import Funnel

PLAN = "Plan"
EXECUTIVE = "Executive"
DAILY = "Daily"
SETTINGS = "Settings"
HISTORY = "History"

#: Plan sheet: row of the column headers, first line row.
PLAN_HEADER_ROW = 4
PLAN_FIRST_ROW = PLAN_HEADER_ROW + 1
TOTAL_LABEL = "Total"
KEYS = ("channel", "campaign")

#: Per absolute metric: plan, fact, run-rate, % of plan (fact, run-rate), daily pace needed.
ABS_KINDS = ("p", "f", "rr", "%f", "%rr", "pace")
#: Per ratio: plan, fact, run-rate (CRs have no run-rate column).
RATIO_KINDS = ("p", "f", "rr")

#: Executive sheet.
EXEC_HEADER_ROW = 4
EXEC_FIRST_ROW = EXEC_HEADER_ROW + 1
EXEC_METRICS = ("spend", "leads", "purchases", "revenue")

#: Settings sheet: key/value table in A:C, stages table from column E.
SETTINGS_HEADER_ROW = 1
STAGES_FIRST_COL = 5
SETTING_MONTH = "month"
SETTING_AS_OF = "as of"
SETTING_DAYS_IN_MONTH = "days in month"
SETTING_DAYS_ELAPSED = "days elapsed"
SETTING_DAYS_LEFT = "days left"
SETTING_WINDOW = "run-rate window"
SETTING_METHOD = "run-rate method"
SETTING_CURRENCY = "currency"
SETTING_CHART_METRIC = "chart metric"

#: Pace sheet: cumulative plan / fact / run-rate of the chart metric per day (header row 1).
PACE = "Pace"
PACE_HEADERS = ("day", "plan", "fact", "run-rate")


def abs_header(metric: str, kind: str) -> str:
    """Header of an absolute-metric column, e.g. ``abs_header("leads", "p") == "leads p"``."""
    return f"{metric} {kind}"


def ratio_header(ratio: str, kind: str) -> str:
    """Header of a ratio column: ``ratio_header("cpa_leads", "f") == "cpa leads f"``."""
    return f"{ratio.replace('_', ' ')} {kind}"


def ratio_kinds(ratio: str) -> tuple[str, ...]:
    """Which of p/f/rr a ratio has: conversion rates have no run-rate column."""
    return ("p", "f") if ratio.startswith("cr_") else RATIO_KINDS


def plan_headers(funnel: Funnel) -> list[str]:
    """Every Plan-sheet header in order: keys, absolute blocks, then ratio blocks."""
    headers = list(KEYS)
    for metric in funnel.metrics:
        headers += [abs_header(metric, kind) for kind in ABS_KINDS]
    for ratio in funnel.ratio_names():
        headers += [ratio_header(ratio, kind) for kind in ratio_kinds(ratio)]
    return headers


def ratio_label(ratio: str, funnel: Funnel) -> str:
    """Display label of a ratio group, e.g. ``"CR Leads"``, ``"CPA PP"``, ``"CPC"``."""
    if ratio in ("cpc", "roas", "romi"):
        return ratio.upper()
    kind, stage = ratio.split("_", 1)
    return f"{kind.upper()} {funnel.stage(stage).title}"


def metric_label(metric: str, funnel: Funnel) -> str:
    """Display label of an absolute metric."""
    if metric in ("spend", "revenue"):
        return metric.capitalize()
    return funnel.stage(metric).title
