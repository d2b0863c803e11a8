"""CRM exports: stages reached, both bases, stage-date fallback, keep-last duplicates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from planning.errors import InputError
from sheets_sync.sources.column_map import SourceOptions
from sheets_sync.sources.crm_export import read_crm_export

DATA = Path(__file__).resolve().parents[2] / "data" / "exports"


def _by(facts: pd.DataFrame, basis: str, metric: str) -> dict[tuple[str, str], float]:
    rows = facts[(facts["basis"] == basis) & (facts["metric"] == metric)]
    days = rows["date"].dt.strftime("%d.%m").tolist()
    sources = rows["utm_source"].astype(str).tolist()
    out: dict[tuple[str, str], float] = {}
    for day, source, value in zip(days, sources, rows["value"].astype(float).tolist(), strict=True):
        out[(day, source)] = out.get((day, source), 0.0) + value
    return out


def test_russian_crm_export() -> None:
    result = read_crm_export(DATA / "crm_ru.csv", SourceOptions("amo"))
    info = result.info
    assert (info.encoding, info.delimiter, info.header_line) == ("cp1251", ";", 2)
    assert (info.rows_read, info.rows_ok, info.rows_quarantined, info.duplicates) == (9, 6, 2, 1)
    assert info.totals == {
        "leads": 6.0,
        "pp": 4.0,
        "negotiations": 4.0,
        "purchases": 1.0,
        "revenue": 12500.0,
    }
    facts = result.facts
    # cohort: every stage on the lead's creation day
    assert _by(facts, "cohort", "leads") == {
        ("01.11", "yandex"): 2,
        ("01.11", "google"): 1,
        ("02.11", "yandex"): 1,
        ("02.11", "vk"): 1,
        ("04.11", "yandex"): 1,
    }
    assert _by(facts, "cohort", "purchases") == {("02.11", "yandex"): 1}
    # event: pp on its date; lead 104 has no PP date -> its negotiations date (03.11)
    assert _by(facts, "event", "pp") == {
        ("02.11", "yandex"): 1,  # 102 (the repeated row's last version)
        ("02.11", "google"): 1,  # 103
        ("03.11", "yandex"): 1,  # 104, fallback
        ("03.11", "vk"): 1,  # 105 (lost after negotiations: still reached them)
    }
    assert _by(facts, "event", "negotiations") == {
        ("03.11", "google"): 1,
        ("03.11", "yandex"): 1,
        ("04.11", "yandex"): 1,
        ("04.11", "vk"): 1,
    }
    assert _by(facts, "event", "revenue") == {("04.11", "yandex"): 12500.0}
    for metric in ("leads", "pp", "negotiations", "purchases", "revenue"):
        assert sum(_by(facts, "event", metric).values()) == sum(
            _by(facts, "cohort", metric).values()
        )
    assert result.quarantine[["line", "column", "value"]].values.tolist() == [
        [9, "Сумма", "abc"],
        [10, "Этап", "Непонятно"],
    ]
    assert any("without a stage date" in w for w in info.warnings)
    assert (info.date_from, info.date_to) == (dt.date(2026, 11, 1), dt.date(2026, 11, 4))
    assert info.latest == dt.datetime(2026, 11, 4, 9, 30)


def test_english_crm_export_won_status_blank_id_and_rate() -> None:
    result = read_crm_export(DATA / "crm_en.csv", SourceOptions("hubspot", rate=90.0))
    info = result.info
    assert info.totals == {
        "leads": 4.0,
        "pp": 3.0,
        "negotiations": 2.0,
        "purchases": 1.0,
        "revenue": pytest.approx(1200.0 * 90),
    }
    # stage "lead" but a purchase date and status won -> purchased on 05.11; its missing
    # PP and negotiations dates fall back to the purchase date
    assert _by(result.facts, "event", "pp")[("05.11", "facebook")] == 1
    assert _by(result.facts, "event", "negotiations")[("05.11", "facebook")] == 1
    assert result.quarantine[["line", "reason"]].values.tolist() == [[6, "created date is blank"]]
    assert any("without an ID" in w for w in info.warnings)


def test_unknown_status_and_negative_amount(tmp_path: Path) -> None:
    path = tmp_path / "crm.csv"
    path.write_text(
        "ID,Created,Stage,Amount,Status\n1,2026-11-01,purchase,-5,won\n"
        "2,2026-11-01,lead,,sleeping\n3,2026-11-02,purchase,,won\n",
        encoding="utf-8",
    )
    result = read_crm_export(path, SourceOptions("crm"))
    assert result.quarantine[["line", "reason"]].values.tolist() == [
        [2, "amount is negative"],
        [3, "unknown status (expected open, won, lost)"],
    ]
    assert result.info.totals["purchases"] == 1 and result.info.totals["revenue"] == 0
    assert any("blank amount" in w for w in result.info.warnings)


def test_not_a_crm_export(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("Day,Campaign,Cost\n2026-11-01,A,1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"x\.csv.*CRM export.*'Day', 'Campaign', 'Cost'"):
        read_crm_export(path, SourceOptions("crm"))
