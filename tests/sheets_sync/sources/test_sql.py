"""SQL sources: DuckDB files and a real PostgreSQL server; the warehouse filters and aggregates."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import psycopg
import pytest
from conftest import require
from pg import PrivateCluster, pg_bin_dir

from planning.errors import InputError
from sheets_sync.facts import FACT_COLUMNS, QUARANTINE_COLUMNS
from sheets_sync.sources.column_map import SourceOptions
from sheets_sync.sources.sql import SqlError, read_sql, redact
from sheets_sync.store import FactStore

NOV = dt.date(2026, 11, 1)
QUERY = """
    SELECT day AS date, src AS utm_source, medium AS utm_medium, campaign AS utm_campaign,
           metric, amount AS value
    FROM events
"""


def day(n: int) -> dt.date:
    return NOV + dt.timedelta(days=n - 1)


def events(n_days: int = 10, per_day: int = 50) -> pd.DataFrame:
    """Raw event rows: `per_day` rows per day and campaign, each 1 lead or 10.5 spend."""
    rows = []
    for d in range(1, n_days + 1):
        for campaign in ("Brand", "Generic"):
            for i in range(per_day):
                metric, amount = ("leads", 1.0) if i % 2 else ("spend", 10.5)
                rows.append((day(d), "yandex", "cpc", campaign, metric, amount))
    return pd.DataFrame(rows, columns=["day", "src", "medium", "campaign", "metric", "amount"])


def expected_sums(raw: pd.DataFrame, lo: int, hi: int) -> pd.DataFrame:
    """What the aggregated facts must be: sums per day, campaign and metric (by pandas)."""
    inside = raw[(raw["day"] >= day(lo)) & (raw["day"] <= day(hi))]
    sums = inside.groupby(["day", "campaign", "metric"])["amount"].sum().reset_index()
    return sums.sort_values(["day", "campaign", "metric"], ignore_index=True)


def as_pairs(facts: pd.DataFrame) -> list[tuple[dt.date, str, str, float]]:
    return [
        (d.date(), c, m, v)
        for d, c, m, v in zip(
            facts["date"], facts["utm_campaign"], facts["metric"], facts["value"], strict=True
        )
    ]


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A DuckDB file with the raw `events` table."""
    path = tmp_path / "warehouse.duckdb"
    raw = events()
    with duckdb.connect(str(path)) as con:
        con.register("raw", raw)
        con.execute("CREATE TABLE events AS SELECT * FROM raw")
    return path


# --------------------------------------------------------------------------- DuckDB


def test_duckdb_query_is_filtered_and_aggregated(warehouse: Path) -> None:
    result = read_sql(QUERY, f"duckdb:///{warehouse}", source="dwh", start=day(3), end=day(5))
    facts = result.facts
    assert facts.columns.tolist() == list(FACT_COLUMNS)
    assert facts["date"].dtype == "datetime64[ns]"
    # 3 days x 2 campaigns x 2 metrics; 25 leads and 25 x 10.5 = 262.5 spend per day/campaign
    expected = [
        (day(d), c, m, v)
        for d in (3, 4, 5)
        for c in ("Brand", "Generic")
        for m, v in (("leads", 25.0), ("spend", 262.5))
    ]
    assert as_pairs(facts) == expected
    assert set(facts["source"]) == {"dwh"} and set(facts["basis"]) == {"event"}
    assert set(facts["utm_source"]) == {"yandex"} and set(facts["utm_medium"]) == {"cpc"}
    info = result.info
    assert (info.kind, info.source, info.platform) == ("sql", "dwh", "duckdb")
    assert info.rows_read == 12  # the grouped rows fetched, not the 300 raw rows
    assert (info.date_from, info.date_to) == (day(3), day(5))
    assert info.totals == {"leads": 150.0, "spend": 1575.0}
    assert result.quarantine.empty


def test_relative_duckdb_url_and_no_window(warehouse: Path) -> None:
    url = f"duckdb:///{warehouse.name}"  # three slashes: relative to `base`
    result = read_sql(QUERY + ";", url, source="dwh", base=warehouse.parent)
    pd.testing.assert_series_equal(
        result.facts["value"],
        expected_sums(events(), 1, 10)["amount"],
        check_names=False,
    )
    assert (result.info.date_from, result.info.date_to) == (day(1), day(10))
    assert result.info.latest == dt.datetime(2026, 11, 11)


def test_money_is_normalised_like_file_exports(warehouse: Path) -> None:
    options = SourceOptions(source="dwh", rate=90.0, vat=0.2, vat_included=True)
    facts = read_sql(
        QUERY + " UNION ALL SELECT DATE '2026-11-01', 'yandex', 'cpc', 'Brand', 'revenue', 7",
        f"duckdb:///{warehouse}",
        options,
        end=day(1),
    ).facts
    got = {(c, m): v for _, c, m, v in as_pairs(facts)}
    assert got[("Brand", "spend")] == pytest.approx(262.5 * 90 / 1.2)
    assert got[("Brand", "revenue")] == pytest.approx(7 * 90)  # rate, no VAT on revenue
    assert got[("Brand", "leads")] == 25.0  # counts untouched
    # The keywords override the options.
    again = read_sql(QUERY, f"duckdb:///{warehouse}", options, end=day(1), rate=1.0, source="x")
    assert set(again.facts["source"]) == {"x"}
    spend = again.facts[again.facts["metric"] == "spend"]["value"]
    assert spend.tolist() == pytest.approx([262.5 / 1.2] * 2)


def test_columns_are_matched_ignoring_case_and_basis_is_kept() -> None:
    query = """
        SELECT * FROM (VALUES
            ('2026-11-02', 'crm', '', 'Brand', 'leads', 2, 'cohort'),
            ('2026-11-02', 'crm', '', 'Brand', 'leads', 3, 'cohort'),
            ('2026-11-02', 'crm', NULL, 'Brand', 'leads', 4, 'event')
        ) AS t("Date", "UTM_Source", utm_medium, utm_campaign, "METRIC", "Value", basis)
    """
    facts = read_sql(query, "duckdb:///:memory:", source="crm").facts
    assert facts[["basis", "utm_medium", "value"]].to_numpy().tolist() == [
        ["cohort", "", 5.0],
        ["event", "", 4.0],
    ]


def test_rows_that_are_not_facts_are_quarantined() -> None:
    query = """
        SELECT * FROM (VALUES
            (DATE '2026-11-01', 'g', 'cpc', 'Brand', 'leads', 1.0),
            (NULL, 'g', 'cpc', 'Brand', 'leads', 2.0),
            (DATE '2026-11-01', 'g', 'cpc', 'Brand', 'clicks', 3.0),
            (DATE '2026-11-02', 'g', 'cpc', 'Brand', 'spend', NULL)
        ) AS t(date, utm_source, utm_medium, utm_campaign, metric, value)
    """
    result = read_sql(query, "duckdb:///:memory:", source="dwh")
    assert as_pairs(result.facts) == [(day(1), "Brand", "leads", 1.0)]
    q = result.quarantine
    assert q.columns.tolist() == list(QUARANTINE_COLUMNS)
    values = [None if pd.isna(v) else v for v in q["value"]]  # SQL NULL: missing
    got = sorted(zip(q["column"], values, q["reason"], strict=True), key=str)
    assert got == [
        ("date", None, "is not a date"),
        ("metric", "clicks", "is not a known metric"),
        ("value", None, "is not a number"),
    ]
    assert set(q["source"]) == {"dwh"} and set(q["file"]) == {"duckdb:///:memory:"}
    assert sorted(q["line"]) == [1, 3, 4]  # positions in the aggregated, sorted result
    assert (result.info.rows_read, result.info.rows_quarantined) == (4, 3)


def test_a_sql_source_loads_into_the_store(warehouse: Path) -> None:
    url = f"duckdb:///{warehouse}"
    with FactStore(":memory:") as store:
        first = store.load(read_sql(QUERY, url, source="dwh", start=day(1), end=day(6)), "q1")
        assert (first.rows, first.date_from, first.date_to) == (24, day(1), day(6))
        # A later query over days 5-10 restates 5 and 6; nothing is doubled.
        second = store.load(read_sql(QUERY, url, source="dwh", start=day(5), end=day(10)), "q2")
        assert (second.rows, second.replaced) == (24, 8)
        facts = store.source_facts()
    pd.testing.assert_series_equal(
        facts["value"], expected_sums(events(), 1, 10)["amount"], check_names=False
    )


@pytest.mark.parametrize(
    ("query", "url", "text"),
    [
        (
            "SELECT 1 AS date, 'a' AS utm_source, 'leads' AS metric, 1 AS value",
            "duckdb:///:memory:",
            "the SQL source 'dwh': the query must return the columns date, utm_source, "
            "utm_medium, utm_campaign, metric, value (and optionally basis); it is missing "
            "utm_medium, utm_campaign (it returns: date, utm_source, metric, value)",
        ),
        ("SELECT * FROM nowhere", "duckdb:///:memory:", "the query failed: Catalog Error: Table"),
        ("SELECT 1; DROP TABLE events", "duckdb:///:memory:", "must be one statement"),
        (QUERY, "mysql://host/db", "the SQL url's scheme must be duckdb or postgresql"),
        (QUERY, "duckdb:///no/such/file.duckdb", "does not exist"),
        (QUERY, "warehouse", "the SQL url must look like duckdb:///file.duckdb"),
        ("  ", "duckdb:///:memory:", "the SQL source 'dwh' needs a query"),
    ],
)
def test_errors_say_what_is_wrong(query: str, url: str, text: str) -> None:
    with pytest.raises(InputError, match=re.escape(text)):
        read_sql(query, url, source="dwh")


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(InputError, match="needs a name"):
        read_sql(QUERY, "duckdb:///:memory:")
    with pytest.raises(InputError, match="`rate` must be a positive number, got 0"):
        read_sql(QUERY, "duckdb:///:memory:", source="dwh", rate=0)
    with pytest.raises(InputError, match="`start` must be a date, got '2026-11-01'"):
        read_sql(QUERY, "duckdb:///:memory:", source="dwh", start="2026-11-01")  # type: ignore[arg-type]


def test_redact_hides_the_password() -> None:
    assert (
        redact("postgresql://bi:s3cret@db.local:5432/dwh")
        == "postgresql://bi:***@db.local:5432/dwh"
    )
    assert redact("postgresql://bi@db.local/dwh") == "postgresql://bi@db.local/dwh"


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivateCluster]:
    """A private PostgreSQL cluster with the raw `events` table (and pg_stat_statements)."""
    bin_dir = pg_bin_dir()
    require("PostgreSQL", bin_dir is not None, "apt-get install postgresql")
    assert bin_dir is not None
    cluster = PrivateCluster(bin_dir)
    try:
        raw = events()
        with psycopg.connect(cluster.url, autocommit=True) as con:
            con.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            con.execute(
                "CREATE TABLE events (day date, src text, medium text, campaign text,"
                " metric text, amount numeric)"
            )
            with con.cursor() as cur, cur.copy("COPY events FROM STDIN") as copy:
                for row in raw.itertuples(index=False):
                    copy.write_row(row)
        yield cluster
    finally:
        cluster.stop()


@pytest.mark.slow
def test_postgres_aggregates_in_the_warehouse(postgres: PrivateCluster) -> None:
    with psycopg.connect(postgres.url, autocommit=True) as con:
        con.execute("SELECT pg_stat_statements_reset()")
    result = read_sql(QUERY, postgres.url, source="dwh", start=day(3), end=day(7))
    expected = expected_sums(events(), 3, 7)
    assert [(d, c, m) for d, c, m, _ in as_pairs(result.facts)] == list(
        zip(expected["day"], expected["campaign"], expected["metric"], strict=True)
    )
    assert result.facts["value"].tolist() == expected["amount"].tolist()
    assert result.info.rows_read == 20 and result.info.platform == "postgresql"

    # The server's own account: the statements that read `events` returned 20 rows in all
    # (the grouped rows), not the 500 raw rows of days 3-7; the filter and GROUP BY ran there.
    with psycopg.connect(postgres.url, autocommit=True) as con:
        stats = con.execute(
            "SELECT query, rows FROM pg_stat_statements WHERE query LIKE '%FROM events%'"
        ).fetchall()
    assert sum(rows for _, rows in stats) == 20
    grouped = [q for q, rows in stats if rows == 20]
    assert len(grouped) == 1 and "GROUP BY" in grouped[0] and "WHERE" in grouped[0]


@pytest.mark.slow
def test_postgres_over_the_unix_socket_and_errors(postgres: PrivateCluster) -> None:
    facts = read_sql(QUERY, postgres.socket_url, source="dwh", end=day(1)).facts
    assert as_pairs(facts) == [
        (day(1), "Brand", "leads", 25.0),
        (day(1), "Brand", "spend", 262.5),
        (day(1), "Generic", "leads", 25.0),
        (day(1), "Generic", "spend", 262.5),
    ]
    with pytest.raises(SqlError, match='the query failed: relation "nope" does not exist'):
        read_sql("SELECT * FROM nope", postgres.url, source="dwh")
    with pytest.raises(InputError, match="it is missing utm_medium"):
        read_sql(QUERY.replace("AS utm_medium", "AS med"), postgres.url, source="dwh")
    bad_port = postgres.url.replace(f":{postgres.port}/", ":1/")
    with pytest.raises(SqlError, match="cannot connect to the PostgreSQL database"):
        read_sql(QUERY, bad_port, source="dwh")


@pytest.mark.slow
def test_postgres_query_cannot_write(postgres: PrivateCluster) -> None:
    query = (
        "SELECT DATE '2026-11-01' AS date, 'a' AS utm_source, 'b' AS utm_medium,"
        " 'c' AS utm_campaign, 'leads' AS metric, nextval('s') AS value"
    )
    with psycopg.connect(postgres.url, autocommit=True) as con:
        con.execute("CREATE SEQUENCE IF NOT EXISTS s")
    with pytest.raises(SqlError, match="read-only transaction"):
        read_sql(query, postgres.url, source="dwh")
