"""Where the digest goes: the ``[[digest.telegram]]``, ``[[digest.slack]]`` and
``[[digest.email]]`` entries of a sync.toml's ``[digest]`` table.

```toml
[[digest.telegram]]
name = "team chat"                         # optional; default "telegram:<chat_id>"
chat_id = "-1001234567890"                 # a number, or "@channelname"
token_env = "FUNNELPLAN_TELEGRAM_TOKEN"    # or token_file = "telegram.token"
api_root = "https://api.telegram.org"      # optional

[[digest.slack]]
name = "marketing"                         # optional; default "slack:<n>"
webhook_env = "FUNNELPLAN_SLACK_WEBHOOK"   # or webhook_file

[[digest.email]]
name = "lead"                              # optional; default "email:<first recipient>"
host = "smtp.example.com"
port = 587                                 # optional; default 587
starttls = true                            # default; false only for a relay on localhost
user = "bot@example.com"                   # optional: no login when absent
password_env = "FUNNELPLAN_SMTP_PASSWORD"  # or password_file; required with user
from = "funnelplan <bot@example.com>"
to = ["lead@example.com"]
cafile = "ca.pem"                          # optional: a CA trusted besides the system's
```

`parse_destinations(table, base_dir)` checks the entries and returns them in order (Telegram,
then Slack, then e-mail, each in file order); the other keys of ``[digest]`` are not its
business. Every refusal is a `DestinationError` naming the entry and the key, e.g.
``[[digest.telegram]] #1: chat_id is missing``. Names must be unique (the caller records
what went where by name).

Secrets (the bot token, the webhook URL, the SMTP password) never sit in the TOML: a
``*_env`` key names an environment variable, a ``*_file`` key a file (relative paths from the
config's folder) whose stripped content is the secret. A `Secret` only holds that reference;
`Secret.resolve` reads it at send time and raises `SecretError` (naming the variable or file,
never the value) when it is missing or empty. ``*_file`` paths and ``cafile`` are resolved
against `base_dir` here but read only at send time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "DEFAULT_TELEGRAM_API",
    "Destination",
    "DestinationError",
    "EmailDestination",
    "Secret",
    "SecretError",
    "SlackDestination",
    "TelegramDestination",
    "parse_destinations",
]

DEFAULT_TELEGRAM_API = "https://api.telegram.org"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class DestinationError(ValueError):
    """A ``[[digest.*]]`` entry is wrong; the message names the entry and the key."""


class SecretError(Exception):
    """A secret could not be read at send time; the message names where it was looked for."""


@dataclass(frozen=True)
class Secret:
    """Where a secret is: an environment variable (`env`) or a file (`file`), exactly one.
    It never holds the secret itself."""

    env: str | None = None
    file: Path | None = None

    @property
    def where(self) -> str:
        return f"environment variable {self.env}" if self.env else f"file {self.file}"

    def resolve(self) -> str:
        """The secret, read now. `SecretError` when the variable is unset or empty, or the
        file is unreadable or empty."""
        if self.env is not None:
            value = os.environ.get(self.env, "").strip()
            if not value:
                raise SecretError(f"environment variable {self.env} is not set or empty")
            return value
        assert self.file is not None
        try:
            value = self.file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise SecretError(f"cannot read secret file {self.file}: {reason}") from None
        except UnicodeDecodeError:
            raise SecretError(f"secret file {self.file} is not UTF-8 text") from None
        if not value:
            raise SecretError(f"secret file {self.file} is empty")
        return value


@dataclass(frozen=True)
class TelegramDestination:
    """A Telegram chat the bot posts to (Bot API ``sendMessage`` / ``sendPhoto``)."""

    name: str
    chat_id: str
    token: Secret
    api_root: str = DEFAULT_TELEGRAM_API
    kind: Literal["telegram"] = "telegram"


@dataclass(frozen=True)
class SlackDestination:
    """A Slack incoming webhook (the URL is the secret)."""

    name: str
    webhook: Secret
    kind: Literal["slack"] = "slack"


@dataclass(frozen=True)
class EmailDestination:
    """An SMTP server and the recipients of one mail per digest."""

    name: str
    host: str
    port: int
    sender: str
    """The ``from`` key: the From header (the envelope sender is taken from it)."""
    to: tuple[str, ...]
    starttls: bool = True
    user: str | None = None
    password: Secret | None = None
    cafile: Path | None = None
    kind: Literal["email"] = "email"


Destination = TelegramDestination | SlackDestination | EmailDestination

_SECRET_KEYS = {"telegram": "token", "slack": "webhook", "email": "password"}
_KEYS = {
    "telegram": {"name", "chat_id", "token_env", "token_file", "api_root"},
    "slack": {"name", "webhook_env", "webhook_file"},
    "email": {
        "name",
        "host",
        "port",
        "starttls",
        "user",
        "password_env",
        "password_file",
        "from",
        "to",
        "cafile",
    },
}


class _Entry:
    """One ``[[digest.<kind>]]`` table being checked; `fail` raises with its label."""

    def __init__(self, kind: str, number: int, table: Mapping[str, Any], base_dir: Path):
        self.kind = kind
        self.label = f"[[digest.{kind}]] #{number}"
        self.table = table
        self.base_dir = base_dir

    def fail(self, message: str) -> DestinationError:
        return DestinationError(f"{self.label}: {message}")

    def check_keys(self) -> None:
        secret = _SECRET_KEYS[self.kind]
        if secret in self.table:
            raise self.fail(
                f"{secret} must not be written in the config: "
                f"use {secret}_env (an environment variable) or {secret}_file (a file) instead"
            )
        unknown = sorted(set(self.table) - _KEYS[self.kind])
        if unknown:
            allowed = ", ".join(sorted(_KEYS[self.kind]))
            raise self.fail(f"unknown key {', '.join(unknown)} (allowed: {allowed})")

    def text(self, key: str, required: bool = True) -> str | None:
        value = self.table.get(key)
        if value is None:
            if required:
                raise self.fail(f"{key} is missing")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{key} must be a non-empty string")
        return value.strip()

    def path(self, key: str) -> Path | None:
        value = self.text(key, required=False)
        if value is None:
            return None
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    def secret(self, stem: str, required: bool = True) -> Secret | None:
        env = self.text(f"{stem}_env", required=False)
        file = self.path(f"{stem}_file")
        if env is not None and file is not None:
            raise self.fail(f"give either {stem}_env or {stem}_file, not both")
        if env is None and file is None:
            if required:
                raise self.fail(f"{stem}_env or {stem}_file is missing")
            return None
        return Secret(env=env, file=file)


def _telegram(entry: _Entry) -> TelegramDestination:
    raw = entry.table.get("chat_id")
    if raw is None:
        raise entry.fail("chat_id is missing")
    if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).strip():
        raise entry.fail('chat_id must be a number or a string such as "-1001234567890"')
    chat_id = str(raw).strip()
    if not (chat_id.lstrip("-").isdigit() or chat_id.startswith("@")):
        raise entry.fail(f"chat_id {chat_id!r} is neither a number nor an @channel name")
    token = entry.secret("token")
    assert token is not None
    api_root = (entry.text("api_root", required=False) or DEFAULT_TELEGRAM_API).rstrip("/")
    if not api_root.startswith(("https://", "http://")):
        raise entry.fail("api_root must start with https:// or http://")
    name = entry.text("name", required=False) or f"telegram:{chat_id}"
    return TelegramDestination(name=name, chat_id=chat_id, token=token, api_root=api_root)


def _slack(entry: _Entry, number: int) -> SlackDestination:
    webhook = entry.secret("webhook")
    assert webhook is not None
    name = entry.text("name", required=False) or f"slack:{number}"
    return SlackDestination(name=name, webhook=webhook)


def _recipients(entry: _Entry) -> tuple[str, ...]:
    to = entry.table.get("to")
    if to is None:
        raise entry.fail("to is missing")
    if not isinstance(to, list) or not to:
        raise entry.fail('to must be a non-empty list of addresses, e.g. ["lead@example.com"]')
    for address in to:
        if not isinstance(address, str) or "@" not in address:
            raise entry.fail(f"to: {address!r} is not an e-mail address")
    return tuple(address.strip() for address in to)


def _email(entry: _Entry) -> EmailDestination:
    host = entry.text("host")
    sender = entry.text("from")
    assert host is not None and sender is not None
    port = entry.table.get("port", 587)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise entry.fail("port must be a whole number from 1 to 65535")
    starttls = entry.table.get("starttls", True)
    if not isinstance(starttls, bool):
        raise entry.fail("starttls must be true or false")
    if not starttls and host.lower() not in LOCAL_HOSTS:
        raise entry.fail(f"starttls = false is only allowed for a relay on localhost, not {host}")
    user = entry.text("user", required=False)
    password = entry.secret("password", required=user is not None)
    if password is not None and user is None:
        raise entry.fail("a password is given but user is missing")
    to = _recipients(entry)
    name = entry.text("name", required=False) or f"email:{to[0]}"
    return EmailDestination(
        name=name,
        host=host,
        port=port,
        sender=sender,
        to=to,
        starttls=starttls,
        user=user,
        password=password,
        cafile=entry.path("cafile"),
    )


def parse_destinations(table: Mapping[str, Any], base_dir: Path) -> list[Destination]:
    """The destinations of the ``[digest]`` table `table` (already loaded TOML); relative
    paths are from `base_dir`, the config's folder. `DestinationError` on the first problem."""
    found: list[Destination] = []
    for kind in ("telegram", "slack", "email"):
        entries = table.get(kind, [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise DestinationError(
                f"digest.{kind} must be an array of tables: write [[digest.{kind}]]"
            )
        for number, raw in enumerate(entries, start=1):
            entry = _Entry(kind, number, raw, base_dir)
            entry.check_keys()
            destination: Destination
            if kind == "telegram":
                destination = _telegram(entry)
            elif kind == "slack":
                destination = _slack(entry, number)
            else:
                destination = _email(entry)
            if any(d.name == destination.name for d in found):
                raise entry.fail(
                    f"name {destination.name!r} is already used by another destination"
                )
            found.append(destination)
    return found
