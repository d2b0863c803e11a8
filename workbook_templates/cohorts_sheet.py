"""The Cohorts sheet: each week's leads followed week by week down the funnel, per channel.

For the user, from the top:

* a status line: as of which day, how many CRM deals, how many no Mapping rule matched;
* the cohort table (header row `HEADER_ROW`): per channel (the Total first) and lead week
  (weeks start on Monday, oldest first): leads, the week's spend, then per stage the deals that
  reached it by week 0, 1, … since their lead (cumulative; blank where the week has not come
  yet) and the stage's cumulative conversion rate so far, the revenue so far, the cost per PP
  and per purchase so far, the youngest lead's age and whether the cohort is still maturing
  (``yes``, and the row filled, by a conditional format: its purchases will still grow
  noticeably, see `CohortsReport.mature_age`);
* beside it the chart's data (the cumulative purchase CR of the latest cohorts of all channels
  by week since lead) with a line chart, and the run-rate notes (the Plan lines whose lower
  stages Refresh Run-Rate left on the usual method, and why);
* below, the lag curves (row `CURVES_ROW`): per channel and stage the share of leads that have
  reached the stage by day 0..H since the lead, with the leads and events it was estimated
  from, whether it is `enough` for a forecast and the channel's revenue per purchase. The
  RUNRATE formula's ``cohort`` method takes one of these columns as its curve, and Refresh
  Run-Rate reads them back (`read_curves`) when it has no fact store to compute them from.

Written by the template (`write_cohorts_template`: headers, formats, the conditional fills,
the chart), by Refresh Cohorts and Sync Facts (`write_cohorts`) and by Refresh Run-Rate
(`write_runrate_notes`). Read by Refresh Run-Rate (`read_curves`) and the user.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from planning.cohorts import COHORT_STAGES, POOLED, CohortTable, LagCurve
from sheets_sync.cells import is_blank
from sheets_sync.i18n import LANGUAGES, translator
from sheets_sync.workbooks.interface import WorkbookTarget
from sheets_sync.workbooks.roles import language_of
from workbook_templates import layout as L
from workbook_templates.fact_blocks import padded
from workbook_templates.styles import (
    FILL_TOTAL,
    FMT_COST,
    FMT_COUNT,
    FMT_CR,
    FMT_DATE,
    FMT_INT,
    FMT_MONEY,
    FMT_PCT,
    FMT_X,
    FONT_BOLD,
    FONT_NOTE,
    FONT_TITLE,
    header_row,
)

COHORTS = "Cohorts"
WEEKS = 8
"""Lead weeks shown per channel, and weeks since the lead (0..WEEKS-1)."""
STAGES: tuple[str, ...] = COHORT_STAGES
STAGE_LABELS = {"pp": "PP", "negotiations": "negotiations", "purchases": "purchases"}
STATUS_ROW = 3
HEADER_ROW = 5
FIRST_ROW = HEADER_ROW + 1
CHANNEL_SLOTS = 31
"""Channels the table has room for (the Total included): more are left out and said so."""
ROW_SLOTS = CHANNEL_SLOTS * WEEKS
HEADERS: tuple[str, ...] = (
    "channel",
    "lead week",
    "leads",
    "spend",
    *(
        h
        for s in STAGES
        for h in (*(f"{STAGE_LABELS[s]} w{k}" for k in range(WEEKS)), f"{STAGE_LABELS[s]} CR")
    ),
    "revenue",
    "cost per PP",
    "cost per purchase",
    "youngest lead, days",
    "maturing",
)
MATURING = "yes"
CHART_COL = len(HEADERS) + 2
"""The chart's data: `CHART_COHORTS` latest lead weeks (all channels) by week since lead."""
CHART_COHORTS = 6
CHART_ROW = HEADER_ROW + WEEKS + 2
"""The chart's top left corner (at `CHART_COL`), under its data; it takes some 18 rows."""
NOTES_ROW = CHART_ROW + 20
NOTE_SLOTS = 40
CURVES_ROW = FIRST_ROW + ROW_SLOTS + 2
"""The lag curves block: its title; the rows `CURVE_LABELS` below it, then day 0..H."""
CURVE_LABELS: tuple[str, ...] = (
    "channel",
    "stage",
    "leads",
    "events",
    "oldest lead, days",
    "shrink weight",
    "enough",
    "revenue per purchase",
)
CURVE_FIRST_DAY_ROW = CURVES_ROW + 1 + len(CURVE_LABELS)
CURVES_TITLE = "Lag curves: the share of leads that reached the stage by day since the lead"
HORIZON = 90
"""Days the published curves run to (F[0..HORIZON])."""
CURVE_SLOTS = CHANNEL_SLOTS * len(STAGES)
FILL_MATURING = PatternFill("solid", fgColor="FCE4D6")
NOTE = (
    "Press Refresh Cohorts (Sync Facts does it too) to fill it from the CRM deals in the fact "
    "store. Each row is the leads of one week followed week by week: how many reached PP, "
    "negotiations and a purchase by week 0, 1, 2 … since the lead. Rows marked maturing are "
    "too young: their purchases will still grow. The lag curves below feed the Plan's run-rate "
    "of the lower stages (and RUNRATE's cohort method)."
)
NO_DEALS = (
    "No CRM deals in the fact store yet: add a CRM export (kind = crm) to sync.toml and press "
    "Sync Facts."
)


@dataclass(frozen=True)
class CohortsReport:
    """What the sheet shows: the cohort table and the lag curves as of a day.

    `mature_age` per channel (`POOLED` for the Total): the age in days by which a lead has made
    most of its purchases (the channel's purchase curve reaches 90% of its last value); a lead
    week whose youngest lead is younger is still maturing. None: no purchase yet to tell by
    (then every lead week younger than `WEEKS` weeks is maturing)."""

    as_of: dt.date
    table: CohortTable | None
    curves: Mapping[tuple[str, str], LagCurve]
    per_purchase: Mapping[str, float] = field(default_factory=dict)
    mature_age: Mapping[str, int | None] = field(default_factory=dict)
    status: str = ""


@dataclass(frozen=True)
class PublishedCurves:
    """The lag curves the sheet holds (`read_curves`) and each channel's revenue per purchase."""

    curves: dict[tuple[str, str], LagCurve]
    per_purchase: dict[str, float]
    as_of: dt.date | None


# --------------------------------------------------------------------------- template


def write_cohorts_template(wb: Workbook) -> None:
    """Add the Cohorts sheet: title, note, headers, formats, the conditional fills, the chart."""
    ws = wb.create_sheet(COHORTS)
    ws["A1"] = COHORTS
    ws["A1"].font = FONT_TITLE
    ws["A2"] = NOTE
    ws["A2"].font = FONT_NOTE
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=16)
    ws.row_dimensions[2].height = 44
    ws.cell(row=STATUS_ROW, column=1, value=NO_DEALS).font = FONT_NOTE
    header_row(ws, HEADER_ROW, HEADERS)
    ws.row_dimensions[HEADER_ROW].height = 30
    last = FIRST_ROW + ROW_SLOTS - 1
    for c, header in enumerate(HEADERS, start=1):
        fmt = column_format(header)
        for r in range(FIRST_ROW, last + 1):
            ws.cell(row=r, column=c).number_format = fmt
        ws.column_dimensions[get_column_letter(c)].width = 8 if " w" in header else 11
    ws.column_dimensions["A"].width = 18
    end = get_column_letter(len(HEADERS))
    maturing = f'${get_column_letter(len(HEADERS))}{FIRST_ROW}="{MATURING}"'
    total = f'$A{FIRST_ROW}="{L.TOTAL_LABEL}"'
    where = f"A{FIRST_ROW}:{end}{last}"
    ws.conditional_formatting.add(where, FormulaRule(formula=[total], font=FONT_BOLD))
    ws.conditional_formatting.add(where, FormulaRule(formula=[maturing], fill=FILL_MATURING))
    ws.conditional_formatting.add(where, FormulaRule(formula=[total], fill=FILL_TOTAL))
    _chart_block(ws)
    _curves_block(ws)
    ws.freeze_panes = ws.cell(row=FIRST_ROW, column=3)


def column_format(header: str) -> str:
    """The number format of a cohort-table column."""
    if header == "lead week":
        return FMT_DATE
    if header.endswith(" CR"):
        return FMT_CR
    if header in ("spend", "revenue"):
        return FMT_MONEY
    if header.startswith("cost per"):
        return FMT_COST
    if header in ("channel", "maturing"):
        return "General"
    return FMT_COUNT if header != "youngest lead, days" else FMT_INT


def _chart_block(ws: Worksheet) -> None:
    ws.cell(
        row=HEADER_ROW - 1, column=CHART_COL, value="Purchase CR by week since lead"
    ).font = FONT_BOLD
    ws.cell(row=HEADER_ROW, column=CHART_COL, value="week since lead")
    for k in range(WEEKS):
        ws.cell(row=HEADER_ROW + 1 + k, column=CHART_COL, value=k)
        for j in range(CHART_COHORTS):
            ws.cell(row=HEADER_ROW + 1 + k, column=CHART_COL + 1 + j).number_format = FMT_CR
    ws.column_dimensions[get_column_letter(CHART_COL)].width = 14
    ws.cell(row=NOTES_ROW, column=CHART_COL, value="Run-rate notes").font = FONT_BOLD
    chart = LineChart()
    chart.title = "Purchases / leads by week since the lead (latest lead weeks, all channels)"
    chart.y_axis.title = "cumulative purchase CR"
    chart.x_axis.title = "weeks since the lead"
    chart.y_axis.number_format = FMT_PCT
    chart.y_axis.delete = False
    chart.x_axis.delete = False
    data = Reference(
        ws,
        min_col=CHART_COL + 1,
        max_col=CHART_COL + CHART_COHORTS,
        min_row=HEADER_ROW,
        max_row=HEADER_ROW + WEEKS,
    )
    cats = Reference(ws, min_col=CHART_COL, min_row=HEADER_ROW + 1, max_row=HEADER_ROW + WEEKS)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(cats)
    chart.height, chart.width = 9, 18
    ws.add_chart(chart, f"{get_column_letter(CHART_COL)}{CHART_ROW}")


def _curves_block(ws: Worksheet) -> None:
    ws.cell(row=CURVES_ROW, column=1, value=CURVES_TITLE).font = FONT_BOLD
    for i, label in enumerate(CURVE_LABELS, start=CURVES_ROW + 1):
        ws.cell(row=i, column=1, value=label).font = FONT_BOLD
    for d in range(HORIZON + 1):
        ws.cell(row=CURVE_FIRST_DAY_ROW + d, column=1, value=d)
    for c in range(2, 2 + CURVE_SLOTS):
        for r in range(CURVE_FIRST_DAY_ROW, CURVE_FIRST_DAY_ROW + HORIZON + 1):
            ws.cell(row=r, column=c).number_format = FMT_CR
        ws.cell(
            row=CURVES_ROW + 1 + CURVE_LABELS.index("shrink weight"), column=c
        ).number_format = FMT_X
        ws.cell(
            row=CURVES_ROW + 1 + CURVE_LABELS.index("revenue per purchase"), column=c
        ).number_format = FMT_MONEY


# --------------------------------------------------------------------------- writing


def _num(v: Any, digits: int = 6) -> float | None:
    if v is None:
        return None
    f = float(v)
    return round(f, digits) if math.isfinite(f) else None


def _label(channel: str) -> str:
    return L.TOTAL_LABEL if channel == POOLED else channel


def _channel_order(frame: pd.DataFrame) -> list[str]:
    """The Total first, then the channels by their leads (most first), then by name."""
    first = frame[frame["week_since"] == 0]
    leads = first.groupby("channel", sort=False)["leads"].sum()
    named = sorted((c for c in leads.index if c != POOLED), key=lambda c: (-leads[c], str(c)))
    return ([POOLED] if POOLED in leads.index else []) + named


def _youngest_age(week: pd.Timestamp, as_of: dt.date) -> int:
    sunday = week.date() + dt.timedelta(days=6)
    return (as_of - min(sunday, as_of)).days


def cohort_rows(report: CohortsReport) -> list[list[Any]]:
    """The cohort table's rows in `HEADERS` order (at most `ROW_SLOTS`)."""
    table = report.table
    if table is None or table.frame.empty:
        return []
    frame = table.frame.sort_values(["channel", "cohort_week", "week_since"])
    rows: list[list[Any]] = []
    for channel in _channel_order(frame)[:CHANNEL_SLOTS]:
        mine = frame[frame["channel"] == channel]
        for week in sorted(mine["cohort_week"].unique()):
            cohort = mine[mine["cohort_week"] == week]
            rows.append(_cohort_row(report, channel, pd.Timestamp(week), cohort))
    return rows


def _cohort_row(
    report: CohortsReport, channel: str, week: pd.Timestamp, cohort: pd.DataFrame
) -> list[Any]:
    """One lead week of one channel: `cohort` is its rows, one per week since the lead."""
    since = cohort["week_since"].to_numpy(dtype=np.int64)
    latest = {c: cohort[c].to_numpy()[-1] for c in cohort.columns}
    stages: list[Any] = []
    for s in STAGES:
        by_week = dict(
            zip(since.tolist(), cohort[s].to_numpy(dtype=np.int64).tolist(), strict=True)
        )
        stages += [*(by_week.get(k) for k in range(WEEKS)), _num(latest[f"{s}_cr"])]
    age = _youngest_age(week, report.as_of)
    mature = report.mature_age.get(channel)
    young = age < mature if mature is not None else int(since[-1]) < WEEKS - 1
    return [
        _label(channel),
        week.date(),
        int(latest["leads"]),
        _num(latest["spend"], 2),
        *stages,
        _num(latest["revenue"], 2),
        _num(latest["cost_per_pp"], 2),
        _num(latest["cost_per_purchase"], 2),
        age,
        MATURING if young else None,
    ]


def chart_rows(report: CohortsReport) -> list[list[Any]]:
    """The chart's block: a header row (week since lead, the latest lead weeks) and per week
    since lead the all-channel cumulative purchase CR (blank where not reached yet)."""
    header: list[Any] = ["week since lead"]
    columns: list[list[Any]] = []
    table = report.table
    if table is not None and not table.frame.empty:
        total = table.frame[table.frame["channel"] == POOLED]
        weeks = sorted(total["cohort_week"].unique())[-CHART_COHORTS:]
        for week in weeks:
            cohort = total[total["cohort_week"] == week]
            cr = dict(zip(cohort["week_since"].astype(int), cohort["purchases_cr"], strict=True))
            header.append(f"{pd.Timestamp(week):%Y-%m-%d}")
            columns.append([_num(cr.get(k)) for k in range(WEEKS)])
    rows = [header]
    for k in range(WEEKS):
        rows.append([k, *(col[k] for col in columns)])
    return padded(rows, WEEKS + 1, CHART_COHORTS + 1)


def curve_columns(report: CohortsReport) -> list[list[Any]]:
    """The lag curves block as rows (`CURVE_LABELS`, then day 0..`HORIZON`), one column per
    (channel, stage): the pooled curves (Total) first, then the channels by name."""
    keys = sorted(report.curves, key=lambda k: (k[0] != POOLED, k[0], STAGES.index(k[1])))
    keys = [k for k in keys if k[1] in STAGES][:CURVE_SLOTS]
    rows: list[list[Any]] = [[label] for label in CURVE_LABELS]
    rows += [[d] for d in range(HORIZON + 1)]
    for key in keys:
        curve = report.curves[key]
        head = [
            _label(curve.channel),
            curve.stage,
            int(curve.leads),
            int(curve.events),
            int(curve.max_age_observed),
            _num(curve.shrink_weight, 4),
            "yes" if curve.enough else "no",
            _num(report.per_purchase.get(curve.channel), 2),
        ]
        shares = curve.share_by(np.arange(HORIZON + 1))
        values = [*head, *(_num(v) for v in shares)]
        for row, value in zip(rows, values, strict=True):
            row.append(value)
    return padded(rows, len(rows), 1 + CURVE_SLOTS)


AS_OF = "As of {date}."
"""The status line of a filled sheet; the date stays ISO (``_as_of_of`` reads it back)."""


def status_text(report: CohortsReport, lang: str = "en") -> str:
    t = translator(lang)
    if report.table is None or report.table.frame.empty:
        return report.status or t(NO_DEALS)
    return report.status or t(AS_OF, date=f"{report.as_of:%Y-%m-%d}")


def write_cohorts(wb: WorkbookTarget, report: CohortsReport) -> int:
    """Stage the whole sheet from `report` (every block cleared to its slots); the sheet is
    added when missing. Returns the cohort rows written. The caller saves."""
    t = translator(language_of(wb))
    if COHORTS not in wb.sheet_names():
        wb.add_sheet(COHORTS)
        wb.write_block(COHORTS, 1, 1, [[t(COHORTS)], [t(NOTE)]])
    rows = cohort_rows(report)
    gap: list[list[Any]] = [[None]] * (HEADER_ROW - STATUS_ROW - 1)
    headers = [t(h) for h in HEADERS]
    block: list[list[Any]] = [[status_text(report, t.lang)], *gap, headers, *rows]
    size = HEADER_ROW - STATUS_ROW + 1 + ROW_SLOTS
    wb.write_block(COHORTS, STATUS_ROW, 1, padded(block, size, len(HEADERS)))
    wb.write_block(COHORTS, HEADER_ROW, CHART_COL, chart_rows(report))
    wb.write_block(COHORTS, CURVES_ROW, 1, [[t(CURVES_TITLE)], *curve_columns(report)])
    return len(rows)


def write_runrate_notes(wb: WorkbookTarget, notes: Sequence[str]) -> None:
    """Stage the run-rate notes beside the chart (the sheet must exist; at most `NOTE_SLOTS`,
    the rest counted in the last line)."""
    lines = list(notes)
    if len(lines) > NOTE_SLOTS:
        lines = [*lines[: NOTE_SLOTS - 1], f"… and {len(lines) - NOTE_SLOTS + 1} more"]
    block = [[translator(language_of(wb))("Run-rate notes")], *([n] for n in lines)]
    wb.write_block(COHORTS, NOTES_ROW, CHART_COL, padded(block, NOTE_SLOTS + 1, 1))


# --------------------------------------------------------------------------- reading


def read_curves(wb: WorkbookTarget) -> PublishedCurves:
    """The lag curves the sheet publishes (empty when the sheet or its curves are missing).
    A column whose header or shares cannot be read is skipped."""
    empty = PublishedCurves({}, {}, None)
    if COHORTS not in wb.sheet_names():
        return empty
    n_rows = len(CURVE_LABELS) + HORIZON + 1
    cells = wb.read_cells(COHORTS, CURVES_ROW + 1, 1, n_rows, 1 + CURVE_SLOTS, formulas=False)
    if not cells or [str(r[0]).strip() if r[0] is not None else "" for r in cells[:1]] != [
        "channel"
    ]:
        return empty
    head = {label: cells[i] for i, label in enumerate(CURVE_LABELS)}
    curves: dict[tuple[str, str], LagCurve] = {}
    per_purchase: dict[str, float] = {}
    for c in range(1, 1 + CURVE_SLOTS):
        curve = _curve_at(head, cells[len(CURVE_LABELS) :], c)
        if curve is None:
            continue
        curves[(curve.channel, curve.stage)] = curve
        revenue = head["revenue per purchase"][c]
        if isinstance(revenue, int | float) and math.isfinite(revenue):
            per_purchase[curve.channel] = float(revenue)
    return PublishedCurves(curves, per_purchase, _as_of_of(wb))


def _curve_at(
    head: Mapping[str, Sequence[Any]], days: Sequence[Sequence[Any]], c: int
) -> LagCurve | None:
    channel, stage = head["channel"][c], head["stage"][c]
    if is_blank(channel) or str(stage).strip() not in STAGES:
        return None
    try:
        shares = np.array([float(r[c]) for r in days], dtype=np.float64)
        numbers = [int(float(head[k][c])) for k in ("leads", "events", "oldest lead, days")]
        weight = float(head["shrink weight"][c])
    except (TypeError, ValueError):
        return None
    if not np.all(np.isfinite(shares)) or np.any(np.diff(shares) < -1e-9):
        return None
    name = str(channel).strip()
    return LagCurve(
        channel=POOLED if name == L.TOTAL_LABEL else name,
        stage=str(stage).strip(),
        cumulative=np.clip(shares, 0.0, 1.0),
        leads=numbers[0],
        events=numbers[1],
        shrink_weight=weight,
        max_age_observed=numbers[2],
        enough=str(head["enough"][c]).strip().lower() in ("yes", "true", "1"),
    )


def _as_of_of(wb: WorkbookTarget) -> dt.date | None:
    """The as-of the status line names (``As of YYYY-MM-DD``), when it does."""
    (line,) = wb.read_cells(COHORTS, STATUS_ROW, 1, 1, 1, formulas=False)
    text = str(line[0] or "")
    for lang in LANGUAGES:  # the status line in either language: its prefix, then the date
        prefix = translator(lang)(AS_OF).split("{date}")[0]
        if text.startswith(prefix):
            start = len(prefix)
            try:
                return dt.date.fromisoformat(text[start : start + 10])
            except ValueError:
                return None
    return None
