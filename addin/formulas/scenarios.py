"""SCENARIO: one what-if split evaluated on response curves, as Compare Scenarios evaluates it.

The formula and the button share `planning.scenario_plan.outcomes` (over
`planning.scenarios.evaluate`): the same leads, band, CPA, revenue and ROMI for the same curves
and spends; totals sum the absolutes and recompute the ratios from the sums.
"""

from __future__ import annotations

import math
from typing import Any

from addin.formulas.split import channel_fits, channel_names, numbers_for
from addin.sheet_function import NUM, CellError, Cells
from planning.errors import InputError
from planning.scenario_plan import Economics, outcomes

_HEADER = ["channel", "spend", "leads", "low", "high", "CPA", "revenue", "ROMI", "flags"]


def _shown(value: float) -> Any:
    return value if math.isfinite(value) else ""


def scenario(
    channels: list[list[Any]],
    budgets: Cells,
    curves: list[list[Any]] | None = None,
    history: list[list[Any]] | None = None,
    values: Cells | None = None,
    days: float | None = None,
) -> list[list[Any]]:
    """Expected leads (with the band), CPA, revenue and ROMI of a split: `budgets` per channel
    over `days` days (default 1: per day), on the given `curves` or on curves fitted to
    `history`; `values` is the value of one lead per channel (blank: no revenue)."""
    names = channel_names(channels)
    n = len(names)
    spend = numbers_for(budgets, n, None)
    if any(s < 0 for s in spend):
        raise CellError(NUM, "`budgets` must be >= 0")
    fits = channel_fits(names, curves, history)
    per_lead = [math.nan] * n if values is None else numbers_for(values, n, math.nan)
    period = 1 if days is None else int(days)
    if period < 1 or (period != days and days is not None):
        raise CellError(NUM, f"`days` must be a whole number >= 1, got {days}")
    economics = Economics({}, dict(zip(names, per_lead, strict=True)))
    try:
        (result,) = outcomes(
            fits, {"scenario": dict(zip(names, spend, strict=True))}, economics, period
        )
    except InputError as error:
        raise CellError(NUM, str(error)) from error
    rows: list[list[Any]] = [list(_HEADER)]
    for o in (*result.channels, result.total):
        label = "total" if o is result.total else o.channel
        numbers = (o.spend, o.leads, o.leads_low, o.leads_high, o.cpa, o.revenue, o.romi)
        rows.append([label, *(_shown(v) for v in numbers), "; ".join(o.flags)])
    return rows
