"""Delivering the digest over real sockets: the Telegram, Slack and SMTP doubles."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from notify_doubles import SlackWebhookDouble, SmtpDouble, TelegramDouble
from notify_doubles.smtp import free_port
from notify_doubles.telegram import CHAT_ID, TOKEN, parse_html, utf16_len

from addin.digest.delivery import (
    NOT_SENT,
    Delivery,
    Outgoing,
    RetryPolicy,
    deliver,
)
from addin.digest.destinations import (
    EmailDestination,
    Secret,
    SlackDestination,
    TelegramDestination,
)
from addin.digest.markup import plain_text, slack_mrkdwn, split_telegram_text

# aiosmtpd itself sets the deprecated Session.login_data after a successful AUTH.
pytestmark = pytest.mark.filterwarnings("ignore:Session.login_data is deprecated")

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
FAST = RetryPolicy(backoff=0.01, max_backoff=0.05, timeout=5.0)
VOLUMES = Outgoing(
    "volumes", "Объёмы на 10:00", "<b>Лиды</b>: 120 из 150 &lt;80%&gt; &amp; растут", PNG
)
ALERTS = Outgoing("alerts", "Алерты", "<i>Яндекс Директ</i>: CPL выше плана на 25%")


class Sleeps:
    """An injected `sleep` that records each wait (and really waits when `real`)."""

    def __init__(self, real: bool = False) -> None:
        self.real = real
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.real:
            time.sleep(seconds)


@pytest.fixture
def telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[TelegramDouble]:
    monkeypatch.setenv("FUNNELPLAN_TEST_TELEGRAM_TOKEN", TOKEN)
    with TelegramDouble() as double:
        yield double


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackWebhookDouble]:
    with SlackWebhookDouble() as double:
        monkeypatch.setenv("FUNNELPLAN_TEST_SLACK_WEBHOOK", double.webhook_url)
        yield double


@pytest.fixture
def smtp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpDouble]:
    with SmtpDouble(tmp_path) as double:
        monkeypatch.setenv("FUNNELPLAN_TEST_SMTP_PASSWORD", double.password)
        yield double


def to_telegram(double: TelegramDouble, chat_id: str = CHAT_ID) -> TelegramDestination:
    token = Secret(env="FUNNELPLAN_TEST_TELEGRAM_TOKEN")
    return TelegramDestination("team chat", chat_id, token, api_root=double.url)


def to_slack() -> SlackDestination:
    return SlackDestination("marketing", Secret(env="FUNNELPLAN_TEST_SLACK_WEBHOOK"))


def to_email(double: SmtpDouble, **changes: object) -> EmailDestination:
    fields: dict = {
        "name": "lead",
        "host": double.host,
        "port": double.port,
        "sender": "funnelplan <bot@example.com>",
        "to": ("lead@example.com", "analyst@example.com"),
        "user": double.user,
        "password": Secret(env="FUNNELPLAN_TEST_SMTP_PASSWORD"),
        "cafile": double.cert_path,
    }
    fields.update(changes)
    return EmailDestination(**fields)


def delivered(name: str, attempts: int = 1) -> Delivery:
    return Delivery(name, True, attempts, 0.0, None)


# -- Telegram ------------------------------------------------------------------------------


def test_telegram_sends_the_chart_then_the_html_text(telegram: TelegramDouble) -> None:
    result = deliver(to_telegram(telegram), [VOLUMES, ALERTS], FAST)

    assert result == [delivered("team chat"), delivered("team chat")]
    photo, volumes, alerts = telegram.requests
    assert (photo.method, photo.chat_id, photo.photo, photo.photo_filename) == (
        "sendPhoto",
        CHAT_ID,
        PNG,
        "chart.png",
    )
    assert photo.caption == VOLUMES.subject
    assert (volumes.method, volumes.chat_id, volumes.parse_mode) == ("sendMessage", CHAT_ID, "HTML")
    assert volumes.text == VOLUMES.text and volumes.disable_web_page_preview is True
    assert alerts.text == ALERTS.text and alerts.photo is None
    assert all(r.status == 200 for r in telegram.requests)


def test_telegram_429_waits_exactly_retry_after_then_delivers(telegram: TelegramDouble) -> None:
    telegram.fail_next(429, retry_after=1)
    sleeps = Sleeps(real=True)

    [result] = deliver(to_telegram(telegram), [ALERTS], FAST, sleep=sleeps)

    assert result.ok and result.attempts == 2
    assert sleeps.calls == [1.0] and result.waited_seconds == pytest.approx(1.0)
    first, second = telegram.requests
    assert first.status == 429 and second.status == 200 and second.text == ALERTS.text
    assert second.time - first.time == pytest.approx(1.0, abs=0.3)


def test_telegram_5xx_is_retried_with_backoff(telegram: TelegramDouble) -> None:
    telegram.fail_next(502)
    sleeps = Sleeps()

    [result] = deliver(to_telegram(telegram), [ALERTS], FAST, sleep=sleeps)

    assert result == Delivery("team chat", True, 2, 0.01, None)
    assert sleeps.calls == [0.01]
    assert [r.status for r in telegram.requests] == [502, 200]


def test_telegram_timeout_is_retried(telegram: TelegramDouble) -> None:
    telegram.delay_next(2.0)
    policy = RetryPolicy(backoff=0.01, timeout=0.5)
    started = time.monotonic()

    [result] = deliver(to_telegram(telegram), [ALERTS], policy)

    assert result.ok and result.attempts == 2
    assert time.monotonic() - started < 1.8  # gave up on the slow answer
    assert len(telegram.requests) == 2


def test_telegram_403_fails_at_once_and_the_rest_is_not_sent(telegram: TelegramDouble) -> None:
    telegram.fail_next(403)
    sleeps = Sleeps()

    failed, skipped = deliver(to_telegram(telegram), [ALERTS, VOLUMES], FAST, sleep=sleeps)

    assert not failed.ok and failed.attempts == 1 and sleeps.calls == []
    assert failed.error == (
        "Telegram sendMessage: Forbidden: bot was blocked by the user (HTTP 403)"
    )
    assert skipped == Delivery("team chat", False, 0, 0.0, NOT_SENT)
    assert len(telegram.requests) == 1


def test_an_unknown_chat_fails_with_telegrams_description(telegram: TelegramDouble) -> None:
    [result] = deliver(to_telegram(telegram, chat_id="-100999"), [ALERTS], FAST)
    assert not result.ok and result.attempts == 1
    assert result.error is not None and "Bad Request: chat not found" in result.error


def test_retry_after_over_the_maximum_fails_without_waiting(telegram: TelegramDouble) -> None:
    telegram.fail_next(429, retry_after=300)
    sleeps = Sleeps()
    policy = RetryPolicy(max_retry_after=120, backoff=0.01)

    [result] = deliver(to_telegram(telegram), [ALERTS], policy, sleep=sleeps)

    assert not result.ok and result.attempts == 1 and result.waited_seconds == 0
    assert sleeps.calls == [] and len(telegram.requests) == 1
    assert result.error is not None
    assert "retry after 300 s, more than 120 s; not waited" in result.error


def test_repeated_5xx_exhausts_the_attempts(telegram: TelegramDouble) -> None:
    telegram.fail_next(500, times=10)
    sleeps = Sleeps()

    [result] = deliver(to_telegram(telegram), [ALERTS], FAST, sleep=sleeps)

    assert not result.ok and result.attempts == FAST.attempts == 4
    assert sleeps.calls == [0.01, 0.02, 0.04]
    assert result.waited_seconds == pytest.approx(0.07)
    assert len(telegram.requests) == 4
    assert result.error == (
        "Telegram sendMessage: Internal Server Error (HTTP 500) (gave up after 4 attempts)"
    )


def test_a_wrong_token_is_refused_without_showing_it(
    telegram: TelegramDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "987654321:WRONG-token-value"
    monkeypatch.setenv("FUNNELPLAN_TEST_TELEGRAM_TOKEN", wrong)
    destination = to_telegram(telegram)

    [result] = deliver(destination, [ALERTS], FAST)

    assert result.error == "Telegram sendMessage: Unauthorized (HTTP 401)"
    assert wrong not in repr(destination) and "WRONG" not in repr(result)


def test_a_connection_error_does_not_show_the_url_holding_the_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FUNNELPLAN_TEST_TELEGRAM_TOKEN", TOKEN)
    token = Secret(env="FUNNELPLAN_TEST_TELEGRAM_TOKEN")
    closed = TelegramDestination("t", CHAT_ID, token, api_root=f"http://127.0.0.1:{free_port()}")
    policy = RetryPolicy(attempts=2, backoff=0.01, timeout=1)

    [result] = deliver(closed, [ALERTS], policy)

    assert not result.ok and result.attempts == 2
    assert result.error is not None and "cannot connect" in result.error
    assert TOKEN not in result.error and "/bot" not in result.error


def test_a_missing_token_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FUNNELPLAN_NO_SUCH_TOKEN", raising=False)
    destination = TelegramDestination("t", CHAT_ID, Secret(env="FUNNELPLAN_NO_SUCH_TOKEN"))

    first, second = deliver(destination, [ALERTS, VOLUMES], FAST)

    assert first == Delivery(
        "t",
        False,
        0,
        0.0,
        "Telegram bot token: environment variable FUNNELPLAN_NO_SUCH_TOKEN is not set or empty",
    )
    assert second.error == NOT_SENT


def test_a_long_text_is_split_at_line_ends(telegram: TelegramDouble) -> None:
    lines = [f"<b>Кампания {n}</b>: расход 12&#160;345 ₽, лиды {n} 📈" for n in range(200)]
    text = "\n".join(lines)
    assert utf16_len(parse_html(text)) > 2 * 4096

    [result] = deliver(to_telegram(telegram), [Outgoing("campaigns", "Кампании", text)], FAST)

    assert result.ok, result.error
    sent = [r.text or "" for r in telegram.requests]
    assert len(sent) == 3 and all(r.status == 200 for r in telegram.requests)
    assert "\n".join(sent) == text  # whole lines in each, in order


def test_a_long_line_is_cut_with_its_tags_closed_and_reopened(telegram: TelegramDouble) -> None:
    text = "<b>" + "слово " * 1500 + "</b>"

    [result] = deliver(to_telegram(telegram), [Outgoing("k", "s", text)], FAST)

    assert result.ok, result.error
    sent = [r.text or "" for r in telegram.requests]
    assert len(sent) == 3
    assert all(s.startswith("<b>") and s.endswith("</b>") for s in sent)
    assert " ".join(parse_html(s) for s in sent).split() == ["слово"] * 1500


def test_html_telegram_would_not_parse_is_caught(telegram: TelegramDouble) -> None:
    [result] = deliver(to_telegram(telegram), [Outgoing("k", "s", "a<br>b")], FAST)
    assert result.error == (
        "Telegram sendMessage: Bad Request: can't parse entities: "
        'Unsupported start tag "br" at byte offset 1 (HTTP 400)'
    )


def test_split_keeps_short_texts_and_never_cuts_an_entity() -> None:
    assert split_telegram_text("<b>short</b>") == ["<b>short</b>"]
    pieces = split_telegram_text("&amp;" * 10, limit=4)
    assert pieces == ["&amp;" * 4, "&amp;" * 4, "&amp;" * 2]
    assert split_telegram_text("ab\ncd ef", limit=5) == ["ab", "cd ef"]
    assert split_telegram_text("<i>ab cd</i>", limit=3) == ["<i>ab</i>", "<i>cd</i>"]


# -- Slack ---------------------------------------------------------------------------------


def test_slack_gets_mrkdwn_and_no_chart(slack: SlackWebhookDouble) -> None:
    result = deliver(to_slack(), [VOLUMES, ALERTS], FAST)

    assert result == [delivered("marketing"), delivered("marketing")]
    assert slack.texts == [
        "*Лиды*: 120 из 150 &lt;80%&gt; &amp; растут",
        "_Яндекс Директ_: CPL выше плана на 25%",
    ]


def test_mrkdwn_and_plain_text_conversions() -> None:
    text = "<b>A&amp;B</b> &quot;q&quot; <i>x</i> <code>c</code> <u>u</u>"
    assert slack_mrkdwn(text) == '*A&amp;B* "q" _x_ `c` u'
    assert plain_text(text) == 'A&B "q" x c u'


def test_slack_429_waits_retry_after(slack: SlackWebhookDouble) -> None:
    slack.fail_next(429, retry_after=1)
    sleeps = Sleeps()

    [result] = deliver(to_slack(), [ALERTS], FAST, sleep=sleeps)

    assert result.ok and result.attempts == 2 and result.waited_seconds == 1.0
    assert sleeps.calls == [1.0]
    assert [r.status for r in slack.requests] == [429, 200]


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, "invalid_payload"),
        (403, "invalid_token"),
        (404, "no_service"),
        (410, "channel_is_archived"),
    ],
)
def test_slack_refusals_fail_at_once(slack: SlackWebhookDouble, status: int, body: str) -> None:
    slack.fail_next(status)

    [result] = deliver(to_slack(), [ALERTS], FAST)

    assert result == Delivery("marketing", False, 1, 0.0, f"Slack webhook: {body} (HTTP {status})")


def test_the_webhook_url_never_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{free_port()}/services/T000/B000/SECRETPART"
    monkeypatch.setenv("FUNNELPLAN_TEST_SLACK_WEBHOOK", url)

    [result] = deliver(to_slack(), [ALERTS], RetryPolicy(attempts=1, timeout=1))

    assert result.error == "Slack webhook: cannot connect (gave up after 1 attempt)"


# -- e-mail --------------------------------------------------------------------------------


def test_email_is_one_mail_with_plain_html_and_the_chart(smtp: SmtpDouble) -> None:
    result = deliver(to_email(smtp), [VOLUMES, ALERTS], FAST)

    assert result == [delivered("lead"), delivered("lead")]
    [mail] = smtp.received
    assert mail.tls and mail.login == smtp.user
    assert smtp.auth_attempts and all(ok for *_, ok in smtp.auth_attempts)
    assert mail.rcpt_tos == ["lead@example.com", "analyst@example.com"]
    message = mail.message
    assert message["Subject"] == VOLUMES.subject
    assert message["From"] == "funnelplan <bot@example.com>"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n") == (
        "Лиды: 120 из 150 <80%> & растут\n\nЯндекс Директ: CPL выше плана на 25%\n"
    )
    html_text = html.get_content()
    assert VOLUMES.text in html_text and ALERTS.text in html_text
    [chart] = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert chart.get_filename() == "chart.png" and chart.get_content() == PNG
    assert f'src="cid:{chart["Content-ID"].strip("<>")}"' in html_text


def test_a_transient_smtp_reply_is_retried(smtp: SmtpDouble) -> None:
    smtp.fail_next("451 4.3.0 Try again later")

    [result] = deliver(to_email(smtp), [ALERTS], FAST)

    assert result.ok and result.attempts == 2 and len(smtp.received) == 1


def test_a_permanent_smtp_reply_fails_at_once(smtp: SmtpDouble) -> None:
    smtp.fail_next("554 5.6.0 Message refused")

    [result] = deliver(to_email(smtp), [ALERTS], FAST)

    assert not result.ok and result.attempts == 1
    assert result.error == f"SMTP 127.0.0.1:{smtp.port}: 554 5.6.0 Message refused"


def test_a_wrong_smtp_password_fails_clearly(
    smtp: SmtpDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FUNNELPLAN_TEST_SMTP_PASSWORD", "not-the-Password-42")

    first, second = deliver(to_email(smtp), [VOLUMES, ALERTS], FAST)

    assert not first.ok and first.attempts == 1 and first == second
    assert first.error == (
        f"SMTP 127.0.0.1:{smtp.port}: login as bot@example.com refused: "
        "535 5.7.8 Authentication credentials invalid"
    )
    assert smtp.received == []


def test_no_starttls_against_a_server_requiring_it_fails_clearly(smtp: SmtpDouble) -> None:
    [with_login] = deliver(to_email(smtp, starttls=False), [ALERTS], FAST)
    assert with_login.error == (
        f"SMTP 127.0.0.1:{smtp.port}: SMTP AUTH extension not supported by server. "
        "(does the server require STARTTLS? starttls = true)"
    )
    [without_login] = deliver(to_email(smtp, starttls=False, user=None, password=None), [ALERTS])
    assert without_login.error == (
        f"SMTP 127.0.0.1:{smtp.port}: 530 Must issue a STARTTLS command first"
    )
    assert with_login.attempts == without_login.attempts == 1 and smtp.received == []


def test_an_untrusted_certificate_fails_clearly(smtp: SmtpDouble) -> None:
    [result] = deliver(to_email(smtp, cafile=None), [ALERTS], FAST)
    assert result.error == (
        f"SMTP 127.0.0.1:{smtp.port}: TLS certificate not trusted (self-signed certificate); "
        "give the CA as cafile"
    )


def test_a_missing_password_file_is_named(smtp: SmtpDouble, tmp_path: Path) -> None:
    missing = tmp_path / "smtp.password"

    [result] = deliver(to_email(smtp, password=Secret(file=missing)), [ALERTS], FAST)

    assert not result.ok and result.attempts == 0
    assert result.error == (
        f"SMTP password: cannot read secret file {missing}: No such file or directory"
    )
