"""The local fact store: daily facts per source in an embedded DuckDB database.

One fact table, long (one value per row) so any metric a source reports fits without a schema
change: ``source_facts``, what the sync loads: the readers' normalised rows
(`sheets_sync.facts.FACT_COLUMNS`: date, source, utm_source, utm_medium, utm_campaign, metric,
basis, value), before mapping to plan lines, so a changed Mapping sheet re-maps without
re-reading any file. A reader's frames are checked first (`sheets_sync.store_input`).

Loading a source's export replaces that source's facts over the export's date window in one
transaction: a newer export that overlaps an older one restates the overlap instead of double
counting it, and loading the same export (same file hash) twice changes nothing. Rows a reader
could not read are kept in ``quarantine`` (replaced per source and file), and every load is
logged in ``load_log`` (file, rows, window, quarantined rows, duplicates, newest data point).

A CRM export's deals (``ReadResult.deals``: the created day and each stage's day per deal, for
the Cohorts sheet and the lag-aware run-rate) are kept in ``deals`` and loaded in the same
transaction as the export's facts: the deals sharing an id with the export or created in its
window are replaced (`sheets_sync.store_deals`); `FactStore.deals` reads them.

Customer journeys (``kind = "paths"`` sources) live in the same database, in
``journey_touches``, ``journey_outcomes`` and ``journey_loads``: `FactStore.load_paths` and
`FactStore.paths`, the work in `sheets_sync.store_paths`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import psycopg

from planning.errors import InputError
from sheets_sync import store_deals, store_paths
from sheets_sync.facts import BASES, DIMENSIONS, FACT_COLUMNS, ReadResult, input_window
from sheets_sync.one_line import one_line
from sheets_sync.sources.paths_common import PathsReadResult
from sheets_sync.sources.sql import redact
from sheets_sync.storage_errors import storage_error
from sheets_sync.store_backend import StoreConnection, is_url, open_connection
from sheets_sync.store_input import normalise_facts, normalise_quarantine
from sheets_sync.store_paths import PathsLoadOutcome
from sheets_sync.store_schema import migrate

__all__ = ["LOAD_LOG_COLUMNS", "FactStore", "LoadOutcome"]

_LOG_COLUMNS = ["loaded_at", "source", "file_hash", "rows", "date_from", "date_to"]
LOAD_LOG_COLUMNS: tuple[str, ...] = (
    *_LOG_COLUMNS,
    "file",
    "quarantined",
    "duplicates",
    "latest",
)
"""Every column of ``load_log``: `FactStore.load_log(detail=True)` and `latest_loads` return
these. ``file`` is the input's path (or a SQL source's redacted url), ``quarantined`` and
``duplicates`` the rows the reader set aside, ``latest`` the newest data point it saw."""

_FACT_KEYS = [c for c in FACT_COLUMNS if c != "value"]
_STORED_KEYS = [*_FACT_KEYS, *DIMENSIONS]
# Floats summed in a fixed order: a parallel GROUP BY adds a key's rows in whatever order its
# threads meet them, and a total that sits on half a kopeck would round either way from run to
# run (the same export, the same workbook, a different number). Sorted by value, the same rows
# always give the same bits, on DuckDB and PostgreSQL alike.
_SUM_VALUE = "SUM(value ORDER BY value)"
_INSERT_FACTS = f"""
    INSERT INTO source_facts ({", ".join(_STORED_KEYS)}, value)
    SELECT {", ".join(_STORED_KEYS)}, {_SUM_VALUE} FROM incoming_source_facts
    GROUP BY {", ".join(_STORED_KEYS)}
"""
_INSERT_QUARANTINE = """
    INSERT INTO quarantine (source, file, line, "column", value, reason, loaded_at)
    SELECT source, file, line, "column", value, reason, loaded_at FROM incoming_quarantine
"""
_INSERT_LOG = (
    f"INSERT INTO load_log ({', '.join(LOAD_LOG_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in LOAD_LOG_COLUMNS)})"
)


@dataclass(frozen=True)
class LoadOutcome:
    """What `FactStore.load` did with one read input."""

    skipped: bool
    """True when this source already loaded a file with this hash: nothing changed."""
    rows: int
    """Fact rows inserted (one per date, source, UTM keys, metric, basis)."""
    replaced: int
    """Older fact rows of the source deleted from the window (restated days)."""
    date_from: dt.date | None
    date_to: dt.date | None
    """The window replaced: the reader's date range widened to every fact's date (None, None
    for an input with no dates)."""
    deals: int = 0
    """Deals inserted (a CRM export's, `sheets_sync.store_deals`)."""
    deals_replaced: int = 0
    """Older deals of the source deleted: the same ids, or created in the window."""


class FactStore:
    """Daily facts in a DuckDB database file (or ``":memory:"``), or in a PostgreSQL database
    (a ``postgresql://`` URL: a store the team shares; `sheets_sync.store_backend`).

    Opening brings the schema up to date (`sheets_sync.store_schema`, recorded in
    ``schema_version``): ``source_facts`` (`FACT_COLUMNS`), ``quarantine``
    (`QUARANTINE_COLUMNS` + ``loaded_at``), ``load_log`` (`LOAD_LOG_COLUMNS`), ``deals`` and,
    the journeys' and the incident log's tables; a file from before issue 4 gets the new tables
    and log columns (a ``facts_daily`` table an older file holds is left as it is, unused). The
    same logic runs on both databases. Use as a context manager, or call `close`.
    """

    def __init__(self, path: Path | str) -> None:
        self.path: Path | str
        if is_url(path):
            self.path = redact(str(path).strip())  # shown in messages: never the password
        else:
            self.path = path if str(path) == ":memory:" else Path(path)
        try:
            self._con: StoreConnection | None = open_connection(str(path))
        except psycopg.OperationalError as error:  # the server down, a wrong name or password
            raise InputError(
                f"the fact store {self.path} cannot be reached: {one_line(error)} (check "
                "`store` in the sync config, the server, and PGPASSWORD or ~/.pgpass)"
            ) from None
        try:
            migrate(self._con)
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ lifecycle

    @property
    def con(self) -> StoreConnection:
        """The open connection; using a closed store is an error."""
        if self._con is None:
            raise RuntimeError(f"the fact store {str(self.path)!r} is closed")
        return self._con

    def close(self) -> None:
        """Close the database (idempotent)."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> FactStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ writing

    def load(self, result: ReadResult, file_hash: str) -> LoadOutcome:
        """Load one read input (`ReadResult`) into ``source_facts``; what was done.

        The source is ``result.info.source``. If that source already logged `file_hash`, nothing
        changes (``skipped``). Otherwise, in one transaction: delete the source's facts in the
        input's window (``info.date_from``..``info.date_to`` widened to cover every fact's date),
        insert the facts summed per (date, UTM keys, metric, basis), replace the source's
        deals sharing an id with ``result.deals`` or created in the window
        (`sheets_sync.store_deals`), replace the source's quarantine rows for the input's
        file(s) with ``result.quarantine``, and log the load. Facts and deals are checked first
        (columns, dates, metric and basis names, finite values, the source); a bad frame raises
        `InputError` and changes nothing.
        """
        source = _check_load(result, file_hash)
        info = result.info
        facts = normalise_facts(result.facts, source)
        deals = store_deals.normalise_deals(result.deals, source)
        quarantined = normalise_quarantine(result.quarantine, source, str(info.path))
        # the reader's window widened to every fact's date (a restated day must be deleted)
        date_from, date_to = input_window(facts, info.date_from, info.date_to) or (None, None)
        files = sorted({str(info.path), *quarantined["file"].unique().tolist()})
        now = _utc_now()
        quarantined["loaded_at"] = pd.Timestamp(now)

        con = self.con
        con.begin()
        try:
            if self._already_loaded(source, file_hash):
                con.rollback()
                return LoadOutcome(True, 0, 0, date_from, date_to)
            replaced = self._delete_window(source, date_from, date_to)
            inserted = self._insert("incoming_source_facts", facts, _INSERT_FACTS)
            window = None if date_from is None or date_to is None else (date_from, date_to)
            dealt = store_deals.replace_deals(con, deals, source, window, str(info.path), now)
            self._replace_quarantine(source, files, quarantined)
            log = [now, source, file_hash, inserted, date_from, date_to, str(info.path)]
            log += [len(quarantined), int(info.duplicates), _naive(info.latest)]
            con.execute(_INSERT_LOG, log)
            con.commit()
        except BaseException as error:
            con.rollback()  # the original error is the one raised, never the rollback's
            if isinstance(error, OSError | duckdb.IOException):
                kept = "this load was undone (the store is as it was before it)"
                raise storage_error("fact store", Path(str(self.path)), error, kept) from error
            raise
        return LoadOutcome(False, inserted, replaced, date_from, date_to, *dealt)

    def _already_loaded(self, source: str, file_hash: str) -> bool:
        rows = self.con.execute(
            "SELECT count(*) FROM load_log WHERE source = ? AND file_hash = ?", [source, file_hash]
        ).fetchall()  # fetch to the end: DuckDB refuses other work while a result is open
        return int(rows[0][0]) > 0

    def _delete_window(
        self, source: str, date_from: dt.date | None, date_to: dt.date | None
    ) -> int:
        """Delete `source`'s facts from `date_from` to `date_to`; the rows deleted."""
        if date_from is None:
            return 0
        deleted = self.con.execute(
            "DELETE FROM source_facts WHERE source = ? AND date BETWEEN ? AND ?",
            [source, date_from, date_to],
        ).fetchall()
        return int(deleted[0][0]) if deleted else 0

    def _insert(self, name: str, frame: pd.DataFrame, sql: str) -> int:
        """Run `sql` (an INSERT reading the view `name`) over `frame`; the rows inserted."""
        if frame.empty:
            return 0
        self.con.register(name, frame)  # PostgreSQL: a temporary table filled by COPY
        try:
            with self.con.bounded_memory():
                rows = self.con.execute(sql).fetchall()
        finally:
            self.con.unregister(name)
        return int(rows[0][0]) if rows else 0

    def _replace_quarantine(self, source: str, files: list[str], rows: pd.DataFrame) -> None:
        """The source's quarantine rows for `files` replaced with `rows`."""
        self.con.execute(
            f"DELETE FROM quarantine WHERE source = ? AND file IN ({_marks(files)})",
            [source, *files],
        )
        self._insert("incoming_quarantine", rows, _INSERT_QUARANTINE)

    def load_paths(self, result: PathsReadResult, file_hash: str) -> PathsLoadOutcome:
        """Load one journeys read into ``journey_touches`` / ``journey_outcomes``: nothing
        when the source already loaded `file_hash`, else the source's rows of the read's
        visitors (over the read's window) replaced, in one transaction
        (`sheets_sync.store_paths.load_paths`)."""
        return store_paths.load_paths(self.con, result, file_hash)

    # ------------------------------------------------------------------ reading

    def paths(
        self,
        sources: Sequence[str] | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The stored journeys as ``(touches, outcomes)`` with ``source`` (visits cut into
        journeys at each conversion); with `start` / `end` the journeys converting in the
        window (or, never converting, last touched in it), their outcomes in it
        (`sheets_sync.store_paths.paths`)."""
        return store_paths.paths(self.con, sources, start, end)

    def deals(
        self,
        sources: Sequence[str] | None = None,
        created_from: dt.date | None = None,
        created_to: dt.date | None = None,
    ) -> pd.DataFrame:
        """The stored CRM deals (`sheets_sync.facts.DEAL_COLUMNS`) of `sources` (None: all),
        created from `created_from` to `created_to` (either may be None), sorted by source,
        created and id (`sheets_sync.store_deals.deals`)."""
        return store_deals.deals(self.con, sources, created_from, created_to)

    def paths_log(self) -> pd.DataFrame:
        """Every journeys load, oldest first (`sheets_sync.store_paths.PATHS_LOG_COLUMNS`)."""
        return store_paths.paths_log(self.con)

    def source_facts(
        self,
        start: dt.date | None = None,
        end: dt.date | None = None,
        basis: str | None = "event",
        sources: Sequence[str] | None = None,
        metrics: Sequence[str] | None = None,
        dimensions: bool = False,
    ) -> pd.DataFrame:
        """The loaded source facts (`FACT_COLUMNS`), summed per date, source, UTM keys, metric.

        Rows from `start` to `end` inclusive (either may be None) of `basis` (``"event"``,
        ``"cohort"``, or None for both, kept apart by the ``basis`` column), of the `sources`
        and `metrics` named (None = all). ``date`` is ``datetime64[ns]``; sorted by the keys.
        With `dimensions` the rows are also kept apart by the `DIMENSIONS` (city, product,
        segment, creative; ``""`` = none), which follow ``value``; without, they are summed away.
        """
        where: list[str] = ["TRUE"]
        params: list[Any] = []
        for name, bound, op in (("start", start, ">="), ("end", end, "<=")):
            if bound is not None:
                where.append(f"date {op} ?")
                params.append(_as_date(name, bound))
        if basis is not None:
            if basis not in BASES:
                raise InputError(
                    f"`basis` must be one of {', '.join(BASES)} or None, got {basis!r}",
                    value=basis,
                    has_value=False,
                )
            where.append("basis = ?")
            params.append(basis)
        for name, names in (("sources", sources), ("metrics", metrics)):
            wanted = _name_list(name, names)
            if wanted is not None:
                column = name[:-1]
                where.append(f"{column} IN ({_marks(wanted)})" if wanted else "FALSE")
                params.extend(wanted)
        # Text keys travel once per distinct combination (a small table) and come back as
        # categoricals: turning a million DuckDB strings into Python objects is the slow part.
        text = [c for c in (_STORED_KEYS if dimensions else _FACT_KEYS) if c != "date"]
        cols = ", ".join(text)
        self.con.execute("DROP TABLE IF EXISTS _picked")
        self.con.execute(
            f"""
            CREATE TEMP TABLE _picked AS
            SELECT date, {cols}, {_SUM_VALUE} AS value
            FROM source_facts WHERE {" AND ".join(where)} GROUP BY date, {cols}
            """,
            params,
        )
        self.con.execute("DROP TABLE IF EXISTS _keys")
        self.con.execute(
            f"CREATE TEMP TABLE _keys AS SELECT {cols}, row_number() OVER (ORDER BY {cols}) - 1"
            f" AS k FROM (SELECT DISTINCT {cols} FROM _picked) AS d"
        )
        self.con.analyze("_keys")
        combos = self.con.execute(f"SELECT {cols}, k FROM _keys ORDER BY k").df()
        # dates, key numbers and values only: PostgreSQL sends them by COPY (no Python rows),
        # sorted here (a server sort of text keys is slower than numpy's of two numbers)
        main = self.con.numbers(
            f"SELECT p.date, c.k, p.value FROM _picked p JOIN _keys c USING ({cols})"
        )
        for table in ("_picked", "_keys"):
            self.con.execute(f"DROP TABLE IF EXISTS {table}")
        dates = pd.to_datetime(main["date"]).to_numpy(dtype="datetime64[ns]")
        order = np.lexsort((main["k"].to_numpy(dtype=np.int64), dates))
        main = main.iloc[order]
        k = np.asarray(main["k"], dtype=np.int64)
        frame = pd.DataFrame({"date": dates[order]})
        for c in text:
            uniq, codes = np.unique(
                combos[c].astype(str).to_numpy(dtype=object), return_inverse=True
            )
            frame[c] = pd.Categorical.from_codes(codes[k], categories=pd.Index(uniq))
        frame["value"] = np.asarray(main["value"], dtype=np.float64)
        return frame[[*FACT_COLUMNS, *DIMENSIONS] if dimensions else list(FACT_COLUMNS)]

    def source_facts_outside(
        self,
        start: dt.date,
        end: dt.date,
        windows: Mapping[str, Sequence[tuple[dt.date, dt.date]]],
        basis: str = "event",
    ) -> pd.DataFrame:
        """Each source's facts inside its `windows` but outside `start`..`end`, summed per key on
        each side (before `start`, after `end`), dated on the first day before or the last day
        after: what a reconciliation needs of the days a plan month does not show, without a
        row per day (`FACT_COLUMNS`, plain text keys)."""
        first, last = _as_date("start", start), _as_date("end", end)
        if basis not in BASES:
            raise InputError(f"`basis` must be one of {', '.join(BASES)}, got {basis!r}")
        spans: list[str] = []
        params: list[Any] = [first, basis, first, last]
        for source, ws in windows.items():
            if not ws:
                continue
            spans.append(f"(source = ? AND ({' OR '.join(['date BETWEEN ? AND ?'] * len(ws))}))")
            params.append(str(source))
            for lo, hi in ws:
                params.extend([_as_date("window", lo), _as_date("window", hi)])
        if not spans:
            return self.source_facts(start=first, end=first, sources=[])
        text = ", ".join(c for c in _FACT_KEYS if c != "date")
        frame = self.con.execute(
            f"""
            SELECT CASE WHEN is_before THEN MIN(date) ELSE MAX(date) END AS date, {text},
                   {_SUM_VALUE} AS value
            FROM (SELECT *, date < ? AS is_before FROM source_facts
                  WHERE basis = ? AND (date < ? OR date > ?) AND ({" OR ".join(spans)})) AS f
            GROUP BY is_before, {text} ORDER BY 1, {text}
            """,
            params,
        ).df()
        frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
        frame["value"] = frame["value"].astype(np.float64)
        return frame[list(FACT_COLUMNS)]

    def quarantine(self, sources: Sequence[str] | None = None) -> pd.DataFrame:
        """The quarantined rows of the latest load of each file: `QUARANTINE_COLUMNS` and
        ``loaded_at``, sorted by source, file and line."""
        wanted = _name_list("sources", sources)
        where = (
            "TRUE" if wanted is None else (f"source IN ({_marks(wanted)})" if wanted else "FALSE")
        )
        frame = self.con.execute(
            f"""
            SELECT source, file, line, "column", value, reason, loaded_at
            FROM quarantine WHERE {where} ORDER BY source, file, line, "column"
            """,
            wanted or [],
        ).df()
        frame["line"] = frame["line"].astype("int64")
        return frame

    def load_log(self, detail: bool = False) -> pd.DataFrame:
        """Every load, oldest first: loaded_at (UTC), source, file_hash, rows, date_from, date_to,
        and with `detail` also file, quarantined, duplicates, latest (`LOAD_LOG_COLUMNS`).

        `date_from` / `date_to` are `datetime.date` (None for an empty load).
        """
        columns = list(LOAD_LOG_COLUMNS) if detail else _LOG_COLUMNS
        log = self.con.execute(
            f"SELECT {', '.join(columns)} FROM load_log "
            f"ORDER BY loaded_at, source, {self.con.row_order}"
        ).df()
        for column in ("date_from", "date_to"):
            log[column] = _date_objects(log[column])
        return log[columns]

    def latest_loads(self) -> pd.DataFrame:
        """The last load of each source (`LOAD_LOG_COLUMNS`), sorted by source.

        A skipped load (a file already loaded) is not logged, so this is the last load that
        changed something; ``latest`` is the newest data point that input held.
        """
        log = self.con.execute(
            f"""
            SELECT {", ".join(LOAD_LOG_COLUMNS)} FROM (
                SELECT *, row_number() OVER (
                    PARTITION BY source ORDER BY loaded_at DESC, {self.con.row_order} DESC
                ) AS _newest
                FROM load_log
            ) AS l WHERE _newest = 1
            ORDER BY source
            """
        ).df()
        for column in ("date_from", "date_to"):
            log[column] = _date_objects(log[column])
        return log[list(LOAD_LOG_COLUMNS)]


# --------------------------------------------------------------------------- helpers


def _check_load(result: ReadResult, file_hash: str) -> str:
    """The source of a load's input; `InputError` for a bad input, source or hash."""
    if not isinstance(result, ReadResult):
        raise InputError(f"`result` must be a ReadResult, got {type(result).__name__}")
    source = result.info.source
    if not isinstance(source, str) or not source.strip():
        raise InputError(f"the input's source must be a non-empty text, got {source!r}")
    if not isinstance(file_hash, str) or not file_hash:
        raise InputError(f"`file_hash` must be a non-empty text, got {file_hash!r}")
    return source


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _date_objects(column: pd.Series) -> pd.Series:
    """A datetime-like column as `datetime.date` objects (NaT → None)."""
    stamps = pd.to_datetime(column)
    values = [None if pd.isna(t) else t.date() for t in stamps]
    return pd.Series(values, index=column.index, dtype=object)


def _as_date(name: str, value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise InputError(f"`{name}` must be a date, got {value!r}", value=value, has_value=False)


def _name_list(name: str, names: Sequence[str] | None) -> list[str] | None:
    if names is None:
        return None
    wanted = [names] if isinstance(names, str) else list(names)
    for item in wanted:
        if not isinstance(item, str) or not item:
            raise InputError(f"`{name}` must be names, got {item!r}", value=item, has_value=False)
    return list(dict.fromkeys(wanted))


def _marks(items: Sequence[Any]) -> str:
    return ", ".join("?" for _ in items)


def _naive(value: dt.datetime | None) -> dt.datetime | None:
    """A timestamp as naive UTC (naive ones are taken as they are)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value
