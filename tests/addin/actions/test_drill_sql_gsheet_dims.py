"""Dimensions from a SQL query and from Google Sheet tabs (issue 15): a warehouse query's city
and ad-group columns, a CRM tab's city and utm_term and an ad tab's ad group reach the store
with the facts, and the Drill sheet by city and by segment gives the sums worked by hand."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pandas as pd
import pytest
from drill_table import drill_table
from sheets_double import SheetsDouble

from addin.actions.sync_facts.run import run_sync
from addin.registry import ActionContext, dispatch
from planning.drill import LEVELS
from sheets_sync.i18n import translator
from sheets_sync.store import FactStore
from sheets_sync.sync_config import load_config
from sheets_sync.workbooks.xlsx import save_atomic
from workbook_templates.drill_sheet import DRILL, NO_VALUE, NOT_IN_PLAN
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook

EN = translator("en")
NOV = dt.date(2026, 11, 1)
AS_OF = dt.date(2026, 11, 2)


def _workbook(folder: Path, config_text: str, lines: list[tuple[str, str]]) -> Path:
    """sync.toml and a November plan with `lines` and the config's mapping rules; the book."""
    (folder / "sync.toml").write_text(textwrap.dedent(config_text), encoding="utf-8")
    config = load_config(folder / "sync.toml")
    plan = pd.DataFrame(lines, columns=["channel", "campaign"])
    spec = PlanWorkbookSpec(month=NOV, lines=plan, as_of=AS_OF, mapping=config.mapping)
    save_atomic(build_plan_workbook(spec), config.workbook)
    return config.workbook


def _sync(book: Path) -> dict[str, float]:
    """Sync Facts; what it filled the Plan with, per metric."""
    config = load_config(book.parent / "sync.toml")
    result = run_sync(config, now=dt.datetime(2026, 11, 3, 1), as_of=AS_OF)
    return result.filled


def _press(book: Path, level: str) -> dict[str, dict[str, Any]]:
    """Drill at `level` (no filters): the rows by label, each ``{header: value}``."""
    if DRILL not in openpyxl.load_workbook(book, read_only=True).sheetnames:
        dispatch("drill", ActionContext.of_file(book))  # a workbook without it: added
    wb = openpyxl.load_workbook(book)
    wb[DRILL]["B1"] = level
    for row in range(2, 2 + len(LEVELS)):
        wb[DRILL].cell(row, 2).value = None
    wb.save(book)
    dispatch("drill", ActionContext.of_file(book))
    table = drill_table(book)
    header = [str(h) for h in table[0]]
    assert header[0] == level
    return {str(r[0]): dict(zip(header, r, strict=True)) for r in table[1:]}


def _stored(book: Path) -> pd.DataFrame:
    config = load_config(book.parent / "sync.toml")
    with FactStore(config.store_location) as store:
        return store.source_facts(start=NOV, end=AS_OF, dimensions=True)


# --------------------------------------------------------------------------- SQL


SQL_CONFIG = """
    workbook = "plan.xlsx"
    store = "facts.duckdb"

    [[sources]]
    name = "warehouse"
    kind = "sql"
    url = "duckdb:///warehouse.duckdb"
    query = '''SELECT day AS date, src AS utm_source, med AS utm_medium, camp AS utm_campaign,
               metric, value, town AS "Город", grp AS ad_group FROM events'''

    [[mapping]]
    field = "utm_campaign"
    match = "exact"
    pattern = "brand"
    channel = "Search"
    campaign = "Brand"

    [[mapping]]
    field = "utm_campaign"
    match = "exact"
    pattern = "generic"
    channel = "Search"
    campaign = "Generic"
"""


def test_sql_query_city_and_ad_group(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute(
        "CREATE TABLE events (day DATE, src VARCHAR, med VARCHAR, camp VARCHAR, metric VARCHAR,"
        " value DOUBLE, town VARCHAR, grp VARCHAR)"
    )
    con.execute(
        """INSERT INTO events VALUES
        ('2026-11-01', 'google', 'cpc', 'brand', 'spend', 600, 'Москва', 'brand'),
        ('2026-11-01', 'google', 'cpc', 'brand', 'spend', 400, ' Казань ', 'brand'),
        ('2026-11-02', 'google', 'cpc', 'brand', 'spend', 1200, 'Москва', 'generic'),
        ('2026-11-02', 'google', 'cpc', 'brand', 'leads', 12, 'Москва', 'generic'),
        ('2026-11-02', 'google', 'cpc', 'brand', 'leads', 3, NULL, 'brand'),
        ('2026-11-02', 'google', 'cpc', 'generic', 'spend', 500, 'Казань', 'generic'),
        ('2026-11-02', 'google', 'cpc', 'generic', 'leads', 5, 'Казань', 'generic'),
        ('2026-11-02', 'google', 'cpc', 'other', 'spend', 30, 'Москва', 'brand'),
        ('2026-11-04', 'google', 'cpc', 'brand', 'spend', 999, 'Москва', 'brand')"""
    )
    con.close()
    book = _workbook(
        tmp_path, SQL_CONFIG, [("Search", "Brand"), ("Search", "Generic"), ("Meta", "LAL")]
    )
    filled = _sync(book)
    assert (filled["spend"], filled["leads"]) == (2700, 20)  # the Plan's facts (to 2 Nov)

    stored = _stored(book)
    spend = stored[stored["metric"] == "spend"].groupby(["city", "segment"])["value"].sum()
    # Казань trimmed (400 + 500 on brand/generic), Москва 600 + 30 brand, 1200 generic
    assert spend.to_dict() == {
        ("Казань", "brand"): 400.0,
        ("Казань", "generic"): 500.0,
        ("Москва", "brand"): 630.0,
        ("Москва", "generic"): 1200.0,
    }

    rows = _press(book, "city")
    # Москва: spend 600 + 1200 = 1800, leads 12, CPL 1800 / 12 = 150
    # Казань: spend 400 + 500 = 900, leads 5, CPL 900 / 5 = 180
    # (no value): the 3 leads without a city; the 30 of "other" outside the plan
    assert (rows["Москва"]["spend f"], rows["Москва"]["leads f"]) == (1800, 12)
    assert rows["Москва"]["CPL f"] == pytest.approx(150.0)
    assert (rows["Казань"]["spend f"], rows["Казань"]["leads f"]) == (900, 5)
    assert rows["Казань"]["CPL f"] == pytest.approx(180.0)
    assert rows[NO_VALUE]["leads f"] == 3 and not rows[NO_VALUE]["spend f"]
    assert (rows[EN("Total")]["spend f"], rows[EN("Total")]["leads f"]) == (2700, 20)
    assert rows[NOT_IN_PLAN]["spend f"] == 30

    rows = _press(book, "segment")
    # brand: 600 + 400 spend, 3 leads; generic: 1200 + 500 spend, 12 + 5 leads
    assert (rows["brand"]["spend f"], rows["brand"]["leads f"]) == (1000, 3)
    assert (rows["generic"]["spend f"], rows["generic"]["leads f"]) == (1700, 17)
    assert rows["generic"]["CPL f"] == pytest.approx(1700 / 17)


# --------------------------------------------------------------------------- Google Sheet


GSHEET_CONFIG = """
    workbook = "plan.xlsx"
    store = "facts.duckdb"

    [[sources]]
    name = "direct"
    kind = "gsheet"
    spreadsheet = "1Ads"
    tab = "Direct"
    credentials = "sa.json"

    [[sources]]
    name = "crm"
    kind = "gsheet"
    spreadsheet = "1Ads"
    tab = "CRM"
    credentials = "sa.json"

    [[mapping]]
    field = "utm_campaign"
    match = "exact"
    pattern = "yd_search"
    channel = "Yandex Direct"
    campaign = "Search"
"""

DIRECT_TAB: list[list[Any]] = [
    ["Дата", "Кампания", "Группа", "Показы", "Клики", "Расход (руб.)", "Конверсии"],
    ["01.11.2026", "YD_Search", "brand", 1000, 40, 1500.5, 2],
    ["01.11.2026", "YD_Search", "generic", 500, 25, "1 000,5", 1],
    ["02.11.2026", "YD_Search", "brand", 1200, 48, 1000, 1],
]
CRM_TAB: list[list[Any]] = [
    ["ID сделки", "Дата создания", "Источник", "Канал", "Кампания", "Этап", "Город", "utm_term"],
    [1, "01.11.2026", "yandex", "cpc", "yd_search", "Лид", "Москва", "brand"],
    [2, "01.11.2026", "yandex", "cpc", "yd_search", "Лид", "Казань", "generic"],
    [3, "02.11.2026", "yandex", "cpc", "yd_search", "Лид", "Москва", "brand"],
    [4, "02.11.2026", "yandex", "cpc", "yd_search", "Лид", "", "brand"],
]


def test_google_sheet_tabs_city_and_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SheetsDouble() as double:
        double.require_auth = True
        double.add_book("1Ads", "Team sources", "ru_RU")
        double.seed("1Ads", "Direct", DIRECT_TAB)
        double.seed("1Ads", "CRM", CRM_TAB)
        double.service_account_file(tmp_path, "reader@p.iam.gserviceaccount.com").rename(
            tmp_path / "sa.json"
        )
        monkeypatch.setenv("FUNNELPLAN_SHEETS_API_ROOT", double.url)
        book = _workbook(tmp_path, GSHEET_CONFIG, [("Yandex Direct", "Search")])
        filled = _sync(book)
    assert (filled["spend"], filled["leads"]) == (3501, 4)

    stored = _stored(book)
    leads = stored[stored["metric"] == "leads"].groupby(["city", "segment"])["value"].sum()
    assert leads.to_dict() == {("", "brand"): 1, ("Казань", "generic"): 1, ("Москва", "brand"): 2}
    spend = stored[stored["metric"] == "spend"].groupby(["city", "segment"])["value"].sum()
    # 1500.5 + 1000 brand, "1 000,5" typed as Russian text for generic
    assert spend.to_dict() == {("", "brand"): 2500.5, ("", "generic"): 1000.5}

    rows = _press(book, "city")
    # the CRM's leads by city; the ad tab has no city: all 3501 of spend in "(no value)"
    assert rows["Москва"]["leads f"] == 2 and rows["Казань"]["leads f"] == 1
    assert (rows[NO_VALUE]["spend f"], rows[NO_VALUE]["leads f"]) == (3501, 1)
    assert rows[EN("Total")]["leads f"] == 4

    rows = _press(book, "segment")
    # brand: spend 2500.5, leads 3, CPL 2500.5 / 3 = 833.5; generic: 1000.5 and 1 lead
    assert (rows["brand"]["spend f"], rows["brand"]["leads f"]) == (2500.5, 3)
    assert rows["brand"]["CPL f"] == pytest.approx(833.5)
    assert (rows["generic"]["spend f"], rows["generic"]["leads f"]) == (1000.5, 1)
