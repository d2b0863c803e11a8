"""Issue 17: a full disk at the workbook's save or in the fact store's load is told in one line
naming the file ("the disk is full"), the workbook is left as it was, and the store's failed
commit shows its own cause, not "cannot rollback - no transaction is active"."""

from __future__ import annotations

import datetime as dt
import errno
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pandas as pd
import pytest

from addin.actions.sync_facts import run_sync
from sheets_sync.storage_errors import StorageError, is_disk_full
from sheets_sync.store import FactStore
from sheets_sync.sync_config import SyncConfig, parse_config
from sheets_sync.workbooks.xlsx import save_atomic
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook

CONFIG = """
workbook = "plan-2026-11.xlsx"
store = "facts.duckdb"

[[sources]]
name = "crm"
kind = "crm"
path = "crm.csv"

[[mapping]]
field = "utm_campaign"
match = "exact"
pattern = "Search | Brand"
channel = "Search"
campaign = "Brand"
"""
CRM = (
    "ID,Created,utm_source,utm_medium,utm_campaign,Stage,PP date,Purchase date,Amount\n"
    "C-1,2026-11-01,google,cpc,Search | Brand,lead,,,\n"
    "C-2,2026-11-02,google,cpc,Search | Brand,lead,,,\n"
)


def _config(base: Path) -> SyncConfig:
    (base / "crm.csv").write_text(CRM, encoding="utf-8")
    config = parse_config(CONFIG, base=base)
    lines = pd.DataFrame({"channel": ["Search"], "campaign": ["Brand"], "leads p": [10.0]})
    spec = PlanWorkbookSpec(month=dt.date(2026, 11, 1), lines=lines, mapping=config.mapping)
    save_atomic(build_plan_workbook(spec), config.workbook)
    return config


def _full(*args: Any, **kwargs: Any) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


NOW = dt.datetime(2026, 11, 3, 2)


def test_disk_full_at_the_workbook_save(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _config(tmp_path)
    before = config.workbook.read_bytes()
    monkeypatch.setattr(openpyxl.Workbook, "save", _full)

    with pytest.raises(StorageError) as err:
        run_sync(config, now=NOW)

    message = str(err.value)
    assert message.startswith(f"cannot write the workbook {config.workbook}: the disk is full")
    assert "the workbook is as it was" in message and "\n" not in message
    assert config.workbook.read_bytes() == before
    assert [p.name for p in tmp_path.glob(".plan-2026-11-*.xlsx")] == []  # no temp file left


def test_disk_full_in_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _config(tmp_path)
    before = config.workbook.read_bytes()
    monkeypatch.setattr(FactStore, "_insert", _full)

    with pytest.raises(StorageError) as err:
        run_sync(config, now=NOW)

    message = str(err.value)
    assert message.startswith(f"cannot write the fact store {config.store}: the disk is full")
    assert config.workbook.read_bytes() == before
    monkeypatch.undo()  # space again: the same sync loads, nothing half-written in the way
    assert run_sync(config, now=NOW).filled["leads"] == 2.0


class _CommitFails:
    """A connection whose commit fails the way DuckDB's does on a full disk: the transaction is
    gone (rolled back by DuckDB) and an IOException raised."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)

    def commit(self) -> None:
        self._con.rollback()
        raise duckdb.IOException("IO Error: could not write file: No space left on device")


def test_a_failed_commit_shows_its_cause(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _config(tmp_path)
    real = FactStore.__dict__["con"]  # the property
    monkeypatch.setattr(FactStore, "con", property(lambda self: _CommitFails(real.fget(self))))

    with pytest.raises(StorageError) as err:
        run_sync(config, now=NOW)

    assert "cannot rollback" not in str(err.value)
    assert "the disk is full" in str(err.value)
    assert isinstance(err.value.__cause__, duckdb.IOException)


@pytest.mark.parametrize(
    ("error", "full"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), True),
        (duckdb.IOException("IO Error: No space left on device"), True),
        (OSError(errno.EACCES, "Permission denied"), False),
        (ValueError("bad"), False),
    ],
)
def test_is_disk_full(error: BaseException, full: bool) -> None:
    assert is_disk_full(error) is full
