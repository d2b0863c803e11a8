"""The Drill sheet's table as the button left it, for the Drill tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl

from workbook_templates.drill_sheet import DRILL, HEADER_ROW


def drill_table(book: Path) -> list[list[Any]]:
    """The rows from the header down to the first row with a blank first cell (header first)."""
    ws = openpyxl.load_workbook(book)[DRILL]
    table: list[list[Any]] = []
    for line in ws.iter_rows(min_row=HEADER_ROW, values_only=True):
        if line[0] is None:
            break
        table.append(list(line))
    return table
