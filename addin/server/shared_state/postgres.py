"""The shared state in PostgreSQL (``serve --state postgresql://...``): one connection pool per
process, the schema migrated at start (`migrate`), the replay cache, the sheet locks and the
Google Sheets budget of every host in one database (keys: `postgres_keys`).

Decisions:

* Every database error (down, unreachable, the pool exhausted for `POOL_TIMEOUT` seconds)
  becomes `StateUnavailable`, answered 503 with a clear message: a host that cannot tell
  whether a signature was seen, or whether a key was revoked, refuses rather than guesses.
* The server's connections commit without waiting for the disk (``synchronous_commit=off``):
  a database crash may forget the last fraction of a second of seen signatures, leases and
  budget, never a key (keys are written by ``funnelplan keys`` on its own connection, which
  waits as usual).
* The replay cache keeps each signature until twice the window has passed (one host's clock
  may lag another's) and each process prunes the expired ones every `PRUNE_EVERY` seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from addin.server.shared_state.migrate import SCHEMA, migrate
from addin.server.shared_state.protocols import StateUnavailable

log = logging.getLogger("funnelplan.server")

POOL_TIMEOUT = 2.0
"""Seconds a request waits for a connection before it is answered 503."""
CONNECT_TIMEOUT = 3
PRUNE_EVERY = 30.0

T = TypeVar("T")


def is_postgres_url(url: str | None) -> bool:
    """Whether `url` names a PostgreSQL database (the shared state) rather than nothing."""
    return bool(url) and str(url).startswith(("postgresql://", "postgres://"))


def redacted(url: str) -> str:
    """`url` without its password (for messages and logs)."""
    head, sep, tail = url.partition("@")
    if not sep or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, user_pass = head.partition("//")
    return f"{scheme}//{user_pass.split(':', 1)[0]}:***@{tail}"


def connect(url: str) -> psycopg.Connection[tuple[Any, ...]]:
    """One autocommit connection (the CLI's); `StateUnavailable` if the database is not there."""
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
    except psycopg.Error as error:
        raise StateUnavailable(f"{redacted(url)}: {error}") from None


class PgPool:
    """The process's connection pool, its errors turned into `StateUnavailable`."""

    def __init__(self, url: str, max_size: int = 8) -> None:
        self.url = url
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            timeout=POOL_TIMEOUT,
            kwargs={
                "autocommit": True,
                "connect_timeout": CONNECT_TIMEOUT,
                "options": "-c synchronous_commit=off",
            },
            open=False,
            name="funnelplan-state",
        )
        self.pool.open(wait=False)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
        """A pooled connection for the `with` block."""
        try:
            with self.pool.connection() as con:
                yield con
        except (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout) as error:
            log.error("the shared state is unavailable: %s", error)
            raise StateUnavailable(str(error)) from None

    def run(self, work: Callable[[psycopg.Connection[tuple[Any, ...]]], T]) -> T:
        """`work(connection)` on a pooled connection."""
        with self.connection() as con:
            return work(con)

    def close(self) -> None:
        self.pool.close()


def migrate_url(url: str) -> list[str]:
    """Migrate the database at `url` (what ``serve`` does at start); the files applied."""
    with connect(url) as con:
        try:
            return migrate(con)
        except psycopg.Error as error:
            raise StateUnavailable(f"{redacted(url)}: {error}") from None


class PgReplayCache:
    """`signing.ReplayBackend` over the shared database: a signature seen by any host is
    refused by every other within the window."""

    def __init__(self, pool: PgPool, window_seconds: int) -> None:
        self.pool = pool
        self.window = window_seconds
        self._last_prune = 0.0

    def first_use(self, signature: str, now: float) -> bool:
        """Record `signature`; False if any host saw it within the window. One statement: an
        expired entry not pruned yet is taken over, a live one leaves the row as it is."""
        with self.pool.connection() as con:
            if now - self._last_prune > PRUNE_EVERY:
                self._last_prune = now
                con.execute(f"DELETE FROM {SCHEMA}.replay WHERE expires < %s", (now,))
            row = con.execute(
                f"INSERT INTO {SCHEMA}.replay AS r (signature, expires) VALUES (%s, %s)"
                " ON CONFLICT (signature) DO UPDATE SET expires = EXCLUDED.expires"
                " WHERE r.expires < %s RETURNING 1",
                (signature, now + 2 * self.window, now),
            ).fetchone()
        return row is not None

    def first_use_of(self, signature: str, now: float, key_id: str) -> tuple[bool, bool]:
        """`first_use` and whether `key_id` is revoked now, in one round trip (the verifier
        of the shared state checks both after a good signature)."""
        with self.pool.connection() as con:
            if now - self._last_prune > PRUNE_EVERY:
                self._last_prune = now
                con.execute(f"DELETE FROM {SCHEMA}.replay WHERE expires < %s", (now,))
            row = con.execute(
                f"WITH seen AS (INSERT INTO {SCHEMA}.replay AS r (signature, expires)"
                " VALUES (%s, %s) ON CONFLICT (signature) DO UPDATE SET expires ="
                " EXCLUDED.expires WHERE r.expires < %s RETURNING 1)"
                " SELECT EXISTS (SELECT 1 FROM seen),"
                f" (SELECT revoked IS NOT NULL FROM {SCHEMA}.api_keys WHERE id = %s)",
                (signature, now + 2 * self.window, now, key_id),
            ).fetchone()
        assert row is not None
        return bool(row[0]), bool(row[1]) if row[1] is not None else True
