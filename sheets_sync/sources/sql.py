"""A SQL query as a fact source: DuckDB files and PostgreSQL, aggregated in the database.

The query returns one row per fact (or per event) with the columns ``date``, ``utm_source``,
``utm_medium``, ``utm_campaign``, ``metric``, ``value`` and optionally ``basis`` (``"event"``
when absent). `read_sql` wraps it::

    SELECT CAST(date AS DATE), utm keys, metric, basis, SUM(value)
    FROM (<query>) AS q
    WHERE CAST(date AS DATE) BETWEEN <start> AND <end>
    GROUP BY ...

so the date filter and the aggregation run in the warehouse and only one row per day, UTM keys,
metric and basis crosses the wire. Money (spend, revenue) is then multiplied by the source's
rate and spend freed of VAT when the source says it includes it, as for file exports.

URLs: ``duckdb:///relative/path.duckdb`` (relative to `base`, default the working directory),
``duckdb:////absolute/path.duckdb``, ``duckdb:///:memory:``; ``postgresql://user@host:port/db``
(or ``postgres://``; any libpq URI, e.g. ``?host=/socket/dir``) through psycopg 3.

Rows the aggregation gives that are not facts (no date, a metric or basis not known, no value)
go to the quarantine with their 1-based position in the aggregated result as the line.

Dimensions (issue 15): a query may also return breakdown columns, found as a file's are
(`column_map.DIMENSION_MAP`: ``city`` / ``Город`` / ``Region``, ``product`` / ``Продукт``,
``segment`` / ``ad_group`` / ``Ad group`` / ``utm_term``, ``creative`` / ``Ad`` /
``utm_content`` …; a column named as the dimension wins, then `column_map.DIMENSION_OF` order)
and mapped to the facts' `facts.DIMENSIONS` by `fact_frames.dimension_keys`, as a file's. The
database groups by them too (trimmed, NULL as ``""``), so the facts keep them apart; a query
without them gives facts without them, as before.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import duckdb
import numpy as np
import pandas as pd
import psycopg

from planning.errors import InputError
from sheets_sync.cells import is_missing
from sheets_sync.facts import (
    BASES,
    DIMENSIONS,
    FACT_COLUMNS,
    METRICS,
    MONEY,
    QUARANTINE_COLUMNS,
    FileInfo,
    ReadResult,
)
from sheets_sync.sources.column_map import DIMENSION_MAP, DIMENSION_OF, SourceOptions
from sheets_sync.sources.fact_frames import date_window, dimension_keys

__all__ = ["QUERY_COLUMNS", "SqlError", "read_sql", "redact"]

QUERY_COLUMNS: tuple[str, ...] = (
    "date",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "metric",
    "value",
)
"""What the query must return (plus, optionally, ``basis``)."""


class SqlError(InputError):
    """The database refused the query or the connection (the driver's message attached)."""


def read_sql(
    query: str,
    url: str,
    options: SourceOptions | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    source: str | None = None,
    rate: float | None = None,
    base: Path | str | None = None,
) -> ReadResult:
    """Run `query` on the database at `url`, filtered to `start`..`end` and aggregated there.

    The source name and money normalisation (rate; VAT removed from spend when included) come
    from `options` (`SourceOptions`); the `source` / `rate` keywords override its fields (or
    stand in for it: ``read_sql(q, url, source="warehouse")``). Returns the facts
    (`FACT_COLUMNS`), the rows that are not facts as quarantine, and a `FileInfo` (kind
    ``"sql"``, path = `url` with any password hidden; ``rows_read`` = rows fetched, i.e. after
    the database's GROUP BY). A missing column, a bad url or a query the
    database refuses raises `InputError` (`SqlError`) saying which.
    """
    if options is None:
        if source is None:
            raise InputError("the SQL source needs a name: pass `options` or `source`")
        options = SourceOptions(source=source)
    if source is not None:
        options = replace(options, source=source)
    if rate is not None:
        options = replace(options, rate=rate)
    name = options.source
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"the SQL source needs a name (`source`), got {name!r}")
    factor = options.rate
    if isinstance(factor, bool) or not isinstance(factor, int | float) or not factor > 0:
        raise InputError(f"`rate` must be a positive number, got {factor!r}")
    if not isinstance(query, str) or not query.strip():
        raise InputError(f"the SQL source {name!r} needs a query, got {query!r}")
    bounds = [_date_bound(label, value) for label, value in (("start", start), ("end", end))]
    body = _strip_query(query)

    info = FileInfo(path=redact(url), source=name, kind="sql", platform=_scheme(url))
    with _connect(url, base) as db:
        columns = db.columns(body)
        names = _column_names(columns, name)
        dims = _dimension_columns(columns, names)
        frame = db.fetch(_wrapped(body, names, bounds[0], bounds[1], dims))

    facts, quarantine = _facts(frame, name, info.path, list(dims))
    for metric in MONEY:
        rows = (facts["metric"] == metric).to_numpy()
        facts.loc[rows, "value"] = facts.loc[rows, "value"] * options.money_factor(metric)

    info.rows_read = len(frame)
    info.rows_ok = len(facts)
    info.rows_quarantined = len(quarantine)
    event = facts[facts["basis"] == "event"]
    info.totals = {str(m): float(v) for m, v in event.groupby("metric")["value"].sum().items()}
    date_window(info, facts)
    if info.date_to is not None:
        info.latest = dt.datetime.combine(info.date_to, dt.time()) + dt.timedelta(days=1)
    # The window the query was asked for is the window it restates (a day with no rows left
    # in it is a day with no facts, not a day to keep from an older load).
    if bounds[0] is not None:
        info.date_from = bounds[0]
    if bounds[1] is not None:
        info.date_to = bounds[1]
    return ReadResult(facts=facts, quarantine=quarantine, info=info)


# --------------------------------------------------------------------------- urls


def redact(url: str) -> str:
    """`url` with the password (if any) replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _scheme(url: str) -> str:
    scheme = url.split(":", 1)[0].lower() if isinstance(url, str) and ":" in url else ""
    return "postgresql" if scheme in ("postgres", "postgresql") else scheme


class _Database:
    """A connection that can describe a query's columns and fetch a result as a frame."""

    def __enter__(self) -> _Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def columns(self, query: str) -> list[str]:  # pragma: no cover - overridden
        raise NotImplementedError

    def fetch(self, query: str) -> pd.DataFrame:  # pragma: no cover - overridden
        raise NotImplementedError


class _DuckDB(_Database):
    def __init__(self, path: str) -> None:
        self._duckdb = duckdb
        if path == ":memory:":
            self.con = duckdb.connect(":memory:")
        else:
            if not Path(path).is_file():
                raise InputError(f"the DuckDB database {path!r} does not exist")
            try:
                self.con = duckdb.connect(path, read_only=True)
            except duckdb.Error as exc:
                raise SqlError(f"cannot open the DuckDB database {path!r}: {exc}") from None

    def close(self) -> None:
        self.con.close()

    def columns(self, query: str) -> list[str]:
        try:
            cursor = self.con.execute(f"SELECT * FROM ({query}) AS q LIMIT 0")
        except self._duckdb.Error as exc:
            raise SqlError(f"the query failed: {_first_line(exc)}") from None
        return [d[0] for d in cursor.description or []]

    def fetch(self, query: str) -> pd.DataFrame:
        try:
            return self.con.execute(query).df()
        except self._duckdb.Error as exc:
            raise SqlError(f"the query failed: {_first_line(exc)}") from None


class _Postgres(_Database):
    def __init__(self, url: str) -> None:
        self._psycopg = psycopg
        try:
            self.con = psycopg.connect(url, connect_timeout=10)
        except psycopg.Error as exc:
            raise SqlError(
                f"cannot connect to the PostgreSQL database {redact(url)!r}: {_first_line(exc)}"
            ) from None
        self.con.read_only = True  # BEGIN READ ONLY: a query cannot change the warehouse

    def close(self) -> None:
        self.con.close()  # the read-only transaction is rolled back

    def columns(self, query: str) -> list[str]:
        try:
            with self.con.cursor() as cursor:
                cursor.execute(f"SELECT * FROM ({query}) AS q LIMIT 0")
                return [d.name for d in cursor.description or []]
        except self._psycopg.Error as exc:
            raise SqlError(f"the query failed: {_first_line(exc)}") from None

    def fetch(self, query: str) -> pd.DataFrame:
        try:
            with self.con.cursor() as cursor:
                cursor.execute(query)
                names = [d.name for d in cursor.description or []]
                rows = cursor.fetchall()
        except self._psycopg.Error as exc:
            raise SqlError(f"the query failed: {_first_line(exc)}") from None
        return pd.DataFrame.from_records(rows, columns=names)


def _connect(url: str, base: Path | str | None) -> _Database:
    if not isinstance(url, str) or ":" not in url:
        raise InputError(
            f"the SQL url must look like duckdb:///file.duckdb or "
            f"postgresql://user@host:port/db, got {url!r}"
        )
    scheme = _scheme(url)
    if scheme == "duckdb":
        rest = url.split(":", 1)[1]
        if not rest.startswith("//"):
            raise InputError(f"a DuckDB url is duckdb:///path/to/file.duckdb, got {url!r}")
        path = rest[2:].removeprefix("/")  # duckdb:///rel.duckdb, duckdb:////abs.duckdb
        if path in ("", ":memory:"):
            return _DuckDB(":memory:")
        full = Path(path)
        if not full.is_absolute():
            full = Path(base or Path.cwd()) / full
        return _DuckDB(str(full))
    if scheme == "postgresql":
        return _Postgres(url)
    raise InputError(
        f"the SQL url's scheme must be duckdb or postgresql, got {scheme!r} in {redact(url)!r}"
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --------------------------------------------------------------------------- the query


def _strip_query(query: str) -> str:
    body = query.strip()
    while body.endswith(";"):
        body = body[:-1].rstrip()
    if ";" in _without_strings(body):
        raise InputError("the SQL query must be one statement (it contains ';')")
    return body


def _without_strings(sql: str) -> str:
    return re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"", "''", sql)


def _date_bound(label: str, value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise InputError(f"`{label}` must be a date, got {value!r}", value=value, has_value=False)


def _column_names(columns: Sequence[str], source: str) -> dict[str, str]:
    """The query's column for each needed name (matched ignoring case), or a clear error."""
    by_lower: dict[str, str] = {}
    for column in columns:
        by_lower.setdefault(str(column).lower(), str(column))
    missing = [c for c in QUERY_COLUMNS if c not in by_lower]
    if missing:
        raise InputError(
            f"the SQL source {source!r}: the query must return the columns "
            f"{', '.join(QUERY_COLUMNS)} (and optionally basis); it is missing "
            f"{', '.join(missing)} (it returns: {', '.join(map(str, columns)) or 'nothing'})"
        )
    return {c: by_lower[c] for c in (*QUERY_COLUMNS, "basis") if c in by_lower}


def _dimension_columns(columns: Sequence[str], names: dict[str, str]) -> dict[str, str]:
    """The breakdown field -> the query's column, one field per fact dimension (the one
    `fact_frames.dimension_keys` would take), among the columns not already a needed one."""
    taken = {c.lower() for c in names.values()}
    free = [str(c) for c in columns if str(c).lower() not in taken]
    found = DIMENSION_MAP.resolve(free)
    out: dict[str, str] = {}
    filled: set[str] = set()
    for fieldname, dimension in DIMENSION_OF.items():
        if fieldname in found and dimension not in filled:
            out[fieldname] = found[fieldname]
            filled.add(dimension)
    return out


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _wrapped(
    query: str,
    names: dict[str, str],
    start: dt.date | None,
    end: dt.date | None,
    dims: dict[str, str] | None = None,
) -> str:
    """The query filtered and grouped (also by the breakdown columns `dims`, each as its
    field's name), in SQL both DuckDB and PostgreSQL run."""

    def col(name: str) -> str:
        return f"q.{_quote(names[name])}"

    day = f"CAST({col('date')} AS DATE)"
    texts = [f"COALESCE(CAST({col(c)} AS VARCHAR), '')" for c in QUERY_COLUMNS[1:4]]
    basis = f"CAST({col('basis')} AS VARCHAR)" if "basis" in names else "'event'"
    breakdown = "".join(
        f"TRIM(COALESCE(CAST(q.{_quote(column)} AS VARCHAR), '')) AS {_quote(fieldname)},\n"
        for fieldname, column in (dims or {}).items()
    )
    groups = ", ".join(str(i) for i in range(1, 7 + len(dims or {})))
    where = ["TRUE"]
    if start is not None:
        where.append(f"{day} >= DATE '{start.isoformat()}'")
    if end is not None:
        where.append(f"{day} <= DATE '{end.isoformat()}'")
    return f"""
        SELECT {day} AS date,
               {texts[0]} AS utm_source,
               {texts[1]} AS utm_medium,
               {texts[2]} AS utm_campaign,
               CAST({col("metric")} AS VARCHAR) AS metric,
               {basis} AS basis,
               {breakdown}SUM(CAST({col("value")} AS DOUBLE PRECISION)) AS value
        FROM ({query}) AS q
        WHERE {" AND ".join(where)}
        GROUP BY {groups}
        ORDER BY {groups}
    """


def _shown(value: Any) -> str | None:
    """A raw value as quarantine text (None for SQL NULL, which pandas shows as NaN/NaT)."""
    return None if is_missing(value) else str(value)


def _facts(
    frame: pd.DataFrame, source: str, path: str, fields: Sequence[str] = ()
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The aggregated rows as facts, with the dimensions of the breakdown `fields` (columns of
    `frame`); the rows that are not facts as quarantine."""
    n = len(frame)
    if n == 0:
        empty = (*(c for c in FACT_COLUMNS if c != "source"), *fields)
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in empty})
    dates = pd.to_datetime(frame["date"], errors="coerce")
    values = pd.to_numeric(frame["value"], errors="coerce").astype(np.float64)
    metric = frame["metric"].astype(object).where(frame["metric"].notna(), None)
    basis = frame["basis"].astype(object).where(frame["basis"].notna(), None)
    reasons = pd.Series("", index=frame.index, dtype=object)
    columns = pd.Series("", index=frame.index, dtype=object)
    shown = pd.Series(None, index=frame.index, dtype=object)
    checks = [
        ("value", ~np.isfinite(values.to_numpy()), frame["value"], "is not a number"),
        ("basis", ~basis.isin(BASES).to_numpy(), basis, f"is not one of {', '.join(BASES)}"),
        ("metric", ~metric.isin(METRICS).to_numpy(), metric, "is not a known metric"),
        ("date", dates.isna().to_numpy(), frame["date"], "is not a date"),
    ]
    for column, bad, raw, reason in checks:  # the last check that fails is reported
        flag = pd.Series(bad, index=frame.index)
        reasons[flag] = reason
        columns[flag] = column
        shown[flag] = raw[flag].map(_shown)
    bad_rows = (reasons != "").to_numpy()

    ok = ~bad_rows
    facts = pd.DataFrame(
        {
            "date": dates[ok].astype("datetime64[ns]").dt.normalize(),
            "source": source,
            "utm_source": frame["utm_source"][ok].astype(str),
            "utm_medium": frame["utm_medium"][ok].astype(str),
            "utm_campaign": frame["utm_campaign"][ok].astype(str),
            "metric": metric[ok].astype(str),
            "basis": basis[ok].astype(str),
            "value": values[ok],
        }
    ).reset_index(drop=True)[list(FACT_COLUMNS)]
    kept = frame[ok].reset_index(drop=True)
    dims = dimension_keys(kept, {f: f for f in fields}, len(kept))
    for dimension in DIMENSIONS:  # in the facts' order
        if dimension in dims:
            facts[dimension] = dims[dimension]
    lines = np.flatnonzero(bad_rows) + 1
    quarantine = pd.DataFrame(
        {
            "source": source,
            "file": path,
            "line": lines.astype("int64"),
            "column": columns[bad_rows].to_numpy(object),
            "value": [v if isinstance(v, str) else None for v in shown[bad_rows]],
            "reason": reasons[bad_rows].to_numpy(object),
        }
    )[list(QUARANTINE_COLUMNS)]
    return facts, quarantine
