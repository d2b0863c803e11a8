"""Fact stores of both kinds for tests: a DuckDB file (or memory) and a PostgreSQL database.

One private PostgreSQL cluster (`pg.PrivateCluster`) is started the first time a test asks for
a PostgreSQL store and stopped when the test process ends; every store gets a database of its
own (``CREATE DATABASE`` takes a few tens of milliseconds with ``fsync=off``), so tests never see
each other's rows. A missing PostgreSQL skips the test, and fails it under CI (`conftest.require`).
"""

from __future__ import annotations

import atexit
import itertools
import os
from pathlib import Path

import psycopg
from conftest import require
from pg import PrivateCluster, pg_bin_dir

BACKENDS = ("duckdb", "postgresql")
"""The store kinds a parametrised test runs on."""

_cluster: PrivateCluster | None = None
_numbers = itertools.count()


def pg_cluster() -> PrivateCluster:
    """The test process's PostgreSQL cluster, started on first use."""
    global _cluster
    if _cluster is None:
        bin_dir = pg_bin_dir()
        require("PostgreSQL", bin_dir is not None, "apt-get install postgresql")
        assert bin_dir is not None
        _cluster = PrivateCluster(bin_dir)
        atexit.register(_cluster.stop)
    return _cluster


def new_database() -> str:
    """The URL of a new, empty database in the test cluster."""
    cluster = pg_cluster()
    name = f"store_{os.getpid()}_{next(_numbers)}"
    with psycopg.connect(cluster.url, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    return cluster.url.rsplit("/", 1)[0] + f"/{name}"


def store_location(backend: str, folder: Path | None = None) -> Path | str:
    """Where a new, empty store of `backend` lives: a DuckDB file in `folder` (memory without
    one), or a new PostgreSQL database's URL."""
    if backend == "postgresql":
        return new_database()
    if backend != "duckdb":
        raise ValueError(backend)
    return ":memory:" if folder is None else folder / f"facts-{next(_numbers)}.duckdb"
