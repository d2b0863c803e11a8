"""The day/month order of a numeric date column (``a/b/yyyy``, ``a.b.yyyy``, ``a-b-yy`` …),
decided once from all its values, never per cell.

Decisions:

* a value whose first part is above 12 can only be day-first (``17/11/2026``), one whose second
  part is above 12 only month-first (``11/17/2026``); any of the first kind makes the column
  dd/mm, any of the second mm/dd;
* a column with both kinds is an error (`OrderConflict`, the caller names the column and one
  line of each kind): reading it either way would date some rows wrongly, and guessing per cell
  is how a US export ends up half in January;
* a column where every value is ambiguous (both parts <= 12) takes the locale default, day
  first (the team's exports are Russian), and is warned about;
* a two-digit year is 20yy; the separator must be the same within a value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["NumericDates", "OrderConflict", "numeric_dates"]

_NUMERIC = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})$")


@dataclass(frozen=True)
class OrderConflict:
    """Values proving both orders: the index (among the values given) and text of one each."""

    day_first: tuple[int, str]
    month_first: tuple[int, str]


@dataclass(frozen=True)
class NumericDates:
    """The column read in its one order: datetime64 (NaT where not a numeric date), the human
    format (``"mm/dd/yyyy"``), the warning when the order was a default, the conflict if any."""

    days: npt.NDArray[np.datetime64]
    format: str
    warning: str
    conflict: OrderConflict | None


def numeric_dates(
    date_part: pd.Series, nonblank: npt.NDArray[np.bool_], what: str
) -> NumericDates | None:
    """`NumericDates` when most non-blank values are numeric ``a?b?y`` dates, else None (the
    caller tries its other formats)."""
    parts = date_part.str.extract(_NUMERIC)
    matched = parts[0].notna().to_numpy(dtype=bool) & nonblank
    if not nonblank.any() or matched.sum() * 2 <= nonblank.sum():
        return None
    first = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    second = pd.to_numeric(parts[2], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    year = pd.to_numeric(parts[3], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    day_first = matched & (first > 12)
    month_first = matched & (second > 12)
    conflict = None
    warning = ""
    if day_first.any() and month_first.any():
        i, j = int(np.flatnonzero(day_first)[0]), int(np.flatnonzero(month_first)[0])
        conflict = OrderConflict((i, str(date_part.iloc[i])), (j, str(date_part.iloc[j])))
    us = bool(month_first.any() and not day_first.any())
    day, month = (second, first) if us else (first, second)
    year = np.where(year < 100, year + 2000, year)
    frame = pd.DataFrame({"year": year, "month": month, "day": day})
    frame[~matched] = np.nan
    days = pd.to_datetime(frame, errors="coerce").to_numpy(dtype="datetime64[ns]")
    sep = str(parts[1][matched].mode().iloc[0])
    digits = str(parts[3][matched].str.len().max())
    human = ("mm{0}dd{0}" if us else "dd{0}mm{0}").format(sep) + ("yyyy" if digits == "4" else "yy")
    if sep == "/" and not day_first.any() and not month_first.any():
        warning = f"{what}: every a/b/year value has both parts <= 12; read as {human}"
    return NumericDates(days, human, warning, conflict)
