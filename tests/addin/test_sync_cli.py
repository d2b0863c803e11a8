"""`funnelplan sync` and `funnelplan inspect` as a user runs them, on the bundled sample exports
(the demo's folder) and on a DuckDB warehouse."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from demo_cache import run_demo

from addin.cli.main import main
from sheets_sync.workbooks.xlsx import save_atomic
from workbook_templates import layout as L
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook

NOW = "2026-11-18T01:00"


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    run_demo(out)
    return out


@pytest.fixture()
def folder(demo_dir: Path, tmp_path: Path) -> Path:
    """A copy of the demo folder: sync.toml, exports/, the workbook and the fact store."""
    target = tmp_path / "demo"
    shutil.copytree(demo_dir, target)
    return target


def cells(path: Path) -> dict[tuple[str, str], Any]:
    wb = openpyxl.load_workbook(path)
    return {
        (ws.title, c.coordinate): (c.value, c.number_format)
        for ws in wb
        for row in ws.iter_rows()
        for c in row
        if c.value is not None
    }


def test_help_lists_sync_and_inspect() -> None:
    out = invoke("--help")
    assert "sync" in out.output and "inspect" in out.output
    out = invoke("sync", "--help")
    assert "CONFIG" in out.output and "--json" in out.output


def test_sync_json_summary_after_the_demo_changes_nothing(folder: Path) -> None:
    book = folder / "plan-2026-11.xlsx"
    before = cells(book)
    result = invoke("sync", str(folder / "sync.toml"), "--now", NOW, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["month"] == "2026-11" and out["as_of"] == "2026-11-17"
    assert len(out["loads"]) == 7 and all(f["skipped"] for f in out["loads"])
    assert out["lines"] == 28 and out["lines_filled"] == 28 and out["lines_without_facts"] == []
    assert out["metrics"] == [
        "spend",
        "traffic",
        "leads",
        "calls",
        "pp",
        "negotiations",
        "purchases",
        "revenue",
    ]
    # the deliberate test campaign: listed with its spend
    assert out["unmapped_spend"] > 0
    assert [u["utm_campaign"] for u in out["unmapped"]] == ["GS_Test_Experiment"]
    quality = out["quality"]
    assert all(r["ok"] for r in quality["reconciliation"])
    assert {s["source"] for s in quality["sources"]} == {
        "google_ads",
        "yandex_direct",
        "meta_ads",
        "vk_ads",
        "agency",
        "calls",
        "crm",
    }
    assert quality["quarantined_total"] == 4
    # the demo already synced the same exports: the workbook is exactly as it was
    assert cells(book) == before


def test_sync_prints_what_it_did(folder: Path) -> None:
    result = invoke("sync", str(folder / "sync.toml"), "--now", NOW)
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Inputs" in text and " same" in text
    assert "28 of 28 plan lines filled" in text
    assert "GS_Test_Experiment" in text
    assert "Data Quality:" in text


def test_sync_from_a_fresh_store_loads_every_export(folder: Path) -> None:
    (folder / "facts.duckdb").unlink()
    result = invoke("sync", str(folder / "sync.toml"), "--now", NOW, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert not any(f["skipped"] for f in out["loads"])
    assert sum(f["rows_loaded"] for f in out["loads"]) > 1000
    assert out["lines_filled"] == 28


def test_default_config_is_sync_toml_in_the_working_directory(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(folder)
    result = invoke("sync", "--now", NOW, "--json")
    assert result.exit_code == 0, result.output
    monkeypatch.chdir(folder / "exports")
    result = invoke("sync")
    assert result.exit_code == 1
    assert "the sync config sync.toml does not exist" in result.output


# --- sensible messages ----------------------------------------------------------------------------


def test_missing_config(tmp_path: Path) -> None:
    result = invoke("sync", str(tmp_path / "nope.toml"))
    assert result.exit_code == 1 and "nope.toml does not exist" in result.output


def test_config_error_names_the_key(folder: Path) -> None:
    config = folder / "sync.toml"
    config.write_text(config.read_text().replace('kind = "calls"', 'kind = "call"'))
    result = invoke("sync", str(config))
    assert result.exit_code == 1
    assert "sync.toml: `sources[5].kind`: value 'call' is not one of" in result.output


def test_missing_workbook(folder: Path) -> None:
    (folder / "plan-2026-11.xlsx").unlink()
    result = invoke("sync", str(folder / "sync.toml"))
    assert result.exit_code == 1
    assert "plan-2026-11.xlsx does not exist (`workbook` in sync.toml" in result.output


def test_missing_export(folder: Path) -> None:
    for p in (folder / "exports").glob("crm_leads_*.csv"):
        p.unlink()
    book = folder / "plan-2026-11.xlsx"
    digest = hashlib.sha256(book.read_bytes()).hexdigest()
    result = invoke("sync", str(folder / "sync.toml"))
    assert result.exit_code == 1
    assert "`sources[6].path` of source `crm`: no file matches exports/crm_leads_*.csv" in (
        result.output
    )
    assert hashlib.sha256(book.read_bytes()).hexdigest() == digest


def test_wrong_sheet(folder: Path) -> None:
    book = folder / "plan-2026-11.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Report"  # type: ignore[union-attr]
    wb.save(book)  # the config points at some other workbook
    result = invoke("sync", str(folder / "sync.toml"))
    assert result.exit_code == 1
    assert "has no sheet `Plan`: is it a funnelplan planning workbook? (its sheets: Report)" in (
        result.output
    )


def test_locked_workbook(folder: Path) -> None:
    book = folder / "plan-2026-11.xlsx"
    (folder / "~$plan-2026-11.xlsx").write_bytes(b"\x00someone")
    digest = hashlib.sha256(book.read_bytes()).hexdigest()
    result = invoke("sync", str(folder / "sync.toml"))
    assert result.exit_code == 1
    assert "plan-2026-11.xlsx is open in Excel" in result.output
    assert "close it in Excel, then sync again" in result.output
    assert hashlib.sha256(book.read_bytes()).hexdigest() == digest


def test_read_only_workbook(folder: Path) -> None:
    book = folder / "plan-2026-11.xlsx"
    book.chmod(0o444)
    try:
        result = invoke("sync", str(folder / "sync.toml"))
    finally:
        book.chmod(0o644)
    assert result.exit_code == 1 and "is read-only" in result.output


# --- a SQL source (DuckDB warehouse) ------------------------------------------------------------


def test_sync_from_a_duckdb_warehouse(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute(
        "CREATE TABLE facts (day DATE, src VARCHAR, med VARCHAR, camp VARCHAR, metric VARCHAR,"
        " value DOUBLE)"
    )
    con.execute(
        """INSERT INTO facts VALUES
        ('2026-11-01', 'google', 'cpc', 'brand', 'spend', 600),
        ('2026-11-01', 'google', 'cpc', 'brand', 'spend', 400),
        ('2026-11-02', 'google', 'cpc', 'brand', 'spend', 1200),
        ('2026-11-02', 'google', 'cpc', 'brand', 'leads', 12),
        ('2026-11-02', 'google', 'cpc', 'other', 'spend', 30)"""
    )
    con.close()
    (tmp_path / "sync.toml").write_text(
        textwrap.dedent(
            """
            workbook = "plan.xlsx"
            store = "store/facts.duckdb"

            [[sources]]
            name = "warehouse"
            kind = "sql"
            url = "duckdb:///warehouse.duckdb"
            query = '''SELECT day AS date, src AS utm_source, med AS utm_medium,
                       camp AS utm_campaign, metric, value FROM facts'''

            [[mapping]]
            field = "utm_campaign"
            match = "exact"
            pattern = "brand"
            channel = "Search"
            campaign = "Brand"
            """
        )
    )
    lines = pd.DataFrame({"channel": ["Search", "Meta"], "campaign": ["Brand", "Retargeting"]})
    spec = PlanWorkbookSpec(month=dt.date(2026, 11, 1), lines=lines)  # Mapping sheet: empty
    save_atomic(build_plan_workbook(spec), tmp_path / "plan.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "plan.xlsx")
    ws = wb[L.MAPPING]
    for col, v in enumerate(["", "utm_campaign", "exact", "brand", "Search", "Brand"], start=1):
        ws.cell(row=2, column=col, value=v or None)
    wb.save(tmp_path / "plan.xlsx")
    result = invoke("sync", str(tmp_path / "sync.toml"), "--now", "2026-11-03T01:00", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["filled"]["spend"] == 2200 and out["filled"]["leads"] == 12
    assert out["lines_without_facts"] == ["Meta / Retargeting"]
    assert out["unmapped_spend"] == 30
    assert out["loads"][0]["file"] == "sql: duckdb:///warehouse.duckdb"
    ws = openpyxl.load_workbook(tmp_path / "plan.xlsx")[L.PLAN]
    col = next(c.column for c in ws[L.PLAN_HEADER_ROW] if c.value == "spend f")
    assert [ws.cell(row=r, column=col).value for r in (5, 6)] == [2200, None]


# --- inspect --------------------------------------------------------------------------------------


def test_inspect_json(demo_dir: Path) -> None:
    export = next((demo_dir / "exports").glob("yandex_direct_*.csv"))
    result = invoke("inspect", str(export), "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["platform"] == "yandex_direct" and out["kind"] == "ad"
    assert out["encoding"].lower().replace("-", "") in ("cp1251", "windows1251")
    assert out["delimiter"] == ";"
    assert out["rows_quarantined"] == 1 and out["quarantined"][0]["value"] == "32.11.2026"
    assert out["totals"]["spend"] > 0


def test_inspect_prints_how_the_file_reads(demo_dir: Path) -> None:
    export = next((demo_dir / "exports").glob("google_ads_*.csv"))
    result = invoke("inspect", str(export))
    assert result.exit_code == 0, result.output
    assert "google_ads" in result.output


def test_inspect_a_crm_export_by_kind(demo_dir: Path) -> None:
    export = next((demo_dir / "exports").glob("crm_leads_*.csv"))
    result = invoke("inspect", str(export), "--kind", "crm", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["kind"] == "crm"


def test_inspect_missing_file(tmp_path: Path) -> None:
    result = invoke("inspect", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2 and "does not exist" in result.output


# --- the real command, terminated mid-save -------------------------------------------------

TERM_SCRIPT = """
import sys, time
from pathlib import Path
import openpyxl

folder = Path({folder!r})

def slow_save(self, filename):
    with open(filename, "wb") as fh:
        fh.write(b"PK half a workbook")
    (folder / "saving").write_text(str(filename))
    time.sleep(60)

openpyxl.Workbook.save = slow_save
from addin.cli.main import main
main(["sync", str(folder / "sync.toml"), "--now", {now!r}])
"""


def test_terminated_cli_sync_leaves_the_workbook_and_no_temp_file(folder: Path) -> None:
    book = folder / "plan-2026-11.xlsx"
    digest = hashlib.sha256(book.read_bytes()).hexdigest()
    script = TERM_SCRIPT.format(folder=str(folder), now=NOW)
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while not (folder / "saving").exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert Path((folder / "saving").read_text()).exists()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    assert hashlib.sha256(book.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in folder.iterdir() if p.suffix == ".xlsx") == [book.name]
