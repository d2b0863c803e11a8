"""The facts' dimensions in the store (issue 15): kept per city, product, segment and creative,
blank where a reader has none, summed away by the default read (the Plan's facts unchanged),
restated by the window like every fact, idempotent, and an old store migrated. Both backends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from pg_store import BACKENDS, store_location

from sheets_sync.facts import DIMENSIONS, FACT_COLUMNS, FileInfo, ReadResult, empty_quarantine
from sheets_sync.store import FactStore
from sheets_sync.store_schema import applied

NOV = dt.date(2026, 11, 1)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest) -> Iterator[FactStore]:
    with FactStore(store_location(request.param)) as opened:
        yield opened


def _result(rows: list[tuple], dims: bool = True, path: str = "crm.csv") -> ReadResult:
    """rows: (day, city, product, segment, creative, metric, value) of the source "crm"."""
    records = [
        (NOV + dt.timedelta(days=d - 1), "crm", "yandex", "cpc", "Brand", m, "event", v, *dv)
        for d, *dv, m, v in rows
    ]
    columns = [*FACT_COLUMNS, *DIMENSIONS]
    facts = pd.DataFrame(records, columns=columns)
    facts["date"] = facts["date"].astype("datetime64[ns]")
    if not dims:
        facts = facts[list(FACT_COLUMNS)]
    info = FileInfo(path=path, source="crm", kind="crm")
    info.date_from = facts["date"].min().date()
    info.date_to = facts["date"].max().date()
    return ReadResult(facts, empty_quarantine(), info)


ROWS = [
    (1, "Moscow", "Sofa", "kw-a", "ad-1", "leads", 3.0),
    (1, "Moscow", "Sofa", "kw-a", "ad-1", "leads", 2.0),  # summed with the row above
    (1, "Kazan", "Sofa", "kw-b", "ad-2", "leads", 4.0),
    (2, "", "", "", "", "leads", 1.0),  # no dimension
]


def test_dimensions_kept_and_summed_away_by_default(store: FactStore) -> None:
    out = store.load(_result(ROWS), "h1")
    assert out.rows == 3  # Moscow's two rows are one key
    plain = store.source_facts()
    assert list(plain.columns) == list(FACT_COLUMNS)
    # day 1: 3 + 2 + 4 = 9 leads whatever the city; day 2: 1
    assert plain["value"].tolist() == [9.0, 1.0]
    wide = store.source_facts(dimensions=True)
    assert list(wide.columns) == [*FACT_COLUMNS, *DIMENSIONS]
    keys = zip(wide["date"].dt.day, *(wide[d].astype(str) for d in DIMENSIONS), strict=True)
    got = dict(zip(keys, wide["value"], strict=True))
    assert got == {
        (1, "Kazan", "Sofa", "kw-b", "ad-2"): 4.0,
        (1, "Moscow", "Sofa", "kw-a", "ad-1"): 5.0,
        (2, "", "", "", ""): 1.0,
    }


def test_reader_without_dimensions_gives_blanks(store: FactStore) -> None:
    store.load(_result(ROWS, dims=False), "h1")
    wide = store.source_facts(dimensions=True)
    assert set(wide[list(DIMENSIONS)].astype(str).to_numpy().ravel()) == {""}
    assert wide["value"].sum() == 10.0


def test_restatement_and_same_file_again(store: FactStore) -> None:
    store.load(_result(ROWS), "h1")
    assert store.load(_result(ROWS), "h1").skipped
    # a newer export of day 1 only: Moscow 7, Kazan gone; day 2 stays
    newer = _result([(1, "Moscow", "Sofa", "kw-a", "ad-1", "leads", 7.0)], path="crm2.csv")
    out = store.load(newer, "h2")
    assert out.replaced == 2
    wide = store.source_facts(dimensions=True)
    assert sorted(zip(wide["city"].astype(str), wide["value"], strict=True)) == [
        ("", 1.0),
        ("Moscow", 7.0),
    ]


def test_old_duckdb_store_migrates(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    with FactStore(path) as store:
        store.load(_result(ROWS, dims=False), "h1")
    con = duckdb.connect(str(path))  # what a store before step 7 looked like
    for name in DIMENSIONS:
        con.execute(f"ALTER TABLE source_facts DROP COLUMN {name}")
    con.execute("DELETE FROM schema_version WHERE version = 7")
    con.close()
    with FactStore(path) as store:
        assert 7 in applied(store.con)
        wide = store.source_facts(dimensions=True)
        assert wide["value"].sum() == 10.0
        assert set(wide["city"].astype(str)) == {""}
        store.load(_result([(3, "Omsk", "", "", "", "leads", 2.0)], path="c3.csv"), "h3")
        assert "Omsk" in set(store.source_facts(dimensions=True)["city"].astype(str))


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_sum_of_a_keys_rows_does_not_depend_on_their_order(backend: str) -> None:
    """0.1 + 0.2 + 0.3 is 0.6000000000000001 one way round and 0.6 the other: a key's rows (its
    segments, or repeated rows of one export) must give the same bits whatever order they were
    loaded in, or a total on half a kopeck rounds differently from one sync to the next."""
    import itertools

    seen: set[tuple[float, float]] = set()
    for order in itertools.permutations([0.1, 0.2, 0.3]):
        segments = [(1, "", "", f"kw-{v}", "", "spend", v) for v in order]
        repeated = [(2, "", "", "kw", "", "spend", v) for v in order]  # one key, summed on load
        with FactStore(store_location(backend)) as fresh:
            fresh.load(_result(segments + repeated), "h")
            values = fresh.source_facts()["value"].tolist()
        seen.add((values[0], values[1]))
    assert len(seen) == 1, seen
