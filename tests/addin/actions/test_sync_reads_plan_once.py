"""Sync Facts reads the Plan and the Daily sheet once: the run-rate refresh after it takes the
Plan the sync read and the Daily rows it wrote, which are exactly what reading them gives."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from addin.actions import refresh_runrate
from addin.actions.refresh_runrate import refresh
from addin.actions.sync_facts import run_sync
from sheets_sync.sync_config import parse_config
from sheets_sync.workbooks.xlsx import XlsxWorkbook, save_atomic
from workbook_templates import layout as L
from workbook_templates.daily_sheet import read_daily, write_daily
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook
from workbook_templates.settings_sheet import read_funnel

MONTH = dt.date(2026, 11, 1)

CONFIG = """
workbook = "plan-2026-11.xlsx"
store = "facts.duckdb"

[[sources]]
name = "crm"
kind = "crm"
path = "crm.csv"

[[mapping]]
field = "utm_campaign"
match = "exact"
pattern = "Search | Brand"
channel = "Search"
campaign = "Brand"

[[mapping]]
field = "utm_campaign"
match = "exact"
pattern = "Meta | Prospecting"
channel = "Meta"
campaign = "Prospecting"
"""


def _crm_export() -> str:
    """A CRM export: two campaigns, a lead a day or two over the first ten days of November."""
    rows = ["ID,Created,utm_source,utm_medium,utm_campaign,Stage,Amount,Status"]
    n = 0
    for day in range(1, 11):
        for campaign, count in (("Search | Brand", 2), ("Meta | Prospecting", day % 2 + 1)):
            for _ in range(count):
                n += 1
                rows.append(f"A-{n},2026-11-{day:02d},google,cpc,{campaign},lead,,open")
    return "\n".join(rows) + "\n"


def _book(tmp_path: Path) -> Any:
    (tmp_path / "crm.csv").write_text(_crm_export(), encoding="utf-8")
    config = parse_config(CONFIG, base=tmp_path)
    lines = pd.DataFrame(
        {"channel": ["Search", "Meta"], "campaign": ["Brand", "Prospecting"], "leads p": [90.0, 45]}
    )
    spec = PlanWorkbookSpec(month=MONTH, lines=lines, mapping=config.mapping)
    save_atomic(build_plan_workbook(spec), config.workbook)
    return config


def test_the_refresh_after_a_sync_reads_neither_plan_nor_daily(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _book(tmp_path)

    def read_again(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the refresh after a sync read the sheet again")

    monkeypatch.setattr(refresh_runrate, "read_plan", read_again)
    monkeypatch.setattr(refresh_runrate, "read_daily", read_again)
    result = run_sync(config, now=dt.datetime(2026, 11, 11, 9), as_of=dt.date(2026, 11, 10))
    assert result.refresh is not None and result.refresh.lines_forecast == 2
    # Search | Brand: 2 leads a day for 10 days = 20; the last 5 days average 2, 20 days left:
    # 20 + 20 * 2 = 60
    assert result.refresh.forecast.set_index("campaign").at["Brand", "leads_rr"] == 60.0


def test_the_synced_run_rate_is_what_a_refresh_reading_the_sheets_gives(tmp_path: Path) -> None:
    config = _book(tmp_path)
    run_sync(config, now=dt.datetime(2026, 11, 11, 9), as_of=dt.date(2026, 11, 10))
    synced = XlsxWorkbook(config.workbook)
    table = synced.read_table(L.PLAN, header_row=L.PLAN_HEADER_ROW, stop_labels=(L.TOTAL_LABEL,))
    after_sync = table.values(L.abs_header("leads", "rr"))
    reread = refresh(synced, as_of=dt.date(2026, 11, 10), save=False)  # reads Plan and Daily
    table = synced.read_table(L.PLAN, header_row=L.PLAN_HEADER_ROW, stop_labels=(L.TOTAL_LABEL,))
    assert table.values(L.abs_header("leads", "rr")) == after_sync
    assert reread.lines_forecast == 2


metrics_st = st.sampled_from([["spend", "leads"], ["leads"], ["spend", "traffic", "leads"]])


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    metrics=metrics_st,
    facts=st.lists(
        st.tuples(
            st.integers(1, 30),
            st.integers(0, 2),
            st.sampled_from(["spend", "traffic", "leads", "calls"]),
            st.floats(0, 1e6, allow_nan=False).map(lambda x: round(x, 3)),
        ),
        max_size=40,
    ),
    as_datetime=st.booleans(),
)
def test_write_daily_returns_what_read_daily_reads_back(
    tmp_path_factory: pytest.TempPathFactory,
    metrics: list[str],
    facts: list[tuple[int, int, str, float]],
    as_datetime: bool,
) -> None:
    folder = tmp_path_factory.mktemp("daily")
    plan = pd.DataFrame(
        {"channel": ["Search", "Meta", "Search"], "campaign": ["Brand", "Prospecting", "Generic"]}
    )
    spec = PlanWorkbookSpec(month=MONTH, lines=plan)
    save_atomic(build_plan_workbook(spec), folder / "book.xlsx")
    wb = XlsxWorkbook(folder / "book.xlsx")
    filled = pd.DataFrame(
        {
            "date": [MONTH + dt.timedelta(days=d - 1) for d, *_ in facts],
            "line": [line for _, line, _, _ in facts],
            "metric": [m for _, _, m, _ in facts],
            "value": [v for *_, v in facts],
        }
    )
    if as_datetime:
        filled["date"] = pd.to_datetime(filled["date"])
    written = write_daily(wb, filled, plan, metrics)
    back = read_daily(wb, read_funnel(wb), MONTH)
    if written.empty:
        assert back.empty
        return
    pd.testing.assert_frame_equal(written, back)
