"""The fact store on a real PostgreSQL: the schema steps, the URL in a sync config, two syncs
from two processes at once, and a load killed with SIGKILL half way.

The guarantees both backends share (idempotent loads, restatement, rollback, deals) are the
parametrised tests of test_store.py and test_store_deals.py; this file holds what only a shared
server has."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pandas as pd
import psycopg
import pytest
from pg_store import new_database, pg_cluster

from planning.errors import InputError
from sheets_sync.facts import FACT_COLUMNS, FileInfo, ReadResult, empty_quarantine
from sheets_sync.store import FactStore
from sheets_sync.store_folder import store_folder
from sheets_sync.store_schema import STEPS, applied
from sheets_sync.sync_config import load_config

NOV = dt.date(2026, 11, 1)

# The exports both worker processes load: the same builder runs in the test and in the workers.
EXPORTS = textwrap.dedent(
    """
    import datetime as dt
    import numpy as np
    import pandas as pd
    from sheets_sync.facts import FACT_COLUMNS, FileInfo, ReadResult, empty_quarantine

    def export(source, k, campaigns=300, days=10):
        # export k of `source`: days k+1 .. k+days of November, `campaigns` campaigns,
        # spend = 100 * (k + 1) and leads = k + 1 on each day and campaign
        first = dt.date(2026, 11, 1) + dt.timedelta(days=k)
        rows = [
            (first + dt.timedelta(days=d), source, "google", "cpc", f"c{c}", metric,
             "event", float(scale * (k + 1)))
            for d in range(days) for c in range(campaigns)
            for metric, scale in (("spend", 100), ("platform_leads", 1))
        ]
        facts = pd.DataFrame(rows, columns=list(FACT_COLUMNS))
        facts["date"] = pd.to_datetime(facts["date"]).astype("datetime64[ns]")
        info = FileInfo(path=f"{source}-{k}.csv", source=source, kind="ad")
        info.date_from, info.date_to = first, first + dt.timedelta(days=days - 1)
        return ReadResult(facts, empty_quarantine(), info)
    """
)
namespace: dict[str, object] = {}
exec(EXPORTS, namespace)
export = cast(Callable[..., ReadResult], namespace["export"])

WORKER = EXPORTS + textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from sheets_sync.store import FactStore

    url, own, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    while not go.exists():  # both processes start loading at the same moment
        time.sleep(0.005)
    with FactStore(url) as store:
        for k in range(8):
            store.load(export("ads", k), f"ads-{k}")  # the same files from both processes
            store.load(export(own, k, campaigns=50), f"{own}-{k}")  # this process's own
    """
)


def test_the_schema_steps_are_recorded_and_run_once() -> None:
    url = new_database()
    with FactStore(url) as store:
        assert applied(store.con) == [s.version for s in STEPS if "postgresql" in s.dialects]
        assert applied(store.con) == [1, 2, 3, 4, 5, 6, 7]
    with FactStore(url) as store:  # opening again applies nothing new
        rows = store.con.execute("SELECT count(*) FROM schema_version").fetchall()
        assert rows == [(7,)]
    with FactStore(":memory:") as duck:
        assert applied(duck.con) == [1, 2, 3, 5, 7]  # 4 and 6: PostgreSQL's order and indexes


def test_the_password_never_shows_in_the_store_name() -> None:
    url = new_database().replace("postgres@", "postgres:secret@")  # trust auth ignores it
    with FactStore(url) as store:
        assert "secret" not in str(store.path) and ":***@" in str(store.path)


def test_an_unreachable_server_is_named_without_its_password() -> None:
    cluster = pg_cluster()
    url = f"postgresql://bi:secret@127.0.0.1:{cluster.port}/no_such_database"
    with pytest.raises(InputError, match="cannot be reached") as caught:
        FactStore(url)
    message = str(caught.value)
    assert "secret" not in message and "bi:***@127.0.0.1" in message
    assert "no_such_database" in message and "\n" not in message


def test_a_sync_config_names_a_postgresql_store(tmp_path: Path) -> None:
    toml = tmp_path / "sync.toml"
    toml.write_text('workbook = "plan.xlsx"\nstore = "postgresql://bi@db.local/plan"\n')
    config = load_config(toml)
    assert config.store_url == "postgresql://bi@db.local/plan"
    assert config.store_location == "postgresql://bi@db.local/plan"
    assert config.store == tmp_path  # a folder: opening it as a DuckDB file fails loudly
    assert store_folder(config) == tmp_path  # no folder to check or create
    toml.write_text('workbook = "plan.xlsx"\nstore = "data/facts.duckdb"\n')
    config = load_config(toml)
    assert config.store_url is None and config.store_location == tmp_path / "data/facts.duckdb"


@pytest.mark.slow
def test_two_syncs_from_two_processes_are_serialised_and_both_land(tmp_path: Path) -> None:
    """Two processes load the same 8 overlapping exports of "ads" (and 8 of their own) at once.
    Each "ads" file is loaded by exactly one of them, the other skips it, and the facts are
    those of the 8 files loaded one after the other (compared with a DuckDB store loaded in
    sequence): a restated day is never counted twice and no load is lost."""
    url, go = new_database(), tmp_path / "go"
    FactStore(url).close()  # the schema exists before the race (its own race is locked too)
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, url, own, str(go)], cwd=Path.cwd())
        for own in ("p1", "p2")
    ]
    go.touch()
    assert [w.wait(timeout=240) for w in workers] == [0, 0]
    with FactStore(":memory:") as expected, FactStore(url) as store:
        for k in range(8):
            expected.load(export("ads", k), f"ads-{k}")
            for own in ("p1", "p2"):
                expected.load(export(own, k, campaigns=50), f"{own}-{k}")
        log = store.load_log()
        assert sorted(log.loc[log["source"] == "ads", "file_hash"]) == [
            f"ads-{k}" for k in range(8)
        ]
        assert log["source"].value_counts().to_dict() == {"ads": 8, "p1": 8, "p2": 8}
        got = store.source_facts(sources=["ads", "p1", "p2"])
        want = expected.source_facts(sources=["ads", "p1", "p2"])
        pd.testing.assert_frame_equal(got, want)
        # days 1-17 of "ads": day d is last restated by export min(d - 1, 7), leads = that + 1
        leads = got[(got["source"] == "ads") & (got["metric"] == "platform_leads")]
        per_day = leads.groupby("date")["value"].sum()
        assert per_day.iloc[0] == 300 * 1 and per_day.iloc[-1] == 300 * 8
        assert len(per_day) == 17


KILLED = textwrap.dedent(
    """
    import sys
    import numpy as np
    import pandas as pd
    from sheets_sync.facts import FACT_COLUMNS, FileInfo, ReadResult, empty_quarantine
    from sheets_sync.store import FactStore

    n = 3_000_000  # big enough that the load is still running when it is killed
    i = np.arange(n)
    facts = pd.DataFrame({
        "date": pd.Timestamp("2026-11-01") + pd.to_timedelta(i % 30, unit="D"),
        "source": "ads", "utm_source": "google", "utm_medium": "cpc",
        "utm_campaign": pd.Categorical.from_codes(i // 30 % 20000,
                                                  [f"c{k}" for k in range(20000)]),
        "metric": "spend", "basis": "event", "value": (i % 97).astype(np.float64),
    })
    info = FileInfo(path="big.csv", source="ads", kind="ad")
    with FactStore(sys.argv[1]) as store:
        store.load(ReadResult(facts, empty_quarantine(), info), "big")
    """
)


def _lock_holder(url: str) -> int | None:
    """The server process holding the store's advisory lock (a load in progress), or None."""
    with psycopg.connect(url, autocommit=True) as con:
        row = con.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
        ).fetchone()
    return None if row is None else int(row[0])


@pytest.mark.slow
def test_a_load_killed_half_way_leaves_the_store_as_it_was() -> None:
    url = new_database()
    small = ReadResult(
        pd.DataFrame(
            [(NOV, "ads", "google", "cpc", "Brand", "spend", "event", 5.0)],
            columns=list(FACT_COLUMNS),
        ).astype({"date": "datetime64[ns]"}),
        empty_quarantine(),
        FileInfo(path="small.csv", source="ads", kind="ad", date_from=NOV, date_to=NOV),
    )
    with FactStore(url) as store:
        store.load(small, "small")
        facts, log = store.source_facts(), store.load_log(detail=True)
    child = subprocess.Popen([sys.executable, "-c", KILLED, url])
    deadline = time.monotonic() + 120
    while _lock_holder(url) is None:  # the load's transaction has begun (window deleted...)
        assert child.poll() is None, "the load finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.5)  # well inside the load: its facts are being written
    assert child.poll() is None, "the load finished before it could be killed"
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL
    with FactStore(url) as store:  # the server rolled the transaction back
        pd.testing.assert_frame_equal(store.source_facts(), facts)
        pd.testing.assert_frame_equal(store.load_log(detail=True), log)
        # and released the lock: the next load goes through (restating day 1)
        again = store.load(small, "small-again")
        assert (again.rows, again.replaced) == (1, 1)
