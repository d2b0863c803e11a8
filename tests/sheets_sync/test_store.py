"""The DuckDB fact store: round trip, idempotent loads, window replacement, persistence."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sheets_sync.store as store_module
from planning.errors import InputError
from sheets_sync.sample_data import generate_sample, read_exports, write_exports
from sheets_sync.store import FactStore

NOV = dt.date(2026, 11, 1)


def message(text: str) -> str:
    return "^" + re.escape(text) + "$"


def day(n: int) -> dt.date:
    return NOV + dt.timedelta(days=n - 1)


def frame(
    days: range, leads: float, spend: float = 1000.0, campaign: str = "Brand"
) -> pd.DataFrame:
    """One campaign of Google Search, `leads` and `spend` on each of `days` (days of November)."""
    return pd.DataFrame(
        {
            "date": [day(n) for n in days],
            "channel": "Google Search",
            "campaign": campaign,
            "spend": spend,
            "leads": leads,
        }
    )


@pytest.fixture
def store() -> FactStore:
    return FactStore(":memory:")


def test_tables_are_created(store: FactStore) -> None:
    tables = {row[0] for row in store.con.execute("SHOW TABLES").fetchall()}
    assert {"facts_daily", "load_log"} <= tables
    columns = store.con.execute("DESCRIBE facts_daily").df()[["column_name", "column_type"]]
    assert columns.to_numpy().tolist() == [
        ["date", "DATE"],
        ["source", "VARCHAR"],
        ["channel", "VARCHAR"],
        ["campaign", "VARCHAR"],
        ["metric", "VARCHAR"],
        ["value", "DOUBLE"],
    ]
    assert store.daily().columns.tolist() == ["date", "channel", "campaign"]
    assert store.daily().empty


def test_round_trip_of_the_sample(store: FactStore) -> None:
    sample = generate_sample(NOV, history_days=5)
    inserted = store.load_daily(sample.daily, source="sample")
    # 5 + 17 days x 28 campaigns x 8 metrics
    assert inserted == 22 * 28 * 8
    back = store.daily()
    expected = sample.daily.sort_values(["date", "channel", "campaign"], ignore_index=True)
    metrics = ["spend", "traffic", "leads", "calls", "pp", "negotiations", "purchases", "revenue"]
    assert back.columns.tolist() == ["date", "channel", "campaign", *metrics]
    assert all(type(d) is dt.date for d in back["date"])
    pd.testing.assert_frame_equal(back, expected.astype({m: np.float64 for m in metrics}))


def test_read_exports_load_into_the_store(tmp_path: Path, store: FactStore) -> None:
    sample = generate_sample(NOV, history_days=0)
    write_exports(sample, tmp_path)
    _, daily = read_exports(tmp_path)
    store.load_daily(daily, source="sample")
    totals = store.daily(start=NOV, end=dt.date(2026, 11, 17))[["spend", "leads"]].sum()
    assert math.isclose(totals["spend"], sample.daily["spend"].sum(), rel_tol=1e-12)
    assert totals["leads"] == sample.daily["leads"].sum()


def test_loading_the_same_frame_twice_changes_nothing(store: FactStore) -> None:
    facts = frame(range(1, 11), leads=3)
    assert store.load_daily(facts, "ads") == 20  # 10 days x (spend, leads)
    once = store.daily()
    assert store.load_daily(facts, "ads") == 20
    pd.testing.assert_frame_equal(store.daily(), once)
    assert store.daily()["leads"].sum() == 30  # 10 days x 3, not 60
    assert store.con.execute("SELECT count(*) FROM facts_daily").fetchone() == (20,)


def test_a_restated_overlapping_export_replaces_the_window(store: FactStore) -> None:
    store.load_daily(frame(range(1, 11), leads=1), "ads")  # days 1-10, 1 lead a day
    store.load_daily(frame(range(5, 13), leads=10), "ads")  # restated days 5-12, 10 a day
    facts = store.daily(metrics=["leads"])
    assert facts["date"].tolist() == [day(n) for n in range(1, 13)]
    assert facts["leads"].tolist() == [1.0] * 4 + [10.0] * 8
    # 4 days x 1 + 8 days x 10 = 84, no day counted twice
    assert facts["leads"].sum() == 84


def test_the_window_is_replaced_even_for_lines_the_new_export_omits(store: FactStore) -> None:
    store.load_daily(
        pd.concat([frame(range(1, 4), 1), frame(range(1, 4), 2, campaign="Generic")]), "ads"
    )
    store.load_daily(frame(range(2, 3), 5), "ads")  # day 2 restated: only Brand that day
    facts = store.daily(metrics=["leads"])
    pairs = list(zip(facts["date"], facts["campaign"], facts["leads"], strict=True))
    assert pairs == [
        (day(1), "Brand", 1.0),
        (day(1), "Generic", 2.0),
        (day(2), "Brand", 5.0),
        (day(3), "Brand", 1.0),
        (day(3), "Generic", 2.0),
    ]


def test_sources_are_replaced_separately_and_summed_on_read(store: FactStore) -> None:
    store.load_daily(frame(range(1, 3), leads=2, spend=100.0), "google_ads")
    store.load_daily(frame(range(1, 3), leads=5).drop(columns="spend"), "crm")
    store.load_daily(frame(range(1, 2), leads=7).drop(columns="spend"), "crm")
    facts = store.daily()
    # day 1: ads 2 + crm 7 (restated) = 9; day 2: ads 2 + crm 5 = 7; spend only from ads
    assert facts["leads"].tolist() == [9.0, 7.0]
    assert facts["spend"].tolist() == [100.0, 100.0]


def test_a_known_file_hash_is_a_no_op(store: FactStore) -> None:
    assert store.load_daily(frame(range(1, 4), leads=1), "ads", file_hash="abc") == 6
    assert store.load_daily(frame(range(1, 4), leads=99), "ads", file_hash="abc") == 0
    assert store.daily()["leads"].tolist() == [1.0, 1.0, 1.0]
    log = store.load_log()
    assert log["file_hash"].tolist() == ["abc"]
    # The same hash from another source is another file.
    assert store.load_daily(frame(range(1, 4), leads=2), "crm", file_hash="abc") == 6
    assert store.daily()["leads"].tolist() == [3.0, 3.0, 3.0]


def test_an_empty_export_is_logged_and_changes_nothing(store: FactStore) -> None:
    store.load_daily(frame(range(1, 3), leads=1), "ads")
    empty = pd.DataFrame(columns=["date", "channel", "campaign", "leads"])
    assert store.load_daily(empty, "ads", file_hash="empty") == 0
    assert store.load_daily(empty, "ads", file_hash="empty") == 0
    assert store.daily()["leads"].tolist() == [1.0, 1.0]
    last = store.load_log().iloc[-1]
    assert (last["rows"], last["date_from"], last["date_to"]) == (0, None, None)
    assert len(store.load_log()) == 2


def test_load_log_records_every_load(store: FactStore) -> None:
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    store.load_daily(frame(range(3, 8), leads=1), "ads", file_hash="h1")
    store.load_daily(frame(range(1, 2), leads=1), "crm")
    log = store.load_log()
    assert log.columns.tolist() == [
        "loaded_at",
        "source",
        "file_hash",
        "rows",
        "date_from",
        "date_to",
    ]
    assert log["source"].tolist() == ["ads", "crm"]
    assert log["rows"].tolist() == [10, 2]
    assert log["date_from"].tolist() == [day(3), day(1)]
    assert log["date_to"].tolist() == [day(7), day(1)]
    assert pd.isna(log["file_hash"].iloc[1])
    assert (log["loaded_at"] >= pd.Timestamp(before)).all()


def test_persistence_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "facts.duckdb"
    with FactStore(path) as store:
        store.load_daily(frame(range(1, 6), leads=4), "ads", file_hash="x")
    with FactStore(str(path)) as store:
        assert store.daily()["leads"].tolist() == [4.0] * 5
        assert store.load_log()["file_hash"].tolist() == ["x"]
        assert store.load_daily(frame(range(1, 6), leads=4), "ads", file_hash="x") == 0


def test_closed_store_says_so(tmp_path: Path) -> None:
    store = FactStore(tmp_path / "f.duckdb")
    store.close()
    store.close()  # idempotent
    with pytest.raises(RuntimeError, match="is closed"):
        store.daily()


def test_a_failed_load_changes_nothing(store: FactStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.load_daily(frame(range(1, 4), leads=1), "ads")
    # The log insert (the last step of the transaction) fails: the delete and insert roll back.
    monkeypatch.setattr(store_module, "_utc_now", lambda: "not a time")
    with pytest.raises(duckdb.Error):
        store.load_daily(frame(range(1, 4), leads=50), "ads")
    assert store.daily()["leads"].tolist() == [1.0, 1.0, 1.0]
    assert len(store.load_log()) == 1


def test_daily_filters_dates_and_metrics(store: FactStore) -> None:
    store.load_daily(frame(range(1, 11), leads=2, spend=500.0), "ads")
    window = store.daily(start=day(3), end=day(5))
    assert window["date"].tolist() == [day(3), day(4), day(5)]
    assert window.columns.tolist() == ["date", "channel", "campaign", "spend", "leads"]
    only = store.daily(end=day(2), metrics=["leads", "purchases"])
    assert only.columns.tolist() == ["date", "channel", "campaign", "leads", "purchases"]
    assert only["leads"].tolist() == [2.0, 2.0]
    assert only["purchases"].isna().all()  # never stored: NaN, not 0
    assert store.daily(start=day(20)).empty


def test_values_types_and_missing_values(store: FactStore) -> None:
    facts = pd.DataFrame(
        {
            "date": ["2026-11-01", pd.Timestamp("2026-11-02 13:45"), dt.datetime(2026, 11, 3, 9)],
            "channel": ["VK Ads"] * 3,
            "campaign": ["Retargeting"] * 3,
            "leads": [1, None, 3],
            "custom_metric": ["1.5", 2, np.nan],
        }
    )
    # leads: 2 values; custom_metric: 2 values; missing values are skipped, not zero.
    assert store.load_daily(facts, "crm") == 4
    back = store.daily()
    assert back.columns.tolist() == ["date", "channel", "campaign", "leads", "custom_metric"]
    assert back["date"].tolist() == [day(1), day(2), day(3)]
    assert back["leads"].tolist()[0] == 1.0 and math.isnan(back["leads"].iloc[1])
    assert back["custom_metric"].tolist()[:2] == [1.5, 2.0]


def test_repeated_rows_in_one_frame_are_summed(store: FactStore) -> None:
    facts = pd.concat([frame(range(1, 2), leads=2), frame(range(1, 2), leads=3)])
    assert store.load_daily(facts, "ads") == 2  # one row per (date, line, metric)
    assert store.daily()["leads"].tolist() == [5.0]


@pytest.mark.parametrize(
    ("change", "text"),
    [
        (lambda f: f.drop(columns="campaign"), "the facts are missing the columns: campaign"),
        (
            lambda f: f.assign(leads=["1", "abc", "3"]),
            "line 1, column `leads`: value 'abc' is not a number",
        ),
        (
            lambda f: f.assign(date=["2026-11-01", "01.11.2026", "2026-11-03"]),
            "line 1, column `date`: value '01.11.2026' is not a date (use YYYY-MM-DD)",
        ),
        (
            lambda f: f.assign(date=[day(1), None, day(3)]),
            "line 1, column `date`: is missing",
        ),
        (
            lambda f: f.assign(channel=["Google Search", None, "Google Search"]),
            "line 1, column `channel`: is missing",
        ),
        (
            lambda f: f.assign(campaign=["Brand", " ", "Brand"]),
            "line 1, column `campaign`: value ' ' must be a non-empty text",
        ),
        (
            lambda f: f.assign(spend=[1.0, math.inf, 2.0]),
            "line 1, column `spend`: value inf is not a number",
        ),
        (
            lambda f: f.assign(leads=[True, False, True]),
            "line 0, column `leads`: value True is not a number",
        ),
    ],
)
def test_bad_frames_are_refused_before_anything_changes(
    store: FactStore, change: object, text: str
) -> None:
    store.load_daily(frame(range(1, 4), leads=1), "ads")
    with pytest.raises(InputError, match=message(text)):
        store.load_daily(change(frame(range(1, 4), leads=9)), "ads")  # type: ignore[operator]
    assert store.daily()["leads"].tolist() == [1.0, 1.0, 1.0]


def test_bad_arguments_are_refused(store: FactStore) -> None:
    with pytest.raises(InputError, match=message("`source` must be a non-empty text, got ''")):
        store.load_daily(frame(range(1, 2), 1), "")
    with pytest.raises(InputError, match=message("`start` must be a date, got '2026-11-01'")):
        store.daily(start="2026-11-01")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- properties


@st.composite
def exports(draw: st.DrawFn) -> pd.DataFrame:
    """A small export: a run of consecutive days, 1-2 campaigns, integer leads."""
    first = draw(st.integers(1, 20))
    n_days = draw(st.integers(1, 8))
    campaigns = draw(
        st.lists(st.sampled_from(["Brand", "Generic"]), min_size=1, max_size=2, unique=True)
    )
    rows = [
        {
            "date": day(first + i),
            "channel": "Yandex Direct",
            "campaign": c,
            "leads": draw(st.integers(0, 50)),
        }
        for i in range(n_days)
        for c in campaigns
    ]
    return pd.DataFrame(rows)


@settings(max_examples=40, deadline=None)
@given(st.lists(exports(), min_size=1, max_size=4))
def test_successive_exports_each_own_their_window(loads: list[pd.DataFrame]) -> None:
    # Reference: a dict (date, campaign) -> leads, where each export clears its date window.
    expected: dict[tuple[dt.date, str], float] = {}
    with FactStore(":memory:") as store:
        for export in loads:
            store.load_daily(export, "ads")
            lo, hi = min(export["date"]), max(export["date"])
            expected = {k: v for k, v in expected.items() if not lo <= k[0] <= hi}
            for row in export.to_dict("records"):
                expected[(row["date"], row["campaign"])] = float(row["leads"])
            store.load_daily(export, "ads")  # loading it again changes nothing
        facts = store.daily()
    got = {
        (d, c): v for d, c, v in zip(facts["date"], facts["campaign"], facts["leads"], strict=True)
    }
    assert got == dict(sorted(expected.items()))
