"""The journeys readers (a `paths` source) on real-looking files: a Metrica visits report (RU,
``;``), a GA4 sessions export (EN, unix microseconds), a Metrica Logs API file (tab, lists), a
CRM touch history (XLSX, RU; CSV, EN) and SQL queries on DuckDB and PostgreSQL. Every odd row is
kept and counted, every unreadable one quarantined with its line.

The files are written by tests/data/exports/journeys/make_journeys.py; the line numbers below are
theirs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import psycopg
import pytest
from conftest import require
from pg import PrivateCluster, pg_bin_dir

from planning.errors import InputError
from sheets_sync.facts import QUARANTINE_COLUMNS
from sheets_sync.sources.column_map import SourceOptions
from sheets_sync.sources.inspect_file import detect_kind, inspect, render
from sheets_sync.sources.paths_common import OUTCOME_COLUMNS, TOUCH_COLUMNS, split_journeys
from sheets_sync.sources.paths_export import PathsReadResult, read_paths_export, shape_of
from sheets_sync.sources.paths_history import parse_path
from sheets_sync.sources.paths_sql import read_paths_sql
from sheets_sync.sync_config import parse_config

DATA = Path(__file__).resolve().parents[2] / "data" / "exports" / "journeys"
NOW = dt.datetime(2026, 12, 1)


def read(name: str, shape: str = "auto", rate: float = 1.0) -> PathsReadResult:
    return read_paths_export(DATA / name, SourceOptions("j", rate=rate), shape=shape, now=NOW)


def stamp(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def touch_rows(result: PathsReadResult) -> list[tuple[str, str, str, str]]:
    """(journey, ts, utm_campaign or utm_source/medium, channel) per touch."""
    t = result.touches
    return [
        (j, f"{ts:%m-%d %H:%M}", c or (f"{s}/{m}" if s else ""), ch)
        for j, ts, s, m, c, ch in zip(
            t["journey"],
            t["ts"],
            t["utm_source"],
            t["utm_medium"],
            t["utm_campaign"],
            t["channel"],
            strict=True,
        )
    ]


def outcome_rows(result: PathsReadResult) -> list[tuple[str, str, str, float]]:
    o = result.outcomes
    return [
        (j, f"{ts:%m-%d %H:%M}", k, v)
        for j, ts, k, v in zip(o["journey"], o["ts"], o["kind"], o["value"], strict=True)
    ]


def quarantined(result: PathsReadResult) -> list[tuple[int, str, str]]:
    q = result.quarantine
    return list(zip(q["line"].tolist(), q["column"].tolist(), q["reason"].tolist(), strict=True))


def check_frames(result: PathsReadResult) -> None:
    assert list(result.touches.columns) == list(TOUCH_COLUMNS)
    assert list(result.outcomes.columns) == list(OUTCOME_COLUMNS)
    assert list(result.quarantine.columns) == list(QUARANTINE_COLUMNS)
    assert result.touches["ts"].dtype == "datetime64[ns]"
    assert result.outcomes["ts"].dtype == "datetime64[ns]"
    assert result.outcomes["value"].dtype == "float64"
    for column in ("journey", "visitor", "utm_source", "utm_medium", "utm_campaign", "channel"):
        assert result.touches[column].map(type).eq(str).all(), column
    assert set(result.outcomes["kind"]) <= {"lead", "purchase"}


# --------------------------------------------------------------------------- visits


def test_metrica_report_journeys_split_at_each_conversion() -> None:
    result = read("metrica_visits_ru.csv")
    check_frames(result)
    assert result.shape == "visits" and result.source == "j"
    rows = touch_rows(result)
    assert rows[:6] == [
        ("100", "11-01 10:00", "yd_search_brand_rf", ""),
        ("100", "11-02 11:30", "", "Organic Search"),
        ("100", "11-03 12:00", "", "Direct"),  # the converting visit ends journey 1
        ("100#2", "11-05 09:00", "vk_retargeting", ""),
        ("100#2", "11-07 18:00", "vk_retargeting", ""),
        ("100#3", "11-09 10:00", "", "Direct"),  # after the second conversion: not converting
    ]
    assert outcome_rows(result) == [
        ("100", "11-03 12:00", "lead", 0.0),
        ("100#2", "11-07 18:00", "lead", 0.0),
        ("100#2", "11-07 18:00", "purchase", 1500.5),  # "1 500,50" with NBSP and decimal comma
        ("600", "11-07 15:00", "lead", 0.0),
    ]
    assert set(result.touches["visitor"]) == {"100", "200", "400", "500", "600", "700"}
    assert rows[-1] == ("700", "11-10 20:00", "", "Social")


def test_metrica_report_keeps_and_counts_the_odd_rows() -> None:
    result = read("metrica_visits_ru.csv")
    assert quarantined(result) == [
        (12, "ClientID", "visitor id is blank"),
        (13, "Дата и время визита", "is not a date-time (expected dd.mm.yyyy hh:mm:ss)"),
        (14, "Дата и время визита", "visit time is blank"),
    ]
    assert result.quarantine["value"].tolist()[1] == "31.11.2026 10:00:00"
    counts = result.counts
    assert counts == {
        "touches": 52,
        "outcomes": 4,
        "journeys": 8,
        "converting": 3,
        "non_converting": 5,
        "single_touch": 4,
        "no_touches": 0,
        "after_conversion": 0,
        "no_channel": 1,  # visitor 400: "(not set)" UTMs and no traffic source
        "out_of_order": 1,  # visitor 200's 03.11 visit listed after its 04.11 ones
        "future": 1,  # visitor 500 in 2027
        "duplicate_touches": 1,  # visit id 7 exported twice (both kept)
        "long": 1,
        "longest": 40,
    }
    info = result.files[0]
    assert (info.kind, info.platform, info.header_line) == ("paths", "visits", 2)
    assert (info.rows_read, info.rows_ok, info.rows_quarantined) == (55, 52, 3)
    assert info.totals == {
        "touches": 52.0,
        "journeys": 8.0,
        "leads": 3.0,
        "purchases": 1.0,
        "revenue": 1500.5,
    }
    assert info.date_from == dt.date(2026, 11, 1) and info.date_to == dt.date(2027, 3, 1)
    warnings = "\n".join(info.warnings)
    for needle in ("goal cell(s) of 'Цель: Заявка'", "line 15", "in the future", "longest has 40"):
        assert needle in warnings
    t = result.touches
    assert (t["journey"] == "200").sum() == 3  # the repeated visit is kept
    assert t.loc[t["journey"] == "200", "ts"].is_monotonic_increasing
    assert result.window == (dt.datetime(2026, 11, 1, 10), dt.datetime(2027, 3, 1, 10))


def test_rate_applies_to_revenue() -> None:
    result = read("metrica_visits_ru.csv", rate=2.0)
    assert result.outcomes.loc[result.outcomes["kind"] == "purchase", "value"].tolist() == [3001.0]


def test_ga4_export_in_unix_microseconds() -> None:
    result = read("ga4_sessions_en.csv")
    check_frames(result)
    assert result.files[0].date_format == "unix microseconds"
    assert touch_rows(result) == [
        ("u1.1700", "11-01 10:00", "gs_brand", ""),
        ("u1.1700", "11-02 10:00", "", "Direct"),  # (direct) / (none) / (not set)
        ("u1.1700#2", "11-03 10:00", "fb_rt_sitevisitors", ""),
        ("u2.1800", "11-01 10:00", "", "Direct"),
        ("u4.2000", "11-04 10:00", "", "Organic Search"),  # the channel group, no UTMs
    ]
    assert result.touches["ts"].iloc[2] == stamp("2026-11-03 10:00:00.123456")
    assert outcome_rows(result) == [
        ("u1.1700", "11-02 10:00", "lead", 0.0),
        ("u1.1700#2", "11-03 10:00", "purchase", 1234.56),
    ]
    assert quarantined(result) == [
        (6, "user_pseudo_id", "visitor id is blank"),
        (7, "event_timestamp", "is not a date-time (expected unix microseconds)"),
    ]


def test_metrica_logs_api_lists() -> None:
    result = read("metrica_logs_api.tsv")
    assert result.files[0].delimiter == "\t"
    assert touch_rows(result) == [
        ("c1", "11-01 10:00", "yd_rsya_retargeting", ""),
        ("c1", "11-02 10:00", "", "Direct"),
        ("c2", "11-02 11:00", "", "Organic Search"),
        ("c3", "11-02 12:00", "", "Messengers"),
    ]
    assert outcome_rows(result) == [
        ("c1", "11-02 10:00", "lead", 0.0),  # [123,456]: two goals, one lead
        ("c2", "11-02 11:00", "purchase", 2600.5),  # [2500.5,100]
    ]
    assert any("revenue cell(s)" in w and "line 5" in w for w in result.files[0].warnings)


def test_split_journeys_keeps_repeats_of_the_converting_visit() -> None:
    visitor = pd.Series(["a", "a", "a", "b", "a", "a"], dtype=object).to_numpy()
    ts = pd.to_datetime(
        ["2026-11-01 10:00", "2026-11-02", "2026-11-03", "2026-11-01", "2026-11-02", "2026-11-05"],
        format="ISO8601",
    ).to_numpy()
    converts = pd.Series([False, True, False, False, True, True]).to_numpy()
    assert split_journeys(visitor, ts, converts).tolist() == ["a", "a", "a#2", "b", "a", "a#2"]


# --------------------------------------------------------------------------- CRM history


def test_crm_history_xlsx() -> None:
    result = read("crm_history_ru.xlsx")
    check_frames(result)
    assert result.shape == "crm_history" and result.window is None
    assert touch_rows(result) == [
        ("5001", "11-05 09:00", "yd_search_brand_rf", ""),  # the last row of 5001 is kept
        ("5001", "11-05 10:00", "vk/cpc", ""),
        ("5001", "11-05 11:00", "google/cpc", ""),
        ("5001", "11-05 12:00", "", "Direct"),  # the last touch at the deal's creation
        ("5002", "11-06 11:30", "", "Yandex Direct"),
        ("5002", "11-06 12:30", "", "VK Ads"),
        ("5002", "11-06 13:30", "", "Direct"),
        ("5005", "11-08 07:00", "gs_brand", ""),  # ">>": the empty step skipped
        ("5005", "11-08 08:00", "yandex/cpc", ""),
        ("5005", "11-08 09:00", "facebook/cpc", ""),
        ("5006", "11-09 10:00", "", "Organic Search"),
    ]
    assert outcome_rows(result) == [
        ("5001", "11-05 12:00", "lead", 0.0),
        ("5002", "11-06 13:30", "lead", 0.0),
        ("5002", "11-20 10:00", "purchase", 120000.0),  # at the payment date
        ("5003", "11-07 00:00", "lead", 0.0),  # a text date among date cells; no path
        ("5005", "11-08 09:00", "lead", 0.0),  # an unknown stage: not won
        ("5006", "11-09 10:00", "lead", 0.0),
        ("5006", "11-09 10:00", "purchase", 0.0),  # won with a blank budget
    ]
    assert result.outcomes["lead_id"].tolist()[:2] == ["5001", "5002"]
    assert quarantined(result) == [
        (7, "ID сделки", "deal id is blank"),
        (8, "Дата создания", "is not a date (expected yyyy-mm-dd hh:mm:ss)"),
    ]
    info = result.files[0]
    assert (info.header_line, info.rows_read, info.rows_ok, info.duplicates) == (3, 8, 5, 1)
    assert result.counts["no_touches"] == 1 and result.counts["converting"] == 5
    warnings = "\n".join(info.warnings)
    for needle in ("repeated deal id", "unknown stage", "line 9", "line 11", "an hour apart"):
        assert needle in warnings


def test_crm_history_with_first_touch_dates_spreads_the_touches() -> None:
    result = read("crm_history_en.csv")
    assert touch_rows(result) == [
        ("A-1", "11-01 00:00", "google/cpc", ""),
        ("A-1", "11-05 18:00", "meta/cpc", ""),
        ("A-1", "11-10 12:00", "", "Direct"),
        ("A-2", "11-11 09:00", "", "Direct"),
    ]
    assert outcome_rows(result) == [
        ("A-1", "11-10 12:00", "lead", 0.0),
        ("A-1", "11-10 12:00", "purchase", 85000.0),
        ("A-2", "11-11 09:00", "lead", 0.0),
    ]


def test_parse_path_separators_and_pairs() -> None:
    touches, empty = parse_path("yandex / cpc → vk/cpc/vk_lal3 -> Direct / none » Telegram Ads")
    assert touches == [
        ("yandex", "cpc", "", ""),
        ("vk", "cpc", "vk_lal3", ""),
        ("", "", "", "Direct"),
        ("", "", "", "Telegram Ads"),
    ]
    assert empty == 0
    assert parse_path("(direct) / (none) > > google / organic") == (
        [("", "", "", "Direct"), ("google", "organic", "", "")],
        1,
    )
    assert parse_path("") == ([], 0)


# --------------------------------------------------------------------------- detection


def test_shape_detection_and_inspect() -> None:
    assert shape_of(["ClientID", "Дата визита", "UTM Source"]) == "visits"
    assert shape_of(["Deal ID", "Created", "Touchpoints"]) == "crm_history"
    assert shape_of(["ID", "Created", "Stage"]) is None
    for name in ("metrica_visits_ru.csv", "ga4_sessions_en.csv", "crm_history_ru.xlsx"):
        assert detect_kind(DATA / name) == "paths"
    result = inspect(DATA / "metrica_visits_ru.csv")
    assert result.facts.empty and result.info.kind == "paths"
    text = render(result)
    for needle in ("visits", "journeys", "converting", "longest", "40", "ClientID", "Цель"):
        assert needle in text


def test_wrong_shape_and_unrecognised_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"crm_history_ru\.xlsx.*no recognised visits export"):
        read("crm_history_ru.xlsx", shape="visits")
    odd = tmp_path / "odd.csv"
    odd.write_text("a;b;c\n1;2;3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"odd\.csv: no recognised journeys export"):
        read_paths_export(odd, SourceOptions("j"))
    with pytest.raises(InputError, match="unknown journeys shape"):
        read_paths_export(odd, SourceOptions("j"), shape="sessions")


def test_config_paths_sources() -> None:
    config = parse_config(
        'workbook = "p.xlsx"\n'
        '[[sources]]\nname = "ads"\nkind = "ad"\npath = "a.csv"\n'
        '[[sources]]\nname = "web"\nkind = "paths"\npath = "exports/visits_*.csv"\n'
        'shape = "visits"\n'
        '[[sources]]\nname = "dwh"\nkind = "paths"\nquery = "SELECT 1"\n'
        'url = "duckdb:///w.duckdb"\n'
    )
    assert [s.name for s in config.fact_sources] == ["ads"]
    assert [(s.name, s.shape) for s in config.paths_sources] == [("web", "visits"), ("dwh", "sql")]
    assert config.source("web").paths == ("exports/visits_*.csv",)
    for extra, message in (
        ('path = "a.csv"\nshape = "x"', "is not one of visits, crm_history, auto"),
        ("", "is needed for a `paths` source: a file or glob .*, or a query and url"),
        ('path = "a.csv"\ncolumns = {a = "b"}', "is not read by a `paths` source"),
        ('query = "q"\nurl = "mysql://x"', "must start with duckdb"),
    ):
        with pytest.raises(InputError, match=message):
            parse_config(f'workbook = "p.xlsx"\n[[sources]]\nname = "j"\nkind = "paths"\n{extra}\n')
    with pytest.raises(InputError, match="is only for a `paths` source"):
        parse_config('workbook = "p.xlsx"\n[[sources]]\nname = "a"\nkind = "ad"\npath = "a"\n'
                     'shape = "visits"\n')  # fmt: skip


# --------------------------------------------------------------------------- SQL

ROWS = [
    ("c1", "2026-11-01 10:00:00+03", "yandex", "cpc", "yd_search_brand_rf", None, None, None),
    ("c1", "2026-11-02 10:00:00+03", None, None, None, "Direct", "lead", None),
    ("c1", "2026-11-05 10:00:00+03", None, None, None, None, "purchase", "1000.5"),
    ("c2", "2026-11-03 10:00:00+03", "(direct)", "(none)", None, None, None, None),
    ("c2", "2026-11-04 10:00:00+03", "vk", "cpc", "vk_lal3", None, "заявка", None),
    ("", "2026-11-03 10:00:00+03", "vk", "cpc", None, None, None, None),
    ("c3", None, "vk", "cpc", None, None, None, None),
    ("c3", "2026-11-03 10:00:00+03", "vk", "cpc", None, None, "signup", None),
    ("c4", "2026-12-10 10:00:00+03", "google", "cpc", "gs_brand", None, None, None),
]
COLUMNS = "journey, ts, utm_source, utm_medium, utm_campaign, channel, conversion, value"


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "dwh.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(
            "CREATE TABLE touches (journey VARCHAR, ts TIMESTAMPTZ, utm_source VARCHAR, "
            "utm_medium VARCHAR, utm_campaign VARCHAR, channel VARCHAR, conversion VARCHAR, "
            "value DECIMAL(12, 2))"
        )
        con.executemany(f"INSERT INTO touches ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ROWS)
    return path


def check_sql(result: PathsReadResult) -> None:
    check_frames(result)
    assert touch_rows(result) == [
        ("c1", "11-01 07:00", "yd_search_brand_rf", ""),  # +03 -> naive UTC
        ("c1", "11-02 07:00", "", "Direct"),  # a conversion row naming a channel is a touch too
        ("c2", "11-03 07:00", "", "Direct"),
        ("c2", "11-04 07:00", "vk_lal3", ""),
        ("c4", "12-10 07:00", "gs_brand", ""),
    ]
    assert outcome_rows(result) == [
        ("c1", "11-02 07:00", "lead", 0.0),
        ("c1", "11-05 07:00", "purchase", 1000.5),  # an outcome only: no source named
        ("c2", "11-04 07:00", "lead", 0.0),
    ]
    assert [(line, column) for line, column, _ in quarantined(result)] == [
        (6, "journey"),
        (7, "ts"),
        (8, "conversion"),
    ]
    assert result.counts["future"] == 1 and result.counts["non_converting"] == 1


def test_sql_on_duckdb(warehouse: Path) -> None:
    url = f"duckdb:///{warehouse}"
    result = read_paths_sql("SELECT * FROM touches;", url, SourceOptions("dwh"), now=NOW)
    check_sql(result)
    assert result.shape == "sql" and result.window is None
    assert result.files[0].platform == "sql" and result.files[0].rows_read == 9


def test_sql_date_filter_in_the_database(warehouse: Path) -> None:
    url = f"duckdb:///{warehouse}"
    result = read_paths_sql(
        "SELECT * FROM touches WHERE journey <> ''",
        url,
        SourceOptions("dwh"),
        start=dt.date(2026, 11, 2),
        end=dt.date(2026, 11, 30),
        now=NOW,
    )
    assert result.files[0].rows_read == 5  # c1 twice, c2 twice, c3's signup (no NULL ts)
    assert result.window == (
        dt.datetime(2026, 11, 2),
        dt.datetime(2026, 11, 30, 23, 59, 59, 999999),
    )


def test_sql_errors_name_the_source(warehouse: Path, tmp_path: Path) -> None:
    url = f"duckdb:///{warehouse}"
    with pytest.raises(InputError, match=r"'dwh'.*missing conversion, utm_source or channel"):
        read_paths_sql("SELECT journey, ts FROM touches", url, SourceOptions("dwh"))
    with pytest.raises(InputError, match="the query failed"):
        read_paths_sql("SELECT * FROM nope", url, SourceOptions("dwh"))
    with pytest.raises(InputError, match="does not exist"):
        read_paths_sql("SELECT 1", f"duckdb:///{tmp_path / 'no.duckdb'}", SourceOptions("dwh"))


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivateCluster]:
    bin_dir = pg_bin_dir()
    require("PostgreSQL", bin_dir is not None, "apt-get install postgresql")
    assert bin_dir is not None
    cluster = PrivateCluster(bin_dir)
    try:
        with psycopg.connect(cluster.url, autocommit=True) as con:
            con.execute(
                "CREATE TABLE touches (journey text, ts timestamptz, utm_source text, "
                "utm_medium text, utm_campaign text, channel text, conversion text, "
                "value numeric)"
            )
            with con.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO touches ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    ROWS,
                )
        yield cluster
    finally:
        cluster.stop()


@pytest.mark.slow
def test_sql_on_postgres(postgres: PrivateCluster) -> None:
    result = read_paths_sql("SELECT * FROM touches", postgres.url, SourceOptions("dwh"), now=NOW)
    check_sql(result)
    assert result.files[0].platform == "sql"
