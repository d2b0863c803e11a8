"""The fact store's connection: an embedded DuckDB file (the default) or a PostgreSQL database.

`FactStore` and its helpers (`store_deals`, `store_schema`) hold the store's logic once and talk
to a `StoreConnection`: ``execute`` SQL both dialects accept (``?`` marks the parameters),
``begin`` / ``commit`` / ``rollback`` one transaction, ``register`` a pandas frame as a table a
statement can read (the bulk insert: ``INSERT INTO t SELECT ... FROM incoming``). The few
dialect differences live here and nowhere else:

* **parameters**: DuckDB takes ``?``; psycopg takes ``%s`` (`_pg_sql` rewrites the text).
* **changed rows**: DuckDB answers a DELETE / INSERT with one row holding the count;
  `PgConnection` answers the same (``cursor.rowcount``), so ``execute(...).fetchall()[0][0]`` is
  the count on both.
* **bulk insert**: DuckDB reads the frame in place (``register``, a view on its arrays);
  PostgreSQL gets a temporary table filled by ``COPY ... FROM STDIN`` (psycopg 3 ``cursor.copy``,
  text CSV: pandas writes the frame in C, about 10x faster than ``executemany``;
  benchmarks/bench_pg_store.py) that the same INSERT then reads.
* **insertion order**: DuckDB's ``rowid``; PostgreSQL tables get a ``seq`` identity column
  (`store_schema`, a PostgreSQL-only step): `row_order`.
* **working memory**: DuckDB's ``memory_limit`` is bounded while a load inserts
  (`bounded_memory`); the PostgreSQL server manages its own.
* **concurrency**: a DuckDB file is opened by one process at a time (DuckDB's file lock). A
  PostgreSQL store is shared, so every write transaction (`begin`) first takes the store's
  transaction-level advisory lock: two syncs into one database run one load after the other,
  each seeing what the other committed (no lost or doubled rows), and a reader is never blocked.

Decision, connections: one psycopg connection per `FactStore` (a sync opens one store, does its
loads and reads, and closes it), not a pool. A sync is a short batch job in its own process
(a button, the CLI, the digest); a pool would only keep idle connections open between syncs
and would not make one sync faster. The function server, which does pool, keeps its own state
elsewhere (``addin/server``).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import duckdb
import numpy as np
import pandas as pd
import psycopg

__all__ = [
    "PG_LOCK_KEY",
    "DuckConnection",
    "PgConnection",
    "StoreConnection",
    "StoreResult",
    "is_url",
    "open_connection",
]

PG_LOCK_KEY = 0x46554E4E454C  # "FUNNEL": the advisory lock every write transaction takes
"""The key of the PostgreSQL advisory lock that serialises the store's write transactions."""
_DUCK_LOAD_MEMORY = "512MB"
"""DuckDB's working memory while a load inserts a frame (benchmarks/bench_sync_memory.py)."""
_PG_WORK_MEM = "256MB"
"""PostgreSQL's per-sort / per-hash memory for the store's session (see `PgConnection`)."""
_URL_PREFIXES = ("postgresql://", "postgres://")
_NULL = "\\N"
"""The COPY null marker (a text cell holding exactly this goes by ``write_row`` instead)."""


def is_url(location: object) -> bool:
    """True for a PostgreSQL store's URL (``postgresql://...`` or ``postgres://...``)."""
    return isinstance(location, str) and location.strip().lower().startswith(_URL_PREFIXES)


class StoreResult(Protocol):
    """What `StoreConnection.execute` returns: DuckDB's connection, or `PgResult`."""

    def fetchall(self) -> list[Any]: ...

    def fetchone(self) -> Any: ...

    def df(self) -> pd.DataFrame: ...


class StoreConnection(Protocol):
    """What the store's logic uses of a database connection (see the module)."""

    dialect: str
    row_order: str

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> StoreResult: ...

    def begin(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def register(self, name: str, frame: pd.DataFrame) -> None: ...

    def unregister(self, name: str) -> None: ...

    def bounded_memory(self) -> contextlib.AbstractContextManager[None]: ...

    def analyze(self, table: str) -> None: ...

    def numbers(self, sql: str) -> pd.DataFrame: ...

    def close(self) -> None: ...


class DuckConnection:
    """A DuckDB database file (or ``":memory:"``)."""

    dialect = "duckdb"
    row_order = "rowid"

    def __init__(self, path: str) -> None:
        self.raw = duckdb.connect(path)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> StoreResult:
        return self.raw.execute(sql, params)

    def begin(self) -> None:
        self.raw.begin()

    def commit(self) -> None:
        self.raw.commit()

    def rollback(self) -> None:
        """Roll back the open transaction, if there still is one: DuckDB ends a transaction
        itself when its commit fails (a full disk), and "cannot rollback - no transaction is
        active" would then hide the cause."""
        with contextlib.suppress(duckdb.TransactionException):
            self.raw.rollback()

    def register(self, name: str, frame: pd.DataFrame) -> None:
        self.raw.register(name, frame)

    def unregister(self, name: str) -> None:
        self.raw.unregister(name)

    @contextlib.contextmanager
    def bounded_memory(self) -> Iterator[None]:
        """The frame is already in memory: bound DuckDB's own working memory for the GROUP BY
        (it spills to its temp folder) so a 200 MB export syncs in ~1.4 GB, not ~1.8 GB."""
        self.raw.execute(f"SET memory_limit = '{_DUCK_LOAD_MEMORY}'")
        try:
            yield
        finally:
            self.raw.execute("RESET memory_limit")

    def analyze(self, table: str) -> None:
        """Nothing: DuckDB keeps a table's statistics as it writes it."""

    def numbers(self, sql: str) -> pd.DataFrame:
        """A query of dates and numbers as a frame (DuckDB hands over its arrays)."""
        return self.raw.execute(sql).df()

    def close(self) -> None:
        self.raw.close()


class PgResult:
    """A finished PostgreSQL statement: its rows (a DML statement's: one row, the count)."""

    def __init__(self, rows: list[tuple[Any, ...]], columns: list[str]) -> None:
        self.rows, self.columns = rows, columns

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    def df(self) -> pd.DataFrame:
        return pd.DataFrame.from_records(self.rows, columns=self.columns)


class PgConnection:
    """A PostgreSQL database through one psycopg 3 connection (autocommit outside `begin`)."""

    dialect = "postgresql"
    row_order = "seq"

    def __init__(self, url: str) -> None:
        self.raw = psycopg.connect(url, autocommit=True, connect_timeout=10)
        # A load's GROUP BY and a read's sorts work on a whole export: the default 4 MB would
        # spill them to disk (this session only; the server's other clients keep theirs).
        self.raw.execute(f"SET work_mem = '{_PG_WORK_MEM}'")

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> PgResult:
        with self.raw.cursor() as cursor:
            if params is None:
                cursor.execute(sql)  # without parameters psycopg reads no marks
            else:
                cursor.execute(_pg_sql(sql), list(params))
            if cursor.description is None:
                return PgResult([(cursor.rowcount,)], ["count"])
            return PgResult(cursor.fetchall(), [d.name for d in cursor.description])

    def begin(self) -> None:
        """BEGIN, then wait for the store's advisory lock (released at COMMIT / ROLLBACK)."""
        self.raw.execute("BEGIN")
        self.raw.execute("SELECT pg_advisory_xact_lock(%s)", [PG_LOCK_KEY])

    def commit(self) -> None:
        self.raw.execute("COMMIT")

    def rollback(self) -> None:
        """ROLLBACK (outside a transaction PostgreSQL only warns); a broken connection is
        left to be closed: the server rolls back a transaction whose client is gone."""
        with contextlib.suppress(psycopg.OperationalError):
            self.raw.execute("ROLLBACK")

    def register(self, name: str, frame: pd.DataFrame) -> None:
        """A temporary table `name` with `frame`'s columns, filled by COPY."""
        columns = ", ".join(f'"{c}" {_pg_type(frame[c])}' for c in frame.columns)
        self.raw.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
        self.raw.execute(f"CREATE TEMP TABLE {name} ({columns})")
        copy_frame(self.raw, name, frame)
        self.analyze(name)

    def unregister(self, name: str) -> None:
        self.raw.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")

    @contextlib.contextmanager
    def bounded_memory(self) -> Iterator[None]:
        yield

    def analyze(self, table: str) -> None:
        """Statistics for a temporary table (else the planner guesses, and joins it badly)."""
        self.raw.execute(f"ANALYZE {table}")

    def numbers(self, sql: str) -> pd.DataFrame:
        """A query of dates and numbers (no texts: CSV cannot tell NULL from empty here) as a
        frame, sent by ``COPY ... TO STDOUT`` and parsed by pandas' C reader: a million rows
        without a million Python tuples."""
        buffer = io.BytesIO()
        out = f"COPY ({sql}) TO STDOUT (FORMAT csv, HEADER)"
        with self.raw.cursor() as cursor, cursor.copy(out) as copy:
            for block in copy:
                buffer.write(block)
        buffer.seek(0)
        return pd.read_csv(buffer)

    def close(self) -> None:
        self.raw.close()


def open_connection(location: str) -> StoreConnection:
    """A `PgConnection` for a PostgreSQL URL, else a `DuckConnection` on the file."""
    if is_url(location):
        return PgConnection(location.strip())
    return DuckConnection(location)


def copy_frame(raw: Any, table: str, frame: pd.DataFrame) -> None:
    """`frame` appended to `table` (same column names) by one ``COPY ... FROM STDIN``.

    Text CSV with ``\\N`` for NULL (so an empty text stays an empty text); a frame holding the
    text ``\\N`` itself goes row by row through ``write_row`` instead, which needs no marker."""
    if frame.empty:
        return
    names = ", ".join(f'"{c}"' for c in frame.columns)
    texts = [c for c in frame.columns if frame[c].dtype == object]
    with raw.cursor() as cursor:
        if any((frame[c] == _NULL).any() for c in texts):
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in frame.itertuples(index=False):
                    copy.write_row([None if _missing(v) else v for v in row])
            return
        buffer = io.StringIO()
        frame.to_csv(buffer, header=False, index=False, na_rep=_NULL)
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT csv, NULL '{_NULL}')") as copy:
            copy.write(buffer.getvalue())


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT


def _pg_type(column: pd.Series) -> str:
    kind = column.dtype.kind
    if kind == "f":
        return "DOUBLE PRECISION"
    if kind in "iu":
        return "BIGINT"
    if kind == "b":
        return "BOOLEAN"
    if kind == "M":
        return "TIMESTAMP"
    return "TEXT"


def _pg_sql(sql: str) -> str:
    """DuckDB's ``?`` parameter marks as psycopg's ``%s`` (a literal ``%`` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")
