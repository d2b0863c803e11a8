"""Customer journeys in the fact store: ``journey_touches``, ``journey_outcomes``,
``journey_loads`` (created by `sheets_sync.store_schema`), in the same database as the daily
facts (DuckDB or PostgreSQL; the one dialect difference is in `_journey_sql`).

`FactStore.load_paths` and `FactStore.paths` (`sheets_sync.store`) are the way in; the work is
here, on the store's connection:

* `load_paths` loads one read (`PathsReadResult`) in one transaction. The same file hash for the
  source again changes nothing. Otherwise the source's rows of the read's ``visitor`` keys are
  replaced: within the read's `window` (a visits export: its time span) or entirely (a CRM
  history: whole deals; a SQL query: whole journeys), so a newer export restates what it holds
  and keeps what only an older one held. The read's quarantined rows replace the source's
  quarantine rows of that file (the store's ``quarantine`` table); the load is logged in
  ``journey_loads``.
* `paths` returns the touches and outcomes. A visits source's journeys are cut from each
  visitor's whole stored timeline at query time (the visits up to and including a converting
  visit, then ``visitor#2`` …), so journeys that straddle two exports come out whole and
  numbered the same whatever the files were.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from planning.errors import InputError
from sheets_sync.sources.paths_common import (
    OUTCOME_COLUMNS,
    OUTCOME_KINDS,
    TOUCH_COLUMNS,
    PathsReadResult,
)
from sheets_sync.store_backend import StoreConnection
from sheets_sync.store_input import normalise_quarantine

__all__ = [
    "PATHS_LOG_COLUMNS",
    "PathsLoadOutcome",
    "load_paths",
    "paths",
    "paths_log",
]

PATHS_LOG_COLUMNS: tuple[str, ...] = (
    "loaded_at",
    "source",
    "file",
    "file_hash",
    "shape",
    "touches",
    "outcomes",
    "journeys",
    "replaced_touches",
    "replaced_outcomes",
    "quarantined",
    "ts_from",
    "ts_to",
)
_TOUCH_TEXT = ("visitor", "journey", "utm_source", "utm_medium", "utm_campaign", "channel")


@dataclass(frozen=True)
class PathsLoadOutcome:
    """What `load_paths` did with one read."""

    skipped: bool
    """True when the source already loaded this file hash: nothing changed."""
    touches: int
    outcomes: int
    """Rows inserted."""
    journeys: int
    """Journeys in the read."""
    replaced_touches: int
    replaced_outcomes: int
    """Older rows of the source deleted (restated)."""
    quarantined: int


def _check(result: Any, file_hash: Any) -> str:
    if not isinstance(result, PathsReadResult):
        raise InputError(f"`result` must be a PathsReadResult, got {type(result).__name__}")
    source = result.source
    if not isinstance(source, str) or not source.strip():
        raise InputError(f"the read's source must be a non-empty text, got {source!r}")
    if not isinstance(file_hash, str) or not file_hash:
        raise InputError(f"`file_hash` must be a non-empty text, got {file_hash!r}")
    for frame, columns, what in (
        (result.touches, TOUCH_COLUMNS, "touches"),
        (result.outcomes, OUTCOME_COLUMNS, "outcomes"),
    ):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise InputError(f"the {what} are missing the columns: {', '.join(missing)}")
        if frame["ts"].isna().any():
            raise InputError(f"the {what} of {source!r} hold a row without a time (ts)")
    kinds = set(result.outcomes["kind"].unique()) - set(OUTCOME_KINDS)
    if kinds:
        raise InputError(f"outcome kinds must be lead or purchase, got {sorted(kinds)!r}")
    return source


def _incoming(frame: pd.DataFrame, texts: Sequence[str], extra: dict[str, Any]) -> pd.DataFrame:
    out = pd.DataFrame({c: frame[c].fillna("").astype(str).to_numpy(dtype=object) for c in texts})
    out["ts"] = pd.to_datetime(frame["ts"]).astype("datetime64[ns]").to_numpy()
    for key, value in extra.items():
        out[key] = value
    return out


def _deleted(rows: list[tuple[Any, ...]]) -> int:
    return int(rows[0][0]) if rows else 0


def load_paths(con: StoreConnection, result: PathsReadResult, file_hash: str) -> PathsLoadOutcome:
    """Load one read (see the module notes); a bad read raises `InputError`, changing nothing."""
    source = _check(result, file_hash)
    file = ", ".join(f.path for f in result.files) or source
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    split = result.shape == "visits"
    common = {"source": source, "split": split, "file": file, "loaded_at": pd.Timestamp(now)}
    touches = _incoming(result.touches, _TOUCH_TEXT, common)
    outcomes = _incoming(result.outcomes, ("visitor", "journey", "kind", "lead_id"), common).assign(
        value=result.outcomes["value"].astype(np.float64).to_numpy()
    )
    both = np.concatenate(
        [touches["visitor"].to_numpy(object), outcomes["visitor"].to_numpy(object)]
    )
    keys = pd.DataFrame({"visitor": pd.unique(both)})
    quarantined = normalise_quarantine(result.quarantine, source, file)
    quarantined["loaded_at"] = pd.Timestamp(now)
    journeys = int(pd.concat([result.touches["journey"], result.outcomes["journey"]]).nunique())
    where, params = "", list[Any]([source])
    if result.window is not None:
        where, params = " AND ts BETWEEN ? AND ?", [source, *result.window]
    con.begin()
    try:
        seen = con.execute(
            "SELECT count(*) FROM journey_loads WHERE source = ? AND file_hash = ?",
            [source, file_hash],
        ).fetchall()
        if _deleted(seen):
            con.rollback()
            return PathsLoadOutcome(True, 0, 0, journeys, 0, 0, len(quarantined))
        replaced = []
        con.register("incoming_keys", keys)
        for table in ("journey_touches", "journey_outcomes"):
            deleted = con.execute(
                f"DELETE FROM {table} WHERE source = ? AND visitor IN "
                f"(SELECT visitor FROM incoming_keys){where}",
                params,
            ).fetchall()
            replaced.append(_deleted(deleted))
        con.unregister("incoming_keys")
        _insert(con, "journey_touches", touches)
        _insert(con, "journey_outcomes", outcomes)
        con.execute("DELETE FROM quarantine WHERE source = ? AND file = ?", [source, file])
        if len(quarantined):
            _insert(con, "quarantine", quarantined)
        stamps = pd.concat([touches["ts"], outcomes["ts"]], ignore_index=True)
        low, high = (stamps.min(), stamps.max()) if len(stamps) else (None, None)
        log = [now, source, file, file_hash, result.shape, len(touches), len(outcomes)]
        log += [journeys, *replaced, len(quarantined), _naive(low), _naive(high)]
        marks = ", ".join("?" for _ in PATHS_LOG_COLUMNS)
        con.execute(f"INSERT INTO journey_loads ({', '.join(PATHS_LOG_COLUMNS)}) VALUES ({marks})",
                    log)  # fmt: skip
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return PathsLoadOutcome(
        False, len(touches), len(outcomes), journeys, replaced[0], replaced[1], len(quarantined)
    )


def _naive(value: Any) -> dt.datetime | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).to_pydatetime()


def _insert(con: StoreConnection, table: str, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    con.register("incoming_rows", frame)
    try:
        columns = ", ".join(f'"{c}"' for c in frame.columns)
        con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM incoming_rows")
    finally:
        con.unregister("incoming_rows")


# --------------------------------------------------------------------------- reading


def _journey_sql(con: StoreConnection, table: str, columns: str, where: str) -> str:
    """`table`'s rows with their journey: as stored, or for a visits source's rows cut from the
    visitor's timeline (1 + the visitor's distinct conversion times before the row).

    The visitor's last conversion before the row: DuckDB's ASOF join; PostgreSQL, which has
    none, a LATERAL look-up of the newest earlier one (the one dialect difference here)."""
    rows = f"(SELECT *, {con.row_order} AS _row FROM {table} WHERE {where}) r"
    if con.dialect == "duckdb":
        conversion = (
            f"{rows} ASOF LEFT JOIN _conv c "
            "ON r.source = c.source AND r.visitor = c.visitor AND r.ts > c.ts"
        )
    else:
        conversion = (
            f"{rows} LEFT JOIN LATERAL (SELECT n FROM _conv c WHERE c.source = r.source "
            "AND c.visitor = r.visitor AND c.ts < r.ts ORDER BY c.ts DESC LIMIT 1) c ON TRUE"
        )
    return f"""
        SELECT r.source,
               CASE WHEN NOT r.split THEN r.journey
                    WHEN c.n IS NULL THEN r.visitor
                    ELSE r.visitor || '#' || CAST(c.n + 1 AS VARCHAR) END AS journey,
               {columns}, r._row
        FROM {conversion}
    """


def paths(
    con: StoreConnection,
    sources: Sequence[str] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The stored journeys: ``(touches, outcomes)``, each with ``source`` first, then
    `TOUCH_COLUMNS` / `OUTCOME_COLUMNS`, sorted by source, journey and time.

    With `start` / `end` (dates, inclusive; either may be None): the journeys with an outcome
    dated in the window, and the journeys without an outcome whose last touch is; every touch
    of those journeys (the path before `start` included) and their outcomes in the window."""
    wanted = _names(sources)
    where = "TRUE" if wanted is None else (
        f"source IN ({', '.join('?' for _ in wanted)})" if wanted else "FALSE")  # fmt: skip
    lo = dt.datetime.combine(_date("start", start), dt.time()) if start is not None else None
    hi = (
        dt.datetime.combine(_date("end", end) + dt.timedelta(days=1), dt.time())
        if end is not None
        else None
    )
    inside = _between("ts", lo, hi)
    touch_cols = "r.visitor, r.ts, r.utm_source, r.utm_medium, r.utm_campaign, r.channel"
    outcome_cols = "r.visitor, r.ts, r.kind, r.value, r.lead_id"
    params = list(wanted or [])
    for name in ("_conv", "_t", "_o"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    con.execute(
        f"""
        CREATE TEMP TABLE _conv AS
        SELECT source, visitor, ts,
               row_number() OVER (PARTITION BY source, visitor ORDER BY ts) AS n
        FROM (SELECT DISTINCT source, visitor, ts FROM journey_outcomes
              WHERE split AND {where}) AS d
        """,
        params,
    )
    con.analyze("_conv")
    con.execute(
        f"CREATE TEMP TABLE _t AS {_journey_sql(con, 'journey_touches', touch_cols, where)}",
        params,
    )
    con.execute(
        "CREATE TEMP TABLE _o AS " + _journey_sql(con, "journey_outcomes", outcome_cols, where),
        params,
    )
    same = "x.source = j.source AND x.journey = j.journey"
    chosen = f"""
        SELECT DISTINCT source, journey FROM _o WHERE {inside}
        UNION
        SELECT j.source, j.journey FROM _t j
        WHERE NOT EXISTS (SELECT 1 FROM _o x WHERE {same})
        GROUP BY j.source, j.journey HAVING {_between("max(j.ts)", lo, hi)}
    """
    touches = con.execute(
        f"SELECT t.* FROM _t t WHERE EXISTS (SELECT 1 FROM ({chosen}) AS x "
        "WHERE x.source = t.source AND x.journey = t.journey) ORDER BY source, journey, ts, _row"
    ).df()
    outcomes = con.execute(
        f"SELECT * FROM _o WHERE {inside} ORDER BY source, journey, ts, kind, _row"
    ).df()
    for name in ("_conv", "_t", "_o"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    return _typed(touches, TOUCH_COLUMNS), _typed(outcomes, OUTCOME_COLUMNS)


def _between(expr: str, lo: dt.datetime | None, hi: dt.datetime | None) -> str:
    """SQL: `expr` from `lo` (inclusive) to `hi` (exclusive); TRUE without bounds."""
    parts = [f"{expr} >= TIMESTAMP '{lo.isoformat(sep=' ')}'"] if lo is not None else []
    if hi is not None:
        parts.append(f"{expr} < TIMESTAMP '{hi.isoformat(sep=' ')}'")
    return " AND ".join(parts) or "TRUE"


def _typed(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    out = pd.DataFrame({"source": frame["source"].astype(str)})
    for c in columns:
        if c == "ts":
            out[c] = pd.to_datetime(frame[c]).astype("datetime64[ns]")
        elif c == "value":
            out[c] = frame[c].astype(np.float64)
        else:
            out[c] = frame[c].astype(str)
    return out.reset_index(drop=True)


def paths_log(con: StoreConnection) -> pd.DataFrame:
    """Every journeys load (`PATHS_LOG_COLUMNS`), oldest first."""
    return con.execute(
        f"SELECT {', '.join(PATHS_LOG_COLUMNS)} FROM journey_loads "
        f"ORDER BY loaded_at, {con.row_order}"
    ).df()


def _names(sources: Sequence[str] | None) -> list[str] | None:
    if sources is None:
        return None
    wanted = [sources] if isinstance(sources, str) else list(sources)
    for item in wanted:
        if not isinstance(item, str) or not item:
            raise InputError(f"`sources` must be names, got {item!r}")
    return list(dict.fromkeys(wanted))


def _date(name: str, value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise InputError(f"`{name}` must be a date, got {value!r}", value=value, has_value=False)
