"""Issue 17, items 1 and 4 through the sync's read step: the sync's clock and month reach the
ad reader, a file with future rows hashes with the day, and `spread_periods` comes from
sync.toml (files built here from the description)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from addin.actions.sync_facts.read import file_hash, read_sources
from planning.errors import InputError
from sheets_sync.sync_config import load_config

NOV = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))


def _config(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "exports").mkdir(exist_ok=True)
    path = tmp_path / "sync.toml"
    path.write_text(
        'workbook = "plan.xlsx"\nstore = "facts.duckdb"\n\n[[sources]]\nname = "ads"\n'
        f'kind = "ad"\npath = "exports/*.csv"\n{extra}',
        encoding="utf-8",
    )
    return path


def test_the_syncs_clock_quarantines_future_rows_and_keys_the_hash(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path))
    export = tmp_path / "exports" / "google.csv"
    export.write_text(
        "Day,Campaign,Cost\n2026-11-16,A,100\n2026-11-17,A,100\n2026-12-25,A,5000\n",
        encoding="utf-8",
    )
    (read,), _ = read_sources(config, *NOV, today=dt.date(2026, 11, 17))
    assert read.result.quarantine["reason"].tolist() == ["date in the future"]
    assert read.result.info.date_to == dt.date(2026, 11, 17)
    plain = file_hash(export, config.sources[0])
    assert read.file_hash != plain  # read again tomorrow, when the 18th is no longer future
    (again,), _ = read_sources(config, *NOV, today=dt.date(2026, 11, 17))
    assert again.file_hash == read.file_hash  # the same day: the same input
    (later,), _ = read_sources(config, *NOV, today=dt.date(2026, 12, 31))
    assert len(later.result.quarantine) == 0 and later.file_hash == plain


def test_spread_periods_from_sync_toml(tmp_path: Path) -> None:
    lines = [
        "Campaign name,Reporting starts,Reporting ends,Amount spent (RUB)",
        "Brand,2026-11-01,2026-11-10,1000.00",
    ]
    text = "\n".join(lines) + "\n"
    refused_cfg = load_config(_config(tmp_path))
    (tmp_path / "exports" / "meta.csv").write_text(text, encoding="utf-8")
    (refused,), _ = read_sources(refused_cfg, *NOV, today=dt.date(2026, 11, 17))
    assert refused.result.facts.empty and len(refused.result.info.flags) == 1
    spread_cfg = load_config(_config(tmp_path, "spread_periods = true\n"))
    (spread,), _ = read_sources(spread_cfg, *NOV, today=dt.date(2026, 11, 17))
    spend = spread.result.facts[spread.result.facts["metric"] == "spend"]
    assert spend["value"].tolist() == pytest.approx([100.0] * 10)  # 1,000 / 10 days
    assert spread.file_hash != refused.file_hash  # the option changes what is read


def test_spread_periods_is_for_ad_sources_only(tmp_path: Path) -> None:
    path = tmp_path / "sync.toml"
    path.write_text(
        'workbook = "plan.xlsx"\nstore = "facts.duckdb"\n\n[[sources]]\nname = "crm"\n'
        'kind = "crm"\npath = "x/*.csv"\nspread_periods = true\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="spread_periods"):
        load_config(path)
