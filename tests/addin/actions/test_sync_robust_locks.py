"""Issue 17: a workbook LibreOffice has open (its ``.~lock.NAME#`` beside it) is refused like one
Excel has open (``~$NAME``), naming who holds the lock; the workbook is left as it was."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from addin.actions.sync_facts import run_sync
from addin.actions.sync_facts.files import libreoffice_lock_file, lock_holder
from sheets_sync.sync_config import SyncConfig, parse_config
from sheets_sync.workbooks.interface import WorkbookError
from sheets_sync.workbooks.xlsx import save_atomic
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook

CONFIG = """
workbook = "plan-2026-11.xlsx"
store = "facts.duckdb"

[[sources]]
name = "crm"
kind = "crm"
path = "crm.csv"
"""

# what LibreOffice writes: name, system user, host, since, profile URL; ending with ";"
LOCK = ",Ivan Petrov,ivan,laptop-7,03.12.2026 11:02,file:///home/ivan/.config/libreoffice/4;"


def _config(base: Path) -> SyncConfig:
    (base / "crm.csv").write_text(
        "ID,Created,utm_source,utm_medium,utm_campaign,Stage\n"
        "C-1,2026-11-01,google,cpc,Search | Brand,lead\n",
        encoding="utf-8",
    )
    config = parse_config(CONFIG, base=base)
    lines = pd.DataFrame({"channel": ["Search"], "campaign": ["Brand"], "leads p": [10.0]})
    spec = PlanWorkbookSpec(month=dt.date(2026, 11, 1), lines=lines)
    save_atomic(build_plan_workbook(spec), config.workbook)
    return config


def test_libreoffice_lock_refuses_the_sync_naming_the_holder(tmp_path: Path) -> None:
    config = _config(tmp_path)
    lock = libreoffice_lock_file(config.workbook)
    assert lock.name == ".~lock.plan-2026-11.xlsx#"
    lock.write_text(LOCK[1:], encoding="utf-8")  # LibreOffice's own lines have no leading comma
    before = config.workbook.read_bytes()

    with pytest.raises(WorkbookError) as err:
        run_sync(config, now=dt.datetime(2026, 11, 3, 2))

    message = str(err.value)
    assert "open in LibreOffice by Ivan Petrov (ivan@laptop-7) since 03.12.2026 11:02" in message
    assert ".~lock.plan-2026-11.xlsx#" in message and "\n" not in message
    assert config.workbook.read_bytes() == before
    assert not config.store.exists()  # refused before the store was opened


@pytest.mark.parametrize(
    ("text", "holder"),
    [
        ("Ivan Petrov,ivan,laptop-7,03.12.2026 11:02,file:///x;", "Ivan Petrov (ivan@laptop-7)"),
        (",ivan,laptop-7,03.12.2026 11:02,file:///x;", "ivan@laptop-7"),  # no name set
        ("Petrov\\, Ivan,ivan,pc,01.12.2026 09:00,file:///x;", "Petrov, Ivan (ivan@pc)"),
        ("", "someone"),
        ("\x00\x01\x02" * 500, "\\x00\\x01\\x02"),  # garbage: printable, short
    ],
    ids=["named", "no-name", "escaped-comma", "empty", "garbage"],
)
def test_lock_holder_reads_the_fields(tmp_path: Path, text: str, holder: str) -> None:
    lock = tmp_path / ".~lock.book.xlsx#"
    lock.write_text(text, encoding="utf-8")
    got = lock_holder(lock)
    assert got.startswith(holder)
    assert got.isprintable() and len(got) < 300
