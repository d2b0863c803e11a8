"""Reading the run-rate's daily facts: cells to day numbers and floats, long rows to day matrices.

`parse_dates` and `parse_numbers` turn a column of cells into day numbers (days since 1970-01-01)
and floats, an `InputError` naming the 1-based data row, the column and the value for a cell that
is neither; `day_matrices` pivots the long rows (day, line, values) into one ``(n_days, n_lines)``
matrix per metric, which `planning.runrate` forecasts from; `day_sum` sums such a matrix over
its days in order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from planning.errors import InputError

__all__ = ["day_matrices", "day_sum", "parse_dates", "parse_numbers"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_ISO_DAY = r"\d{4}-\d{2}-\d{2}(?:[T ][0-9:.+\-Z]+)?"
_EPOCH = date(1970, 1, 1)


def _each(cells: pd.Series, test: Callable[[Any], bool]) -> npt.NDArray[np.bool_]:
    return np.fromiter((test(v) for v in cells), dtype=bool, count=len(cells))


def _reject(bad: npt.NDArray[np.bool_], cells: pd.Series, name: str, reason: str) -> None:
    """Raise for the first `bad` cell, naming its 1-based data row, the column and the value."""
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        value = cells.iloc[pos]
        value = value.item() if isinstance(value, np.generic) else value
        raise InputError(reason, line=pos + 1, column=name, value=value, has_value=True)


def parse_dates(column: pd.Series, name: str) -> IntArray:
    """Each cell of `column` as a day number (days since 1970-01-01); times of day are dropped.

    Accepts datetimes, dates and ISO ``YYYY-MM-DD`` text; anything else is an InputError naming
    the 1-based data row, the column `name` and the value.
    """
    cells = column.reset_index(drop=True)
    if isinstance(cells.dtype, pd.DatetimeTZDtype):
        cells = cells.dt.tz_localize(None)
    if pd.api.types.is_datetime64_dtype(cells.dtype):
        parsed = cells
    else:
        raw = cells.astype(object)
        is_text = _each(raw, lambda v: isinstance(v, str))
        usable = _each(raw, lambda v: isinstance(v, date | np.datetime64))
        text = raw[is_text].str.strip()
        usable[is_text] = text.str.fullmatch(_ISO_DAY).to_numpy(dtype=bool)
        raw = raw.copy()
        raw[is_text] = text
        parsed = pd.to_datetime(raw.where(usable), errors="coerce", format="ISO8601")
    _reject(parsed.isna().to_numpy(), cells, name, "is not a date")
    return parsed.to_numpy().astype("datetime64[D]").astype(np.int64)


def parse_numbers(column: pd.Series, name: str) -> FloatArray:
    """Each cell of `column` as a float; empty cells (None, nan, blank text) are 0.

    A non-number, a boolean or an infinity is an InputError naming the 1-based data row, the
    column `name` and the value.
    """
    cells = column.reset_index(drop=True)
    if pd.api.types.is_numeric_dtype(cells) and not pd.api.types.is_bool_dtype(cells):
        numbers = cells.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        raw = cells.astype(object)
        blank = _each(raw, lambda v: isinstance(v, str) and not v.strip())
        flags = _each(raw, lambda v: isinstance(v, bool | np.bool_))
        converted = pd.to_numeric(raw.where(~blank & ~flags), errors="coerce")
        numbers = converted.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = flags | (np.isnan(numbers) & ~blank & raw.notna().to_numpy())
        _reject(bad, cells, name, "is not a number")
    _reject(np.isinf(numbers), cells, name, "is not a finite number")
    return np.nan_to_num(numbers, nan=0.0)


def day_matrices(
    days: IntArray,
    lines: IntArray,
    n_lines: int,
    metrics: Sequence[FloatArray],
    month: date,
    last: date,
    history: bool,
) -> tuple[date, list[FloatArray]]:
    """Pivot long rows (day number, line code, values) into ``(n_days, n_lines)`` day matrices.

    Returns the first day of the matrices and one matrix per metric. Duplicates are summed, missing
    days are 0; rows after `last` (the run-rate's ``min(as_of, month_end)``) are dropped, and so
    are rows before `month` (its first day) unless `history` (``last_n_dow``), where a line's
    history starts at the line's first row (earlier cells are nan).
    """
    first_of_month = (month - _EPOCH).days
    last_day = (last - _EPOCH).days
    starts = np.full(n_lines, first_of_month, dtype=np.int64)
    if history and len(days):
        np.minimum.at(starts, lines, days)
    first = int(starts.min()) if n_lines else first_of_month
    n_days = last_day - first + 1
    keep = (days >= first) & (days <= last_day)
    cells = (days[keep] - first) * n_lines + lines[keep]
    before = (first + np.arange(n_days))[:, None] < starts[None, :]
    matrices = []
    for values in metrics:
        flat = np.bincount(cells, weights=values[keep], minlength=n_days * n_lines)
        matrix = flat.astype(np.float64).reshape(n_days, n_lines)
        matrix[before] = np.nan
        matrices.append(matrix)
    return _EPOCH + timedelta(days=first), matrices


def day_sum(matrix: FloatArray) -> FloatArray:
    """The sum over the days (axis 0) of a ``(n_days, n_lines)`` matrix, day after day in order.

    The same rounding for a line alone as among many (numpy sums a single column pairwise, many
    columns row by row, which differ in the last bits): `forecast_frame` gives exactly the
    numbers of `forecast_series`, and so the batched spreadsheet functions those of one call.
    """
    total = np.zeros(matrix.shape[1:], dtype=np.float64)
    for row in matrix:
        total += row
    return total
