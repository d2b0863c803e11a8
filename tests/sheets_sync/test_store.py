"""The fact store: source facts from readers (idempotent loads, window replacement, read back
whole), quarantine, load log, migration and reopening of old files, a closed store.

The guarantees run on both backends (`pg_store.BACKENDS`: DuckDB and a real PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pg_store import BACKENDS, store_location

import sheets_sync.store as store_module
from planning.errors import InputError
from sheets_sync.facts import (
    DIMENSIONS,
    FACT_COLUMNS,
    QUARANTINE_COLUMNS,
    FileInfo,
    ReadResult,
    empty_quarantine,
)
from sheets_sync.store import LOAD_LOG_COLUMNS, FactStore, LoadOutcome

NOV = dt.date(2026, 11, 1)


def day(n: int) -> dt.date:
    return NOV + dt.timedelta(days=n - 1)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest) -> Iterator[FactStore]:
    with FactStore(store_location(request.param)) as opened:
        yield opened


def test_closed_store_says_so(tmp_path: Path) -> None:
    store = FactStore(tmp_path / "f.duckdb")
    store.close()
    store.close()  # idempotent
    with pytest.raises(RuntimeError, match="is closed"):
        store.source_facts()


# --------------------------------------------------------------------------- source facts


def read_result(
    days: range,
    leads: float,
    spend: float = 1000.0,
    source: str = "ads",
    campaign: str = "Brand",
    path: str = "ads.csv",
    window: tuple[int, int] | None = None,
    quarantine: pd.DataFrame | None = None,
) -> ReadResult:
    """What a reader returns for an ad export: spend and platform leads on each of `days`."""
    rows = [
        (day(n), source, "google", "cpc", campaign, metric, "event", value)
        for n in days
        for metric, value in (("spend", spend), ("platform_leads", leads))
    ]
    facts = pd.DataFrame(rows, columns=list(FACT_COLUMNS))
    facts["date"] = facts["date"].astype("datetime64[ns]")
    info = FileInfo(path=path, source=source, kind="ad", duplicates=1)
    if window is not None:
        info.date_from, info.date_to = day(window[0]), day(window[1])
    elif len(days):
        info.date_from, info.date_to = day(days[0]), day(days[-1])
    info.latest = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
    return ReadResult(facts, empty_quarantine() if quarantine is None else quarantine, info)


def leads_by_day(store: FactStore, **query: Any) -> dict[dt.date, float]:
    facts = store.source_facts(metrics=["platform_leads"], **query)
    out: dict[dt.date, float] = {}
    for d, v in zip(facts["date"], facts["value"], strict=True):
        out[d.date()] = out.get(d.date(), 0.0) + v
    return out


def bad_rows(*rows: tuple[str, int, str, Any, str], source: str = "ads") -> pd.DataFrame:
    """Quarantine rows (file, line, column, value, reason)."""
    frame = pd.DataFrame(rows, columns=["file", "line", "column", "value", "reason"])
    frame.insert(0, "source", source)
    return frame[list(QUARANTINE_COLUMNS)]


PG_TYPES = {
    "character varying": "VARCHAR",
    "double precision": "DOUBLE",
    "timestamp without time zone": "TIMESTAMP",
}


def test_source_tables_are_created(store: FactStore) -> None:
    def columns(table: str) -> list[list[str]]:
        described = store.con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
        # PostgreSQL's load_log also has `seq` (insertion order: DuckDB's rowid)
        return [[c, PG_TYPES.get(t, t).upper()] for c, t in described if c != "seq"]

    text = "VARCHAR"
    assert columns("source_facts") == [
        ["date", "DATE"],
        *[[c, text] for c in FACT_COLUMNS[1:-1]],
        ["value", "DOUBLE"],
        *[[c, text] for c in DIMENSIONS],  # schema step 7 (issue 15)
    ]
    assert columns("quarantine") == [
        ["source", text],
        ["file", text],
        ["line", "BIGINT"],
        ["column", text],
        ["value", text],
        ["reason", text],
        ["loaded_at", "TIMESTAMP"],
    ]
    assert [c for c, _ in columns("load_log")] == list(LOAD_LOG_COLUMNS)
    empty = store.source_facts()
    assert empty.columns.tolist() == list(FACT_COLUMNS) and empty.empty
    assert store.quarantine().empty and store.latest_loads().empty


def test_a_restated_export_replaces_its_window_by_hand(store: FactStore) -> None:
    first = store.load(read_result(range(1, 11), leads=1), "h1")  # days 1-10, 1 lead a day
    assert first == LoadOutcome(False, 20, 0, day(1), day(10))
    second = store.load(read_result(range(5, 13), leads=10), "h2")  # restated 5-12, 10 a day
    # 6 days (5-10) x 2 metrics of the first export deleted, 8 days x 2 inserted
    assert second == LoadOutcome(False, 16, 12, day(5), day(12))
    by_day = leads_by_day(store)
    assert list(by_day) == [day(n) for n in range(1, 13)]
    assert list(by_day.values()) == [1.0] * 4 + [10.0] * 8
    assert sum(by_day.values()) == 84  # 4 x 1 + 8 x 10: no day counted twice
    spend = store.source_facts(metrics="spend")["value"]
    assert spend.sum() == 12 * 1000.0


def test_the_same_file_twice_changes_nothing(store: FactStore) -> None:
    store.load(read_result(range(1, 4), leads=2), "same")
    facts, log = store.source_facts(), store.load_log(detail=True)
    again = store.load(read_result(range(1, 4), leads=99), "same")  # same hash: skipped
    assert again == LoadOutcome(True, 0, 0, day(1), day(3))
    pd.testing.assert_frame_equal(store.source_facts(), facts)
    pd.testing.assert_frame_equal(store.load_log(detail=True), log)
    # The same hash from another source is another file.
    assert not store.load(read_result(range(1, 4), leads=5, source="crm"), "same").skipped
    assert leads_by_day(store) == {day(1): 7.0, day(2): 7.0, day(3): 7.0}
    assert leads_by_day(store, sources=["crm"]) == {day(1): 5.0, day(2): 5.0, day(3): 5.0}


def test_the_readers_window_counts_even_for_days_without_rows(store: FactStore) -> None:
    store.load(read_result(range(1, 13), leads=1), "h1")
    # The new export covers days 1-12 but has rows for 3-8 only: 1-2 and 9-12 are now empty.
    outcome = store.load(read_result(range(3, 9), leads=4, window=(1, 12)), "h2")
    assert (outcome.replaced, outcome.date_from, outcome.date_to) == (24, day(1), day(12))
    assert leads_by_day(store) == {day(n): 4.0 for n in range(3, 9)}
    # A window narrower than the rows is widened to them (a row is never doubled).
    outcome = store.load(read_result(range(3, 9), leads=6, window=(5, 5)), "h3")
    assert (outcome.date_from, outcome.date_to) == (day(3), day(8))
    assert leads_by_day(store) == {day(n): 6.0 for n in range(3, 9)}


def test_rows_repeating_a_key_are_summed_and_bases_kept_apart(store: FactStore) -> None:
    result = read_result(range(1, 2), leads=3)
    cohort = result.facts.assign(basis="cohort")
    result.facts = pd.concat([result.facts, result.facts, cohort], ignore_index=True)
    assert store.load(result, "h").rows == 4  # (spend, leads) x (event, cohort)
    assert leads_by_day(store) == {day(1): 6.0}
    assert leads_by_day(store, basis="cohort") == {day(1): 3.0}
    both = store.source_facts(basis=None, metrics=["platform_leads"])
    assert both[["basis", "value"]].to_numpy().tolist() == [["cohort", 3.0], ["event", 6.0]]
    assert store.source_facts(start=day(2)).empty and store.source_facts(sources=[]).empty
    assert not store.source_facts(start=day(1), end=day(1)).empty


def test_source_facts_keeps_the_keys_and_sums_sources(store: FactStore) -> None:
    store.load(read_result(range(1, 3), leads=1, campaign="Brand"), "a")
    store.load(read_result(range(1, 3), leads=2, source="other", campaign="Brand"), "b")
    facts = store.source_facts(metrics=["platform_leads"])
    assert facts.columns.tolist() == list(FACT_COLUMNS)
    assert facts["date"].dtype == "datetime64[ns]"
    assert facts[
        ["source", "utm_source", "utm_medium", "utm_campaign"]
    ].drop_duplicates().to_numpy().tolist() == [
        ["ads", "google", "cpc", "Brand"],
        ["other", "google", "cpc", "Brand"],
    ]
    assert facts["value"].tolist() == [1.0, 2.0, 1.0, 2.0]


def test_quarantine_is_replaced_per_source_and_file(store: FactStore) -> None:
    q1 = bad_rows(("ads.csv", 7, "Cost", "abc", "is not a number"), ("ads.csv", 9, "Day", "", "x"))
    store.load(read_result(range(1, 3), leads=1, quarantine=q1), "h1")
    q_other = bad_rows(("crm.csv", 3, "ID", 12, "duplicate"), source="crm")
    store.load(
        read_result(range(1, 3), leads=1, source="crm", path="crm.csv", quarantine=q_other), "c1"
    )
    got = store.quarantine()
    assert got.columns.tolist() == [*QUARANTINE_COLUMNS, "loaded_at"]
    assert got[["source", "file", "line", "value"]].to_numpy().tolist() == [
        ["ads", "ads.csv", 7, "abc"],
        ["ads", "ads.csv", 9, ""],
        ["crm", "crm.csv", 3, "12"],  # values are kept as text
    ]
    # A new version of ads.csv with one bad row replaces its two; crm's stay.
    q2 = bad_rows(("ads.csv", 4, "Cost", "-5", "is negative"))
    store.load(read_result(range(1, 3), leads=1, quarantine=q2), "h2")
    assert store.quarantine()[["source", "line"]].to_numpy().tolist() == [["ads", 4], ["crm", 3]]
    # A clean version clears it; a skipped (known) file changes nothing.
    store.load(read_result(range(1, 3), leads=1), "h3")
    store.load(read_result(range(1, 3), leads=1, quarantine=q1), "h1")
    assert store.quarantine(sources=["ads"]).empty
    assert len(store.quarantine(sources=["crm"])) == 1


def test_load_log_and_latest_loads(store: FactStore) -> None:
    q = bad_rows(("ads.csv", 5, "a", "b", "c"))
    store.load(read_result(range(1, 3), leads=1, quarantine=q), "h1")
    store.load(read_result(range(1, 4), leads=1, path="ads-2.csv"), "h2")
    store.load(read_result(range(1, 2), leads=1, source="crm", path="crm.csv"), "c1")
    log = store.load_log(detail=True)
    assert log.columns.tolist() == list(LOAD_LOG_COLUMNS)
    assert log["file"].tolist()[:3] == ["ads.csv", "ads-2.csv", "crm.csv"]
    assert log["quarantined"].tolist()[:3] == [1, 0, 0]
    assert log["duplicates"].tolist()[:3] == [1, 1, 1]
    assert log["latest"].iloc[0] == pd.Timestamp("2026-11-20 09:00")  # UTC, naive
    assert store.load_log().columns.tolist() == list(LOAD_LOG_COLUMNS[:6])  # the old view
    latest = store.latest_loads()
    assert latest["source"].tolist() == ["ads", "crm"]
    assert latest["file_hash"].tolist()[:2] == ["h2", "c1"]
    assert latest["date_to"].tolist()[:2] == [day(3), day(1)]


def test_an_old_store_file_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:  # the schema before issue 4
        con.execute(
            "CREATE TABLE load_log (loaded_at TIMESTAMP NOT NULL, source VARCHAR NOT NULL,"
            " file_hash VARCHAR, rows BIGINT NOT NULL, date_from DATE, date_to DATE)"
        )
        con.execute("INSERT INTO load_log VALUES ('2026-11-01 10:00', 'ads', 'old', 3, NULL, NULL)")
    with FactStore(path) as store:
        log = store.load_log(detail=True)
        assert log["file_hash"].tolist() == ["old"] and pd.isna(log["file"].iloc[0])
        assert store.load(read_result(range(1, 2), leads=1), "old").skipped  # still known
        assert store.load(read_result(range(1, 2), leads=1), "new").rows == 2
    with FactStore(path) as store:  # opening again is a no-op
        assert len(store.load_log()) == 2 and len(store.source_facts()) == 2


@pytest.mark.parametrize(
    ("change", "text"),
    [
        (lambda f: f.drop(columns="basis"), "the facts are missing the columns: basis"),
        (
            lambda f: f.assign(metric="clicks"),
            "line 0, column `metric`: value 'clicks' is not one of spend, impressions",
        ),
        (
            lambda f: f.assign(basis="lifetime"),
            "line 0, column `basis`: value 'lifetime' is not one of event, cohort",
        ),
        (
            lambda f: f.assign(value=[1.0, np.nan, 2.0, 3.0]),
            "line 1, column `value`: is missing",
        ),
        (
            lambda f: f.assign(source="crm"),
            "line 0, column `source`: value 'crm' is not this input's source 'ads'",
        ),
        (
            lambda f: f.assign(date=["2026-11-01", "soon", "2026-11-02", "2026-11-02"]),
            "line 1, column `date`: value 'soon' is not a date (use YYYY-MM-DD)",
        ),
    ],
)
def test_bad_facts_are_refused_before_anything_changes(
    store: FactStore, change: Any, text: str
) -> None:
    store.load(read_result(range(1, 3), leads=1), "h1")
    bad = read_result(range(1, 3), leads=9)
    bad.facts = change(bad.facts)
    with pytest.raises(InputError, match="^" + re.escape(text)):
        store.load(bad, "h2")
    assert leads_by_day(store) == {day(1): 1.0, day(2): 1.0}
    assert len(store.load_log()) == 1


def test_blank_keys_and_bad_arguments(store: FactStore) -> None:
    result = read_result(range(1, 2), leads=1)
    result.facts["utm_medium"] = None  # no medium in the input: blank, not missing
    result.facts["source"] = None  # the source comes from the info
    store.load(result, "h")
    assert store.source_facts()[["source", "utm_medium"]].drop_duplicates().to_numpy().tolist() == [
        ["ads", ""]
    ]
    with pytest.raises(InputError, match="`file_hash` must be a non-empty text"):
        store.load(result, "")
    with pytest.raises(InputError, match="`result` must be a ReadResult, got DataFrame"):
        store.load(result.facts, "x")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="`basis` must be one of event, cohort or None"):
        store.source_facts(basis="both")


def test_a_failed_source_load_changes_nothing(
    store: FactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    q = bad_rows(("ads.csv", 2, "a", "b", "c"))
    store.load(read_result(range(1, 4), leads=1, quarantine=q), "h1")
    # The log insert (the last step) fails: the delete, inserts and quarantine roll back.
    monkeypatch.setattr(store_module, "_naive", lambda _: "not a time")
    with pytest.raises((duckdb.Error, psycopg.Error)):
        store.load(read_result(range(1, 4), leads=50), "h2")
    assert leads_by_day(store) == {day(n): 1.0 for n in range(1, 4)}
    assert len(store.quarantine()) == 1 and len(store.load_log()) == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_many_rows_load_and_read_back_whole(tmp_path: Path, backend: str) -> None:
    """Bulk insert and read-back keep every row (speed is measured in benchmarks/, not here)."""
    n = 200_000
    i = np.arange(n)
    campaigns = np.array([f"campaign {k}" for k in range(1000)], dtype=object)
    metrics = np.array(["spend", "impressions", "traffic", "platform_leads"], dtype=object)
    facts = pd.DataFrame(
        {
            "date": pd.Timestamp("2026-08-01") + pd.to_timedelta(i // 4000, unit="D"),
            "source": "ads",
            "utm_source": "google",
            "utm_medium": "cpc",
            "utm_campaign": campaigns[(i // 4) % 1000],
            "metric": metrics[i % 4],
            "basis": "event",
            "value": (i % 97).astype(np.float64),
        }
    )
    info = FileInfo(path="big.csv", source="ads", kind="ad")
    with FactStore(store_location(backend, tmp_path)) as store:
        outcome = store.load(ReadResult(facts, empty_quarantine(), info), "big")
        back = store.source_facts()
    assert outcome.rows == n and len(back) == n  # 50 days x 1000 campaigns x 4 metrics
    assert back["value"].sum() == facts["value"].sum()


# --------------------------------------------------------------------------- properties


@st.composite
def ad_exports(draw: st.DrawFn) -> tuple[ReadResult, str]:
    """An export (a window of days, rows on some of them, 1-2 campaigns) and its file hash.

    Hashes come from a small pool, so a sequence often repeats a file (same hash, same content).
    """
    version = draw(st.integers(0, 5))
    rng = np.random.default_rng(version)
    first = int(rng.integers(1, 15))
    last = first + int(rng.integers(0, 8))
    days = [n for n in range(first, last + 1) if rng.random() < 0.8]
    rows = [
        (day(n), "ads", "google", "cpc", c, "platform_leads", "event", float(rng.integers(0, 50)))
        for n in days
        for c in ("Brand", "Generic")[: 1 + version % 2]
    ]
    facts = pd.DataFrame(rows, columns=list(FACT_COLUMNS))
    facts["date"] = pd.to_datetime(facts["date"]).astype("datetime64[ns]")
    info = FileInfo(path=f"ads-{version}.csv", source="ads", kind="ad")
    info.date_from, info.date_to = day(first), day(last)
    return ReadResult(facts, empty_quarantine(), info), f"hash-{version}"


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=40, deadline=None)
@given(st.lists(ad_exports(), min_size=1, max_size=6))
def test_any_sequence_of_exports_leaves_each_window_to_its_last_export(
    backend: str, loads: list[tuple[ReadResult, str]]
) -> None:
    # Reference: a dict (date, campaign) -> leads; a new file clears its window, then writes.
    expected: dict[tuple[dt.date, str], float] = {}
    seen: set[str] = set()
    with FactStore(store_location(backend)) as store:
        for result, file_hash in loads:
            outcome = store.load(result, file_hash)
            assert outcome.skipped == (file_hash in seen)
            if file_hash in seen:
                continue
            seen.add(file_hash)
            lo, hi = result.info.date_from, result.info.date_to
            assert lo is not None and hi is not None
            expected = {k: v for k, v in expected.items() if not lo <= k[0] <= hi}
            for d, c, v in result.facts[["date", "utm_campaign", "value"]].itertuples(index=False):
                expected[(d.date(), c)] = v
        facts = store.source_facts()
        assert len(store.load_log()) == len(seen)
    got = {
        (d.date(), c): v
        for d, c, v in zip(facts["date"], facts["utm_campaign"], facts["value"], strict=True)
    }
    assert got == expected


@pytest.mark.parametrize("backend", BACKENDS)
def test_facts_outside_a_span_come_summed_per_key_and_side(tmp_path: Path, backend: str) -> None:
    """Days 1-10 loaded (leads 2, spend 1000 a day); the span 4-6 and the window 2-9 leave days
    2-3 before (4 leads, dated day 2) and 7-9 after (6 leads, dated day 9); days 1 and 10 lie
    outside the window and are left out."""
    with FactStore(store_location(backend, tmp_path)) as store:
        store.load(read_result(range(1, 11), leads=2), "h1")
        out = store.source_facts_outside(day(4), day(6), {"ads": [(day(2), day(9))]})
        leads = out[out["metric"] == "platform_leads"]
        assert [d.date() for d in leads["date"]] == [day(2), day(9)]
        assert list(leads["value"]) == [4.0, 6.0]
        assert list(out.loc[out["metric"] == "spend", "value"]) == [2000.0, 3000.0]
        assert store.source_facts_outside(day(4), day(6), {"other": [(day(1), day(9))]}).empty
        assert store.source_facts_outside(day(4), day(6), {}).empty
