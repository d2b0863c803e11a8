"""CRM deals: what the CRM reader returns per deal, and the store's ``deals`` table (loaded with
the facts in one transaction; idempotent re-loads; restatement by id and by window; sources kept
apart; bad frames change nothing; the created-date filter), on DuckDB and PostgreSQL stores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pg_store import BACKENDS, store_location

import sheets_sync.store_deals as store_deals_module
from planning.errors import InputError
from sheets_sync.facts import (
    DEAL_COLUMNS,
    FACT_COLUMNS,
    FileInfo,
    ReadResult,
    empty_deals,
    empty_quarantine,
)
from sheets_sync.sources.column_map import SourceOptions
from sheets_sync.sources.crm_export import read_crm_export
from sheets_sync.store import FactStore

DATA = Path(__file__).resolve().parents[1] / "data" / "exports"
NOV = dt.date(2026, 11, 1)

Deal = tuple[str, int, int | None, int | None, float]
"""(id, created day of November, PP day or None, purchase day or None, revenue)."""


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest) -> Iterator[FactStore]:
    with FactStore(store_location(request.param)) as opened:
        yield opened


def day(n: int) -> pd.Timestamp:
    return pd.Timestamp(NOV + dt.timedelta(days=n - 1))


def crm_read(deals: list[Deal], source: str = "crm", path: str = "crm.csv") -> ReadResult:
    """What the CRM reader returns for `deals`: leads on both bases on the created day (so the
    window is the created days' span) and the deals frame."""
    rows = [
        (day(created), source, "google", "cpc", "Brand", "leads", basis, 1.0)
        for _, created, _, _, _ in deals
        for basis in ("event", "cohort")
    ]
    facts = pd.DataFrame(rows, columns=list(FACT_COLUMNS))
    facts["date"] = facts["date"].astype("datetime64[ns]")
    frame = pd.DataFrame(
        {
            "source": source,
            "id": [d[0] for d in deals],
            "utm_source": "google",
            "utm_medium": "cpc",
            "utm_campaign": "Brand",
            "created": [day(d[1]) for d in deals],
            "pp": [day(d[2]) if d[2] else pd.NaT for d in deals],
            "negotiations": [day(d[3]) if d[3] else pd.NaT for d in deals],
            "purchases": [day(d[3]) if d[3] else pd.NaT for d in deals],
            "revenue": [d[4] for d in deals],
        },
        columns=list(DEAL_COLUMNS),
    )
    for column in ("created", "pp", "negotiations", "purchases"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
    info = FileInfo(path=path, source=source, kind="crm")
    if deals:
        info.date_from = min(day(d[1]) for d in deals).date()
        info.date_to = max(day(d[1]) for d in deals).date()
    return ReadResult(facts, empty_quarantine(), info, deals=frame)


def stored(store: FactStore, source: str | None = None) -> dict[str, tuple[int, float]]:
    """Per stored deal id: (created day of November, revenue)."""
    frame = store.deals(None if source is None else [source])
    return {
        i: (c.day, r)
        for i, c, r in zip(frame["id"], frame["created"], frame["revenue"], strict=True)
    }


# --------------------------------------------------------------------------- the reader


def test_the_crm_reader_returns_one_row_per_kept_deal_with_its_stage_days() -> None:
    """crm_en.csv by hand: A-1 a lead; A-2 PP 02.11, negotiations 03.11; A-3 has no PP or
    negotiations date but a purchase date 05.11 (won): both earlier stages dated by the purchase
    (the reader's fallback), amount 1,200.00 x the rate 2 = 2,400; the blank-ID row kept (a PP
    on 03.11); A-5 has no created date (quarantined, not a deal)."""
    result = read_crm_export(DATA / "crm_en.csv", SourceOptions("crm", rate=2.0))
    deals = result.deals
    assert list(deals.columns) == list(DEAL_COLUMNS)
    assert deals["id"].tolist() == ["A-1", "A-2", "A-3", ""]
    assert deals["source"].unique().tolist() == ["crm"]
    assert deals["created"].dt.day.tolist() == [1, 1, 2, 3]

    def days(column: str) -> list[int | None]:
        return [None if pd.isna(d) else d.day for d in deals[column]]

    assert days("pp") == [None, 2, 5, 3]
    assert days("negotiations") == [None, 3, 5, None]
    assert days("purchases") == [None, None, 5, None]
    assert deals["revenue"].tolist() == [0.0, 0.0, 2400.0, 0.0]
    assert deals["utm_campaign"].tolist()[2] == "Meta | Prospecting"
    # the deals count what the facts count
    totals = result.info.totals
    assert int(deals["pp"].notna().sum()) == totals["pp"] == 3
    assert float(deals["revenue"].sum()) == totals["revenue"]


def test_the_russian_export_keeps_the_last_row_of_a_repeated_id() -> None:
    result = read_crm_export(DATA / "crm_ru.csv", SourceOptions("amo"))
    deals = result.deals
    assert len(deals) == result.info.rows_ok == 6
    assert not deals["id"].duplicated().any()
    for stage, metric in (("pp", "pp"), ("purchases", "purchases")):
        assert int(deals[stage].notna().sum()) == result.info.totals[metric]


def test_other_readers_return_no_deals() -> None:
    from sheets_sync.sources.ad_export import read_ad_export

    result = read_ad_export(DATA / "google_ads_en.csv", SourceOptions("google_ads"))
    assert result.deals.empty
    assert list(result.deals.columns) == list(DEAL_COLUMNS)


# --------------------------------------------------------------------------- the store


def test_a_load_keeps_the_deals_and_the_same_file_again_changes_nothing(store: FactStore) -> None:
    read = crm_read([("1", 1, 2, None, 0.0), ("2", 2, 3, 5, 900.0), ("", 3, None, None, 0.0)])
    first = store.load(read, "hash-1")
    assert (first.deals, first.deals_replaced) == (3, 0)
    again = store.load(read, "hash-1")
    assert again.skipped and again.deals == 0
    frame = store.deals()
    assert len(frame) == 3
    assert list(frame.columns) == list(DEAL_COLUMNS)
    assert frame["created"].dtype == "datetime64[ns]"
    row = frame[frame["id"] == "2"].iloc[0]
    assert (row["pp"], row["purchases"], row["revenue"]) == (day(3), day(5), 900.0)
    assert pd.isna(frame[frame["id"] == "1"].iloc[0]["purchases"])


def test_a_newer_export_restates_by_id_and_by_window(store: FactStore) -> None:
    """Export 1 (Nov 1-5): deals 1 (Nov 1), 2 (Nov 2), 3 (Nov 4), X (Nov 5).
    Export 2 (Nov 3-8): 2 again (now bought, 700), X again created Nov 8 (corrected in the CRM),
    4 (Nov 6). Result: 1 kept (not in export 2, created before its window); 2 replaced (its id;
    its new row is created Nov 2, which widens export 2's window to Nov 2); 3 gone (created
    inside export 2's window, no longer exported: its facts are gone too); X once, created Nov
    8 (same id); 4 new."""
    one = [("1", 1, None, None, 0.0), ("2", 2, 3, None, 0.0), ("3", 4, None, None, 0.0)]
    store.load(crm_read([*one, ("X", 5, None, None, 0.0)], path="crm-1.csv"), "h1")
    two = [("2", 2, 3, 6, 700.0), ("X", 8, None, None, 0.0), ("4", 6, 7, None, 0.0)]
    outcome = store.load(crm_read(two, path="crm-2.csv"), "h2")
    assert stored(store) == {
        "1": (1, 0.0),
        "2": (2, 700.0),
        "4": (6, 0.0),
        "X": (8, 0.0),
    }
    # deleted: 2 (id and window), 3 (window), X (id): 3 rows
    assert (outcome.deals, outcome.deals_replaced) == (3, 3)
    leads = store.source_facts(basis="cohort", metrics=["leads"])
    assert sorted(leads["date"].dt.day.tolist()) == [1, 2, 6, 8]  # the facts agree


def test_two_sources_keep_their_own_deals_even_with_the_same_ids(store: FactStore) -> None:
    store.load(crm_read([("7", 1, None, None, 0.0), ("8", 2, None, None, 0.0)], "amo"), "a")
    store.load(crm_read([("7", 1, 2, 3, 50.0)], "bitrix", path="b.csv"), "b")
    assert stored(store, "amo") == {"7": (1, 0.0), "8": (2, 0.0)}
    assert stored(store, "bitrix") == {"7": (1, 50.0)}
    assert len(store.deals()) == 3
    assert store.deals([]).empty


def test_the_created_filter_and_a_file_store_reopened(tmp_path: Path) -> None:
    path = tmp_path / "facts.duckdb"
    with FactStore(path) as store:
        store.load(crm_read([("a", 1, None, None, 0.0), ("b", 10, None, None, 0.0)]), "h")
    with FactStore(path) as store:
        assert store.deals(created_from=dt.date(2026, 11, 5))["id"].tolist() == ["b"]
        assert store.deals(created_to=dt.date(2026, 11, 5))["id"].tolist() == ["a"]
        assert store.deals(created_from=dt.date(2026, 12, 1)).empty


def test_a_store_file_from_before_the_deals_gets_the_table(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    FactStore(path).close()
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE deals")  # as a file made before the deals were kept
    con.execute("DROP TABLE schema_version")  # (and before the schema steps were recorded)
    con.close()
    with FactStore(path) as store:
        assert store.deals().empty
        store.load(crm_read([("a", 1, None, None, 0.0)]), "h")
        assert len(store.deals()) == 1


def test_an_id_repeated_in_one_input_keeps_its_last_row(store: FactStore) -> None:
    store.load(crm_read([("a", 1, None, None, 0.0), ("a", 2, 3, 4, 10.0)]), "h")
    assert stored(store) == {"a": (2, 10.0)}


def test_a_bad_deals_frame_changes_nothing(store: FactStore) -> None:
    store.load(crm_read([("a", 1, None, None, 0.0)]), "h0")
    bad = crm_read([("b", 2, None, None, 0.0)])
    bad.deals.loc[0, "created"] = pd.NaT
    with pytest.raises(InputError, match="created day"):
        store.load(bad, "h1")
    nan_revenue = crm_read([("b", 2, None, None, 0.0)])
    nan_revenue.deals["revenue"] = ["lots"]
    with pytest.raises(InputError, match="not a number"):
        store.load(nan_revenue, "h2")
    missing = crm_read([("b", 2, None, None, 0.0)])
    missing.deals = missing.deals.drop(columns=["purchases"])
    with pytest.raises(InputError, match="purchases"):
        store.load(missing, "h3")
    assert stored(store) == {"a": (1, 0.0)}
    assert len(store.load_log()) == 1


def test_a_failure_while_loading_the_deals_rolls_back_the_facts_too(
    monkeypatch: pytest.MonkeyPatch, store: FactStore
) -> None:

    def broken(*args: object, **kwargs: object) -> tuple[int, int]:
        raise RuntimeError("disk full")

    monkeypatch.setattr(store_deals_module, "replace_deals", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        store.load(crm_read([("a", 1, None, None, 0.0)]), "h")
    assert store.source_facts(basis=None).empty
    assert store.load_log().empty
    assert store.deals().empty


def test_inputs_without_deals_leave_other_sources_alone(store: FactStore) -> None:
    store.load(crm_read([("a", 1, None, None, 0.0)]), "h")
    ads = crm_read([("z", 1, None, None, 0.0)], source="ads", path="ads.csv")
    ads.deals = empty_deals()
    outcome = store.load(ads, "h-ads")
    assert (outcome.deals, outcome.deals_replaced) == (0, 0)
    assert stored(store) == {"a": (1, 0.0)}


# --------------------------------------------------------------------------- property

_deal = st.tuples(
    st.sampled_from(["a", "b", "c", "d", "e", "f"]),
    st.integers(1, 20),
    st.none(),
    st.none(),
    st.sampled_from([0.0, 100.0]),
)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(_deal, min_size=1, max_size=6), min_size=1, max_size=5))
def test_loads_in_sequence_match_the_snapshot_model(
    backend: str, exports: list[list[Deal]]
) -> None:
    """After any sequence of exports, the deals are: for each export in turn, drop the deals
    sharing its ids or created in its window (its created days' span), then add its deals (an id
    repeated inside one export: its last row)."""
    store = FactStore(store_location(backend))
    model: dict[str, tuple[int, float]] = {}
    for n, export in enumerate(exports):
        store.load(crm_read(export, path=f"crm-{n}.csv"), f"h{n}")
        last = {d[0]: (d[1], d[4]) for d in export}
        lo, hi = min(d[1] for d in export), max(d[1] for d in export)
        model = {i: v for i, v in model.items() if i not in last and not lo <= v[0] <= hi}
        model.update(last)
    assert stored(store) == model
    assert np.isfinite(store.deals()["revenue"]).all()
    store.close()
