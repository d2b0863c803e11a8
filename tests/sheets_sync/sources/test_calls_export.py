"""Call-tracking exports: calls_all / calls per day and UTM keys, quarantine, duplicates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from planning.errors import InputError
from sheets_sync.sources.calls_export import read_calls_export
from sheets_sync.sources.column_map import SourceOptions

DATA = Path(__file__).resolve().parents[2] / "data" / "exports"


def _facts(facts: pd.DataFrame) -> dict[tuple[str, str, str], float]:
    days = facts["date"].dt.strftime("%d.%m").tolist()
    sources = facts["utm_source"].astype(str).tolist()
    metrics = facts["metric"].astype(str).tolist()
    values = facts["value"].astype(float).tolist()
    return {(d, s, m): v for d, s, m, v in zip(days, sources, metrics, values, strict=True)}


def test_russian_calls_export() -> None:
    result = read_calls_export(DATA / "calls_ru.csv", SourceOptions("calltouch"))
    info = result.info
    assert (info.encoding, info.delimiter, info.header_line) == ("utf-8-sig", ";", 2)
    assert info.date_format == "dd.mm.yyyy hh:mm:ss"
    assert (info.rows_read, info.rows_ok, info.rows_quarantined, info.duplicates) == (8, 5, 2, 1)
    assert _facts(result.facts) == {
        ("01.11", "yandex", "calls_all"): 2.0,
        ("01.11", "yandex", "calls"): 1.0,
        ("01.11", "google", "calls_all"): 1.0,
        ("01.11", "google", "calls"): 1.0,
        ("02.11", "yandex", "calls_all"): 1.0,
        ("02.11", "yandex", "calls"): 1.0,
        ("02.11", "vk", "calls_all"): 1.0,  # blank Target: not a target call
    }
    assert result.quarantine[["line", "column", "value"]].values.tolist() == [
        [8, "Дата и время", "32.11.2026 12:00:00"],
        [9, "Целевой", "возможно"],
    ]
    assert info.totals == {"calls_all": 5.0, "calls": 3.0}
    assert info.duplicate_totals == {"calls_all": 1.0, "calls": 1.0}
    assert info.latest == dt.datetime(2026, 11, 2, 14, 30)
    assert set(result.facts["basis"].astype(str)) == {"event"}
    assert set(result.facts["utm_campaign"].astype(str)) == {
        "Поиск | Бренд",
        "Search | Brand",
        "ВК | Лиды",
    }


def test_english_calls_export_iso_datetimes() -> None:
    result = read_calls_export(DATA / "calls_en.csv", SourceOptions("calls"))
    assert result.info.date_format == "yyyy-mm-dd hh:mm:ss"
    assert result.info.totals == {"calls_all": 3.0, "calls": 2.0}
    assert len(result.quarantine) == 0


def test_target_from_duration_when_no_target_column(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(
        "Call ID,Date,utm_source,Duration\n1,2026-11-01 10:00,google,1:30\n"
        "2,2026-11-01 11:00,google,0:20\n3,2026-11-01 12:00,google,soon\n",
        encoding="utf-8",
    )
    result = read_calls_export(path, SourceOptions("c"), min_duration=60)
    assert result.info.totals == {"calls_all": 2.0, "calls": 1.0}
    assert result.quarantine[["line", "reason"]].values.tolist() == [[4, "is not a duration"]]
    plain = read_calls_export(path, SourceOptions("c"))
    assert plain.info.totals == {"calls_all": 3.0}
    assert any("Target" in w for w in plain.info.warnings)


def test_not_a_calls_export(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("Дата;Кампания;Расход\n01.11.2026;A;1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"x\.csv.*calls export"):
        read_calls_export(path, SourceOptions("c"))
