"""The sample's call tracking and CRM exports: one row per call, one row per lead.

`line_grid` lays the daily facts out as ``(days, lines)`` arrays; `write_calls` draws the calls
(target calls as simulated, plus short non-target ones) and `write_crm` the leads, each stage
matched to an earlier lead of the same line about the channel's lag before it (see
`sheets_sync.samples.exports`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from sheets_sync.samples.campaigns import SAMPLE_CAMPAIGNS, insert_rows, to_csv
from sheets_sync.samples.channels import CHANNELS

__all__ = ["LineGrid", "line_grid", "write_calls", "write_crm"]

Ints = npt.NDArray[np.int64]

_NO = -(10**6)
"""No date: a stage the lead has not reached (day numbers are relative to the first day)."""
_STAGES = ("lead", "pp", "negotiations", "purchase")
_CRM_COUNTS = ("leads", "pp", "negotiations", "purchases")


@dataclass(frozen=True)
class LineGrid:
    """The daily facts as arrays ``(n_days, n_lines)`` per metric, lines in `SAMPLE_CAMPAIGNS`
    order; day 0 is `first`."""

    first: dt.date
    n_days: int
    metrics: dict[str, npt.NDArray[Any]]


def line_grid(daily: pd.DataFrame) -> LineGrid:
    n_lines = len(SAMPLE_CAMPAIGNS)
    n_days = len(daily) // n_lines
    expected = [(c.channel, c.campaign) for c in SAMPLE_CAMPAIGNS] * n_days
    if len(daily) != n_days * n_lines or (
        list(zip(daily["channel"], daily["campaign"], strict=True)) != expected
    ):
        raise ValueError("the sample's daily facts are not one row per day per sample line")
    metrics = {
        m: daily[m].to_numpy().reshape(n_days, n_lines)
        for m in ("traffic", "leads", "calls", "pp", "negotiations", "purchases", "revenue")
    }
    return LineGrid(daily["date"].iloc[0], n_days, metrics)


# --------------------------------------------------------------------------- calls


_PAD = np.array([f"{i:02d}" for i in range(60)], dtype=object)
_PHONES = np.array(
    [f"+7 (9{n:02d}) ***-**-{n * 7 % 100:02d}" for n in range(len(SAMPLE_CAMPAIGNS))], dtype=object
)


def _utm_columns(line: Ints) -> dict[str, npt.NDArray[np.object_]]:
    """The UTM columns of calls or leads of the `SAMPLE_CAMPAIGNS` numbered `line`."""
    return {
        key: np.array([getattr(c, key) for c in SAMPLE_CAMPAIGNS], dtype=object)[line]
        for key in ("utm_source", "utm_medium", "utm_campaign")
    }


def _day_strings(
    first: dt.date, days: Ints, seconds: Ints, day_format: str, with_seconds: bool = False
) -> npt.NDArray[np.object_]:
    """Timestamps ``first + days`` at `seconds` after midnight: the day in `day_format`, then
    ``HH:MM`` (``HH:MM:SS`` `with_seconds`); ``""`` where `days` is `_NO`."""
    unique, inverse = np.unique(days, return_inverse=True)
    day_text = np.array(
        ["" if d == _NO else f"{first + dt.timedelta(days=int(d)):{day_format}}" for d in unique],
        dtype=object,
    )
    hours, rest = np.divmod(seconds, 3600)
    text = day_text[inverse] + " " + _PAD[hours] + ":" + _PAD[rest // 60]
    if with_seconds:
        text = text + ":" + _PAD[rest % 60]
    return np.asarray(np.where(days == _NO, "", text), dtype=object)


def write_calls(grid: LineGrid, first: dt.date, path: Path, rng: np.random.Generator) -> None:
    target = grid.metrics["calls"].astype(np.int64)  # (days, lines)
    other = rng.poisson(0.35 * target + 0.15).astype(np.int64)
    per_cell = (target + other).ravel()
    cell = np.repeat(np.arange(per_cell.size), per_cell)
    rank = np.arange(cell.size) - np.repeat(np.cumsum(per_cell) - per_cell, per_cell)
    is_target = rank < target.ravel()[cell]
    day, line = np.divmod(cell, len(SAMPLE_CAMPAIGNS))
    seconds = rng.integers(9 * 3600, 21 * 3600, cell.size)
    order = np.lexsort((seconds, day))
    day, line, seconds, is_target = day[order], line[order], seconds[order], is_target[order]
    duration = np.where(
        is_target, rng.integers(75, 900, cell.size), rng.integers(4, 45, cell.size)
    ).astype(np.int64)
    table = pd.DataFrame(
        {
            "ID звонка": (5_300_000 + np.arange(cell.size) * 7).astype(str),
            "Дата и время": _day_strings(first, day, seconds, "%d.%m.%Y", with_seconds=True),
            "Номер абонента": _PHONES[line],
            "Длительность": _PAD[duration // 60] + ":" + _PAD[duration % 60],
            "Целевой": np.where(is_target, "Да", "Нет"),
            **_utm_columns(line),
        }
    )
    # One call exported twice.
    at = int(rng.integers(0, len(table)))
    table = insert_rows(table, at, table.iloc[[at]])
    path.write_text(to_csv(table, ";"), encoding="utf-8", newline="")


# --------------------------------------------------------------------------- CRM


def _match(pred_days: Ints, event_days: Ints, lags: Ints) -> Ints:
    """For sorted `event_days`, distinct indices into sorted `pred_days`, increasing, each
    predecessor dated on or before its event and about `lags` days before it where the
    predecessors allow; negative (a prefix) where no predecessor is left."""
    latest = np.searchsorted(pred_days, event_days - lags, side="right") - 1
    k = np.arange(event_days.size)
    return np.asarray(k + np.minimum.accumulate((latest - k)[::-1])[::-1], dtype=np.int64)


def _line_leads(
    counts: dict[str, Ints], lags: tuple[float, float, float], rng: np.random.Generator
) -> Ints:
    """The leads of one line, ``(n, 4)`` day numbers of created, PP, negotiations and purchase
    (`_NO` when not reached), so that the events per day are `counts` (``leads``, ``pp``,
    ``negotiations``, ``purchases``, each ``(n_days,)``)."""
    days = np.arange(counts["leads"].size)
    stages = np.full((int(counts["leads"].sum()), 4), _NO, dtype=np.int64)
    stages[:, 0] = np.repeat(days, counts["leads"])
    for s, metric in enumerate(("pp", "negotiations", "purchases"), start=1):
        events = np.repeat(days, counts[metric])
        lag = np.rint(rng.gamma(2.0, lags[s - 1] / 2.0, events.size)).astype(np.int64)
        has = np.flatnonzero(stages[:, s - 1] != _NO)
        order = has[np.argsort(stages[has, s - 1], kind="stable")]
        j = _match(stages[order, s - 1], events, lag)
        ok = j >= 0
        stages[order[j[ok]], s] = events[ok]
        if not ok.all():  # leads created before the history: every earlier stage before day 0
            carried = np.full((int((~ok).sum()), 4), _NO, dtype=np.int64)
            carried[:, s] = events[~ok]
            carried[:, s - 1] = np.minimum(events[~ok] - lag[~ok], -1)
            for t in range(s - 2, -1, -1):
                back = np.rint(rng.gamma(2.0, lags[t] / 2.0, len(carried)))
                carried[:, t] = carried[:, t + 1] - back.astype(np.int64)
            stages = np.concatenate([carried, stages])
    return stages


def _split_revenue(
    pur_days: Ints, revenue: npt.NDArray[np.float64], rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """Deal amounts for purchases on `pur_days` (sorted) summing to `revenue[day]` per day."""
    amounts = np.zeros(pur_days.size)
    if pur_days.size == 0:
        return amounts
    weights = rng.gamma(6.0, 1.0, pur_days.size)
    totals = np.bincount(pur_days, weights, minlength=revenue.size)
    amounts = np.round(revenue[pur_days] * weights / totals[pur_days], 2)
    # Put each day's rounding remainder on its last deal.
    last = np.flatnonzero(np.r_[pur_days[1:] != pur_days[:-1], True])
    paid = np.bincount(pur_days, amounts, minlength=revenue.size)
    amounts[last] = np.round(amounts[last] + revenue[pur_days[last]] - paid[pur_days[last]], 2)
    return amounts


CITIES = ("Москва", "Санкт-Петербург", "Казань")
PRODUCTS = ("Старт", "Бизнес", "Премиум")
SEGMENTS = ("brand", "generic", "retarget")
CREATIVES = ("banner-a", "banner-b", "video")


def _breakdown(owner: Ints) -> dict[str, npt.NDArray[np.object_]]:
    """The CRM's city, product, utm_term (segment) and utm_content (creative) per lead (issue
    15's Drill sheet), drawn from a random stream of their own (the demo's other numbers stay
    as they were); about one lead in ten has none of them (forms without the fields)."""
    rng = np.random.default_rng([len(owner), 15])
    n = len(owner)
    columns: dict[str, npt.NDArray[np.object_]] = {}
    for name, values, weights in (
        ("City", CITIES, (0.6, 0.25, 0.15)),
        ("Product", PRODUCTS, (0.5, 0.35, 0.15)),
        ("utm_term", SEGMENTS, (0.4, 0.45, 0.15)),
        ("utm_content", CREATIVES, (0.45, 0.35, 0.2)),
    ):
        picked = np.array(values, dtype=object)[rng.choice(len(values), n, p=weights)]
        columns[name] = picked
    blank = rng.random(n) < 0.1
    for picked in columns.values():
        picked[blank] = ""
    return columns


def write_crm(grid: LineGrid, first: dt.date, path: Path, rng: np.random.Generator) -> None:
    specs = {spec.name: spec for spec in CHANNELS}
    parts: list[Ints] = []
    amounts: list[npt.NDArray[np.float64]] = []
    owners: list[Ints] = []
    for i, line in enumerate(SAMPLE_CAMPAIGNS):
        spec = specs[line.channel]
        counts = {m: grid.metrics[m][:, i].astype(np.int64) for m in _CRM_COUNTS}
        stages = _line_leads(counts, (spec.pp_lag, spec.negotiation_lag, spec.purchase_lag), rng)
        stages = stages[np.argsort(stages[:, 3], kind="stable")]  # purchases (dated) last
        bought = stages[:, 3] != _NO
        amount = np.full(len(stages), np.nan)
        amount[bought] = _split_revenue(
            stages[bought, 3], grid.metrics["revenue"][:, i].astype(np.float64), rng
        )
        parts.append(stages)
        amounts.append(amount)
        owners.append(np.full(len(stages), i, dtype=np.int64))
    stages = np.concatenate(parts)
    amount = np.concatenate(amounts)
    owner = np.concatenate(owners)
    n = len(stages)
    # Times of day keep the stages in order on a shared day.
    seconds = np.stack(
        [rng.integers(lo * 3600, (lo + 2) * 3600 - 60, n) for lo in (8, 14, 16, 18)], axis=1
    )
    seconds[:, 0] = rng.integers(8 * 3600, 14 * 3600, n)
    order = np.lexsort((seconds[:, 0], stages[:, 0]))
    stages, seconds, amount, owner = stages[order], seconds[order], amount[order], owner[order]

    reached = (stages != _NO).sum(axis=1) - 1
    latest = stages.max(axis=1)
    old = latest < grid.n_days - 21
    status = np.where(old & (rng.random(n) < 0.7), "lost", "open")
    status = np.where(reached == 3, "won", status)
    estimate = np.round(rng.uniform(80, 260, n)) * 1000.0  # open deals in negotiation: a budget
    amount = np.where((reached == 2) & (status == "open"), estimate, amount)
    fmt = "%Y-%m-%d"
    table = pd.DataFrame(
        {
            "ID": (104_000 + np.arange(n)).astype(str),
            "Created": _day_strings(first, stages[:, 0], seconds[:, 0], fmt),
            **_utm_columns(owner),
            "Stage": np.array(_STAGES)[reached],
            "PP date": _day_strings(first, stages[:, 1], seconds[:, 1], fmt),
            "Negotiations date": _day_strings(first, stages[:, 2], seconds[:, 2], fmt),
            "Purchase date": _day_strings(first, stages[:, 3], seconds[:, 3], fmt),
            "Amount": ["" if np.isnan(a) else f"{a:.2f}" for a in amount],
            "Status": status,
            **_breakdown(owner),
        }
    )
    # A stale copy of a deal before its current row (the reader keeps the last), and a lead
    # whose creation date cannot be read (quarantined).
    deals = np.flatnonzero(reached >= 2)
    at = int(deals[rng.integers(0, deals.size)]) if deals.size else n // 2
    stale = table.iloc[[at]].assign(Stage="lead", Status="open", Amount="")
    broken = table.iloc[[-1]].assign(ID=str(104_000 + n), Created="2026-02-30 11:00")
    broken = broken.assign(Stage="lead", Status="open", Amount="")
    for frame in (stale, broken):
        frame[["PP date", "Negotiations date", "Purchase date"]] = ""
    table = pd.concat([insert_rows(table, at, stale), broken])
    path.write_text(to_csv(table, ","), encoding="utf-8", newline="")
