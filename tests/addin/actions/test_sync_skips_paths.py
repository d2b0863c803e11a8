"""Sync Facts and journeys sources: a `paths` source in the config (read for attribution) is not
read, loaded or reported by Sync Facts, even when its files are missing."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd

from addin.actions.sync_facts import plan_inputs, run_sync
from sheets_sync.store import FactStore
from sheets_sync.sync_config import parse_config
from sheets_sync.workbooks.xlsx import save_atomic
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook

DATA = Path(__file__).resolve().parents[2] / "data" / "exports"

CONFIG = """
workbook = "plan-2026-11.xlsx"
store = "facts.duckdb"

[[sources]]
name = "crm"
kind = "crm"
path = "crm.csv"

[[sources]]
name = "metrica"
kind = "paths"
path = "exports/metrica_*.csv"

[[sources]]
name = "gone"
kind = "paths"
path = "exports/no_such_export_*.csv"

[[sources]]
name = "dwh"
kind = "paths"
query = "SELECT * FROM journeys"
url = "duckdb:///missing.duckdb"

[[mapping]]
field = "utm_campaign"
match = "exact"
pattern = "Search | Brand"
channel = "Search"
campaign = "Brand"
"""


def test_sync_facts_skips_paths_sources(tmp_path: Path) -> None:
    shutil.copy(DATA / "crm_en.csv", tmp_path / "crm.csv")
    (tmp_path / "exports").mkdir()
    shutil.copy(DATA / "journeys" / "metrica_visits_ru.csv", tmp_path / "exports" / "metrica_1.csv")
    config = parse_config(CONFIG, base=tmp_path)
    assert [s.name for s in config.paths_sources] == ["metrica", "gone", "dwh"]
    assert [(s.name, p.name if p else None) for s, p in plan_inputs(config)] == [("crm", "crm.csv")]
    lines = pd.DataFrame({"channel": ["Search"], "campaign": ["Brand"], "leads p": [10.0]})
    spec = PlanWorkbookSpec(month=dt.date(2026, 11, 1), lines=lines, mapping=config.mapping)
    save_atomic(build_plan_workbook(spec), config.workbook)

    result = run_sync(config, now=dt.datetime(2026, 11, 5, 2))

    assert {f.source for f in result.loads} == {"crm"}
    assert [s.source for s in result.quality.sources] == ["crm"]
    assert not any("paths" in flag or "metrica" in flag for flag in result.quality.flags)
    with FactStore(config.store) as store:
        touches, outcomes = store.paths()
        assert touches.empty and outcomes.empty
        assert set(store.latest_loads()["source"]) == {"crm"}
