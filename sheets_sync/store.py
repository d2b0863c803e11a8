"""The local fact store: daily facts per source in an embedded DuckDB database.

Facts are kept long, one value per (date, source, channel, campaign, metric), so any metric a
source reports fits without a schema change. Loading a source's export replaces that source's
facts over the export's date window in one transaction: a newer export that overlaps an older one
restates the overlap instead of double counting it, and loading the same export twice changes
nothing. Reads sum the sources and pivot back to one column per metric.

Later: sources and their mapping rules, data-quality checks, and the team's warehouse in place of
the embedded file (the same tables, aggregation pushed down as SQL).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from planning.errors import InputError
from planning.funnel import DEFAULT_FUNNEL

__all__ = ["KEY_COLUMNS", "FactStore"]

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
)
_LOG_COLUMNS = ["loaded_at", "source", "file_hash", "rows", "date_from", "date_to"]


class FactStore:
    """Daily facts in a DuckDB database file (or ``":memory:"``).

    Creates the tables if missing: ``facts_daily(date, source, channel, campaign, metric, value)``
    and ``load_log(loaded_at, source, file_hash, rows, date_from, date_to)``. Use as a context
    manager, or call `close`.
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
                "INSERT INTO load_log VALUES (?, ?, ?, ?, ?, ?)",
                [_utc_now(), source, file_hash, inserted, date_from, date_to],
            )
            con.commit()
        except BaseException:
            con.rollback()
            raise
        return inserted

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

    def load_log(self) -> pd.DataFrame:
        """Every load, oldest first: loaded_at (UTC), source, file_hash, rows, date_from, date_to.

        `date_from` / `date_to` are `datetime.date` (None for an empty load).
        """
        log = self.con.execute(
            f"SELECT {', '.join(_LOG_COLUMNS)} FROM load_log ORDER BY loaded_at, source"
        ).df()
        for column in ("date_from", "date_to"):
            log[column] = _date_objects(log[column])
        return log[_LOG_COLUMNS]


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


def _ordered(metrics: list[str]) -> list[str]:
    """The funnel's metrics in funnel order, then any others alphabetically."""
    known = [m for m in DEFAULT_FUNNEL.metrics if m in metrics]
    return known + sorted(m for m in metrics if m not in known)


def _melt(frame: pd.DataFrame) -> pd.DataFrame:
    """A wide daily frame as long rows: date (datetime64), channel, campaign, metric, value."""
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"the facts must be a table (DataFrame), got {type(frame).__name__}")
    missing = [c for c in KEY_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(
            f"the facts are missing the columns: {', '.join(missing)}",
            value=missing,
            has_value=False,
        )
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
