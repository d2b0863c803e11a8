"""The spreadsheet functions (formulas), a few lines each over `planning/`.

Each function takes its arguments already coerced by `SheetFunction.call` (see
`addin.sheet_function`:
``numbers``/``dates`` arrive as `Cells`, a list of floats/dates, ``None`` for a blank and error
values) and returns a value, a column (a list) or a table (a list of rows); bad rows get error
values, whole-call problems raise `CellError`. Units are the planning core's: spend in the
account currency, counts in units of their stage, CRs as fractions (0.05 is 5 %), the response
curves and OPTIMIZE_SPLIT per day.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from addin.sheet_function import (
    DIV0,
    NA,
    NUM,
    VALUE,
    Arg,
    CellError,
    Cells,
    Evaluation,
    SheetFunction,
    as_date,
    as_numbers,
    divide,
    first_reason,
    note,
    rowwise,
)
from planning.curves import ChannelFit, FitOptions, fit_history
from planning.errors import InputError
from planning.funnel import DEFAULT_FUNNEL, Funnel, Stage, bottom_up, top_down
from planning.response import FORMS, Curve, curve_from_params
from planning.runrate import (
    METHODS,
    Method,
    forecast_cost,
    forecast_frame,
    forecast_series,
    month_progress,
)
from planning.split import ChannelInputs, SplitRequest, propose

__all__ = ["FUNCTIONS"]

# --------------------------------------------------------------------------- run-rate


def _check_runrate_options(window: float, method: str) -> tuple[int, Method]:
    if not (window >= 1 and float(window).is_integer()):
        raise CellError(NUM, f"`window` must be a whole number of days, at least 1, got {window:g}")
    if method not in METHODS:
        raise CellError(VALUE, f"`method` must be one of {', '.join(METHODS)}, got {method!r}")
    return int(window), cast(Method, method)


def _daily_series(values: Cells, as_of: dt.date, dates: Cells | None) -> pd.Series:
    """The daily values up to `as_of` as a Series indexed by date.

    Without `dates` the values are days 1, 2, ... of `as_of`'s month. Cells dated after as-of
    are ignored (whatever they hold); before it, a blank is a day of 0 and an error value or text
    stops the call. A blank date with a blank value is skipped.
    """
    if dates is None:
        start = as_of.replace(day=1)
        days: list[Any] = [start + dt.timedelta(days=i) for i in range(len(values))]
    else:
        if len(dates) != len(values):
            raise CellError(
                VALUE,
                f"`{values.name}` has {len(values)} cells and `dates` has {len(dates)}; "
                "give one date per value",
            )
        days = list(dates)
    index, numbers = [], []
    for i, (day, value) in enumerate(zip(days, values, strict=True)):
        if day is None:
            if value is None:
                continue
            raise CellError(NA, f"row {i + 1} of `dates` is blank but `{values.name}` is not")
        if isinstance(day, str):
            raise CellError(day, f"row {i + 1} of `dates` is not a date ({day})")
        if day > as_of:
            continue
        if isinstance(value, str):
            where = f"row {i + 1} of `{values.name}`"
            raise CellError(value, first_reason(where + f" is {value}", where))
        index.append(day)
        numbers.append(0.0 if value is None else value)
    if all(v is None for v, d in zip(values, days, strict=True) if d is not None and d <= as_of):
        raise CellError(NA, f"`{values.name}` has no daily value up to as-of {as_of.isoformat()}")
    return pd.Series(numbers, index=pd.DatetimeIndex(index), dtype=np.float64)


def runrate(
    values: Cells,
    as_of: dt.date,
    window: float = 5,
    method: str = "last_n",
    dates: Cells | None = None,
) -> float | str:
    """Month-end forecast of a daily metric (`planning.runrate.forecast_series`)."""
    n, how = _check_runrate_options(window, method)
    series = _daily_series(values, as_of, dates)
    forecast = forecast_series(series, as_of.replace(day=1), as_of, window=n, method=how)
    return forecast.forecast


def runrate_cost(
    spend: Cells,
    counts: Cells,
    as_of: dt.date,
    window: float = 5,
    method: str = "last_n",
    dates: Cells | None = None,
) -> float | str:
    """Forecast cost per unit: the spend's forecast over the count's (never averaged)."""
    if dates is None and len(spend) != len(counts):
        raise CellError(
            VALUE,
            f"`spend` has {len(spend)} cells and `counts` has {len(counts)}; give one per day",
        )
    spend_rr = runrate(spend, as_of, window, method, dates)
    count_rr = runrate(counts, as_of, window, method, dates)
    assert isinstance(spend_rr, float) and isinstance(count_rr, float)
    if count_rr == 0:
        note("the count's forecast is 0")
        return DIV0
    return forecast_cost(spend_rr, count_rr)


# Batched RUNRATE / RUNRATE_COST (`SheetFunction.by_rows`): every line with usable arguments goes
# into one `forecast_frame` call per (as-of, window, method); any other line (a blank, text or
# error value, a bad option, a zero count forecast...) is evaluated on its own, so its error value
# and reason are exactly those of a single call. `forecast_frame` gives exactly the numbers of
# `forecast_series` (planning.runrate sums day by day whatever the number of lines).

_Line = tuple[list[dt.date], list[list[float]]]
"""A usable line: its days up to as-of and, per metric, its value on each day."""


def _line(series: list[Cells], as_of: dt.date, dates: Cells | None) -> _Line | None:
    """The line's days and values when `_daily_series` accepts every metric of it, else None
    (the line is then evaluated on its own, which says why)."""
    n = len(series[0])
    if any(len(values) != n for values in series) or (dates is not None and len(dates) != n):
        return None
    if dates is None:
        start = as_of.replace(day=1)
        days: list[Any] = [start + dt.timedelta(days=i) for i in range(n)]
    else:
        days = list(dates)
    kept = []
    for i, day in enumerate(days):
        if day is None:
            if any(values[i] is not None for values in series):
                return None
            continue
        if isinstance(day, str):
            return None
        if day > as_of:
            continue
        if any(isinstance(values[i], str) for values in series):
            return None
        kept.append(i)
    columns = []
    for values in series:
        if all(values[i] is None for i in kept):
            return None
        columns.append([0.0 if values[i] is None else float(values[i]) for i in kept])
    return [days[i] for i in kept], columns


def _forecast_lines(
    lines: list[_Line], as_of: dt.date, window: int, method: Method, n_metrics: int
) -> list[list[float]]:
    """The month-end forecast of every metric of every line: one `forecast_frame` call."""
    day_numbers = [(day - _EPOCH_1970).days for line_days, _ in lines for day in line_days]
    frame = pd.DataFrame(
        {
            "date": np.array(day_numbers, dtype="datetime64[D]"),
            "line": np.repeat(np.arange(len(lines)), [len(d) for d, _ in lines]),
            **{
                f"m{k}": np.array([v for _, cols in lines for v in cols[k]], dtype=np.float64)
                for k in range(n_metrics)
            },
        }
    )
    metrics = [f"m{k}" for k in range(n_metrics)]
    out = forecast_frame(
        frame,
        as_of.replace(day=1),
        as_of,
        ["line"],
        metrics,
        window=window,
        method=method,
    )
    if len(out) != len(lines) or out["line"].tolist() != list(range(len(lines))):
        raise AssertionError("forecast_frame returned other lines")  # the caller falls back
    return [[float(x) for x in out[f"{m}_rr"]] for m in metrics]


_EPOCH_1970 = dt.date(1970, 1, 1)


def _runrate_rows(
    fn: SheetFunction, rows: Sequence[Sequence[Any]], n_metrics: int
) -> list[Evaluation]:
    results: list[Evaluation | None] = [None] * len(rows)
    groups: dict[tuple[dt.date, int, Method], list[tuple[int, _Line]]] = {}
    for i, row in enumerate(rows):
        try:
            coerced = fn.coerce(*row)
            series: list[Cells] = coerced[:n_metrics]
            as_of, window, method, dates = coerced[n_metrics:]
            n, how = _check_runrate_options(window, method)
            line = _line(series, as_of, dates)
        except Exception:  # the row's own evaluation says why
            line = None
        if line is None:
            results[i] = fn.evaluate(*row)
        else:
            groups.setdefault((as_of, n, how), []).append((i, line))
    for (as_of, n, how), members in groups.items():
        forecasts = _forecast_lines([line for _, line in members], as_of, n, how, n_metrics)
        for j, (i, _) in enumerate(members):
            if n_metrics == 1:
                results[i] = Evaluation(forecasts[0][j], "")
            elif forecasts[1][j] == 0:  # #DIV/0! and its reason, as a single call gives them
                results[i] = fn.evaluate(*rows[i])
            else:
                results[i] = Evaluation(forecast_cost(forecasts[0][j], forecasts[1][j]), "")
    return [r if r is not None else fn.evaluate(*rows[i]) for i, r in enumerate(results)]


def runrate_rows(fn: SheetFunction, rows: Sequence[Sequence[Any]]) -> list[Evaluation]:
    """RUNRATE of many lines at once (`SheetFunction.by_rows`), exactly as one call per line."""
    return _runrate_rows(fn, rows, 1)


def runrate_cost_rows(fn: SheetFunction, rows: Sequence[Sequence[Any]]) -> list[Evaluation]:
    """RUNRATE_COST of many lines at once (`SheetFunction.by_rows`), exactly as one per line."""
    return _runrate_rows(fn, rows, 2)


def plan_pct(value: Cells, plan: Cells) -> Any:
    """Completion: value / plan (0.91 is 91 %)."""
    return rowwise(lambda v, p: divide(v, p, "`plan`"), value, plan)


def pace(plan: Cells, mtd: Cells, as_of: Cells) -> Any:
    """Required daily pace: (plan - month-to-date) / days left after as-of in its month."""

    def one(p: float, m: float, day: dt.date) -> float | str:
        left = month_progress(day.replace(day=1), day).days_left
        return divide(p - m, left, f"days left after {day.isoformat()}")

    return rowwise(one, plan, mtd, as_of)


def cr(count: Cells, source: Cells) -> Any:
    """Conversion rate: count / the source stage's count."""
    return rowwise(lambda c, s: divide(c, s, "`source`"), count, source)


def cpa(spend: Cells, count: Cells) -> Any:
    """Cost per unit: spend / count."""
    return rowwise(lambda s, c: divide(s, c, "`count`"), spend, count)


# --------------------------------------------------------------------------- funnel plans


def _required(value: float | str | None, where: str) -> float:
    """A cell that must hold a number: a blank is ``#N/A`` and an error value passes through,
    each a whole-call error (`where` names the cell in the reason)."""
    if value is None:
        raise CellError(NA, f"{where} is blank")
    if isinstance(value, str):
        raise CellError(value, f"{where} is {value}, not a number")
    return value


def _crs(crs: Cells) -> tuple[Funnel, dict[str, float]]:
    """The funnel of ``len(crs) + 1`` stages (the default funnel for 5 CRs) and its CRs."""
    for i, value in enumerate(crs):
        _required(value, f"row {i + 1} of `crs`")
    if len(crs) + 1 == len(DEFAULT_FUNNEL.stages):
        funnel = DEFAULT_FUNNEL
    else:
        funnel = Funnel(tuple(Stage(f"stage{i + 1}") for i in range(len(crs) + 1)))
    return funnel, dict(zip(funnel.names[1:], (float(v) for v in crs), strict=True))


def funnel_plan(budget: float, cpc: float, crs: Cells) -> list[list[Any]]:
    """Bottom-up plan: one row per stage, [count, cost per unit] (CPC first, then the CPAs)."""
    funnel, rates = _crs(crs)
    plan = bottom_up(budget, cpc, rates, funnel)
    rows: list[list[Any]] = []
    for i, name in enumerate(funnel.names):
        cost = plan.ratios["cpc"] if i == 0 else plan.ratios[f"cpa_{name}"]
        rows.append([plan.counts[name], cost if math.isfinite(cost) else DIV0])
    return rows


def budget_for(target: Cells, crs: Cells, cpc: Cells) -> Any:
    """Top-down: the budget that reaches `target` units of the last stage."""
    funnel, rates = _crs(crs)

    def one(t: float, c: float) -> float | str:
        if t > 0 and any(r == 0 for r in rates.values()):
            note("a CR is 0: no budget reaches a positive target")
            return DIV0
        try:
            return top_down(t, rates, c, funnel).counts["spend"]
        except InputError as error:
            note(str(error))
            return NUM

    return rowwise(one, target, cpc)


# --------------------------------------------------------------------------- curves and split

_PARAMS: dict[str, tuple[str, ...]] = {
    "hill": ("vmax", "k", "slope"),
    "power": ("a", "b"),
    "negexp": ("vmax", "k"),
    "linear": ("cpa", "capacity"),
}


def _curve(form: str, params: list[Any], where: str, max_spend: float = math.inf) -> Curve:
    key = form.strip().lower()
    if key not in FORMS:
        raise CellError(VALUE, f"{where}form must be one of {', '.join(FORMS)}, got {form!r}")
    names = _PARAMS[key]
    while params and params[-1] is None:
        params = params[:-1]
    if len(params) != len(names):
        raise CellError(
            VALUE,
            f"{where}a {key} curve takes {len(names)} parameters ({', '.join(names)}), "
            f"got {len(params)}",
        )
    for name, value in zip(names, params, strict=True):
        _required(value, f"{where}parameter `{name}`")
    try:
        return curve_from_params(key, dict(zip(names, params, strict=True)), max_spend=max_spend)
    except InputError as error:
        raise CellError(NUM, f"{where}{error}") from None


def response(form: str, params: Cells, spend: Cells, max_spend: float | None = None) -> Any:
    """Conversions per day of a response curve at a spend per day (vectorised over spend)."""
    curve = _curve(form, list(params), "", math.inf if max_spend is None else max_spend)

    def one(s: float) -> float | str:
        if s < 0:
            note(f"spend {s:g} is negative")
            return NUM
        return float(curve.response(s))

    return rowwise(one, spend)


def _names(channels: list[list[Any]]) -> list[str]:
    names = []
    for i, row in enumerate(channels):
        for cell in row:
            if cell is None or (isinstance(cell, str) and not cell.strip()):
                raise CellError(NA, f"row {i + 1} of `channels` is blank")
            name = str(int(cell)) if isinstance(cell, float) and cell.is_integer() else str(cell)
            names.append(name.strip())
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise CellError(VALUE, f"channel {dupes[0]!r} appears twice in `channels`")
    return names


def _numbers_for(cells: Cells, n: int, blank: float | None) -> list[float]:
    """One number per channel (a single cell repeated); a blank is `blank` (None: an error)."""
    if len(cells) not in (1, n):
        raise CellError(
            VALUE, f"`{cells.name}` has {len(cells)} cells for {n} channels; give one per channel"
        )
    out = []
    for i in range(n):
        value = cells[i if len(cells) > 1 else 0]
        if value is None and blank is not None:
            value = blank
        out.append(float(_required(value, f"row {i + 1} of `{cells.name}`")))
    return out


def _given_fits(names: list[str], table: list[list[Any]]) -> dict[str, ChannelFit]:
    """The given curves as fits (confidence ``given``, no band)."""
    if len(table) != len(names):
        raise CellError(
            VALUE, f"`curves` has {len(table)} rows for {len(names)} channels; give one per channel"
        )
    curves = {}
    for name, row in zip(names, table, strict=True):
        form = row[0]
        if not isinstance(form, str) or not form.strip():
            raise CellError(NA if form is None else VALUE, f"channel {name!r}: the form is blank")
        params = list(as_numbers([row[1:]], f"parameters of {name}"))
        curve = _curve(form, params, f"channel {name!r}: ")
        curves[name] = ChannelFit(name, curve, "given", (), (), 0, math.nan)
    return curves


def _history_fits(names: list[str], table: list[list[Any]]) -> dict[str, ChannelFit]:
    """The curves fitted on the daily history (no band: no bootstrap)."""
    rows = table
    if rows and not isinstance(rows[0][0], dt.date | int | float) and not _is_iso(rows[0][0]):
        rows = rows[1:]  # a header row
    if not rows or len(rows[0]) < 4:
        raise CellError(VALUE, "`history` must have 4 columns: date, channel, spend, conversions")
    frame = pd.DataFrame(
        [r[:4] for r in rows if any(c is not None for c in r[:4])],
        columns=["date", "channel", "spend", "conversions"],
    )
    dates = frame["date"]
    frame["date"] = [as_date(d, "history date") if isinstance(d, int | float) else d for d in dates]
    frame["channel"] = [str(c).strip() if c is not None else c for c in frame["channel"]]
    fits = fit_history(frame, FitOptions(n_bootstrap=0))
    missing = [n for n in names if n not in fits]
    if missing:
        raise CellError(NA, f"channel {missing[0]!r} has no rows in `history`")
    return {n: fits[n] for n in names}


def _is_iso(value: Any) -> bool:
    try:
        dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return False
    return True


_SPLIT_HEADER = ["channel", "current", "proposed", "change", "conversions", "marginal CPA"]


def optimize_split(
    channels: list[list[Any]],
    current: Cells,
    budget: float,
    curves: list[list[Any]] | None = None,
    min: Cells | None = None,
    max: Cells | None = None,
    history: list[list[Any]] | None = None,
    step: float | None = None,
) -> list[list[Any]]:
    """The split of a daily budget that brings the most conversions: `planning.split.propose`
    over one day, as the Optimize Split button splits a month, its defaults included (a
    channel with neither min nor max keeps within ±50% of its current spend,
    `planning.split.DEFAULT_CHANGE`)."""
    names = _names(channels)
    n = len(names)
    now = _numbers_for(current, n, None)
    lows = [0.0] * n if min is None else _numbers_for(min, n, 0.0)
    highs = [math.inf] * n if max is None else _numbers_for(max, n, math.inf)
    if curves is not None:
        fits = _given_fits(names, curves)
    elif history is not None:
        fits = _history_fits(names, history)
    else:
        raise CellError(NA, "give `curves` (form and parameters per channel) or `history`")
    request = SplitRequest(
        current=dict(zip(names, now, strict=True)),
        budget=budget,
        inputs={c: ChannelInputs(lo, hi) for c, lo, hi in zip(names, lows, highs, strict=True)},
        step=step,
    )
    proposal = propose(request, fits)
    rows: list[list[Any]] = [list(_SPLIT_HEADER)]
    for cp in proposal.channels:
        mcpa = cp.marginal_cpa if math.isfinite(cp.marginal_cpa) else NA
        rows.append([cp.channel, cp.current, cp.proposed, cp.delta, cp.expected, mcpa])
    t = proposal.totals
    rows.append(["total", t.current, t.proposed, t.delta, t.expected_conversions, ""])
    return rows


# --------------------------------------------------------------------------- the registry

_WINDOW = Arg("window", "number", "Days averaged for the daily rate (default 5).", True, 5)
_METHOD = Arg(
    "method",
    "text",
    "last_n (default), last_n_dow (weekday-corrected) or linear.",
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

_FUNCTIONS = (
    SheetFunction(
        "RUNRATE",
        runrate,
        (
            Arg("values", "numbers", "Daily values of the metric (blank days are 0)."),
            _AS_OF,
            _WINDOW,
            _METHOD,
            _DATES,
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
            Arg("form", "text", "Curve form: hill, power, negexp or linear."),
            Arg(
                "params",
                "numbers",
                "Its parameters: hill vmax,k,slope; power a,b; negexp vmax,k; linear cpa,capacity.",
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
            Arg(
                "curves",
                "table",
                "Per channel: form, then its parameters (or leave blank and give history).",
                True,
            ),
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
            Arg(
                "history",
                "table",
                "Daily history to fit the curves: date, channel, spend, conversions.",
                True,
            ),
            Arg("step", "number", "Round the split to multiples of this amount.", True),
        ),
        "The budget split across channels that brings the most conversions (a spilled table).",
        "table",
    ),
)

FUNCTIONS: dict[str, SheetFunction] = {f.name: f for f in _FUNCTIONS}
