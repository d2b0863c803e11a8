"""A SQL query's breakdown columns (issue 15): found by the file readers' aliases
(`column_map.DIMENSION_MAP`), grouped by in the database, the facts' city / product / segment
/ creative; DuckDB and a real PostgreSQL server run the same wrapped query."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from conftest import require
from pg import PrivateCluster, pg_bin_dir

from sheets_sync.facts import DIMENSIONS, FACT_COLUMNS
from sheets_sync.sources.sql import read_sql

ROWS = """
    (DATE '2026-11-01', 'yandex', 'cpc', 'brand', 'spend', 100.0, 'Москва', 'brand', 'Старт', 'video'),
    (DATE '2026-11-01', 'yandex', 'cpc', 'brand', 'spend', 50.0, ' Москва ', 'brand', 'Старт', 'video'),
    (DATE '2026-11-01', 'yandex', 'cpc', 'brand', 'spend', 30.0, 'Казань', 'generic', 'Старт', 'banner'),
    (DATE '2026-11-01', 'yandex', 'cpc', 'brand', 'leads', 2.0, 'Москва', 'brand', 'Бизнес', 'video'),
    (DATE '2026-11-01', 'yandex', 'cpc', 'brand', 'leads', 1.0, NULL, NULL, NULL, NULL)
"""  # noqa: E501
COLUMNS = 'date, utm_source, utm_medium, utm_campaign, metric, value, "Город", ad_group, "Продукт", utm_content'  # noqa: E501
QUERY = f"SELECT * FROM (VALUES {ROWS}) AS t({COLUMNS})"
MEMORY = "duckdb:///:memory:"


def _by(facts: pd.DataFrame, *dims: str) -> dict[tuple[str, ...], float]:
    keys = ["metric", *dims]
    summed = facts.assign(**{k: facts[k].astype(str) for k in keys}).groupby(keys)["value"].sum()
    rows = summed.reset_index().itertuples(index=False)
    return {tuple(str(x) for x in row[:-1]): float(row[-1]) for row in rows}


def _check(facts: pd.DataFrame) -> None:
    assert list(facts.columns) == [*FACT_COLUMNS, *DIMENSIONS]
    # " Москва " trimmed into Москва: 100 + 50 on one row; NULL is "" (no value)
    assert len(facts) == 4
    assert _by(facts, "city", "segment") == {
        ("leads", "", ""): 1.0,
        ("leads", "Москва", "brand"): 2.0,
        ("spend", "Казань", "generic"): 30.0,
        ("spend", "Москва", "brand"): 150.0,
    }
    assert _by(facts, "product", "creative") == {
        ("leads", "", ""): 1.0,
        ("leads", "Бизнес", "video"): 2.0,
        ("spend", "Старт", "banner"): 30.0,
        ("spend", "Старт", "video"): 150.0,
    }


def test_duckdb_query_with_breakdown_columns() -> None:
    _check(read_sql(QUERY, MEMORY, source="dwh").facts)


def test_the_dimensions_own_name_wins_and_none_leaves_them_out() -> None:
    both = (
        "SELECT DATE '2026-11-01' AS date, 'a' AS utm_source, 'b' AS utm_medium,"
        " 'c' AS utm_campaign, 'leads' AS metric, 1 AS value,"
        " 'kw' AS utm_term, 'seg' AS segment, 'Msk' AS region"
    )
    facts = read_sql(both, MEMORY, source="dwh").facts
    assert facts[["city", "segment"]].values.tolist() == [["Msk", "seg"]]
    assert "product" not in facts.columns and "creative" not in facts.columns
    only_term = both.replace(", 'seg' AS segment", "")
    assert read_sql(only_term, MEMORY, source="dwh").facts["segment"].tolist() == ["kw"]
    plain = both.split(", 'kw'")[0]
    assert list(read_sql(plain, MEMORY, source="dwh").facts.columns) == list(FACT_COLUMNS)


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivateCluster]:
    bin_dir = pg_bin_dir()
    require("PostgreSQL", bin_dir is not None, "apt-get install postgresql")
    assert bin_dir is not None
    cluster = PrivateCluster(bin_dir)
    try:
        yield cluster
    finally:
        cluster.stop()


def test_postgres_query_with_breakdown_columns(postgres: PrivateCluster) -> None:
    _check(read_sql(QUERY, postgres.url, source="dwh").facts)
