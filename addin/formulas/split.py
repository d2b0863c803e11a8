"""RESPONSE and OPTIMIZE_SPLIT: response curves and the budget split (`planning.split`)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd

from addin.sheet_function import (
    NA,
    NUM,
    VALUE,
    CellError,
    Cells,
    as_date,
    as_numbers,
    note,
    required_number,
    rowwise,
)
from planning.curves import ChannelFit, FitOptions, fit_history
from planning.errors import InputError
from planning.response import FORMS, Curve, curve_from_params
from planning.split import ChannelInputs, SplitRequest, propose

_PARAMS: dict[str, tuple[str, ...]] = {
    "hill": ("vmax", "k", "slope"),
    "saturating": ("vmax", "k"),
    "power": ("a", "b"),
    "negexp": ("vmax", "k"),
    "linear": ("cpa", "capacity"),
}


def _curve(form: str, params: list[Any], where: str, max_spend: float = math.inf) -> Curve:
    key = form.strip().lower()
    if key not in FORMS:
        raise CellError(VALUE, f"{where}form must be one of {', '.join(FORMS)}, got {form!r}")
    names = _PARAMS[key]
    while params and params[-1] is None:
        params = params[:-1]
    if len(params) != len(names):
        raise CellError(
            VALUE,
            f"{where}a {key} curve takes {len(names)} parameters ({', '.join(names)}), "
            f"got {len(params)}",
        )
    for name, value in zip(names, params, strict=True):
        required_number(value, f"{where}parameter `{name}`")
    try:
        return curve_from_params(key, dict(zip(names, params, strict=True)), max_spend=max_spend)
    except InputError as error:
        raise CellError(NUM, f"{where}{error}") from None


def response(form: str, params: Cells, spend: Cells, max_spend: float | None = None) -> Any:
    """Conversions per day of a response curve at a spend per day (vectorised over spend)."""
    curve = _curve(form, list(params), "", math.inf if max_spend is None else max_spend)

    def one(s: float) -> float | str:
        if s < 0:
            note(f"spend {s:g} is negative")
            return NUM
        return float(curve.response(s))

    return rowwise(one, spend)


def channel_names(channels: list[list[Any]]) -> list[str]:
    names = []
    for i, row in enumerate(channels):
        for cell in row:
            if cell is None or (isinstance(cell, str) and not cell.strip()):
                raise CellError(NA, f"row {i + 1} of `channels` is blank")
            name = str(int(cell)) if isinstance(cell, float) and cell.is_integer() else str(cell)
            names.append(name.strip())
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise CellError(VALUE, f"channel {dupes[0]!r} appears twice in `channels`")
    return names


def numbers_for(cells: Cells, n: int, blank: float | None) -> list[float]:
    """One number per channel (a single cell repeated); a blank is `blank` (None: an error)."""
    if len(cells) not in (1, n):
        raise CellError(
            VALUE, f"`{cells.name}` has {len(cells)} cells for {n} channels; give one per channel"
        )
    out = []
    for i in range(n):
        value = cells[i if len(cells) > 1 else 0]
        if value is None and blank is not None:
            value = blank
        out.append(float(required_number(value, f"row {i + 1} of `{cells.name}`")))
    return out


def given_fits(names: list[str], table: list[list[Any]]) -> dict[str, ChannelFit]:
    """The given curves as fits (confidence ``given``, no band)."""
    if len(table) != len(names):
        raise CellError(
            VALUE, f"`curves` has {len(table)} rows for {len(names)} channels; give one per channel"
        )
    curves = {}
    for name, row in zip(names, table, strict=True):
        form = row[0]
        if not isinstance(form, str) or not form.strip():
            raise CellError(NA if form is None else VALUE, f"channel {name!r}: the form is blank")
        params = list(as_numbers([row[1:]], f"parameters of {name}"))
        curve = _curve(form, params, f"channel {name!r}: ")
        curves[name] = ChannelFit(name, curve, "given", (), (), 0, math.nan)
    return curves


def history_fits(names: list[str], table: list[list[Any]]) -> dict[str, ChannelFit]:
    """The curves fitted on the daily history (no band: no bootstrap)."""
    rows = table
    if rows and not isinstance(rows[0][0], dt.date | int | float) and not _is_iso(rows[0][0]):
        rows = rows[1:]  # a header row
    if not rows or len(rows[0]) < 4:
        raise CellError(VALUE, "`history` must have 4 columns: date, channel, spend, conversions")
    frame = pd.DataFrame(
        [r[:4] for r in rows if any(c is not None for c in r[:4])],
        columns=["date", "channel", "spend", "conversions"],
    )
    dates = frame["date"]
    frame["date"] = [as_date(d, "history date") if isinstance(d, int | float) else d for d in dates]
    frame["channel"] = [str(c).strip() if c is not None else c for c in frame["channel"]]
    fits = fit_history(frame, FitOptions(n_bootstrap=0))
    missing = [n for n in names if n not in fits]
    if missing:
        raise CellError(NA, f"channel {missing[0]!r} has no rows in `history`")
    return {n: fits[n] for n in names}


def channel_fits(
    names: list[str], curves: list[list[Any]] | None, history: list[list[Any]] | None
) -> dict[str, ChannelFit]:
    """The curves given per channel, else fitted on the daily history, else an error."""
    if curves is not None:
        return given_fits(names, curves)
    if history is not None:
        return history_fits(names, history)
    raise CellError(NA, "give `curves` (form and parameters per channel) or `history`")


def _is_iso(value: Any) -> bool:
    try:
        dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return False
    return True


_SPLIT_HEADER = ["channel", "current", "proposed", "change", "conversions", "marginal CPA"]


def optimize_split(
    channels: list[list[Any]],
    current: Cells,
    budget: float,
    curves: list[list[Any]] | None = None,
    min: Cells | None = None,
    max: Cells | None = None,
    history: list[list[Any]] | None = None,
    step: float | None = None,
) -> list[list[Any]]:
    """The split of a daily budget that brings the most conversions: `planning.split.propose`
    over one day, as the Optimize Split button splits a month, its defaults included (a
    channel with neither min nor max keeps within ±50% of its current spend,
    `planning.split.DEFAULT_CHANGE`)."""
    names = channel_names(channels)
    n = len(names)
    now = numbers_for(current, n, None)
    lows = [0.0] * n if min is None else numbers_for(min, n, 0.0)
    highs = [math.inf] * n if max is None else numbers_for(max, n, math.inf)
    fits = channel_fits(names, curves, history)
    request = SplitRequest(
        current=dict(zip(names, now, strict=True)),
        budget=budget,
        inputs={c: ChannelInputs(lo, hi) for c, lo, hi in zip(names, lows, highs, strict=True)},
        step=step,
    )
    proposal = propose(request, fits)
    rows: list[list[Any]] = [list(_SPLIT_HEADER)]
    for cp in proposal.channels:
        mcpa = cp.marginal_cpa if math.isfinite(cp.marginal_cpa) else NA
        rows.append([cp.channel, cp.current, cp.proposed, cp.delta, cp.expected, mcpa])
    t = proposal.totals
    rows.append(["total", t.current, t.proposed, t.delta, t.expected_conversions, ""])
    return rows
