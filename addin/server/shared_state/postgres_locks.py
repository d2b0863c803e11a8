"""The per-sheet button lock and the Google Sheets budget in the shared database.

The lock is a lease row (``sheet_locks``: sheet, holder, expiry), not a session advisory lock:
a lease says in the table who holds a sheet and until when, survives a pooled connection being
handed to other work, and frees itself when its holder dies however it dies (kill -9, a frozen
VM, a network cut) once `lease` seconds pass without a renewal. While the button runs, one
thread per process renews its leases every third of the lease; at the end the holder deletes
its row. Another host finding a live lease answers 409 at once. Expiry is on the database's
clock, so hosts' clocks do not matter.

The budget is a token bucket per (account, kind) row (`sheets_sync.google_http.bucket_take`),
read and written under the row's lock on the database's clock, so every host draws from it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from addin.server.shared_state.migrate import SCHEMA
from addin.server.shared_state.postgres import PgPool
from addin.server.shared_state.protocols import SheetBusy, StateUnavailable
from sheets_sync.google_http import bucket_take

log = logging.getLogger("funnelplan.server")


class PgSheetLocks:
    """`protocols.SheetLocks` as lease rows of `lease` seconds, renewed while held."""

    def __init__(self, pool: PgPool, lease: float = 30.0) -> None:
        self.pool = pool
        self.lease = lease
        self._held: dict[str, str] = {}  # sheet -> holder, renewed by the thread
        self._guard = threading.Lock()
        self._wake = threading.Event()
        self._renewer: threading.Thread | None = None

    @contextmanager
    def hold(self, spreadsheet_id: str) -> Iterator[None]:
        holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        if not self._take(spreadsheet_id, holder):
            raise SheetBusy()
        with self._guard:
            self._held[spreadsheet_id] = holder
            self._start_renewer()
        try:
            yield
        finally:
            with self._guard:
                self._held.pop(spreadsheet_id, None)
            self._release(spreadsheet_id, holder)

    def _take(self, sheet: str, holder: str) -> bool:
        """Insert the lease, or take over an expired one; False while another's is live."""
        with self.pool.connection() as con:
            row = con.execute(
                f"INSERT INTO {SCHEMA}.sheet_locks AS l (spreadsheet, holder, expires)"
                " VALUES (%s, %s, clock_timestamp() + make_interval(secs => %s))"
                " ON CONFLICT (spreadsheet) DO UPDATE SET holder = EXCLUDED.holder,"
                " expires = EXCLUDED.expires WHERE l.expires < clock_timestamp()"
                " RETURNING 1",
                (sheet, holder, self.lease),
            ).fetchone()
        return row is not None

    def _release(self, sheet: str, holder: str) -> None:
        try:
            with self.pool.connection() as con:
                con.execute(
                    f"DELETE FROM {SCHEMA}.sheet_locks WHERE spreadsheet = %s AND holder = %s",
                    (sheet, holder),
                )
        except StateUnavailable:  # the lease runs out by itself
            log.warning("could not release the lock of sheet %s; it expires by itself", sheet)

    def _start_renewer(self) -> None:
        if self._renewer is None or not self._renewer.is_alive():
            self._renewer = threading.Thread(
                target=self._renew_loop, name="funnelplan-lease", daemon=True
            )
            self._renewer.start()

    def _renew_loop(self) -> None:
        while True:
            self._wake.wait(self.lease / 3)
            with self._guard:
                held = dict(self._held)
            if not held:
                with self._guard:
                    if not self._held:
                        self._renewer = None
                        return
                continue
            try:
                self.renew(held)
            except StateUnavailable:
                log.warning("could not renew the sheet leases %s", sorted(held))

    def renew(self, held: dict[str, str]) -> None:
        """Push the expiry of `held` (sheet -> holder) a lease ahead; a lease lost meanwhile
        (expired and taken by another host) is logged."""
        with self.pool.connection() as con:
            for sheet, holder in held.items():
                cur = con.execute(
                    f"UPDATE {SCHEMA}.sheet_locks"
                    " SET expires = clock_timestamp() + make_interval(secs => %s)"
                    " WHERE spreadsheet = %s AND holder = %s",
                    (self.lease, sheet, holder),
                )
                if cur.rowcount == 0:
                    log.warning("the lease of sheet %s was lost (it expired)", sheet)


class PgSheetsBudget:
    """`sheets_sync.google_http.SharedBudget`: `per_minute` requests a minute of each kind per
    account, bursts of at most `burst`, for every host together."""

    def __init__(self, pool: PgPool, per_minute: float, burst: float) -> None:
        self.pool = pool
        self.rate = per_minute / 60.0
        self.burst = burst

    def take(self, account: str, kind: str) -> float:
        with self.pool.connection() as con, con.transaction():
            con.execute(
                f"INSERT INTO {SCHEMA}.sheets_budget (account, kind, tokens, updated)"
                " VALUES (%s, %s, %s, clock_timestamp()) ON CONFLICT DO NOTHING",
                (account, kind, float(self.burst)),
            )
            row = con.execute(
                f"SELECT tokens, extract(epoch FROM clock_timestamp() - updated)::float8,"
                f" clock_timestamp() FROM {SCHEMA}.sheets_budget"
                " WHERE account = %s AND kind = %s FOR UPDATE",
                (account, kind),
            ).fetchone()
            assert row is not None
            tokens, wait = bucket_take(float(row[0]), float(row[1]), self.rate, self.burst)
            con.execute(
                f"UPDATE {SCHEMA}.sheets_budget SET tokens = %s, updated = %s"
                " WHERE account = %s AND kind = %s",
                (tokens, row[2], account, kind),
            )
        return wait
