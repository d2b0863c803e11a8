"""The ``[[digest.*]]`` destinations of sync.toml: parsed, checked, secrets kept out."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from addin.digest.destinations import (
    DEFAULT_TELEGRAM_API,
    DestinationError,
    EmailDestination,
    Secret,
    SecretError,
    SlackDestination,
    TelegramDestination,
    parse_destinations,
)

EXAMPLE = """
[digest]
lang = "ru"
timezone = "Europe/Moscow"
chart = true

[[digest.telegram]]
name = "team chat"
chat_id = "-1001234567890"
token_env = "FUNNELPLAN_TELEGRAM_TOKEN"
api_root = "http://127.0.0.1:9999/"

[[digest.telegram]]
chat_id = -100777
token_file = "secrets/telegram.token"

[[digest.slack]]
name = "marketing"
webhook_env = "FUNNELPLAN_SLACK_WEBHOOK"

[[digest.email]]
name = "lead"
host = "smtp.example.com"
port = 587
user = "bot@example.com"
password_env = "FUNNELPLAN_SMTP_PASSWORD"
from = "funnelplan <bot@example.com>"
to = ["lead@example.com", "analyst@example.com"]
cafile = "ca.pem"
"""


def digest_table(text: str) -> dict:
    return tomllib.loads(text)["digest"]


def parse(text: str, base_dir: Path = Path("/etc/funnelplan")) -> list:
    return parse_destinations(digest_table(text), base_dir)


def refusal(text: str) -> str:
    with pytest.raises(DestinationError) as caught:
        parse(text)
    return str(caught.value)


def test_the_documented_example_parses_in_order_with_defaults(tmp_path: Path) -> None:
    found = parse(EXAMPLE, tmp_path)
    assert [d.kind for d in found] == ["telegram", "telegram", "slack", "email"]
    team, other, slack, email = found
    assert team == TelegramDestination(
        name="team chat",
        chat_id="-1001234567890",
        token=Secret(env="FUNNELPLAN_TELEGRAM_TOKEN"),
        api_root="http://127.0.0.1:9999",
    )
    assert other.name == "telegram:-100777" and other.chat_id == "-100777"
    assert other.api_root == DEFAULT_TELEGRAM_API
    assert other.token == Secret(file=tmp_path / "secrets" / "telegram.token")
    assert slack == SlackDestination("marketing", Secret(env="FUNNELPLAN_SLACK_WEBHOOK"))
    assert isinstance(email, EmailDestination)
    assert (email.host, email.port, email.starttls, email.user) == (
        "smtp.example.com",
        587,
        True,
        "bot@example.com",
    )
    assert email.sender == "funnelplan <bot@example.com>"
    assert email.to == ("lead@example.com", "analyst@example.com")
    assert email.cafile == tmp_path / "ca.pem"


def test_no_destinations_is_an_empty_list() -> None:
    assert parse('[digest]\nlang = "ru"\n') == []


def test_defaults_for_names_port_and_login() -> None:
    found = parse(
        """
[digest]
[[digest.slack]]
webhook_file = "/run/secrets/slack"
[[digest.email]]
host = "localhost"
starttls = false
from = "bot@example.com"
to = ["a@example.com"]
"""
    )
    slack, email = found
    assert slack.name == "slack:1"
    assert slack.webhook == Secret(file=Path("/run/secrets/slack"))
    assert (email.name, email.port, email.starttls) == ("email:a@example.com", 587, False)
    assert email.user is None and email.password is None and email.cafile is None


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('[[digest.telegram]]\ntoken_env = "T"', "[[digest.telegram]] #1: chat_id is missing"),
        ('[[digest.telegram]]\nchat_id = "1"', "token_env or token_file is missing"),
        ('[[digest.telegram]]\nchat_id = "c"\ntoken_env = "T"', "neither a number nor"),
        ('[[digest.telegram]]\nchat_id = true\ntoken_env = "T"', "chat_id must be a number"),
        (
            '[[digest.telegram]]\nchat_id = "1"\ntoken_env = "T"\ntoken_file = "f"',
            "either token_env or token_file, not both",
        ),
        (
            '[[digest.telegram]]\nchat_id = "1"\ntoken_env = "T"\napi_root = "api.telegram.org"',
            "api_root must start with https://",
        ),
        ('[[digest.telegram]]\nchat_id = "1"\ntoken_env = "T"\nchat = "x"', "unknown key chat"),
        ('[[digest.slack]]\nname = "m"', "[[digest.slack]] #1: webhook_env or webhook_file"),
        ('[[digest.slack]]\nwebhook_env = ""', "webhook_env must be a non-empty string"),
        ('[[digest.email]]\nfrom = "a@b.c"\nto = ["x@y.z"]', "#1: host is missing"),
        ('[[digest.email]]\nhost = "h"\nto = ["x@y.z"]', "from is missing"),
        ('[[digest.email]]\nhost = "h"\nfrom = "a@b.c"', "to is missing"),
        ('[[digest.email]]\nhost = "h"\nfrom = "a@b.c"\nto = []', "to must be a non-empty list"),
        ('[[digest.email]]\nhost = "h"\nfrom = "a@b.c"\nto = "x@y.z"', "to must be a non-empty"),
        ('[[digest.email]]\nhost = "h"\nfrom = "a@b.c"\nto = ["nobody"]', "'nobody' is not an"),
        (
            '[[digest.email]]\nhost = "h"\nfrom = "a@b.c"\nto = ["x@y.z"]\nport = 0',
            "port must be a whole number",
        ),
        (
            '[[digest.email]]\nhost = "smtp.example.com"\nstarttls = false\nfrom = "a@b.c"\n'
            'to = ["x@y.z"]',
            "starttls = false is only allowed for a relay on localhost",
        ),
        (
            '[[digest.email]]\nhost = "h"\nfrom = "a@b.c"\nto = ["x@y.z"]\nuser = "u"',
            "password_env or password_file is missing",
        ),
        (
            '[[digest.email]]\nhost = "h"\nfrom = "a@b.c"\nto = ["x@y.z"]\npassword_env = "P"',
            "a password is given but user is missing",
        ),
    ],
)
def test_refusals_name_the_entry_and_the_key(entry: str, message: str) -> None:
    assert message in refusal("[digest]\n" + entry)


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ('[[digest.telegram]]\nchat_id = "1"\ntoken = "123:ABC-secret"', "token"),
        ('[[digest.slack]]\nwebhook = "https://hooks.slack.com/services/T/B/secret"', "webhook"),
        (
            '[[digest.email]]\nhost = "h"\nfrom = "a@b.c"\nto = ["x@y.z"]\nuser = "u"\n'
            'password = "hunter2-secret"',
            "password",
        ),
    ],
)
def test_a_secret_written_in_the_config_is_refused_without_echoing_it(entry: str, key: str) -> None:
    message = refusal("[digest]\n" + entry)
    assert f"{key} must not be written in the config" in message
    assert f"{key}_env" in message and f"{key}_file" in message
    assert "secret" not in message  # every value above holds the word; no message does


def test_the_second_entry_is_numbered_and_names_must_be_unique() -> None:
    two = '[digest]\n[[digest.slack]]\nwebhook_env = "A"\n[[digest.slack]]\nwebhooks_env = "B"\n'
    assert refusal(two).startswith("[[digest.slack]] #2: unknown key webhooks_env")
    same = (
        '[digest]\n[[digest.slack]]\nname = "x"\nwebhook_env = "A"\n'
        '[[digest.email]]\nname = "x"\nhost = "h"\nfrom = "a@b.c"\nto = ["x@y.z"]\n'
    )
    assert refusal(same) == "[[digest.email]] #1: name 'x' is already used by another destination"


def test_a_single_table_instead_of_an_array_is_refused() -> None:
    message = refusal('[digest]\n[digest.slack]\nwebhook_env = "A"\n')
    assert message == "digest.slack must be an array of tables: write [[digest.slack]]"


def test_secrets_resolve_lazily_and_failures_name_where_not_what(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FUNNELPLAN_TEST_TOKEN", raising=False)
    from_env = Secret(env="FUNNELPLAN_TEST_TOKEN")
    with pytest.raises(SecretError, match="environment variable FUNNELPLAN_TEST_TOKEN is not set"):
        from_env.resolve()
    monkeypatch.setenv("FUNNELPLAN_TEST_TOKEN", "  123:env-secret\n")
    assert from_env.resolve() == "123:env-secret"

    path = tmp_path / "token"
    from_file = Secret(file=path)
    with pytest.raises(SecretError, match=r"cannot read secret file .*token"):
        from_file.resolve()
    path.write_text("\n", encoding="utf-8")
    with pytest.raises(SecretError, match="is empty"):
        from_file.resolve()
    path.write_text("123:file-secret\n", encoding="utf-8")
    assert from_file.resolve() == "123:file-secret"

    destination = TelegramDestination("t", "1", from_file)
    assert "file-secret" not in repr(destination)
