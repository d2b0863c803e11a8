"""What the export readers share once a file is read into a `Grid`.

`field_columns` (the columns a `ColumnMap` picks), `stripped_codes` / `text_column` (trimmed
text cells), `quarantine_cells` / `concat_quarantine` (one row per unreadable cell, with its
line and column), `flag_dates` (a required date column parsed, its blank and bad cells
quarantined), `last_duplicates` (a repeated natural key: the last row kept), `long_facts` (the
`FACT_COLUMNS` frame), `sums`, `tally` and `date_window` (what a `FileInfo` reports).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from planning.errors import InputError
from sheets_sync.cells import cell_text
from sheets_sync.facts import (
    DIMENSIONS,
    FACT_COLUMNS,
    QUARANTINE_COLUMNS,
    FileInfo,
    empty_facts,
    empty_quarantine,
)
from sheets_sync.sources.cell_values import DateParse, parse_dates
from sheets_sync.sources.column_map import DIMENSION_OF, ColumnMap
from sheets_sync.sources.textfile import Bools, Floats, Grid, Ints, _objects

__all__ = [
    "concat_quarantine",
    "date_window",
    "dimension_keys",
    "expected_suffix",
    "field_columns",
    "flag_dates",
    "last_duplicates",
    "long_facts",
    "quarantine_cells",
    "stripped_codes",
    "sums",
    "tally",
    "text_column",
]


def stripped_codes(values: pd.Series | npt.NDArray[Any]) -> pd.Categorical:
    """Cells trimmed, as a Categorical (code -1 where blank); trims the distinct values only."""
    codes, uniques = pd.factorize(_objects(values))
    labels = pd.Series(np.asarray(uniques, dtype=object), dtype=object).str.strip()
    merged, categories = pd.factorize(labels.to_numpy(dtype=object))
    mapping = merged.astype(np.int64)
    names = np.asarray(categories, dtype=object)
    if (names == "").any():
        blank = int(np.flatnonzero(names == "")[0])
        mapping = np.where(mapping == blank, -1, mapping - (mapping > blank))
        names = np.delete(names, blank)
    new_codes = mapping[codes] if len(codes) else np.zeros(0, dtype=np.int64)
    return pd.Categorical.from_codes(new_codes, pd.Index(names, dtype=object))


def text_column(
    frame: pd.DataFrame, column: str | None, n: int, default: str = ""
) -> npt.NDArray[np.object_]:
    """A text column trimmed (object array, ``default`` for blank); all ``default`` when
    absent."""
    if column is None:
        return np.full(n, default, dtype=object)
    cells = stripped_codes(frame[column])
    labels = np.append(np.asarray(cells.categories, dtype=object), default)
    return np.asarray(labels[np.asarray(cells.codes)], dtype=object)  # code -1 -> ""


def dimension_keys(
    frame: pd.DataFrame, columns: Mapping[str, str], n: int
) -> dict[str, npt.NDArray[np.object_]]:
    """The fact dimensions the resolved ``columns`` hold (`DIMENSION_OF`: ad group -> segment,
    ``utm_content`` -> creative ...), each a trimmed text column (``""`` for a blank cell); a
    dimension with no column is left out, so the reader's facts carry only what it has."""
    out: dict[str, npt.NDArray[np.object_]] = {}
    for fieldname, dimension in DIMENSION_OF.items():
        if fieldname in columns and dimension not in out:
            out[dimension] = text_column(frame, columns[fieldname], n)
    return out


def field_columns(grid: Grid, cmap: ColumnMap) -> dict[str, str]:
    """Field -> `Grid.frame` column for the headers ``cmap`` matches (the leftmost of equals)."""
    found = cmap.resolve(grid.headers)
    names = list(grid.frame.columns)
    position = {h: i for i, h in reversed(list(enumerate(grid.headers)))}
    missing = [f for f in cmap.required if f not in found]
    if missing:
        raise InputError(
            f"{grid.path}: no {', '.join(missing)} column for map {cmap.name!r}; "
            f"saw {', '.join(repr(h) for h in grid.headers)}"
        )
    return {f: names[position[h]] for f, h in found.items()}


def quarantine_cells(
    grid: Grid, source: str, mask: Bools, column: str, reason: str
) -> pd.DataFrame:
    """One quarantine row per marked cell of ``column`` (its raw value and 1-based line)."""
    index = np.flatnonzero(mask)
    if not len(index):
        return empty_quarantine()
    raw: Any = ""
    if column in grid.frame:
        cells = grid.frame[column].to_numpy(dtype=object)[index]
        raw = np.array([v if isinstance(v, str) else cell_text(v) for v in cells], dtype=object)
    return pd.DataFrame(
        {
            "source": source,
            "file": str(grid.path),
            "line": grid.lines[index].astype(np.int64),
            "column": column,
            "value": raw,
            "reason": reason,
        },
        columns=list(QUARANTINE_COLUMNS),
    )


def expected_suffix(fmt: str) -> str:
    """`` (expected <fmt>)`` for a "not a date" reason; ``""`` when no format was found."""
    return f" (expected {fmt})" if fmt else ""


def flag_dates(
    grid: Grid,
    source: str,
    column: str,
    info: FileInfo,
    parts: list[pd.DataFrame],
    blank_reason: str = "date is blank",
) -> tuple[DateParse, Bools]:
    """Parse the required date ``column``: set ``info.date_format``, add the parse warnings,
    append the quarantine rows of its blank then unreadable cells to ``parts``; returns the
    parse and the rows to quarantine. A column proving both day/month orders is refused
    (`InputError` naming the file, the column and one line of each): no row of it can be
    trusted to the right day."""
    dates = parse_dates(grid.frame[column], what=column)
    if dates.conflict is not None:
        (i, a), (j, b) = dates.conflict.day_first, dates.conflict.month_first
        raise InputError(
            f"{grid.path}: column {column!r} mixes day/month orders: line {grid.lines[i]} "
            f"{a!r} can only be day first, line {grid.lines[j]} {b!r} only month first; "
            "export the dates in one format"
        )
    info.date_format = dates.format
    info.warnings.extend(dates.warnings)
    parts.append(quarantine_cells(grid, source, dates.blank, column, blank_reason))
    reason = f"is not a date{expected_suffix(dates.format)}"
    parts.append(quarantine_cells(grid, source, dates.bad, column, reason))
    return dates, dates.blank | dates.bad


def last_duplicates(codes: Ints, bad: Bools) -> Bools:
    """Rows whose key ``codes`` repeats in a later row (the LAST of each key is kept); rows
    marked ``bad`` and rows without a key (code < 0) take no part."""
    duplicate = np.zeros(len(codes), dtype=bool)
    candidates = np.flatnonzero(~bad & (codes >= 0))
    repeated = pd.Series(codes[candidates]).duplicated(keep="last").to_numpy(dtype=bool)
    duplicate[candidates[repeated]] = True
    return duplicate


def concat_quarantine(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_quarantine()
    out = pd.concat(parts, ignore_index=True)
    out["line"] = out["line"].astype(np.int64)
    return out.sort_values(["line", "column"], kind="stable").reset_index(drop=True)


def _category(value: Any, n: int) -> pd.Categorical:
    """A str-valued Categorical of length ``n`` from a scalar or an array of strings."""
    if isinstance(value, pd.Categorical):
        return value
    if np.isscalar(value) or value is None:
        one = pd.Index([str(value or "")], dtype=object)
        return pd.Categorical.from_codes(np.zeros(n, dtype=np.int64), one)
    codes, uniques = pd.factorize(np.asarray(value, dtype=object))
    return pd.Categorical.from_codes(codes, pd.Index(np.asarray(uniques, dtype=object)))


def _blank_missing(value: Any) -> Any:
    """A dimension's values with missing cells as ``""`` (a Categorical's too)."""
    if isinstance(value, pd.Categorical):
        value = np.asarray(value.astype(object), dtype=object)
    if np.isscalar(value) or value is None:
        return value
    array = np.asarray(value, dtype=object)
    return np.where(pd.isna(array), "", array)


def long_facts(
    dates: npt.NDArray[np.datetime64],
    source: str,
    keys: Mapping[str, Any],
    metrics: Mapping[str, Floats],
    basis: str,
    *,
    aggregate: bool,
) -> pd.DataFrame:
    """`FACT_COLUMNS` rows, one per (row, metric); summed per key when ``aggregate``.
    The `DIMENSIONS` that ``keys`` holds come after them (a missing cell is ``""``, never
    dropped by the sum).

    The text columns are pandas Categoricals of str (cheap for millions of rows; compare,
    group and ``.astype(str)`` them as usual).
    """
    n = len(dates)
    names = list(metrics)
    if not n or not names:
        return empty_facts()
    k = len(names)
    day = np.asarray(dates, dtype="datetime64[ns]").astype("datetime64[D]").astype("M8[ns]")
    total = n * k
    data: dict[str, Any] = {"date": np.tile(day, k), "source": _category(source, total)}
    for name in ("utm_source", "utm_medium", "utm_campaign"):
        one = _category(keys.get(name, ""), n)
        data[name] = pd.Categorical.from_codes(np.tile(one.codes, k), one.categories)
    data["metric"] = pd.Categorical.from_codes(
        np.repeat(np.arange(k, dtype=np.int64), n), pd.Index(names, dtype=object)
    )
    data["basis"] = _category(basis, total)
    data["value"] = np.concatenate([np.asarray(metrics[m], dtype=np.float64) for m in names])
    dims = [d for d in DIMENSIONS if d in keys]  # the breakdown the input has (issue 15)
    for name in dims:
        one = _category(_blank_missing(keys[name]), n)
        data[name] = pd.Categorical.from_codes(np.tile(one.codes, k), one.categories)
    columns = [*FACT_COLUMNS, *dims]
    frame = pd.DataFrame(data, columns=columns)
    if aggregate:
        group = ["date", "source", "utm_source", "utm_medium", "utm_campaign", "metric", "basis"]
        group += dims
        summed = frame.groupby(group, sort=True, observed=True, as_index=False)["value"].sum()
        frame = pd.DataFrame(summed)[columns]
    return frame


def sums(metrics: Mapping[str, Floats], mask: Bools) -> dict[str, float]:
    """Per metric, the sum of the readable values in the marked rows."""
    out: dict[str, float] = {}
    if not mask.any():
        return out
    for name, values in metrics.items():
        chosen = values[mask]
        if np.isfinite(chosen).any():
            out[name] = float(np.nansum(chosen))
    return out


def tally(info: FileInfo, metrics: Mapping[str, Floats], bad: Bools, duplicate: Bools) -> None:
    """Set ``info``'s row counts and per-metric totals: accepted (neither ``bad`` nor
    ``duplicate``), quarantined and duplicate rows."""
    keep = ~bad & ~duplicate
    info.rows_quarantined = int(bad.sum())
    info.duplicates = int(duplicate.sum())
    info.rows_ok = int(keep.sum())
    info.totals = {m: float(np.nansum(v[keep])) for m, v in metrics.items()}
    info.quarantined_totals = sums(metrics, bad)
    info.duplicate_totals = sums(metrics, duplicate)


def date_window(info: FileInfo, facts: pd.DataFrame) -> None:
    """Set ``info.date_from`` / ``date_to`` to the span of every fact date (all bases)."""
    if len(facts):
        dates = facts["date"]
        info.date_from = pd.Timestamp(dates.min()).date()
        info.date_to = pd.Timestamp(dates.max()).date()
