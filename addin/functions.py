"""The spreadsheet functions (formulas): each described once, for every surface.

`FUNCTIONS` names each formula with its Python side (in `addin.formulas`), its arguments and
help; the Excel UDF module, `funnelplan functions`, the function server and the generated
clients are built from it through `addin.registry`.
"""

from __future__ import annotations

from addin.formulas.funnel import budget_for, funnel_plan
from addin.formulas.runrate import (
    cpa,
    cr,
    pace,
    plan_pct,
    runrate_cost,
    runrate_cost_rows,
    runrate_rows,
)
from addin.formulas.runrate_cohort import runrate
from addin.formulas.scenarios import scenario
from addin.formulas.split import optimize_split, response
from addin.sheet_function import (
    Arg,
    SheetFunction,
)

__all__ = ["FUNCTIONS"]

_WINDOW = Arg("window", "number", "Days averaged for the daily rate (default 5).", True, 5)
_METHOD = Arg(
    "method",
    "text",
    "last_n (default), last_n_dow (weekday-corrected), linear or auto (weekday-adjusted, "
    "follows a level shift).",
    True,
    "last_n",
)
_AS_OF = Arg("as_of", "date", "Last complete day of facts; its month is forecast.")
_DATES = Arg(
    "dates",
    "dates",
    "The date of each value (default: the values are days 1, 2, ... of as-of's month).",
    True,
)

_CURVES = Arg(
    "curves",
    "table",
    "Per channel: form, then its parameters (or leave blank and give history).",
    True,
)
_HISTORY = Arg(
    "history",
    "table",
    "Daily history to fit the curves: date, channel, spend, conversions.",
    True,
)

_FUNCTIONS = (
    SheetFunction(
        "RUNRATE",
        runrate,
        (
            Arg("values", "numbers", "Daily values of the metric (blank days are 0)."),
            _AS_OF,
            _WINDOW,
            Arg(
                "method",
                "text",
                "last_n (default), last_n_dow (weekday-corrected), linear, auto (weekday-adjusted, "
                "follows a level shift) or cohort (a stage "
                "below leads, from the leads' lags: give leads and curve).",
                True,
                "last_n",
            ),
            _DATES,
            Arg(
                "leads",
                "numbers",
                "Method cohort: the daily leads, one per value (same dates; may start before "
                "the month).",
                True,
            ),
            Arg(
                "curve",
                "numbers",
                "Method cohort: cumulative share of leads reaching the stage by age 0, 1, 2... "
                "days (the Cohorts sheet's curve).",
                True,
            ),
        ),
        "Month-end forecast (run-rate) of a daily metric from its month-to-date values.",
        "scalar",
        by_rows=runrate_rows,
    ),
    SheetFunction(
        "RUNRATE_COST",
        runrate_cost,
        (
            Arg("spend", "numbers", "Daily spend."),
            Arg("counts", "numbers", "Daily count of the stage (clicks, leads, ...)."),
            _AS_OF,
            _WINDOW,
            _METHOD,
            _DATES,
        ),
        "Forecast cost per unit (CPC, CPA): forecast spend / forecast count.",
        "scalar",
        by_rows=runrate_cost_rows,
    ),
    SheetFunction(
        "PLAN_PCT",
        plan_pct,
        (
            Arg("value", "numbers", "Fact or forecast (a cell or a column)."),
            Arg("plan", "numbers", "Plan (a cell or a column)."),
        ),
        "Completion of the plan: value / plan (0.91 is 91%).",
        "column",
    ),
    SheetFunction(
        "PACE",
        pace,
        (
            Arg("plan", "numbers", "Plan for the month."),
            Arg("mtd", "numbers", "Month-to-date fact."),
            Arg("as_of", "dates", "Last complete day of facts."),
        ),
        "Daily pace still needed to meet the plan: (plan - mtd) / days left in the month.",
        "column",
    ),
    SheetFunction(
        "CR",
        cr,
        (
            Arg("count", "numbers", "Count of the stage (e.g. leads)."),
            Arg("source", "numbers", "Count of the stage it converts from (e.g. clicks)."),
        ),
        "Conversion rate: count / source count (0.05 is 5%).",
        "column",
    ),
    SheetFunction(
        "CPA",
        cpa,
        (
            Arg("spend", "numbers", "Spend."),
            Arg("count", "numbers", "Count of the stage (leads, purchases, ...)."),
        ),
        "Cost per unit of a stage: spend / count.",
        "column",
    ),
    SheetFunction(
        "FUNNEL_PLAN",
        funnel_plan,
        (
            Arg("budget", "number", "Budget (currency)."),
            Arg("cpc", "number", "Cost per click of the first stage."),
            Arg("crs", "numbers", "CR of each later stage, in funnel order (fractions)."),
        ),
        "Bottom-up plan: one row per stage with its count and its cost per unit (CPC, CPAs).",
        "table",
    ),
    SheetFunction(
        "BUDGET_FOR",
        budget_for,
        (
            Arg("target", "numbers", "Target count of the last stage (e.g. purchases)."),
            Arg("crs", "numbers", "CR of each stage after the first, in funnel order."),
            Arg("cpc", "numbers", "Cost per click of the first stage."),
        ),
        "Top-down: the budget that reaches a target count of the funnel's last stage.",
        "column",
    ),
    SheetFunction(
        "RESPONSE",
        response,
        (
            Arg("form", "text", "Curve form: hill, saturating, power, negexp or linear."),
            Arg(
                "params",
                "numbers",
                "Its parameters: hill vmax,k,slope; saturating vmax,k; power a,b; negexp vmax,k; "
                "linear cpa,capacity.",
            ),
            Arg("spend", "numbers", "Spend per day (a cell or a column)."),
            Arg("max_spend", "number", "Spend per day beyond which the curve is flat.", True),
        ),
        "Conversions per day of a channel's response curve at a spend per day.",
        "column",
    ),
    SheetFunction(
        "OPTIMIZE_SPLIT",
        optimize_split,
        (
            Arg("channels", "table", "Channel names (a column)."),
            Arg("current", "numbers", "Current spend per day of each channel."),
            Arg("budget", "number", "Budget per day to split."),
            _CURVES,
            Arg(
                "min",
                "numbers",
                "Minimum spend per day of each channel (blank: 0; with no max either, "
                "at least 50% of its current spend).",
                True,
            ),
            Arg(
                "max",
                "numbers",
                "Maximum spend per day of each channel (blank: none; with no min either, "
                "at most 150% of its current spend).",
                True,
            ),
            _HISTORY,
            Arg("step", "number", "Round the split to multiples of this amount.", True),
        ),
        "The budget split across channels that brings the most conversions (a spilled table).",
        "table",
    ),
    SheetFunction(
        "SCENARIO",
        scenario,
        (
            Arg("channels", "table", "Channel names (a column)."),
            Arg("budgets", "numbers", "The scenario's spend of each channel over `days` days."),
            _CURVES,
            _HISTORY,
            Arg("values", "numbers", "Value of one lead per channel (blank: no revenue).", True),
            Arg("days", "number", "Days the budgets cover (default 1: per day).", True),
        ),
        "Expected leads with their band, CPA, revenue and ROMI of a budget split, per channel "
        "and in total, as Compare Scenarios computes them (a spilled table).",
        "table",
    ),
)

FUNCTIONS: dict[str, SheetFunction] = {f.name: f for f in _FUNCTIONS}
