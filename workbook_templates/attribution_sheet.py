"""The Attribution sheet: which channels really bring the leads and purchases.

For the user: the settings at the top (model, Markov order, lookback and half-life in days, the
period), then per channel for leads and for purchases every model's credit side by side, the
true CPA by the chosen model against the last-click one, closed and assisted conversions, the
removal effect, a plain verdict, the budget the removal effects suggest and the factor Optimize
Split uses with the objective ``attributed`` (chosen model ÷ last click); below, the journeys
check (what was filtered and counted). A bar chart compares the models per channel.

Written by the template (`write_attribution_template`: settings with drop-downs, headers, the
chart over `CHANNEL_SLOTS` rows) and by the Attribution button (`write_report`). Read by the
Attribution button (`read_attribution_settings`) and Optimize Split (`read_factors`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from planning.attribution import MODELS
from planning.attribution_report import AttributionReport, ChannelCredit
from planning.errors import InputError
from sheets_sync.cells import is_blank
from sheets_sync.i18n import LANGUAGES, Translator, translator
from sheets_sync.quality_text import localize_number
from sheets_sync.workbooks.interface import WorkbookTarget
from sheets_sync.workbooks.roles import canonical_label, language_of
from workbook_templates import input_checks as checks
from workbook_templates.cells import to_date, to_number
from workbook_templates.fact_blocks import padded
from workbook_templates.styles import (
    FILL_INPUT,
    FMT_COST,
    FMT_COUNT,
    FMT_COUNT_1DP,
    FMT_PCT,
    FMT_X,
    FONT_BOLD,
    FONT_NOTE,
    FONT_TITLE,
    header_row,
)

ATTRIBUTION = "Attribution"
SETTINGS_ROW = 4  # header row of the settings block
SETTINGS = (
    ("model", "markov", "the model the true CPA, the verdicts and Optimize Split use"),
    ("order", 1, "Markov chain order: 1, 2 or 3 (how many past touches a step remembers)"),
    ("lookback, days", 30, "touches older than this before the conversion do not count"),
    ("half-life, days", 7, "time decay: a touch this much older counts half"),
    ("from", None, "first day of conversions (blank: the plan month's first day)"),
    ("to", None, "last day of conversions (blank: the as-of day)"),
)
LEADS_TITLE_ROW = SETTINGS_ROW + len(SETTINGS) + 2
CHANNEL_SLOTS = 30  # rows each table has (the chart covers the leads table's)
PURCHASES_TITLE_ROW = LEADS_TITLE_ROW + CHANNEL_SLOTS + 3
CHECK_ROW = PURCHASES_TITLE_ROW + CHANNEL_SLOTS + 3
MODEL_LABELS = {m: m.replace("_", " ") for m in MODELS}
HEADERS = (
    "channel",
    "spend",
    *(MODEL_LABELS[m] for m in MODELS),
    "true CPA",
    "last-click CPA",
    "closed",
    "assisted",
    "assist ratio",
    "removal effect",
    "verdict",
    "proposed spend",
    "factor",
)
VERDICTS = {
    "under_credited": "under-credited by last click: brings more than it gets credit for",
    "cannibalising": "cannibalising: takes last-click credit for conversions others started",
    "assist": "assist channel: starts journeys that others close",
    "as_last_click": "as last click says",
    "no_journeys": "spend but no journeys: check its UTMs and the Mapping sheet",
    "no_touch": "conversions with no touch inside the lookback",
}


def verdict_text(code: str, t: Translator) -> str:
    """A verdict code (`planning.attribution_report`) as the sheet shows it, in `t`'s language;
    a code with no text (an empty cell, a newer code) as written. The code stays the data
    (``--json``, the planning layer); only the sheet, the Review and the report show the text."""
    text = VERDICTS.get(code)
    return t(text) if text else code


@lru_cache(maxsize=1)
def _codes_by_text() -> dict[str, str]:
    out = {code: code for code in VERDICTS}
    for lang in LANGUAGES:
        t = translator(lang)
        out |= {_fold(t(text)): code for code, text in VERDICTS.items()}
    return out


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold().replace("ё", "е")


def verdict_code(text: object) -> str:
    """Back from a verdict cell: the code of a verdict shown in either language (or the code
    itself, or the text's spaces and case changed); an unknown text as written, stripped."""
    shown = "" if is_blank(text) else str(text).strip()
    return _codes_by_text().get(_fold(shown), shown)


NOTE = (
    "Press Attribution to fill it from the journeys (sources of kind `paths` in sync.toml). "
    "true CPA = spend / the chosen model's conversions; removal effect = share of conversions "
    "lost without the channel; factor = chosen model ÷ last click (Optimize Split, objective "
    "`attributed`)."
)


@dataclass(frozen=True)
class AttributionSettings:
    model: str = "markov"
    order: int = 1
    lookback_days: float = 30.0
    half_life_days: float = 7.0
    start: dt.date | None = None
    end: dt.date | None = None


def write_attribution_template(wb: Workbook) -> None:
    """Add the Attribution sheet: settings with drop-downs, the two tables' headers, the chart."""
    ws = wb.create_sheet(ATTRIBUTION)
    ws["A1"] = "Attribution"
    ws["A1"].font = FONT_TITLE
    ws["A2"] = NOTE
    ws["A2"].font = FONT_NOTE
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=12)
    ws.row_dimensions[2].height = 44
    header_row(ws, SETTINGS_ROW, ("setting", "value", "help"))
    for i, (key, value, help_) in enumerate(SETTINGS, start=SETTINGS_ROW + 1):
        ws.cell(row=i, column=1, value=key)
        cell = ws.cell(row=i, column=2, value=value)
        cell.fill = FILL_INPUT
        if key in ("from", "to"):
            cell.number_format = "yyyy-mm-dd"
        ws.cell(row=i, column=3, value=help_).font = FONT_NOTE
    first = SETTINGS_ROW + 1
    model = checks.choice(f"B{first}", MODELS, "Attribution model")
    order = checks.whole(f"B{first + 1}", 1, 3, "Markov order", "1, 2 or 3")
    days = checks.decimal(f"B{first + 2}:B{first + 3}", 0.01, 3650, "Days", "days, more than 0")
    dates = checks.date(f"B{first + 4}:B{first + 5}", "Period")
    for dv in (model, order, days, dates):
        ws.add_data_validation(dv)
    for title_row, title in ((LEADS_TITLE_ROW, "Leads"), (PURCHASES_TITLE_ROW, "Purchases")):
        ws.cell(row=title_row, column=1, value=title).font = FONT_BOLD
        header_row(ws, title_row + 1, HEADERS)
        ws.row_dimensions[title_row + 1].height = 30
        for c in range(1, len(HEADERS) + 1):
            ws.cell(row=title_row + 1, column=c).alignment = Alignment(
                wrap_text=True, horizontal="center", vertical="center"
            )
        for r in range(title_row + 2, title_row + 2 + CHANNEL_SLOTS):
            for c, header in enumerate(HEADERS, start=1):
                fmt = _format(header)
                if fmt:
                    ws.cell(row=r, column=c).number_format = fmt
    ws.cell(row=CHECK_ROW, column=1, value="Journeys check").font = FONT_BOLD
    widths = {"A": 18, "B": 12}
    for col in range(1, len(HEADERS) + 1):
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = widths.get(letter, 11)
    ws.column_dimensions[get_column_letter(HEADERS.index("verdict") + 1)].width = 44
    ws.column_dimensions["C"].width = 13
    _chart(ws)
    ws.freeze_panes = "B1"


def _format(header: str) -> str | None:
    if header in ("spend", "true CPA", "last-click CPA", "proposed spend"):
        return FMT_COST if "CPA" in header else FMT_COUNT
    if header in ("removal effect",):
        return FMT_PCT
    if header in ("assist ratio", "factor"):
        return FMT_X
    if header in (*MODEL_LABELS.values(), "closed", "assisted"):
        return FMT_COUNT_1DP
    return None


def _chart(ws: Any) -> None:
    chart = BarChart()
    chart.type = "bar"
    chart.title = "Leads by model, per channel"
    chart.y_axis.title = "leads"
    header = LEADS_TITLE_ROW + 1
    first_model = HEADERS.index(MODEL_LABELS[MODELS[0]]) + 1
    last_model = HEADERS.index(MODEL_LABELS[MODELS[-1]]) + 1
    data = Reference(
        ws, min_col=first_model, max_col=last_model, min_row=header, max_row=header + CHANNEL_SLOTS
    )
    cats = Reference(ws, min_col=1, min_row=header + 1, max_row=header + CHANNEL_SLOTS)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(cats)
    chart.height, chart.width = 12, 22
    ws.add_chart(chart, f"{get_column_letter(len(HEADERS) + 2)}{SETTINGS_ROW}")


# --------------------------------------------------------------------------- reading


def read_attribution_settings(wb: WorkbookTarget) -> AttributionSettings:
    """The settings block, checked (`InputError` naming the cell); defaults where blank or
    when the workbook has no Attribution sheet."""
    if ATTRIBUTION not in wb.sheet_names():
        return AttributionSettings()
    cells = wb.read_cells(ATTRIBUTION, SETTINGS_ROW + 1, 1, len(SETTINGS), 2, formulas=False)
    found = {canonical_label(str(k)).lower(): v for k, v in cells if not is_blank(k)}
    row = {key: SETTINGS_ROW + 1 + i for i, (key, _, _) in enumerate(SETTINGS)}

    def where(key: str) -> str:
        return f"{ATTRIBUTION}!B{row[key]}"

    model = canonical_label(str(found.get("model") or "markov")).lower().replace(" ", "_")
    if model not in MODELS:
        raise InputError(
            f"must be one of: {', '.join(MODELS)}",
            line=where("model"),
            column="model",
            value=found.get("model"),
        )
    values: dict[str, float] = {}
    for key, default in (("order", 1.0), ("lookback, days", 30.0), ("half-life, days", 7.0)):
        raw = found.get(key)
        v = default if is_blank(raw) else to_number(raw, where(key), key)
        if math.isnan(v) or v <= 0:
            raise InputError("must be a number above 0", line=where(key), column=key, value=raw)
        values[key] = v
    if values["order"] not in (1.0, 2.0, 3.0):
        raise InputError(
            "must be 1, 2 or 3", line=where("order"), column="order", value=found.get("order")
        )
    dates = {
        k: None if is_blank(found.get(k)) else to_date(found.get(k), where(k), k)
        for k in ("from", "to")
    }
    return AttributionSettings(
        model,
        int(values["order"]),
        values["lookback, days"],
        values["half-life, days"],
        dates["from"],
        dates["to"],
    )


def read_factors(wb: WorkbookTarget) -> dict[str, float]:
    """Per channel the leads factor (chosen model ÷ last click) the last Attribution wrote;
    empty when there is none."""
    if ATTRIBUTION not in wb.sheet_names():
        return {}
    cells = wb.read_cells(
        ATTRIBUTION, LEADS_TITLE_ROW + 2, 1, CHANNEL_SLOTS, len(HEADERS), formulas=False
    )
    col = HEADERS.index("factor")
    out = {}
    for line in cells:
        if is_blank(line[0]):
            break
        v = line[col]
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v > 0:
            out[str(line[0]).strip()] = float(v)
    return out


# --------------------------------------------------------------------------- writing


def _number(v: float) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), 4)


def channel_row(c: ChannelCredit, t: Translator) -> list[Any]:
    return [
        c.channel,
        _number(c.spend),
        *(_number(c.conversions[m]) if m in c.conversions else None for m in MODELS),
        _number(c.true_cpa),
        _number(c.last_click_cpa),
        _number(c.last_touch),
        _number(c.assisted),
        _number(c.assist_ratio),
        _number(c.removal_effect),
        verdict_text(c.verdict, t),
        _number(c.proposed_spend),
        _number(c.factor),
    ]


def _table(report: AttributionReport | None, title: str, t: Translator) -> list[list[Any]]:
    if report is None:
        return [[t("{title}: no journeys with this conversion", title=t(title))]]
    text = t(
        "{title}: {n} conversions, chosen model {model} (order {order}); conversion rate of "
        "the journeys {rate}",
        title=t(title),
        n=localize_number(f"{report.conversions:,.0f}", t.lang),
        model=t(report.chosen),
        order=report.order,
        rate=localize_number(f"{report.conversion_rate:.2%}", t.lang),
    )
    if report.skipped_models:
        text += t("; not computed: {models}", models="; ".join(report.skipped_models))
    rows = [[text], [t(h) for h in HEADERS]]
    rows += [channel_row(c, t) for c in report.channels[:CHANNEL_SLOTS]]
    return rows


def _issues_rows(
    reports: Sequence[tuple[str, AttributionReport | None]], t: Translator
) -> list[list[Any]]:
    rows: list[list[Any]] = [[t("Journeys check"), *(t(kind) for kind, _ in reports)]]
    present = [r for _, r in reports if r is not None]
    if not present:
        return rows
    for f in fields(present[0].issues):
        rows.append(
            [
                f.name.replace("_", " "),
                *(getattr(r.issues, f.name) if r else None for _, r in reports),
            ]
        )
    return rows


SOURCE_HEADERS = ("source", "file", "touches", "journeys", "converting", "quarantined", "notes")
SOURCES_COL = 6  # F: the inputs' block, beside the journeys check


def write_sources(wb: WorkbookTarget, rows: Sequence[Sequence[Any]]) -> None:
    """Beside the journeys check: each journeys input read (`SOURCE_HEADERS`), so what the
    readers set aside (unreadable rows quarantined, odd journeys counted) is in view."""
    t = translator(language_of(wb))
    block = [[t("Journeys sources")], [t(h) for h in SOURCE_HEADERS], *(list(r) for r in rows[:18])]
    wb.write_block(ATTRIBUTION, CHECK_ROW, SOURCES_COL, padded(block, 20, len(SOURCE_HEADERS)))


def write_report(
    wb: WorkbookTarget, leads: AttributionReport | None, purchases: AttributionReport | None
) -> None:
    """The two tables and the journeys check, each block cleared to its slots first."""
    t = translator(language_of(wb))
    blank = [[None] * len(HEADERS) for _ in range(CHANNEL_SLOTS + 2)]
    for title_row, report, title in (
        (LEADS_TITLE_ROW, leads, "Leads"),
        (PURCHASES_TITLE_ROW, purchases, "Purchases"),
    ):
        block = _table(report, title, t)
        wb.write_block(ATTRIBUTION, title_row, 1, padded(block, len(blank), len(HEADERS)))
    issues = _issues_rows([("leads", leads), ("purchases", purchases)], t)
    wb.write_block(ATTRIBUTION, CHECK_ROW, 1, padded(issues, 20, 3))
