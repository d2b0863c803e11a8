"""The Data Quality report: totals, statuses, reconciliation, leads check, freshness, flags."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sheets_sync.facts import FACT_COLUMNS, FileInfo, ReadResult, empty_quarantine
from sheets_sync.quality import (
    ReportFacts,
    ReportTerms,
    SourceRead,
    build_report,
    classify,
    file_totals,
    lead_mismatch,
    reconciliation,
)

MONTH = dt.date(2026, 11, 1)
AS_OF = dt.date(2026, 11, 17)


def read(
    source: str,
    kind: str,
    rows: list[tuple[str, str, float]],
    label: str = "",
    basis: str = "event",
    **info: Any,
) -> SourceRead:
    """Rows ``(date, metric, value)``."""
    frame = pd.DataFrame(
        [
            {
                "date": pd.Timestamp(d),
                "source": source,
                "utm_source": "x",
                "utm_medium": "cpc",
                "utm_campaign": "c",
                "metric": m,
                "basis": basis,
                "value": float(v),
            }
            for d, m, v in rows
        ],
        columns=list(FACT_COLUMNS),
    )
    fi = FileInfo(path=label or f"{source}.csv", source=source, kind=kind, **info)
    return SourceRead(source, kind, fi.path, ReadResult(frame, empty_quarantine(), fi), "h")


def test_file_totals_add_quarantine_and_duplicates_and_split_off_restated_days() -> None:
    a = read(
        "ads",
        "ad",
        [("2026-11-01", "spend", 100), ("2026-11-02", "spend", 50), ("2026-11-03", "spend", 7)],
        label="a.csv",
        quarantined_totals={"spend": 3.0},
        duplicate_totals={"spend": 50.0, "traffic": 2.0},
    )
    b = read("ads", "ad", [("2026-11-03", "spend", 8), ("2026-11-04", "spend", 9)], label="b.csv")
    totals = file_totals([a, b]).set_index(["source", "metric"])
    spend = totals.loc[("ads", "spend")]
    # 157 + 3 + 50 in a, 17 in b; a's Nov 3 (7) is restated by b
    assert spend["total"] == 157 + 3 + 50 + 17
    assert (spend["quarantined"], spend["duplicates"], spend["restated"]) == (3, 50, 7)
    traffic = totals.loc[("ads", "traffic")]
    assert traffic["total"] == 2 and traffic["duplicates"] == 2


def test_file_totals_count_the_basis_the_sync_uses() -> None:
    crm = read("crm", "crm", [("2026-11-01", "leads", 4)], basis="cohort")
    crm.result.facts.loc[len(crm.result.facts)] = crm.result.facts.iloc[0].copy()
    crm.result.facts.loc[1, "basis"] = "event"
    crm.result.facts.loc[1, "value"] = 3.0
    crm.basis = "cohort"
    assert file_totals([crm])["total"].tolist() == [4.0]
    crm.basis = "event"
    assert file_totals([crm])["total"].tolist() == [3.0]


def test_classify() -> None:
    dates = pd.Series(
        pd.to_datetime(
            ["2026-10-31", "2026-11-01", "2026-11-05", "2026-11-05", "2026-11-05", "2026-11-18"]
        )
    )
    rule = pd.Series([1, 1, 0, 2, 3, 1])
    line = pd.Series([0, 0, -1, 1, -1, 0])
    assert classify(dates, rule, line, MONTH, AS_OF).tolist() == [
        "outside",
        "filled",
        "unmapped",
        "filled",
        "unplanned",
        "outside",
    ]
    assert set(classify(dates, rule, line, MONTH, None)) == {"outside"}  # no as-of: nothing in


def test_reconciliation_flags_what_is_missing() -> None:
    totals = pd.DataFrame(
        [
            {
                "source": "ads",
                "metric": "spend",
                "total": 100.0,
                "quarantined": 5.0,
                "duplicates": 0.0,
                "restated": 0.0,
            }
        ]
    )
    stored = pd.DataFrame(
        {
            "source": ["ads"] * 3,
            "metric": ["spend"] * 3,
            "value": [60.0, 20.0, 15.0],
            "status": ["filled", "unmapped", "outside"],
        }
    )
    rec = reconciliation(totals, stored).iloc[0]
    assert (rec["filled"], rec["unmapped"], rec["outside"], rec["difference"]) == (60, 20, 15, 0)
    assert rec["ok"]
    short = reconciliation(totals, stored.iloc[:2]).iloc[0]
    assert short["difference"] == 15 and not short["ok"]
    # a value stored twice shows as a negative difference
    double = reconciliation(totals, pd.concat([stored, stored.iloc[:1]])).iloc[0]
    assert double["difference"] == -60 and not double["ok"]


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(
        st.tuples(
            st.sampled_from(["filled", "unplanned", "unmapped", "outside"]),
            st.sampled_from(["spend", "leads"]),
            st.floats(0, 1e7, allow_nan=False),
        ),
        max_size=40,
    ),
    quarantined=st.floats(-1e4, 1e6),
    duplicates=st.floats(0, 1e6),
    drop=st.integers(0, 39),
)
def test_reconciliation_identity_holds_and_a_lost_row_breaks_it(
    values: list[tuple[str, str, float]], quarantined: float, duplicates: float, drop: int
) -> None:
    stored = pd.DataFrame(values, columns=["status", "metric", "value"]).assign(source="s")
    stored["value"] = stored["value"].astype(float)
    totals = (
        stored.groupby(["source", "metric"])["value"].sum().rename("total").reset_index()
        if len(stored)
        else pd.DataFrame(columns=["source", "metric", "total"])
    )
    totals["quarantined"] = quarantined
    totals["duplicates"] = duplicates
    totals["restated"] = 0.0
    totals["total"] = totals["total"].astype(float) + quarantined + duplicates
    assert reconciliation(totals, stored)["ok"].all()
    total = float(totals["total"].abs().max()) if len(totals) else 0.0
    if len(stored) and stored["value"].iloc[drop % len(stored)] > 0.01 + 1e-10 * total:
        broken = reconciliation(totals, stored.drop(index=drop % len(stored)))
        assert not broken["ok"].all()


def test_lead_mismatch_per_channel() -> None:
    rows = [
        # channel, source, metric, value
        ("Search", "crm", "leads", 100),
        ("Search", "google", "platform_leads", 105),  # +5 %: not flagged
        ("Meta", "crm", "leads", 100),
        ("Meta", "meta", "platform_leads", 110),  # +10 %: flagged
        ("VK", "crm", "leads", 0),
        ("VK", "vk", "platform_leads", 3),  # CRM has none: flagged
        ("Email", "crm", "leads", 7),  # no ad source: not compared
    ]
    frame = pd.DataFrame(rows, columns=["channel", "source", "metric", "value"]).assign(rule=1)
    mm = lead_mismatch(frame, ["crm"], ["google", "meta", "vk"]).set_index("channel")
    assert sorted(mm.index) == ["Meta", "Search", "VK"]
    assert mm.loc["Search", "difference"] == pytest.approx(0.05)
    assert not mm.loc["Search", "flagged"]
    assert mm.loc["Meta", "flagged"] and mm.loc["Meta", "difference"] == pytest.approx(0.1)
    assert mm.loc["VK", "flagged"] and np.isnan(mm.loc["VK", "difference"])


def _window_facts(rows: list[tuple[str, str, str, float, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["source", "channel", "metric", "value", "rule"])


def test_report_freshness_unmapped_share_and_flags() -> None:
    now = dt.datetime(2026, 11, 18, 9, 0)
    ads = read(
        "ads", "ad", [("2026-11-17", "spend", 90)], latest=dt.datetime(2026, 11, 18, 3, 0)
    )  # 6 h: fresh
    calls = read(
        "calls", "calls", [("2026-11-17", "calls", 3)], latest=dt.datetime(2026, 11, 18, 2, 59)
    )  # 6 h 1 min: stale
    crm = read(
        "crm",
        "crm",
        [("2026-11-17", "leads", 10)],
        rows_quarantined=2,
        latest=dt.datetime(2026, 11, 18, 8),
    )
    window = _window_facts(
        [
            ("ads", "Search", "spend", 90, 1),
            ("ads", "", "spend", 10, 0),
            ("calls", "Search", "calls", 3, 1),
            ("crm", "Search", "leads", 10, 1),
            ("crm", "", "leads", 1, 0),
            ("crm", "", "leads", 1, 0),
            ("crm", "Search", "pp", 1, 1),
        ]
    )
    report = build_report(
        ReportFacts(
            [ads, calls, crm],
            {"ads": "ad", "calls": "calls", "crm": "crm", "sheet": "gsheet"},
            pd.DataFrame(columns=["source", "metric", "value", "status"]),
            pd.DataFrame(columns=["source", "metric", "value"]),
            window,
            warnings={"sheet": ["not read yet"]},
        ),
        ReportTerms(now=now, month=MONTH, as_of=AS_OF),
    )
    by = {s.source: s for s in report.sources}
    assert not by["ads"].stale and by["ads"].age_hours == 6
    assert by["calls"].stale
    assert by["ads"].unmapped_share == pytest.approx(0.1) and by["ads"].unmapped_basis == "spend"
    assert by["crm"].unmapped_share == pytest.approx(0.5) and by["crm"].unmapped_basis == "rows"
    assert by["sheet"].stale and by["sheet"].warnings == ["not read yet"]
    assert by["crm"].quarantined == 2
    text = "\n".join(report.flags)
    assert "calls: no fresh data for more than 6 h (latest data 2026-11-18 02:59)" in text
    assert "ads: no fresh data" not in text
    assert "ads: 10.0% of the spend is unmapped" in text
    assert "crm: 2 rows quarantined" in text
    assert "sheet: no fresh data for more than 6 h (no data)" in text
    assert not report.ok
    payload = report.to_dict()
    assert payload["sources"][0]["latest"] == "2026-11-18T03:00:00"
    assert payload["flags"] == report.flags


def test_report_without_problems_is_ok() -> None:
    now = dt.datetime(2026, 11, 18, 1, 0)
    ads = read("ads", "ad", [("2026-11-17", "spend", 90)], latest=dt.datetime(2026, 11, 18))
    stored = pd.DataFrame(
        {"source": ["ads"], "metric": ["spend"], "value": [90.0], "status": ["filled"]}
    )
    report = build_report(
        ReportFacts(
            [ads],
            {"ads": "ad"},
            stored,
            pd.DataFrame(columns=["source", "metric", "value"]),
            _window_facts([("ads", "Search", "spend", 90, 1)]),
        ),
        ReportTerms(now=now, month=MONTH, as_of=AS_OF),
    )
    assert report.flags == [] and report.ok
    assert report.reconciliation["ok"].all()
