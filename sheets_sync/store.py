"""The local fact store: daily facts per source in an embedded DuckDB database.

Two fact tables, both long (one value per row) so any metric a source reports fits without a
schema change:

``source_facts``
    what the sync loads: the readers' normalised rows (`sheets_sync.facts.FACT_COLUMNS`: date,
    source, utm_source, utm_medium, utm_campaign, metric, basis, value), before mapping to plan
    lines, so a changed Mapping sheet re-maps without re-reading any file;
``facts_daily``
    wide daily frames already keyed by plan line (date, channel, campaign), loaded by
    `FactStore.load_daily` (the sample pipeline).

Loading a source's export replaces that source's facts over the export's date window in one
transaction: a newer export that overlaps an older one restates the overlap instead of double
counting it, and loading the same export (same file hash) twice changes nothing. Rows a reader
could not read are kept in ``quarantine`` (replaced per source and file), and every load is
logged in ``load_log`` (file, rows, window, quarantined rows, duplicates, newest data point).
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

from planning.errors import InputError
from planning.funnel import DEFAULT_FUNNEL
from sheets_sync.facts import (
    BASES,
    FACT_COLUMNS,
    METRICS,
    QUARANTINE_COLUMNS,
    ReadResult,
    input_window,
    require_columns,
)
from sheets_sync.mapping import FIELDS

__all__ = ["KEY_COLUMNS", "LOAD_LOG_COLUMNS", "FactStore", "LoadOutcome"]

KEY_COLUMNS: tuple[str, str, str] = ("date", "channel", "campaign")
"""The key columns of a wide daily frame; every other column is a metric."""

_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS facts_daily (
        date DATE NOT NULL,
        source VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        campaign VARCHAR NOT NULL,
        metric VARCHAR NOT NULL,
        value DOUBLE NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS load_log (
        loaded_at TIMESTAMP NOT NULL,
        source VARCHAR NOT NULL,
        file_hash VARCHAR,
        rows BIGINT NOT NULL,
        date_from DATE,
        date_to DATE
    )
    """,
    # Columns added for issue 4 (files created before it get them here, NULL for old loads).
    "ALTER TABLE load_log ADD COLUMN IF NOT EXISTS file VARCHAR",
    "ALTER TABLE load_log ADD COLUMN IF NOT EXISTS quarantined BIGINT",
    "ALTER TABLE load_log ADD COLUMN IF NOT EXISTS duplicates BIGINT",
    "ALTER TABLE load_log ADD COLUMN IF NOT EXISTS latest TIMESTAMP",
    """
    CREATE TABLE IF NOT EXISTS source_facts (
        date DATE NOT NULL,
        source VARCHAR NOT NULL,
        utm_source VARCHAR NOT NULL,
        utm_medium VARCHAR NOT NULL,
        utm_campaign VARCHAR NOT NULL,
        metric VARCHAR NOT NULL,
        basis VARCHAR NOT NULL,
        value DOUBLE NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS quarantine (
        source VARCHAR NOT NULL,
        file VARCHAR NOT NULL,
        line BIGINT,
        "column" VARCHAR,
        value VARCHAR,
        reason VARCHAR NOT NULL,
        loaded_at TIMESTAMP NOT NULL
    )
    """,
)
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


class FactStore:
    """Daily facts in a DuckDB database file (or ``":memory:"``).

    Creates the tables if missing: ``source_facts`` (`FACT_COLUMNS`), ``quarantine``
    (`QUARANTINE_COLUMNS` + ``loaded_at``), ``facts_daily(date, source, channel, campaign,
    metric, value)`` and ``load_log`` (`LOAD_LOG_COLUMNS`); a file from before issue 4 gets the
    new tables and log columns on open. Use as a context manager, or call `close`.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = path if str(path) == ":memory:" else Path(path)
        self._con: duckdb.DuckDBPyConnection | None = duckdb.connect(str(path))
        for statement in _SCHEMA:
            self._con.execute(statement)

    # ------------------------------------------------------------------ lifecycle

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
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

    def load_daily(self, frame: pd.DataFrame, source: str, file_hash: str | None = None) -> int:
        """Replace `source`'s facts over the frame's date window with the frame; rows inserted.

        `frame` is wide: ``date`` (dates, datetimes or ISO texts), ``channel``, ``campaign`` and
        one numeric column per metric (counts, or currency for spend/revenue). Missing values are
        not facts and are skipped; rows repeating a (date, channel, campaign) are summed.
        In one transaction: delete `source`'s rows from the frame's first to its last date,
        insert the frame's non-missing values, log the load. If `file_hash` is already in the
        log for `source`, nothing happens and 0 is returned. Returns the number of long rows
        (one per date, channel, campaign, metric) inserted.
        """
        if not isinstance(source, str) or not source.strip():
            raise InputError(f"`source` must be a non-empty text, got {source!r}")
        if file_hash is not None and not isinstance(file_hash, str):
            raise InputError(f"`file_hash` must be a text or None, got {file_hash!r}")
        long = _melt(frame)
        date_from = None if long.empty else long["date"].min().date()
        date_to = None if long.empty else long["date"].max().date()

        con = self.con
        con.begin()
        try:
            if file_hash is not None and self._already_loaded(source, file_hash):
                con.rollback()
                return 0
            if date_from is not None:
                con.execute(
                    "DELETE FROM facts_daily WHERE source = ? AND date BETWEEN ? AND ?",
                    [source, date_from, date_to],
                )
            con.register("incoming_facts", long)
            try:
                result = con.execute(
                    """
                    INSERT INTO facts_daily
                    SELECT CAST(date AS DATE), ?, channel, campaign, metric, SUM(value)
                    FROM incoming_facts
                    GROUP BY CAST(date AS DATE), channel, campaign, metric
                    """,
                    [source],
                ).fetchall()
            finally:
                con.unregister("incoming_facts")
            inserted = int(result[0][0]) if result else 0
            con.execute(
                f"INSERT INTO load_log ({', '.join(_LOG_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)",
                [_utc_now(), source, file_hash, inserted, date_from, date_to],
            )
            con.commit()
        except BaseException:
            con.rollback()
            raise
        return inserted

    def load(self, result: ReadResult, file_hash: str) -> LoadOutcome:
        """Load one read input (`ReadResult`) into ``source_facts``; what was done.

        The source is ``result.info.source``. If that source already logged `file_hash`, nothing
        changes (``skipped``). Otherwise, in one transaction: delete the source's facts in the
        input's window (``info.date_from``..``info.date_to`` widened to cover every fact's date),
        insert the facts summed per (date, UTM keys, metric, basis), replace the source's
        quarantine rows for the input's file(s) with ``result.quarantine``, and log the load.
        Facts are checked first (columns, dates, metric and basis names, finite values, the
        source); a bad frame raises `InputError` and changes nothing.
        """
        if not isinstance(result, ReadResult):
            raise InputError(f"`result` must be a ReadResult, got {type(result).__name__}")
        info = result.info
        source = info.source
        if not isinstance(source, str) or not source.strip():
            raise InputError(f"the input's source must be a non-empty text, got {source!r}")
        if not isinstance(file_hash, str) or not file_hash:
            raise InputError(f"`file_hash` must be a non-empty text, got {file_hash!r}")
        facts = _normalise_facts(result.facts, source)
        quarantined = _normalise_quarantine(result.quarantine, source, str(info.path))
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
            replaced = 0
            if date_from is not None:
                deleted = con.execute(
                    "DELETE FROM source_facts WHERE source = ? AND date BETWEEN ? AND ?",
                    [source, date_from, date_to],
                ).fetchall()
                replaced = int(deleted[0][0]) if deleted else 0
            inserted = 0
            if not facts.empty:
                con.register("incoming_source_facts", facts)
                try:
                    result_rows = con.execute(
                        f"""
                        INSERT INTO source_facts
                        SELECT {", ".join(_FACT_KEYS)}, SUM(value)
                        FROM incoming_source_facts
                        GROUP BY ALL
                        """
                    ).fetchall()
                finally:
                    con.unregister("incoming_source_facts")
                inserted = int(result_rows[0][0]) if result_rows else 0
            con.execute(
                f"DELETE FROM quarantine WHERE source = ? AND file IN ({_marks(files)})",
                [source, *files],
            )
            if not quarantined.empty:
                con.register("incoming_quarantine", quarantined)
                try:
                    con.execute(
                        """
                        INSERT INTO quarantine
                        SELECT source, file, line, "column", value, reason, loaded_at
                        FROM incoming_quarantine
                        """
                    )
                finally:
                    con.unregister("incoming_quarantine")
            con.execute(
                f"INSERT INTO load_log ({', '.join(LOAD_LOG_COLUMNS)}) "
                f"VALUES ({_marks(LOAD_LOG_COLUMNS)})",
                [
                    now,
                    source,
                    file_hash,
                    inserted,
                    date_from,
                    date_to,
                    str(info.path),
                    len(quarantined),
                    int(info.duplicates),
                    _naive(info.latest),
                ],
            )
            con.commit()
        except BaseException:
            con.rollback()
            raise
        return LoadOutcome(False, inserted, replaced, date_from, date_to)

    def _already_loaded(self, source: str, file_hash: str) -> bool:
        rows = self.con.execute(
            "SELECT count(*) FROM load_log WHERE source = ? AND file_hash = ?", [source, file_hash]
        ).fetchall()  # fetch to the end: DuckDB refuses other work while a result is open
        return int(rows[0][0]) > 0

    # ------------------------------------------------------------------ reading

    def daily(
        self,
        start: dt.date | None = None,
        end: dt.date | None = None,
        metrics: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Wide daily facts, summed over the sources.

        Columns ``date`` (`datetime.date`), ``channel``, ``campaign``, then one float column per
        metric: `metrics` in the order given (a metric with no facts is all NaN, never 0), or
        every stored metric, the funnel's (``spend``, stages, ``revenue``) first. A metric with
        no fact on a row is NaN. Rows from `start` to `end` inclusive (either may be None),
        sorted by date, channel, campaign.
        """
        wanted = _metric_list(metrics)
        where: list[str] = ["TRUE"]
        params: list[Any] = []
        for name, bound, op in (("start", start, ">="), ("end", end, "<=")):
            if bound is not None:
                where.append(f"date {op} ?")
                params.append(_as_date(name, bound))
        if wanted is not None and wanted:
            where.append(f"metric IN ({', '.join('?' for _ in wanted)})")
            params.extend(wanted)
        long = self.con.execute(
            f"""
            SELECT date, channel, campaign, metric, SUM(value) AS value
            FROM facts_daily WHERE {" AND ".join(where)}
            GROUP BY ALL
            """,
            params,
        ).df()
        columns = wanted if wanted is not None else _ordered(long["metric"].unique().tolist())
        keys = list(KEY_COLUMNS)
        if long.empty:
            wide = pd.DataFrame({k: pd.Series(dtype=object) for k in keys})
        else:
            wide = (
                long.set_index([*keys, "metric"])["value"]
                .unstack("metric")
                .reset_index()
                .sort_values(keys, ignore_index=True)
            )
        out = pd.DataFrame(
            {
                "date": _date_objects(wide["date"]),
                "channel": wide["channel"].astype("str"),
                "campaign": wide["campaign"].astype("str"),
            }
        )
        for column in columns:
            present = column in wide.columns
            out[column] = wide[column].astype(np.float64) if present else np.nan
        return out

    def source_facts(
        self,
        start: dt.date | None = None,
        end: dt.date | None = None,
        basis: str | None = "event",
        sources: Sequence[str] | None = None,
        metrics: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """The loaded source facts (`FACT_COLUMNS`), summed per date, source, UTM keys, metric.

        Rows from `start` to `end` inclusive (either may be None) of `basis` (``"event"``,
        ``"cohort"``, or None for both, kept apart by the ``basis`` column), of the `sources`
        and `metrics` named (None = all). ``date`` is ``datetime64[ns]``; sorted by the keys.
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
        text = [c for c in _FACT_KEYS if c != "date"]
        cols = ", ".join(text)
        self.con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _picked AS
            SELECT date, {cols}, SUM(value) AS value
            FROM source_facts WHERE {" AND ".join(where)} GROUP BY ALL
            """,
            params,
        )
        combos = self.con.execute(
            f"SELECT {cols}, row_number() OVER (ORDER BY {cols}) - 1 AS k "
            f"FROM (SELECT DISTINCT {cols} FROM _picked) ORDER BY k"
        ).df()
        main = self.con.execute(
            f"""
            SELECT p.date, c.k, p.value FROM _picked p
            JOIN (SELECT {cols}, row_number() OVER (ORDER BY {cols}) - 1 AS k
                  FROM (SELECT DISTINCT {cols} FROM _picked)) c USING ({cols})
            ORDER BY p.date, c.k
            """
        ).fetchnumpy()
        self.con.execute("DROP TABLE IF EXISTS _picked")
        k = np.asarray(main["k"], dtype=np.int64)
        frame = pd.DataFrame(
            {"date": pd.to_datetime(np.asarray(main["date"])).astype("datetime64[ns]")}
        )
        for c in text:
            uniq, codes = np.unique(
                combos[c].astype(str).to_numpy(dtype=object), return_inverse=True
            )
            frame[c] = pd.Categorical.from_codes(codes[k], categories=pd.Index(uniq))
        frame["value"] = np.asarray(main["value"], dtype=np.float64)
        return frame[list(FACT_COLUMNS)]

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
            SELECT CASE WHEN before THEN MIN(date) ELSE MAX(date) END AS date, {text},
                   SUM(value) AS value
            FROM (SELECT *, date < ? AS before FROM source_facts
                  WHERE basis = ? AND (date < ? OR date > ?) AND ({" OR ".join(spans)}))
            GROUP BY before, {text} ORDER BY 1, {text}
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
            f"SELECT {', '.join(columns)} FROM load_log ORDER BY loaded_at, source, rowid"
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
            SELECT {", ".join(LOAD_LOG_COLUMNS)} FROM load_log
            QUALIFY row_number() OVER (PARTITION BY source ORDER BY loaded_at DESC, rowid DESC) = 1
            ORDER BY source
            """
        ).df()
        for column in ("date_from", "date_to"):
            log[column] = _date_objects(log[column])
        return log[list(LOAD_LOG_COLUMNS)]


# --------------------------------------------------------------------------- helpers


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


def _metric_list(metrics: Sequence[str] | None) -> list[str] | None:
    if metrics is None:
        return None
    if isinstance(metrics, str):
        return [metrics]
    wanted = list(metrics)
    for metric in wanted:
        if not isinstance(metric, str) or not metric:
            raise InputError(
                f"`metrics` must be metric names, got {metric!r}", value=metric, has_value=False
            )
    return list(dict.fromkeys(wanted))


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


def _columns(table: Any, columns: Sequence[str], what: str, verb: str = "is") -> pd.DataFrame:
    """`table`'s `columns` (a DataFrame holding all of them), renumbered from 0."""
    require_columns(table, columns, what, verb)
    return table[list(columns)].reset_index(drop=True)


def _normalise_facts(facts: pd.DataFrame, source: str) -> pd.DataFrame:
    """A reader's fact frame checked and typed for the insert (vectorised: 1e6 rows in ~1 s)."""
    frame = _columns(facts, FACT_COLUMNS, "facts", "are")
    out = pd.DataFrame(index=frame.index)
    out["date"] = _parse_dates(frame)
    sources = frame["source"].fillna(source)
    other = sources != source
    if other.any():
        raise _bad(frame, "source", other, f"is not this input's source {source!r}")
    out["source"] = source
    for column in FIELDS:
        out[column] = frame[column].fillna("").astype(str)
    for column, allowed in (("metric", METRICS), ("basis", BASES)):
        bad = ~frame[column].isin(allowed)
        if bad.any():
            raise _bad(frame, column, bad, f"is not one of {', '.join(allowed)}")
        out[column] = frame[column]
    values = pd.to_numeric(frame["value"], errors="coerce").astype(np.float64)
    not_finite = pd.Series(~np.isfinite(values.to_numpy()), index=frame.index)
    if not_finite.any():
        raise _bad(frame, "value", not_finite, "is not a number")
    out["value"] = values
    return out


def _normalise_quarantine(quarantine: pd.DataFrame, source: str, path: str) -> pd.DataFrame:
    """A reader's quarantine frame as texts (value as read, blank file -> the input's path,
    no line -> 0)."""
    frame = _columns(quarantine, QUARANTINE_COLUMNS, "quarantine")
    out = pd.DataFrame(index=frame.index)
    out["source"] = frame["source"].fillna(source).replace("", source).astype(str)
    out["file"] = frame["file"].fillna(path).replace("", path).astype(str)
    out["line"] = pd.to_numeric(frame["line"], errors="coerce").fillna(0).astype("int64")
    for column in ("column", "value"):
        out[column] = frame[column].map(lambda v: None if _missing(v) else str(v))
    out["reason"] = frame["reason"].fillna("").astype(str)
    return out


def _missing(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value))


def _ordered(metrics: list[str]) -> list[str]:
    """The funnel's metrics in funnel order, then any others alphabetically."""
    known = [m for m in DEFAULT_FUNNEL.metrics if m in metrics]
    return known + sorted(m for m in metrics if m not in known)


def _melt(frame: pd.DataFrame) -> pd.DataFrame:
    """A wide daily frame as long rows: date (datetime64), channel, campaign, metric, value."""
    require_columns(frame, KEY_COLUMNS, "facts", "are")
    duplicated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
    if duplicated:
        raise InputError(f"columns appear more than once: {', '.join(duplicated)}")
    metrics = [c for c in frame.columns if c not in KEY_COLUMNS]
    for metric in metrics:
        if not isinstance(metric, str) or not metric.strip():
            raise InputError(f"metric column names must be texts, got {metric!r}")

    keys = pd.DataFrame(index=frame.index)
    keys["date"] = _parse_dates(frame)
    for column in ("channel", "campaign"):
        keys[column] = _text_column(frame, column)
    values = pd.DataFrame({m: _number_column(frame, m) for m in metrics}, index=frame.index)
    wide = pd.concat([keys, values], axis=1)
    long = wide.melt(
        id_vars=["date", "channel", "campaign"], var_name="metric", value_name="value"
    ).dropna(subset=["value"])
    long["metric"] = long["metric"].astype(str)
    long["value"] = long["value"].astype(np.float64)
    return long.reset_index(drop=True)


def _line(label: Any) -> str | int:
    if isinstance(label, int | np.integer) and not isinstance(label, bool):
        return int(label)
    return label if isinstance(label, str) else str(label)


def _bad(frame: pd.DataFrame, column: str, bad: pd.Series, reason: str) -> InputError:
    """The error for the first row flagged in `bad`: its index label, the column, the value."""
    pos = int(np.flatnonzero(bad.to_numpy(dtype=bool))[0])
    value = frame[column].iloc[pos]
    missing = value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT
    return InputError(
        "is missing" if missing else reason,
        line=_line(frame.index[pos]),
        column=column,
        value=value.item() if isinstance(value, np.generic) else value,
        has_value=not missing,
    )


def _parse_dates(frame: pd.DataFrame) -> pd.Series:
    """`frame.date` (dates, datetimes or ISO texts) as datetime64 at midnight."""
    series = frame["date"]
    if pd.api.types.is_datetime64_any_dtype(series):
        parsed = series.dt.tz_localize(None) if series.dt.tz is not None else series
        bad = parsed.isna()
    else:
        texts = series.map(lambda v: isinstance(v, str)).astype(bool)
        dates = series.map(lambda v: isinstance(v, dt.date)).astype(bool)
        parsed = pd.Series(pd.NaT, index=series.index, dtype="datetime64[us]")
        if dates.any():
            stamps = [pd.Timestamp(v).tz_localize(None) for v in series[dates]]
            parsed[dates] = pd.to_datetime(pd.Series(stamps, index=series.index[dates]))
        if texts.any():
            parsed[texts] = pd.to_datetime(
                series[texts].str.strip(), format="ISO8601", errors="coerce"
            )
        bad = parsed.isna()
    if bad.any():
        raise _bad(frame, "date", bad, "is not a date (use YYYY-MM-DD)")
    return parsed.dt.normalize()


def _text_column(frame: pd.DataFrame, column: str) -> pd.Series:
    series = frame[column]
    bad = series.map(lambda v: not isinstance(v, str) or not v.strip()).astype(bool)
    if bad.any():
        raise _bad(frame, column, bad, "must be a non-empty text")
    return series.astype("str")


def _number_column(frame: pd.DataFrame, column: str) -> pd.Series:
    """A metric column as floats: numbers or numeric texts; missing stays NaN, the rest errs."""
    series = frame[column]
    converted = pd.to_numeric(series, errors="coerce").astype(np.float64)
    flags = series.map(lambda v: isinstance(v, bool | np.bool_)).astype(bool)
    bad = (converted.isna() & series.notna()) | flags | np.isinf(converted)
    if bad.any():
        raise _bad(frame, column, bad, "is not a number")
    return converted
