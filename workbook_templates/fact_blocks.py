"""What Sync Facts writes into the sheets it fills: a value block over the old one, and a fact's
value as a cell.

The sheets Sync Facts owns whole (Daily, Data Quality, Unmapped) are rewritten on every sync in
one block from column A (`write_over`): padded with blanks to the old table's extent, so a
shorter or narrower table clears what the last sync left.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sheets_sync.facts import MONEY
from sheets_sync.workbooks.interface import WorkbookError, WorkbookTarget


def table_extent(wb: WorkbookTarget, sheet: str, header_row: int = 1) -> tuple[int, int]:
    """(rows from `header_row` through the last row with a key, header width) of an owned
    sheet; (0, 0) when it is empty."""
    try:
        table = wb.read_table(sheet, header_row=header_row)
    except WorkbookError:
        return 0, 0
    return 1 + len(table.rows), len(table.headers)


def padded(block: list[list[Any]], rows: int, cols: int) -> list[list[Any]]:
    """`block` padded with blanks to at least `rows` x `cols` (clearing what was there)."""
    width = max([cols, *(len(r) for r in block)]) if block else cols
    out = [list(r) + [None] * (width - len(r)) for r in block]
    out += [[None] * width for _ in range(max(0, rows - len(out)))]
    return out


def write_over(
    wb: WorkbookTarget,
    sheet: str,
    header_row: int,
    block: list[list[Any]],
    width: int | None = None,
    formats: Sequence[Sequence[str | None]] | None = None,
) -> None:
    """Write `block` from column A of `header_row`, clearing the old table's rows and its
    header's columns (`width`: that many columns instead). `formats`: per cell of `block` a
    number format (None: the cell's or its column's), applied where the adapter can
    (``write_number_formats``: the .xlsx file; elsewhere the cells keep their formats)."""
    old_rows, old_cols = table_extent(wb, sheet, header_row)
    cols = old_cols if width is None else width
    wb.write_block(sheet, header_row, 1, padded(block, old_rows, cols))
    apply = getattr(wb, "write_number_formats", None)
    if formats is not None and apply is not None:
        apply(sheet, header_row, 1, formats)


def fact_cell(metric: str, value: float) -> float:
    """A fact as a cell holds it: money to the cent, counts to 6 places."""
    return round(value, 2) if metric in MONEY else round(value, 6)
