"""The small workbook interface every button action is written against.

An action reads tables by their headers, stages blocks of cells, and commits them in one
batch per sheet. Adapters: an .xlsx file (`sheets_sync.workbooks.xlsx`), a Google Sheet
(`sheets_sync.workbooks.google_sheets`, gspread) and the open Excel book
(`sheets_sync.workbooks.live_excel`, xlwings).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sheets_sync.errors import WorkbookError
from sheets_sync.workbooks.roles import canonical_header, label_variants


def column_letter(col: int) -> str:
    """1 → "A", 27 → "AA"."""
    letters = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass
class Table:
    """A table read by its header row.

    `rows[i][j]` is the value under `headers[j]` on sheet row `first_row + i`; columns are
    1-based sheet columns starting at `first_col`.
    """

    sheet: str
    header_row: int
    first_col: int
    headers: list[str]
    rows: list[list[Any]] = field(default_factory=list)

    @property
    def first_row(self) -> int:
        return self.header_row + 1

    def has(self, header: str) -> bool:
        return header in self.headers

    def column(self, header: str) -> int:
        """The 1-based sheet column under `header`."""
        try:
            return self.first_col + self.headers.index(header)
        except ValueError:
            raise WorkbookError(
                f"sheet `{self.sheet}` has no column `{header}` in row {self.header_row}"
            ) from None

    def values(self, header: str) -> list[Any]:
        j = self.column(header) - self.first_col
        return [row[j] for row in self.rows]

    def cell_ref(self, i: int, header: str) -> str:
        """A1 reference of data row `i` under `header`, e.g. ``"Plan!E7"``."""
        return f"{self.sheet}!{column_letter(self.column(header))}{self.first_row + i}"

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.headers, row, strict=False)) for row in self.rows]


def scan_table(
    sheet: str,
    header_row: int,
    first_col: int,
    stop_labels: Iterable[str],
    header_cells: Iterable[Any],
    rows: Callable[[int], Iterable[Sequence[Any]]],
) -> Table:
    """A table from cells an adapter has read: what `WorkbookTarget.read_table` returns.

    The headers are `header_cells` (row `header_row` from `first_col` rightwards; taken only up
    to the first blank, so an adapter may give them lazily), stripped. `rows(width)` gives the
    rows below the header row, starting at `first_col`, each then cut or padded (blanks) to the
    `width` headers; the table's rows stop at the first blank key (first column) or a key in
    `stop_labels` (case-insensitive, in any language: "Total" also stops at "Итого", e.g. the
    totals row). Headers come back in canonical (English) form (`roles.canonical_header`: a
    Russian workbook's "лиды факт" is "leads f"), so actions find columns in either language.
    No headers is a `WorkbookError`.
    """
    stops = {s.casefold() for s in label_variants(stop_labels)}
    headers: list[str] = []
    for h in header_cells:
        if h is None or str(h).strip() == "":
            break
        headers.append(canonical_header(str(h)))
    if not headers:
        raise WorkbookError(f"sheet `{sheet}` has no headers in row {header_row}")
    table = Table(sheet=sheet, header_row=header_row, first_col=first_col, headers=headers)
    width = len(headers)
    for line in rows(width):
        values = list(line[:width])
        values += [None] * (width - len(values))
        key = values[0]
        if key is None or str(key).strip() == "" or str(key).strip().casefold() in stops:
            break
        table.rows.append(values)
    return table


class WorkbookTarget(Protocol):
    """What an action needs from a workbook, whatever holds it."""

    @property
    def name(self) -> str:
        """A name to show the user (file name, spreadsheet title)."""
        ...

    def sheet_names(self) -> list[str]: ...

    def read_table(
        self,
        sheet: str,
        header_row: int = 1,
        first_col: int = 1,
        stop_labels: Iterable[str] = (),
    ) -> Table:
        """Headers from `header_row` rightwards until a blank; rows below until a blank key
        (first column) or a key in `stop_labels` (e.g. the totals row)."""
        ...

    def read_cells(
        self, sheet: str, row: int, col: int, n_rows: int, n_cols: int, formulas: bool = True
    ) -> list[list[Any]]:
        """A block's contents as typed, `n_rows` x `n_cols` from (`row`, `col`), 1-based:
        numbers, text, dates, booleans, `None` for a blank and a formula as its ``"=..."`` text
        (what `write_block` must get back to restore the cells exactly). With `formulas` false,
        a formula cell gives its calculated value instead (what a reader of the block wants;
        the Google Sheets adapter then needs no second read)."""
        ...

    def write_block(self, sheet: str, row: int, col: int, values: Sequence[Sequence[Any]]) -> None:
        """Stage `values` with top-left at (`row`, `col`), 1-based; `None` clears a cell and a
        text starting with ``=`` is written as a formula."""
        ...

    def add_sheet(self, sheet: str, hidden: bool = False) -> None:
        """Stage a new empty sheet at the end (hidden from the tabs if `hidden`); writes to it
        may be staged at once. It is created for good by `save`."""
        ...

    def save(self) -> None:
        """Commit every staged block (one batch per sheet); on failure nothing changes."""
        ...

    def notify(self, message: str) -> None:
        """Tell the user something (status bar, toast, CLI line)."""
        ...
