"""Refresh Run-Rate and New Month on an .xlsx workbook, through the workbook interface."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from addin.actions.new_month import new_month, plan_next_line
from addin.actions.refresh_runrate import refresh
from addin.actions.summary import plan_summary
from planning.errors import InputError
from planning.funnel import DEFAULT_FUNNEL
from sheets_sync.storage_errors import StorageError
from sheets_sync.workbooks.xlsx import XlsxWorkbook, save_atomic
from workbook_templates import layout as L
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook

MONTH = dt.date(2026, 11, 1)
METRICS = DEFAULT_FUNNEL.metrics


def _daily() -> pd.DataFrame:
    """Ten days, two lines, constant per day: Search 1 000 spend, 20 clicks, 10 leads, 1 purchase;
    Meta 500 spend, 50 clicks, 2 leads, nothing below."""
    rows = []
    for d in range(1, 11):
        day = MONTH.replace(day=d)
        rows.append(
            {
                "date": day,
                "channel": "Search",
                "campaign": "Brand",
                "spend": 1000.0,
                "traffic": 20,
                "leads": 10,
                "calls": 5,
                "pp": 3,
                "negotiations": 2,
                "purchases": 1,
                "revenue": 5000.0,
            }
        )
        rows.append(
            {
                "date": day,
                "channel": "Meta",
                "campaign": "Prospecting",
                "spend": 500.0,
                "traffic": 50,
                "leads": 2,
                "calls": 0,
                "pp": 0,
                "negotiations": 0,
                "purchases": 0,
                "revenue": 0.0,
            }
        )
    return pd.DataFrame(rows)


def _lines(daily: pd.DataFrame) -> pd.DataFrame:
    lines = pd.DataFrame(
        {"channel": ["Search", "Meta", "VK"], "campaign": ["Brand", "Prospecting", "New line"]}
    )
    plan = {
        "spend": [30_000, 20_000, 10_000],
        "traffic": [600, 2_000, 500],
        "leads": [240, 100, 20],
        "calls": [120, 20, 5],
        "pp": [60, 5, 2],
        "negotiations": [30, 2, 1],
        "purchases": [15, 1, 0],
        "revenue": [75_000, 5_000, 0],
    }
    for m, values in plan.items():
        lines[L.abs_header(m, "p")] = values
    facts = daily.groupby(["channel", "campaign"], sort=False)[list(METRICS)].sum().reset_index()
    facts = facts.rename(columns={m: L.abs_header(m, "f") for m in METRICS})
    return lines.merge(facts, on=["channel", "campaign"], how="left")


@pytest.fixture()
def book(tmp_path: Path) -> Path:
    daily = _daily()
    spec = PlanWorkbookSpec(month=MONTH, lines=_lines(daily), daily=daily, as_of=None)
    return save_atomic(build_plan_workbook(spec), tmp_path / "plan-2026-11.xlsx")


def _cells(path: Path) -> dict[tuple[str, str], Any]:
    wb = openpyxl.load_workbook(path)
    return {
        (ws.title, c.coordinate): c.value
        for ws in wb
        for row in ws.iter_rows()
        for c in row
        if c.value is not None
    }


def _plan_values(path: Path, header: str) -> list[Any]:
    ws = openpyxl.load_workbook(path)[L.PLAN]
    col = next(c.column for c in ws[L.PLAN_HEADER_ROW] if c.value == header)
    return [ws.cell(row=r, column=col).value for r in range(L.PLAN_FIRST_ROW, L.PLAN_FIRST_ROW + 3)]


def test_refresh_writes_run_rate_worked_by_hand(book: Path) -> None:
    result = refresh(XlsxWorkbook(book))
    # as-of defaults to the latest Daily date, 2026-11-10: 10 days elapsed, 20 left.
    assert result.as_of == dt.date(2026, 11, 10)
    # Search leads: 10 days x 10 = 100 to date; last 5 days average 10/day -> 100 + 20 x 10 = 300.
    # Meta leads: 20 to date + 20 x 2 = 60. VK has no facts: its run-rate stays blank.
    assert _plan_values(book, "leads rr") == [300, 60, None]
    # spend: Search 10 000 + 20 x 1 000 = 30 000; Meta 5 000 + 20 x 500 = 15 000.
    assert _plan_values(book, "spend rr") == [30_000, 15_000, None]
    assert result.lines_without_facts == ["VK / New line"]
    settings = openpyxl.load_workbook(book)[L.SETTINGS]
    assert settings["B3"].value.date() == dt.date(2026, 11, 10)
    pace = openpyxl.load_workbook(book)[L.PACE]
    # all lines' leads: 12 a day -> 120 by the 10th; run-rate from 120 to 360 over 20 days
    assert pace["C11"].value == 120 and pace["C12"].value is None
    assert pace["D10"].value is None and pace["D11"].value == 120
    assert pace["D21"].value == 240 and pace["D31"].value == 360


def test_refresh_changes_only_rr_columns_and_as_of(book: Path) -> None:
    before = _cells(book)
    refresh(XlsxWorkbook(book), as_of=dt.date(2026, 11, 8))
    after = _cells(book)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    ws = openpyxl.load_workbook(book)[L.PLAN]
    rr_cols = {
        c.column_letter
        for c in ws[L.PLAN_HEADER_ROW]
        if str(c.value).endswith(" rr")
        and not str(c.value).startswith(("cpc", "cpa", "roas", "romi"))
    }
    # the Daily sheet runs past the 8th, so f is recomputed as of the 8th too (issue 16)
    f_cols = {
        c.column_letter
        for c in ws[L.PLAN_HEADER_ROW]
        if str(c.value).endswith(" f")
        and not str(c.value).startswith(("cpc", "cpa", "cr ", "roas", "romi"))
    }
    allowed = {(L.PLAN, f"{col}{r}") for col in rr_cols | f_cols for r in range(5, 8)}
    allowed |= {(L.SETTINGS, "B3")}
    allowed |= {(L.PACE, f"{col}{r}") for col in "CD" for r in range(2, 32)}  # fact, run-rate
    assert changed, "refresh wrote nothing"
    assert changed <= allowed, sorted(changed - allowed)


def test_refresh_as_of_override_uses_window_of_last_five_days(book: Path) -> None:
    refresh(XlsxWorkbook(book), as_of=dt.date(2026, 11, 3))
    # 3 days elapsed (< 5): rate = mean of days 1-3 = 10; 30 + 27 x 10 = 300.
    assert _plan_values(book, "leads rr")[0] == 300


def test_plan_summary_recomputes_cpa_from_sums(book: Path) -> None:
    refresh(XlsxWorkbook(book))
    summary = plan_summary(XlsxWorkbook(book))
    total = summary.total
    # spend plan 60 000 over leads plan 360 -> CPL 166.67 (a mean of the three CPLs would be 291.67)
    assert total.costs["cpa_leads"].plan == pytest.approx(60_000 / 360)
    assert total.metrics["leads"].runrate == pytest.approx(360)
    assert total.metrics["leads"].runrate_pct == pytest.approx(1.0)
    assert [c.channel for c in summary.channels] == ["Search", "Meta", "VK"]


def test_text_in_a_number_cell_names_the_cell(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    ws = wb[L.PLAN]
    col = next(c.column_letter for c in ws[L.PLAN_HEADER_ROW] if c.value == "spend p")
    ws[f"{col}6"] = "20 000 руб"
    wb.save(book)
    with pytest.raises(InputError) as err:
        refresh(XlsxWorkbook(book))
    assert str(err.value) == (
        f"line 'Plan!{col}6 (Meta / Prospecting)', column `spend p`: "
        "value '20 000 руб' is not a number"
    )


def test_negative_spend_is_refused(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    wb[L.DAILY]["D3"] = -100
    wb.save(book)
    with pytest.raises(InputError, match=r"Daily!D3.*value -100 must not be negative"):
        refresh(XlsxWorkbook(book))


def test_daily_date_outside_the_month_names_the_cell(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    wb[L.DAILY]["A4"] = dt.datetime(2026, 12, 1)
    wb.save(book)
    with pytest.raises(InputError) as err:
        refresh(XlsxWorkbook(book))
    assert str(err.value) == (
        "line 'Daily!A4', column `date`: value '2026-12-01' is outside the plan month 2026-11"
    )


def test_unknown_stage_in_settings_is_named(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    wb[L.SETTINGS]["G3"] = "clicks"  # leads measured from a stage that does not exist
    wb.save(book)
    with pytest.raises(InputError, match="clicks"):
        refresh(XlsxWorkbook(book))


def test_a_crash_mid_save_leaves_the_workbook_as_it_was(
    book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    digest = hashlib.sha256(book.read_bytes()).hexdigest()

    def broken_save(self: openpyxl.Workbook, filename: str) -> None:
        Path(filename).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(openpyxl.Workbook, "save", broken_save)
    with pytest.raises(StorageError, match=f"cannot write the workbook .*{book.name}.*disk full"):
        refresh(XlsxWorkbook(book))
    assert hashlib.sha256(book.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in book.parent.iterdir()) == [book.name]


def test_new_month_plans_from_facts_where_there_is_enough_data(book: Path, tmp_path: Path) -> None:
    digest = hashlib.sha256(book.read_bytes()).hexdigest()
    out = tmp_path / "plan-2026-12.xlsx"
    result = new_month(XlsxWorkbook(book), out)
    assert hashlib.sha256(book.read_bytes()).hexdigest() == digest  # history stays as it was
    assert result.month == dt.date(2026, 12, 1)
    new = XlsxWorkbook(out)
    assert {"Plan", "Executive", "Daily", "Settings", "History"} <= set(new.sheet_names())
    plan = new.read_table(L.PLAN, header_row=L.PLAN_HEADER_ROW, stop_labels=(L.TOTAL_LABEL,))
    search = plan.records()[0]
    # Search: budget 30 000 carried over; facts: 200 clicks for 10 000 -> CPC 50 (>= 100 clicks),
    # so traffic = 30 000 / 50 = 600; leads CR from facts 100/200 = 0.5 -> 300 leads;
    # calls CR 50/100 = 0.5 -> 150; pp from calls 30/50 = 0.6 -> 90; negotiations: pp facts 30 >= 30
    # -> 20/30 -> 60; purchases: negotiations facts 20 < 30 -> plan CR 15/30 = 0.5 -> 30;
    # revenue per purchase: 10 purchases in facts >= 10 -> 50 000/10 = 5 000 -> 150 000.
    assert search["spend p"] == 30_000
    assert search["traffic p"] == 600
    assert search["leads p"] == 300
    assert search["calls p"] == 150
    assert search["pp p"] == 90
    assert search["negotiations p"] == 60
    assert search["purchases p"] == 30
    assert search["revenue p"] == 150_000
    assert all(search[L.abs_header(m, "f")] is None for m in METRICS)  # facts start empty
    vk = plan.records()[2]  # no facts at all: every ratio kept from the plan, budget carried
    assert vk["spend p"] == 10_000 and vk["traffic p"] == 500 and vk["leads p"] == 20
    basis = result.basis.set_index("campaign")
    assert basis.loc["Brand", "cpc"] == "fact" and basis.loc["Brand", "cr_purchases"] == "plan"
    assert basis.loc["New line", "cpc"] == "plan"
    settings = openpyxl.load_workbook(out)[L.SETTINGS]
    assert settings["B2"].value.date() == dt.date(2026, 12, 1)
    # Optimize Split's history rolls over: this month's Daily days become next month's history
    carried = XlsxWorkbook(out).read_table(L.DAILY_HISTORY, header_row=1)
    assert len(carried.rows) == 2 * 10  # two channels x ten days
    history = openpyxl.load_workbook(out)[L.HISTORY]
    assert history["A4"].value == "Search" and history["A6"].value == "VK"


def test_new_month_refuses_to_overwrite(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "exists.xlsx"
    out.write_bytes(b"keep me")
    with pytest.raises(InputError, match="already exists"):
        new_month(XlsxWorkbook(book), out)
    assert out.read_bytes() == b"keep me"


def test_plan_next_line_without_usable_ratios_is_left_blank() -> None:
    row = pd.Series({"spend p": 1000.0, "traffic p": 0.0, "leads p": 5.0})
    counts, basis = plan_next_line(row, DEFAULT_FUNNEL)
    assert counts == {}
    assert set(basis.values()) == {"none"}


def test_new_month_carries_the_mapping_rules_over(tmp_path: Path) -> None:
    daily = _daily()
    rules = [
        {"data source": "yandex_direct", "field": "utm_campaign", "match": "contains",
         "pattern": "search_brand", "channel": "Search", "campaign": "Brand"},
        {"data source": "", "field": "utm_source", "match": "regex",
         "pattern": "^(fb|facebook)$", "channel": "Meta", "campaign": ""},
    ]  # fmt: skip
    spec = PlanWorkbookSpec(month=MONTH, lines=_lines(daily), daily=daily, mapping=rules)
    book = save_atomic(build_plan_workbook(spec), tmp_path / "plan-2026-11.xlsx")
    # a marketer's edit: a third rule typed below a blank row, with stray spaces
    sheet = openpyxl.load_workbook(book)
    ws = sheet[L.MAPPING]
    for col, value in enumerate(
        ["vk_ads", "utm_campaign", "exact", " vk_new ", "VK", "New line"], start=1
    ):
        ws.cell(row=5, column=col, value=value)
    sheet.save(book)
    out = tmp_path / "plan-2026-12.xlsx"
    new_month(XlsxWorkbook(book), out)
    carried = openpyxl.load_workbook(out)[L.MAPPING]
    assert [c.value for c in carried[1][: len(L.MAPPING_HEADERS)]] == list(L.MAPPING_HEADERS)
    rows = [[c.value for c in carried[r][: len(L.MAPPING_HEADERS)]] for r in range(2, 6)]
    assert rows == [
        ["yandex_direct", "utm_campaign", "contains", "search_brand", "Search", "Brand"],
        [None, "utm_source", "regex", "^(fb|facebook)$", "Meta", None],
        ["vk_ads", "utm_campaign", "exact", "vk_new", "VK", "New line"],
        [None] * len(L.MAPPING_HEADERS),
    ]


def test_new_month_without_a_mapping_sheet_starts_with_no_rules(book: Path, tmp_path: Path) -> None:
    sheet = openpyxl.load_workbook(book)
    del sheet[L.MAPPING]
    sheet.save(book)
    out = tmp_path / "plan-2026-12.xlsx"
    new_month(XlsxWorkbook(book), out)
    carried = openpyxl.load_workbook(out)[L.MAPPING]
    assert carried["A2"].value is None and carried["D2"].value is None
