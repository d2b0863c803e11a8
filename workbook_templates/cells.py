"""Values in and out of single cells, shared by every sheet module.

Reading: a bad cell becomes an `InputError` naming the cell (``Plan!E7``), the line, the column
and the value, so the user can go straight to it. Writing: what a cell may hold is blank, a
plain Python number, text, bool or date: never NaN, inf, a numpy scalar or a pandas NA.
Formulas: `quotient` is every sheet's division, blank (not ``#DIV/0!``) over a blank or zero
denominator.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from planning.errors import InputError


def to_date(value: Any, where: str, column: str) -> dt.date:
    """A cell's date (date, datetime, ISO text or dd.mm.yyyy text)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%Y-%m"):
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
    raise InputError("is not a date", line=where, column=column, value=value)


def to_number(value: Any, where: str, column: str, *, allow_blank: bool = True) -> float:
    """A cell's number: blank → NaN (when allowed); text, bool or an error value → InputError."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        if allow_blank:
            return math.nan
        raise InputError("is blank; a number is needed", line=where, column=column, has_value=False)
    if isinstance(value, bool):
        raise InputError("is not a number", line=where, column=column, value=value)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError("is not a finite number", line=where, column=column, value=value)
        return float(value)
    raise InputError("is not a number", line=where, column=column, value=value)


def line_name(channel: Any, campaign: Any) -> str:
    """A plan line as the user reads it: ``"Search / brand"``, or the channel alone."""
    return f"{channel} / {campaign}" if campaign not in (None, "") else str(channel)


def sheet_value(value: Any, digits: int | None = None) -> Any:
    """What a cell takes for `value`: None, pandas NA / NaT, NaN and inf become blank; numpy
    scalars plain Python; a pandas Timestamp a datetime; floats rounded to `digits` if given."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, dt.date):  # numpy scalar
        value = value.item()
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if digits is not None:
            return round(value, digits)
    return value


def cell(value: Any, digits: int = 2) -> Any:
    """A number for a sheet: `sheet_value` rounded to `digits`, a whole number as an int."""
    value = sheet_value(value, digits)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def quotient(num: str, den: str, *, blank_if: Sequence[str] = (), expr: str | None = None) -> str:
    """A division formula that is blank, not ``#DIV/0!``, when its denominator is blank or 0.

    ``=IF(OR(<blank_if>,N(den)=0),"",num/den)``: `blank_if` are further conditions that blank
    the cell (say ``A5=""``); `expr` replaces ``num/den`` (ROMI's ``(n-d)/d``). The denominator
    is tested with ``N()`` rather than the result wrapped in IFERROR, so a real error in either
    cell (a ``#REF!`` after a deleted column) still shows. Where the denominator is a non-zero
    number the result is exactly ``num/den``.
    """
    tests = [*blank_if, f"N({den})=0"]
    cond = tests[0] if len(tests) == 1 else f"OR({','.join(tests)})"
    return f'=IF({cond},"",{expr or f"{num}/{den}"})'
