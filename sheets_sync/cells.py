"""What a cell holds, decided once for every reader and the store.

`is_missing`
    None, NaN, NaT or ``pd.NA``: nothing in the cell (what pandas and the readers put where a
    file, a sheet or a database had no value);
`is_blank`
    missing, or text of nothing but whitespace;
`cell_text`
    a cell as the text a CSV file would hold: ``""`` when missing, a whole float without its
    ``.0`` (2026.0 -> ``"2026"``), a date as ISO (a datetime at midnight as its date), other
    values stripped;
`finite_number`
    a value as a finite float, or None (missing, not a number, NaN or an infinity);
`json_value`
    a value as JSON holds it: numpy scalars as Python, dates as ISO dates, NaN and infinities
    as None (null).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["cell_text", "finite_number", "is_blank", "is_missing", "json_value"]


def is_missing(value: Any) -> bool:
    """None, NaN (any float), NaT (pandas' or numpy's) or ``pd.NA``."""
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    return isinstance(value, np.datetime64) and bool(np.isnat(value))


def is_blank(value: Any) -> bool:
    """Missing, or a text of nothing but whitespace."""
    return is_missing(value) or (isinstance(value, str) and not value.strip())


def cell_text(value: Any) -> str:
    """A cell as a file's text (see the module notes)."""
    if is_missing(value):
        return ""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float | np.floating):
        value = float(value)
        return repr(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def finite_number(value: Any) -> float | None:
    """`value` as a finite float, else None."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def json_value(value: Any) -> Any:
    """`value` as JSON holds it (see the module notes)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
