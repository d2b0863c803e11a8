"""Issue 17, items 2 and 3: an ad export's own total row.

Files built here from the description: Meta's summary row written FIRST as a data row (blank
campaign, the sums of the rows), and a Yandex Direct export whose "Итого" row says 10,000 while
its rows hold 7,000.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sheets_sync.facts import ReadResult
from sheets_sync.quality import ReportFacts, ReportTerms, SourceRead, build_report
from sheets_sync.sources.ad_export import SourceOptions, read_ad_export

META_HEADER = "Campaign name,Day,Amount spent (RUB),Impressions,Link clicks,Results"
META_ROWS = [
    "Brand,2026-11-01,1000.10,5000,50,5",
    "Brand,2026-11-02,1100.25,5200,52,4",
    "Promo,2026-11-01,500.05,3000,20,1",
    "Promo,2026-11-02,399.60,2800,18,2",
]
# summary: 1000.10 + 1100.25 + 500.05 + 399.60 = 3000.00 spend; 16,000 impressions;
# 140 link clicks; 12 results
META_SUMMARY = ",,3000.00,16000,140,12"


def _write(tmp: Path, name: str, lines: list[str], encoding: str = "utf-8") -> Path:
    path = tmp / name
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def _report_ok(result: ReadResult) -> tuple[bool, list[str]]:
    """The Data Quality verdict on one file, as a sync builds it (no store facts needed: the
    file's own flags do not depend on them)."""
    read = SourceRead("meta", "ad", result.info.path, result, "hash")
    report = build_report(
        ReportFacts(
            [read],
            {"meta": "ad"},
            pd.DataFrame(columns=["source", "metric", "value", "status"]),
            pd.DataFrame(columns=["source", "metric", "value"]),
            pd.DataFrame(columns=["source", "channel", "metric", "value", "rule"]),
        ),
        ReportTerms(now=dt.datetime(2026, 11, 3, 1), month=dt.date(2026, 11, 1), as_of=None),
    )
    return report.ok, report.flags


def test_meta_summary_row_first_is_the_files_total_not_quarantined(tmp_path: Path) -> None:
    path = _write(tmp_path, "meta_daily.csv", [META_HEADER, META_SUMMARY, *META_ROWS])
    result = read_ad_export(path, SourceOptions("meta"))
    info = result.info
    assert len(result.quarantine) == 0 and info.rows_quarantined == 0
    assert info.quarantined_totals == {}
    assert info.rows_read == 4 and info.rows_ok == 4
    assert info.totals["spend"] == pytest.approx(3000.00)
    assert info.file_totals_row == pytest.approx(
        {"spend": 3000.0, "impressions": 16000, "traffic": 140, "platform_leads": 12}
    )
    assert info.flags == []
    _, flags = _report_ok(result)
    assert not any("quarantined" in f or "total row" in f for f in flags)


def test_summary_row_last_labelled_in_the_campaign_cell(tmp_path: Path) -> None:
    lines = [META_HEADER, *META_ROWS, "Всего,,3000.00,16000,140,12"]
    result = read_ad_export(_write(tmp_path, "meta_total_last.csv", lines), SourceOptions("m"))
    assert len(result.quarantine) == 0
    assert result.info.file_totals_row is not None
    assert result.info.file_totals_row["spend"] == pytest.approx(3000.0)


def test_blank_campaign_row_that_does_not_add_up_stays_quarantined(tmp_path: Path) -> None:
    # 2,500.00 is not 3,000.00 within rounding (4 rows: 0.01 + 4 x 0.005 = 0.03)
    lines = [META_HEADER, ",2026-11-01,2500.00,100,1,0", *META_ROWS]
    result = read_ad_export(_write(tmp_path, "meta_blank.csv", lines), SourceOptions("m"))
    assert result.quarantine[["line", "reason"]].values.tolist() == [[2, "campaign is blank"]]
    assert result.info.quarantined_totals["spend"] == pytest.approx(2500.0)
    assert result.info.file_totals_row is None


def test_total_row_disagreeing_with_its_rows_is_a_flag_and_not_ok(tmp_path: Path) -> None:
    lines = [
        '"Отчёт по кампаниям"',
        "Дата;Кампания;Показы;Клики;Расход (руб.)",
        "01.11.2026;Бренд;1000;10;3 000,00",
        "02.11.2026;Бренд;1000;10;4 000,00",
        "Итого;;2000;20;10 000,00",
    ]
    path = _write(tmp_path, "direct_total.csv", lines)
    result = read_ad_export(path, SourceOptions("yandex"))
    assert result.info.totals["spend"] == pytest.approx(7000.0)
    assert len(result.info.flags) == 1
    flag = result.info.flags[0]
    assert "direct_total.csv" in flag and "line 5" in flag
    assert "spend 10,000.00 vs 7,000.00" in flag
    assert "impressions" not in flag and "traffic" not in flag  # those agree
    ok, flags = _report_ok(result)
    assert not ok and flag in flags


def test_total_within_rounding_is_no_flag(tmp_path: Path) -> None:
    # rows 0.333 + 0.333 + 0.333 = 0.999 written rounded; total says 1.00: 0.001 off < 0.025
    lines = [
        "Дата;Кампания;Расход (руб.)",
        "01.11.2026;A;0,333",
        "02.11.2026;A;0,333",
        "03.11.2026;A;0,333",
        "Итого;;1,00",
    ]
    result = read_ad_export(_write(tmp_path, "direct_round.csv", lines), SourceOptions("y"))
    assert result.info.flags == []


cents = st.integers(min_value=0, max_value=10_000_000)


@settings(max_examples=40, deadline=None)
@given(st.lists(cents, min_size=1, max_size=12), st.booleans())
def test_a_summary_row_never_changes_what_the_rows_give(values: list[int], first: bool) -> None:
    """Invariant: adding the rows' exact sum as a blank-campaign summary row (first or last)
    leaves facts, quarantine and totals as without it, and becomes the file's total."""
    rows = [
        f"C{i},2026-11-{1 + i % 28:02d},{Decimal(v) / 100:.2f},10,1,0" for i, v in enumerate(values)
    ]
    total = f",,{Decimal(sum(values)) / 100:.2f},{10 * len(values)},{len(values)},0"
    with_summary = [total, *rows] if first else [*rows, total]
    with tempfile.TemporaryDirectory() as tmp:
        plain = read_ad_export(_write(Path(tmp), "a.csv", [META_HEADER, *rows]), SourceOptions("m"))
        summed = read_ad_export(
            _write(Path(tmp), "b.csv", [META_HEADER, *with_summary]), SourceOptions("m")
        )
    if sum(values) == 0:  # nothing to sum: a blank-campaign zero row is just a bad row
        assert summed.info.rows_quarantined == 1
        return
    pd.testing.assert_frame_equal(plain.facts, summed.facts)
    assert len(summed.quarantine) == 0
    assert summed.info.totals == plain.info.totals
    assert summed.info.file_totals_row is not None
    assert summed.info.file_totals_row["spend"] == pytest.approx(sum(values) / 100)
    assert summed.info.flags == []
