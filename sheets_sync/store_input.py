"""A reader's frames checked and typed for the fact store (`sheets_sync.store.FactStore.load`).

`normalise_facts` checks a fact frame (`FACT_COLUMNS`: columns, dates, metric and basis names,
finite values, the input's source) and types it for the insert; `normalise_quarantine` turns a
quarantine frame into texts. A bad frame is an `InputError` naming the first bad row (its index
label), the column and the value, before the store changes anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from planning.errors import InputError
from sheets_sync.cells import is_missing
from sheets_sync.facts import (
    BASES,
    DIMENSIONS,
    FACT_COLUMNS,
    METRICS,
    QUARANTINE_COLUMNS,
    require_columns,
)
from sheets_sync.mapping import FIELDS

__all__ = ["normalise_facts", "normalise_quarantine"]


def _columns(table: Any, columns: Sequence[str], what: str, verb: str = "is") -> pd.DataFrame:
    """`table`'s `columns` (a DataFrame holding all of them), renumbered from 0."""
    require_columns(table, columns, what, verb)
    return table[list(columns)].reset_index(drop=True)


def normalise_facts(facts: pd.DataFrame, source: str) -> pd.DataFrame:
    """A reader's fact frame checked and typed for the insert (vectorised: 1e6 rows in ~1 s),
    with every `DIMENSIONS` column (``""`` where the frame has none)."""
    frame = _columns(facts, FACT_COLUMNS, "facts", "are")
    out = pd.DataFrame(index=frame.index)
    out["date"] = _parse_dates(frame)
    sources = frame["source"].fillna(source)
    other = sources != source
    if other.any():
        raise _bad(frame, "source", other, f"is not this input's source {source!r}")
    out["source"] = pd.Categorical.from_codes(
        np.zeros(len(frame), dtype=np.int8), pd.Index([source], dtype=object)
    )
    for column in FIELDS:
        out[column] = _texts(frame[column])
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
    for column in DIMENSIONS:  # the breakdown, blank where the reader has none (issue 15)
        if column in facts.columns:
            out[column] = _texts(facts[column].reset_index(drop=True))
        else:
            out[column] = pd.Categorical.from_codes(
                np.zeros(len(frame), dtype=np.int8), pd.Index([""], dtype=object)
            )
    return out


def _texts(cells: pd.Series) -> pd.Series:
    """A key column as text, blank for missing; a Categorical stays one (its categories as
    text): 12 M fact rows keep one string per distinct value, not one per row."""
    if not isinstance(cells.dtype, pd.CategoricalDtype):
        return cells.fillna("").astype(str)
    names = np.array([str(c) for c in cells.cat.categories] + [""], dtype=object)
    codes = cells.cat.codes.to_numpy().astype(np.int64)
    codes[codes < 0] = len(names) - 1  # missing -> ""
    merged, distinct = pd.factorize(names)  # str() may make two categories equal
    texts = pd.Categorical.from_codes(merged[codes], pd.Index(distinct, dtype=object))
    return pd.Series(texts, index=cells.index)


def normalise_quarantine(quarantine: pd.DataFrame, source: str, path: str) -> pd.DataFrame:
    """A reader's quarantine frame as texts (value as read, blank file -> the input's path,
    no line -> 0)."""
    frame = _columns(quarantine, QUARANTINE_COLUMNS, "quarantine")
    out = pd.DataFrame(index=frame.index)
    out["source"] = frame["source"].fillna(source).replace("", source).astype(str)
    out["file"] = frame["file"].fillna(path).replace("", path).astype(str)
    out["line"] = pd.to_numeric(frame["line"], errors="coerce").fillna(0).astype("int64")
    for column in ("column", "value"):
        out[column] = frame[column].map(lambda v: None if is_missing(v) else str(v))
    out["reason"] = frame["reason"].fillna("").astype(str)
    return out


def _line(label: Any) -> str | int:
    if isinstance(label, int | np.integer) and not isinstance(label, bool):
        return int(label)
    return label if isinstance(label, str) else str(label)


def _bad(frame: pd.DataFrame, column: str, bad: pd.Series, reason: str) -> InputError:
    """The error for the first row flagged in `bad`: its index label, the column, the value."""
    pos = int(np.flatnonzero(bad.to_numpy(dtype=bool))[0])
    value = frame[column].iloc[pos]
    missing = is_missing(value)
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
