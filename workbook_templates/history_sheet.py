"""The History sheet: last month's plan vs fact, kept as values in next month's workbook.

For the user: a title and last month's lines with their header-named values (plan, fact,
run-rate columns as the Plan had them), for comparison while planning.

Written only by the template (`write_history_template`), when New Month builds the next
workbook from this one. Read by no button.
"""

from __future__ import annotations

import pandas as pd
from openpyxl import Workbook

from workbook_templates import layout as L
from workbook_templates.cells import sheet_value
from workbook_templates.styles import FONT_TITLE, header_cell

HEADER_ROW = 3


def write_history_template(wb: Workbook, history: pd.DataFrame, title: str = "") -> None:
    """Add the History sheet with `history` under a header row (its columns, in order)."""
    ws = wb.create_sheet(L.HISTORY)
    ws["A1"] = title or "Last month: plan vs fact"
    ws["A1"].font = FONT_TITLE
    for i, h in enumerate(history.columns, start=1):
        header_cell(ws, HEADER_ROW, i, str(h))
    for r, record in enumerate(history.itertuples(index=False), start=HEADER_ROW + 1):
        for c_i, value in enumerate(record, start=1):
            ws.cell(row=r, column=c_i, value=sheet_value(value))
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 24
