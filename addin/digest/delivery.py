"""Sending the digest's messages to its destinations: Telegram, a Slack webhook, e-mail.

`deliver(destination, messages)` returns one `Delivery` per message, in order, and never
raises on network, HTTP or SMTP trouble: a failure is ``ok=False`` with a one-line `error`
(at most 300 characters, never a secret: the token, the webhook URL, the Telegram URL that
holds the token, the password). After a message fails, the rest to that destination are
not sent (their error says so). A secret that cannot be read (unset variable, unreadable
file) fails every message with ``attempts=0``.

* Telegram (Bot API): ``sendMessage`` with ``parse_mode=HTML`` (the text's ``<b>``, ``<i>``
  and entities go as they are); a chart first goes by ``sendPhoto`` (``chart.png``, the
  subject as caption, cut to 1024 characters). A text over 4096 characters (as Telegram
  counts them: after the tags, in UTF-16 units) is split at line ends (else at spaces, else
  anywhere but inside a tag or an entity), tags left open at a cut closed and reopened
  (`addin.digest.markup`, with the conversions below).
* Slack (incoming webhook): ``{"text": ...}``, the HTML turned into mrkdwn (``*bold*``,
  ``_italic_``, ``&``/``<``/``>`` escaped). Charts are not sent: a webhook cannot upload files.
  In both, a message whose text shows nothing is sent as its subject.
* E-mail: all messages in one mail (the first message's subject, the texts joined by a blank
  line) as multipart/alternative: plain text (tags stripped) and HTML, the charts inline
  images of the HTML part (``chart.png``; ``chart-1.png``, ... when there are several). The
  same `Delivery` is returned for every message. STARTTLS (verified: the system CAs plus the
  destination's ``cafile``) then LOGIN when a user is set. Recipients refused while others
  got the mail: ``ok=True`` with `error` naming them (retrying would mail the others again).

Retries (`RetryPolicy`) are per request (each Telegram call, the webhook call, the whole SMTP
session) with tenacity (it fits: a `Retrying` per request, its statistics give the tries and
the time slept, its `sleep` is the injected one). A custom wait honours a 429's
``retry_after`` (Telegram's ``parameters.retry_after``, Slack's ``Retry-After`` header)
exactly, else waits ``backoff * 2**(n-1)`` seconds (at most `max_backoff`) after 5xx,
timeouts and dropped connections (SMTP: 4xx replies, disconnects, timeouts). A 429 asking for
more than `max_retry_after` seconds fails at once (the next run retries); other 4xx (SMTP:
5xx) fail at once. `Delivery.attempts` is the most tries any one request of the message took (1 when
everything went through first time); `waited_seconds` the total time slept. A request that
timed out may have reached the server: retrying it can post a message twice, which beats
losing it.
"""

from __future__ import annotations

import dataclasses
import html
import smtplib
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from addin.digest.destinations import (
    Destination,
    EmailDestination,
    SecretError,
    SlackDestination,
    TelegramDestination,
)
from addin.digest.markup import plain_text, slack_mrkdwn, split_telegram_text

__all__ = [
    "CAPTION_LIMIT",
    "ERROR_LIMIT",
    "NOT_SENT",
    "Delivery",
    "Outgoing",
    "RetryPolicy",
    "deliver",
    "email_message",
]

CAPTION_LIMIT = 1024
ERROR_LIMIT = 300
NOT_SENT = "not sent: an earlier message to this destination failed"


@dataclass(frozen=True)
class Outgoing:
    """One message of the digest. `text` is Telegram HTML: ``<b>``, ``<i>``, and ``&lt;``,
    ``&gt;``, ``&amp;`` for those characters outside tags."""

    key: str
    subject: str
    text: str
    chart_png: bytes | None = None


@dataclass(frozen=True)
class Delivery:
    """What became of one message at one destination."""

    destination: str
    ok: bool
    attempts: int
    waited_seconds: float
    error: str | None


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    backoff: float = 1.0
    max_backoff: float = 30.0
    max_retry_after: float = 120.0
    timeout: float = 15.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be at least 1")
        if min(self.backoff, self.max_backoff, self.max_retry_after) < 0 or self.timeout <= 0:
            raise ValueError("RetryPolicy: waits must be >= 0 and the timeout > 0")


# -- the retry loop ------------------------------------------------------------------------


class _Transient(Exception):
    """Worth another try (after `retry_after` seconds when the server said so)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _Permanent(Exception):
    """Not worth another try; the message is the delivery's error."""


@dataclass
class _Tally:
    attempts: int = 0
    waited: float = 0.0


def _worth_retrying(policy: RetryPolicy, exc: BaseException) -> bool:
    if not isinstance(exc, _Transient):
        return False
    return exc.retry_after is None or exc.retry_after <= policy.max_retry_after


def _wait(policy: RetryPolicy, state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome is not None else None
    if isinstance(exc, _Transient) and exc.retry_after is not None:
        return exc.retry_after
    return min(policy.backoff * 2 ** (state.attempt_number - 1), policy.max_backoff)


def _with_retries(
    step: Callable[[], None], policy: RetryPolicy, sleep: Callable[[float], None], tally: _Tally
) -> None:
    """Run `step` under `policy`, adding its tries and waits to `tally`; `_Permanent` when it
    finally fails."""
    retrying = Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=partial(_wait, policy),
        retry=retry_if_exception(partial(_worth_retrying, policy)),
        sleep=sleep,
        reraise=True,
    )
    try:
        retrying(step)
    except _Transient as exc:
        tries = retrying.statistics.get("attempt_number", 1)
        if exc.retry_after is not None and exc.retry_after > policy.max_retry_after:
            raise _Permanent(
                f"{exc}: asked to retry after {exc.retry_after:g} s, more than "
                f"{policy.max_retry_after:g} s; not waited (the next run retries)"
            ) from None
        raise _Permanent(f"{exc} (gave up after {tries} attempt{'s' * (tries != 1)})") from None
    finally:
        stats = retrying.statistics
        tally.attempts = max(tally.attempts, int(stats.get("attempt_number", 1)))
        tally.waited += float(stats.get("idle_for", 0.0))


def _one_line(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = " ".join(text.split())
    return text if len(text) <= ERROR_LIMIT else text[: ERROR_LIMIT - 1] + "…"


def _send_each(
    name: str,
    messages: Sequence[Outgoing],
    steps: Callable[[Outgoing], Iterator[Callable[[], None]]],
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    secrets: Sequence[str],
) -> list[Delivery]:
    """Each message's steps (requests) in turn, retried; after a failure the rest are not sent."""
    out: list[Delivery] = []
    failed = False
    for message in messages:
        if failed:
            out.append(Delivery(name, False, 0, 0.0, NOT_SENT))
            continue
        tally = _Tally()
        try:
            for step in steps(message):
                _with_retries(step, policy, sleep, tally)
        except _Permanent as exc:
            failed = True
            error = _one_line(str(exc), secrets)
            out.append(Delivery(name, False, tally.attempts, tally.waited, error))
        else:
            out.append(Delivery(name, True, tally.attempts, tally.waited, None))
    return out


def _all_failed(name: str, messages: Sequence[Outgoing], error: str) -> list[Delivery]:
    first = _one_line(error, ())
    return [
        Delivery(name, False, 0, 0.0, first if i == 0 else NOT_SENT) for i in range(len(messages))
    ]


def _seconds(value: Any) -> float | None:
    """A retry-after value (number or header text) as seconds; None when absent or odd."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None


def _http_post(
    session: requests.Session, url: str, what: str, timeout: float, **kwargs: Any
) -> requests.Response:
    """POST, with transport errors as `_Transient` / `_Permanent` naming `what`, never `url`."""
    try:
        return session.post(url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.Timeout:
        raise _Transient(f"{what}: no answer within {timeout:g} s") from None
    except requests.ConnectionError:
        raise _Transient(f"{what}: cannot connect") from None
    except requests.RequestException as exc:
        raise _Permanent(f"{what}: request failed ({type(exc).__name__})") from None


# -- the text ----------------------------------------------------------------------------


def _html_body(message: Outgoing) -> str:
    """The message's HTML text; the subject (escaped) when the text shows nothing."""
    if plain_text(message.text).strip():
        return message.text
    return html.escape(message.subject, quote=False)


# -- Telegram ------------------------------------------------------------------------------


def _telegram_answer(method: str, response: requests.Response) -> None:
    """Success, or the Bot API's error as `_Transient` (429, 5xx) / `_Permanent`."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    if status == 200 and body.get("ok") is True:
        return
    description = str(body.get("description") or "no description")
    what = f"Telegram {method}: {description} (HTTP {status})"
    if status == 429:
        parameters = body.get("parameters")
        retry_after = (
            _seconds(parameters.get("retry_after")) if isinstance(parameters, dict) else None
        )
        if retry_after is None:
            retry_after = _seconds(response.headers.get("Retry-After"))
        raise _Transient(what, retry_after)
    if status >= 500 or status == 408:
        raise _Transient(what)
    raise _Permanent(what)


def _telegram(
    dest: TelegramDestination,
    messages: Sequence[Outgoing],
    policy: RetryPolicy,
    sleep: Callable[[float], None],
) -> list[Delivery]:
    try:
        token = dest.token.resolve()
    except SecretError as exc:
        return _all_failed(dest.name, messages, f"Telegram bot token: {exc}")
    base = f"{dest.api_root}/bot{token}/"
    host = urlsplit(dest.api_root).hostname or "Telegram"

    with requests.Session() as session:

        def call(method: str, **kwargs: Any) -> None:
            what = f"Telegram {method} ({host})"
            response = _http_post(session, base + method, what, policy.timeout, **kwargs)
            _telegram_answer(method, response)

        def steps(message: Outgoing) -> Iterator[Callable[[], None]]:
            if message.chart_png is not None:
                caption = message.subject
                if len(caption) > CAPTION_LIMIT:
                    caption = caption[: CAPTION_LIMIT - 1] + "…"
                yield partial(
                    call,
                    "sendPhoto",
                    data={"chat_id": dest.chat_id, "caption": caption},
                    files={"photo": ("chart.png", message.chart_png, "image/png")},
                )
            for chunk in split_telegram_text(_html_body(message)):
                payload = {
                    "chat_id": dest.chat_id,
                    "text": chunk,
                    "parse_mode": "HTML",
                    "disable_web_page_preview": True,
                }
                yield partial(call, "sendMessage", json=payload)

        return _send_each(dest.name, messages, steps, policy, sleep, (token,))


# -- Slack ---------------------------------------------------------------------------------


def _slack_answer(response: requests.Response) -> None:
    status = response.status_code
    body = " ".join(response.text.split())[:120]
    if status == 200 and body == "ok":
        return
    what = f"Slack webhook: {body or 'no body'} (HTTP {status})"
    if status == 429:
        raise _Transient(what, _seconds(response.headers.get("Retry-After")))
    if status >= 500 or status == 408:
        raise _Transient(what)
    raise _Permanent(what)


def _slack(
    dest: SlackDestination,
    messages: Sequence[Outgoing],
    policy: RetryPolicy,
    sleep: Callable[[float], None],
) -> list[Delivery]:
    try:
        url = dest.webhook.resolve()
    except SecretError as exc:
        return _all_failed(dest.name, messages, f"Slack webhook URL: {exc}")
    if not url.startswith(("https://", "http://")):
        return _all_failed(
            dest.name,
            messages,
            f"Slack webhook URL from {dest.webhook.where} does not start with https://",
        )

    with requests.Session() as session:

        def post(text: str) -> None:
            response = _http_post(
                session, url, "Slack webhook", policy.timeout, json={"text": text}
            )
            _slack_answer(response)

        def steps(message: Outgoing) -> Iterator[Callable[[], None]]:
            yield partial(post, slack_mrkdwn(_html_body(message)))

        return _send_each(dest.name, messages, steps, policy, sleep, (url,))


# -- e-mail --------------------------------------------------------------------------------


def email_message(dest: EmailDestination, messages: Sequence[Outgoing]) -> EmailMessage:
    """The one mail carrying all `messages` (see the module docstring)."""
    mail = EmailMessage()
    mail["Subject"] = messages[0].subject
    mail["From"] = dest.sender
    mail["To"] = ", ".join(dest.to)
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = make_msgid("funnelplan")
    mail.set_content("\n\n".join(plain_text(m.text) for m in messages))
    count = sum(m.chart_png is not None for m in messages)
    names = iter(["chart.png"] if count == 1 else [f"chart-{n}.png" for n in range(1, count + 1)])
    charts: list[tuple[str, str, bytes]] = []
    blocks: list[str] = []
    for message in messages:
        blocks.append(f'<div style="white-space: pre-wrap">{message.text}</div>')
        if message.chart_png is not None:
            cid = make_msgid("chart")
            charts.append((cid, next(names), message.chart_png))
            alt = html.escape(message.subject, quote=True)
            blocks.append(f'<p><img src="cid:{cid[1:-1]}" alt="{alt}"></p>')
    body = "\n<br>\n".join(blocks)
    mail.add_alternative(
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>'
        f'<body style="font-family: sans-serif">\n{body}\n</body></html>\n',
        subtype="html",
    )
    html_part = mail.get_body(("html",))
    assert isinstance(html_part, EmailMessage)
    for cid, name, png in charts:
        html_part.add_related(
            png, maintype="image", subtype="png", cid=cid, filename=name, disposition="inline"
        )
    return mail


def _smtp_reply(exc: smtplib.SMTPResponseException) -> str:
    error = exc.smtp_error
    text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
    return f"{exc.smtp_code} {text}"


def _smtp_context(dest: EmailDestination) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if dest.cafile is not None:
        try:
            context.load_verify_locations(cafile=str(dest.cafile))
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise _Permanent(f"cafile {dest.cafile}: cannot load it ({reason})") from None
    return context


def _smtp_session(
    dest: EmailDestination, password: str | None, mail: EmailMessage, timeout: float
) -> list[str]:
    """One SMTP session sending `mail`; the recipients refused while others accepted."""
    context = _smtp_context(dest)
    with smtplib.SMTP(dest.host, dest.port, timeout=timeout) as smtp:
        if dest.starttls:
            smtp.starttls(context=context)
        if dest.user is not None:
            smtp.login(dest.user, password or "")
        refused = smtp.send_message(mail, to_addrs=list(dest.to))
    return [
        f"{to} ({code} {reply.decode('utf-8', 'replace')})" for to, (code, reply) in refused.items()
    ]


def _smtp_send(
    dest: EmailDestination,
    password: str | None,
    mail: EmailMessage,
    timeout: float,
    refused: list[str],
) -> None:
    """`_smtp_session` with its errors sorted into `_Transient` and `_Permanent`."""
    where = f"SMTP {dest.host}:{dest.port}"
    try:
        refused[:] = _smtp_session(dest, password, mail, timeout)
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError) as exc:
        raise _Transient(f"{where}: connection lost ({type(exc).__name__})") from None
    except smtplib.SMTPAuthenticationError as exc:
        error = _Transient if 400 <= exc.smtp_code < 500 else _Permanent
        raise error(f"{where}: login as {dest.user} refused: {_smtp_reply(exc)}") from None
    except smtplib.SMTPNotSupportedError as exc:
        hint = "" if dest.starttls else " (does the server require STARTTLS? starttls = true)"
        raise _Permanent(f"{where}: {exc}{hint}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        error = _Transient if all(400 <= c < 500 for c in codes) else _Permanent
        raise error(f"{where}: every recipient refused: {', '.join(exc.recipients)}") from None
    except smtplib.SMTPResponseException as exc:
        error = _Transient if 400 <= exc.smtp_code < 500 else _Permanent
        raise error(f"{where}: {_smtp_reply(exc)}") from None
    except ssl.SSLCertVerificationError as exc:
        raise _Permanent(
            f"{where}: TLS certificate not trusted ({exc.verify_message}); give the CA as cafile"
        ) from None
    except ssl.SSLError as exc:
        raise _Permanent(f"{where}: TLS failed ({exc.reason or type(exc).__name__})") from None
    except TimeoutError:
        raise _Transient(f"{where}: no answer within {timeout:g} s") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise _Transient(f"{where}: cannot connect ({reason})") from None
    except smtplib.SMTPException as exc:
        raise _Permanent(f"{where}: {exc}") from None


def _email(
    dest: EmailDestination,
    messages: Sequence[Outgoing],
    policy: RetryPolicy,
    sleep: Callable[[float], None],
) -> list[Delivery]:
    try:
        password = dest.password.resolve() if dest.password is not None else None
    except SecretError as exc:
        return _all_failed(dest.name, messages, f"SMTP password: {exc}")
    mail = email_message(dest, messages)
    refused: list[str] = []
    secrets = (password,) if password else ()
    step = partial(_smtp_send, dest, password, mail, policy.timeout, refused)
    [sent] = _send_each(dest.name, messages[:1], lambda _: iter([step]), policy, sleep, secrets)
    if sent.ok and refused:
        note = _one_line(f"delivered, but refused: {'; '.join(refused)}", secrets)
        sent = dataclasses.replace(sent, error=note)
    return [sent] * len(messages)


# -- the entry point -----------------------------------------------------------------------


def deliver(
    dest: Destination,
    messages: Sequence[Outgoing],
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
) -> list[Delivery]:
    """Send `messages` to `dest`: one `Delivery` per message, in order; never raises on
    delivery trouble (see the module docstring)."""
    if not messages:
        return []
    if isinstance(dest, TelegramDestination):
        return _telegram(dest, messages, policy, sleep)
    if isinstance(dest, SlackDestination):
        return _slack(dest, messages, policy, sleep)
    return _email(dest, messages, policy, sleep)
