"""Issue 17, items 1 and 4: ad-export rows covering a period, dated in the future, or outside
the plan month.

Files built here from the description: a Meta Ads export without a daily breakdown
("Reporting starts" 2026-11-01, "Reporting ends" 2026-11-17, one row per campaign, Meta's
summary row first), and daily exports with rows after the sync's clock or in another month.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sheets_sync.sources.ad_export import SourceOptions, read_ad_export

PERIOD_HEADER = (
    "Campaign name,Reporting starts,Reporting ends,Amount spent (RUB),Impressions,"
    "Link clicks,Results"
)
PERIOD_ROWS = [
    ",2026-11-01,2026-11-17,3417.00,34000,340,17",  # Meta's summary row: the sums below
    "Brand,2026-11-01,2026-11-17,1700.00,17000,170,17",
    "Promo,2026-11-01,2026-11-17,1717.00,17000,170,0",
]
NOVEMBER = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))


def _write(tmp: Path, name: str, lines: list[str]) -> Path:
    path = tmp / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_period_rows_are_refused_by_default_with_what_to_export(tmp_path: Path) -> None:
    path = _write(tmp_path, "meta_no_breakdown.csv", [PERIOD_HEADER, *PERIOD_ROWS])
    result = read_ad_export(path, SourceOptions("meta"))
    info = result.info
    # nothing dated on the 1st: no facts, no as-of moved to the 1st
    assert result.facts.empty and info.date_to is None and info.latest is None
    assert info.rows_quarantined == 2 and info.quarantined_totals["spend"] == pytest.approx(3417)
    reasons = result.quarantine[["line", "column", "reason"]].values.tolist()
    assert reasons == [
        [3, "Reporting ends", "covers several days: export a daily breakdown"],
        [4, "Reporting ends", "covers several days: export a daily breakdown"],
    ]
    assert len(info.flags) == 1
    flag = info.flags[0]
    assert "meta_no_breakdown.csv" in flag and "2 row(s) cover a period" in flag
    assert "line 3" in flag and "17 days" in flag and "daily breakdown" in flag
    assert "\n" not in flag
    # the summary row is the file's total (item 2), and agrees with every row
    assert info.file_totals_row is not None
    assert info.file_totals_row["spend"] == pytest.approx(3417.0)


def test_period_rows_spread_evenly_when_the_source_allows_it(tmp_path: Path) -> None:
    path = _write(tmp_path, "meta_spread.csv", [PERIOD_HEADER, *PERIOD_ROWS])
    result = read_ad_export(path, SourceOptions("meta", spread_periods=True))
    info = result.info
    assert info.flags == [] and len(result.quarantine) == 0
    assert (info.date_from, info.date_to) == (dt.date(2026, 11, 1), dt.date(2026, 11, 17))
    spend = result.facts[result.facts["metric"] == "spend"]
    brand = spend[spend["utm_campaign"].astype(str) == "Brand"]
    # 1,700.00 over the 17 days of 1..17 November: 100.00 a day
    assert len(brand) == 17 and brand["value"].tolist() == pytest.approx([100.0] * 17)
    # 1,717.00 / 17 = 101.00 a day
    promo = spend[spend["utm_campaign"].astype(str) == "Promo"]
    assert promo["value"].tolist() == pytest.approx([101.0] * 17)
    assert info.totals["spend"] == pytest.approx(3417.0)
    assert any("2 period row(s) spread evenly over 34 days" in w for w in info.warnings)


def test_a_daily_meta_export_with_reporting_columns_is_not_a_period(tmp_path: Path) -> None:
    # "Day" is the date: Reporting starts/ends are the report's range, not each row's
    lines = [
        "Campaign name,Day,Reporting starts,Reporting ends,Amount spent (RUB)",
        "Brand,2026-11-01,2026-11-01,2026-11-17,100.00",
        "Brand,2026-11-02,2026-11-01,2026-11-17,100.00",
    ]
    result = read_ad_export(_write(tmp_path, "meta_daily.csv", lines), SourceOptions("meta"))
    assert result.info.flags == [] and len(result.quarantine) == 0
    assert result.info.rows_ok == 2


def test_rows_after_the_clock_are_quarantined_and_not_fresh(tmp_path: Path) -> None:
    lines = [
        "Day,Campaign,Cost,Clicks",
        "2026-11-16,A,100,1",
        "2026-11-17,A,100,1",
        "2026-11-18,A,100,1",  # tomorrow
        "2030-01-05,A,900,9",  # the case that made a source 1,167 h "fresh"
    ]
    options = SourceOptions("google", today=dt.date(2026, 11, 17), month=NOVEMBER)
    result = read_ad_export(_write(tmp_path, "google_future.csv", lines), options)
    info = result.info
    assert result.quarantine[["line", "reason"]].values.tolist() == [
        [4, "date in the future"],
        [5, "date in the future"],
    ]
    assert info.totals["spend"] == pytest.approx(200.0)
    assert info.quarantined_totals["spend"] == pytest.approx(1000.0)
    assert info.date_to == dt.date(2026, 11, 17)
    assert info.latest == dt.datetime(2026, 11, 17, 23, 59, 59)


def test_a_file_mostly_after_the_month_is_flagged(tmp_path: Path) -> None:
    # 300 of 400 spend (75 %) is December: above 20 %
    lines = [
        "Day,Campaign,Cost",
        "2026-11-30,A,100",
        "2026-12-01,A,150",
        "2026-12-02,A,150",
    ]
    options = SourceOptions("google", today=dt.date(2026, 12, 3), month=NOVEMBER)
    result = read_ad_export(_write(tmp_path, "google_december.csv", lines), options)
    assert result.info.flags == [
        f"{tmp_path / 'google_december.csv'}: 75% of its spend is dated after 2026-11 "
        "(2 of 3 rows); export the plan month"
    ]


def test_history_before_the_month_is_not_flagged_but_a_wrong_month_is(tmp_path: Path) -> None:
    history = ["Day,Campaign,Cost", "2026-10-30,A,500", "2026-10-31,A,500", "2026-11-01,A,10"]
    options = SourceOptions("google", today=dt.date(2026, 11, 2), month=NOVEMBER)
    ok = read_ad_export(_write(tmp_path, "google_history.csv", history), options)
    assert ok.info.flags == []
    october = ["Day,Campaign,Cost", "2026-10-30,A,500", "2026-10-31,A,500"]
    wrong = read_ad_export(_write(tmp_path, "google_october.csv", october), options)
    assert len(wrong.info.flags) == 1 and "no row is dated in 2026-11" in wrong.info.flags[0]


@settings(max_examples=15, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 28), st.integers(0, 20), st.integers(0, 1_000_000)),
        min_size=1,
        max_size=6,
    )
)
def test_spreading_keeps_every_rows_sum_and_stays_in_its_period(
    rows: list[tuple[int, int, int]],
) -> None:
    """Invariants of spreading: the file's spend is unchanged, each campaign's spend is on
    the days of its period only, every day of a row's period gets an equal part."""
    start = dt.date(2026, 11, 1)
    lines = [PERIOD_HEADER]
    for i, (first, length, cents) in enumerate(rows):
        a, b = start + dt.timedelta(first - 1), start + dt.timedelta(first - 1 + length)
        lines.append(f"C{i},{a},{b},{cents / 100:.2f},0,0,0")
    with tempfile.TemporaryDirectory() as tmp:
        result = read_ad_export(
            _write(Path(tmp), "p.csv", lines), SourceOptions("m", spread_periods=True)
        )
    spend = result.facts[result.facts["metric"] == "spend"]
    assert spend["value"].sum() == pytest.approx(sum(c for _, _, c in rows) / 100)
    for i, (first, length, cents) in enumerate(rows):
        mine = spend[spend["utm_campaign"].astype(str) == f"C{i}"]
        a = start + dt.timedelta(first - 1)
        got = [d.date() for d in mine["date"]]
        assert min(got) >= a and max(got) <= a + dt.timedelta(length)
        if cents:
            assert len(mine) == length + 1
            assert np.allclose(mine["value"], cents / 100 / (length + 1))
