"""The Daily History sheet: channel-level days before the month.

For the user: ``date, channel, spend, leads`` (`layout.DAILY_HISTORY_HEADERS`, header row 1),
one row per channel and day (several rows of a day are summed). Optimize Split fits its
response curves on these days together with the Daily sheet's.

Written by the template (`write_daily_history_template`: headers, a note, the rows a new
workbook is given) and by the demo (`write_daily_history`: the days from the fact store).
Read by Optimize Split (`read_daily_history`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from openpyxl import Workbook

from planning.errors import InputError
from sheets_sync.workbooks.interface import WorkbookTarget
from workbook_templates import layout as L
from workbook_templates.cells import sheet_value, to_date, to_number
from workbook_templates.styles import FMT_DATE, FMT_MONEY, FONT_NOTE, header_row

NOTE = (
    "Days before the month, one row per channel and day (several are summed): "
    "Optimize Split fits its response curves on these and the Daily sheet."
)


def write_daily_history_template(wb: Workbook, daily_history: pd.DataFrame | None) -> None:
    """Add the Daily History sheet with `daily_history` (``date, channel, spend, leads``)."""
    ws = wb.create_sheet(L.DAILY_HISTORY)
    headers = list(L.DAILY_HISTORY_HEADERS)
    header_row(ws, 1, headers)
    ws.cell(row=1, column=len(headers) + 2, value=NOTE).font = FONT_NOTE
    if daily_history is not None and len(daily_history):
        frame = daily_history.reindex(columns=headers)
        for r, record in enumerate(frame.itertuples(index=False), start=2):
            for c_i, value in enumerate(record, start=1):
                cell = ws.cell(row=r, column=c_i, value=sheet_value(value))
                if c_i == 1:
                    cell.number_format = FMT_DATE
                elif headers[c_i - 1] == "spend":
                    cell.number_format = FMT_MONEY
    ws.freeze_panes = "A2"
    ws.column_dimensions["A"].width = 12
    ws.column_dimensions["B"].width = 16


def write_daily_history(wb: WorkbookTarget, history: pd.DataFrame) -> int:
    """Stage `history` (`layout.DAILY_HISTORY_HEADERS` columns) under the header, spend rounded
    to cents; returns the rows staged. The caller saves."""
    rows = [
        [d, ch, round(float(s), 2), float(n)]
        for d, ch, s, n in history[list(L.DAILY_HISTORY_HEADERS)].itertuples(index=False)
    ]
    if rows:
        wb.write_block(L.DAILY_HISTORY, 2, 1, rows)
    return len(rows)


def read_daily_history(wb: WorkbookTarget, before: dt.date, conversion: str) -> pd.DataFrame | None:
    """The sheet's days before `before` as ``date, channel, spend, <conversion>`` (rows dated
    later are left to the Daily sheet); None when the workbook has no Daily History sheet. A
    date, spend or conversion that is not usable (or negative) is an error naming its cell."""
    if L.DAILY_HISTORY not in wb.sheet_names():
        return None
    table = wb.read_table(L.DAILY_HISTORY, header_row=1)
    rows: dict[str, list[Any]] = {"date": [], "channel": [], "spend": [], conversion: []}
    for i, rec in enumerate(table.records()):
        day = to_date(rec.get("date"), table.cell_ref(i, "date"), "date")
        if day >= before:
            continue
        rows["date"].append(day)
        rows["channel"].append(rec.get("channel"))
        for m in ("spend", conversion):
            where = table.cell_ref(i, m)
            v = to_number(rec.get(m), where, m, allow_blank=False)
            if v < 0:
                raise InputError("must not be negative", line=where, column=m, value=rec[m])
            rows[m].append(v)
    return pd.DataFrame(rows)
