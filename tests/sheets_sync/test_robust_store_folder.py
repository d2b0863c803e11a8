"""Issue 17: ``store = "/nonexistent/..."`` no longer makes a new, empty store in a folder it
creates: a folder outside the config's own must exist; one inside it (the default, the demo's,
``store/facts.duckdb``) is still created."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from addin.actions.sync_facts import run_sync
from planning.errors import InputError
from sheets_sync.store_folder import store_folder
from sheets_sync.sync_config import parse_config
from sheets_sync.workbooks.xlsx import save_atomic
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook

SOURCES = """
[[sources]]
name = "crm"
kind = "crm"
path = "crm.csv"
"""


def _config_text(store: str) -> str:
    return f'workbook = "plan.xlsx"\nstore = "{store}"\n{SOURCES}'


def test_a_store_in_a_missing_folder_elsewhere_is_refused(tmp_path: Path) -> None:
    base = tmp_path / "team"
    base.mkdir()
    missing = tmp_path / "mnt" / "share" / "facts.duckdb"  # e.g. a network drive not mounted
    (base / "crm.csv").write_text(
        "ID,Created,utm_source,utm_medium,utm_campaign,Stage\nC-1,2026-11-01,g,cpc,x,lead\n",
        encoding="utf-8",
    )
    config = parse_config(_config_text(missing.as_posix()), base=base, path=base / "sync.toml")
    lines = pd.DataFrame({"channel": ["Search"], "campaign": ["Brand"], "leads p": [10.0]})
    spec = PlanWorkbookSpec(month=dt.date(2026, 11, 1), lines=lines)
    save_atomic(build_plan_workbook(spec), base / "plan.xlsx")
    before = (base / "plan.xlsx").read_bytes()

    with pytest.raises(InputError) as err:
        run_sync(config, now=dt.datetime(2026, 11, 3, 2))

    message = str(err.value)
    assert message.startswith(f"sync.toml: `store = '{missing}'`: the folder {missing.parent}")
    assert "does not exist" in message and "\n" not in message
    assert not (tmp_path / "mnt").exists()  # nothing created
    assert (base / "plan.xlsx").read_bytes() == before


@pytest.mark.parametrize("store", ["facts.duckdb", "store/facts.duckdb", "a/b/facts.duckdb"])
def test_a_folder_inside_the_configs_own_is_created(tmp_path: Path, store: str) -> None:
    config = parse_config(_config_text(store), base=tmp_path)
    assert store_folder(config) == (tmp_path / store).parent
    assert (tmp_path / store).parent.is_dir()


def test_a_store_folder_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "store").write_text("not a folder", encoding="utf-8")
    config = parse_config(_config_text("store/facts.duckdb"), base=tmp_path)
    with pytest.raises(InputError, match="is not a folder"):
        store_folder(config)


def test_an_existing_folder_elsewhere_is_fine(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    base = tmp_path / "team"
    base.mkdir()
    config = parse_config(_config_text((tmp_path / "shared" / "f.duckdb").as_posix()), base=base)
    assert store_folder(config) == tmp_path / "shared"
