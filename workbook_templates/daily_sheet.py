"""The Daily sheet: the month's facts day by day, one row per day and plan line.

For the user: ``date, channel, campaign`` and the funnel's metrics (header row 1), the facts
Refresh Run-Rate forecasts from and Optimize Split fits its curves on.

Written by the template (`write_daily_template`: headers, and the rows a new workbook is given)
and by Sync Facts (`write_daily`: the whole block on every sync). Read by Refresh Run-Rate and
Optimize Split through `read_daily`.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook

from planning.errors import InputError
from planning.funnel import Funnel
from sheets_sync.i18n import translator
from sheets_sync.i18n.header_words import localized_header
from sheets_sync.workbooks.interface import WorkbookTarget
from sheets_sync.workbooks.roles import language_of
from workbook_templates import layout as L
from workbook_templates.cells import sheet_value, to_date, to_number
from workbook_templates.fact_blocks import fact_cell, write_over
from workbook_templates.styles import FMT_DATE, FMT_INT, FMT_MONEY, header_row

DAILY_KEYS = ("date", "channel", "campaign")


def write_daily_template(wb: Workbook, funnel: Funnel, daily: pd.DataFrame | None) -> None:
    """Add the Daily sheet with `daily` (``date, channel, campaign`` and the funnel's metrics;
    missing columns stay blank)."""
    ws = wb.create_sheet(L.DAILY)
    headers = [*DAILY_KEYS, *funnel.metrics]
    header_row(ws, 1, headers)
    if daily is not None and len(daily):
        frame = daily.reindex(columns=headers)
        for r, record in enumerate(frame.itertuples(index=False), start=2):
            for c_i, value in enumerate(record, start=1):
                cell = ws.cell(row=r, column=c_i, value=sheet_value(value))
                if c_i == 1:
                    cell.number_format = FMT_DATE
                elif c_i > len(DAILY_KEYS):
                    money = headers[c_i - 1] in ("spend", "revenue")
                    cell.number_format = FMT_MONEY if money else FMT_INT
    ws.freeze_panes = "A2"
    ws.column_dimensions["A"].width = 12
    ws.column_dimensions["B"].width = 16
    ws.column_dimensions["C"].width = 24


def read_daily(wb: WorkbookTarget, funnel: Funnel, month: dt.date) -> pd.DataFrame:
    """The Daily sheet as a frame (date, channel, campaign, metrics); dates must fall in `month`."""
    table = wb.read_table(L.DAILY, header_row=1)
    metrics = [m for m in funnel.metrics if table.has(m)]
    records: dict[str, list[Any]] = {"date": [], "channel": [], "campaign": []}
    records.update({m: [] for m in metrics})
    next_month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    for i, row in enumerate(table.records()):
        where = table.cell_ref(i, "date")
        day = to_date(row["date"], where, "date")
        if not (month <= day < next_month):
            raise InputError(
                f"is outside the plan month {month:%Y-%m}",
                line=where,
                column="date",
                value=day.isoformat(),
            )
        records["date"].append(day)
        records["channel"].append(row.get("channel"))
        records["campaign"].append(row.get("campaign"))
        for m in metrics:
            v = to_number(row[m], table.cell_ref(i, m), m)
            if m == "spend" and v < 0:
                raise InputError(
                    "must not be negative", line=table.cell_ref(i, m), column=m, value=row[m]
                )
            records[m].append(0.0 if math.isnan(v) else v)
    return pd.DataFrame(records)


def daily_frame(filled: pd.DataFrame, plan: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """The Daily rows Sync Facts writes, as `read_daily` reads them back: ``date`` (a date),
    ``channel``, ``campaign`` and the `metrics` (0.0 where a line has no fact of a metric that
    day), one row per day and plan line with facts, sorted by day and line, each value as its
    cell holds it (`fact_cell`). `filled`: facts with ``date, line, metric, value`` (``line``:
    the row of `plan`, 0-based)."""
    columns: dict[str, Any] = {"date": [], "channel": [], "campaign": []}
    if len(filled) and metrics:
        grouped = (
            filled[filled["metric"].isin(metrics)]
            .groupby(["date", "line", "metric"])["value"]
            .sum()
            .unstack("metric")
            .reindex(columns=metrics)
            .fillna(0.0)
            .sort_index()
        )
        lines = grouped.index.get_level_values("line").to_numpy(dtype=np.int64).tolist()
        channels, campaigns = plan["channel"].tolist(), plan["campaign"].tolist()
        columns["date"] = [pd.Timestamp(d).date() for d in grouped.index.get_level_values("date")]
        columns["channel"] = [channels[i] for i in lines]
        columns["campaign"] = [campaigns[i] for i in lines]
        values = grouped.to_numpy(dtype=np.float64)
        for k, m in enumerate(metrics):  # round as `fact_cell` does, a column at a time
            columns[m] = [fact_cell(m, v) for v in values[:, k].tolist()]
    else:
        columns.update({m: [] for m in metrics})
    return pd.DataFrame(columns)


def write_daily(
    wb: WorkbookTarget, filled: pd.DataFrame, plan: pd.DataFrame, metrics: list[str]
) -> pd.DataFrame:
    """The Daily sheet as Sync Facts writes it (`daily_frame`): one block from row 1, headers
    ``date, channel, campaign`` and the written `metrics`, clearing the old rows. Returns the
    rows written as a frame, exactly what `read_daily` would read back (so the run-rate refresh
    that follows a sync need not read the sheet again)."""
    frame = daily_frame(filled, plan, metrics)
    headers = ["date", *L.KEYS, *metrics]
    rows = [list(r) for r in zip(*(frame[h].tolist() for h in headers), strict=True)]
    t = translator(language_of(wb))  # the headers in the workbook's language, as the template
    shown = [localized_header(h, t) for h in headers]
    write_over(wb, L.DAILY, 1, [shown, *rows])
    return frame
