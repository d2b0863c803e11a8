"""The shared state's schema: plain versioned SQL files (``migrations/NNNN_name.sql``) run at
start, in order, each once.

Why not Alembic: the schema is four small tables with no ORM models to diff against, and
plain SQL files are read by anyone who runs the database. The runner takes a transaction-scoped
advisory lock first, so two hosts starting at once apply the files once (the second waits,
then finds them applied); the files missing from ``funnelplan_state.schema_version`` are run in
the same transaction and recorded there, so a failed file leaves nothing half done and a second
run is a no-op.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import psycopg

SCHEMA = "funnelplan_state"
LOCK_ID = 0x66756E6E656C  # "funnel": the advisory lock every migrating host takes
_NAME = re.compile(r"(\d{4})_[a-z0-9_]+\.sql")


@dataclass(frozen=True)
class Migration:
    """One SQL file: its version (the leading number), name and text."""

    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """The SQL files shipped in ``migrations/``, by version."""
    folder = resources.files("addin.server.shared_state") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _NAME.fullmatch(entry.name)
        if match:
            found.append(Migration(int(match[1]), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


def migrate(con: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    """Apply the migrations `con`'s database lacks; the names applied (none: up to date)."""
    applied: list[str] = []
    with con.transaction():
        con.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_ID,))
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA}.schema_version ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied timestamptz NOT NULL DEFAULT now())"
        )
        done = {int(row[0]) for row in con.execute(f"SELECT version FROM {SCHEMA}.schema_version")}  # type: ignore[call-overload]
        for migration in migrations():
            if migration.version in done:
                continue
            con.execute(migration.sql.encode())
            con.execute(
                f"INSERT INTO {SCHEMA}.schema_version (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
            applied.append(migration.name)
    return applied
