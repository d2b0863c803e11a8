"""The morning, end to end: the scheduled sync, then the digest.

`morning_sync(config)` runs Sync Facts from the config; a failure is recorded in the incident
log as a failed load (the ``sync`` check fires on it) instead of being lost in a cron mail, and
the next successful sync resolves it.

`run_digest(config, send=...)` checks the alert rules on the config's workbook (updating the
incident log and the Alerts sheet), composes the messages (`addin.digest.compose`) and, when
sending, delivers them to every destination of ``[digest]``:

- each message is staged in the delivery log under (day, destination, message) first, so the
  same day's digest is never sent twice to a destination, and what failed is retried, with its
  first text, on the next run (of the same day or a later one), never lost;
- the incidents in the alerts message are marked as told when it is staged;
- a dry run (`send=False`) composes from the same numbers and changes nothing: the incident
  log's update is rolled back and the workbook is not written.

`serve --schedule` and the cron lines in the README call these same two functions.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from addin.actions.check_alerts import AlertsOutcome, check_alerts
from addin.actions.sync_facts import SyncResult, run_sync
from addin.digest.compose import alerts_text, compose
from addin.digest.delivery import Outgoing, RetryPolicy, deliver
from addin.digest.destinations import Destination
from addin.digest.markup import plain_text
from addin.digest.settings import DigestSettings, digest_settings
from addin.digest.texts import Texts
from planning.morning import volumes
from sheets_sync.incident_log import IncidentLog
from sheets_sync.store import FactStore
from sheets_sync.store_folder import store_folder
from sheets_sync.sync_config import SyncConfig
from sheets_sync.workbooks.interface import WorkbookTarget
from sheets_sync.workbooks.of_config import open_config_workbook
from workbook_templates.settings_sheet import read_settings


@dataclass(frozen=True)
class Sent:
    """One message's fate at one destination in this run."""

    destination: str
    part: str
    day: dt.date
    status: str  # sent, failed, already sent
    attempts: int = 0
    error: str | None = None


@dataclass(frozen=True)
class DigestRun:
    """What a digest run composed and what became of it."""

    day: dt.date
    as_of: dt.date
    messages: tuple[Outgoing, ...]
    outcome: AlertsOutcome
    sent: tuple[Sent, ...] = field(default=())
    dry_run: bool = True


def local_now(settings: DigestSettings) -> dt.datetime:
    """The team's wall clock (naive), as the workbook and the sync see time."""
    return dt.datetime.now(tz=settings.timezone).replace(tzinfo=None, microsecond=0)


def morning_sync(config: SyncConfig, now: dt.datetime | None = None) -> SyncResult | None:
    """Sync Facts from `config`; a failure is logged as a failed load (and re-raised only as
    the returned None: the digest that follows reports it)."""
    now = now or dt.datetime.now().replace(microsecond=0)
    try:
        result = run_sync(config, now=now)
    except Exception as error:  # any failure becomes an alert, with its message
        message = " ".join(str(error).split())[:300] or type(error).__name__
        store_folder(config)
        with FactStore(config.store_location) as store:
            IncidentLog(store).record_sync_failure("sync", message, now)
        return None
    with FactStore(config.store_location) as store:
        IncidentLog(store).resolve_sync_failures(now)
    return result


def _messages_for(
    dest: Destination, messages: Sequence[Outgoing], outcome: AlertsOutcome, t: Texts
) -> list[Outgoing]:
    """The digest for one destination: the alerts message keeps only the incidents whose rule
    sends to it (a rule's `send to` blank: everyone)."""
    rules = {r.name: r for r in outcome.rules}
    mine = [
        i
        for i in outcome.due
        if i.rule not in rules or not rules[i.rule].send_to or dest.name in rules[i.rule].send_to
    ]
    out = [m for m in messages if m.key != "alerts"]
    text = alerts_text(t, outcome, mine)
    if text is not None:
        out.append(Outgoing("alerts", plain_text(text.splitlines()[0]), text))
    return out


def _deliver_all(
    log: IncidentLog,
    settings: DigestSettings,
    day: dt.date,
    messages: Sequence[Outgoing],
    outcome: AlertsOutcome,
    now: dt.datetime,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
) -> list[Sent]:
    t = Texts(settings.lang)
    sent: list[Sent] = []
    for dest in settings.destinations:
        for n, message in enumerate(_messages_for(dest, messages, outcome, t)):
            log.stage(day, dest.name, message.key, message.text, message.chart_png, now, n)
        pending = [r for r in log.pending() if r.destination == dest.name]
        done = [
            Sent(dest.name, r.part, r.day, "already sent")
            for r in (log.delivery(day, dest.name, m.key) for m in messages)
            if r is not None and r.status == "sent"
        ]
        sent += done
        if not pending:
            continue
        outgoing = [
            Outgoing(r.part, plain_text(r.text.splitlines()[0]), r.text, r.chart) for r in pending
        ]
        results = deliver(dest, outgoing, policy, sleep)
        for record, result in zip(pending, results, strict=True):
            log.record(record, result.ok, result.attempts, result.error, now)
            status = "sent" if result.ok else "failed"
            sent.append(
                Sent(dest.name, record.part, record.day, status, result.attempts, result.error)
            )
    return sent


def run_digest(
    config: SyncConfig,
    *,
    send: bool = False,
    now: dt.datetime | None = None,
    lang: str | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    wb: WorkbookTarget | None = None,
) -> DigestRun:
    """Check the alerts and compose the digest; with `send`, deliver it (see the module)."""
    settings = digest_settings(config, lang)
    now = now or local_now(settings)
    wb = wb or open_config_workbook(config)
    currency = settings.currency or read_settings(wb).currency or "RUB"
    store_folder(config)
    sent: list[Sent] = []
    with FactStore(config.store_location) as store:
        log = IncidentLog(store)
        with log.preview(active=not send):
            outcome = check_alerts(wb, now, log, write=send)
            chart = _chart(outcome, settings) if settings.chart else None
            messages = compose(outcome, settings.lang, currency, chart)
            if send:
                log.mark_notified([i.key for i in outcome.due], now)
                sent = _deliver_all(
                    log,
                    settings,
                    now.date(),
                    messages,
                    outcome,
                    now,
                    policy or RetryPolicy(),
                    sleep,
                )
    return DigestRun(
        day=now.date(),
        as_of=outcome.inputs.as_of,
        messages=tuple(messages),
        outcome=outcome,
        sent=tuple(sent),
        dry_run=not send,
    )


def _chart(outcome: AlertsOutcome, settings: DigestSettings) -> bytes | None:
    inputs = outcome.inputs
    first = [s.name for s in inputs.funnel.stages][1]
    items = volumes(inputs, (first,))
    if not items or inputs.daily.empty:
        return None
    from addin.digest.chart import plan_chart  # matplotlib: only when a chart is made

    t = Texts(settings.lang)
    title = t("volumes.caption", label_lower=t.metric(first), month=t.month(inputs.month))
    return plan_chart(inputs.daily, items[0], inputs.month, t, title)
