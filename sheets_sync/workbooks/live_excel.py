"""The live-Excel adapter of the workbook interface (xlwings, Windows desktop Excel).

**Not run here**: it drives Excel through COM, and this repository's CI has no Excel. The tests
exercise it against an in-memory stand-in of the few xlwings calls it makes
(tests/addin/test_dispatcher.py), so its logic (reading tables, staging, one write per block,
rolling back) is checked, but not Excel's side of those calls.

What it does with Excel:

- `read_table` reads the sheet's used range from the header row down in **one** range read
  (``Range.value``, formulas as their calculated values - what the file adapter reads from the
  cache) and finds the headers and rows in Python;
- `read_cells` reads a block's values and formulas (two range reads) so a formula comes back as
  its ``"=..."`` text and anything else as typed;
- `write_block` only stages; reads see staged cells (as with the file adapter);
- `save` commits one batch per sheet, each block as **one** range write, with screen updating
  off, then saves the book (``Book.save``) when it has a file. Before writing it reads what each
  block will overwrite; if any write or the save fails, those cells are put back and the sheets
  it added are deleted, so the workbook is left as it was.

Whole numbers come back as ``int`` (Excel holds every number as a float; the file adapter gives
ints for whole numbers, and actions format some of them as text).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sheets_sync.workbooks.interface import Table, WorkbookError, scan_table
from sheets_sync.workbooks.roles import SheetRoles, language_of, localized_sheet_name


@dataclass
class _Block:
    sheet: str
    row: int
    col: int
    values: list[list[Any]]

    @property
    def n_rows(self) -> int:
        return len(self.values)

    @property
    def n_cols(self) -> int:
        return max((len(line) for line in self.values), default=0)


def _plain(value: Any) -> Any:
    """A cell as the file adapter would give it: whole floats as ints, "" as blank."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, str) and value == "":
        return None
    return value


def _grid(value: Any, n_rows: int, n_cols: int) -> list[list[Any]]:
    """A range read as rows: Excel gives one cell as a value and a block as rows (tuples from
    ``Range.formula``); a flat list is a row when `n_rows` is 1, else a column."""
    if not isinstance(value, list | tuple):
        return [[value]]
    if any(isinstance(r, list | tuple) for r in value):
        return [list(r) if isinstance(r, list | tuple) else [r] for r in value]
    if n_rows == 1:
        return [list(value)]
    return [[v] for v in value]


class XlwingsWorkbook:
    """An open Excel workbook (an ``xlwings.Book``) seen through the workbook interface."""

    def __init__(self, book: Any, notify: Callable[[str], None] | None = None) -> None:
        self.book = book
        self._notify = notify
        self.messages: list[str] = []
        self._blocks: list[_Block] = []
        self._added: list[tuple[str, bool]] = []

    # ------------------------------------------------------------------ identity

    @property
    def name(self) -> str:
        return str(self.book.name)

    @property
    def path(self) -> Path | None:
        """The book's file, or None for a book never saved (or saved only to a URL:
        OneDrive/SharePoint without a local sync folder)."""
        full = str(self.book.fullname)
        if "://" in full or (os.sep not in full and "/" not in full and "\\" not in full):
            return None
        return Path(full)

    def _real_names(self) -> list[str]:
        names = [str(s.name) for s in self.book.sheets]
        return names + [name for name, _ in self._added]

    def sheet_names(self) -> list[str]:
        """The sheets by role (``"Plan"`` for a sheet named "План"), see `roles`."""
        return self.roles().canonical_names()

    def roles(self) -> SheetRoles:
        """Which sheet plays which role, by name in either language (defined names are not
        read here: one more COM call per name for a rare case)."""
        return SheetRoles(self._real_names())

    def _real(self, sheet: str) -> str:
        return self.roles().real(sheet) or sheet

    # ------------------------------------------------------------------ reading

    def _is_new(self, sheet: str) -> bool:
        return any(name == sheet for name, _ in self._added)

    def _sheet(self, sheet: str) -> Any:
        if sheet not in [str(s.name) for s in self.book.sheets]:
            raise WorkbookError(f"workbook {self.name} has no sheet `{sheet}`")
        return self.book.sheets[sheet]

    def _check(self, sheet: str) -> None:
        if not self._is_new(sheet):
            self._sheet(sheet)

    def _extent(self, sheet: str) -> tuple[int, int]:
        """Last used row and column: the sheet's used range and any staged block."""
        rows, cols = 0, 0
        if not self._is_new(sheet):
            used = self._sheet(sheet).used_range
            last = used.last_cell
            if used.count > 1 or used.value not in (None, ""):
                rows, cols = int(last.row), int(last.column)
        for b in self._blocks:
            if b.sheet == sheet:
                rows = max(rows, b.row + b.n_rows - 1)
                cols = max(cols, b.col + b.n_cols - 1)
        return rows, cols

    def _overlay(self, sheet: str, row: int, col: int, grid: list[list[Any]]) -> None:
        """Put staged cells over a block read from Excel (reads see staged writes)."""
        n_rows = len(grid)
        n_cols = len(grid[0]) if grid else 0
        for b in self._blocks:
            if b.sheet != sheet:
                continue
            for i, line in enumerate(b.values):
                r = b.row + i - row
                if not 0 <= r < n_rows:
                    continue
                for j, value in enumerate(line):
                    c = b.col + j - col
                    if 0 <= c < n_cols:
                        grid[r][c] = _plain(value)

    def _read(self, sheet: str, row: int, col: int, n_rows: int, n_cols: int) -> list[list[Any]]:
        """Values of a block (one range read), staged cells on top."""
        if self._is_new(sheet):
            grid: list[list[Any]] = [[None] * n_cols for _ in range(n_rows)]
        else:
            rng = self._sheet(sheet).range((row, col), (row + n_rows - 1, col + n_cols - 1))
            raw = rng.options(ndim=2).value
            grid = [[_plain(v) for v in line] for line in _grid(raw, n_rows, n_cols)]
        self._overlay(sheet, row, col, grid)
        return grid

    def read_table(
        self,
        sheet: str,
        header_row: int = 1,
        first_col: int = 1,
        stop_labels: Iterable[str] = (),
    ) -> Table:
        sheet = self._real(sheet)
        self._check(sheet)
        last_row, last_col = self._extent(sheet)
        if last_row < header_row or last_col < first_col:
            raise WorkbookError(f"sheet `{sheet}` has no headers in row {header_row}")
        block = self._read(
            sheet, header_row, first_col, last_row - header_row + 1, last_col - first_col + 1
        )
        return scan_table(
            sheet, header_row, first_col, stop_labels, block[0], lambda width: block[1:]
        )

    def read_cells(
        self, sheet: str, row: int, col: int, n_rows: int, n_cols: int, formulas: bool = True
    ) -> list[list[Any]]:
        sheet = self._real(sheet)
        self._check(sheet)
        if n_rows < 1 or n_cols < 1:
            return [[] for _ in range(max(n_rows, 0))]
        if self._is_new(sheet) or not formulas:
            return self._read(sheet, row, col, n_rows, n_cols)
        rng = self._sheet(sheet).range((row, col), (row + n_rows - 1, col + n_cols - 1))
        # a formula text stays as it is (`_plain` leaves a text starting with "=" alone)
        grid = [[_plain(v) for v in line] for line in self._current(rng, n_rows, n_cols)]
        self._overlay(sheet, row, col, grid)
        return grid

    # ------------------------------------------------------------------ writing

    def write_block(self, sheet: str, row: int, col: int, values: Sequence[Sequence[Any]]) -> None:
        """Stage `values`; a formula's sheet references are pointed at the real sheets."""
        sheet = self._real(sheet)
        self._check(sheet)
        if row < 1 or col < 1:
            raise WorkbookError(f"cannot write to row {row}, column {col} of `{sheet}`")
        roles = self.roles()
        lines = [
            [roles.rewrite_formula(v) if isinstance(v, str) and v[:1] == "=" else v for v in line]
            for line in values
        ]
        if lines and any(lines):
            self._blocks.append(_Block(sheet, row, col, lines))

    def add_sheet(self, sheet: str, hidden: bool = False) -> None:
        """Stage a new sheet named in the workbook's language."""
        if self.roles().real(sheet) is not None:
            raise WorkbookError(f"workbook {self.name} already has a sheet `{sheet}`")
        self._added.append((localized_sheet_name(sheet, language_of(self)), hidden))

    def save(self) -> None:
        """Commit the staged sheets and blocks, then save the book; on failure undo them."""
        app = self.book.app
        updating = app.screen_updating
        undo: list[tuple[Any, list[list[Any]]]] = []
        created: list[Any] = []
        new_names = {name for name, _ in self._added}
        app.screen_updating = False
        try:
            for sheet, hidden in self._added:
                new = self.book.sheets.add(sheet, after=self.book.sheets[-1])
                created.append(new)
                if hidden:
                    new.visible = False
            for sheet in dict.fromkeys(b.sheet for b in self._blocks):  # one batch per sheet
                target = self.book.sheets[sheet]
                for b in (b for b in self._blocks if b.sheet == sheet):
                    width = b.n_cols
                    rows = [line + [None] * (width - len(line)) for line in b.values]
                    rng = target.range((b.row, b.col), (b.row + b.n_rows - 1, b.col + width - 1))
                    if sheet not in new_names:
                        undo.append((rng, self._current(rng, b.n_rows, width)))
                    rng.value = rows
            if self.path is not None:
                self.book.save()
        except BaseException:
            for rng, before in reversed(undo):
                rng.value = before
            for new in reversed(created):
                new.delete()
            raise
        finally:
            app.screen_updating = updating
        self._blocks.clear()
        self._added.clear()

    @staticmethod
    def _current(rng: Any, n_rows: int, n_cols: int) -> list[list[Any]]:
        """What a range holds now, as `write_block` takes it back (formulas as text)."""
        values = _grid(rng.options(ndim=2).value, n_rows, n_cols)
        texts = _grid(rng.formula, n_rows, n_cols)
        return [
            [
                f if isinstance(f, str) and f.startswith("=") else v
                for v, f in zip(vline, fline, strict=False)
            ]
            for vline, fline in zip(values, texts, strict=False)
        ]

    def notify(self, message: str) -> None:
        """Show `message` in Excel's status bar (and pass it to the `notify` callback)."""
        self.messages.append(message)
        with contextlib.suppress(Exception):  # a courtesy: never fail an action over it
            self.book.app.status_bar = message
        if self._notify is not None:
            self._notify(message)
