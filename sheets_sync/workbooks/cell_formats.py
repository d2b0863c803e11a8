"""The number format a cell gets when a button writes a value into an .xlsx sheet.

Decision: the template formats the columns a button fills (openpyxl's column dimensions:
``<col style=...>``), and a written cell that has no format of its own takes its column's,
so the values Sync Facts, Optimize Split or Attribution write show as money, counts, shares
and dates without each writer knowing formats. A cell's own number format is kept, except
that a number never keeps a date format (7000 written over a date stays 7000, not
1919-03-01) and a date always gets a date format: the cell's, else its column's, else
``yyyy-mm-dd`` (``yyyy-mm-dd hh:mm`` with a time of day).
"""

from __future__ import annotations

import datetime as dt
import numbers
from typing import Any

from openpyxl.styles.numbers import FORMAT_GENERAL, is_date_format

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


class ColumnFormats:
    """The number formats of a sheet's columns (one dimension may span several columns)."""

    def __init__(self, ws: Any) -> None:
        self._spans = [
            (dim.min or 0, dim.max or 0, dim.number_format)
            for dim in ws.column_dimensions.values()
            if dim.number_format and dim.number_format != FORMAT_GENERAL
        ]

    def of(self, col: int) -> str | None:
        """Column `col`'s number format (1-based), None when it has none."""
        return next((fmt for low, high, fmt in self._spans if low <= col <= high), None)

    def for_value(self, col: int, value: Any, before: str) -> str:
        """The number format a cell of column `col` whose format was `before` gets for
        `value` (`before` itself when nothing needs to change)."""
        if isinstance(value, dt.date):
            if is_date_format(before):
                return before
            column = self.of(col)
            if column is not None and is_date_format(column):
                return column
            timed = isinstance(value, dt.datetime) and value.time() != dt.time(0)
            return DATETIME_FORMAT if timed else DATE_FORMAT
        if _is_number(value) and (before == FORMAT_GENERAL or is_date_format(before)):
            column = self.of(col)
            return column if column is not None and not is_date_format(column) else FORMAT_GENERAL
        return before


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)  # numpy's too
