"""The fact store's schema: numbered SQL steps, applied once each, recorded in ``schema_version``.

`migrate` runs at every open (`FactStore.__init__`): it creates ``schema_version`` if missing and
runs, in one transaction, every step of the store's dialect that the table does not list yet,
recording each (version, name, applied_at). On PostgreSQL the transaction holds the store's
advisory lock (`store_backend.PgConnection.begin`), so two processes opening a new database at
once create it once. The decisions:

* the steps are SQL both dialects accept (``VARCHAR``, ``DOUBLE PRECISION``, ``CREATE TABLE IF
  NOT EXISTS``, ``ADD COLUMN IF NOT EXISTS``); a step only one dialect needs says so
  (``dialects``): the PostgreSQL tables' ``seq`` column (DuckDB orders by its ``rowid``) and
  indexes;
* every step is idempotent (IF NOT EXISTS), so a DuckDB file from before this table (the
  schema then ran as loose statements at each open, issue 4's columns included) takes the steps
  as a no-op plus what it lacks, and is recorded as up to date;
* the SQL lives in this module, not in ``.sql`` files, so the frozen build needs no data files;
* a new table or column is a new step at the end; a step once released is never edited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sheets_sync.store_backend import StoreConnection

__all__ = ["STEPS", "SchemaStep", "applied", "migrate"]


@dataclass(frozen=True)
class SchemaStep:
    """One numbered schema change."""

    version: int
    name: str
    statements: tuple[str, ...]
    dialects: tuple[str, ...] = ("duckdb", "postgresql")


_FACTS = (
    """
    CREATE TABLE IF NOT EXISTS load_log (
        loaded_at TIMESTAMP NOT NULL,
        source VARCHAR NOT NULL,
        file_hash VARCHAR,
        rows BIGINT NOT NULL,
        date_from DATE,
        date_to DATE
    )
    """,
    # Columns added for issue 4 (files created before it get them here, NULL for old loads).
    "ALTER TABLE load_log ADD COLUMN IF NOT EXISTS file VARCHAR",
    "ALTER TABLE load_log ADD COLUMN IF NOT EXISTS quarantined BIGINT",
    "ALTER TABLE load_log ADD COLUMN IF NOT EXISTS duplicates BIGINT",
    "ALTER TABLE load_log ADD COLUMN IF NOT EXISTS latest TIMESTAMP",
    """
    CREATE TABLE IF NOT EXISTS source_facts (
        date DATE NOT NULL,
        source VARCHAR NOT NULL,
        utm_source VARCHAR NOT NULL,
        utm_medium VARCHAR NOT NULL,
        utm_campaign VARCHAR NOT NULL,
        metric VARCHAR NOT NULL,
        basis VARCHAR NOT NULL,
        value DOUBLE PRECISION NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS quarantine (
        source VARCHAR NOT NULL,
        file VARCHAR NOT NULL,
        line BIGINT,
        "column" VARCHAR,
        value VARCHAR,
        reason VARCHAR NOT NULL,
        loaded_at TIMESTAMP NOT NULL
    )
    """,
)
_DEALS = (
    """
    CREATE TABLE IF NOT EXISTS deals (
        source VARCHAR NOT NULL,
        id VARCHAR NOT NULL,
        utm_source VARCHAR NOT NULL,
        utm_medium VARCHAR NOT NULL,
        utm_campaign VARCHAR NOT NULL,
        created DATE NOT NULL,
        pp DATE,
        negotiations DATE,
        purchases DATE,
        revenue DOUBLE PRECISION NOT NULL,
        file VARCHAR NOT NULL,
        loaded_at TIMESTAMP NOT NULL
    )
    """,
)
_JOURNEYS = (
    """
    CREATE TABLE IF NOT EXISTS journey_touches (
        source VARCHAR NOT NULL,
        visitor VARCHAR NOT NULL,
        journey VARCHAR NOT NULL,
        split BOOLEAN NOT NULL,
        ts TIMESTAMP NOT NULL,
        utm_source VARCHAR NOT NULL,
        utm_medium VARCHAR NOT NULL,
        utm_campaign VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        file VARCHAR NOT NULL,
        loaded_at TIMESTAMP NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS journey_outcomes (
        source VARCHAR NOT NULL,
        visitor VARCHAR NOT NULL,
        journey VARCHAR NOT NULL,
        split BOOLEAN NOT NULL,
        ts TIMESTAMP NOT NULL,
        kind VARCHAR NOT NULL,
        value DOUBLE PRECISION NOT NULL,
        lead_id VARCHAR NOT NULL,
        file VARCHAR NOT NULL,
        loaded_at TIMESTAMP NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS journey_loads (
        loaded_at TIMESTAMP NOT NULL,
        source VARCHAR NOT NULL,
        file VARCHAR NOT NULL,
        file_hash VARCHAR NOT NULL,
        shape VARCHAR NOT NULL,
        touches BIGINT NOT NULL,
        outcomes BIGINT NOT NULL,
        journeys BIGINT NOT NULL,
        replaced_touches BIGINT NOT NULL,
        replaced_outcomes BIGINT NOT NULL,
        quarantined BIGINT NOT NULL,
        ts_from TIMESTAMP,
        ts_to TIMESTAMP
    )
    """,
)
_INCIDENTS = (
    "CREATE SEQUENCE IF NOT EXISTS incident_ids START 1",
    """
    CREATE TABLE IF NOT EXISTS incidents (
        id BIGINT PRIMARY KEY DEFAULT nextval('incident_ids'),
        key VARCHAR NOT NULL,
        rule VARCHAR NOT NULL,
        place VARCHAR NOT NULL,
        metric VARCHAR NOT NULL,
        severity VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        since DATE,
        opened_at TIMESTAMP NOT NULL,
        last_seen TIMESTAMP NOT NULL,
        closed_at TIMESTAMP,
        value DOUBLE PRECISION,
        threshold DOUBLE PRECISION,
        excess DOUBLE PRECISION,
        notified_at TIMESTAMP,
        notified_excess DOUBLE PRECISION,
        note VARCHAR
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS sync_failures (
        failed_at TIMESTAMP NOT NULL,
        source VARCHAR NOT NULL,
        message VARCHAR NOT NULL,
        resolved_at TIMESTAMP
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS deliveries (
        day DATE NOT NULL,
        destination VARCHAR NOT NULL,
        part VARCHAR NOT NULL,
        position INTEGER NOT NULL,
        status VARCHAR NOT NULL,
        attempts INTEGER NOT NULL,
        error VARCHAR,
        text VARCHAR NOT NULL,
        chart BYTEA,
        created_at TIMESTAMP NOT NULL,
        sent_at TIMESTAMP,
        PRIMARY KEY (day, destination, part)
    )
    """,
)
_PG_ORDER_AND_INDEXES = (
    # Insertion order (DuckDB's rowid) for the load log's ties on loaded_at.
    "ALTER TABLE load_log ADD COLUMN IF NOT EXISTS seq BIGINT GENERATED ALWAYS AS IDENTITY",
    # A shared store grows large: the window delete and a month's read find their rows by index
    # (DuckDB scans its columnar blocks with min/max pruning instead).
    "CREATE INDEX IF NOT EXISTS source_facts_source_date ON source_facts (source, date)",
    "CREATE INDEX IF NOT EXISTS source_facts_date ON source_facts (date)",
    "CREATE INDEX IF NOT EXISTS deals_source_id ON deals (source, id)",
    "CREATE INDEX IF NOT EXISTS deals_source_created ON deals (source, created)",
    "CREATE INDEX IF NOT EXISTS load_log_source_hash ON load_log (source, file_hash)",
)

_PG_JOURNEY_ORDER = (
    "ALTER TABLE journey_touches ADD COLUMN IF NOT EXISTS seq BIGINT GENERATED ALWAYS AS IDENTITY",
    "ALTER TABLE journey_outcomes ADD COLUMN IF NOT EXISTS seq BIGINT GENERATED ALWAYS AS IDENTITY",
    "ALTER TABLE journey_loads ADD COLUMN IF NOT EXISTS seq BIGINT GENERATED ALWAYS AS IDENTITY",
    "CREATE INDEX IF NOT EXISTS journey_touches_visitor ON journey_touches (source, visitor)",
)

_DIMENSIONS = tuple(
    # Issue 15: the facts' optional breakdown (`sheets_sync.facts.DIMENSIONS`); "" = none,
    # which is what every fact loaded before this step gets.
    f"ALTER TABLE source_facts ADD COLUMN IF NOT EXISTS {name} VARCHAR DEFAULT ''"
    for name in ("city", "product", "segment", "creative")
)

STEPS: tuple[SchemaStep, ...] = (
    SchemaStep(1, "source facts, quarantine, load log", _FACTS),
    SchemaStep(2, "CRM deals", _DEALS),
    SchemaStep(3, "customer journeys", _JOURNEYS),
    SchemaStep(4, "load order and indexes", _PG_ORDER_AND_INDEXES, ("postgresql",)),
    SchemaStep(5, "incidents, failed syncs, digest deliveries", _INCIDENTS),
    SchemaStep(6, "journeys' load order", _PG_JOURNEY_ORDER, ("postgresql",)),
    SchemaStep(7, "facts' dimensions: city, product, segment, creative", _DIMENSIONS),
)
"""Every schema step, in order (see the module)."""

_VERSION_TABLE = """
    CREATE TABLE IF NOT EXISTS schema_version (
        version INTEGER PRIMARY KEY,
        name VARCHAR NOT NULL,
        applied_at TIMESTAMP NOT NULL
    )
"""


def migrate(con: StoreConnection) -> list[int]:
    """The store brought up to date (see the module); the versions applied now."""
    done: list[int] = []
    con.begin()
    try:
        con.execute(_VERSION_TABLE)
        have = set(applied(con))
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        for step in STEPS:
            if con.dialect not in step.dialects or step.version in have:
                continue
            for statement in step.statements:
                con.execute(statement)
            con.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                [step.version, step.name, now],
            )
            done.append(step.version)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return done


def applied(con: StoreConnection) -> list[int]:
    """The versions ``schema_version`` lists, ascending."""
    rows = con.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    return [int(r[0]) for r in rows]
