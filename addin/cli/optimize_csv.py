"""`funnelplan optimize --history FILE --budget AMOUNT`: the budget split on plain CSV input.

History: one row per channel and day (several rows of a channel-day are summed), columns
``date, channel, spend, conversions`` and optionally ``value`` (the value those conversions
brought, e.g. revenue). Bounds (optional): ``channel, min, max, locked`` and optionally
``cpa cap`` (or ``cpa_cap``), ``current`` and ``value`` (value per conversion). AMOUNT, the
bounds and `current` are amounts over `days` days (default 1: per day, like the history rows).
The current split is each channel's average daily spend over the history's last
`RECENT_DAYS` days (or all of it, if shorter; a day without a channel's row counts as 0)
x `days`, unless the bounds give `current`. A channel without min or max keeps within
`max_change` of its current spend (`planning.split.propose`).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from addin.cli.runrate_csv import read_daily_csv
from planning.curves import FitOptions, fit_history
from planning.errors import InputError
from planning.split import (
    DEFAULT_CHANGE,
    DEFAULT_OBJECTIVE,
    ChannelInputs,
    Proposal,
    SplitRequest,
    propose,
)
from workbook_templates import layout as L

RECENT_DAYS = 14
HISTORY_COLUMNS = ("date", "channel", "spend", "conversions")


def _number(raw: Any, where: str, column: str, *, blank: float | None = None) -> float:
    """A CSV cell's number (spaces and a decimal comma allowed); blank → `blank` or an error."""
    text = str(raw).strip().replace("\u00a0", "").replace(" ", "")
    if text == "":
        if blank is not None:
            return blank
        raise InputError("is blank; a number is needed", line=where, column=column)
    try:
        v = float(text.replace(",", "."))
    except ValueError:
        raise InputError("is not a number", line=where, column=column, value=raw) from None
    if not math.isfinite(v):
        raise InputError("is not a finite number", line=where, column=column, value=raw)
    if v < 0:
        raise InputError("must not be negative", line=where, column=column, value=raw)
    return v


def read_history_csv(path: Path) -> pd.DataFrame:
    """The history CSV checked cell by cell: ``date`` (dates), ``channel`` (text),
    ``spend``, ``conversions`` and the optional ``value`` (numbers >= 0, never blank)."""
    frame = read_daily_csv(path)
    missing = [c for c in HISTORY_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(
            f"{path.name} has no `{missing[0]}` column; it needs {', '.join(HISTORY_COLUMNS)} "
            f"(and optionally value); its columns are: {', '.join(frame.columns)}"
        )
    if frame.empty:
        raise InputError(f"{path.name} has no data rows")
    out = pd.DataFrame({"date": frame["date"]})
    channels = []
    for i, raw in enumerate(frame["channel"]):
        if str(raw).strip() == "":
            raise InputError("is blank", line=f"{path.name}:{i + 2}", column="channel")
        channels.append(str(raw).strip())
    out["channel"] = channels
    for column in ("spend", "conversions", "value"):
        if column not in frame.columns:
            continue
        out[column] = [
            _number(raw, f"{path.name}:{i + 2}", column) for i, raw in enumerate(frame[column])
        ]
    return out


def read_bounds_csv(path: Path) -> tuple[dict[str, ChannelInputs], dict[str, float]]:
    """Per channel its inputs and, where the file gives one, its current spend."""
    try:
        frame = pd.read_csv(path, sep=None, engine="python", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path.name} as CSV: {exc}") from exc
    frame.columns = [str(c).strip().lower().replace("_", " ") for c in frame.columns]
    if "channel" not in frame.columns:
        raise InputError(
            f"{path.name} has no `channel` column; columns are: {', '.join(frame.columns)}"
        )
    inputs: dict[str, ChannelInputs] = {}
    current: dict[str, float] = {}
    first: dict[str, int] = {}
    for i, rec in enumerate(frame.to_dict("records")):
        where = f"{path.name}:{i + 2}"
        channel = str(rec["channel"]).strip()
        if not channel:
            raise InputError("is blank", line=where, column="channel")
        if channel in first:
            raise InputError(
                f"appears twice (also line {first[channel]})",
                line=where,
                column="channel",
                value=channel,
            )
        first[channel] = i + 2
        low = _number(rec.get("min", ""), where, "min", blank=0.0)
        high = _number(rec.get("max", ""), where, "max", blank=math.inf)
        if low > high:
            raise InputError(
                f"is below `min` {low:g}; `max` must be >= `min`",
                line=where,
                column="max",
                value=rec["max"],
            )
        lock = str(rec.get("locked", "")).strip().lower()
        if lock not in L.LOCKED_WORDS and lock not in L.UNLOCKED_WORDS:
            raise InputError("is not yes or no", line=where, column="locked", value=rec["locked"])
        cap = _number(rec.get("cpa cap", ""), where, "cpa cap", blank=math.nan)
        if cap == 0:
            raise InputError("must be > 0 (blank = no cap)", line=where, column="cpa cap", value=0)
        value = _number(rec.get("value", ""), where, "value", blank=math.nan)
        inputs[channel] = ChannelInputs(
            min=low,
            max=high,
            locked=lock in L.LOCKED_WORDS,
            cpa_cap=None if math.isnan(cap) else cap,
            value=None if math.isnan(value) else value,
        )
        now = _number(rec.get("current", ""), where, "current", blank=math.nan)
        if not math.isnan(now):
            current[channel] = now
    return inputs, current


def recent_average(history: pd.DataFrame, days: int = RECENT_DAYS) -> dict[str, float]:
    """Per channel (history order) the mean daily spend over the last `days` calendar days of
    the whole history, or all of it when it is shorter; a day without a channel's row counts
    as 0 for that channel."""
    first: dt.date = min(history["date"])
    last: dt.date = max(history["date"])
    window = min(days, (last - first).days + 1)
    start = last - dt.timedelta(days=window - 1)
    recent = history[history["date"] >= start]
    sums = recent.groupby("channel", sort=False)["spend"].sum()
    return {c: float(sums.get(c, 0.0)) / window for c in dict.fromkeys(history["channel"])}


def optimize_csv(
    history_path: Path,
    budget: float,
    days: int = 1,
    bounds_path: Path | None = None,
    objective: str | None = None,
    step: float | None = None,
    options: FitOptions | None = None,
    max_change: float | None = None,
) -> Proposal:
    """Fit the history's channels and split `budget` (over `days` days) among them.

    Channels named only in the bounds file have no history: they keep their `current` spend
    (0 if not given), flagged. The value per conversion of a channel is the bounds' `value`,
    else the history's summed value / summed conversions. `objective`, `max_change`: ``None``
    is the default (`planning.split`); `max_change`: a channel without min or max (and not
    locked) keeps within this share of its current spend either way (0.5: ±50%; 0: no such
    limit).
    """
    history = read_history_csv(history_path)
    inputs, given_current = read_bounds_csv(bounds_path) if bounds_path else ({}, {})
    fits = fit_history(history[list(HISTORY_COLUMNS)], options or FitOptions())
    per_day = recent_average(history)
    channels = list(dict.fromkeys([*per_day, *inputs]))
    request = SplitRequest(
        current={c: given_current.get(c, per_day.get(c, 0.0) * days) for c in channels},
        budget=budget,
        days=days,
        inputs=with_history_values(history, inputs),
        objective=objective or DEFAULT_OBJECTIVE,
        step=step,
        max_change=DEFAULT_CHANGE if max_change is None else max_change,
    )
    return propose(request, fits, history=history_note(history, history_path, given_current))


def with_history_values(
    history: pd.DataFrame, inputs: dict[str, ChannelInputs]
) -> dict[str, ChannelInputs]:
    """`inputs` with, for a channel of the history whose bounds give no value per conversion,
    its summed `value` / summed conversions (when the history has a value column and the
    channel converted)."""
    out = dict(inputs)
    if "value" not in history.columns:
        return out
    sums = history.groupby("channel", sort=False)[["value", "conversions"]].sum()
    for c in sums.index:
        spec = out.get(c, ChannelInputs())
        conv = float(sums.loc[c, "conversions"])
        if spec.value is None and conv > 0:
            out[c] = replace(spec, value=float(sums.loc[c, "value"]) / conv)
    return out


def history_note(history: pd.DataFrame, path: Path, given_current: dict[str, float]) -> str:
    """What the curves were fitted on and where the current split comes from."""
    first, last = min(history["date"]), max(history["date"])
    window = min(RECENT_DAYS, (last - first).days + 1)
    return (
        f"{history['date'].nunique()} days, {first:%Y-%m-%d} to {last:%Y-%m-%d} "
        f"({path.name}); current split = "
        + ("the bounds' `current`" if given_current else f"mean of the last {window} days")
    )
