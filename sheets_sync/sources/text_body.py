"""The rows of a text export, block by block: parsed with pandas' C reader, numbered with
their file lines, and joined into one compact frame.

Decisions:

* a block's text columns are kept as codes into the distinct cell texts (`pd.factorize`);
  the joined column is an object array whose cells point at one shared ``str`` per distinct
  text, so a date, campaign or UTM column of 4 M rows costs 8 bytes a row, not ~60;
* number columns the C parser read whole stay float64 (blank = NaN); a block where some cell
  is not a plain number keeps that column as text, and the joined column mixes floats and
  texts as pandas' own chunked reading did (`parse_numbers` reads both);
* a block with more fields in some row than the header gets ``extra N`` columns; blocks
  without them get ``""`` there.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from planning.errors import InputError

__all__ = ["BodyParts", "block_lines", "parse_block", "retype_numbers"]

Ints = npt.NDArray[np.int64]


def parse_block(
    data: bytes,
    delimiter: str,
    names: list[str],
    number_names: list[str],
    decimal: str,
    blank: list[str],
) -> pd.DataFrame:
    """The rows of ``data`` (UTF-8): strings, and float64 for the number columns the C parser
    reads whole; extra fields go to ``extra N`` columns (strings)."""
    width = len(names)
    columns = list(names)
    for _ in range(50):
        try:
            with warnings.catch_warnings():  # mixed chunks of a number column: handled after
                warnings.simplefilter("ignore", pd.errors.DtypeWarning)
                frame = _read_body(data, delimiter, columns, number_names, blank, decimal)
            break
        except pd.errors.EmptyDataError:
            frame = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
            break
        except pd.errors.ParserError as exc:
            match = re.search(r"saw (\d+)", str(exc))
            if match is None:
                raise
            seen = int(match.group(1))
            start = len(columns) - width + 1
            columns = columns + [f"extra {i}" for i in range(start, seen - width + 1)]
    else:  # pragma: no cover - 50 different widths
        raise InputError("rows have too many different numbers of fields")
    short = bool(len(frame)) and bool(frame[frame.columns[-1]].isna().any())
    for column in frame.columns:
        if frame[column].dtype.kind == "b":  # "TRUE"/"FALSE" in a number column
            frame[column] = frame[column].astype(object).astype(str)
        elif frame[column].dtype.kind not in "fiu" and (short or column in number_names):
            frame[column] = frame[column].fillna("")  # short rows, blank number cells
    return frame


def _read_body(
    data: bytes,
    delimiter: str,
    columns: list[str],
    number_names: list[str],
    blank: list[str],
    decimal: str,
) -> pd.DataFrame:
    return pd.read_csv(
        io.BytesIO(data),
        encoding="utf-8",
        sep=delimiter,
        header=None,
        names=columns,
        dtype={c: object for c in columns if c not in number_names},
        na_values={c: blank for c in number_names},
        keep_default_na=False,
        na_filter=bool(number_names),
        skip_blank_lines=False,
        decimal=decimal,
        engine="c",
        quotechar='"',
        index_col=False,
    )


def retype_numbers(
    frame: pd.DataFrame, number_names: list[str], decimal: str, blank: list[str]
) -> pd.DataFrame:
    """The number columns the C parser left as text only because of a row since removed (a
    totals row, a note): their text cells read again with the same options, the column
    float64 if every one now reads (else it is left as it was)."""
    for name in number_names:
        if name not in frame or frame[name].dtype.kind in "fiu" or not len(frame):
            continue
        values = frame[name].to_numpy(dtype=object)
        is_text = np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=len(values))
        numbers = values[~is_text]
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in numbers):
            continue
        again = _reread(values[is_text], decimal, blank)
        if again is not None:
            out = np.empty(len(values), dtype=np.float64)
            out[~is_text] = numbers.astype(np.float64)
            out[is_text] = again
            frame[name] = out
    return frame


def _reread(texts: npt.NDArray[Any], decimal: str, blank: list[str]) -> npt.NDArray[Any] | None:
    """``texts`` read by the C parser as one number column; None unless every cell reads."""
    if not len(texts):
        return np.zeros(0, dtype=np.float64)
    joined = "\n".join(texts)
    if '"' in joined or "\x1f" in joined or joined.count("\n") != len(texts) - 1:
        return None
    try:
        again = pd.read_csv(
            io.StringIO(joined + "\n"),
            sep="\x1f",
            header=None,
            names=["v"],
            na_values=blank,
            keep_default_na=False,
            skip_blank_lines=False,
            decimal=decimal,
            engine="c",
        )["v"]
    except (pd.errors.ParserError, pd.errors.EmptyDataError):
        return None
    if len(again) != len(texts) or again.dtype.kind not in "fiu":
        return None
    return again.to_numpy(dtype=np.float64)


def block_lines(data: bytes, frame: pd.DataFrame, first_line: int) -> Ints:
    """The 1-based file line of each row of ``frame`` (parsed from ``data``, whose first row
    is on ``first_line``)."""
    n = len(frame)
    physical = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    lines = first_line + np.arange(n, dtype=np.int64)
    if physical <= n or n == 0:
        return lines
    # quoted fields span lines: shift each row by the line breaks inside the rows above it
    inside = np.zeros(n, dtype=np.int64)
    for column in frame.columns:
        cells = frame[column]
        if pd.api.types.is_string_dtype(cells.dtype):  # object or str; numbers hold no breaks
            inside += cells.str.count("\n").fillna(0).to_numpy(dtype=np.int64)
    shift = np.concatenate(([0], np.cumsum(inside)[:-1]))
    return lines + shift


@dataclass
class _Column:
    """One column's blocks: texts as codes into its distinct texts, anything else as is."""

    index: dict[str, int] = field(default_factory=dict)
    parts: list[tuple[int, npt.NDArray[Any], bool]] = field(default_factory=list)
    """(block, codes or values, whether they are codes)."""

    def add_texts(self, block: int, cells: npt.NDArray[np.object_]) -> None:
        codes, uniques = pd.factorize(cells, use_na_sentinel=False)
        to_global = np.fromiter(
            (self.index.setdefault(u, len(self.index)) for u in uniques),
            dtype=np.int64,
            count=len(uniques),
        )
        small = len(self.index) < 2**31
        self.parts.append((block, to_global[codes].astype(np.int32 if small else np.int64), True))

    def values(self, n: int, starts: Ints, blocks: int) -> npt.NDArray[Any]:
        whole = [b for b, _, _ in self.parts] == list(range(blocks))
        if whole and not any(coded for _, _, coded in self.parts):
            arrays = [v for _, v, _ in self.parts]
            if all(a.dtype.kind in "fiu" for a in arrays):
                return np.concatenate(arrays)
        texts = np.empty(len(self.index), dtype=object)
        texts[:] = list(self.index)
        if whole and all(coded for _, _, coded in self.parts):
            return texts[np.concatenate([v for _, v, _ in self.parts])]
        out = np.full(n, "", dtype=object)
        for block, part, coded in self.parts:
            at = int(starts[block])
            out[at : at + len(part)] = texts[part] if coded else part.astype(object)
        return out


@dataclass
class BodyParts:
    """The blocks' frames joined column by column, without keeping each cell's string."""

    sizes: list[int] = field(default_factory=list)
    columns: dict[str, _Column] = field(default_factory=dict)

    def add(self, frame: pd.DataFrame) -> None:
        """One block's rows (after its blank rows, totals and notes are removed)."""
        block = len(self.sizes)
        for name in frame.columns:
            column = self.columns.setdefault(name, _Column())
            cells = frame[name]
            if cells.dtype.kind in "fiu":
                column.parts.append((block, cells.to_numpy(), False))
                continue
            values = cells.to_numpy(dtype=object)
            if pd.api.types.infer_dtype(values, skipna=False) in ("string", "empty"):
                column.add_texts(block, values)
            else:  # numbers among texts
                column.parts.append((block, values, False))
        self.sizes.append(len(frame))

    def frame(self) -> pd.DataFrame:
        """The joined frame: columns in first-seen order, ``""`` where a block lacked one."""
        starts = np.concatenate(([0], np.cumsum(self.sizes, dtype=np.int64)))
        n = int(starts[-1])
        data: dict[str, pd.Series] = {}
        for name in list(self.columns):
            values = self.columns.pop(name).values(n, starts, len(self.sizes))
            data[name] = pd.Series(values, dtype=values.dtype, copy=False)  # object stays object
        return pd.DataFrame(data, columns=list(data), copy=False)
