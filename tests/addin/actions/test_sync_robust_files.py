"""Issue 17, robust files: one unreadable export (empty, binary garbage) is quarantined whole and
the rest of the sync goes on; its message is one printable line; Data Quality lists it with its
size and says how many quarantined rows it does not show. The exports are built here from what
the platforms write (a CRM export with its header, an ad export with Google Ads' columns)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd

from addin.actions.sync_facts import run_sync
from sheets_sync.sync_config import SyncConfig, parse_config
from sheets_sync.workbooks.xlsx import save_atomic
from workbook_templates import layout as L
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook

CONFIG = """
workbook = "plan-2026-11.xlsx"
store = "facts.duckdb"

[[sources]]
name = "crm"
kind = "crm"
path = "crm_*.csv"

[[sources]]
name = "ads"
kind = "ad"
path = "ads_*.csv"

[[mapping]]
field = "utm_campaign"
match = "exact"
pattern = "Search | Brand"
channel = "Search"
campaign = "Brand"
"""

CRM_HEADER = "ID,Created,utm_source,utm_medium,utm_campaign,Stage,PP date,Purchase date,Amount"
GARBAGE = bytes(range(256)) * 16  # 4,096 bytes: every byte value, as a binary file holds


def crm_rows(first_id: int, days: list[int]) -> str:
    lines = [CRM_HEADER]
    for i, day in enumerate(days):
        lines.append(f"C-{first_id + i},2026-11-{day:02d},google,cpc,Search | Brand,lead,,,")
    return "\n".join(lines) + "\n"


def make_workbook(base: Path) -> SyncConfig:
    config = parse_config(CONFIG, base=base)
    lines = pd.DataFrame({"channel": ["Search"], "campaign": ["Brand"], "leads p": [10.0]})
    spec = PlanWorkbookSpec(month=dt.date(2026, 11, 1), lines=lines, mapping=config.mapping)
    save_atomic(build_plan_workbook(spec), config.workbook)
    return config


def dq_column_a(path: Path) -> list[list[object]]:
    ws = openpyxl.load_workbook(path)[L.DATA_QUALITY]
    return [[c.value for c in row] for row in ws.iter_rows(max_col=L.DQ_WIDTH)]


def test_unreadable_files_are_quarantined_and_the_rest_synced(tmp_path: Path) -> None:
    (tmp_path / "crm_1.csv").write_text(crm_rows(1, [1, 1, 2]), encoding="utf-8")  # 3 leads
    (tmp_path / "crm_2.csv").write_bytes(GARBAGE)
    (tmp_path / "ads_1.csv").write_bytes(b"")  # an export that came down empty
    config = make_workbook(tmp_path)

    result = run_sync(config, now=dt.datetime(2026, 11, 3, 2))

    assert [Path(f.file).name for f in result.loads] == ["crm_1.csv"]
    assert result.filled["leads"] == 3.0  # the readable file's three leads reached the Plan
    bad = {f.name: f for f in result.quality.files_quarantined}
    assert set(bad) == {"crm_2.csv", "ads_1.csv"}
    assert bad["crm_2.csv"].size == 4096 and bad["ads_1.csv"].size == 0
    assert "empty" in bad["ads_1.csv"].reason
    for f in bad.values():
        assert len(f.reason) <= 260 and f.reason.isprintable() and "\n" not in f.reason
    flags = [fl for fl in result.quality.flags if "could not be read" in fl]
    assert len(flags) == 2 and all(fl.isprintable() and len(fl) < 400 for fl in flags)
    assert "crm_2.csv (4,096 bytes)" in flags[0]
    crm = next(s for s in result.quality.sources if s.source == "crm")
    assert crm.files == 1 and any("crm_2.csv quarantined" in w for w in crm.warnings)

    rows = dq_column_a(config.workbook)
    title = next(i for i, r in enumerate(rows) if str(r[0]).startswith("Quarantined files"))
    assert str(rows[title][0]).startswith("Quarantined files: 2")
    assert rows[title + 1][:4] == ["source", "file", "size, bytes", "reason"]
    listed = {r[1]: r for r in rows[title + 2 : title + 4]}
    assert listed["crm_2.csv"][0] == "crm" and listed["crm_2.csv"][2] == 4096
    assert listed["ads_1.csv"][0] == "ads" and listed["ads_1.csv"][2] == 0


def test_a_fixed_file_is_read_on_the_next_sync(tmp_path: Path) -> None:
    (tmp_path / "crm_1.csv").write_text(crm_rows(1, [1]), encoding="utf-8")
    (tmp_path / "crm_2.csv").write_bytes(GARBAGE)
    (tmp_path / "ads_1.csv").write_bytes(b"\x00" * 10_000)
    config = make_workbook(tmp_path)
    first = run_sync(config, now=dt.datetime(2026, 11, 3, 2))
    nul = next(f for f in first.quality.files_quarantined if f.name == "ads_1.csv")
    assert "…(×" in nul.reason and len(nul.reason) < 200  # 10,000 NULs told in a few characters

    (tmp_path / "crm_2.csv").write_text(crm_rows(10, [2, 2]), encoding="utf-8")
    second = run_sync(config, now=dt.datetime(2026, 11, 3, 3))

    assert {f.name for f in second.quality.files_quarantined} == {"ads_1.csv"}
    assert second.filled["leads"] == 3.0  # 1 + 2
    rows = dq_column_a(config.workbook)
    assert sum(1 for r in rows if str(r[0]).startswith("Quarantined files")) == 1


def test_the_cli_prints_a_flag_that_echoes_markup(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from addin.cli.main import main

    (tmp_path / "crm_1.csv").write_text(crm_rows(1, [1]), encoding="utf-8")
    (tmp_path / "crm_2.csv").write_text("[/] [bold]not[/bold] an export [/red]\n", encoding="utf-8")
    (tmp_path / "ads_1.csv").write_bytes(b"")
    config = make_workbook(tmp_path)
    (tmp_path / "sync.toml").write_text(CONFIG, encoding="utf-8")

    result = CliRunner().invoke(
        main, ["sync", str(tmp_path / "sync.toml"), "--now", "2026-11-03T02:00"]
    )

    assert result.exit_code == 0, result.output
    printed = " ".join(result.output.split())  # the console wraps long lines
    assert "crm_2.csv (38 bytes) could not be read" in printed
    assert "'[/] [bold]not[/bold] an export [/red]'" in printed  # shown, not taken as markup
    assert config.workbook.exists()
