"""RUNRATE's ``cohort`` method: the lag-aware month-end forecast of a stage below leads.

``=RUNRATE(values, as_of, window, "cohort", dates, leads, curve)``: `values` are the stage's
daily counts (purchases, say), `leads` the daily leads on the same dates (the range may start
before the month: older leads still convert in it), `curve` a column of cumulative shares
F[0..H] (the share of leads that reached the stage by age d days; the Cohorts sheet publishes
one per channel and stage). The forecast is `planning.cohorts.cohort_forecast`:

    the month's values up to as-of
    + what the leads up to as-of still bring by the month's end (along the curve)
    + what the rest of the month's leads bring, at the leads' own RUNRATE (last_n, `window`)

Every other method is `addin.formulas.runrate.runrate` exactly (`leads` and `curve` are
ignored). The method is accepted by the formula only: `planning.runrate.METHODS` (the Plan's
run-rate methods) does not list it. Errors: no `leads` or `curve` is ``#N/A`` with a note naming
it; a curve that is not shares between 0 and 1, not non-decreasing, or has a hole is ``#NUM!``
(or ``#N/A`` for the hole); an error value in the curve propagates.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from addin.formulas.runrate import _check_runrate_options, _daily_series
from addin.formulas.runrate import runrate as plain_runrate
from addin.sheet_function import NA, NUM, VALUE, CellError, Cells
from planning.cohorts import cohort_forecast
from planning.runrate import METHODS, forecast_series

COHORT = "cohort"


def _curve(curve: Cells) -> np.ndarray:
    """The curve's cells as F[0..H]: trailing blanks dropped, a blank inside is #N/A."""
    cells = list(curve)
    while cells and cells[-1] is None:
        cells.pop()
    if not cells:
        raise CellError(NA, "`curve` is blank: give F[0..H], the cumulative shares by age in days")
    for i, cell in enumerate(cells):
        if cell is None:
            raise CellError(NA, f"row {i + 1} of `curve` is blank (F[{i}] is missing)")
        if isinstance(cell, str):
            raise CellError(cell, f"row {i + 1} of `curve` is {cell}")
    return np.asarray(cells, dtype=np.float64)


def cohort_runrate(
    values: Cells,
    as_of: dt.date,
    window: float,
    dates: Cells | None,
    leads: Cells | None,
    curve: Cells | None,
) -> float:
    """The cohort forecast of `values` in as-of's month (see the module docstring)."""
    n, _ = _check_runrate_options(window, "last_n")
    if leads is None:
        raise CellError(
            NA, "method cohort needs `leads`: the daily leads, one per value (same dates)"
        )
    if curve is None:
        raise CellError(
            NA,
            "method cohort needs `curve`: the column of cumulative shares F[0..H] by age in "
            "days (the Cohorts sheet publishes one per channel and stage)",
        )
    if len(leads) != len(values):
        raise CellError(
            VALUE,
            f"`leads` has {len(leads)} cells and `{values.name}` has {len(values)}; "
            "give one lead count per value (same dates)",
        )
    shares = _curve(curve)
    month = as_of.replace(day=1)
    stage = _daily_series(values, as_of, dates)
    lead_days = _daily_series(leads, as_of, dates)
    in_month = stage[stage.index >= np.datetime64(month)]
    rate = forecast_series(lead_days, month, as_of, window=n, method="last_n").daily_rate
    if (lead_days < 0).any():
        raise CellError(NUM, "`leads` must not be negative")
    return cohort_forecast(lead_days, float(in_month.sum()), shares, month, as_of, rate).forecast


def runrate(
    values: Cells,
    as_of: dt.date,
    window: float = 5,
    method: str = "last_n",
    dates: Cells | None = None,
    leads: Cells | None = None,
    curve: Cells | None = None,
) -> float | str:
    """Month-end forecast of a daily metric; method ``cohort`` follows the leads' lags."""
    if method == COHORT:
        return cohort_runrate(values, as_of, window, dates, leads, curve)
    if method not in METHODS:
        shown = ", ".join((*METHODS, COHORT))
        raise CellError(VALUE, f"`method` must be one of {shown}, got {method!r}")
    return plain_runrate(values, as_of, window, method, dates)
