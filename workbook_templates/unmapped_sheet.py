"""The Unmapped sheet: the month's facts that reach no plan line, with their spend.

For the user: one row per data source and UTM keys (`layout.UNMAPPED_HEADERS`, header row 1):
`status` ``unmapped`` (no Mapping rule matches: add one) or ``unplanned`` (a rule names a line
the Plan does not have: add the line or fix the rule), the line a rule gave, the dates, and the
metrics.

Written by the template (`write_unmapped_template`: headers) and by Sync Facts (headers and the
rows `unmapped_block` returns, the old rows cleared). Read by no button.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from openpyxl import Workbook

from workbook_templates import layout as L
from workbook_templates.cells import sheet_value
from workbook_templates.styles import header_row


def write_unmapped_template(wb: Workbook) -> None:
    """Add the (empty) Unmapped sheet with its headers; Sync Facts fills it."""
    ws = wb.create_sheet(L.UNMAPPED)
    header_row(ws, L.UNMAPPED_HEADER_ROW, L.UNMAPPED_HEADERS)
    for letter, width in zip("ABCDEFG", (11, 14, 14, 12, 30, 16, 24), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"


def unmapped_block(frame: pd.DataFrame) -> list[list[Any]]:
    """The Unmapped sheet's rows under its header: `frame` has `layout.UNMAPPED_HEADERS`."""
    return [
        [sheet_value(v, 6) for v in rec]
        for rec in frame.reindex(columns=list(L.UNMAPPED_HEADERS)).itertuples(index=False)
    ]
