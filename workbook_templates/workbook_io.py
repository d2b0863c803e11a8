"""Reading the planning workbook through the workbook interface into checked frames.

Every bad cell becomes an `InputError` that names the cell (``Plan!E7``), the line, the
column and the value, so the user can go straight to it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from planning.errors import InputError
from planning.funnel import Funnel
from planning.runrate import METHODS, parse_month
from sheets_sync.workbooks.interface import Table, WorkbookTarget
from workbook_templates import layout as L


@dataclass(frozen=True)
class Settings:
    """The Settings sheet, checked."""

    month: dt.date
    as_of: dt.date | None
    window: int
    method: str
    currency: str
    chart_metric: str
    as_of_ref: str  # where as-of lives, e.g. "Settings!B3"
    as_of_row: int
    as_of_col: int


def to_date(value: Any, where: str, column: str) -> dt.date:
    """A cell's date (date, datetime, ISO text or dd.mm.yyyy text)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%Y-%m"):
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
    raise InputError("is not a date", line=where, column=column, value=value)


def to_number(value: Any, where: str, column: str, *, allow_blank: bool = True) -> float:
    """A cell's number: blank → NaN (when allowed); text, bool or an error value → InputError."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        if allow_blank:
            return math.nan
        raise InputError("is blank; a number is needed", line=where, column=column, has_value=False)
    if isinstance(value, bool):
        raise InputError("is not a number", line=where, column=column, value=value)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError("is not a finite number", line=where, column=column, value=value)
        return float(value)
    raise InputError("is not a number", line=where, column=column, value=value)


def read_settings(wb: WorkbookTarget) -> Settings:
    table = wb.read_table(L.SETTINGS, header_row=L.SETTINGS_HEADER_ROW)
    keys = [str(k).strip().lower() for k in table.values("setting")]
    values = table.values("value")
    settings = dict(zip(keys, values, strict=True))

    def get(key: str) -> Any:
        if key not in settings:
            raise InputError(f"sheet `{L.SETTINGS}` has no setting `{key}`")
        return settings[key]

    def ref(key: str) -> str:
        return table.cell_ref(keys.index(key), "value")

    month_raw = get(L.SETTING_MONTH)
    if isinstance(month_raw, (dt.date, dt.datetime)):
        month = to_date(month_raw, ref(L.SETTING_MONTH), L.SETTING_MONTH).replace(day=1)
    else:
        month = parse_month(str(month_raw).strip())
    as_of_raw = get(L.SETTING_AS_OF)
    as_of = None if as_of_raw in (None, "") else to_date(as_of_raw, ref(L.SETTING_AS_OF), "value")
    window_raw = to_number(get(L.SETTING_WINDOW), ref(L.SETTING_WINDOW), L.SETTING_WINDOW)
    if math.isnan(window_raw) or window_raw < 1 or window_raw != int(window_raw):
        raise InputError(
            "must be a whole number of days ≥ 1",
            line=ref(L.SETTING_WINDOW),
            column=L.SETTING_WINDOW,
            value=get(L.SETTING_WINDOW),
        )
    method = str(settings.get(L.SETTING_METHOD) or "last_n").strip()
    if method not in METHODS:
        raise InputError(
            f"is not a run-rate method; use one of {', '.join(METHODS)}",
            line=ref(L.SETTING_METHOD),
            column=L.SETTING_METHOD,
            value=method,
        )
    i = keys.index(L.SETTING_AS_OF)
    return Settings(
        month=month,
        as_of=as_of,
        window=int(window_raw),
        method=method,
        currency=str(settings.get(L.SETTING_CURRENCY) or "RUB"),
        chart_metric=str(settings.get(L.SETTING_CHART_METRIC) or "leads"),
        as_of_ref=ref(L.SETTING_AS_OF),
        as_of_row=table.first_row + i,
        as_of_col=table.column("value"),
    )


def read_funnel(wb: WorkbookTarget) -> Funnel:
    """The stage chain from the Settings sheet's stages table."""
    table = wb.read_table(
        L.SETTINGS, header_row=L.SETTINGS_HEADER_ROW, first_col=L.STAGES_FIRST_COL
    )
    rows = []
    for rec in table.records():
        cr_from = rec.get("cr from")
        rows.append(
            (
                str(rec["stage"]).strip(),
                str(rec.get("label") or "").strip(),
                str(cr_from).strip() if cr_from not in (None, "") else None,
            )
        )
    return Funnel.from_rows(rows)


def line_name(channel: Any, campaign: Any) -> str:
    return f"{channel} / {campaign}" if campaign not in (None, "") else str(channel)


def read_plan(wb: WorkbookTarget, funnel: Funnel) -> tuple[Table, pd.DataFrame]:
    """Plan lines with numeric p / f / rr columns (NaN where blank), checked cell by cell.

    Negative spend is refused; so is text in a number cell.
    """
    table = wb.read_table(L.PLAN, header_row=L.PLAN_HEADER_ROW, stop_labels=(L.TOTAL_LABEL,))
    for key in L.KEYS:
        table.column(key)
    data: dict[str, list[Any]] = {k: table.values(k) for k in L.KEYS}
    for metric in funnel.metrics:
        for kind in ("p", "f", "rr"):
            header = L.abs_header(metric, kind)
            if not table.has(header):
                continue
            column: list[float] = []
            for i, raw in enumerate(table.values(header)):
                name = line_name(data["channel"][i], data["campaign"][i])
                where = f"{table.cell_ref(i, header)} ({name})"
                v = to_number(raw, where, header)
                if metric == "spend" and v < 0:
                    raise InputError("must not be negative", line=where, column=header, value=raw)
                column.append(v)
            data[header] = column
    return table, pd.DataFrame(data)


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
