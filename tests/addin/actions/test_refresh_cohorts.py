"""Cohorts end to end: a CRM extract and an ad export written as files, synced into the fact
store, the Cohorts sheet filled (numbers checked by hand), the Refresh Cohorts button, and the
Plan's lower-stage run-rate on the cohort forecast (equal to `cohort_forecast` called
directly), with the fallback flagged; a workbook with no CRM keeps the usual run-rate."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from addin.actions.base import ActionContext, ActionError
from addin.actions.refresh_cohorts import mature_age
from addin.actions.refresh_runrate import refresh
from addin.actions.sync_facts import run_sync
from addin.registry import dispatch
from planning.cohorts import cohort_forecast, lag_curves, revenue_forecast, revenue_per_purchase
from planning.runrate import forecast_series
from sheets_sync.store import FactStore
from sheets_sync.sync_config import SyncConfig, load_config
from sheets_sync.workbooks.xlsx import XlsxWorkbook, save_atomic
from workbook_templates import layout as L
from workbook_templates.cohorts_sheet import (
    CHART_COL,
    COHORTS,
    CURVES_ROW,
    FIRST_ROW,
    HEADERS,
    NO_DEALS,
    NOTES_ROW,
    STATUS_ROW,
    read_curves,
)
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook
from workbook_templates.settings_sheet import read_settings

MONTH = dt.date(2026, 11, 1)
AS_OF = dt.date(2026, 11, 17)  # a Tuesday: lead weeks start on Mondays Sep 28 ... Nov 16
NOW = dt.datetime(2026, 11, 18, 1, 0)

CONFIG = """
workbook = "plan-2026-11.xlsx"
store = "facts.duckdb"

[[sources]]
name = "google_ads"
kind = "ad"
path = "ads.csv"
platform = "google_ads"

[[sources]]
name = "crm"
kind = "crm"
path = "crm.csv"

[[mapping]]
field = "utm_campaign"
match = "exact"
pattern = "brand"
channel = "Search"
campaign = "Brand"

[[mapping]]
field = "utm_campaign"
match = "contains"
pattern = "prosp"
channel = "Meta"
campaign = "Prospecting"
"""
LINES = pd.DataFrame(
    {
        "channel": ["Search", "Meta"],
        "campaign": ["Brand", "Prospecting"],
        "spend p": [30_000.0, 20_000.0],
        "leads p": [100.0, 50.0],
        "purchases p": [10.0, 5.0],
    }
)
CRM_HEADER = (
    "ID,Created,utm_source,utm_medium,utm_campaign,Stage,PP date,Negotiations date,"
    "Purchase date,Amount,Status"
)

Deal = tuple[str, str, str, str | None, str | None, str | None, float | None]
"""(id, campaign, created, PP day, negotiations day, purchase day, amount)."""

SMALL: list[Deal] = [
    # Search (utm_campaign brand), lead week Mon Oct 5:
    ("S1", "brand", "2026-10-05", "2026-10-07", "2026-10-14", "2026-10-20", 1000.0),
    ("S2", "brand", "2026-10-06", "2026-10-20", None, None, None),
    ("S3", "brand", "2026-10-11", None, None, None, None),
    # Search, lead week Mon Nov 2 (S4 has no negotiations date: reached by its purchase day)
    ("S4", "brand", "2026-11-02", "2026-11-03", None, "2026-11-10", 500.0),
    ("S5", "brand", "2026-11-03", None, None, None, None),
    # Meta (prosp): lead weeks Oct 12 and Nov 16
    ("M1", "prosp", "2026-10-12", "2026-10-13", None, None, None),
    ("M2", "prosp", "2026-11-16", None, None, None, None),
    # no Mapping rule matches it
    ("U1", "mystery", "2026-11-02", None, None, None, None),
]
SPEND = [
    *((f"2026-10-{d:02d}", "brand", 100.0) for d in range(5, 12)),  # week Oct 5: 700
    *((f"2026-11-{d:02d}", "brand", 200.0) for d in range(2, 9)),  # week Nov 2: 1,400
    *((f"2026-10-{d:02d}", "prosp", 50.0) for d in range(12, 19)),  # week Oct 12: 350
]


def write_crm(path: Path, deals: list[Deal]) -> None:
    lines = [CRM_HEADER]
    for i, campaign, created, pp, neg, bought, amount in deals:
        stage = "purchase" if bought else "negotiations" if neg else "pp" if pp else "lead"
        status = "won" if bought else "open"
        cells = [i, created, "google", "cpc", campaign, stage, pp or "", neg or "", bought or ""]
        cells += ["" if amount is None else f"{amount:.2f}", status]
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_ads(path: Path, rows: list[tuple[str, str, float]]) -> None:
    lines = ["Day,Campaign,Currency code,Cost,Impr.,Clicks"]
    lines += [f"{day},{campaign},RUB,{cost:.2f},100,10" for day, campaign, cost in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def setup(folder: Path, deals: list[Deal], spend: list[tuple[str, str, float]]) -> SyncConfig:
    (folder / "sync.toml").write_text(CONFIG, encoding="utf-8")
    cfg = load_config(folder / "sync.toml")
    write_crm(folder / "crm.csv", deals)
    write_ads(folder / "ads.csv", spend)
    spec = PlanWorkbookSpec(month=MONTH, lines=LINES, mapping=cfg.mapping)
    save_atomic(build_plan_workbook(spec), cfg.workbook)
    return cfg


def cohort_cells(book: Path) -> dict[tuple[str, dt.date], dict[str, Any]]:
    ws = openpyxl.load_workbook(book, data_only=True)[COHORTS]
    out = {}
    for row in ws.iter_rows(min_row=FIRST_ROW, max_col=len(HEADERS), values_only=True):
        if row[0] is None:
            break
        week = row[1].date() if isinstance(row[1], dt.datetime) else row[1]
        out[(row[0], week)] = dict(zip(HEADERS, row, strict=True))
    return out


def counts(row: dict[str, Any], label: str) -> list[Any]:
    return [row[f"{label} w{k}"] for k in range(8)]


# --------------------------------------------------------------------------- the sheet


def test_a_small_crm_extract_through_sync_and_store_onto_the_cohorts_sheet(
    tmp_path: Path,
) -> None:
    cfg = setup(tmp_path, SMALL, SPEND)
    result = run_sync(cfg, now=NOW, as_of=AS_OF)
    assert result.cohorts is not None
    with FactStore(cfg.store) as store:
        assert sorted(store.deals()["id"]) == ["M1", "M2", "S1", "S2", "S3", "S4", "S5", "U1"]
    rows = cohort_cells(cfg.workbook)
    oct5, nov2 = dt.date(2026, 10, 5), dt.date(2026, 11, 2)

    # Search, week Oct 5: S1 PP at 2 days (week 0), negotiations at 9 (week 1), purchase at 15
    # (week 2); S2 PP at 14 days (week 2); S3 nothing. 43 days to as-of: weeks 0..6 exist.
    s = rows[("Search", oct5)]
    assert (s["leads"], s["spend"]) == (3, 700.0)
    assert counts(s, "PP") == [1, 1, 2, 2, 2, 2, 2, None]
    assert counts(s, "negotiations") == [0, 1, 1, 1, 1, 1, 1, None]
    assert counts(s, "purchases") == [0, 0, 1, 1, 1, 1, 1, None]
    assert s["PP CR"] == pytest.approx(2 / 3, abs=1e-6)  # 2 of 3 leads
    assert s["purchases CR"] == pytest.approx(1 / 3, abs=1e-6)
    assert s["revenue"] == 1000.0
    assert s["cost per PP"] == 350.0  # 700 / 2
    assert s["cost per purchase"] == 700.0  # 700 / 1
    assert s["youngest lead, days"] == 37  # Sunday Oct 11 to Nov 17

    # Search, week Nov 2: S4 PP at 1 day; negotiations dated by its purchase (8 days, week 1).
    n = rows[("Search", nov2)]
    assert (n["leads"], n["spend"]) == (2, 1400.0)
    assert counts(n, "PP") == [1, 1, 1, None, None, None, None, None]
    assert counts(n, "negotiations") == [0, 1, 1, None, None, None, None, None]
    assert counts(n, "purchases") == [0, 1, 1, None, None, None, None, None]
    assert (n["purchases CR"], n["cost per PP"], n["cost per purchase"]) == (0.5, 1400.0, 1400.0)
    assert n["youngest lead, days"] == 9  # Sunday Nov 8

    # The Total sums the channels per week: Oct 12 is Meta's M1 alone (PP the next day).
    total = rows[(L.TOTAL_LABEL, dt.date(2026, 10, 12))]
    assert (total["leads"], total["spend"], counts(total, "PP")[:2]) == (1, 350.0, [1, 1])
    assert rows[(L.TOTAL_LABEL, nov2)]["leads"] == 2  # U1 is unmapped: not counted
    assert rows[(L.TOTAL_LABEL, dt.date(2026, 11, 16))]["leads"] == 1  # M2
    # a week without leads has no rate
    assert rows[("Search", dt.date(2026, 10, 12))]["PP CR"] is None
    # the Total first, then the channels by leads (Search 5, Meta 2)
    assert list(dict.fromkeys(k[0] for k in rows)) == [L.TOTAL_LABEL, "Search", "Meta"]

    # maturing: the youngest lead younger than the channel's mature age on its purchase curve
    curves = read_curves(XlsxWorkbook(cfg.workbook)).curves
    for (channel, _), row in rows.items():
        key = "" if channel == L.TOTAL_LABEL else channel
        mature = mature_age(curves[(key, "purchases")])
        assert mature is not None
        assert (row["maturing"] == "yes") == (row["youngest lead, days"] < mature)

    ws = openpyxl.load_workbook(cfg.workbook)[COHORTS]
    status = ws.cell(row=STATUS_ROW, column=1).value
    assert status.startswith("As of 2026-11-17: 8 CRM deals created since 2026-05-21")
    assert "1 matched no Mapping rule and are left out (most: crm google / cpc / mystery, 1)" in (
        status
    )
    # the curves block publishes every channel and stage and the pooled (Total) ones
    assert ws.cell(row=CURVES_ROW + 1, column=2).value == L.TOTAL_LABEL
    assert {(c.channel, c.stage) for c in curves.values()} == {
        (ch, st) for ch in ("", "Search", "Meta") for st in ("pp", "negotiations", "purchases")
    }


def test_the_refresh_cohorts_button_and_its_failures(tmp_path: Path) -> None:
    cfg = setup(tmp_path, SMALL, SPEND)
    ctx = ActionContext.of_file(cfg.workbook)
    with pytest.raises(ActionError, match="press Sync Facts first"):
        dispatch("refresh_cohorts", ctx)
    run_sync(cfg, now=NOW, as_of=AS_OF)
    message = dispatch("refresh_cohorts", ActionContext.of_file(cfg.workbook))
    assert message == (
        "Cohorts refreshed as of 2026-11-17: 7 deals in 2 channels; lag curves enough for a "
        "forecast in 0; 1 deals matched no Mapping rule."
    )
    (tmp_path / "sync.toml").unlink()
    before = cfg.workbook.read_bytes()
    with pytest.raises(ActionError, match="reads the deals through the sync config"):
        dispatch("refresh_cohorts", ActionContext.of_file(cfg.workbook))
    assert cfg.workbook.read_bytes() == before


def test_no_crm_deals_the_sheet_says_so_and_the_run_rate_is_the_usual_one(
    tmp_path: Path,
) -> None:
    cfg = setup(tmp_path, [], SPEND)
    (tmp_path / "crm.csv").write_text(CRM_HEADER + "\n", encoding="utf-8")
    result = run_sync(cfg, now=NOW, as_of=dt.date(2026, 11, 8))
    ws = openpyxl.load_workbook(cfg.workbook)[COHORTS]
    assert ws.cell(row=STATUS_ROW, column=1).value == NO_DEALS
    assert ws.cell(row=FIRST_ROW, column=1).value is None
    assert result.refresh is not None and result.refresh.cohort.origin == ""
    assert ws.cell(row=NOTES_ROW + 1, column=CHART_COL).value is None


# --------------------------------------------------------------------------- the run-rate


def history() -> tuple[list[Deal], list[tuple[str, str, float]]]:
    """Search: 4 leads a day from Sep 1 to as-of; lead i reaches PP 2 days later when i % 2 == 0,
    negotiations 5 days later when i % 4 == 0 and a purchase 10 + i % 13 days later (1,000 + i)
    when i % 8 == 0 (none after as-of). Meta: 2 leads a day from Oct 1, a purchase (2,000) 12
    days after every 40th: too few events for a curve that is enough. Spend every day."""
    deals: list[Deal] = []
    start = dt.date(2026, 9, 1)

    def day(offset: int, lag: int) -> str | None:
        d = start + dt.timedelta(days=offset + lag)
        return d.isoformat() if d <= AS_OF else None

    n = (AS_OF - start).days + 1
    for i in range(4 * n):
        offset = i // 4
        bought = day(offset, 10 + i % 13) if i % 8 == 0 else None
        neg = day(offset, 5) if i % 4 == 0 else None
        pp = day(offset, 2) if i % 2 == 0 else None
        if bought and not (neg and pp):
            bought = None
        created = (start + dt.timedelta(days=offset)).isoformat()
        deals.append((f"S{i}", "brand", created, pp, neg, bought, 1000.0 + i if bought else None))
    meta_start = dt.date(2026, 10, 1)
    for i in range(2 * ((AS_OF - meta_start).days + 1)):
        created_day = meta_start + dt.timedelta(days=i // 2)
        won = created_day + dt.timedelta(days=12)
        bought = won.isoformat() if i % 40 == 0 and won <= AS_OF else None
        pp = created_day.isoformat() if bought else None
        deals.append(
            (f"M{i}", "prosp", created_day.isoformat(), pp, pp, bought, 2000.0 if bought else None)
        )
    spend = [
        ((start + dt.timedelta(days=k)).isoformat(), campaign, 100.0)
        for k in range(n)
        for campaign in ("brand", "prosp")
    ]
    return deals, spend


def deals_frame(deals: list[Deal], campaign: str, channel: str) -> pd.DataFrame:
    mine = [d for d in deals if d[1] == campaign]

    def days(k: int) -> pd.Series:
        return pd.to_datetime(pd.Series([d[k] for d in mine], dtype=object))

    return pd.DataFrame(
        {
            "channel": channel,
            "created": days(2),
            "pp": days(3),
            "negotiations": days(4),
            "purchases": days(5),
            "revenue": [d[6] or 0.0 for d in mine],
        }
    )


def plan_rr(book: Path, header: str) -> list[Any]:
    ws = openpyxl.load_workbook(book, data_only=True)[L.PLAN]
    col = next(c.column for c in ws[L.PLAN_HEADER_ROW] if c.value == header)
    return [ws.cell(row=L.PLAN_FIRST_ROW + i, column=col).value for i in range(len(LINES))]


def test_the_plan_purchases_run_rate_is_the_cohort_forecast(tmp_path: Path) -> None:
    deals, spend = history()
    cfg = setup(tmp_path, deals, spend)
    result = run_sync(cfg, now=NOW, as_of=AS_OF)
    search = deals_frame(deals, "brand", "Search")
    frame = pd.concat([search, deals_frame(deals, "prosp", "Meta")], ignore_index=True)
    curve = lag_curves(frame, AS_OF, horizon=90)[("Search", "purchases")]
    assert curve.enough and not lag_curves(frame, AS_OF)[("Meta", "purchases")].enough

    # the line's leads by day: every Search lead since Sep 1 (4 a day); its purchases so far this
    # month; the rest of the month's leads at the leads' own run-rate
    leads = search.groupby("created").size().astype(float)
    in_month = leads[leads.index >= pd.Timestamp(MONTH)]
    settings = read_settings(XlsxWorkbook(cfg.workbook))
    leads_rr = forecast_series(
        in_month, MONTH, AS_OF, window=settings.window, method=settings.method
    )
    rate = (leads_rr.forecast - leads_rr.mtd) / 13  # Nov 18..30
    bought = search["purchases"]
    mtd = float(((bought >= pd.Timestamp(MONTH)) & (bought <= pd.Timestamp(AS_OF))).sum())
    expected = cohort_forecast(leads, mtd, curve, MONTH, AS_OF, rate, stage="purchases")
    assert expected.method == "cohort" and expected.from_existing > 0
    purchases = plan_rr(cfg.workbook, "purchases rr")
    assert purchases[0] == pytest.approx(round(expected.forecast, 4), abs=1e-9)

    # revenue: so far + the purchases to come x the channel's revenue per purchase
    revenue_mtd = float(search.loc[(bought >= pd.Timestamp(MONTH)), "revenue"].sum())
    per = revenue_per_purchase(frame, AS_OF, "Search")
    value = revenue_forecast(revenue_mtd, mtd, expected.forecast, per)
    assert plan_rr(cfg.workbook, "revenue rr")[0] == pytest.approx(round(value, 4), abs=1e-6)

    # Meta's purchases curve is not enough: the usual run-rate, flagged
    meta = frame[frame["channel"] == "Meta"]
    meta_days = meta["purchases"].dropna()
    daily = meta_days[meta_days >= pd.Timestamp(MONTH)].dt.normalize().value_counts()
    usual = forecast_series(
        daily.sort_index(), MONTH, AS_OF, window=settings.window, method=settings.method
    )
    assert purchases[1] == pytest.approx(round(usual.forecast, 4), abs=1e-9)
    assert result.refresh is not None
    notes = result.refresh.cohort.notes
    assert any(n.startswith("Meta / Prospecting, purchases: too little history") for n in notes)
    ws = openpyxl.load_workbook(cfg.workbook)[COHORTS]
    written = [ws.cell(row=NOTES_ROW + 1 + k, column=CHART_COL).value for k in range(6)]
    # Meta's PP and negotiations are too few as well: only Search is on the cohort forecast
    assert written[0] == "As refreshed: 1 line on the cohort forecast (curves from the fact store)"
    assert any(str(w).startswith("Meta / Prospecting, purchases: too little") for w in written)


def test_the_button_and_the_sheet_curves_give_the_same_run_rate(tmp_path: Path) -> None:
    """Refresh Run-Rate finds the sync config and reads the store; without it the Cohorts
    sheet's published curves (and the lead days before the month from the Daily History; here
    none, so the older leads are missing and the forecast is lower)."""
    deals, spend = history()
    cfg = setup(tmp_path, deals, spend)
    run_sync(cfg, now=NOW, as_of=AS_OF)
    synced = plan_rr(cfg.workbook, "purchases rr")
    message = dispatch("refresh_runrate", ActionContext.of_file(cfg.workbook))
    assert message.endswith(
        "Lower stages: 1 line on the cohort forecast (curves from the fact store); 1 line kept "
        "the usual run-rate: Meta / Prospecting (pp, negotiations, purchases); see the Cohorts "
        "sheet."
    )
    assert plan_rr(cfg.workbook, "purchases rr") == synced
    (tmp_path / "sync.toml").unlink()
    message = dispatch("refresh_runrate", ActionContext.of_file(cfg.workbook))
    assert "(curves from the Cohorts sheet)" in message
    from_sheet = plan_rr(cfg.workbook, "purchases rr")
    assert from_sheet[1] == synced[1]  # Meta: the usual run-rate either way
    assert from_sheet[0] < synced[0]


def test_a_workbook_without_crm_keeps_exactly_the_usual_run_rate(tmp_path: Path) -> None:
    """A fresh template (no curves on the Cohorts sheet) and a Daily sheet with purchases:
    `refresh` writes what `forecast_series` gives, untouched."""
    daily = pd.DataFrame(
        {
            "date": [MONTH + dt.timedelta(days=k) for k in range(10)],
            "channel": "Search",
            "campaign": "Brand",
            "spend": 100.0,
            "leads": 4.0,
            "purchases": [0, 1, 0, 0, 2, 0, 1, 0, 0, 1],
        }
    )
    spec = PlanWorkbookSpec(month=MONTH, lines=LINES.iloc[:1], daily=daily)
    book = save_atomic(build_plan_workbook(spec), tmp_path / "plan.xlsx")
    result = refresh(XlsxWorkbook(book), as_of=dt.date(2026, 11, 10))
    assert result.cohort.origin == "" and not result.cohort.notes
    series = pd.Series(daily["purchases"].to_numpy(float), index=pd.to_datetime(daily["date"]))
    usual = forecast_series(series, MONTH, dt.date(2026, 11, 10), window=5)
    assert plan_rr(book, "purchases rr")[0] == pytest.approx(round(usual.forecast, 4))
    assert not math.isnan(usual.forecast)


def test_runrate_cohort_formula_takes_a_published_curve_column(tmp_path: Path) -> None:
    """=RUNRATE(purchases, as_of, 5, "cohort", dates, leads, Cohorts!<Search purchases column>):
    the column as the formula gets it (the day rows of the curves block) gives the same number
    as `cohort_forecast` on that curve, with the month's leads only."""
    from addin.formulas.runrate_cohort import runrate as runrate_formula
    from addin.sheet_function import Cells

    deals, spend = history()
    cfg = setup(tmp_path, deals, spend)
    run_sync(cfg, now=NOW, as_of=AS_OF)
    ws = openpyxl.load_workbook(cfg.workbook, data_only=True)[COHORTS]
    head = {ws.cell(row=CURVES_ROW + 1 + i, column=1).value: CURVES_ROW + 1 + i for i in range(8)}
    col = next(
        c
        for c in range(2, 40)
        if ws.cell(row=head["channel"], column=c).value == "Search"
        and ws.cell(row=head["stage"], column=c).value == "purchases"
    )
    first = CURVES_ROW + 1 + 8
    column = [ws.cell(row=first + d, column=col).value for d in range(91)]
    daily = openpyxl.load_workbook(cfg.workbook, data_only=True)[L.DAILY]
    rows = [r for r in daily.iter_rows(min_row=2, values_only=True) if r[1] == "Search"]
    header = [c.value for c in daily[1]]
    dates = [r[0].date() for r in rows]
    leads = [r[header.index("leads")] for r in rows]
    bought = [r[header.index("purchases")] for r in rows]
    got = runrate_formula(
        Cells.of(bought, "values"),
        AS_OF,
        5,
        "cohort",
        Cells.of(dates, "dates"),
        Cells.of(leads, "leads"),
        Cells.of(column, "curve"),
    )
    series = pd.Series(leads, index=pd.to_datetime(dates), dtype=float)
    leads_rr = forecast_series(series, MONTH, AS_OF, window=5)
    rate = (leads_rr.forecast - leads_rr.mtd) / 13
    expected = cohort_forecast(series, float(sum(bought)), column, MONTH, AS_OF, rate)
    assert got == pytest.approx(expected.forecast, rel=1e-12)
    assert expected.from_existing > 0
