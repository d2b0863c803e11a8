"""The demo's exports synced into a PostgreSQL store give the workbook a DuckDB store gives it:
the same Plan sheet (facts, run-rate), the same stored facts and deals."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from pg_store import new_database

from addin.actions.sync_facts import sync
from addin.cli.demo import DEMO_DAY, SYNC_HOUR, plan_lines
from planning.runrate import parse_month
from sheets_sync.samples.data import generate_sample
from sheets_sync.samples.exports import write_sample_config, write_sample_exports
from sheets_sync.store import FactStore
from sheets_sync.sync_config import load_config
from sheets_sync.workbooks.xlsx import XlsxWorkbook, save_atomic
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook


def _sheet(path: Path, title: str) -> list[tuple[object, ...]]:
    book = openpyxl.load_workbook(path)
    return [tuple(row) for row in book[title].iter_rows(values_only=True)]


@pytest.mark.slow
def test_the_demo_synced_into_postgresql_matches_duckdb(tmp_path: Path) -> None:
    start = parse_month("2026-11")
    as_of = start.replace(day=DEMO_DAY)
    sample = generate_sample(start, as_of=as_of, seed=7)
    config = load_config(write_sample_config(tmp_path, start))
    write_sample_exports(sample, tmp_path / "exports", seed=7)
    spec = PlanWorkbookSpec(
        month=start, lines=plan_lines(sample.plan), as_of=as_of, mapping=config.mapping
    )
    save_atomic(build_plan_workbook(spec), config.workbook)
    books = {kind: tmp_path / f"plan-{kind}.xlsx" for kind in ("duckdb", "postgresql")}
    for book in books.values():
        shutil.copy(config.workbook, book)
    now = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(SYNC_HOUR))
    on_pg = dataclasses.replace(config, store_url=new_database())
    stores = {"duckdb": config.store_location, "postgresql": on_pg.store_location}
    assert stores["postgresql"] != stores["duckdb"]
    results = {}
    for kind, book in books.items():
        with FactStore(stores[kind]) as store:
            results[kind] = sync(XlsxWorkbook(book), config, store, now=now, as_of=as_of)
    assert results["duckdb"].filled == results["postgresql"].filled
    assert results["duckdb"].filled  # the Plan did get facts
    assert _sheet(books["duckdb"], "Plan") == _sheet(books["postgresql"], "Plan")
    assert _sheet(books["duckdb"], "Daily") == _sheet(books["postgresql"], "Daily")
    with FactStore(stores["duckdb"]) as duck, FactStore(stores["postgresql"]) as pg:
        pd.testing.assert_frame_equal(pg.source_facts(basis=None), duck.source_facts(basis=None))
        pd.testing.assert_frame_equal(pg.deals(), duck.deals())
        assert len(pg.deals()) > 0
        kept = [c for c in duck.quarantine().columns if c != "loaded_at"]  # the load's clock
        pd.testing.assert_frame_equal(pg.quarantine()[kept], duck.quarantine()[kept])
        assert len(duck.quarantine()) > 0
