"""Sync Facts on an .xlsx workbook, through the workbook interface, with inputs built by hand.

The readers are tested on real files elsewhere; here the inputs are `ReadResult` frames made in
the test, so every number is known: what reaches the Plan's `f` columns, what stays blank, what
is listed as unmapped or unplanned, and that nothing else in the workbook changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from addin.actions.sync_facts import (
    SyncResult,
    channel_history,
    check_writable,
    sweep_temp_files,
    sync,
)
from addin.actions.sync_facts.fill import _runs
from planning.errors import InputError
from sheets_sync.facts import FACT_COLUMNS, FileInfo, ReadResult, empty_quarantine
from sheets_sync.quality import SourceRead
from sheets_sync.store import FactStore
from sheets_sync.sync_config import SyncConfig, parse_config
from sheets_sync.workbooks.interface import WorkbookError
from sheets_sync.workbooks.xlsx import XlsxWorkbook, save_atomic
from workbook_templates import layout as L
from workbook_templates.mapping_sheet import read_rules
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook

MONTH = dt.date(2026, 11, 1)
NOW = dt.datetime(2026, 11, 3, 2, 0)

CONFIG = """
workbook = "plan-2026-11.xlsx"
store = "facts.duckdb"
basis = "event"

[[sources]]
name = "ads"
kind = "ad"
path = "ads.csv"

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
data_source = "ads"
field = "utm_campaign"
match = "contains"
pattern = "prosp"
channel = "Meta"
campaign = "Prospecting"

[[mapping]]
field = "utm_campaign"
match = "regex"
pattern = "^vk_"
channel = "VK"
campaign = ""
"""
"""Rules: `brand` -> Search / Brand; `…prosp…` (ads only) -> Meta / Prospecting; `vk_*` -> VK
with the row's own campaign name (VK / vk_new is a plan line, VK / vk_other is not)."""

LINES = pd.DataFrame(
    {
        "channel": ["Search", "Meta", "VK", "Email"],
        "campaign": ["Brand", "Prospecting", "vk_new", "Newsletter"],
        "spend p": [30_000, 20_000, 10_000, 1_000],
        "leads p": [240, 100, 20, 5],
        "calls f": [7, 8, 9, 10],  # typed by hand: no calls source, so the sync leaves them
    }
)


def config(folder: Path, text: str = CONFIG) -> SyncConfig:
    return parse_config(text, base=folder, origin="sync.toml")


def make_book(folder: Path, cfg: SyncConfig, lines: pd.DataFrame = LINES) -> Path:
    spec = PlanWorkbookSpec(month=MONTH, lines=lines, mapping=cfg.mapping)
    return save_atomic(build_plan_workbook(spec), cfg.workbook)


def facts(rows: Sequence[tuple[Any, ...]], source: str) -> pd.DataFrame:
    """Rows ``(date, utm_campaign, metric, value[, basis])`` as a fact frame."""
    records = []
    for row in rows:
        day, campaign, metric, value = row[:4]
        basis = row[4] if len(row) > 4 else "event"
        records.append(
            {
                "date": pd.Timestamp(day),
                "source": source,
                "utm_source": "google",
                "utm_medium": "cpc",
                "utm_campaign": campaign,
                "metric": metric,
                "basis": basis,
                "value": float(value),
            }
        )
    frame = pd.DataFrame(records, columns=list(FACT_COLUMNS))
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    frame["value"] = frame["value"].astype("float64")
    return frame


def read(
    source: str,
    kind: str,
    rows: Sequence[tuple[Any, ...]],
    label: str | None = None,
    quarantined: dict[str, float] | None = None,
    duplicates: dict[str, float] | None = None,
    window: tuple[dt.date, dt.date] | None = None,
    latest: dt.datetime | None = None,
) -> SourceRead:
    frame = facts(rows, source)
    label = label or f"{source}.csv"
    lo = window[0] if window else (frame["date"].min().date() if len(frame) else None)
    hi = window[1] if window else (frame["date"].max().date() if len(frame) else None)
    info = FileInfo(
        path=label,
        source=source,
        kind=kind,
        rows_read=len(frame),
        rows_ok=len(frame),
        quarantined_totals=dict(quarantined or {}),
        duplicate_totals=dict(duplicates or {}),
        rows_quarantined=1 if quarantined else 0,
        duplicates=1 if duplicates else 0,
        date_from=lo,
        date_to=hi,
        latest=latest or dt.datetime(2026, 11, 3),
    )
    digest = hashlib.sha256(frame.to_csv(index=False).encode() + label.encode()).hexdigest()
    return SourceRead(source, kind, label, ReadResult(frame, empty_quarantine(), info), digest)


def hand_reads() -> list[SourceRead]:
    """Two ad days on Search / Brand, one on Meta, a VK campaign with no plan line, a test
    campaign no rule maps, a day of October; CRM leads (and a purchase) on Search / Brand."""
    ads = read(
        "ads",
        "ad",
        [
            ("2026-11-01", "Brand", "spend", 1000.50),
            ("2026-11-01", "Brand", "traffic", 20),
            ("2026-11-02", "brand ", "spend", 2000.00),  # case and spaces ignored
            ("2026-11-02", "brand ", "traffic", 30),
            ("2026-11-02", "fb_prosp_1", "spend", 500.25),
            ("2026-11-02", "vk_other", "spend", 70.0),  # VK / vk_other: not in the plan
            ("2026-11-02", "GS_Test", "spend", 12.5),  # no rule: unmapped
            ("2026-10-31", "Brand", "spend", 999.0),  # last month: outside
        ],
    )
    crm = read(
        "crm",
        "crm",
        [
            ("2026-11-01", "brand", "leads", 3),
            ("2026-11-02", "brand", "leads", 2),
            ("2026-11-02", "brand", "purchases", 1),
            ("2026-11-02", "brand", "revenue", 5000),
            ("2026-11-01", "brand", "leads", 5, "cohort"),
            ("2026-11-02", "fb_prosp_1", "leads", 4),  # the ads-only rule does not map CRM rows
        ],
    )
    return [ads, crm]


def plan_column(path: Path, header: str, n: int = len(LINES)) -> list[Any]:
    ws = openpyxl.load_workbook(path)[L.PLAN]
    col = next(c.column for c in ws[L.PLAN_HEADER_ROW] if c.value == header)
    return [ws.cell(row=L.PLAN_FIRST_ROW + i, column=col).value for i in range(n)]


def snapshot(path: Path) -> dict[tuple[str, str], tuple[Any, str]]:
    """Every cell of every sheet: (value or formula text, number format)."""
    wb = openpyxl.load_workbook(path)
    out: dict[tuple[str, str], tuple[Any, str]] = {}
    for ws in wb:
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None or c.number_format != "General":
                    out[(ws.title, c.coordinate)] = (c.value, c.number_format)
    return out


def changed(before: dict[Any, Any], after: dict[Any, Any]) -> set[tuple[str, str]]:
    return {k for k in set(before) | set(after) if before.get(k) != after.get(k)}


def owned(path: Path, metrics: Sequence[str], refresh: bool) -> set[tuple[str, str]]:
    """Cells a sync may change: the Plan `f` cells of `metrics` on the line rows, the owned
    sheets; with the run-rate refresh its cells too (rr columns, Settings as-of, Pace)."""
    wb = openpyxl.load_workbook(path)
    ws = wb[L.PLAN]
    headers = {c.value: c.column_letter for c in ws[L.PLAN_HEADER_ROW] if c.value}
    rows = range(L.PLAN_FIRST_ROW, L.PLAN_FIRST_ROW + len(LINES))
    cells = {(L.PLAN, f"{headers[f'{m} f']}{r}") for m in metrics for r in rows}
    if refresh:
        rr = [headers[L.abs_header(m, "rr")] for m in DEFAULT_METRICS]
        cells |= {(L.PLAN, f"{col}{r}") for col in rr for r in rows}
        cells |= {(L.SETTINGS, "B3")}
        cells |= {(L.PACE, f"{col}{r}") for col in "CD" for r in range(2, 40)}
    return cells


DEFAULT_METRICS = (
    "spend",
    "traffic",
    "leads",
    "calls",
    "pp",
    "negotiations",
    "purchases",
    "revenue",
)
OWNED_SHEETS = {L.DAILY, L.DATA_QUALITY, L.UNMAPPED, "Cohorts"}


def run(
    folder: Path,
    reads: list[SourceRead],
    cfg: SyncConfig | None = None,
    refresh: bool = True,
    as_of: dt.date | None = None,
    now: dt.datetime = NOW,
) -> SyncResult:
    cfg = cfg or config(folder)
    with FactStore(cfg.store) as store:
        return sync(
            XlsxWorkbook(cfg.workbook),
            cfg,
            store,
            now=now,
            as_of=as_of,
            reads=reads,
            refresh_after=refresh,
        )


@pytest.fixture()
def cfg(tmp_path: Path) -> SyncConfig:
    c = config(tmp_path)
    make_book(tmp_path, c)
    return c


# --- known numbers ---------------------------------------------------------------------------


def test_known_numbers_reach_the_plan_f_cells(tmp_path: Path, cfg: SyncConfig) -> None:
    result = run(tmp_path, hand_reads(), cfg)
    book = cfg.workbook
    # Search / Brand: 1 000.50 + 2 000.00 spend, 20 + 30 clicks, 3 + 2 leads (event basis),
    # 1 purchase for 5 000. Meta: 500.25 spend, no CRM leads (the rule is for `ads` only) -> 0.
    # VK / vk_new and Email / Newsletter have no facts: blank.
    assert plan_column(book, "spend f") == [3000.5, 500.25, None, None]
    assert plan_column(book, "traffic f") == [50, 0, None, None]
    assert plan_column(book, "leads f") == [5, 0, None, None]
    assert plan_column(book, "purchases f") == [1, 0, None, None]
    assert plan_column(book, "revenue f") == [5000, 0, None, None]
    assert plan_column(book, "pp f") == [0, 0, None, None]
    assert plan_column(book, "calls f") == [7, 8, 9, 10]  # no calls source: untouched
    assert result.metrics == [
        "spend",
        "traffic",
        "leads",
        "pp",
        "negotiations",
        "purchases",
        "revenue",
    ]
    assert result.lines_without_facts == ["VK / vk_new", "Email / Newsletter"]
    assert result.as_of == dt.date(2026, 11, 2)  # the latest day with facts
    assert result.filled["spend"] == pytest.approx(3500.75)
    # run-rate refreshed as of Nov 2 from the Daily sheet: Search spend 3 000.50 in 2 days,
    # window 5 (2 days elapsed) -> 1 500.25 a day, 28 days left -> 3 000.50 + 28 x 1 500.25
    assert plan_column(book, "spend rr")[0] == pytest.approx(3000.5 + 28 * 1500.25)
    assert result.refresh is not None and result.refresh.as_of == dt.date(2026, 11, 2)

    daily = XlsxWorkbook(book).read_table(L.DAILY)
    assert daily.headers == ["date", "channel", "campaign", *result.metrics]
    recs = daily.records()
    assert [(r["date"].date(), r["channel"], r["spend"], r["leads"]) for r in recs] == [
        (dt.date(2026, 11, 1), "Search", 1000.5, 3),
        (dt.date(2026, 11, 2), "Search", 2000, 2),
        (dt.date(2026, 11, 2), "Meta", 500.25, 0),
    ]


def test_facts_with_no_plan_line_are_listed_with_their_spend(
    tmp_path: Path, cfg: SyncConfig
) -> None:
    result = run(tmp_path, hand_reads(), cfg)
    un = XlsxWorkbook(cfg.workbook).read_table(L.UNMAPPED).records()
    by_campaign = {(r["status"], r["utm_campaign"]): r for r in un}
    assert set(by_campaign) == {
        ("unplanned", "vk_other"),
        ("unmapped", "GS_Test"),
        ("unmapped", "fb_prosp_1"),
    }
    vk = by_campaign[("unplanned", "vk_other")]
    assert (vk["channel"], vk["campaign"], vk["spend"]) == ("VK", "vk_other", 70)
    assert by_campaign[("unmapped", "GS_Test")]["spend"] == 12.5
    crm_row = by_campaign[("unmapped", "fb_prosp_1")]
    assert crm_row["data source"] == "crm" and crm_row["leads"] == 4 and crm_row["spend"] is None
    summary = result.to_dict()
    assert summary["unplanned_spend"] == 70 and summary["unmapped_spend"] == 12.5


def test_reconciliation_by_hand(tmp_path: Path, cfg: SyncConfig) -> None:
    reads = hand_reads()
    reads[0].result.info.quarantined_totals = {"spend": 40.0}
    reads[0].result.info.duplicate_totals = {"spend": 2000.0}
    result = run(tmp_path, reads, cfg)
    recon = result.quality.reconciliation.set_index(["source", "metric"])
    spend = recon.loc[("ads", "spend")]
    # in the file: 4 582.25 read + 40 quarantined + 2 000 duplicate
    assert spend["total"] == pytest.approx(4582.25 + 40 + 2000)
    assert spend["filled"] == pytest.approx(3500.75)
    assert spend["unplanned"] == pytest.approx(70)
    assert spend["unmapped"] == pytest.approx(12.5)
    assert spend["outside"] == pytest.approx(999)
    assert spend["quarantined"] == 40 and spend["duplicates"] == 2000
    assert spend["difference"] == pytest.approx(0) and spend["ok"]
    assert recon["ok"].all()
    leads = recon.loc[("crm", "leads")]
    assert (leads["total"], leads["filled"], leads["unmapped"]) == (9, 5, 4)


def test_cohort_basis_counts_crm_on_the_created_day(tmp_path: Path) -> None:
    cfg = config(tmp_path, CONFIG.replace('basis = "event"', 'basis = "cohort"'))
    make_book(tmp_path, cfg)
    run(tmp_path, hand_reads(), cfg)
    assert plan_column(cfg.workbook, "leads f") == [5, 0, None, None]  # the cohort row: 5
    assert plan_column(cfg.workbook, "spend f")[0] == 3000.5  # ad rows: event basis


def test_lines_with_no_facts_are_blanked_and_listed(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    lines = LINES.assign(**{"spend f": [1, 2, 3, 4]})  # typed before the sync: owned columns
    make_book(tmp_path, cfg, lines)
    result = run(tmp_path, hand_reads(), cfg)
    assert plan_column(cfg.workbook, "spend f") == [3000.5, 500.25, None, None]
    assert result.lines_without_facts == ["VK / vk_new", "Email / Newsletter"]


def test_one_block_per_contiguous_run_and_one_save(tmp_path: Path, cfg: SyncConfig) -> None:
    class Recording(XlsxWorkbook):
        def __init__(self, path: Path) -> None:
            super().__init__(path)
            self.blocks: list[tuple[str, int, int, int, int]] = []
            self.saves = 0

        def write_block(self, sheet: str, row: int, col: int, values: Any) -> None:
            self.blocks.append((sheet, row, col, len(values), len(values[0]) if values else 0))
            super().write_block(sheet, row, col, values)

        def save(self) -> None:
            self.saves += 1
            super().save()

    wb = Recording(cfg.workbook)
    with FactStore(cfg.store) as store:
        result = sync(wb, cfg, store, now=NOW, reads=hand_reads(), refresh_after=False)
    per_sheet: dict[str, int] = {}
    for sheet, *_ in wb.blocks:
        per_sheet[sheet] = per_sheet.get(sheet, 0) + 1
    # the f columns are not adjacent in the template: one block each
    assert per_sheet == {
        L.PLAN: len(result.metrics),
        L.DAILY: 1,
        L.DATA_QUALITY: 1,
        L.UNMAPPED: 1,
        "Cohorts": 3,  # the status and table, the chart's data, the lag curves
    }
    assert wb.saves == 1
    # every Plan block covers the whole column of lines
    assert {(r, n) for s, r, _, n, _ in wb.blocks if s == L.PLAN} == {(L.PLAN_FIRST_ROW, 4)}


def test_adjacent_owned_columns_share_a_block(tmp_path: Path, cfg: SyncConfig) -> None:
    assert _runs([7, 3, 4, 5, 9, 8]) == [[3, 4, 5], [7, 8, 9]]


# --- nothing else changes -----------------------------------------------------------------------


def test_every_cell_outside_the_owned_ones_is_unchanged(tmp_path: Path, cfg: SyncConfig) -> None:
    before = snapshot(cfg.workbook)
    sheets_before = openpyxl.load_workbook(cfg.workbook).sheetnames
    result = run(tmp_path, hand_reads(), cfg, refresh=False)
    after = snapshot(cfg.workbook)
    assert openpyxl.load_workbook(cfg.workbook).sheetnames == sheets_before
    diff = {k for k in changed(before, after) if k[0] not in OWNED_SHEETS}
    allowed = owned(cfg.workbook, result.metrics, refresh=False)
    assert diff, "the sync wrote nothing"
    assert diff <= allowed, sorted(diff - allowed)[:10]


def test_with_the_refresh_only_its_cells_change_too(tmp_path: Path, cfg: SyncConfig) -> None:
    before = snapshot(cfg.workbook)
    result = run(tmp_path, hand_reads(), cfg, refresh=True)
    diff = {k for k in changed(before, snapshot(cfg.workbook)) if k[0] not in OWNED_SHEETS}
    allowed = owned(cfg.workbook, result.metrics, refresh=True)
    assert diff <= allowed, sorted(diff - allowed)[:10]


CAMPAIGNS = ["brand", "Brand ", "fb_prosp_2", "vk_new", "vk_other", "zzz", "GS_Test"]
DAYS = [MONTH + dt.timedelta(days=d) for d in range(-5, 25)]


@st.composite
def random_reads(draw: st.DrawFn) -> list[SourceRead]:
    """An ad source (one or two overlapping exports) and a CRM source with random facts,
    quarantined and duplicate values."""
    reads: list[SourceRead] = []
    n_files = draw(st.integers(1, 2))
    for f in range(n_files):
        rows = draw(
            st.lists(
                st.tuples(
                    st.sampled_from(DAYS),
                    st.sampled_from(CAMPAIGNS),
                    st.sampled_from(["spend", "traffic", "platform_leads"]),
                    st.floats(0, 1e5, allow_nan=False).map(lambda v: round(v, 2)),
                ),
                min_size=0,
                max_size=25,
            )
        )
        q = draw(st.floats(0, 1000).map(lambda v: round(v, 2)))
        reads.append(
            read(
                "ads",
                "ad",
                rows,
                label=f"ads_{f}.csv",
                quarantined={"spend": q} if q else None,
                duplicates={"spend": 10.0} if draw(st.booleans()) else None,
            )
        )
    crm_rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(DAYS),
                st.sampled_from(CAMPAIGNS),
                st.sampled_from(["leads", "purchases", "revenue"]),
                st.integers(0, 50),
                st.sampled_from(["event", "cohort"]),
            ),
            max_size=25,
        )
    )
    reads.append(read("crm", "crm", crm_rows))
    return reads


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(reads=random_reads(), typed=st.lists(st.floats(0, 1e6), min_size=4, max_size=4))
def test_property_outside_cells_unchanged_and_reconciliation_holds(
    tmp_path_factory: pytest.TempPathFactory, reads: list[SourceRead], typed: list[float]
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    cfg = config(folder)
    make_book(folder, cfg, LINES.assign(**{"leads f": typed, "pp p": typed}))
    before = snapshot(cfg.workbook)
    result = run(folder, reads, cfg, refresh=True, as_of=dt.date(2026, 11, 15))
    diff = {k for k in changed(before, snapshot(cfg.workbook)) if k[0] not in OWNED_SHEETS}
    allowed = owned(cfg.workbook, result.metrics, refresh=True)
    assert diff <= allowed, sorted(diff - allowed)[:10]
    # reconciliation: every unit in the files is accounted for
    recon = result.quality.reconciliation
    assert recon["ok"].all(), recon[~recon["ok"]].to_dict("records")
    # and what the Plan shows is what the reconciliation calls filled (+ earlier loads: none)
    for metric in ("spend", "leads"):
        rows = recon[recon["metric"] == metric]
        cells = [v for v in plan_column(cfg.workbook, f"{metric} f") if v is not None]
        assert sum(cells) == pytest.approx(
            float((rows["filled"] + rows["earlier"]).sum()), abs=0.01 * len(LINES)
        )


# --- idempotence ---------------------------------------------------------------------------------


def store_state(path: Path) -> tuple[list[Any], list[Any], int]:
    with FactStore(path) as store:
        facts = store.source_facts(basis=None).to_dict("records")
        quarantine = store.quarantine().drop(columns=["loaded_at"]).to_dict("records")
        loads = len(store.load_log())
    return facts, quarantine, loads


def test_sync_twice_is_sync_once(tmp_path: Path, cfg: SyncConfig) -> None:
    run(tmp_path, hand_reads(), cfg)
    once, store_once = snapshot(cfg.workbook), store_state(cfg.store)
    second = run(tmp_path, hand_reads(), cfg)
    assert snapshot(cfg.workbook) == once
    assert store_state(cfg.store) == store_once
    assert all(f.skipped for f in second.loads)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reads=random_reads())
def test_property_sync_twice_is_sync_once(
    tmp_path_factory: pytest.TempPathFactory, reads: list[SourceRead]
) -> None:
    folder = tmp_path_factory.mktemp("twice")
    cfg = config(folder)
    make_book(folder, cfg)
    run(folder, reads, cfg, as_of=dt.date(2026, 11, 15))
    once, store_once = snapshot(cfg.workbook), store_state(cfg.store)
    run(folder, reads, cfg, as_of=dt.date(2026, 11, 15))
    assert snapshot(cfg.workbook) == once
    assert store_state(cfg.store) == store_once


def test_a_newer_export_restates_the_overlap(tmp_path: Path, cfg: SyncConfig) -> None:
    old = read(
        "ads",
        "ad",
        [(f"2026-11-0{d}", "brand", "spend", 100) for d in (1, 2, 3)],
        label="ads_old.csv",
    )
    later = dt.datetime(2026, 11, 10)
    run(tmp_path, [old], cfg, now=later)
    assert plan_column(cfg.workbook, "spend f")[0] == 300
    # the platform restated Nov 2-3 (and added Nov 4): Nov 1 stays from the earlier load
    new = read(
        "ads",
        "ad",
        [(f"2026-11-0{d}", "brand", "spend", 150) for d in (2, 3, 4)],
        label="ads_new.csv",
    )
    result = run(tmp_path, [new], cfg, now=later)
    assert plan_column(cfg.workbook, "spend f")[0] == 100 + 3 * 150
    rec = result.quality.reconciliation.set_index(["source", "metric"]).loc[("ads", "spend")]
    assert rec["ok"] and rec["filled"] == 450 and rec["earlier"] == 100


def test_two_overlapping_exports_in_one_sync(tmp_path: Path, cfg: SyncConfig) -> None:
    new = read(
        "ads",
        "ad",
        [(f"2026-11-0{d}", "brand", "spend", 150) for d in (2, 3, 4)],
        label="ads_b.csv",
    )
    old = read(
        "ads",
        "ad",
        [(f"2026-11-0{d}", "brand", "spend", 100) for d in (1, 2, 3)],
        label="ads_a.csv",
    )
    result = run(tmp_path, [new, old], cfg, now=dt.datetime(2026, 11, 10))  # newest first
    assert plan_column(cfg.workbook, "spend f")[0] == 100 + 3 * 150
    rec = result.quality.reconciliation.set_index(["source", "metric"]).loc[("ads", "spend")]
    assert rec["ok"] and rec["restated"] == 200 and rec["total"] == 750


# --- the Mapping sheet and the workbook's shape ---------------------------------------------------


def test_rules_come_from_the_mapping_sheet(tmp_path: Path, cfg: SyncConfig) -> None:
    wb = openpyxl.load_workbook(cfg.workbook)
    ws = wb[L.MAPPING]
    ws["F2"] = "Generic"  # marketers edit the sheet: brand now goes to Search / Generic
    ws["A9"], ws["B9"], ws["C9"], ws["D9"], ws["E9"] = "", "utm_campaign", "exact", "zzz", "Email"
    wb.save(cfg.workbook)  # a blank row 5-8 between the rules is skipped
    rules = read_rules(XlsxWorkbook(cfg.workbook))
    assert [(r.pattern, r.channel, r.campaign, r.row) for r in rules] == [
        ("brand", "Search", "Generic", 2),
        ("prosp", "Meta", "Prospecting", 3),
        ("^vk_", "VK", "", 4),
        ("zzz", "Email", "", 9),
    ]


def test_a_bad_rule_is_named_by_its_cell(tmp_path: Path, cfg: SyncConfig) -> None:
    wb = openpyxl.load_workbook(cfg.workbook)
    wb[L.MAPPING]["D4"] = "^vk_("
    wb.save(cfg.workbook)
    digest = hashlib.sha256(cfg.workbook.read_bytes()).hexdigest()
    with pytest.raises(InputError, match=r"Mapping!D4"):
        run(tmp_path, hand_reads(), cfg)
    assert hashlib.sha256(cfg.workbook.read_bytes()).hexdigest() == digest


def test_mapping_sheet_with_wrong_headers(tmp_path: Path, cfg: SyncConfig) -> None:
    wb = openpyxl.load_workbook(cfg.workbook)
    wb[L.MAPPING]["C1"] = "how"
    wb.save(cfg.workbook)
    with pytest.raises(WorkbookError, match=r"sheet `Mapping` row 1 must read"):
        run(tmp_path, hand_reads(), cfg)


def test_missing_mapping_sheet_is_created_from_the_config(tmp_path: Path, cfg: SyncConfig) -> None:
    wb = openpyxl.load_workbook(cfg.workbook)
    for sheet in (L.MAPPING, L.DATA_QUALITY, L.UNMAPPED):
        del wb[sheet]
    wb.save(cfg.workbook)  # a workbook made before Sync Facts existed
    result = run(tmp_path, hand_reads(), cfg)
    assert result.mapping_created
    assert plan_column(cfg.workbook, "spend f")[:2] == [3000.5, 500.25]
    names = openpyxl.load_workbook(cfg.workbook).sheetnames
    assert {L.MAPPING, L.DATA_QUALITY, L.UNMAPPED} <= set(names)
    assert len(read_rules(XlsxWorkbook(cfg.workbook))) == 3


def test_an_empty_mapping_sheet_is_seeded_from_the_config(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    spec = PlanWorkbookSpec(month=MONTH, lines=LINES)  # e.g. New Month: no rules carried
    save_atomic(build_plan_workbook(spec), cfg.workbook)
    result = run(tmp_path, hand_reads(), cfg)
    assert result.mapping_created
    assert [r.pattern for r in read_rules(XlsxWorkbook(cfg.workbook))] == ["brand", "prosp", "^vk_"]
    assert plan_column(cfg.workbook, "spend f")[:2] == [3000.5, 500.25]


def test_a_workbook_that_is_not_a_plan_is_refused(tmp_path: Path, cfg: SyncConfig) -> None:
    other = tmp_path / "other.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Data"  # type: ignore[union-attr]
    book.save(other)
    with FactStore(cfg.store) as store, pytest.raises(WorkbookError) as err:
        sync(XlsxWorkbook(other), cfg, store, now=NOW, reads=hand_reads())
    assert "has no sheet `Plan`" in str(err.value) and "(its sheets: Data)" in str(err.value)


def test_as_of_outside_the_month_is_refused(tmp_path: Path, cfg: SyncConfig) -> None:
    with pytest.raises(InputError, match="not a day of the plan month 2026-11"):
        run(tmp_path, hand_reads(), cfg, as_of=dt.date(2026, 12, 1))


def test_today_is_not_counted_while_it_is_in_the_month(tmp_path: Path, cfg: SyncConfig) -> None:
    result = run(tmp_path, hand_reads(), cfg, now=dt.datetime(2026, 11, 2, 15))
    assert result.as_of == dt.date(2026, 11, 1)  # Nov 2 is today: partial
    assert plan_column(cfg.workbook, "spend f")[0] == 1000.5


# --- quality on the sheet -----------------------------------------------------------------------


def test_data_quality_sheet(tmp_path: Path, cfg: SyncConfig) -> None:
    reads = hand_reads()
    reads[1].result.info.latest = dt.datetime(2026, 11, 1, 12)  # CRM: 38 h old
    run(tmp_path, reads, cfg)
    ws = openpyxl.load_workbook(cfg.workbook)[L.DATA_QUALITY]
    col_a = [ws.cell(row=r, column=1).value for r in range(1, ws.max_row + 1)]
    assert col_a[0] == "Data Quality"
    last = max(i for i, v in enumerate(col_a) if v is not None)
    assert all(v is not None for v in col_a[: last + 1]), "column A has a gap"
    flags = [ws.cell(row=r + 1, column=2).value for r, v in enumerate(col_a) if v == "flag"]
    assert any(f.startswith("crm: no fresh data for more than 6 h") for f in flags)
    assert any(f.startswith("ads:") and "unmapped" in f for f in flags)
    crm_row = col_a.index("crm") + 1  # the Sources section comes first
    assert ws.cell(row=crm_row, column=6).value == "no"  # fresh?


def test_a_shorter_report_clears_the_old_rows(tmp_path: Path, cfg: SyncConfig) -> None:
    reads = hand_reads()
    reads[0].result.info.quarantined_totals = {"spend": 1.0}
    reads[0].result.quarantine = pd.DataFrame(
        [
            {
                "source": "ads",
                "file": "ads.csv",
                "line": i,
                "column": "Cost",
                "value": "x",
                "reason": "not a number",
            }
            for i in range(30)
        ]
    )
    run(tmp_path, reads, cfg)
    long_rows = openpyxl.load_workbook(cfg.workbook)[L.DATA_QUALITY].max_row
    run(tmp_path, [*hand_reads()[:1], read("crm", "crm", [])], cfg, as_of=dt.date(2026, 11, 2))
    ws = openpyxl.load_workbook(cfg.workbook)[L.DATA_QUALITY]
    values = [ws.cell(row=r, column=1).value for r in range(1, long_rows + 1)]
    last = max(i for i, v in enumerate(values) if v is not None)
    assert last < long_rows - 25
    assert all(
        ws.cell(row=r, column=c).value is None
        for r in range(last + 2, long_rows + 1)
        for c in range(1, L.DQ_WIDTH + 1)
    )


def test_channel_history_for_the_curves(tmp_path: Path, cfg: SyncConfig) -> None:
    reads = [
        read(
            "ads",
            "ad",
            [
                ("2026-10-30", "brand", "spend", 100),
                ("2026-10-30", "vk_x", "spend", 5),
                ("2026-10-31", "zzz", "spend", 9),
            ],
        ),
        read("crm", "crm", [("2026-10-30", "brand", "leads", 4)]),
    ]
    run(tmp_path, reads, cfg, as_of=dt.date(2026, 11, 1))
    rules = read_rules(XlsxWorkbook(cfg.workbook))
    with FactStore(cfg.store) as store:
        hist = channel_history(store, cfg, rules, end=dt.date(2026, 10, 31))
    assert hist.to_dict("records") == [
        {"date": dt.date(2026, 10, 30), "channel": "Search", "spend": 100.0, "leads": 4.0},
        {"date": dt.date(2026, 10, 30), "channel": "VK", "spend": 5.0, "leads": 0.0},
    ]


# --- the file: locks, read-only, a kill mid-write ------------------------------------------------


def test_excel_lock_file_refuses_the_sync(tmp_path: Path, cfg: SyncConfig) -> None:
    lock = cfg.workbook.with_name("~$" + cfg.workbook.name)
    lock.write_bytes(b"owner")
    with pytest.raises(WorkbookError, match=r"is open in Excel \(its lock file ~\$plan-2026-11"):
        check_writable(cfg.workbook)


def test_read_only_workbook_is_refused(tmp_path: Path, cfg: SyncConfig) -> None:
    cfg.workbook.chmod(0o444)
    try:
        with pytest.raises(WorkbookError, match="is read-only"):
            check_writable(cfg.workbook)
    finally:
        cfg.workbook.chmod(0o644)


def test_stale_temp_files_of_a_killed_save_are_swept(tmp_path: Path, cfg: SyncConfig) -> None:
    stale = tmp_path / ".plan-2026-11-abcd_123.xlsx"
    fresh = tmp_path / ".plan-2026-11-zzzz_999.xlsx"
    other = tmp_path / ".other-abcd_123.xlsx"
    for p in (stale, fresh, other):
        p.write_bytes(b"half")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    assert sweep_temp_files(cfg.workbook) == [stale]
    assert not stale.exists() and fresh.exists() and other.exists()


KILL_SCRIPT = """
import datetime as dt, sys, time
from pathlib import Path
import openpyxl
sys.path.insert(0, {tests!r})
from test_sync_facts import config, hand_reads, NOW
from addin.actions.sync_facts import sync
from sheets_sync.store import FactStore
from sheets_sync.workbooks.xlsx import XlsxWorkbook

folder = Path({folder!r})
marker = folder / "saving"

def slow_save(self, filename):
    with open(filename, "wb") as fh:  # half the file is on disk when the kill comes
        fh.write(b"PK half a workbook")
        fh.flush()
    marker.write_text(str(filename))
    time.sleep(60)

openpyxl.Workbook.save = slow_save
{setup}
cfg = config(folder)
with FactStore(cfg.store) as store:
    sync(XlsxWorkbook(cfg.workbook), cfg, store, now=NOW, reads=hand_reads())
"""


def _kill_mid_save(folder: Path, sig: int, setup: str = "") -> None:
    tests = str(Path(__file__).resolve().parent)
    script = KILL_SCRIPT.format(tests=tests, folder=str(folder), setup=setup)
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)], stderr=subprocess.PIPE, text=True
    )
    marker = folder / "saving"
    deadline = time.monotonic() + 120
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"the sync ended before saving: {proc.stderr.read()}")  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "the sync never reached the save"
        time.sleep(0.05)
    temp = Path(marker.read_text())
    assert temp.exists() and temp.parent == folder  # the temp file, beside the workbook
    proc.send_signal(sig)
    proc.wait(timeout=60)
    marker.unlink()


def test_a_kill_mid_write_leaves_the_workbook_byte_identical(
    tmp_path: Path, cfg: SyncConfig
) -> None:
    digest = hashlib.sha256(cfg.workbook.read_bytes()).hexdigest()
    _kill_mid_save(tmp_path, signal.SIGKILL)
    assert hashlib.sha256(cfg.workbook.read_bytes()).hexdigest() == digest
    # SIGKILL cannot clean up: the half temp file is there, hidden; the next sync sweeps it
    leftovers = [p for p in tmp_path.glob(".plan-2026-11-*.xlsx")]
    assert len(leftovers) == 1
    old = time.time() - 3600
    os.utime(leftovers[0], (old, old))
    assert sweep_temp_files(cfg.workbook) == leftovers
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".xlsx")) == [
        cfg.workbook.name
    ]


def test_a_terminated_sync_leaves_the_workbook_and_no_temp_file(
    tmp_path: Path, cfg: SyncConfig
) -> None:
    digest = hashlib.sha256(cfg.workbook.read_bytes()).hexdigest()
    # the CLI turns SIGTERM into an exception, so the save's clean-up runs
    setup = (
        "import signal\nfrom addin.cli.sync_commands import _on_sigterm\n"
        "signal.signal(signal.SIGTERM, _on_sigterm)"
    )
    _kill_mid_save(tmp_path, signal.SIGTERM, setup)
    assert hashlib.sha256(cfg.workbook.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".xlsx")) == [
        cfg.workbook.name
    ]
