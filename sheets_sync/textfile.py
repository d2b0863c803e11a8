"""Reading exported tables (CSV or XLSX) into a grid of strings, and parsing its cells.

Every source reader (ad platforms, call tracking, CRM) starts here:

`read_grid`
    decodes the file (UTF-8 with or without BOM, UTF-16 with BOM, else cp1251), sniffs the
    delimiter (``;``, ``,``, tab), finds the header row below any report title / date-range
    lines, reads the table with pandas' C parser as strings, keeps each row's 1-based file line
    (sheet row for XLSX), and splits off totals rows ("Итого", "Всего", "Total: Account" …) and
    trailing note lines; given a `SheetRows` (a Google Sheet tab's cell values, already read)
    it builds the same `Grid` through `grid_from_rows`;
`parse_numbers`, `parse_dates`, `parse_durations`, `parse_flags`
    vectorised cell parsers: decimal comma or point, spaces / NBSP / narrow-NBSP / apostrophe
    thousands, currency signs and words (₽ $ € руб. RUB …), ``"--"`` and ``""`` as blank,
    ``12,5%``, ``(12.50)``; dates in one format per column (dd.mm.yyyy, yyyy-mm-dd, dd/mm/yyyy,
    mm/dd/yyyy only when the file proves it, "1 ноября 2026", "Nov 1, 2026", with an optional
    time). A cell that cannot be read is marked, never raised: readers quarantine its row;
`ColumnMap`, `SourceOptions`
    which header is which field, and how a source's money is normalised.

The messages of `planning.errors.InputError` raised here (missing, empty or unrecognised file)
name the file; per-cell problems go to the quarantine frame with the line and column.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from planning.errors import InputError
from sheets_sync.rows import (
    FACT_COLUMNS,
    MONEY,
    QUARANTINE_COLUMNS,
    FileInfo,
    empty_facts,
    empty_quarantine,
)

__all__ = [
    "BLANK_MARKERS",
    "ColumnMap",
    "DateParse",
    "Grid",
    "SheetRows",
    "SourceOptions",
    "cell_texts",
    "concat_quarantine",
    "date_window",
    "field_columns",
    "grid_from_rows",
    "head_rows",
    "long_facts",
    "normalise_header",
    "parse_dates",
    "parse_durations",
    "parse_flags",
    "parse_numbers",
    "quarantine_cells",
    "read_grid",
    "stripped_codes",
    "sums",
    "text_column",
]

Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

HEAD_LINES = 60
"""Lines searched for the header row (report title lines above it included)."""
DELIMITERS: tuple[str, ...] = (";", ",", "\t", "|")
BLANK_MARKERS: frozenset[str] = frozenset(
    {"", "-", "--", "—", "–", "n/a", "N/A", "NA", "н/д", "Н/Д", "null", "NULL", "None"}
)
"""Cells that mean "no value" (platforms write ``--`` for an undefined or zero figure)."""


# --------------------------------------------------------------------------------------------
# Column maps and source options


def normalise_header(text: object) -> str:
    """Header text compared case-insensitively: BOM, quotes, NBSP and repeated spaces removed."""
    value = "" if text is None else str(text)
    value = value.replace("\ufeff", "").replace("\u00a0", " ").replace("\u202f", " ")
    value = re.sub(r"\s+", " ", value).strip().strip('"').strip()
    return value.casefold()


_PAREN_SUFFIX = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]\s*$")


@dataclass(frozen=True)
class ColumnMap:
    """Which header holds which field: ``columns`` maps a field to its header aliases.

    An alias matches a header case-insensitively (spaces normalised), also when the header adds
    a bracketed suffix ("Расход (руб.)" matches "Расход", "Cost (RUB)" matches "Cost"). An alias
    starting with ``re:`` is a regular expression matched against the whole (case-folded)
    header. The first alias, in order, that some header matches wins; among headers matching
    one alias, the leftmost.

    Ad-export fields: ``date``, ``campaign`` (required), ``spend``, ``impressions``,
    ``clicks`` (alias ``traffic``), ``conversions`` (alias ``platform_leads``), ``group`` (an
    ad group / ad set column: rows are then summed per date and campaign instead of being
    duplicates), ``currency``, and optional ``utm_source`` / ``utm_medium`` columns that
    override the constants. Calls and CRM readers use their own field names (see their
    modules).
    """

    name: str
    columns: Mapping[str, tuple[str, ...]]
    utm_source: str = ""
    utm_medium: str = "cpc"
    required: tuple[str, ...] = ("date", "campaign")

    @classmethod
    def from_dict(
        cls,
        name: str,
        mapping: Mapping[str, Any],
        *,
        utm_source: str | None = None,
        utm_medium: str = "cpc",
        required: tuple[str, ...] = ("date", "campaign"),
    ) -> ColumnMap:
        """A configured map: ``{"date": "Дата", "spend": ["Spend", "Cost"], ...}``.

        Values are one header or a list of aliases. Field synonyms ``traffic`` -> ``clicks``
        and ``platform_leads`` -> ``conversions`` are accepted. ``utm_source`` defaults to the
        map's name.
        """
        columns: dict[str, tuple[str, ...]] = {}
        for key, value in mapping.items():
            fieldname = _FIELD_SYNONYMS.get(str(key).strip().lower(), str(key).strip().lower())
            if isinstance(value, str):
                aliases: tuple[str, ...] = (value,)
            elif isinstance(value, Iterable):
                aliases = tuple(str(v) for v in value)
            else:
                raise InputError(
                    "must be a header name or a list of header names",
                    line=name,
                    column=str(key),
                    value=value,
                )
            if not aliases or any(not a.strip() for a in aliases):
                raise InputError("has a blank header name", line=name, column=str(key), value=value)
            for alias in aliases:
                if alias.startswith("re:"):
                    try:
                        re.compile(alias[3:])
                    except re.error as exc:
                        raise InputError(
                            f"is not a valid regular expression ({exc})",
                            line=name,
                            column=str(key),
                            value=alias,
                        ) from exc
            columns[fieldname] = aliases
        missing = [f for f in required if f not in columns]
        if missing:
            raise InputError(
                f"column map has no {', '.join(missing)} (needs {', '.join(required)})",
                line=name,
            )
        return cls(
            name=name,
            columns=columns,
            utm_source=name if utm_source is None else utm_source,
            utm_medium=utm_medium,
            required=required,
        )

    def resolve(self, headers: Sequence[str]) -> dict[str, str]:
        """Field -> the header that holds it, for the fields found among ``headers``."""
        normal = [normalise_header(h) for h in headers]
        stripped = [_PAREN_SUFFIX.sub("", h) for h in normal]
        used: set[int] = set()
        found: dict[str, str] = {}
        for fieldname, aliases in self.columns.items():
            index = _match_alias(aliases, normal, stripped, used)
            if index is not None:
                used.add(index)
                found[fieldname] = headers[index]
        return found

    def matches(self, headers: Sequence[str]) -> bool:
        """Whether ``headers`` hold every required field and at least one other field."""
        found = self.resolve(headers)
        return all(f in found for f in self.required) and len(found) > len(self.required)


_FIELD_SYNONYMS = {"traffic": "clicks", "platform_leads": "conversions", "day": "date"}


def _match_alias(
    aliases: Sequence[str], normal: list[str], stripped: list[str], used: set[int]
) -> int | None:
    for alias in aliases:
        if alias.startswith("re:"):
            pattern = re.compile(alias[3:], re.IGNORECASE)
            for i, header in enumerate(normal):
                if i not in used and pattern.fullmatch(header):
                    return i
            continue
        key = normalise_header(alias)
        for candidates in (normal, stripped):
            for i, header in enumerate(candidates):
                if i not in used and header == key:
                    return i
    return None


@dataclass(frozen=True)
class SourceOptions:
    """How to read one data source: its name and how its money becomes account money."""

    source: str
    """The data source's name (config key); goes to the ``source`` column."""
    rate: float = 1.0
    """Money (spend, revenue) is multiplied by this: file currency -> account currency."""
    vat: float = 0.0
    """VAT rate, e.g. 0.2; spend is divided by ``1 + vat`` when `vat_included`."""
    vat_included: bool = False
    platform: str | None = None
    """Force a built-in column map by name; None = detect it from the header."""
    column_map: ColumnMap | None = None
    """A configured map; it overrides the built-ins."""

    def money_factor(self, metric: str) -> float:
        """What a file value of ``metric`` is multiplied by (rate, and VAT removal for spend)."""
        if metric not in MONEY:
            return 1.0
        factor = float(self.rate)
        if metric == "spend" and self.vat_included:
            factor /= 1.0 + float(self.vat)
        return factor


# --------------------------------------------------------------------------------------------
# The grid


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
    sheet: str = ""
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
    sheet: str = ""


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
        return grid_from_rows(
            path.rows, is_header, where=path.where, what=what, numeric=numeric, sheet=path.sheet
        )
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
        import openpyxl

        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:
            raise InputError(f"{path}: not a readable xlsx workbook ({exc})") from exc
        try:
            rows = book.worksheets[0].iter_rows(min_row=1, max_row=limit, values_only=True)
            return [[_cell_text(v) for v in row] for row in rows]
        finally:
            book.close()
    with path.open("rb") as handle:
        raw = handle.read(256 * 1024)
    if not raw.strip():
        raise InputError(f"{path}: the file is empty")
    text, _ = _decode(raw)
    head = [line.rstrip("\r") for line in text.split("\n", limit)[:limit]]
    out: list[list[str]] = []
    for delimiter in DELIMITERS:
        if any(delimiter in line for line in head):
            out.extend(_split_cells(line, delimiter) for line in head)
    return out


def _decode(raw: bytes) -> tuple[str, str]:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace").lstrip("\ufeff"), "utf-16"
    head = raw[:4000]
    if head and head.count(b"\x00") > len(head) // 4:
        encoding = "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be"
        return raw.decode(encoding, errors="replace"), encoding
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("cp1251", errors="replace"), "cp1251"


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


def _find_header(
    rows_by_delimiter: Mapping[str, list[list[str]]], is_header: HeaderTest
) -> tuple[str, int] | None:
    for delimiter, rows in rows_by_delimiter.items():
        for i, cells in enumerate(rows):
            if len(cells) > 1 and is_header(cells):
                return delimiter, i
    return None


def _unrecognised(path: Path | str, rows: list[list[str]], what: str) -> InputError:
    widest = max(rows, key=lambda r: sum(1 for c in r if c), default=[])
    seen = ", ".join(repr(c) for c in widest if c) or "nothing"
    return InputError(f"{path}: no recognised {what} header in the first lines; saw {seen}")


def _read_text(
    path: Path,
    is_header: HeaderTest,
    what: str,
    numeric: Callable[[list[str]], Iterable[str]] | None,
) -> Grid:
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError(f"{path}: the {what} file is empty")
    text, encoding = _decode(raw)
    if not text.strip("\ufeff \r\n\t"):
        raise InputError(f"{path}: the {what} file is empty")
    head = text.split("\n", HEAD_LINES)[:HEAD_LINES]
    head = [line.rstrip("\r") for line in head]
    counts = {d: sum(line.count(d) for line in head) for d in DELIMITERS}
    order = sorted(DELIMITERS, key=lambda d: -counts[d])
    rows_by_delimiter = {d: [_split_cells(line, d) for line in head] for d in order if counts[d]}
    found = _find_header(rows_by_delimiter, is_header)
    if found is None:
        best = rows_by_delimiter.get(order[0]) or [[line] for line in head]
        raise _unrecognised(path, best, what)
    delimiter, index = found
    headers = rows_by_delimiter[delimiter][index]
    names = _unique_names(headers)
    offset = 0
    for _ in range(index + 1):
        newline = text.find("\n", offset)
        offset = len(text) if newline < 0 else newline + 1
    body = text[offset:]
    cyrillic = any(re.search("[а-яё]", h, re.IGNORECASE) for h in headers)
    decimal = "," if delimiter == ";" or cyrillic else "."
    wanted = set(numeric(headers)) if numeric is not None else set()
    number_names = [name for name, header in zip(names, headers, strict=True) if header in wanted]
    frame = _parse_body(body, delimiter, names, number_names, decimal)
    header_line = index + 1
    lines = _line_numbers(body, frame, header_line)
    grid = Grid(
        path=path,
        headers=headers,
        frame=frame,
        lines=lines,
        encoding=encoding,
        delimiter=delimiter,
        header_line=header_line,
        decimal=decimal,
    )
    return _tidy(grid)


def _parse_body(
    body: str, delimiter: str, names: list[str], number_names: list[str], decimal: str
) -> pd.DataFrame:
    """The rows below the header: strings, and float64 for the number columns the C parser
    reads whole; extra fields go to ``extra N`` columns (strings)."""
    width = len(names)
    columns = list(names)
    data = body.encode("utf-8")
    blank = sorted(BLANK_MARKERS)
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


def _line_numbers(body: str, frame: pd.DataFrame, header_line: int) -> Ints:
    n = len(frame)
    physical = body.count("\n") + (0 if body.endswith("\n") or not body else 1)
    lines = header_line + 1 + np.arange(n, dtype=np.int64)
    if physical <= n or n == 0:
        return lines
    # quoted fields span lines: shift each row by the line breaks inside the rows above it
    inside = np.zeros(n, dtype=np.int64)
    for column in frame.columns:
        inside += frame[column].str.count("\n").to_numpy(dtype=np.int64)
    shift = np.concatenate(([0], np.cumsum(inside)[:-1]))
    return lines + shift


def _cell_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float | np.floating):
        value = float(value)
        return repr(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def _read_xlsx(path: Path, is_header: HeaderTest, what: str) -> Grid:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise InputError(f"{path}: not a readable xlsx workbook ({exc})") from exc
    try:
        sheet = book.worksheets[0]
        rows = [
            [_cell_text(v) for v in row] for row in sheet.iter_rows(min_row=1, values_only=True)
        ]
        title = sheet.title
    finally:
        book.close()
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise InputError(f"{path}: the {what} workbook's first sheet is empty")
    head = rows[:HEAD_LINES]
    found = _find_header({"": head}, is_header)
    if found is None:
        raise _unrecognised(path, head, what)
    index = found[1]
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
        sheet=title,
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
    sheet: str = "",
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
    while body_rows and all(_blank_cell(v) for v in body_rows[-1]):
        body_rows.pop()
    if not body_rows:
        raise InputError(f"{label}: the {what} sheet is empty")
    head = [[_sheet_text(v) for v in r] for r in body_rows[:HEAD_LINES]]
    found = _find_header({"": head}, is_header)
    if found is None:
        raise _unrecognised(label, head, what)
    index = found[1]
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
        sheet=sheet,
    )
    cyrillic = any(re.search("[а-яё]", h, re.IGNORECASE) for h in headers)
    grid.decimal = "," if cyrillic else "."
    return _tidy(grid)


def _blank_cell(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


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
    return _cell_text(value)


def _number_cells(cells: list[Any]) -> pd.Series:
    """A number column of a sheet: float64 when every cell is a number or blank, else object
    with the numbers as floats and the rest as text (blank ``""``)."""
    texts = [
        v
        for v in cells
        if not _is_number(v) and not _blank_cell(v) and str(v).strip() not in BLANK_MARKERS
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
        array = np.array([_cell_text(v) for v in array], dtype=object)
    return array


def _edge_rows(n: int) -> Ints:
    """Rows where totals rows are looked for: the first 10 and the last 50 data rows."""
    return np.unique(np.concatenate([np.arange(min(n, 10)), np.arange(max(n - 50, 0), n)]))


def _tidy(grid: Grid) -> Grid:
    """Drop blank rows, split off totals rows and trailing one-cell note lines."""
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
    for i in _edge_rows(len(frame)):
        label = str(first[i]).strip()
        if not label and second is not None:
            label = str(second[i]).strip()
        totals[i] = _TOTALS.match(label) is not None
    notes = np.zeros(len(frame), dtype=bool)
    wide = np.flatnonzero((filled > 1) & ~totals)
    last_data = int(wide[-1]) if len(wide) else -1
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


# --------------------------------------------------------------------------------------------
# Cell parsers


_DELETE = dict.fromkeys(map(ord, " \t\u00a0\u202f\u2009\u2007'’₽$€£¥₸₴"), None)
_DELETE[ord("\u2212")] = ord("-")
_WORDS = re.compile(r"(?i)руб\.?|р\.|rub|rur|usd|eur|грн|тг|\+")
_THOUSANDS_COMMA = re.compile(r"^-?\d{1,3},\d{3}$")


_STRIP = (" ", "\t", "\u00a0", "\u202f", "\u2009", "\u2007", "'", "’", "₽", "$", "€", "£", "¥")


def parse_numbers(
    values: pd.Series | npt.NDArray[Any], decimal: str = "."
) -> tuple[Floats, Bools, Bools]:
    """Parse number cells: ``(values, bad, blank)``; NaN where blank or bad.

    The separators are settled per column: a comma followed by 1-2 or 4+ digits (or a
    ``1.234,5`` pattern) makes the comma the decimal point and dots / spaces thousands; the
    mirror pattern makes the point the decimal; a column with neither (only integers or
    ``1,234`` / ``1.234``) follows ``decimal``: ``","`` reads ``1,234`` as 1.234, ``"."`` as
    1234. A column with both patterns is read cell by cell (the last of ``,`` / ``.`` in a cell
    is its decimal point). Spaces, NBSP, narrow NBSP, apostrophes, currency signs and words
    (₽ $ € руб. RUB USD …) are ignored; ``(12.50)`` is negative; ``12,5%`` is 0.125.

    The work runs on one joined string and pandas' C number parser; only cells that fail
    that go through per-cell string handling.

    >>> parse_numbers(pd.Series(["1 234,50 ₽", "--", "abc", "(12)", "12,5%"]))[0].tolist()
    [1234.5, nan, nan, -12.0, 0.125]
    """
    if getattr(values, "dtype", np.dtype(object)).kind in "fiu":  # read whole by the C parser
        out = np.array(values, dtype=np.float64)
        blank = np.isnan(out)
        bad = np.isinf(out)
        out[bad] = np.nan
        return out, bad, blank
    raw = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else values
    raw = np.asarray(raw, dtype=object)
    kind = pd.api.types.infer_dtype(raw, skipna=True) if len(raw) else "string"
    if kind != "string" and kind != "empty":
        # numbers and strings mixed (the C parser typed some chunks of the column, or a sheet
        # holds some cells as numbers): numbers as they are, every string through the text
        # path (so a text "1.234" follows the column's separators, never Python's float())
        is_text = np.fromiter((isinstance(v, str) for v in raw), dtype=bool, count=len(raw))
        texts = np.flatnonzero(is_text)
        out = np.full(len(raw), np.nan, dtype=np.float64)
        others = np.flatnonzero(~is_text)
        out[others] = pd.to_numeric(pd.Series(raw[others], dtype=object), errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        blank = np.isnan(out) & ~is_text
        bad = np.isinf(out)
        out[bad] = np.nan
        if len(texts):
            more, more_bad, more_blank = parse_numbers(
                pd.Series(raw[texts].astype(str), dtype=object), decimal
            )
            out[texts], bad[texts], blank[texts] = more, more_bad, more_blank
        return out, bad, blank
    array = _objects(raw)
    n = len(array)
    out = np.full(n, np.nan, dtype=np.float64)
    bad = np.zeros(n, dtype=bool)
    blank = np.zeros(n, dtype=bool)
    if n == 0:
        return out, bad, blank
    joined = _SEP.join(array)
    if joined.count(_SEP) != n - 1 or "\n" in joined or "\r" in joined:
        return _parse_each(pd.Series(array, dtype=object), decimal)
    for char in _STRIP:
        if char in joined:
            joined = joined.replace(char, "")
    joined = joined.replace("\u2212", "-")
    comma, dot, letters = _evidence(joined)
    if letters:
        joined = _WORDS.sub("", joined)
        comma, dot, _ = _evidence(joined)
    if comma and dot:
        return _parse_each(pd.Series(array, dtype=object), decimal)
    if comma:
        joined = joined.replace(".", "").replace(",", ".")
    elif dot or decimal != ",":
        joined = joined.replace(",", "")
    else:
        joined = joined.replace(",", ".")
    parsed, missing = _c_numbers(joined, n)
    if parsed is None:
        return _parse_each(pd.Series(array, dtype=object), decimal)
    out = parsed
    leftover = np.flatnonzero(np.isnan(out) & ~missing)
    blank = missing.copy()
    if len(leftover):
        more, more_bad, more_blank = _parse_each(pd.Series(array[leftover], dtype=object), decimal)
        out[leftover] = more
        bad[leftover] = more_bad
        blank[leftover] = more_blank
    infinite = np.isinf(out)
    bad |= infinite
    out[infinite] = np.nan
    return out, bad, blank


_ALLOWED = np.zeros(256, dtype=bool)
_ALLOWED[list(b"0123456789.,-+eE\x1e")] = True


def _evidence(joined: str) -> tuple[bool, bool, bool]:
    """Scan cells joined by `_SEP` once (numpy over the bytes): is the comma a decimal point
    somewhere (``,`` + 1-2 or 4+ digits, or ``.ddd,``), is the point one (the mirror), and is
    there any character a plain number does not have (a currency word, a percent sign …)."""
    data = np.frombuffer(joined.encode("utf-8"), dtype=np.uint8)
    letters = bool((~_ALLOWED[data]).any())
    commas = np.flatnonzero(data == ord(","))
    dots = np.flatnonzero(data == ord("."))
    if not len(commas) and not len(dots):
        return False, False, letters
    digit = (data >= ord("0")) & (data <= ord("9"))
    # end of the run of digits starting at each position (exclusive)
    stops = np.flatnonzero(~digit)
    stops = np.append(stops, len(data))

    def run_after(positions: Ints) -> Ints:
        start = positions + 1
        return stops[np.searchsorted(stops, start)] - start

    def decimal_like(positions: Ints) -> bool:
        if not len(positions):
            return False
        run = run_after(positions)
        return bool((((run >= 1) & (run <= 2)) | (run >= 4)).any())

    comma = decimal_like(commas) or _followed(dots, commas, run_after)
    dot = decimal_like(dots) or _followed(commas, dots, run_after)
    return comma, dot, letters


def _followed(first: Ints, second: Ints, run_after: Callable[[Ints], Ints]) -> bool:
    """Whether some ``first`` separator is followed by exactly 3 digits then a ``second`` one
    (``1.234,5``: the second is the decimal point)."""
    if not len(first) or not len(second):
        return False
    ends = first + 1 + run_after(first)
    return bool(((ends - first - 1 == 3) & np.isin(ends, second)).any())


def _c_numbers(joined: str, n: int) -> tuple[Floats | None, Bools]:
    """Numbers parsed by pandas' C reader from cells joined by `_SEP`: (values, blank)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
            frame = _read_column(joined)
    except (pd.errors.EmptyDataError, pd.errors.ParserError):
        return None, np.zeros(n, dtype=bool)
    if len(frame) != n:
        return None, np.zeros(n, dtype=bool)
    column = frame["v"]
    missing = column.isna().to_numpy(dtype=bool)
    if column.dtype.kind in "fiu":
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    else:  # some cell is not a number (or looked boolean): coerce the cleaned texts
        cells = np.array(joined.split(_SEP), dtype=object)
        cells[missing] = ""
        values = pd.to_numeric(pd.Series(cells, dtype=object), errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    return np.array(values, dtype=np.float64), missing


def _read_column(joined: str) -> pd.DataFrame:
    return pd.read_csv(
        io.BytesIO(joined.encode("utf-8")),
        sep="\x1f",
        lineterminator=_SEP,
        header=None,
        names=["v"],
        quoting=csv.QUOTE_NONE,
        na_values=sorted(BLANK_MARKERS),
        keep_default_na=False,
        skip_blank_lines=False,
        engine="c",
        true_values=[],
        false_values=[],
    )


def _parse_each(text: pd.Series, decimal: str) -> tuple[Floats, Bools, Bools]:
    """The per-cell path of `parse_numbers` (mixed columns, odd cells)."""
    text = text.astype(object).fillna("").astype(str).str.strip()
    blank = text.isin(BLANK_MARKERS).to_numpy(dtype=bool)
    out = np.array(
        pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan),
        dtype=np.float64,
    )
    rest = np.flatnonzero(np.isnan(out) & ~blank)
    if len(rest):
        subset = text.iloc[rest].str.translate(_DELETE)
        parsed = _separators(subset, decimal)
        again = np.flatnonzero(np.isnan(parsed))
        if len(again):
            retry = subset.iloc[again]
            negative = retry.str.match(r"^\(.*\)$").to_numpy(dtype=bool)
            percent = retry.str.contains("%", regex=False).to_numpy(dtype=bool)
            retry = retry.str.replace(_WORDS, "", regex=True).str.replace(r"[()%]", "", regex=True)
            second = _separators(retry, decimal)
            second = np.where(negative, -second, second)
            second = np.where(percent, second / 100.0, second)
            parsed[again] = second
        out[rest] = parsed
    blank = blank | (
        text.str.translate(_DELETE).isin(BLANK_MARKERS).to_numpy(dtype=bool) & np.isnan(out)
    )
    bad = ~blank & ~np.isfinite(out)
    out[bad] = np.nan
    return out, bad, blank


def _separators(text: pd.Series, decimal: str) -> Floats:
    commas = text.str.count(",").to_numpy(dtype=np.int64)
    dots = text.str.count(r"\.").to_numpy(dtype=np.int64)
    result = text.copy()
    both = (commas > 0) & (dots > 0)
    comma_decimal = np.zeros(len(text), dtype=bool)
    comma_thousands = np.zeros(len(text), dtype=bool)
    if both.any():
        last_comma = text.str.rfind(",").to_numpy(dtype=np.int64)
        last_dot = text.str.rfind(".").to_numpy(dtype=np.int64)
        comma_decimal |= both & (last_comma > last_dot)
        comma_thousands |= both & (last_dot > last_comma)
    only_commas = (commas > 0) & (dots == 0)
    if only_commas.any():
        single = only_commas & (commas == 1)
        if decimal == ".":
            looks_thousands = text.str.match(_THOUSANDS_COMMA).to_numpy(dtype=bool)
        else:
            looks_thousands = np.zeros(len(text), dtype=bool)
        comma_thousands |= only_commas & ((commas > 1) | (single & looks_thousands))
        comma_decimal |= single & ~looks_thousands
    if comma_decimal.any():
        idx = comma_decimal
        result[idx] = (
            result[idx].str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        )
    if comma_thousands.any():
        result[comma_thousands] = result[comma_thousands].str.replace(",", "", regex=False)
    many_dots = (dots > 1) & (commas == 0)
    if many_dots.any():
        result[many_dots] = result[many_dots].str.replace(".", "", regex=False)
    parsed = pd.to_numeric(result, errors="coerce")
    return np.array(parsed.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


_RU_MONTHS = {
    "январ": 1, "феврал": 2, "март": 3, "апрел": 4, "ма": 5, "июн": 6,
    "июл": 7, "август": 8, "сентябр": 9, "октябр": 10, "ноябр": 11, "декабр": 12,
}  # fmt: skip
_RU_MONTH = re.compile(
    r"^(\d{1,2})\s+(январ\w*|феврал\w*|март\w*|апрел\w*|ма[йя]|июн\w*|июл\w*|август\w*|"
    r"сентябр\w*|октябр\w*|ноябр\w*|декабр\w*|янв|фев|мар|апр|авг|сен|окт|ноя|дек)\.?\s+"
    r"(\d{4})(?:\s*г\.?)?$",
    re.IGNORECASE,
)
_RU_SHORT = {
    "янв": 1, "фев": 2, "мар": 3, "апр": 4, "авг": 8, "сен": 9, "окт": 10, "ноя": 11, "дек": 12,
}  # fmt: skip
_TIME = re.compile(r"^(.*?)(?:[ T,]+(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?(?:Z|[+-]\d{2}:?\d{2})?$")

DATE_FORMATS: tuple[tuple[str, str], ...] = (
    ("%d.%m.%Y", "dd.mm.yyyy"),
    ("%Y-%m-%d", "yyyy-mm-dd"),
    ("%d/%m/%Y", "dd/mm/yyyy"),
    ("%m/%d/%Y", "mm/dd/yyyy"),
    ("%d.%m.%y", "dd.mm.yy"),
    ("%Y/%m/%d", "yyyy/mm/dd"),
    ("%d-%m-%Y", "dd-mm-yyyy"),
    ("%Y.%m.%d", "yyyy.mm.dd"),
    ("%b %d, %Y", "Mon d, yyyy"),
    ("%d %b %Y", "d Mon yyyy"),
    ("%B %d, %Y", "Month d, yyyy"),
    ("%d %B %Y", "d Month yyyy"),
)
_SLASH_PAIR = {"%d/%m/%Y": "%m/%d/%Y", "%m/%d/%Y": "%d/%m/%Y"}


@dataclass
class DateParse:
    """Parsed date cells: datetime64 values (NaT where blank or bad), masks and the format."""

    values: npt.NDArray[np.datetime64]
    bad: Bools
    blank: Bools
    format: str
    """Human form of the format used (``"dd.mm.yyyy hh:mm"``), ``""`` when nothing parsed."""
    warnings: list[str] = field(default_factory=list)


def _ru_month_dates(text: pd.Series) -> pd.Series:
    def one(value: str) -> str:
        match = _RU_MONTH.match(value)
        if match is None:
            return value
        word = match.group(2).lower()
        month = _RU_SHORT.get(word[:3]) if len(word) <= 3 else None
        if month is None:
            month = next(
                (m for stem, m in _RU_MONTHS.items() if word.startswith(stem) and stem != "ма"), 0
            )
            if not month and word.startswith("ма"):
                month = 5
        return f"{int(match.group(1)):02d}.{month:02d}.{match.group(3)}"

    return text.map(one)


def parse_dates(values: pd.Series, *, what: str = "date") -> DateParse:
    """Parse date or datetime cells, one date format per column (chosen on the whole column).

    Formats tried: see `DATE_FORMATS`, each with an optional time (``hh:mm[:ss]``, separated by
    a space or ``T``). Day/month order for ``a/b/yyyy`` is mm/dd only when some value proves
    it (a day above 12 in the second place) and no value contradicts; ambiguous columns are
    read dd/mm and warned about. Parsing runs on the distinct values only.
    """
    codes, uniques = pd.factorize(_objects(values))
    unique_text = pd.Series(np.asarray(uniques, dtype=object), dtype=object).str.strip()
    n_unique = len(unique_text)
    parsed = np.full(n_unique, np.datetime64("NaT"), dtype="datetime64[ns]")
    warnings: list[str] = []
    human = ""
    nonblank = ~unique_text.isin(BLANK_MARKERS).to_numpy(dtype=bool)
    if n_unique and nonblank.any():
        parts = unique_text.str.extract(_TIME)
        date_part = parts[0].fillna("").str.strip()
        time_part = parts[1].fillna("")
        if date_part.str.contains("[а-яА-ЯёЁ]", regex=True).any():
            date_part = _ru_month_dates(date_part)
        has_time = (time_part != "").to_numpy(dtype=bool)
        clock = time_part.where(time_part.str.count(":") != 1, time_part + ":00")
        offsets = pd.to_timedelta(clock.where(has_time, "0:00:00"), errors="coerce")
        offsets_ns = offsets.to_numpy(dtype="timedelta64[ns]")
        days, fmt = _best_format(date_part, nonblank)
        ok = ~np.isnat(days) & nonblank
        if fmt is not None:
            human = dict(DATE_FORMATS)[fmt]
            # a few cells in another unambiguous format (an xlsx date cell among text dates)
            for other, _ in DATE_FORMATS:
                if (ok | ~nonblank).all():
                    break
                if other == fmt or _SLASH_PAIR.get(fmt) == other:
                    continue
                todo = ~ok & nonblank
                more = pd.to_datetime(date_part[todo], format=other, errors="coerce")
                fill = more.to_numpy(dtype="datetime64[ns]")
                days_todo = days[todo]
                take = ~np.isnat(fill)
                days_todo[take] = fill[take]
                days[todo] = days_todo
                ok = ~np.isnat(days) & nonblank
            if fmt in _SLASH_PAIR and _ambiguous_slash(date_part[ok]):
                warnings.append(
                    f"{what}: every a/b/yyyy value has both parts <= 12; read as dd/mm/yyyy"
                )
            if has_time[ok].any():
                seconds = time_part[ok & has_time].str.count(":").max()
                human += " hh:mm:ss" if seconds == 2 else " hh:mm"
        timed = days + np.where(np.isnat(offsets_ns), np.timedelta64(0, "ns"), offsets_ns)
        bad_time = has_time & np.isnat(offsets_ns)
        parsed = np.where(ok & ~bad_time, timed, np.datetime64("NaT"))
    out = np.asarray(parsed[codes], dtype="datetime64[ns]")
    blank = ~nonblank[codes] if n_unique else np.zeros(len(codes), dtype=bool)
    bad = np.isnat(out) & ~blank
    return DateParse(values=out, bad=bad, blank=blank, format=human, warnings=warnings)


def _best_format(
    date_part: pd.Series, nonblank: Bools
) -> tuple[npt.NDArray[np.datetime64], str | None]:
    best: npt.NDArray[np.datetime64] = np.full(len(date_part), np.datetime64("NaT"), "M8[ns]")
    best_fmt: str | None = None
    best_count = 0
    sample = date_part[nonblank]
    if len(sample) > 400:
        sample = sample.iloc[np.linspace(0, len(sample) - 1, 400).astype(np.int64)]
    scores: list[tuple[int, int, str]] = []
    for rank, (fmt, _) in enumerate(DATE_FORMATS):
        count = int(pd.to_datetime(sample, format=fmt, errors="coerce").notna().sum())
        if count:
            scores.append((-count, rank, fmt))
    for _, _, fmt in sorted(scores)[:3]:
        days = pd.to_datetime(date_part, format=fmt, errors="coerce").to_numpy(
            dtype="datetime64[ns]"
        )
        count = int((~np.isnat(days) & nonblank).sum())
        if count > best_count:
            best, best_fmt, best_count = days, fmt, count
    return best, best_fmt


def _ambiguous_slash(date_part: pd.Series) -> bool:
    pieces = date_part.str.split("/", expand=True)
    if pieces.shape[1] < 2:
        return False
    first = pd.to_numeric(pieces[0], errors="coerce")
    second = pd.to_numeric(pieces[1], errors="coerce")
    return bool(((first <= 12) & (second <= 12)).all())


def parse_durations(values: pd.Series) -> tuple[Floats, Bools, Bools]:
    """Durations in seconds from ``"65"``, ``"1:05"`` (mm:ss) or ``"0:01:05"`` (hh:mm:ss)."""
    text = (
        values.astype(str).str.strip().str.replace(r"(?i)\s*(сек\.?|с\.?|sec|s)$", "", regex=True)
    )
    blank = text.isin(BLANK_MARKERS).to_numpy(dtype=bool)
    pieces = text.str.split(":", expand=True, n=2)
    total = np.zeros(len(text), dtype=np.float64)
    count = text.str.count(":").to_numpy(dtype=np.int64)
    numbers = [
        pd.to_numeric(pieces[i], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        if i in pieces.columns
        else np.full(len(text), np.nan)
        for i in range(3)
    ]
    total = np.select(
        [count == 0, count == 1, count == 2],
        [
            numbers[0],
            numbers[0] * 60 + numbers[1],
            numbers[0] * 3600 + numbers[1] * 60 + numbers[2],
        ],
        default=np.nan,
    )
    total[blank] = np.nan
    bad = ~blank & (~np.isfinite(total) | (total < 0))
    total[bad] = np.nan
    return total, bad, blank


_TRUE = frozenset({"да", "yes", "y", "1", "true", "истина", "+", "target", "целевой", "д", "x"})
_FALSE = frozenset({"нет", "no", "n", "0", "false", "ложь", "-", "нецелевой", "not target", "н"})


def parse_flags(values: pd.Series) -> tuple[Bools, Bools, Bools]:
    """Yes/no cells (Да/Нет, Yes/No, 1/0, true/false): ``(flag, bad, blank)``; blank = no."""
    text = values.astype(str).str.strip().str.casefold()
    blank = (text == "").to_numpy(dtype=bool)
    flag = text.isin(_TRUE).to_numpy(dtype=bool)
    known = flag | text.isin(_FALSE).to_numpy(dtype=bool) | blank
    return flag, ~known, blank


# --------------------------------------------------------------------------------------------
# Helpers the readers share


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


def text_column(frame: pd.DataFrame, column: str | None, n: int) -> npt.NDArray[np.object_]:
    """A text column trimmed (object array, ``""`` for blank); all ``""`` when absent."""
    if column is None:
        return np.full(n, "", dtype=object)
    cells = stripped_codes(frame[column])
    labels = np.append(np.asarray(cells.categories, dtype=object), "")
    return np.asarray(labels[np.asarray(cells.codes)], dtype=object)  # code -1 -> ""


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
        raw = np.array([v if isinstance(v, str) else _cell_text(v) for v in cells], dtype=object)
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
    frame = pd.DataFrame(data, columns=list(FACT_COLUMNS))
    if aggregate:
        group = ["date", "source", "utm_source", "utm_medium", "utm_campaign", "metric", "basis"]
        summed = frame.groupby(group, sort=True, observed=True, as_index=False)["value"].sum()
        frame = pd.DataFrame(summed)[list(FACT_COLUMNS)]
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


def date_window(info: FileInfo, facts: pd.DataFrame) -> None:
    """Set ``info.date_from`` / ``date_to`` to the span of every fact date (all bases)."""
    if len(facts):
        dates = facts["date"]
        info.date_from = pd.Timestamp(dates.min()).date()
        info.date_to = pd.Timestamp(dates.max()).date()
