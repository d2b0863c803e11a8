"""The .xlsx-file adapter of the workbook interface (openpyxl).

Reads values (a formula cell reads as its cached value where the file has one), stages
writes, and saves atomically: the new file is written beside the original and renamed over
it, so a crash or kill mid-write leaves the original as it was.
"""

from __future__ import annotations

import itertools
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import openpyxl

from sheets_sync.storage_errors import storage_error
from sheets_sync.workbooks.cell_formats import ColumnFormats
from sheets_sync.workbooks.interface import Table, WorkbookError, scan_table
from sheets_sync.workbooks.roles import (
    ROLE_PREFIX,
    SheetRoles,
    label_variants,
    language_of,
    localized_sheet_name,
)


class XlsxWorkbook:
    """An .xlsx file seen through the workbook interface."""

    def __init__(self, path: Path | str, notify: Callable[[str], None] | None = None) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise WorkbookError(f"workbook {self.path} does not exist")
        try:
            self._book = openpyxl.load_workbook(self.path)
        except Exception as exc:  # openpyxl raises many types for a broken file
            raise WorkbookError(f"cannot open {self.path} as an .xlsx workbook: {exc}") from exc
        self._shown: Any = None
        """The file's last calculated values (data only, read only), loaded when a formula
        cell is first read: what a formula shows is only in the file's cache."""
        self._notify = notify or (lambda message: None)
        self.messages: list[str] = []

    @property
    def name(self) -> str:
        return self.path.name

    def sheet_names(self) -> list[str]:
        """The sheets by role (``"Plan"`` for a sheet named "План"), see `roles`."""
        return self.roles().canonical_names()

    def roles(self) -> SheetRoles:
        """Which sheet plays which role: by name in either language, or by a ``_fp_role_*``
        defined name (workbook-scoped; a sheet the user renamed is still found)."""
        marked: dict[str, str] = {}
        for key, defined in self._book.defined_names.items():
            if key.lower().startswith(ROLE_PREFIX):
                for title, _ in defined.destinations:
                    marked[key.lower()] = title
        return SheetRoles(list(self._book.sheetnames), marked)

    def _real(self, sheet: str) -> str:
        """The real name of the sheet an action calls `sheet` (as it is when none)."""
        return self.roles().real(sheet) or sheet

    def _sheet(self, sheet: str) -> Any:
        sheet = self._real(sheet)
        if sheet not in self._book.sheetnames:
            raise WorkbookError(f"workbook {self.name} has no sheet `{sheet}`")
        return self._book[sheet]

    def _shown_rows(self, sheet: str, **bounds: Any) -> list[tuple[Any, ...]]:
        """Rows of calculated values of `sheet` as last saved (empty for a sheet added since)."""
        if self._shown is None:
            self._shown = openpyxl.load_workbook(self.path, data_only=True, read_only=True)
        if sheet not in self._shown.sheetnames:
            return []
        return list(self._shown[sheet].iter_rows(**bounds, values_only=True))

    def read_table(
        self,
        sheet: str,
        header_row: int = 1,
        first_col: int = 1,
        stop_labels: Iterable[str] = (),
    ) -> Table:
        ws = self._sheet(sheet)
        sheet = ws.title

        def rows(width: int) -> list[list[Any]]:
            if ws.max_row <= header_row:
                return []
            n_rows = ws.max_row - header_row
            return self.read_cells(sheet, header_row + 1, first_col, n_rows, width, formulas=False)

        headers = (ws.cell(row=header_row, column=c).value for c in itertools.count(first_col))
        return scan_table(sheet, header_row, first_col, stop_labels, headers, rows)

    def find_row(self, sheet: str, col: int, label: str, start: int = 1) -> int | None:
        """First row at or below `start` whose cell in `col` equals `label` (case-insensitive, in
        any language: "Total" also finds "Итого")."""
        ws = self._sheet(sheet)
        wanted = label_variants([label])
        for row in range(start, ws.max_row + 1):
            v = ws.cell(row=row, column=col).value
            if isinstance(v, str) and v.strip().casefold() in wanted:
                return row
        return None

    def read_cells(
        self, sheet: str, row: int, col: int, n_rows: int, n_cols: int, formulas: bool = True
    ) -> list[list[Any]]:
        ws = self._sheet(sheet)
        sheet = ws.title
        grid = [
            [ws.cell(row=row + i, column=col + j).value for j in range(n_cols)]
            for i in range(n_rows)
        ]
        if formulas or not any(_is_formula(v) for line in grid for v in line):
            return grid
        bounds = {
            "min_row": row,
            "max_row": row + n_rows - 1,
            "min_col": col,
            "max_col": col + n_cols - 1,
        }
        shown = self._shown_rows(sheet, **bounds)
        return [
            [
                (shown[i][j] if i < len(shown) and j < len(shown[i]) else None)
                if _is_formula(v)
                else v
                for j, v in enumerate(line)
            ]
            for i, line in enumerate(grid)
        ]

    def add_sheet(self, sheet: str, hidden: bool = False) -> None:
        """Create the sheet in memory (the file only changes on `save`), named in the workbook's
        language (``"Split Undo"`` is "Отмена сплита" in a Russian workbook)."""
        if self.roles().real(sheet) is not None:
            raise WorkbookError(f"workbook {self.name} already has a sheet `{sheet}`")
        ws = self._book.create_sheet(localized_sheet_name(sheet, language_of(self)))
        if hidden:
            ws.sheet_state = "hidden"

    def write_block(self, sheet: str, row: int, col: int, values: Sequence[Sequence[Any]]) -> None:
        """Write `values` into the in-memory workbook (reads see them; the file only changes on
        `save`, so a crash before it leaves the file as it was). Each cell's number format fits
        its new value and a cell without a format takes its column's (`cell_formats`): a number
        never keeps a date format, a date always gets one; money, percent are kept."""
        ws = self._sheet(sheet)
        if row < 1 or col < 1:
            raise WorkbookError(f"cannot write to row {row}, column {col} of `{sheet}`")
        roles = self.roles()
        formats = ColumnFormats(ws)
        for i, line in enumerate(values):
            for j, value in enumerate(line):
                if _is_formula(value):  # sheet references pointed at the real sheets
                    value = roles.rewrite_formula(value)
                cell = ws.cell(row=row + i, column=col + j)
                before = cell.number_format
                cell.value = value  # openpyxl gives a date a format of its own: replaced here
                cell.number_format = formats.for_value(col + j, value, before)

    def write_number_formats(
        self, sheet: str, row: int, col: int, formats: Sequence[Sequence[str | None]]
    ) -> None:
        """Give the cells from (`row`, `col`) the number formats of `formats` (None: the cell
        keeps its own); for a sheet whose columns mix kinds (Data Quality's sections)."""
        ws = self._sheet(sheet)
        for i, line in enumerate(formats):
            for j, fmt in enumerate(line):
                if fmt is not None:
                    ws.cell(row=row + i, column=col + j).number_format = fmt

    def save(self) -> None:
        """Replace the file atomically (temp file + rename) with the workbook as written."""
        if self._shown is not None:
            self._shown.close()  # releases the file (Windows cannot replace an open file)
            self._shown = None
        save_atomic(self._book, self.path)

    def notify(self, message: str) -> None:
        self.messages.append(message)
        self._notify(message)


def save_atomic(book: openpyxl.Workbook, path: Path | str) -> Path:
    """Save `book` to `path` via a temp file (``.{stem}-*.xlsx`` beside it, which
    `sweep_temp_files` recognises) and a rename, keeping the replaced file's permissions. A
    failed write (disk full, read-only) removes the temp file, leaves `path` as it was and
    raises a `StorageError` naming `path` and the cause."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        book.save(tmp)
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(error, OSError):  # disk full, read-only, permission: say which file
            kept = "the workbook is as it was" if path.exists() else "nothing was written"
            raise storage_error("workbook", path, error, kept) from error
        raise
    return path


def _mode_for(path: Path) -> int:
    """The permissions a saved file gets: the replaced file's (so whoever could open the workbook
    still can), else the usual ones for a new file (``0o666`` less the umask) — not the
    owner-only mode of a temporary file."""
    if path.exists():
        return stat.S_IMODE(path.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _is_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("=")
