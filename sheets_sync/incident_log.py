"""The incident log and the digest's delivery log, in the fact store's database (DuckDB or
PostgreSQL: the SQL is what both accept; the tables are `sheets_sync.store_schema`'s step 5).

``incidents``: one row per incident (a rule broken at one place, `planning.alerts.Firing.key`),
at most one open per key. `IncidentLog.update` opens the new ones, refreshes the ones still
firing and closes, with their time, the ones that stopped. An incident is **due** for the
digest when it was never sent, or when it has worsened since it was last sent: its distance past
the threshold (`Firing.excess`) grew by half again and by at least 5 points. So an alert that
stays open is not re-sent every day.

``sync_failures``: a failed sync or source load, recorded by the scheduled sync and the CLI,
open until the next successful sync; the alerts read them as the ``sync`` check.

``deliveries``: one row per digest day, destination and message (the idempotency key): the
text sent, whether it got through, the attempts and the last error. A day's message that got
through is never sent again; one that failed stays pending and is retried on the next run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from planning.alerts import FailedLoad, Firing
from sheets_sync.store import FactStore

WORSE_FACTOR = 1.5
WORSE_POINTS = 0.05

_COLUMNS = (
    "id, key, rule, place, metric, severity, status, since, opened_at, last_seen, closed_at, "
    "value, threshold, excess, notified_at, notified_excess, note"
)


@dataclass(frozen=True)
class Incident:
    """One row of the incident log."""

    id: int
    key: str
    rule: str
    place: str
    metric: str
    severity: str
    status: str  # "open" or "closed"
    since: dt.date | None
    opened_at: dt.datetime
    last_seen: dt.datetime
    closed_at: dt.datetime | None
    value: float | None
    threshold: float | None
    excess: float | None
    notified_at: dt.datetime | None
    notified_excess: float | None
    note: str | None

    @property
    def due(self) -> bool:
        """Open, and never sent or worse than when last sent."""
        if self.status != "open":
            return False
        return self.notified_at is None or _due(self.excess or 0.0, self.notified_excess)


@dataclass(frozen=True)
class IncidentUpdate:
    """What one evaluation changed: keys opened, still open, worsened (due again), closed."""

    opened: tuple[str, ...]
    continuing: tuple[str, ...]
    worsened: tuple[str, ...]
    closed: tuple[str, ...]


@dataclass(frozen=True)
class DeliveryRecord:
    """One message of one day's digest to one destination."""

    day: dt.date
    destination: str
    part: str
    position: int  # the message's place in its digest
    status: str  # "pending", "sent" or "failed"
    attempts: int
    error: str | None
    text: str
    chart: bytes | None
    created_at: dt.datetime
    sent_at: dt.datetime | None


class IncidentLog:
    """The incident, sync-failure and delivery tables of a `FactStore`."""

    def __init__(self, store: FactStore) -> None:
        self.con = store.con  # the tables: `sheets_sync.store_schema` step 5, at the store's open
        self._previewing = False

    @contextlib.contextmanager
    def preview(self, active: bool = True) -> Iterator[None]:
        """Inside, every change is rolled back at the end (a dry run); inactive: no-op."""
        if not active:
            yield
            return
        self.con.execute("BEGIN TRANSACTION")
        self._previewing = True
        try:
            yield
        finally:
            self._previewing = False
            self.con.execute("ROLLBACK")

    # ------------------------------------------------------------------ incidents

    def _incidents(self, where: str, params: Sequence[object] = ()) -> list[Incident]:
        rows = self.con.execute(
            f"SELECT {_COLUMNS} FROM incidents WHERE {where} ORDER BY opened_at, id", params
        ).fetchall()
        return [Incident(*row) for row in rows]

    def open_incidents(self) -> list[Incident]:
        return self._incidents("status = 'open'")

    def recent(self, now: dt.datetime, days: int = 14) -> list[Incident]:
        """Open incidents and those closed in the last `days` days."""
        return self._incidents("status = 'open' OR closed_at >= ?", [now - dt.timedelta(days=days)])

    def update(self, firings: Sequence[Firing], now: dt.datetime) -> IncidentUpdate:
        """Open, refresh and close incidents from one evaluation's `firings`, in one
        transaction."""
        opened: list[str] = []
        continuing: list[str] = []
        worsened: list[str] = []
        own = not self._previewing
        if own:
            self.con.execute("BEGIN TRANSACTION")
        try:
            current = {i.key: i for i in self.open_incidents()}
            for f in firings:
                old = current.get(f.key)
                if old is None:
                    self._open(f, now)
                    opened.append(f.key)
                    continue
                self.con.execute(
                    "UPDATE incidents SET last_seen = ?, value = ?, threshold = ?, excess = ?, "
                    "severity = ?, note = ? WHERE id = ?",
                    [now, f.value, f.limit, f.excess, f.rule.severity, f.note or None, old.id],
                )
                continuing.append(f.key)
                was_due = old.due
                if not was_due and _due(f.excess, old.notified_excess):
                    worsened.append(f.key)
            firing = {f.key for f in firings}
            closed = [key for key in current if key not in firing]
            for key in closed:
                self.con.execute(
                    "UPDATE incidents SET status = 'closed', closed_at = ? WHERE id = ?",
                    [now, current[key].id],
                )
            if own:
                self.con.execute("COMMIT")
        except BaseException:
            if own:
                self.con.execute("ROLLBACK")
            raise
        return IncidentUpdate(tuple(opened), tuple(continuing), tuple(worsened), tuple(closed))

    def _open(self, f: Firing, now: dt.datetime) -> None:
        self.con.execute(
            "INSERT INTO incidents (key, rule, place, metric, severity, status, since, "
            "opened_at, last_seen, value, threshold, excess, note) "
            "VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?)",
            [
                f.key,
                f.rule.name,
                f.where,
                f.rule.metric,
                f.rule.severity,
                f.since or now.date(),
                now,
                now,
                f.value,
                f.limit,
                f.excess,
                f.note or None,
            ],
        )

    def due(self) -> list[Incident]:
        """Open incidents to tell the team about: never sent, or worse than when sent."""
        return [i for i in self.open_incidents() if i.due]

    def mark_notified(self, keys: Sequence[str], now: dt.datetime) -> None:
        """Record that the open incidents of `keys` were sent (at their current excess)."""
        for key in keys:
            self.con.execute(
                "UPDATE incidents SET notified_at = ?, notified_excess = excess "
                "WHERE key = ? AND status = 'open'",
                [now, key],
            )

    # ------------------------------------------------------------------ sync failures

    def record_sync_failure(self, source: str, message: str, now: dt.datetime) -> None:
        self.con.execute(
            "INSERT INTO sync_failures VALUES (?, ?, ?, NULL)", [now, source, message[:500]]
        )

    def resolve_sync_failures(self, now: dt.datetime) -> None:
        """A sync went through: the failures before it are over."""
        self.con.execute(
            "UPDATE sync_failures SET resolved_at = ? WHERE resolved_at IS NULL", [now]
        )

    def failed_loads(self) -> tuple[FailedLoad, ...]:
        """Unresolved sync failures, latest message per source."""
        rows = self.con.execute(
            "SELECT DISTINCT ON (source) source, message FROM sync_failures "
            "WHERE resolved_at IS NULL ORDER BY source, failed_at DESC"
        ).fetchall()
        return tuple(FailedLoad(str(s), str(m)) for s, m in rows)

    # ------------------------------------------------------------------ deliveries

    def delivery(self, day: dt.date, destination: str, part: str) -> DeliveryRecord | None:
        row = self.con.execute(
            "SELECT * FROM deliveries WHERE day = ? AND destination = ? AND part = ?",
            [day, destination, part],
        ).fetchone()
        return None if row is None else DeliveryRecord(*row)

    def pending(self) -> list[DeliveryRecord]:
        """Messages that have not got through yet (any day), oldest first."""
        rows = self.con.execute(
            "SELECT * FROM deliveries WHERE status <> 'sent' ORDER BY day, created_at, position"
        ).fetchall()
        return [DeliveryRecord(*row) for row in rows]

    def stage(
        self,
        day: dt.date,
        destination: str,
        part: str,
        text: str,
        chart: bytes | None,
        now: dt.datetime,
        position: int = 0,
    ) -> DeliveryRecord:
        """The day's message for a destination: recorded as pending the first time; the same
        record (with its first text) afterwards, so a retry sends what was composed."""
        self.con.execute(
            "INSERT INTO deliveries (day, destination, part, position, status, attempts, text, "
            "chart, created_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?) ON CONFLICT DO NOTHING",
            [day, destination, part, position, text, chart, now],
        )
        record = self.delivery(day, destination, part)
        assert record is not None
        return record

    def record(
        self,
        record: DeliveryRecord,
        ok: bool,
        attempts: int,
        error: str | None,
        now: dt.datetime,
    ) -> None:
        """The outcome of one try to deliver `record`."""
        self.con.execute(
            "UPDATE deliveries SET status = ?, attempts = attempts + ?, error = ?, sent_at = ? "
            "WHERE day = ? AND destination = ? AND part = ?",
            [
                "sent" if ok else "failed",
                attempts,
                error,
                now if ok else None,
                record.day,
                record.destination,
                record.part,
            ],
        )


def _due(excess: float, notified: float | None) -> bool:
    if notified is None:
        return True
    return excess >= notified * WORSE_FACTOR and excess >= notified + WORSE_POINTS
