"""The Settings sheet: the month's settings and the funnel's stages.

For the user: a key/value table in A:C (month, as of, days in / elapsed / left as formulas,
run-rate window and method, currency, chart metric) and, from column E, the stage chain
(stage, label, cr from) that every Plan column and ratio follows. Named cells (``Month``,
``AsOf``, ``DaysInMonth``, ``DaysElapsed``, ``DaysLeft``) feed the other sheets' formulas.

Written by the template (`write_settings_template`); Refresh Run-Rate writes `as of` at the cell
`read_settings` reports. Every button reads it: `read_settings` (checked settings) and
`read_funnel` (the stages).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.workbook.defined_name import DefinedName

from planning.errors import InputError
from planning.funnel import Funnel
from planning.runrate import METHODS, parse_month
from sheets_sync.i18n import LANGUAGES, resolve_language, translator
from sheets_sync.workbooks.interface import WorkbookTarget
from workbook_templates import layout as L
from workbook_templates.cells import to_date, to_number
from workbook_templates.styles import (
    FMT_DATE,
    FMT_INT,
    FMT_MONTH,
    FMT_TEXT,
    FONT_BOLD,
    header_row,
)

SETTINGS_HEADERS = ("setting", "value", "help")
#: The workbook's language (``ru``/``en``), the last item of the key/value table; a workbook
#: without it is English (`sheets_sync.workbooks.roles.language_of` reads it).
SETTING_LANGUAGE = "language"
STAGES_HEADERS = ("stage", "label", "cr from")


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
    language: str = "en"  # the workbook's language; a workbook without the item is English


@dataclass(frozen=True)
class _Row:
    """One setting of the template: key, value, help, defined name (or None), number format."""

    key: str
    value: object
    help: str
    name: str | None
    fmt: str


def _template_rows(
    month: dt.date,
    as_of: dt.date | None,
    window: int,
    method: str,
    currency: str,
    chart: str,
    language: str,
) -> list[_Row]:
    return [
        _Row(L.SETTING_MONTH, month, "first day of the planned month", "Month", FMT_MONTH),
        _Row(
            L.SETTING_AS_OF,
            as_of,
            "last complete day of facts (Refresh Run-Rate sets it)",
            "AsOf",
            FMT_DATE,
        ),
        _Row(L.SETTING_DAYS_IN_MONTH, "=DAY(EOMONTH(B2,0))", "formula", "DaysInMonth", FMT_INT),
        _Row(
            L.SETTING_DAYS_ELAPSED,
            '=IF(B3="",0,MAX(0,MIN(B4,B3-B2+1)))',
            "formula: days of the month up to as-of",
            "DaysElapsed",
            FMT_INT,
        ),
        _Row(L.SETTING_DAYS_LEFT, "=B4-B5", "formula", "DaysLeft", FMT_INT),
        _Row(
            L.SETTING_WINDOW, window, "run-rate: average of the last N complete days", None, FMT_INT
        ),
        _Row(
            L.SETTING_METHOD,
            method,
            "last_n, last_n_dow (day of week), linear or auto",
            None,
            FMT_TEXT,
        ),
        _Row(L.SETTING_CURRENCY, currency, "currency of spend and revenue", None, FMT_TEXT),
        _Row(L.SETTING_CHART_METRIC, chart, "metric drawn on the Executive chart", None, FMT_TEXT),
        _Row(
            SETTING_LANGUAGE,
            language,
            "workbook language: ru or en (New Month keeps it)",
            None,
            FMT_TEXT,
        ),
    ]


def write_settings_template(
    wb: Workbook,
    funnel: Funnel,
    *,
    month: dt.date,
    as_of: dt.date | None,
    window: int,
    method: str,
    currency: str,
    chart_metric: str,
    language: str = "en",
) -> None:
    """Add the Settings sheet (settings, their defined names, the stages table)."""
    ws = wb.create_sheet(L.SETTINGS)
    header_row(ws, L.SETTINGS_HEADER_ROW, SETTINGS_HEADERS)
    rows = _template_rows(month, as_of, window, method, currency, chart_metric, language)
    for r, row in enumerate(rows, start=2):
        ws.cell(row=r, column=1, value=row.key).font = FONT_BOLD
        c = ws.cell(row=r, column=2, value=row.value)
        c.number_format = row.fmt
        ws.cell(row=r, column=3, value=row.help)
        if row.name:
            wb.defined_names[row.name] = DefinedName(row.name, attr_text=f"{L.SETTINGS}!$B${r}")
    col0 = L.STAGES_FIRST_COL
    header_row(ws, L.SETTINGS_HEADER_ROW, STAGES_HEADERS, first_col=col0)
    for r, stage in enumerate(funnel.stages, start=2):
        ws.cell(row=r, column=col0, value=stage.name)
        ws.cell(row=r, column=col0 + 1, value=stage.title)
        ws.cell(row=r, column=col0 + 2, value=funnel.source_of(stage.name))
    for letter, width in zip("ABCEFG", (18, 14, 48, 14, 22, 12), strict=True):
        ws.column_dimensions[letter].width = width


def _month(raw: Any, where: str) -> dt.date:
    if isinstance(raw, (dt.date, dt.datetime)):
        return to_date(raw, where, L.SETTING_MONTH).replace(day=1)
    return parse_month(str(raw).strip())


def _window(raw: Any, where: str) -> int:
    window = to_number(raw, where, L.SETTING_WINDOW)
    if math.isnan(window) or window < 1 or window != int(window):
        raise InputError(
            "must be a whole number of days ≥ 1", line=where, column=L.SETTING_WINDOW, value=raw
        )
    return int(window)


def _method(raw: Any, where: str) -> str:
    method = str(raw or "last_n").strip()
    if method not in METHODS:
        raise InputError(
            f"is not a run-rate method; use one of {', '.join(METHODS)}",
            line=where,
            column=L.SETTING_METHOD,
            value=method,
        )
    return method


def _setting_key(raw: Any) -> str:
    """A setting's key in English whatever the workbook's language (``"месяц"`` → ``"month"``)."""
    key = str(raw if raw is not None else "").strip()
    for lang in LANGUAGES:
        found = translator(lang).reverse(key)
        if found is not None:
            return found.lower()
    return key.lower()


def _language(raw: Any) -> str:
    """The `language` item, checked; blank (a workbook from before it existed) is English."""
    if raw is None or not str(raw).strip():
        return "en"
    try:
        return resolve_language(str(raw))
    except ValueError as exc:
        raise InputError(str(exc), column=SETTING_LANGUAGE, value=raw) from exc


def read_settings(wb: WorkbookTarget) -> Settings:
    """The Settings sheet's settings, checked; a bad one names its cell."""
    table = wb.read_table(L.SETTINGS, header_row=L.SETTINGS_HEADER_ROW)
    keys = [_setting_key(k) for k in table.values("setting")]
    settings = dict(zip(keys, table.values("value"), strict=True))

    def get(key: str) -> Any:
        if key not in settings:
            raise InputError(f"sheet `{L.SETTINGS}` has no setting `{key}`")
        return settings[key]

    def ref(key: str) -> str:
        # a missing key only reaches here for a setting with a default (then the sheet is named)
        return table.cell_ref(keys.index(key), "value") if key in keys else L.SETTINGS

    month = _month(get(L.SETTING_MONTH), ref(L.SETTING_MONTH))
    as_of_raw = get(L.SETTING_AS_OF)
    as_of = None if as_of_raw in (None, "") else to_date(as_of_raw, ref(L.SETTING_AS_OF), "value")
    window = _window(get(L.SETTING_WINDOW), ref(L.SETTING_WINDOW))
    method = _method(settings.get(L.SETTING_METHOD), ref(L.SETTING_METHOD))
    return Settings(
        month=month,
        as_of=as_of,
        window=window,
        method=method,
        currency=str(settings.get(L.SETTING_CURRENCY) or "RUB"),
        chart_metric=str(settings.get(L.SETTING_CHART_METRIC) or "leads"),
        as_of_ref=ref(L.SETTING_AS_OF),
        as_of_row=table.first_row + keys.index(L.SETTING_AS_OF),
        as_of_col=table.column("value"),
        language=_language(settings.get(SETTING_LANGUAGE)),
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
