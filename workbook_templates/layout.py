"""Where things are in the planning workbook: sheet names, header texts, rows.

Actions find columns by their header text (never by letter), so a user may reorder or add
columns; these names are the contract between the template, the actions, every adapter and the
tests, so they stay together here. How each sheet is drawn, read and written (formulas, number
formats, help texts) is in its own module, ``workbook_templates.<sheet>_sheet``.
"""

from __future__ import annotations

from planning.funnel import Funnel
from sheets_sync import mapping as _mapping
from sheets_sync.facts import METRICS

PLAN = "Plan"
EXECUTIVE = "Executive"
DAILY = "Daily"
SETTINGS = "Settings"
HISTORY = "History"

#: Daily History sheet: channel-level days before the month (header row 1), which Optimize
#: Split fits its response curves on together with the Daily sheet.
DAILY_HISTORY = "Daily History"
DAILY_HISTORY_HEADERS = ("date", "channel", "spend", "leads")

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


# --- Optimize Split ------------------------------------------------------------------------

SPLIT = "Optimize Split"
CURVES = "Curves"
SPLIT_UNDO = "Split Undo"

#: Scenarios sheet (what-if budgets, Compare Scenarios): its layout is in
#: `workbook_templates.scenarios_sheet`.
SCENARIOS = "Scenarios"

#: Optimize Split sheet, top: a key/value block (headers in row 3, one item per row below).
#: The first five items are inputs the user may set; the rest are written by Optimize Split.
SPLIT_INFO_HEADER_ROW = 3
SPLIT_INFO_HEADERS = ("item", "value", "help")
SPLIT_OBJECTIVE = "objective"
SPLIT_BUDGET = "budget"
SPLIT_STEP = "step"
SPLIT_MAX_CHANGE = "max change"
SPLIT_COUNTS = "counts"
SPLIT_LEADS_AFTER = "planned leads after apply"
SPLIT_INFO_INPUTS: tuple[tuple[str, str], ...] = (
    (
        SPLIT_OBJECTIVE,
        "leads (most leads), value (most revenue: leads x value per conversion) or attributed "
        "(most leads as the Attribution sheet credits them)",
    ),
    (SPLIT_BUDGET, "the month's budget to split; blank = the Plan's total `spend p`"),
    (SPLIT_STEP, "round each channel's proposal to a multiple of this; blank or 0 = no rounding"),
    (
        SPLIT_MAX_CHANGE,
        "a channel without min/max moves at most this share of its current spend "
        "(50% = ±50%); blank = 50%, 0 = no limit",
    ),
    (
        SPLIT_COUNTS,
        "what Apply Split does to each line's planned counts (leads ... revenue p): keep ratios "
        "= rescaled with its spend, so its planned CPA and CRs stay; curves = leads set to the "
        "curves' expected conversions, the CRs below kept; blank = keep ratios",
    ),
)
SPLIT_INFO_OUTPUTS: tuple[tuple[str, str], ...] = (
    ("days", "days in the month: curves are per day, amounts here are monthly"),
    ("budget used", "what was split"),
    ("current spend", "the Plan's `spend p`, summed per channel"),
    ("proposed spend", "sum of the proposal"),
    ("conversions now", "expected conversions at the current split (fitted curves)"),
    ("expected conversions", "expected conversions at the proposal"),
    ("uplift", "expected conversions: proposal − current"),
    ("uplift %", "uplift / conversions now"),
    (
        SPLIT_LEADS_AFTER,
        "the Plan's total `leads p` once Apply Split writes the proposal and the counts",
    ),
    ("value now", "expected value at the current split (when every channel has a value)"),
    ("expected value", "expected value at the proposal"),
    ("solver", "method and iterations"),
    (
        "marginal return",
        "value per 1,000 spent of the last unit, equal across free channels",
    ),
    ("status", "solver message"),
    ("history", "daily rows the curves were fitted on"),
)
SPLIT_INFO_FIRST_ROW = SPLIT_INFO_HEADER_ROW + 1

#: Optimize Split sheet, below: one row per channel, then a Total row.
SPLIT_HEADER_ROW = SPLIT_INFO_FIRST_ROW + len(SPLIT_INFO_INPUTS) + len(SPLIT_INFO_OUTPUTS) + 2
SPLIT_FIRST_ROW = SPLIT_HEADER_ROW + 1
SPLIT_CHANNEL = "channel"
SPLIT_MIN = "min"
SPLIT_MAX = "max"
SPLIT_LOCKED = "locked"
SPLIT_CPA_CAP = "cpa cap"
SPLIT_VALUE = "value per conversion"
SPLIT_INPUTS = (SPLIT_MIN, SPLIT_MAX, SPLIT_LOCKED, SPLIT_CPA_CAP, SPLIT_VALUE)
SPLIT_CURRENT = "current"
SPLIT_PROPOSED = "proposed"
SPLIT_DELTA = "Δ"
SPLIT_DELTA_PCT = "Δ%"
SPLIT_CONV_NOW = "conversions now"
SPLIT_EXPECTED = "expected conversions"
SPLIT_LOW = "low"
SPLIT_HIGH = "high"
SPLIT_MARGINAL_CPA = "marginal CPA"
SPLIT_CONFIDENCE = "confidence"
SPLIT_FLAGS = "flags"
SPLIT_OUTPUTS = (
    SPLIT_CURRENT,
    SPLIT_PROPOSED,
    SPLIT_DELTA,
    SPLIT_DELTA_PCT,
    SPLIT_CONV_NOW,
    SPLIT_EXPECTED,
    SPLIT_LOW,
    SPLIT_HIGH,
    SPLIT_MARGINAL_CPA,
    SPLIT_CONFIDENCE,
    SPLIT_FLAGS,
)
SPLIT_HEADERS = (SPLIT_CHANNEL, *SPLIT_INPUTS, *SPLIT_OUTPUTS)
#: Cells with these words in `locked` lock a channel (case-insensitive); blank or "no" frees it.
LOCKED_WORDS = ("yes", "y", "true", "1", "x", "locked", "да")
UNLOCKED_WORDS = ("", "no", "n", "false", "0", "нет")

#: Curves sheet: slot j takes columns 4j+1..4j+4 (spend, conversions, low, high); row 1 names
#: the slot (the series title), row 2 the quantities, data from row 3. Slot 0 holds the current
#: split's points, slot 1 the proposal's (one row per channel), slots 2.. one channel's curve
#: on a grid of `CURVE_POINTS` monthly spends.
CURVES_TITLE_ROW = 1
CURVES_HEADER_ROW = 2
CURVES_FIRST_ROW = 3
CURVE_QUANTITIES = ("spend", "conversions", "low", "high")
CURVE_POINTS = 41
CURVE_MARKER_SLOTS = ("current", "proposed")
MIN_CURVE_SLOTS = 8  # channel slots a template with no lines reserves

#: Split Undo sheet (hidden): what Apply Split replaced, one row per cell.
UNDO_HEADERS = ("cell", "sheet", "row", "column", "old kind", "old", "new")


def curve_column(slot: int, quantity: str) -> int:
    """1-based Curves-sheet column of `quantity` in `slot` (0, 1: markers; 2..: channels)."""
    return 4 * slot + 1 + CURVE_QUANTITIES.index(quantity)


# --- Sync Facts ----------------------------------------------------------------------------

MAPPING = _mapping.MAPPING_SHEET
DATA_QUALITY = "Data Quality"
UNMAPPED = "Unmapped"

#: Mapping sheet: one rule per row under header row 1 (first match wins). `data source` blank
#: = any source; `field` utm_source | utm_medium | utm_campaign; `match` exact | contains |
#: regex (case-insensitive, surrounding spaces ignored); `channel` and `campaign` name the plan
#: line (campaign blank: the row's utm_campaign). Defined in `sheets_sync.mapping`.
MAPPING_HEADER_ROW = 1
MAPPING_HEADERS = _mapping.MAPPING_HEADERS
MAPPING_FIELDS = _mapping.FIELDS
MAPPING_MATCHES = _mapping.MATCHES

#: Unmapped sheet (owned by Sync Facts): facts of the month up to as-of that reach no plan
#: line, one row per data source and UTM keys. `status` is "unmapped" (no rule matches) or
#: "unplanned" (a rule maps it to a line the Plan does not have).
UNMAPPED_HEADER_ROW = 1
UNMAPPED_KEYS = (
    "status",
    "data source",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "channel",
    "campaign",
    "from",
    "to",
)
UNMAPPED_METRICS = METRICS
UNMAPPED_HEADERS = (*UNMAPPED_KEYS, *UNMAPPED_METRICS)

#: Data Quality sheet (owned by Sync Facts): stacked sections, column A never blank inside
#: the written range (so the next sync finds and clears the old extent); at most this wide.
DQ_WIDTH = 14
