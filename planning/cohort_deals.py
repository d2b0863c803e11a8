"""The CRM deals the cohort numbers are computed from: their shape, checked, and as day numbers.

A deal is one lead: its plan `channel`, the day it was `created` and, per stage below leads, the
day it reached that stage (NaT when it has not). `COHORT_STAGES` are those stages in funnel
order; a `calls` column, when the deals have one, is a stage too (before ``pp``). `revenue` is
the amount of a purchased deal (0 otherwise).

Decisions, once for every cohort number
---------------------------------------
- Days only: every date is normalised to midnight; a lag is a whole number of days.
- A reached stage implies the earlier ones: a stage's effective day is the earliest day among it
  and every later stage (a purchase with no ``pp`` date reached ``pp`` by the purchase day; a
  ``pp`` dated after the purchase counts at the purchase day). Counts per stage are therefore
  never larger for a later stage.
- Nothing after `as_of` exists: a deal created after it is dropped; a stage reached after it is
  "not reached yet" (the export may be newer than the facts).
- A stage dated before the lead (a CRM typo) counts at age 0; how many did is reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from planning.errors import InputError

__all__ = [
    "COHORT_STAGES",
    "NEVER",
    "POOLED",
    "DayDeals",
    "check_deals",
    "day_deals",
    "day_number",
    "deals_frame",
    "stages_of",
]

COHORT_STAGES: tuple[str, ...] = ("pp", "negotiations", "purchases")
"""The stages below leads, in funnel order (calls are not in a CRM export; see `stages_of`)."""

CALLS = "calls"
POOLED = ""
"""The channel name of a pooled curve or a total row: every channel together."""

NEVER = 1 << 40
"""The day number of a stage not reached (later than any real day)."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
_EPOCH = date(1970, 1, 1)


def stages_of(deals: pd.DataFrame) -> tuple[str, ...]:
    """The deals' stages in funnel order: `COHORT_STAGES`, after ``calls`` when they have it."""
    return ((CALLS,) if CALLS in deals.columns else ()) + COHORT_STAGES


def day_number(day: date) -> int:
    """Days since 1970-01-01 (a datetime's time of day is dropped)."""
    if isinstance(day, datetime):
        day = day.date()
    if not isinstance(day, date):
        raise InputError(f"must be a date, got {day!r}", value=day, has_value=False)
    return (day - _EPOCH).days


def _days(name: str, column: Any, required: bool) -> pd.Series:
    """A column as datetime64 normalised to midnight (NaT for blanks, unless `required`)."""
    values = pd.Series(column).reset_index(drop=True)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_localize(None)
    parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    bad = parsed.isna().to_numpy() & (required | values.notna().to_numpy())
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError("is not a date", line=row + 1, column=name, value=values.iloc[row])
    return parsed.dt.normalize().astype("datetime64[ns]")


def deals_frame(
    channel: Sequence[str] | pd.Series,
    created: Any,
    *,
    pp: Any = None,
    negotiations: Any = None,
    purchases: Any = None,
    revenue: Any = None,
    calls: Any = None,
) -> pd.DataFrame:
    """The canonical deals frame from columns (dates as datetimes, dates or ISO text; a missing
    stage column is all NaT, a missing revenue all 0), checked by `check_deals`."""
    n = len(channel)
    columns: dict[str, Any] = {"channel": list(channel), "created": created}
    if calls is not None:
        columns[CALLS] = calls
    for stage, values in zip(COHORT_STAGES, (pp, negotiations, purchases), strict=True):
        columns[stage] = [None] * n if values is None else values
    columns["revenue"] = [0.0] * n if revenue is None else revenue
    return check_deals(pd.DataFrame({k: list(v) for k, v in columns.items()}))


def check_deals(deals: pd.DataFrame) -> pd.DataFrame:
    """`deals` with its columns checked and typed: channel text, created and the stages
    datetime64[ns] at midnight, revenue float (blank 0). Raises `InputError` naming the column
    and the 1-based row of the first bad cell."""
    if not isinstance(deals, pd.DataFrame):
        raise InputError(f"`deals` must be a pandas DataFrame, got {type(deals).__name__}")
    missing = [c for c in ("channel", "created", *COHORT_STAGES) if c not in deals.columns]
    if missing:
        shown = ", ".join(map(str, deals.columns))
        raise InputError(f"`deals` has no column {missing[0]!r}; the columns are: {shown}")
    channel = deals["channel"].reset_index(drop=True)
    blank = channel.isna().to_numpy()
    if blank.any():
        row = int(np.flatnonzero(blank)[0])
        raise InputError("is blank", line=row + 1, column="channel", value=None, has_value=False)
    out = pd.DataFrame({"channel": channel.astype(str).to_numpy(dtype=object)})
    out["created"] = _days("created", deals["created"], required=True)
    for stage in stages_of(deals):
        out[stage] = _days(stage, deals[stage], required=False)
    if "revenue" in deals.columns:
        revenue = pd.to_numeric(deals["revenue"].reset_index(drop=True), errors="coerce")
        bad = revenue.isna().to_numpy() & deals["revenue"].notna().to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            value = deals["revenue"].iloc[row]
            raise InputError("is not a number", line=row + 1, column="revenue", value=value)
        out["revenue"] = revenue.fillna(0.0).to_numpy(dtype=np.float64)
    else:
        out["revenue"] = 0.0
    return out


@dataclass(frozen=True, eq=False)
class DayDeals:
    """The deals created up to `as_of`, as day numbers (days since 1970-01-01).

    `reached[s]` is the effective day deal ``i`` reached stage ``stages[s]`` (see the module
    docstring), `NEVER` when not reached by `as_of`; `clipped[s]` how many of those days fell
    before the lead's own day (their lag counts as 0).
    """

    channels: tuple[str, ...]  # sorted names; `channel` indexes them
    channel: IntArray
    created: IntArray
    stages: tuple[str, ...]
    reached: IntArray  # (n_stages, n_deals)
    clipped: IntArray  # (n_stages,)
    revenue: FloatArray
    as_of: int

    def lag(self, s: int) -> IntArray:
        """Stage ``s``'s lag in days (reached - created, at least 0); huge when not reached."""
        return np.maximum(self.reached[s] - self.created, 0)

    def age(self) -> IntArray:
        """Each lead's age at `as_of` in days: how long it has been observed."""
        return self.as_of - self.created


def _as_days(column: pd.Series) -> IntArray:
    values = column.to_numpy(dtype="datetime64[ns]")
    days = values.astype("datetime64[D]").astype(np.int64)
    return np.where(np.isnat(values), NEVER, days)


def day_deals(deals: pd.DataFrame, as_of: date) -> DayDeals:
    """`deals` (checked by `check_deals`) created up to `as_of`, as `DayDeals`."""
    checked = check_deals(deals)
    today = day_number(as_of)
    created = _as_days(checked["created"])
    keep = created <= today
    stages = stages_of(checked)
    reached = np.stack([_as_days(checked[s])[keep] for s in stages])
    # A reached later stage implies this one: the earliest day among this and the later stages.
    reached = np.minimum.accumulate(reached[::-1], axis=0)[::-1]
    reached = np.where(reached <= today, reached, NEVER)
    created = created[keep]
    clipped = ((reached < created) & (reached != NEVER)).sum(axis=1).astype(np.int64)
    names = checked["channel"].to_numpy(dtype=object)[keep]
    channels, codes = np.unique(names.astype(str), return_inverse=True)
    return DayDeals(
        channels=tuple(str(c) for c in channels),
        channel=codes.astype(np.int64),
        created=created,
        stages=stages,
        reached=reached,
        clipped=clipped,
        revenue=checked["revenue"].to_numpy(dtype=np.float64)[keep],
        as_of=today,
    )
