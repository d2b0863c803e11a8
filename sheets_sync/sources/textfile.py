"""Reading exported tables (CSV or XLSX) into a grid of strings.

Every source reader (ad platforms, call tracking, CRM) starts here:

`read_grid`
    decodes the file (UTF-8 with or without BOM, UTF-16 with BOM, else cp1251), sniffs the
    delimiter (``;``, ``,``, tab), finds the header row below any report title / date-range
    lines, reads the table with pandas' C parser as strings, keeps each row's 1-based file line
    (sheet row for XLSX), and splits off totals rows ("Итого", "Всего", "Total: Account" …) and
    trailing note lines; given a `SheetRows` (a Google Sheet tab's cell values, already read)
    it builds the same `Grid` through `grid_from_rows`.

The messages of `planning.errors.InputError` raised here (missing, empty or unrecognised file)
name the file.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import openpyxl
import pandas as pd

from planning.errors import InputError
from sheets_sync.cells import cell_text, is_blank
from sheets_sync.facts import FileInfo
from sheets_sync.sources.text_blocks import (
    HEAD_LINES,
    LINE_LIMIT,
    body_blocks,
    head_line_too_long,
    head_lines,
    sniff_encoding,
    utf8_pieces,
)
from sheets_sync.sources.text_body import BodyParts, block_lines, parse_block, retype_numbers

__all__ = [
    "BLANK_MARKERS",
    "HEAD_LINES",
    "Grid",
    "SheetRows",
    "cell_texts",
    "find_header",
    "grid_from_rows",
    "head_rows",
    "read_grid",
    "seen_cells",
]

Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

DELIMITERS: tuple[str, ...] = (";", ",", "\t", "|")
BLANK_MARKERS: frozenset[str] = frozenset(
    {"", "-", "--", "—", "–", "n/a", "N/A", "NA", "н/д", "Н/Д", "null", "NULL", "None"}
)
"""Cells that mean "no value" (platforms write ``--`` for an undefined or zero figure)."""
_BLANK = sorted(BLANK_MARKERS)


@dataclass
class Grid:
    """A file's table as strings: one column per header, each row's 1-based file line.

    Number columns may instead hold float64 (blank = NaN): a CSV's number columns that pandas'
    C parser read whole, and a sheet's number columns (`grid_from_rows`), where cells the sheet
    holds as numbers stay numbers (floats among the texts when the column mixes both)."""

    path: Path | str
    """The file, or for a sheet read through an API its label (``gsheet:<id>!<tab>``)."""
    headers: list[str]
    """The header cells as written (trimmed); `frame` columns are these, made unique."""
    frame: pd.DataFrame
    """Data rows (strings, ``""`` for empty), totals and note lines removed."""
    lines: Ints
    """1-based line (CSV) or sheet row (XLSX) of each `frame` row."""
    encoding: str = ""
    delimiter: str = ""
    header_line: int = 0
    totals: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Totals rows ("Итого", "Total: Account"), same columns as `frame`."""
    totals_lines: Ints = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    warnings: list[str] = field(default_factory=list)
    decimal: str = "."
    """The decimal separator to assume for a lone ``1,234``: ``","`` for ``;``-separated or
    Cyrillic-headed files, else ``"."``."""

    def info(self, source: str, kind: str, platform: str = "") -> FileInfo:
        return FileInfo(
            path=str(self.path),
            source=source,
            kind=kind,
            platform=platform,
            encoding=self.encoding,
            delimiter=self.delimiter,
            header_line=self.header_line,
            rows_read=len(self.frame),
            warnings=list(self.warnings),
        )


HeaderTest = Callable[[list[str]], bool]
NumericTest = Callable[[list[str]], Iterable[str]]


@dataclass(frozen=True)
class SheetRows:
    """A table already read as cell values, row by row from the sheet's row 1: what the Google
    Sheets API returns for a tab with ``valueRenderOption=UNFORMATTED_VALUE`` and
    ``dateTimeRenderOption=FORMATTED_STRING`` (numbers as int/float, text as str, dates as
    their formatted text, booleans as bool, empty cells ``""`` or missing at a row's end).
    Readers take it in place of a file path (`read_grid` hands it to `grid_from_rows`)."""

    rows: Sequence[Sequence[Any]]
    where: str
    """What messages and the quarantine call the input, e.g. ``gsheet:<id>!<tab>``."""


def read_grid(
    path: Path | str | SheetRows,
    is_header: HeaderTest,
    *,
    what: str = "export",
    numeric: NumericTest | None = None,
) -> Grid:
    """Read ``path`` (CSV/TSV/TXT or XLSX by suffix) into a `Grid`; a `SheetRows` goes to
    `grid_from_rows` (same header search, totals rows and line numbers: sheet rows).

    ``is_header`` tells the header row from report lines above it. ``numeric(headers)`` names
    the headers of number columns: in a CSV those are handed to pandas' C number parser
    directly (float64 columns, blank cells NaN); a column with any cell it cannot read comes
    back as strings for `parse_numbers`. Every other column is read as strings.

    Raises `InputError` when the file is missing or empty, or no row in its first lines is a
    recognised header (the message names the file and the cells of the row that looked most
    like one).
    """
    if isinstance(path, SheetRows):
        return grid_from_rows(path.rows, is_header, where=path.where, what=what, numeric=numeric)
    path = Path(path)
    if not path.exists():
        raise InputError(f"{what} file not found: {path}")
    if path.is_dir():
        raise InputError(f"{what} path is a folder, not a file: {path}")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, is_header, what)
    return _read_text(path, is_header, what, numeric)


def head_rows(path: Path | str, limit: int = HEAD_LINES) -> list[list[str]]:
    """The first ``limit`` rows of a file as cells, for every plausible delimiter (rows of
    all of them concatenated; XLSX: the first sheet's rows). For sniffing what a file is."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"file not found: {path}")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:
            raise InputError(f"{path}: not a readable xlsx workbook ({exc})") from exc
        try:
            rows = book.worksheets[0].iter_rows(min_row=1, max_row=limit, values_only=True)
            return [[cell_text(v) for v in row] for row in rows]
        finally:
            book.close()
    _, data, pieces = _read_head(path, "")
    head, _, long_line = head_lines(data, limit)
    if long_line >= 0:  # only the lines above it can be the header
        head = head[:long_line]
        if not any(len(_split_cells(line, d)) > 1 for line in head for d in DELIMITERS):
            raise head_line_too_long(path, data, pieces, long_line)
    out: list[list[str]] = []
    for delimiter in DELIMITERS:
        if any(delimiter in line for line in head):
            out.extend(_split_cells(line, delimiter) for line in head)
    return out


def _split_cells(line: str, delimiter: str) -> list[str]:
    try:
        row = next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        row = line.split(delimiter)
    return [cell.strip() for cell in row]


def _unique_names(headers: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    names: list[str] = []
    for i, header in enumerate(headers):
        name = header if header else f"column {i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    return names


def find_header(rows: Sequence[Sequence[str]], is_header: HeaderTest) -> int | None:
    """The index of the first row of two or more cells that `is_header` accepts (the header
    below any report title lines), or None."""
    for i, cells in enumerate(rows):
        if len(cells) > 1 and is_header(list(cells)):
            return i
    return None


def seen_cells(rows: Sequence[Sequence[str]]) -> str:
    """The filled cells of the widest row, for a message about an unrecognised header."""
    widest = max(rows, key=lambda r: sum(1 for c in r if c), default=[])
    return ", ".join(repr(c) for c in widest if c) or "nothing"


def _find_header(
    rows_by_delimiter: Mapping[str, list[list[str]]], is_header: HeaderTest
) -> tuple[str, int] | None:
    for delimiter, rows in rows_by_delimiter.items():
        found = find_header(rows, is_header)
        if found is not None:
            return delimiter, found
    return None


def _unrecognised(path: Path | str, rows: list[list[str]], what: str) -> InputError:
    seen = seen_cells(rows)
    return InputError(f"{path}: no recognised {what} header in the first lines; saw {seen}")


def _read_head(path: Path, what: str) -> tuple[str, bytes, Iterator[bytes]]:
    """The encoding, the UTF-8 text of the first `HEAD_LINES` lines (or more) and the rest of
    the text as pieces; refuses an empty file."""
    encoding = sniff_encoding(path)
    pieces = utf8_pieces(path, encoding)
    head = b""
    for piece in pieces:
        head += piece
        if head.count(b"\n") >= HEAD_LINES or len(head) > LINE_LIMIT:
            break
    blank = not head.decode("utf-8", errors="replace").strip("\ufeff \r\n\t")
    if blank and not any(p.strip() for p in pieces):
        raise InputError(f"{path}: the {what + ' ' if what else ''}file is empty")
    return encoding, head, pieces


def _read_text(
    path: Path,
    is_header: HeaderTest,
    what: str,
    numeric: Callable[[list[str]], Iterable[str]] | None,
) -> Grid:
    encoding, data, pieces = _read_head(path, what)
    head, _, long_line = head_lines(data, HEAD_LINES)
    if long_line >= 0:  # a line over HEADER_LIMIT: the header is above it or nowhere
        head = head[:long_line]
    counts = {d: sum(line.count(d) for line in head) for d in DELIMITERS}
    order = sorted(DELIMITERS, key=lambda d: -counts[d])
    rows_by_delimiter = {d: [_split_cells(line, d) for line in head] for d in order if counts[d]}
    found = _find_header(rows_by_delimiter, is_header)
    if found is None and long_line >= 0:
        raise head_line_too_long(path, data, pieces, long_line)
    if found is None:
        best = rows_by_delimiter.get(order[0]) or [[line] for line in head]
        raise _unrecognised(path, best, what)
    delimiter, index = found
    headers = rows_by_delimiter[delimiter][index]
    names = _unique_names(headers)
    _, offset, _ = head_lines(data, index + 1)
    cyrillic = any(re.search("[а-яё]", h, re.IGNORECASE) for h in headers)
    decimal = "," if delimiter == ";" or cyrillic else "."
    wanted = set(numeric(headers)) if numeric is not None else set()
    number_names = [name for name, header in zip(names, headers, strict=True) if header in wanted]
    header_line = index + 1
    grid = Grid(path, headers, pd.DataFrame(), np.zeros(0, dtype=np.int64), encoding, delimiter)
    grid.header_line, grid.decimal = header_line, decimal
    parts = BodyParts()
    lines: list[Ints] = []
    totals: list[Grid] = []
    body = itertools.chain([data[offset:]], pieces)
    for block in body_blocks(body, path, header_line + 1):
        frame = parse_block(block.data, delimiter, names, number_names, decimal, _BLANK)
        piece = Grid(path, headers, frame, block_lines(block.data, frame, block.first_line))
        piece = _tidy(piece, first_block=block.first, last_block=block.last)
        parts.add(retype_numbers(piece.frame, number_names, decimal, _BLANK))
        lines.append(piece.lines)
        totals.append(piece)
        grid.warnings.extend(piece.warnings)
    grid.frame = parts.frame()
    grid.lines = np.concatenate(lines)
    grid.totals_lines = np.concatenate([t.totals_lines for t in totals])
    columns = list(grid.frame.columns)
    found_totals = [t.totals.reindex(columns=columns, fill_value="") for t in totals]
    if any(len(t) for t in found_totals):
        grid.totals = _as_frame_types(
            pd.concat([t for t in found_totals if len(t)], ignore_index=True), grid.frame
        )
    return grid


def _as_frame_types(totals: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """Totals rows' cells as the whole file's reading would give them: text in a column read
    as text (a block may have read its totals row's cells as numbers)."""
    for column in totals.columns:
        if frame[column].dtype == object and totals[column].dtype != object:
            totals[column] = [cell_text(v) for v in totals[column].tolist()]
    return totals


def _read_xlsx(path: Path, is_header: HeaderTest, what: str) -> Grid:
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise InputError(f"{path}: not a readable xlsx workbook ({exc})") from exc
    try:
        sheet = book.worksheets[0]
        rows = [[cell_text(v) for v in row] for row in sheet.iter_rows(min_row=1, values_only=True)]
    finally:
        book.close()
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise InputError(f"{path}: the {what} workbook's first sheet is empty")
    head = rows[:HEAD_LINES]
    index = find_header(head, is_header)
    if index is None:
        raise _unrecognised(path, head, what)
    headers = head[index]
    while headers and not headers[-1]:
        headers = headers[:-1]
    names = _unique_names(headers)
    width = len(names)
    body = rows[index + 1 :]
    extra = max((len(r) for r in body), default=width) - width
    names += [f"extra {i + 1}" for i in range(max(extra, 0))]
    padded = [r + [""] * (len(names) - len(r)) for r in body]
    frame = (
        pd.DataFrame(padded, columns=names, dtype=str)
        if padded
        else pd.DataFrame({c: pd.Series(dtype=str) for c in names})
    )
    grid = Grid(
        path=path,
        headers=headers,
        frame=frame.fillna(""),
        lines=index + 2 + np.arange(len(frame), dtype=np.int64),
        encoding="xlsx",
        delimiter="",
        header_line=index + 1,
    )
    cyrillic = any(re.search("[а-яё]", h, re.IGNORECASE) for h in headers)
    grid.decimal = "," if cyrillic else "."
    return _tidy(grid)


def grid_from_rows(
    rows: Sequence[Sequence[Any]],
    is_header: HeaderTest,
    *,
    where: str,
    what: str = "export",
    numeric: NumericTest | None = None,
) -> Grid:
    """The `Grid` of a table already read as cell values (`SheetRows`): ``rows[0]`` is sheet
    row 1, so a row's line is its sheet row.

    The header is searched like an XLSX sheet's (texts of the first `HEAD_LINES` rows); blank
    rows, totals rows and trailing notes go as in a file. In the columns ``numeric(headers)``
    names, a cell the sheet holds as a number stays a number: the column is float64 (blank or
    ``--`` cells NaN) when every cell is a number, else it keeps the numbers as floats among
    the texts, and `parse_numbers` takes them as they are (no decimal-comma rule is applied
    to a number, only to a number written as text). Every other cell becomes text (2026.0 ->
    ``"2026"``, True -> ``"TRUE"``). ``decimal`` is ``","`` under a Cyrillic header, as for
    XLSX.
    """
    label = where or "sheet"
    body_rows = [list(r) if r is not None else [] for r in rows]
    while body_rows and all(is_blank(v) for v in body_rows[-1]):
        body_rows.pop()
    if not body_rows:
        raise InputError(f"{label}: the {what} sheet is empty")
    head = [[_sheet_text(v) for v in r] for r in body_rows[:HEAD_LINES]]
    index = find_header(head, is_header)
    if index is None:
        raise _unrecognised(label, head, what)
    headers = head[index]
    while headers and not headers[-1]:
        headers = headers[:-1]
    names = _unique_names(headers)
    width = len(names)
    body = body_rows[index + 1 :]
    extra = max((len(r) for r in body), default=width) - width
    names += [f"extra {i + 1}" for i in range(max(extra, 0))]
    wanted = set(numeric(headers)) if numeric is not None else set()
    number_names = {name for name, header in zip(names, headers, strict=False) if header in wanted}
    columns: dict[str, Any] = {}
    for j, name in enumerate(names):
        cells = [r[j] if j < len(r) else "" for r in body]
        if name in number_names:
            columns[name] = _number_cells(cells)
        else:
            columns[name] = pd.Series([_sheet_text(v) for v in cells], dtype=object)
    frame = pd.DataFrame(columns, columns=names)
    if not len(body):
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in names})
    grid = Grid(
        path=label,
        headers=headers,
        frame=frame,
        lines=index + 2 + np.arange(len(frame), dtype=np.int64),
        encoding="",
        delimiter="",
        header_line=index + 1,
    )
    cyrillic = any(re.search("[а-яё]", h, re.IGNORECASE) for h in headers)
    grid.decimal = "," if cyrillic else "."
    return _tidy(grid)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def cell_texts(row: Sequence[Any]) -> list[str]:
    """A row of sheet cell values as the texts a file would hold (see `grid_from_rows`)."""
    return [_sheet_text(v) for v in row]


def _sheet_text(value: Any) -> str:
    """A sheet cell as the text a file would hold (booleans as the sheet shows them)."""
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    return cell_text(value)


def _number_cells(cells: list[Any]) -> pd.Series:
    """A number column of a sheet: float64 when every cell is a number or blank, else object
    with the numbers as floats and the rest as text (blank ``""``)."""
    texts = [
        v
        for v in cells
        if not _is_number(v) and not is_blank(v) and str(v).strip() not in BLANK_MARKERS
    ]
    if not texts:
        return pd.Series([float(v) if _is_number(v) else np.nan for v in cells], dtype=np.float64)
    return pd.Series([float(v) if _is_number(v) else _sheet_text(v) for v in cells], dtype=object)


_TOTALS = re.compile(r"(?:итого|всего|итог|grand\s+total|totals?)\b", re.IGNORECASE)
_SEP = "\x1e"
"""Joins a column's cells into one string so C-level string methods and regexes run once."""


def _objects(values: pd.Series | npt.NDArray[Any]) -> npt.NDArray[np.object_]:
    """The cells as an object array of str (``""`` for missing)."""
    if isinstance(values, pd.Series):
        array = values.to_numpy(dtype=object, na_value="")
    else:
        array = np.asarray(values, dtype=object)
    if len(array) and not all(isinstance(v, str) for v in array[:50]):
        array = np.array([cell_text(v) for v in array], dtype=object)
    return array


def _edge_rows(n: int, first: bool = True, last: bool = True) -> Ints:
    """Rows where totals rows are looked for: the first 10 and the last 50 data rows (of a
    block of a text file: the first 10 in the first block, the last 50 in the last)."""
    head = np.arange(min(n, 10) if first else 0)
    tail = np.arange(max(n - 50, 0), n) if last else np.zeros(0, dtype=np.int64)
    return np.unique(np.concatenate([head, tail]).astype(np.int64))


def _tidy(grid: Grid, *, first_block: bool = True, last_block: bool = True) -> Grid:
    """Drop blank rows, split off totals rows and trailing one-cell note lines (of a block
    of a text file: totals in its first 10 rows when ``first_block``, in its last 50 and the
    trailing notes when ``last_block``)."""
    frame = grid.frame
    if frame.empty:
        return grid
    data_columns = [c for c in frame.columns if not str(c).startswith("extra ")]
    filled = np.zeros(len(frame), dtype=np.int64)
    for column in frame.columns:
        cells = frame[column]
        if cells.dtype.kind in "fiu":
            filled += cells.notna().to_numpy(dtype=np.int64)
        else:
            filled += (cells.to_numpy(dtype=object) != "").astype(np.int64)
    first = _objects(frame[data_columns[0]])
    second = _objects(frame[data_columns[1]]) if len(data_columns) > 1 else None
    totals = np.zeros(len(frame), dtype=bool)
    for i in _edge_rows(len(frame), first_block, last_block):
        label = str(first[i]).strip()
        if not label and second is not None:
            label = str(second[i]).strip()
        totals[i] = _TOTALS.match(label) is not None
    notes = np.zeros(len(frame), dtype=bool)
    wide = np.flatnonzero((filled > 1) & ~totals)
    last_data = int(wide[-1]) if len(wide) else -1
    if last_block:
        notes[last_data + 1 :] = filled[last_data + 1 :] <= 1
    notes &= ~totals
    keep = (filled > 0) & ~totals & ~notes
    for i in np.flatnonzero(notes & (filled > 0))[:5]:
        text = next((str(v) for v in frame.iloc[i] if str(v).strip()), "")
        grid.warnings.append(f"line {grid.lines[i]}: note below the table ignored: {text!r}")
    grid.totals = frame.loc[totals].reset_index(drop=True)
    grid.totals_lines = grid.lines[totals]
    if keep.all():
        return grid
    kept = np.flatnonzero(keep)
    if len(kept) and kept[-1] - kept[0] + 1 == len(kept):  # one block: slice, no copy
        grid.frame = frame.iloc[kept[0] : kept[-1] + 1].reset_index(drop=True)
    else:
        grid.frame = frame.loc[keep].reset_index(drop=True)
    grid.lines = grid.lines[keep]
    return grid
