"""The whole morning on the demo month: sync → rules → digest → delivery, against the Telegram,
Slack and SMTP doubles on real ports; the texts' numbers worked out from the workbook itself."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from demo_cache import run_demo
from notify_doubles import SlackWebhookDouble, SmtpDouble, TelegramDouble
from notify_doubles.telegram import CHAT_ID, TOKEN

from addin.actions.base import ActionContext
from addin.cli.main import main
from addin.digest.delivery import RetryPolicy
from addin.digest.run import morning_sync, run_digest
from addin.digest.schedule import build_scheduler, load_schedule
from addin.digest.texts import CATALOGS
from addin.registry import ActionError, dispatch
from sheets_sync.incident_log import IncidentLog
from sheets_sync.store import FactStore
from sheets_sync.sync_config import load_config

pytestmark = pytest.mark.filterwarnings("ignore:Session.login_data is deprecated")

MORNING = dt.datetime(2026, 11, 18, 10, 0)
FAST = RetryPolicy(backoff=0.01, max_backoff=0.05, timeout=5.0)
NBSP = "\u00a0"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    run_demo(out)
    return out


@pytest.fixture
def demo(demo_dir: Path, tmp_path: Path) -> Path:
    """A fresh copy of the demo folder (its workbook, store and exports) for one test."""
    copy = tmp_path / "demo"
    shutil.copytree(demo_dir, copy)
    return copy / "sync.toml"


@pytest.fixture
def doubles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TelegramDouble, SlackWebhookDouble, SmtpDouble]]:
    with TelegramDouble() as tg, SlackWebhookDouble() as slack, SmtpDouble(tmp_path) as smtp:
        monkeypatch.setenv("FP_TG_TOKEN", TOKEN)
        monkeypatch.setenv("FP_SLACK_HOOK", slack.webhook_url)
        monkeypatch.setenv("FP_SMTP_PASSWORD", smtp.password)
        yield tg, slack, smtp


def with_destinations(config: Path, tg: TelegramDouble, smtp: SmtpDouble) -> Path:
    config.write_text(
        config.read_text(encoding="utf-8")
        + f"""
[[digest.telegram]]
name = "team chat"
chat_id = "{CHAT_ID}"
token_env = "FP_TG_TOKEN"
api_root = "{tg.url}"

[[digest.slack]]
name = "marketing"
webhook_env = "FP_SLACK_HOOK"

[[digest.email]]
name = "lead"
host = "{smtp.host}"
port = {smtp.port}
user = "{smtp.user}"
password_env = "FP_SMTP_PASSWORD"
from = "funnelplan <bot@example.com>"
to = ["lead@example.com"]
cafile = "{smtp.cert_path}"
""",
        encoding="utf-8",
    )
    return config


def ru(value: float) -> str:
    """A whole number the Russian way: 2 257 (a no-break space between thousands)."""
    return f"{round(value):,}".replace(",", NBSP)


def hand_worked(workbook: Path, metric: str) -> tuple[float, float]:
    """The as-of day's fact and the pace needed that day, from the workbook's cells:
    (plan − month to date before the day) / days left counting the day."""
    wb = openpyxl.load_workbook(workbook, data_only=True)
    plan_ws = wb["Plan"]
    headers = [c.value for c in plan_ws[4]]
    col = headers.index(f"{metric} p")
    plan = sum(
        float(row[col] or 0)
        for row in plan_ws.iter_rows(min_row=5, values_only=True)
        if row[0] not in (None, "Total")
    )
    daily = wb["Daily"]
    dheaders = [c.value for c in daily[1]]
    day, before = 0.0, 0.0
    for row in daily.iter_rows(min_row=2, values_only=True):
        if row[0] is None:
            break
        value = float(row[dheaders.index(metric)] or 0)
        if row[0].date() == dt.date(2026, 11, 17):
            day += value
        elif row[0].date() < dt.date(2026, 11, 17):
            before += value
    return day, (plan - before) / (30 - 16)


def test_dry_run_prints_both_messages_with_hand_worked_numbers(demo: Path) -> None:
    config = load_config(demo)
    run = run_digest(config, send=False, now=MORNING)
    keys = [m.key for m in run.messages]
    assert keys[:2] == ["volumes", "channels"]
    volumes = run.messages[0].text
    leads, leads_needed = hand_worked(config.workbook, "leads")
    calls, calls_needed = hand_worked(config.workbook, "calls")
    assert "Объёмы за 17.11.2026" in volumes
    assert f"Целевые лиды: {ru(leads)} при нужных {ru(leads_needed)} в день" in volumes
    assert f"Целевые звонки: {ru(calls)} при нужных {ru(calls_needed)} в день" in volumes
    verdict = "👍" if leads >= leads_needed else "🔦"
    assert volumes.splitlines()[1].endswith(verdict) or verdict in volumes.splitlines()[1]
    assert run.messages[0].chart_png is not None and run.messages[0].chart_png[:4] == b"\x89PNG"
    channels = run.messages[1].text
    assert "CPA и CPA2 против KPI" in channels and "Telegram Ads" in channels
    # a dry run records nothing: no delivery, and the incidents stay as the demo left them
    with FactStore(config.store) as store:
        log = IncidentLog(store)
        assert log.pending() == []
        assert all(i.notified_at is None for i in log.open_incidents())


def test_english_digest(demo: Path) -> None:
    run = run_digest(load_config(demo), send=False, now=MORNING, lang="en")
    assert run.messages[0].text.startswith("<b>Volumes for Nov 17, 2026</b>")
    assert "Target leads:" in run.messages[0].text


def test_send_delivers_once_a_day_to_every_destination(demo: Path, doubles) -> None:  # type: ignore[no-untyped-def]
    tg, slack, smtp = doubles
    config = load_config(with_destinations(demo, tg, smtp))
    run = run_digest(config, send=True, now=MORNING, policy=FAST)
    parts = [m.key for m in run.messages]
    assert parts == ["volumes", "channels", "alerts"]  # the demo's incidents are new
    assert {(s.destination, s.status) for s in run.sent} == {
        ("team chat", "sent"),
        ("marketing", "sent"),
        ("lead", "sent"),
    }
    photos = [r for r in tg.messages if r.method == "sendPhoto"]
    texts = [r.text for r in tg.messages if r.method == "sendMessage"]
    assert len(photos) == 1 and photos[0].photo[:4] == b"\x89PNG"  # type: ignore[index]
    assert [t.splitlines()[0] for t in texts if t] == [m.text.splitlines()[0] for m in run.messages]
    assert all(r.parse_mode == "HTML" for r in tg.messages if r.method == "sendMessage")
    assert len([r for r in slack.requests if r.status == 200]) == 3
    assert len(smtp.received) == 1
    mail = smtp.received[0].message
    assert "Объёмы за 17.11.2026" in mail["Subject"]
    assert any(smtp.auth_attempts) and smtp.auth_attempts[-1][2]

    # the same day again: nothing is sent twice
    before = (len(tg.requests), len(slack.requests), len(smtp.received))
    again = run_digest(config, send=True, now=MORNING + dt.timedelta(minutes=30), policy=FAST)
    assert (len(tg.requests), len(slack.requests), len(smtp.received)) == before
    assert {s.status for s in again.sent} == {"already sent"}


def test_a_429_is_waited_out_and_the_next_day_repeats_no_old_alert(demo: Path, doubles) -> None:  # type: ignore[no-untyped-def]
    tg, _slack, smtp = doubles
    config = load_config(with_destinations(demo, tg, smtp))
    run_digest(config, send=True, now=MORNING, policy=FAST)
    tg.fail_next(429, retry_after=1)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    started = len(tg.requests)
    next_day = run_digest(
        config, send=True, now=MORNING + dt.timedelta(days=1), policy=FAST, sleep=sleep
    )
    assert waits == [1]
    assert [m.key for m in next_day.messages] == ["volumes", "channels"]  # no alert is new
    statuses = {(s.destination, s.part): s.status for s in next_day.sent}
    assert statuses[("team chat", "volumes")] == "sent"
    assert statuses[("team chat", "channels")] == "sent"
    new = tg.requests[started:]
    assert [r.status for r in new][:2] == [429, 200]  # the photo: refused, then sent after 1 s
    assert new[1].time - new[0].time >= 0.95


def test_a_failed_delivery_is_recorded_and_retried_on_the_next_run(demo: Path, doubles) -> None:  # type: ignore[no-untyped-def]
    tg, _slack, smtp = doubles
    config = load_config(with_destinations(demo, tg, smtp))
    tg.fail_next(500, times=FAST.attempts)
    first = run_digest(config, send=True, now=MORNING, policy=FAST)
    failed = {(s.destination, s.part) for s in first.sent if s.status == "failed"}
    assert ("team chat", "volumes") in failed and ("team chat", "alerts") in failed
    with FactStore(config.store) as store:
        pending = IncidentLog(store).pending()
    assert {r.part for r in pending if r.destination == "team chat"} == {
        "volumes",
        "channels",
        "alerts",
    }
    assert all(r.status == "failed" and r.error for r in pending)
    # the next run (an hour later) sends what failed, with the text composed at 10:00
    retry = run_digest(config, send=True, now=MORNING + dt.timedelta(hours=1), policy=FAST)
    sent = {(s.destination, s.part): s.status for s in retry.sent}
    assert sent[("team chat", "alerts")] == "sent"
    alerts = [r for r in tg.messages if r.text and r.text.startswith("<b>Алерты")]
    assert len(alerts) == 1
    with FactStore(config.store) as store:
        assert IncidentLog(store).pending() == []


def test_a_failed_sync_becomes_an_alert_in_the_digest(demo: Path) -> None:
    config = load_config(demo)
    broken = demo.read_text(encoding="utf-8").replace(
        'path = "exports/crm_leads_*.csv"', 'path = "exports/missing_crm.csv"'
    )
    assert broken != demo.read_text(encoding="utf-8")
    demo.write_text(broken, encoding="utf-8")
    config = load_config(demo)
    assert morning_sync(config, now=MORNING - dt.timedelta(minutes=30)) is None
    run = run_digest(config, send=False, now=MORNING)
    alerts = run.messages[-1]
    assert alerts.key == "alerts"
    assert "Сбой загрузки" in alerts.text and "missing_crm.csv" in alerts.text
    # the next good sync resolves it
    demo.write_text(broken.replace("exports/missing_crm.csv", "exports/crm_leads_*.csv"), "utf-8")
    assert morning_sync(load_config(demo), now=MORNING) is not None
    with FactStore(config.store) as store:
        assert IncidentLog(store).failed_loads() == ()


def test_alerts_button_lists_incidents_and_a_bad_rule_leaves_the_workbook_as_it_was(
    demo: Path,
) -> None:
    book = load_config(demo).workbook
    message = dispatch("check_alerts", ActionContext.of_file(book, now=MORNING))
    assert "firing" in message
    ws = openpyxl.load_workbook(book)["Alerts"]
    statuses = [ws.cell(row=r, column=14).value for r in range(5, 40)]
    assert "open" in statuses
    wb = openpyxl.load_workbook(book)
    wb["Alerts"]["E7"] = "region"
    wb.save(book)
    before = book.read_bytes()
    with pytest.raises(ActionError, match=r"Alerts!E7.*region"):
        dispatch("check_alerts", ActionContext.of_file(book, now=MORNING))
    assert book.read_bytes() == before


def test_digest_cli_dry_run(demo: Path) -> None:
    result = CliRunner().invoke(
        main, ["digest", str(demo), "--dry-run", "--now", "2026-11-18T10:00"]
    )
    assert result.exit_code == 0, result.output
    assert "Объёмы за 17.11.2026" in result.output
    assert "Каналы за 17.11.2026" in result.output
    assert "Dry run: nothing sent" in result.output


def test_schedule_runs_the_same_functions_at_the_teams_time(tmp_path: Path, demo: Path) -> None:
    schedule = tmp_path / "schedule.toml"
    schedule.write_text(
        f'timezone = "Asia/Yekaterinburg"\n[[job]]\nconfig = "{demo}"\nsync = "09:30"\n'
        'digest = "10:00"\n',
        encoding="utf-8",
    )
    jobs = load_schedule(schedule)
    calls: list[tuple[str, Path]] = []
    scheduler = build_scheduler(
        jobs,
        sync=lambda path: calls.append(("sync", path)),
        digest=lambda path: calls.append(("digest", path)),
    )
    by_id = {job.id.split(":")[0]: job for job in scheduler.get_jobs()}
    now = dt.datetime(2026, 11, 18, 3, 0, tzinfo=dt.UTC)  # 08:00 in Yekaterinburg (UTC+5)
    sync_at = by_id["sync"].trigger.get_next_fire_time(None, now)
    digest_at = by_id["digest"].trigger.get_next_fire_time(None, now)
    assert sync_at.astimezone(dt.UTC) == dt.datetime(2026, 11, 18, 4, 30, tzinfo=dt.UTC)
    assert digest_at.astimezone(dt.UTC) == dt.datetime(2026, 11, 18, 5, 0, tzinfo=dt.UTC)
    for job in by_id.values():
        job.func(*job.args)
    assert calls == [("sync", demo.resolve()), ("digest", demo.resolve())] or calls == [
        ("digest", demo.resolve()),
        ("sync", demo.resolve()),
    ]


def test_a_bad_schedule_is_refused_with_its_place(tmp_path: Path, demo: Path) -> None:
    schedule = tmp_path / "schedule.toml"
    schedule.write_text(f'[[job]]\nconfig = "{demo}"\nsync = "9h30"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[\[job\]\] #1 sync"):
        load_schedule(schedule)


def test_every_language_has_every_text() -> None:
    keys = {lang: set(catalog) for lang, catalog in CATALOGS.items()}
    assert keys["ru"] == keys["en"]


def test_the_whole_morning_from_the_command_line(demo: Path, doubles) -> None:  # type: ignore[no-untyped-def]
    """sync → rules → digest → delivery, as cron or the schedule runs it."""
    tg, slack, smtp = doubles
    with_destinations(demo, tg, smtp)
    runner = CliRunner()
    sync = runner.invoke(
        main, ["morning", str(demo), "--only", "sync", "--now", "2026-11-18T09:30"]
    )
    assert sync.exit_code == 0, sync.output
    assert "Sync: as of 2026-11-17" in sync.output
    digest = runner.invoke(
        main, ["morning", str(demo), "--only", "digest", "--now", "2026-11-18T10:00"]
    )
    assert digest.exit_code == 0, digest.output
    assert "team chat · volumes: sent" in digest.output
    assert "lead · alerts: sent" in digest.output
    first = next(r.text for r in tg.messages if r.method == "sendMessage")
    assert first.startswith("<b>Объёмы за 17.11.2026</b>")
    assert len(smtp.received) == 1 and len([r for r in slack.requests if r.status == 200]) == 3
    again = runner.invoke(main, ["digest", str(demo), "--send", "--now", "2026-11-18T10:05"])
    assert again.exit_code == 0 and "already sent" in again.output
