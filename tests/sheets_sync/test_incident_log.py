"""The incident log in the fact store's database: an incident's life (opened, continuing, not
re-sent until it worsens by half again and 5 points, closed with its time, reopened as a new
one), the failed loads the `sync` check reads, the digest's delivery log (idempotent per day,
destination and part; failures retried) and the dry run that rolls everything back; on a
DuckDB file and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_store import BACKENDS, store_location

from planning.alert_rules import Rule, default_rules
from planning.alerts import FailedLoad, Firing
from sheets_sync.incident_log import WORSE_FACTOR, WORSE_POINTS, IncidentLog
from sheets_sync.store import FactStore

RULES = {r.name: r for r in default_rules()}
CPA = RULES["cpa-leads"]
DAY = dt.date(2026, 11, 10)
T0 = dt.datetime(2026, 11, 10, 9, 0)
KEY = "cpa-leads|Search"


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def firing(value: float, limit: float = 180.0, rule: Rule = CPA, where: str = "Search") -> Firing:
    """A `> plan ×` 1.2 firing: excess = (value - limit) / limit."""
    return Firing(rule, where, value, limit, limit / 1.2, dt.date(2026, 11, 7), DAY, "note")


@pytest.fixture(params=BACKENDS)
def store(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[FactStore]:
    with FactStore(store_location(request.param, tmp_path)) as s:
        yield s


@pytest.fixture
def log(store: FactStore) -> IncidentLog:
    return IncidentLog(store)


def test_the_thresholds() -> None:
    assert (WORSE_FACTOR, WORSE_POINTS) == (1.5, 0.05)


def test_an_incident_opens_continues_worsens_closes_and_reopens(log: IncidentLog) -> None:
    # opened: 187.5 against 180, excess 7.5 / 180 = 0.041667; due (never sent)
    update = log.update([firing(187.5)], T0)
    assert (update.opened, update.continuing, update.worsened, update.closed) == (
        (KEY,),
        (),
        (),
        (),
    )
    (inc,) = log.open_incidents()
    assert (inc.key, inc.rule, inc.place, inc.metric, inc.severity, inc.status) == (
        KEY,
        "cpa-leads",
        "Search",
        "cpa_leads",
        "warning",
        "open",
    )
    assert (inc.since, inc.opened_at, inc.last_seen, inc.closed_at) == (
        dt.date(2026, 11, 7),
        T0,
        T0,
        None,
    )
    assert (inc.value, inc.threshold, inc.note) == (187.5, 180.0, "note")
    assert inc.excess == pytest.approx(7.5 / 180)
    assert [i.key for i in log.due()] == [KEY]
    log.mark_notified([KEY], at(0.1))
    assert log.due() == []
    (inc,) = log.open_incidents()
    assert inc.notified_at == at(0.1)
    assert inc.notified_excess == pytest.approx(7.5 / 180)

    # continuing, a little worse: 190 -> excess 0.0556, under both 1.5 x 0.0417 = 0.0625 and
    # 0.0417 + 0.05 = 0.0917: not due again
    update = log.update([firing(190.0)], at(24))
    assert (update.opened, update.continuing, update.worsened) == ((), (KEY,), ())
    assert log.due() == []
    (inc,) = log.open_incidents()
    assert (inc.value, inc.last_seen, inc.opened_at) == (190.0, at(24), T0)

    # worsened: 197 -> excess 17 / 180 = 0.0944 >= 0.0625 and >= 0.0917: due again
    update = log.update([firing(197.0)], at(48))
    assert (update.continuing, update.worsened) == ((KEY,), (KEY,))
    assert [i.key for i in log.due()] == [KEY]
    # not reported as worsened twice before it is sent
    assert log.update([firing(197.0)], at(60)).worsened == ()
    log.mark_notified([KEY], at(61))
    assert log.due() == []

    # closed, with its time, when it stops firing
    update = log.update([], at(72))
    assert update.closed == (KEY,)
    assert log.open_incidents() == []
    (closed,) = log.recent(at(72))
    assert (closed.status, closed.closed_at, closed.value) == ("closed", at(72), 197.0)
    assert log.due() == []

    # firing again later is a new incident, due again
    update = log.update([firing(187.5)], at(96))
    assert update.opened == (KEY,)
    (new,) = log.open_incidents()
    assert new.id != closed.id
    assert (new.opened_at, new.notified_at) == (at(96), None)
    assert [i.key for i in log.due()] == [KEY]
    assert [(i.status, i.id) for i in log.recent(at(96))] == [
        ("closed", closed.id),
        ("open", new.id),
    ]
    # the closed one drops out of `recent` 14 days after it closed
    assert [i.id for i in log.recent(at(72) + dt.timedelta(days=14, hours=1))] == [new.id]


@pytest.mark.parametrize(
    ("sent", "now", "due"),
    [
        (0.02, 0.069, False),  # 3.45 x but only +0.049
        (0.02, 0.0701, True),  # 3.5 x and +0.0501
        (1.0, 1.4, False),  # +0.4 but only 1.4 x
        (1.0, 1.5, True),  # 1.5 x and +0.5
    ],
)
def test_due_again_needs_half_again_and_5_points(
    log: IncidentLog, sent: float, now: float, due: bool
) -> None:
    log.update([firing(180.0 * (1 + sent))], T0)
    log.mark_notified([KEY], T0)
    update = log.update([firing(180.0 * (1 + now))], at(24))
    assert (update.worsened == (KEY,)) is due
    assert bool(log.due()) is due


def test_places_are_separate_incidents(log: IncidentLog) -> None:
    log.update([firing(200.0, where="Search"), firing(200.0, where="Social")], T0)
    log.mark_notified(["cpa-leads|Search"], T0)
    assert [i.place for i in log.due()] == ["Social"]
    update = log.update([firing(200.0, where="Social")], at(1))
    assert (update.continuing, update.closed) == (("cpa-leads|Social",), ("cpa-leads|Search",))


def test_a_data_check_without_since_opens_on_its_day(log: IncidentLog) -> None:
    rule = RULES["freshness"]
    f = Firing(rule, "yandex_direct", 7.5, 6.0, float("nan"), None, DAY)
    log.update([f], T0)
    (inc,) = log.open_incidents()
    assert (inc.key, inc.since, inc.severity, inc.note) == (
        "freshness|yandex_direct",
        T0.date(),
        "critical",
        None,
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_log_outlives_the_connection(tmp_path: Path, backend: str) -> None:
    path = store_location(backend, tmp_path)
    with FactStore(path) as store:
        IncidentLog(store).update([firing(200.0)], T0)
    with FactStore(path) as store:
        assert [i.key for i in IncidentLog(store).open_incidents()] == [KEY]


def test_failed_loads_are_recorded_and_resolved(log: IncidentLog) -> None:
    assert log.failed_loads() == ()
    log.record_sync_failure("yandex_direct", "HTTP 503", T0)
    log.record_sync_failure("yandex_direct", "HTTP 500", at(1))
    log.record_sync_failure("crm", "x" * 600, at(1))
    # the latest message per source, by source; messages cut at 500 characters
    assert log.failed_loads() == (
        FailedLoad("crm", "x" * 500),
        FailedLoad("yandex_direct", "HTTP 500"),
    )
    log.resolve_sync_failures(at(2))
    assert log.failed_loads() == ()
    log.record_sync_failure("crm", "timeout", at(3))
    assert log.failed_loads() == (FailedLoad("crm", "timeout"),)


def test_a_delivery_is_staged_once_and_its_outcome_recorded(log: IncidentLog) -> None:
    first = log.stage(DAY, "telegram", "alerts", "first text", b"\x89PNG", T0)
    assert (first.status, first.attempts, first.text, first.chart, first.error) == (
        "pending",
        0,
        "first text",
        b"\x89PNG",
        None,
    )
    assert (first.created_at, first.sent_at) == (T0, None)
    # staging again (a rerun composed another text) keeps the first text: a retry sends it
    again = log.stage(DAY, "telegram", "alerts", "second text", None, at(1))
    assert again == first
    # a failed try: counted, its error kept, still pending
    log.record(first, False, 3, "HTTP 502", at(1))
    rec = log.delivery(DAY, "telegram", "alerts")
    assert rec is not None
    assert (rec.status, rec.attempts, rec.error, rec.sent_at) == ("failed", 3, "HTTP 502", None)
    assert [(p.destination, p.status) for p in log.pending()] == [("telegram", "failed")]
    # then through
    log.record(rec, True, 1, None, at(2))
    rec = log.delivery(DAY, "telegram", "alerts")
    assert rec is not None
    assert (rec.status, rec.attempts, rec.error, rec.sent_at) == ("sent", 4, None, at(2))
    assert log.pending() == []
    assert log.stage(DAY, "telegram", "alerts", "third", None, at(3)).status == "sent"
    assert log.delivery(DAY, "slack", "alerts") is None


def test_pending_lists_failed_and_unsent_oldest_first(log: IncidentLog) -> None:
    day2 = DAY + dt.timedelta(days=1)
    late = log.stage(day2, "slack", "alerts", "b", None, at(24))
    early = log.stage(DAY, "email", "alerts", "a", None, T0)
    sent = log.stage(DAY, "telegram", "alerts", "c", None, T0)
    log.record(late, False, 1, "timeout", at(25))
    log.record(early, False, 2, "refused", at(25))
    log.record(sent, True, 1, None, at(25))
    pending = log.pending()
    assert [(p.day, p.destination, p.status, p.error) for p in pending] == [
        (DAY, "email", "failed", "refused"),
        (day2, "slack", "failed", "timeout"),
    ]


def test_preview_rolls_everything_back(log: IncidentLog) -> None:
    log.update([firing(187.5)], T0)
    with log.preview():
        update = log.update([firing(300.0, where="Social")], at(1))
        assert (update.opened, update.closed) == (("cpa-leads|Social",), (KEY,))
        log.mark_notified(["cpa-leads|Social"], at(1))
        log.record_sync_failure("crm", "down", at(1))
        record = log.stage(DAY, "telegram", "alerts", "text", None, at(1))
        log.record(record, True, 1, None, at(1))
        # inside, the changes are seen
        assert [i.place for i in log.open_incidents()] == ["Social"]
        assert log.failed_loads() == (FailedLoad("crm", "down"),)
        assert log.delivery(DAY, "telegram", "alerts") is not None
    (inc,) = log.open_incidents()
    assert (inc.key, inc.value, inc.last_seen, inc.closed_at) == (KEY, 187.5, T0, None)
    assert log.failed_loads() == ()
    assert log.delivery(DAY, "telegram", "alerts") is None
    assert log.pending() == []
    # and after a dry run the log works as before
    assert log.update([], at(2)).closed == (KEY,)


def test_preview_rolls_back_on_an_error_too(log: IncidentLog) -> None:
    with pytest.raises(RuntimeError), log.preview():
        log.update([firing(187.5)], T0)
        raise RuntimeError("boom")
    assert log.open_incidents() == []


def test_an_inactive_preview_keeps_the_changes(log: IncidentLog) -> None:
    with log.preview(active=False):
        log.update([firing(187.5)], T0)
    assert [i.key for i in log.open_incidents()] == [KEY]
