"""Journeys from a SQL query over a warehouse table (DuckDB file or PostgreSQL, as `sql`).

The query returns one row per touch or conversion with the columns ``journey``, ``ts``,
``conversion`` and at least one of ``utm_source`` / ``channel`` (also ``utm_medium``,
``utm_campaign``, ``value``, ``lead_id`` when it has them; names matched ignoring case)::

    journey | ts               | utm_source | utm_medium | utm_campaign | channel | conversion
    c-17    | 2026-11-02 10:15 | yandex     | cpc        | yd_brand     |         |
    c-17    | 2026-11-04 18:40 |            |            |              | Direct  | lead
    c-17    | 2026-11-20 12:00 |            |            |              |         | purchase

(with ``value`` 85000 on the purchase).

Decisions:

* a row with a blank ``conversion`` is a touch; a row with ``lead`` or ``purchase`` (also
  заявка, goal, generate_lead | покупка, sale, order, won …) is an outcome at ``ts`` and, when it
  names a UTM or a channel, also a touch (the converting visit);
* journeys are taken as the query gives them (not split at conversions); UTMs ``(direct) /
  (none)`` are the channel ``"Direct"``; a timezone-aware ``ts`` is turned into naive UTC;
* asked for `start`..`end`, the query is filtered on ``CAST(ts AS DATE)`` in the database and the
  load restates those days of the journeys it returns, else whole journeys;
* quarantined, with the row's 1-based position in the result as the line: a blank journey, a
  blank or unreadable ts, a conversion word not known. An unreadable value is 0 (warned).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from planning.errors import InputError
from sheets_sync.cells import cell_text, is_missing
from sheets_sync.facts import QUARANTINE_COLUMNS, FileInfo, empty_quarantine
from sheets_sync.sources.cell_values import parse_numbers
from sheets_sync.sources.column_map import SourceOptions
from sheets_sync.sources.paths_common import (
    PathsReadResult,
    count_warnings,
    fill_info,
    is_direct,
    journey_counts,
    normalise_utm,
    parse_times,
    sort_touches,
    tidy_outcomes,
    tidy_touches,
)
from sheets_sync.sources.sql import _connect, _quote, _strip_query, redact

__all__ = ["CONVERSIONS", "PATHS_QUERY_COLUMNS", "read_paths_sql"]

PATHS_QUERY_COLUMNS: tuple[str, ...] = (
    "journey",
    "ts",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "channel",
    "conversion",
    "value",
    "lead_id",
)
"""What the query may return; ``journey``, ``ts``, ``conversion`` and ``utm_source`` or
``channel`` are required."""

CONVERSIONS: dict[str, str] = {
    **dict.fromkeys(
        ("lead", "leads", "лид", "заявка", "goal", "conversion", "generate_lead", "цель"), "lead"
    ),
    **dict.fromkeys(
        ("purchase", "покупка", "sale", "продажа", "order", "заказ", "won", "оплата"), "purchase"
    ),
}


def read_paths_sql(
    query: str,
    url: str,
    options: SourceOptions,
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    base: Path | str | None = None,
    now: dt.datetime | None = None,
) -> PathsReadResult:
    """Run `query` on the database at `url` (``duckdb:///file.duckdb``, ``postgresql://…``;
    relative DuckDB paths against `base`) and read its rows as journeys; `start` / `end`
    filter the rows on ``ts`` in the database. A missing column, a bad url or a query the
    database refuses raises `InputError` naming the source."""
    source = options.source
    if not isinstance(query, str) or not query.strip():
        raise InputError(f"the journeys source {source!r} needs a query, got {query!r}")
    body = _strip_query(query)
    info = FileInfo(path=redact(url), source=source, kind="paths", platform="sql")
    with _connect(url, base) as db:
        names = _columns(db.columns(body), source)
        frame = db.fetch(_wrapped(body, names, start, end))
    info.rows_read = len(frame)
    return _journeys(frame, options, info, (start, end), now)


def _columns(columns: Sequence[str], source: str) -> dict[str, str]:
    by_lower: dict[str, str] = {}
    for column in columns:
        by_lower.setdefault(str(column).lower(), str(column))
    missing = [c for c in ("journey", "ts", "conversion") if c not in by_lower]
    if "utm_source" not in by_lower and "channel" not in by_lower:
        missing.append("utm_source or channel")
    if missing:
        raise InputError(
            f"the journeys source {source!r}: the query must return the columns journey, ts, "
            f"utm_source (and utm_medium, utm_campaign) and/or channel, conversion (and "
            f"optionally value, lead_id); it is missing {', '.join(missing)} (it returns: "
            f"{', '.join(map(str, columns)) or 'nothing'})"
        )
    return {c: by_lower[c] for c in PATHS_QUERY_COLUMNS if c in by_lower}


def _wrapped(query: str, names: dict[str, str], start: dt.date | None, end: dt.date | None) -> str:
    picked = ", ".join(f"q.{_quote(names[c])} AS {c}" for c in PATHS_QUERY_COLUMNS if c in names)
    where = ["TRUE"]
    day = f"CAST(q.{_quote(names['ts'])} AS DATE)"
    if start is not None:
        where.append(f"{day} >= DATE '{_day(start).isoformat()}'")
    if end is not None:
        where.append(f"{day} <= DATE '{_day(end).isoformat()}'")
    return f"SELECT {picked} FROM ({query}) AS q WHERE {' AND '.join(where)}"


def _day(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise InputError(f"a date bound must be a date, got {value!r}", value=value, has_value=False)


def _text(frame: pd.DataFrame, column: str) -> npt.NDArray[np.object_]:
    if column not in frame:
        return np.full(len(frame), "", dtype=object)
    return np.array([cell_text(v) for v in frame[column]], dtype=object)


def _times(values: pd.Series) -> tuple[npt.NDArray[np.datetime64], npt.NDArray[np.bool_]]:
    """The ts column as naive ``datetime64[ns]`` (aware ones in UTC) and the unreadable cells
    (blank ones are NaT and not flagged)."""
    n = len(values)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        stamps = pd.Series(values)
        if stamps.dt.tz is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        return stamps.to_numpy(dtype="datetime64[ns]"), np.zeros(n, dtype=bool)
    texts: list[int] = []
    for i, value in enumerate(values):
        if is_missing(value):
            continue
        if isinstance(value, dt.datetime):
            if value.tzinfo is not None:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
            out[i] = np.datetime64(value, "ns")
        elif isinstance(value, dt.date):
            out[i] = np.datetime64(value, "ns")
        else:
            texts.append(i)
    bad = np.zeros(n, dtype=bool)
    if texts:
        parsed = parse_times(pd.Series([str(values.iloc[i]) for i in texts], dtype=object))
        out[texts] = parsed.values
        bad[texts] = parsed.bad
    return out, bad


def _journeys(
    frame: pd.DataFrame,
    options: SourceOptions,
    info: FileInfo,
    bounds: tuple[dt.date | None, dt.date | None],
    now: dt.datetime | None,
) -> PathsReadResult:
    source = options.source
    n = len(frame)
    journey = np.array([s.strip() for s in _text(frame, "journey")], dtype=object)
    ts, bad_ts = _times(frame["ts"]) if n else (np.zeros(0, "datetime64[ns]"), np.zeros(0, bool))
    words = np.char.lower(np.array([s.strip() for s in _text(frame, "conversion")], dtype=str))
    kind = np.array([CONVERSIONS.get(w, "?" if w else "") for w in words], dtype=object)
    checks = [
        ("conversion", kind == "?", "is not a conversion (expected lead, purchase or blank)"),
        ("ts", bad_ts, "is not a date-time"),
        ("ts", np.isnat(ts) & ~bad_ts, "ts is blank"),
        ("journey", journey == "", "journey is blank"),
    ]
    quarantine, bad = _quarantine(frame, checks, source, info.path)

    raw_source = _text(frame, "utm_source")
    utm = {k: normalise_utm(_text(frame, k)) for k in ("utm_source", "utm_medium", "utm_campaign")}
    channel = np.array([s.strip() for s in _text(frame, "channel")], dtype=object)
    direct = is_direct(raw_source, utm["utm_medium"]) & (channel == "")
    for values in utm.values():
        values[direct] = ""
    channel[direct] = "Direct"
    named = (channel != "") | (utm["utm_source"] != "") | (utm["utm_medium"] != "")
    named |= utm["utm_campaign"] != ""
    is_touch = ~bad & ((kind == "") | named)
    is_outcome = ~bad & (kind != "")
    value = _values(frame, is_outcome, info) * options.money_factor("revenue")

    t = np.flatnonzero(is_touch)
    touches = tidy_touches(
        {
            "journey": journey[t],
            "visitor": journey[t],
            "ts": ts[t],
            **{k: v[t] for k, v in utm.items()},
            "channel": channel[t],
        },
        len(t),
        sort=False,
    )
    o = np.flatnonzero(is_outcome)
    outcomes = tidy_outcomes(
        {
            "journey": journey[o],
            "visitor": journey[o],
            "ts": ts[o],
            "kind": kind[o],
            "value": value[o],
            "lead_id": np.array([s.strip() for s in _text(frame, "lead_id")[o]], dtype=object),
        },
        len(o),
    )
    counts = journey_counts(touches, outcomes, dt.datetime.now() if now is None else now)
    touches = sort_touches(touches)
    info.rows_ok = int((~bad).sum())
    info.rows_quarantined = int(bad.sum())
    fill_info(info, touches, outcomes)
    info.warnings.extend(count_warnings(counts))
    return PathsReadResult(
        source=source,
        touches=touches,
        outcomes=outcomes,
        quarantine=quarantine,
        files=[info],
        shape="sql",
        counts=counts,
        window=_window(bounds),
    )


def _values(frame: pd.DataFrame, is_outcome: npt.NDArray[np.bool_], info: FileInfo) -> Any:
    if "value" not in frame:
        return np.zeros(len(frame))
    cells = pd.Series([cell_text(v) for v in frame["value"]], dtype=object)
    values, wrong, _ = parse_numbers(cells, ".")
    odd = is_outcome & (wrong | (np.nan_to_num(values) < 0))
    if odd.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(odd)[:5])
        info.warnings.append(
            f"{int(odd.sum())} conversion value(s) not a number or negative (rows {rows}): 0"
        )
    return np.where(odd | np.isnan(values), 0.0, values)


def _quarantine(
    frame: pd.DataFrame,
    checks: list[tuple[str, npt.NDArray[np.bool_], str]],
    source: str,
    path: str,
) -> tuple[pd.DataFrame, npt.NDArray[np.bool_]]:
    """One quarantine row per bad result row (the last failed check of `checks` named)."""
    n = len(frame)
    reason = np.full(n, "", dtype=object)
    column = np.full(n, "", dtype=object)
    for name, mask, why in checks:
        reason[mask] = why
        column[mask] = name
    bad = reason != ""
    if not bad.any():
        return empty_quarantine(), bad
    rows = np.flatnonzero(bad)
    shown = [
        None if is_missing(v := frame[c].iloc[i]) else cell_text(v)
        for i, c in zip(rows, column[rows], strict=True)
    ]
    out = pd.DataFrame(
        {
            "source": source,
            "file": path,
            "line": (rows + 1).astype(np.int64),
            "column": column[rows],
            "value": shown,
            "reason": reason[rows],
        }
    )
    return out[list(QUARANTINE_COLUMNS)], bad


def _window(
    bounds: tuple[dt.date | None, dt.date | None],
) -> tuple[dt.datetime, dt.datetime] | None:
    start, end = bounds
    if start is None and end is None:
        return None
    lo = dt.datetime.combine(_day(start), dt.time()) if start is not None else dt.datetime.min
    hi = dt.datetime.combine(_day(end), dt.time.max) if end is not None else dt.datetime(9999, 1, 1)
    return lo, hi
