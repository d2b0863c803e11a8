"""RUNRATE, RUNRATE_COST, PLAN_PCT, PACE, CR and CPA: month-end forecasts and ratios."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from addin.sheet_function import (
    DIV0,
    NA,
    NUM,
    VALUE,
    CellError,
    Cells,
    Evaluation,
    SheetFunction,
    divide,
    first_reason,
    note,
    plain_numbers,
    rowwise,
)
from planning.runrate import (
    METHODS,
    Method,
    forecast_cost,
    forecast_frame,
    forecast_series,
    month_progress,
)


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


def _forecast_block(
    days: np.ndarray,
    lines: np.ndarray,
    columns: list[np.ndarray],
    as_of: dt.date,
    window: int,
    method: Method,
) -> list[np.ndarray]:
    """The month-end forecast of every metric of every line (numbered 0, 1, ... in `lines`):
    one `forecast_frame` call over the long table of (day, line, metric values)."""
    n_lines = int(lines[-1]) + 1 if len(lines) else 0
    metrics = [f"m{k}" for k in range(len(columns))]
    frame = pd.DataFrame({"date": days, "line": lines, **dict(zip(metrics, columns, strict=True))})
    out = forecast_frame(
        frame, as_of.replace(day=1), as_of, ["line"], metrics, window=window, method=method
    )
    if len(out) != n_lines or not np.array_equal(out["line"].to_numpy(), np.arange(n_lines)):
        raise AssertionError("forecast_frame returned other lines")  # the caller falls back
    return [out[f"{m}_rr"].to_numpy(dtype=np.float64) for m in metrics]


def _forecast_lines(
    lines: list[_Line], as_of: dt.date, window: int, method: Method, n_metrics: int
) -> list[np.ndarray]:
    """The month-end forecast of every metric of every line: one `forecast_frame` call."""
    day_numbers = [(day - _EPOCH_1970).days for line_days, _ in lines for day in line_days]
    return _forecast_block(
        np.array(day_numbers, dtype="datetime64[D]"),
        np.repeat(np.arange(len(lines)), [len(d) for d, _ in lines]),
        [
            np.array([v for _, cols in lines for v in cols[k]], dtype=np.float64)
            for k in range(n_metrics)
        ],
        as_of,
        window,
        method,
    )


_EPOCH_1970 = dt.date(1970, 1, 1)

# The fast path: a line whose every metric range holds plain numbers only (`plain_numbers`),
# one row of them, with the same scalar options (as-of, window, method, no dates) as other lines,
# is taken from a numpy block: its options coerced once per distinct set, its cells not one by
# one. Its forecast is the same `forecast_frame` call on the same numbers, so the same result;
# a line with a NaN or an infinity, or whose options fail, takes the per-line path.

_Options = tuple[tuple[type, Any], ...]
"""A line's scalar arguments after the metrics, each with its type (1, 1.0 and True differ)."""

_SCALAR = frozenset((str, float, int, bool, type(None)))


def _options_key(row: Sequence[Any], n_metrics: int) -> _Options | None:
    rest = row[n_metrics:]
    if not all(type(v) in _SCALAR for v in rest):
        return None
    return tuple((type(v), v) for v in rest)


def _block_options(
    fn: SheetFunction, row: Sequence[Any], n_metrics: int
) -> tuple[dt.date, int, Method] | None:
    """One representative line's as-of, window and method, when they are usable and the line
    has no `dates`; else None (every such line then takes the per-line path)."""
    try:
        coerced = fn.coerce(*row)
        as_of, window, method, dates = coerced[n_metrics : n_metrics + 4]
        if dates is not None:
            return None
        n, how = _check_runrate_options(window, method)
    except Exception:
        return None
    return as_of, n, how


def _fast_rows(
    fn: SheetFunction, rows: Sequence[Sequence[Any]], n_metrics: int
) -> tuple[dict[int, Evaluation], list[int]]:
    """The lines the fast path settles (by row number) and the others' row numbers."""
    done: dict[int, Evaluation] = {}
    slow: list[int] = []
    blocks: dict[tuple[_Options, int], list[tuple[int, list[list[float | int]]]]] = {}
    for i, row in enumerate(rows):
        key = _options_key(row, n_metrics) if len(row) > n_metrics else None
        cells = [plain_numbers(v) for v in row[:n_metrics]] if key is not None else [None]
        sizes = {len(c) if c is not None else -1 for c in cells}
        if len(sizes) != 1 or -1 in sizes:
            slow.append(i)
            continue
        blocks.setdefault((key, sizes.pop()), []).append((i, cells))  # type: ignore[arg-type]
    for (_, n_days), members in blocks.items():
        options = _block_options(fn, rows[members[0][0]], n_metrics)
        arrays = _block_arrays(members, n_metrics) if options is not None else None
        if options is None or arrays is None:
            slow.extend(i for i, _ in members)
            continue
        as_of, window, method = options
        finite = np.logical_and.reduce([np.isfinite(a).all(axis=1) for a in arrays])
        ok = finite.tolist()
        slow.extend(i for (i, _), fine in zip(members, ok, strict=True) if not fine)
        kept_rows = [i for (i, _), fine in zip(members, ok, strict=True) if fine]
        if not kept_rows:
            continue
        kept = min(n_days, as_of.day)  # days 1..n of the month, those up to as-of
        good = [a[finite, :kept] for a in arrays]
        start = np.datetime64(as_of.replace(day=1), "D")
        forecasts = _forecast_block(
            np.tile(start + np.arange(kept), len(kept_rows)),
            np.repeat(np.arange(len(kept_rows)), kept),
            [a.ravel() for a in good],
            as_of,
            window,
            method,
        )
        if n_metrics == 1:
            done.update(
                (i, Evaluation(f, ""))
                for i, f in zip(kept_rows, forecasts[0].tolist(), strict=True)
            )
        else:
            per_line = zip(*(f.tolist() for f in forecasts), strict=True)
            done.update(
                (i, _result(fn, rows[i], list(f))) for i, f in zip(kept_rows, per_line, strict=True)
            )
    return done, slow


def _block_arrays(
    members: list[tuple[int, list[list[float | int]]]], n_metrics: int
) -> list[np.ndarray] | None:
    try:
        return [
            np.array([cells[k] for _, cells in members], dtype=np.float64) for k in range(n_metrics)
        ]
    except (OverflowError, ValueError, TypeError):  # an int too big for a float...
        return None


def _result(fn: SheetFunction, row: Sequence[Any], forecasts: list[float]) -> Evaluation:
    """A line's evaluation from its metrics' forecasts, exactly as a single call gives it."""
    if len(forecasts) == 1:
        return Evaluation(forecasts[0], "")
    if forecasts[1] == 0:  # #DIV/0! and its reason, as a single call gives them
        return fn.evaluate(*row)
    return Evaluation(forecast_cost(forecasts[0], forecasts[1]), "")


def _runrate_rows(
    fn: SheetFunction, rows: Sequence[Sequence[Any]], n_metrics: int
) -> list[Evaluation]:
    done, slow = _fast_rows(fn, rows, n_metrics)
    results: dict[int, Evaluation] = dict(done)
    groups: dict[tuple[dt.date, int, Method], list[tuple[int, _Line]]] = {}
    for i in slow:
        row = rows[i]
        try:
            coerced = fn.coerce(*row)
            series: list[Cells] = coerced[:n_metrics]
            as_of, window, method, dates = coerced[n_metrics : n_metrics + 4]
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
            results[i] = _result(fn, rows[i], [float(f[j]) for f in forecasts])
    return [results[i] if i in results else fn.evaluate(*rows[i]) for i in range(len(rows))]


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
