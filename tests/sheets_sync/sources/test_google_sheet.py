"""A Google Sheet tab as a source: grids as the Sheets API returns them, read to hand-worked
numbers through the file readers' own parsing.

The grids are what ``spreadsheets.values.get`` gives with ``valueRenderOption=UNFORMATTED_VALUE``
and ``dateTimeRenderOption=FORMATTED_STRING``: numbers as int/float, text as str, dates as their
formatted text, checkboxes as bool, empty cells ``""`` (or missing at a row's end), row 1 first.
The HTTP call itself (`read_gsheet`) goes through gspread, unmodified, to the local Sheets API
test double (tests/sheets_double) with the shared `sheets_sync.google_http` session: retries,
a service account's token, and the errors a user sees.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sheets_double import Fault, SheetsDouble, gspread_client

from addin.actions.sync_facts import read_input
from planning.errors import InputError
from sheets_sync.google_http import GoogleSession, RateLimiter, RetryPolicy
from sheets_sync.sources.column_map import SourceOptions
from sheets_sync.sources.google_sheet import read_gsheet, read_gsheet_rows, where_label
from sheets_sync.sources.textfile import SheetRows, grid_from_rows, read_grid
from sheets_sync.sync_config import parse_config

WHERE = where_label("1AbCdEf", "Stats")


def _session(double: SheetsDouble, sleeps: list[float] | None = None) -> GoogleSession:
    """The shared Google session over the double: no real sleeping, a roomy read limiter."""
    return GoogleSession(
        gspread_client(double.url),
        retry=RetryPolicy(sleep=(sleeps if sleeps is not None else []).append),
        read_limiter=RateLimiter(1000),
    )


def _sum(facts: pd.DataFrame, metric: str, basis: str = "event", **keys: str) -> float:
    rows = facts[(facts["metric"] == metric) & (facts["basis"] == basis)]
    for key, value in keys.items():
        rows = rows[rows[key].astype(str) == value]
    return float(rows["value"].sum())


# --- ad stats -----------------------------------------------------------------------------

RU_AD: list[list[Any]] = [
    ["Отчёт «Статистика по дням»"],  # sheet row 1
    ["Период: 01.11.2026 – 03.11.2026"],  # 2
    [],  # 3
    ["Дата", "Кампания", "Показы", "Клики", "Расход (руб.)", "Конверсии"],  # 4: header
    ["01.11.2026", "YD_Search", 1000, 40, 1500.5, 2],  # 5
    ["01.11.2026", "YD_Brand", 500, 25, "1 234,5", 1],  # 6: a number typed as Russian text
    ["02.11.2026", "YD_Search", 1200, 48, 1.234, "--"],  # 7: 1.234 is a number, not 1 234
    ["02.11.2026", "YD_Brand", 600, 30, 980, 0],  # 8
    ["03.11.2026", "YD_Search", "сорок", 44, 1100, 1],  # 9: not a number -> quarantined
    ["Итого", "", 3300, 187, 4816.234, 4],  # 10: the totals row
]


def test_russian_ad_tab_numbers_as_numbers_and_as_text() -> None:
    result = read_gsheet_rows(RU_AD, SourceOptions("yandex_direct"), None, WHERE)
    info = result.info
    assert (info.kind, info.platform, info.path) == ("gsheet", "yandex_direct", WHERE)
    assert (info.header_line, info.date_format) == (4, "dd.mm.yyyy")
    assert (info.rows_read, info.rows_ok, info.rows_quarantined, info.duplicates) == (5, 4, 1, 0)
    # spend 1 500,5 + 1 234,5 (text) + 1,234 (a number: stays 1.234) + 980 = 3 716,234
    assert info.totals["spend"] == pytest.approx(3716.234)
    assert info.totals["impressions"] == 3300
    assert info.totals["traffic"] == 143  # 40 + 25 + 48 + 30
    assert info.totals["platform_leads"] == 3  # 2 + 1 + "--" (0) + 0
    assert _sum(result.facts, "spend", utm_campaign="YD_Search") == pytest.approx(1501.734)
    assert set(result.facts["utm_source"].astype(str)) == {"yandex"}
    # the bad cell is quarantined at its sheet row and column, named by the tab
    q = result.quarantine
    assert q[["file", "line", "column", "value", "reason"]].values.tolist() == [
        [WHERE, 9, "Показы", "сорок", "is not a number"]
    ]
    assert info.quarantined_totals == {"spend": 1100.0, "traffic": 44.0, "platform_leads": 1.0}
    assert info.file_totals_row == {
        "spend": pytest.approx(4816.234),
        "impressions": 3300.0,
        "traffic": 187.0,
        "platform_leads": 4.0,
    }
    assert str(info.date_from) == "2026-11-01" and str(info.date_to) == "2026-11-02"


EN_AD: list[list[Any]] = [
    ["Day", "Campaign", "Impr.", "Clicks", "Cost", "Conversions"],  # 1: header
    ["2026-11-01", "GS_Brand", 1000, 50, 250.75, 3.5],  # 2
    ["2026-11-01", "GS_Generic", "1,200", 60, "1,234.50", 2],  # 3: English text numbers
    ["2026-11-02", "GS_Brand", 900, 45, 199.25, 3],  # 4: restated below -> duplicate
    ["2026-11-02", "GS_Brand", 950, 47, 210, 4],  # 5: kept (the last row of the key)
    ["Total: Account", "", 4050, 202, 1894.5, 12.5],  # 6
]


def test_english_ad_tab_rate_dedup_and_totals_row() -> None:
    result = read_gsheet_rows(EN_AD, SourceOptions("google_ads", rate=2.0), "ad", WHERE)
    info = result.info
    assert (info.platform, info.header_line, info.date_format) == ("google_ads", 1, "yyyy-mm-dd")
    assert (info.rows_read, info.rows_ok, info.rows_quarantined, info.duplicates) == (4, 3, 0, 1)
    # spend (250,75 + 1 234,50 + 210) x rate 2 = 3 390,50; the dropped row 199,25 x 2 = 398,50
    assert info.totals["spend"] == pytest.approx(3390.5)
    assert info.duplicate_totals["spend"] == pytest.approx(398.5)
    assert info.totals["impressions"] == 3150  # 1 000 + 1 200 + 950
    assert info.totals["traffic"] == 157  # 50 + 60 + 47
    assert info.totals["platform_leads"] == pytest.approx(9.5)  # 3,5 + 2 + 4
    assert _sum(result.facts, "traffic", utm_campaign="GS_Brand") == 97  # 50 + 47
    # the file's own totals row reconciles with accepted + duplicates
    own = info.file_totals_row
    assert own is not None
    for metric, value in own.items():
        total = info.totals.get(metric, 0.0) + info.duplicate_totals.get(metric, 0.0)
        assert total == pytest.approx(value), metric
    assert len(result.quarantine) == 0


def test_numbers_as_floats_read_like_numbers_as_russian_text() -> None:
    header = ["Дата", "Кампания", "Клики", "Расход"]
    floats = [1.5, 1234.567, 1234, 0.125]
    texts = ["1,5", "1 234,567", "1 234", "0,125"]
    days = ["01.11.2026", "02.11.2026", "03.11.2026", "04.11.2026"]

    def grid(spends: list[Any]) -> list[list[Any]]:
        return [header] + [[d, "YD", 10, s] for d, s in zip(days, spends, strict=True)]

    options = SourceOptions("yd", platform="yandex_direct")
    as_numbers = read_gsheet_rows(grid(floats), options, "ad", WHERE)
    as_text = read_gsheet_rows(grid(texts), options, "ad", WHERE)
    spend = [r.facts[r.facts["metric"] == "spend"]["value"].tolist() for r in (as_numbers, as_text)]
    assert spend[0] == pytest.approx([1.5, 1234.567, 1234.0, 0.125])
    assert spend[1] == pytest.approx(spend[0])
    assert as_numbers.info.totals["spend"] == pytest.approx(2470.192)
    # a Russian-headed tab's float 1.5 next to comma-decimal texts stays 1.5 (and 0.125 stays
    # 0.125): only text is read with the decimal comma
    mixed = read_gsheet_rows(grid([1.5, "1 234,567", 0.125, "1 234"]), options, "ad", WHERE)
    assert mixed.facts[mixed.facts["metric"] == "spend"]["value"].tolist() == pytest.approx(
        [1.5, 1234.567, 0.125, 1234.0]
    )


def test_grid_from_rows_keeps_sheet_numbers_and_rows() -> None:
    rows: list[list[Any]] = [
        ["report"],
        ["Day", "Campaign", "Cost", "Clicks"],
        ["2026-11-01", 2026, 1.5, 3],
        ["2026-11-02", "B", "", "--"],
        ["2026-11-03", "C", 2.25],  # the row ends early (the API drops trailing blanks)
        ["", "", ""],
    ]
    grid = read_grid(
        SheetRows(rows, WHERE),
        lambda cells: "Day" in cells,
        numeric=lambda headers: ["Cost", "Clicks"],
    )
    assert grid_from_rows(rows, lambda cells: "Day" in cells, where=WHERE).header_line == 2
    assert grid.header_line == 2 and grid.lines.tolist() == [3, 4, 5]
    assert grid.frame["Cost"].dtype == np.float64  # every cell a number or blank
    assert grid.frame["Cost"].tolist()[::2] == [1.5, 2.25]
    assert grid.frame["Clicks"].dtype == np.float64  # "--" is blank, as in a CSV
    assert grid.frame["Campaign"].tolist() == ["2026", "B", "C"]  # text columns hold text
    assert grid.decimal == "."


# --- calls and CRM -------------------------------------------------------------------------


def test_calls_tab_checkboxes_numeric_ids_and_a_bad_date() -> None:
    rows: list[list[Any]] = [
        ["ID звонка", "Дата и время", "Источник", "Канал", "Кампания", "Длительность", "Целевой"],
        [1001, "01.11.2026 10:15", "yandex", "cpc", "yd_search", 65, True],  # 2
        [1002, "01.11.2026 11:00", "yandex", "cpc", "yd_search", "1:30", False],  # 3
        [1003, "02.11.2026 09:00", "google", "cpc", "gs_brand", 200, "Да"],  # 4: repeated below
        [1003, "02.11.2026 09:05", "google", "cpc", "gs_brand", 210, True],  # 5: kept
        [1004, "вчера", "google", "cpc", "gs_brand", 30, True],  # 6: not a date
    ]
    result = read_gsheet_rows(rows, SourceOptions("calltouch"), None, WHERE)
    info = result.info
    assert (info.kind, info.platform) == ("gsheet", "calls")
    assert (info.rows_read, info.rows_ok, info.rows_quarantined, info.duplicates) == (5, 3, 1, 1)
    assert info.totals == {"calls_all": 3.0, "calls": 2.0}
    assert _sum(result.facts, "calls_all", utm_campaign="yd_search") == 2
    assert _sum(result.facts, "calls", utm_campaign="yd_search") == 1  # the FALSE checkbox
    assert _sum(result.facts, "calls", utm_campaign="gs_brand") == 1
    q = result.quarantine
    assert q[["line", "column", "value"]].values.tolist() == [[6, "Дата и время", "вчера"]]


def test_crm_tab_amounts_as_numbers_and_russian_text() -> None:
    rows: list[list[Any]] = [
        [
            "ID сделки",
            "Дата создания",
            "Источник",
            "Канал",
            "Кампания",
            "Этап",
            "Дата оплаты",
            "Сумма",
        ],
        [1, "01.11.2026", "yandex", "cpc", "yd_search", "Оплата", "03.11.2026", 1500.125],
        [2, "01.11.2026", "yandex", "cpc", "yd_search", "Лид", "", ""],
        [3, "02.11.2026", "google", "cpc", "gs_brand", "Оплата", "04.11.2026", "2 000,5"],
        [4, "02.11.2026", "google", "cpc", "gs_brand", "КП", "", 0],
        [5, "02.11.2026", "google", "cpc", "gs_brand", "Оплата", "05.11.2026", "много"],  # 6
    ]
    result = read_gsheet_rows(rows, SourceOptions("crm"), None, WHERE)
    info = result.info
    assert (info.kind, info.platform) == ("gsheet", "crm")
    assert (info.rows_read, info.rows_ok, info.rows_quarantined) == (5, 4, 1)
    # revenue 1 500,125 (a number with three decimals: not 1 500 125) + 2 000,5 (text)
    assert info.totals["revenue"] == pytest.approx(3500.625)
    assert info.totals["leads"] == 4 and info.totals["purchases"] == 2 and info.totals["pp"] == 3
    assert _sum(result.facts, "revenue", "cohort", utm_campaign="yd_search") == 1500.125
    assert result.quarantine[["line", "column", "value"]].values.tolist() == [[6, "Сумма", "много"]]


# --- errors, config, the key file ----------------------------------------------------------


def test_unreadable_tabs_are_named() -> None:
    options = SourceOptions("x")
    with pytest.raises(InputError, match=r"gsheet:1AbCdEf!Stats: the sheet tab is empty"):
        read_gsheet_rows([[], ["", ""]], options, None, WHERE)
    with pytest.raises(InputError, match=r"gsheet:1AbCdEf!Stats: not a recognised .* 'Name'"):
        read_gsheet_rows([["Name", "Phone"], ["Ann", 1]], options, None, WHERE)
    with pytest.raises(InputError, match="no recognised calls export header"):
        read_gsheet_rows(RU_AD, options, "calls", WHERE)
    with pytest.raises(InputError, match="unknown kind"):
        read_gsheet_rows(RU_AD, options, "ads", WHERE)


def test_gsheet_config_credentials_relative_to_the_config(tmp_path: Path) -> None:
    text = """
workbook = "plan.xlsx"
[[sources]]
name = "sheet"
kind = "gsheet"
spreadsheet = "1AbCdEf"
tab = "Stats"
credentials = "keys/sa.json"
"""
    config = parse_config(text, base=tmp_path, origin="sync.toml")
    src = config.source("sheet")
    assert (src.spreadsheet, src.tab, src.credentials) == (
        "1AbCdEf",
        "Stats",
        tmp_path / "keys/sa.json",
    )
    # a missing key file is named by its config key before any request is made
    with pytest.raises(
        InputError, match=r"sync.toml: `sources\[0\].credentials` of source `sheet`"
    ):
        read_input(src, None)
    with pytest.raises(InputError, match=r"`sources\[0\].credentials`: is only for a `gsheet`"):
        parse_config(
            'workbook = "p.xlsx"\n[[sources]]\nname = "a"\nkind = "ad"\npath = "a.csv"\n'
            'credentials = "sa.json"\n',
            base=tmp_path,
            origin="sync.toml",
        )
    with pytest.raises(InputError, match=r"`sources\[0\].tab`: is missing"):
        parse_config(
            'workbook = "p.xlsx"\n[[sources]]\nname = "a"\nkind = "gsheet"\nspreadsheet = "x"\n',
            base=tmp_path,
            origin="sync.toml",
        )


def test_read_gsheet_without_a_key_file_says_so(tmp_path: Path) -> None:
    # stops before gspread makes any request
    with pytest.raises(InputError, match=r"service account key file .* does not exist"):
        read_gsheet("1AbCdEf", "Stats", SourceOptions("x"), credentials_file=tmp_path / "no.json")


def test_read_gsheet_over_http_from_the_sheets_double() -> None:
    """`read_gsheet` through gspread, unmodified, talking HTTP to the local Sheets API double:
    one values.get, the Russian-locale tab read to the same numbers as the grid above."""
    with SheetsDouble() as double:
        double.add_book("1AbCdEf", "Plan sources", "ru_RU")
        double.seed("1AbCdEf", "Stats", RU_AD)
        before = len(double.log)
        result = read_gsheet(
            "1AbCdEf", "Stats", SourceOptions("yandex_direct"), session=_session(double)
        )
        assert [method for method, _ in double.log[before:]] == ["GET"]
    info = result.info
    assert (info.kind, info.platform, info.header_line) == ("gsheet", "yandex_direct", 4)
    assert (info.rows_read, info.rows_ok, info.rows_quarantined) == (5, 4, 1)
    assert info.totals["spend"] == pytest.approx(3716.234)
    assert info.totals["traffic"] == 143
    q = result.quarantine
    assert q[["line", "column", "value"]].values.tolist() == [[9, "Показы", "сорок"]]


def test_read_gsheet_retries_a_429_from_the_sheets_double() -> None:
    """The source shares the workbook adapter's session: a 429 and a 503 are retried with
    backoff, and the third values.get reads the tab."""
    with SheetsDouble() as double:
        double.add_book("1AbCdEf", "Plan sources", "ru_RU")
        double.seed("1AbCdEf", "Stats", RU_AD)
        double.inject(Fault(status=429, method="GET"))
        double.inject(Fault(status=503, method="GET"))
        double.reset_log()
        sleeps: list[float] = []
        result = read_gsheet(
            "1AbCdEf", "Stats", SourceOptions("yandex_direct"), session=_session(double, sleeps)
        )
        assert [method for method, _ in double.log] == ["GET", "GET", "GET"]
        assert len(sleeps) == 2 and 0 <= sleeps[0] <= 1.0 and 0 <= sleeps[1] <= 2.0
        assert result.info.totals["spend"] == pytest.approx(3716.234)
        double.inject(Fault(status=429, method="GET"), count=1000)
        with pytest.raises(InputError, match=rf"{WHERE} after 5 tries .*429 RESOURCE_EXHAUSTED"):
            read_gsheet("1AbCdEf", "Stats", SourceOptions("x"), session=_session(double))


def test_read_gsheet_with_a_service_account_key_and_its_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key file, its token from the double's token endpoint (the API calls need it), the API
    root from FUNNELPLAN_SHEETS_API_ROOT; a wrong id or tab is named in words."""
    with SheetsDouble() as double:
        double.require_auth = True
        double.add_book("1AbCdEf", "Plan sources", "ru_RU")
        double.seed("1AbCdEf", "Stats", RU_AD)
        key = double.service_account_file(tmp_path, "reader@p.iam.gserviceaccount.com")
        monkeypatch.setenv("FUNNELPLAN_SHEETS_API_ROOT", double.url)
        options = SourceOptions("yandex_direct")
        result = read_gsheet("1AbCdEf", "Stats", options, credentials_file=key)
        assert result.info.totals["traffic"] == 143
        with pytest.raises(InputError, match=r"gsheet:nope!Stats: no such spreadsheet"):
            read_gsheet("nope", "Stats", options, credentials_file=key)
        with pytest.raises(InputError, match=r"the spreadsheet has no tab 'Nope'"):
            read_gsheet("1AbCdEf", "Nope", options, credentials_file=key)
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "external_account"}')
    with pytest.raises(InputError, match="neither a service account key nor an OAuth"):
        read_gsheet("1AbCdEf", "Stats", SourceOptions("x"), credentials_file=bad)
