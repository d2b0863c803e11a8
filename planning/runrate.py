"""Run-rate: the month-end forecast of a daily metric from its month-to-date facts.

Conventions
-----------
- `month` is the first day of a month (a ``datetime.date``) or a ``"YYYY-MM"`` string.
- `as_of` is the **last complete day** whose facts are included: as of 2026-11-17, days 1..17 of
  November have elapsed and 13 are left. Days with no rows count as 0.
- Month-to-date (MTD) is the sum of the month's days up to `as_of`; rows dated after `as_of` or
  outside the month are ignored for it. Only `last_n_dow` and `auto` look at rows before the month
  (history), to estimate weekday factors (and `auto` its noise).

Methods (``forecast = mtd + what the days left are expected to add``)
---------------------------------------------------------------------
``last_n`` (default)
    ``mtd + days_left * rate``, where ``rate`` is the mean of the last `window` complete days
    (``as_of - window + 1 .. as_of``, missing days 0). With fewer days elapsed than `window`, the
    rate averages the days elapsed (the note says so).
``last_n_dow``
    The same window, corrected for the day of the week. Weekday factors
    ``f_w = mean value on weekday w / overall daily mean`` over every day available up to `as_of`
    (the month's days plus any earlier history; a line's history starts at its first row). A weekday
    never observed gets ``f_w = 1``; if the overall mean is 0, every factor is 1. The base rate is
    the window's mean of ``value_d / f_w(d)`` (days whose factor is 0 are left out; if all are, the
    base is the overall mean), and ``forecast = mtd + sum over the days left of base * f_w(d)``.
    A perfectly weekly pattern is forecast exactly.
``linear``
    ``mtd / days_elapsed * days_in_month``: the month so far, stretched to the whole month.
``auto``
    ``mtd + rate * sum of the weekday factors of the days left``, the factors as ``last_n_dow``'s
    but shrunk toward 1 by their noise, the rate the month's weekday-adjusted level averaged over
    "no shift" and "the level shifted on day s" for every day s, each weighted by how likely the
    facts make it (a Bayesian change-point model; `planning.runrate_auto` says how). On the
    simulation of docs/benchmarks.md ("Decision quality") the best of the four over all months at
    days 10, 15 and 20, and within about 0.1 MAPE point of the better of ``linear`` (steady
    months) and ``last_n_dow`` (months with a shift) on each kind. `window` is not used.

Before the month (`as_of` earlier than the 1st) there are no facts: MTD 0, forecast and rate nan.
On or after the month's last day nothing is left: the forecast is the MTD exactly.

Cost metrics are never forecast directly: ``forecast_cost(spend_rr, count_rr)`` recomputes them
from the forecast absolutes. Completion ``plan_pct``, the daily ``required_pace`` and the
``pacing_index`` follow DESIGN.md ("The numbers"). A zero or NaN denominator gives ``nan``
(the spreadsheet shows ``#DIV/0!``), never 0 and never an exception. Values are in the metric's
own unit (currency for spend, units of the stage for counts); rates are per day.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from numbers import Real
from typing import Any, Literal, NamedTuple, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from planning.errors import InputError
from planning.runrate_auto import AutoRun, auto_note, auto_run, weekday_table
from planning.runrate_inputs import day_matrices, day_sum, parse_dates, parse_numbers

__all__ = [
    "METHODS",
    "Forecast",
    "Method",
    "MonthProgress",
    "forecast_cost",
    "forecast_frame",
    "forecast_series",
    "month_end",
    "month_progress",
    "pacing_index",
    "parse_month",
    "plan_pct",
    "required_pace",
]

Method = Literal["last_n", "last_n_dow", "linear", "auto"]
METHODS: tuple[str, ...] = ("last_n", "last_n_dow", "linear", "auto")
"""The forecasting methods, default first."""

Position = Literal["before", "during", "after"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WITH_HISTORY = ("last_n_dow", "auto")  # the methods that read the days before the month


# --------------------------------------------------------------------------- months and progress


def _show(value: Any) -> str:
    """A value as a message shows it: dates in ISO form, the rest as their repr."""
    if isinstance(value, date):
        return value.isoformat()
    return repr(value)


def _invalid(name: str, must: str, value: Any, shown: str = "") -> InputError:
    """The error for argument or field `name` that is not what it `must` be."""
    got = shown or _show(value)
    return InputError(f"`{name}` must be {must}, got {got}", value=value, has_value=False)


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool | np.bool_)


def parse_month(month: date | str) -> date:
    """The first day of `month`, given as ``"YYYY-MM"`` or as the first day of a month.

    >>> parse_month("2026-11")
    datetime.date(2026, 11, 1)
    """
    if isinstance(month, date) and not pd.isna(month):
        day = month.date() if isinstance(month, datetime) else month
        if day.day != 1:
            raise _invalid("month", "the first day of a month", day)
        return day
    if isinstance(month, str):
        match = _MONTH.fullmatch(month.strip())
        if match and 1 <= int(match[2]) <= 12 and int(match[1]) >= 1:
            return date(int(match[1]), int(match[2]), 1)
    raise _invalid("month", "a month as 'YYYY-MM' or the first day of a month", month)


def _as_date(name: str, value: Any) -> date:
    if isinstance(value, date) and not pd.isna(value):
        return value.date() if isinstance(value, datetime) else value
    raise _invalid(name, "a date", value)


def month_end(month: date) -> date:
    """The last day of `month`'s month."""
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def _progress_fields(month: date, as_of: date) -> dict[str, Any]:
    end = month_end(month)
    days_in_month = end.day
    elapsed = min(max((as_of - month).days + 1, 0), days_in_month)
    position: Position = "before" if as_of < month else "after" if as_of >= end else "during"
    return {
        "days_in_month": days_in_month,
        "days_elapsed": elapsed,
        "days_left": days_in_month - elapsed,
        "position": position,
        "share_elapsed": elapsed / days_in_month,
    }


@dataclass(frozen=True)
class MonthProgress:
    """Where `as_of` (the last complete day of facts) stands in `month`.

    `days_elapsed` is clamped to ``0..days_in_month``; ``days_left = days_in_month - days_elapsed``.
    `position` is ``"before"`` when `as_of` precedes the 1st, ``"after"`` when it is on or after
    the last day (the month is complete), ``"during"`` otherwise. ``share_elapsed`` is
    ``days_elapsed / days_in_month`` in ``[0, 1]``. Build it with `month_progress`; the fields are
    checked against `month` and `as_of` on creation.
    """

    month: date
    as_of: date
    days_in_month: int
    days_elapsed: int
    days_left: int
    position: Position
    share_elapsed: float

    def __post_init__(self) -> None:
        if type(self.month) is not date or self.month.day != 1:
            raise _invalid("month", "the first day of a month", self.month)
        if type(self.as_of) is not date:
            raise _invalid("as_of", "a date", self.as_of)
        for name, expected in _progress_fields(self.month, self.as_of).items():
            actual = getattr(self, name)
            if actual != expected or type(actual) is not type(expected):
                when = f"{expected!r} for month {self.month:%Y-%m} as of {self.as_of.isoformat()}"
                raise _invalid(name, when, actual)

    @property
    def month_end(self) -> date:
        """The month's last day."""
        return month_end(self.month)


def month_progress(month: date | str, as_of: date) -> MonthProgress:
    """How much of `month` has elapsed when the facts are complete up to `as_of` (inclusive).

    >>> p = month_progress("2026-11", date(2026, 11, 17))
    >>> (p.days_in_month, p.days_elapsed, p.days_left, p.position)
    (30, 17, 13, 'during')
    """
    start = parse_month(month)
    day = _as_date("as_of", as_of)
    return MonthProgress(month=start, as_of=day, **_progress_fields(start, day))


# --------------------------------------------------------------------------- the forecast


@dataclass(frozen=True)
class Forecast:
    """The run-rate of one metric for one month.

    `mtd` is the month-to-date fact, `forecast` the month-end forecast (run-rate), both in the
    metric's unit; `daily_rate` the per-day rate the forecast extends (for `last_n_dow` and
    `auto`, the weekday-neutral base); `window_days` how many days were actually averaged for it
    (for `auto`, the days since the likely shift, weighted by the posterior). `note` explains any
    fallback (shorter window, weekday factors set to 1, ...) or, for `auto`, a shift it is sure
    of, ``""`` when none.
    """

    mtd: float
    forecast: float
    daily_rate: float
    window_days: int
    progress: MonthProgress
    method: str
    note: str = ""

    def __post_init__(self) -> None:
        _check_method(self.method)
        if not isinstance(self.progress, MonthProgress):
            raise _invalid("progress", "a MonthProgress", self.progress)
        days = self.window_days
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise _invalid("window_days", "a whole number of days, at least 0", days)
        for name in ("mtd", "forecast", "daily_rate"):
            if not _is_number(getattr(self, name)):
                raise _invalid(name, "a number", getattr(self, name))
        if not isinstance(self.note, str):
            raise _invalid("note", "text", self.note)


def _check_method(method: Any) -> Method:
    if not isinstance(method, str) or method not in METHODS:
        raise _invalid("method", "one of " + ", ".join(repr(m) for m in METHODS), method)
    return cast(Method, method)


def _check_window(window: Any) -> int:
    if not (_is_whole(window) and window >= 1):
        raise _invalid("window", "a whole number of days, at least 1", window)
    return int(window)


def _is_whole(value: Any) -> bool:
    """An int, or a float with no fraction (spreadsheets send 5.0 for 5)."""
    return _is_number(value) and math.isfinite(float(value)) and float(value).is_integer()


class _RunRate(NamedTuple):
    """Run-rates of `n_lines` lines at once; every array has shape ``(n_lines,)``."""

    mtd: FloatArray
    forecast: FloatArray
    rate: FloatArray
    window_days: IntArray
    days_seen: IntArray  # days available up to as_of (with history)
    all_zero: npt.NDArray[np.bool_]  # last_n_dow: overall mean 0, every factor 1
    unseen: npt.NDArray[np.bool_]  # last_n_dow: shape (7, n_lines), weekday never observed
    skipped: IntArray  # last_n_dow: window days left out (factor 0)
    base_is_mean: npt.NDArray[np.bool_]  # last_n_dow: no window day usable, base = overall mean
    auto: AutoRun | None  # auto: what it found (for the note)


def _run_rate(
    daily: FloatArray, first_day: date, progress: MonthProgress, window: int, method: str
) -> _RunRate:
    """Run-rates from `daily`, an array of shape ``(n_days, n_lines)``.

    Row ``t`` is the day ``first_day + t``; the last row is ``min(as_of, month_end)`` and the month
    starts at row ``(month - first_day).days``. Cells before a line's history are nan; every
    cell of the month is a number (missing days 0). `progress` is not ``"before"``.
    """
    n_days, n_lines = daily.shape
    month_rows = daily[(progress.month - first_day).days :]
    elapsed, left = progress.days_elapsed, progress.days_left
    n = min(window, elapsed)
    recent = month_rows[elapsed - n :]
    mtd = day_sum(month_rows)
    window_days = np.full(n_lines, n, dtype=np.int64)
    days_seen = np.full(n_lines, elapsed, dtype=np.int64)
    all_zero = np.zeros(n_lines, dtype=bool)
    unseen = np.zeros((7, n_lines), dtype=bool)
    skipped = np.zeros(n_lines, dtype=np.int64)
    base_is_mean = np.zeros(n_lines, dtype=bool)

    auto: AutoRun | None = None

    if method == "last_n":
        rate = day_sum(recent) / n
        forecast = mtd + left * rate
    elif method == "linear":
        rate = mtd / elapsed
        window_days[:] = elapsed
        forecast = mtd + left * rate
    elif method == "auto":
        auto = auto_run(daily, first_day, progress.month, elapsed, left, mtd)
        rate, forecast, window_days = auto.rate, auto.forecast, auto.window_days
        days_seen, all_zero, unseen = auto.days_seen, auto.all_zero, auto.unseen
    else:
        table = weekday_table(daily, first_day)
        days_seen, all_zero, unseen = table.days_seen, table.all_zero, table.unseen
        factors = table.factors
        with np.errstate(divide="ignore", invalid="ignore"):
            window_factors = factors[table.weekday[n_days - n :]]
            usable = window_factors != 0
            used = usable.sum(axis=0)
            base = day_sum(np.where(usable, recent / window_factors, 0.0)) / used
        base_is_mean = used == 0
        rate = np.where(base_is_mean, table.overall, base)
        window_days = np.where(base_is_mean, days_seen, used).astype(np.int64)
        skipped = np.where(base_is_mean, 0, n - used).astype(np.int64)
        later = (progress.month_end.weekday() - np.arange(left)) % 7
        forecast = mtd + rate * day_sum(factors[later])
    if left == 0:
        forecast = mtd.copy()
    return _RunRate(
        mtd, forecast, rate, window_days, days_seen, all_zero, unseen, skipped, base_is_mean, auto
    )


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _note(result: _RunRate, line: int, progress: MonthProgress, window: int, method: str) -> str:
    """What fell back for line `line` of `result`, in words; ``""`` when nothing did."""
    notes: list[str] = []
    if progress.as_of > progress.month_end:
        notes.append(
            f"as-of {progress.as_of.isoformat()} is after the month: the forecast is the "
            f"month's fact up to {progress.month_end.isoformat()}"
        )
    if method in ("last_n", "last_n_dow") and progress.days_elapsed < window:
        notes.append(
            f"only {_days(progress.days_elapsed)} of the month elapsed: the rate averages "
            f"{_days(progress.days_elapsed)}, not {window}"
        )
    if method in _WITH_HISTORY:
        unseen = [_WEEKDAYS[w] for w in range(7) if result.unseen[w, line]]
        if result.all_zero[line]:
            notes.append("every value so far is 0: every weekday factor is 1")
        elif unseen:
            notes.append(f"no {', '.join(unseen)} in the data yet: weekday factor 1 for them")
        skipped = int(result.skipped[line])
        if skipped:
            notes.append(
                f"{_days(skipped)} of the window fall on weekdays with factor 0 and are left "
                "out of the base"
            )
        if result.base_is_mean[line]:
            notes.append(
                "every day of the window falls on a weekday with factor 0: the base is the "
                f"mean of all {_days(int(result.days_seen[line]))}"
            )
    shift = "" if result.auto is None else auto_note(result.auto, line, progress.month)
    if shift:
        notes.append(shift)
    return "; ".join(notes)


# --------------------------------------------------------------------------- from daily facts


def _span(progress: MonthProgress, method: str) -> tuple[date, date, bool]:
    """`day_matrices`' window for a run-rate: the month, its last day so far, any history."""
    return progress.month, min(progress.as_of, progress.month_end), method in _WITH_HISTORY


def forecast_series(
    values: pd.Series,
    month: date | str,
    as_of: date,
    window: int = 5,
    method: Method = "last_n",
) -> Forecast:
    """The run-rate of one daily metric.

    `values` holds daily values indexed by date (a DatetimeIndex, dates or ISO text; duplicate
    dates are summed, missing days are 0, empty cells are 0). `window` is the number of last
    complete days the rate averages; `method` one of `METHODS` (see the module docstring).

    >>> days = pd.date_range("2026-11-01", "2026-11-17")
    >>> forecast_series(pd.Series(10.0, index=days), "2026-11", date(2026, 11, 17)).forecast
    300.0
    """
    progress = month_progress(month, as_of)
    window = _check_window(window)
    method = _check_method(method)
    if not isinstance(values, pd.Series):
        kind = f"a {type(values).__name__}"
        raise _invalid("values", "a pandas Series of daily values indexed by date", values, kind)
    index_name = "date" if values.index.name is None else str(values.index.name)
    days = parse_dates(values.index.to_series(), index_name)
    numbers = parse_numbers(values, "value" if values.name is None else str(values.name))
    if progress.position == "before":
        note = f"as-of {progress.as_of.isoformat()} is before the month: no facts yet"
        return Forecast(0.0, math.nan, math.nan, 0, progress, method, note)
    lines = np.zeros(len(days), dtype=np.int64)
    first_day, (matrix,) = day_matrices(days, lines, 1, [numbers], *_span(progress, method))
    result = _run_rate(matrix, first_day, progress, window, method)
    return Forecast(
        mtd=float(result.mtd[0]),
        forecast=float(result.forecast[0]),
        daily_rate=float(result.rate[0]),
        window_days=int(result.window_days[0]),
        progress=progress,
        method=method,
        note=_note(result, 0, progress, window, method),
    )


def _names(argument: str, names: Sequence[str] | str) -> list[str]:
    listed = [names] if isinstance(names, str) else list(names)
    for name in listed:
        if not isinstance(name, str):
            raise _invalid(argument, "column names", name)
    return listed


def _named(text: str, name: str) -> InputError:
    return InputError(text, value=name, has_value=False)


def forecast_frame(
    daily: pd.DataFrame,
    month: date | str,
    as_of: date,
    keys: Sequence[str],
    metrics: Sequence[str],
    window: int = 5,
    method: Method = "last_n",
    date_column: str = "date",
) -> pd.DataFrame:
    """Run-rates of every line (distinct combination of `keys`) and every metric, all at once.

    `daily` is a long table with `date_column`, the `keys` columns and the `metrics` columns, one
    row per day per line (duplicates are summed; missing days and empty cells are 0). Returns a
    frame with one row per line, in order of first appearance (NaN keys form their own line;
    ``keys=[]`` gives one total line), a fresh RangeIndex and the columns
    ``[*keys, m_mtd, m_rr, m_rate for each metric m]``: month-to-date, forecast (run-rate) and
    daily rate, exactly as `forecast_series` gives them per line.
    """
    progress = month_progress(month, as_of)
    window = _check_window(window)
    method = _check_method(method)
    if not isinstance(daily, pd.DataFrame):
        raise _invalid("daily", "a pandas DataFrame", daily, f"a {type(daily).__name__}")
    key_names, metric_names = _names("keys", keys), _names("metrics", metrics)
    if not metric_names:
        raise InputError("`metrics` is empty: name at least one metric column")
    if not isinstance(date_column, str):
        raise _invalid("date_column", "a column name", date_column)
    wanted = [date_column, *key_names, *metric_names]
    for name in wanted:
        if name not in daily.columns:
            columns = ", ".join(map(str, daily.columns))
            raise _named(f"column `{name}` is not in the table; the columns are: {columns}", name)
        if wanted.count(name) > 1 or int((daily.columns == name).sum()) > 1:
            raise _named(f"column `{name}` appears more than once", name)
    out_names = [f"{m}_{suffix}" for m in metric_names for suffix in ("mtd", "rr", "rate")]
    clash = [name for name in out_names if name in key_names]
    if clash:
        raise _named(f"key column `{clash[0]}` clashes with an output column's name", clash[0])

    days = parse_dates(daily[date_column], date_column)
    numbers = [parse_numbers(daily[m], m) for m in metric_names]
    if key_names:
        groups = daily.groupby(key_names, sort=False, dropna=False).ngroup()
        lines: IntArray = np.asarray(groups, dtype=np.int64)
        n_lines = int(lines.max()) + 1 if len(lines) else 0
        _, first_rows = np.unique(lines, return_index=True)
        out = daily[key_names].iloc[first_rows].reset_index(drop=True)
    else:
        lines = np.zeros(len(daily), dtype=np.int64)
        n_lines = 1
        out = pd.DataFrame(index=pd.RangeIndex(1))

    results: dict[str, FloatArray] = {}
    if progress.position == "before":
        for m in metric_names:
            results[f"{m}_mtd"] = np.zeros(n_lines)
            results[f"{m}_rr"] = np.full(n_lines, np.nan)
            results[f"{m}_rate"] = np.full(n_lines, np.nan)
    else:
        first_day, matrices = day_matrices(days, lines, n_lines, numbers, *_span(progress, method))
        for m, matrix in zip(metric_names, matrices, strict=True):
            result = _run_rate(matrix, first_day, progress, window, method)
            results[f"{m}_mtd"] = result.mtd
            results[f"{m}_rr"] = result.forecast
            results[f"{m}_rate"] = result.rate
    for name in out_names:
        out[name] = results[name]
    return out


# --------------------------------------------------------------------------- ratios of run-rates


def _number(name: str, value: Any) -> float:
    if not _is_number(value):
        raise _invalid(name, "a number", value)
    return float(value)


def divide(numerator: float, denominator: float) -> float:
    """``numerator / denominator``; nan when the denominator is 0 or nan."""
    if denominator == 0 or math.isnan(denominator):
        return math.nan
    return numerator / denominator


def forecast_cost(spend_forecast: float, count_forecast: float) -> float:
    """Run-rate of a cost metric (CPC, CPL, CPA, CAC): forecast spend / forecast count.

    Never the average of daily costs. nan when the count forecast is 0 or nan.
    """
    return divide(
        _number("spend_forecast", spend_forecast), _number("count_forecast", count_forecast)
    )


def plan_pct(value: float, plan: float) -> float:
    """Completion: `value` (a fact or run-rate) / `plan`, a fraction (0.91 is 91%).

    nan when the plan is 0 or nan.
    """
    return divide(_number("value", value), _number("plan", plan))


def required_pace(plan: float, mtd: float, days_left: int) -> float:
    """The daily pace still needed to meet the plan: ``(plan - mtd) / days_left``.

    Negative when the plan is already exceeded; nan when no day is left.
    """
    plan_, mtd_ = _number("plan", plan), _number("mtd", mtd)
    if not (_is_whole(days_left) and days_left >= 0):
        raise _invalid("days_left", "a whole number of days, at least 0", days_left)
    return divide(plan_ - mtd_, float(days_left))


def pacing_index(mtd: float, plan: float, progress: MonthProgress) -> float:
    """How the month-to-date keeps pace with the plan: ``(mtd / plan) / share_elapsed``.

    1.0 is on pace, above 1 ahead of it. nan when the plan is 0 or nan or no day has elapsed.
    """
    if not isinstance(progress, MonthProgress):
        raise _invalid("progress", "a MonthProgress", progress)
    return divide(divide(_number("mtd", mtd), _number("plan", plan)), progress.share_elapsed)
