"""API keys: created, listed and revoked with the CLI; the keys file holds no secret; a key
signs requests (with a nonce) that the verifier accepts once."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from addin.server.commands import keys_group
from addin.server.keys import KeyStore, derive_signing_key
from addin.server.signing import (
    KEY_HEADER,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    AuthError,
    ReplayCache,
    Verifier,
    canonical,
    signed_headers,
)


def _create(keys_dir: Path, name: str) -> tuple[str, str]:
    result = CliRunner().invoke(keys_group, ["create", name, "--keys-dir", str(keys_dir)])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(":", 1) for line in result.stdout.splitlines() if ":" in line)
    return lines["key id"].strip(), lines["secret"].strip()


def test_create_prints_the_secret_once_and_stores_none(tmp_path: Path) -> None:
    key_id, secret = _create(tmp_path, "Plan Nov 2026")
    text = (tmp_path / "keys.json").read_text()
    assert key_id in text
    assert secret not in text
    stored = json.loads(text)["keys"][0]
    assert set(stored) == {"id", "name", "created", "revoked", "signing_key", "spreadsheet"}
    assert stored["signing_key"] == derive_signing_key(key_id, secret).hex()
    assert stat.S_IMODE((tmp_path / "keys.json").stat().st_mode) == 0o600
    listed = CliRunner().invoke(keys_group, ["list", "--keys-dir", str(tmp_path), "--json"])
    assert secret not in listed.output and stored["signing_key"] not in listed.output
    assert json.loads(listed.output)[0]["name"] == "Plan Nov 2026"


def test_revoke_marks_the_key_and_keeps_the_others(tmp_path: Path) -> None:
    a, _ = _create(tmp_path, "a")
    b, _ = _create(tmp_path, "b")
    result = CliRunner().invoke(keys_group, ["revoke", a, "--keys-dir", str(tmp_path)])
    assert result.exit_code == 0 and "revoked" in result.output
    store = KeyStore(tmp_path)
    key_a, key_b = store.get(a), store.get(b)
    assert key_a is not None and not key_a.active
    assert key_b is not None and key_b.active
    listed = CliRunner().invoke(keys_group, ["list", "--keys-dir", str(tmp_path)])
    assert "revoked" in listed.output and "active" in listed.output


def test_revoke_unknown_key_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(keys_group, ["revoke", "fpk_nope", "--keys-dir", str(tmp_path)])
    assert result.exit_code != 0 and "no key" in result.output


def test_a_store_sees_another_process_revoke(tmp_path: Path) -> None:
    server_view = KeyStore(tmp_path)
    key = KeyStore(tmp_path).create("w")
    got = server_view.get(key.id)
    assert got is not None and got.active
    KeyStore(tmp_path).revoke(key.id)
    got = server_view.get(key.id)
    assert got is not None and not got.active


def test_a_cli_key_signs_requests_with_a_nonce(tmp_path: Path) -> None:
    """The signed text and the verifier's checks, without a server: a fresh nonce per request
    (identical requests in one second both pass), the same headers twice are a replay."""
    key_id, secret = _create(tmp_path, "signer")
    signing_key = derive_signing_key(key_id, secret)
    body = b'{"args": [1]}'
    assert canonical("post", "/functions/CPA?x=1", "1700000000", "n0nce-123", body) == (
        b"POST\n/functions/CPA?x=1\n1700000000\nn0nce-123\n"
        + hashlib.sha256(body).hexdigest().encode()
    )
    verifier = Verifier(KeyStore(tmp_path), ReplayCache(tmp_path / "replay.sqlite", 300), 300)
    now = 1_800_000_000.0

    def verify(headers: dict[str, str]) -> str:
        lower = {k.lower(): v for k, v in headers.items()}
        return verifier.verify("POST", "/functions/CPA", lower, body, now=now)

    first = signed_headers(key_id, signing_key, "POST", "/functions/CPA", body, now=now)
    second = signed_headers(key_id, signing_key, "POST", "/functions/CPA", body, now=now)
    assert set(first) == {KEY_HEADER, TIMESTAMP_HEADER, NONCE_HEADER, SIGNATURE_HEADER}
    assert len(first[NONCE_HEADER]) == 32 and first[NONCE_HEADER] != second[NONCE_HEADER]
    assert verify(first) == key_id and verify(second) == key_id
    with pytest.raises(AuthError) as refused:
        verify(first)
    assert (refused.value.status, refused.value.code) == (401, "replayed")

    cases = [
        ({k: v for k, v in first.items() if k != NONCE_HEADER}, "unauthenticated"),
        ({**first, NONCE_HEADER: "abc"}, "bad_nonce"),
        ({**first, NONCE_HEADER: "has spaces in it"}, "bad_nonce"),
        ({**first, NONCE_HEADER: "x" * 65}, "bad_nonce"),
        ({**first, NONCE_HEADER: "another-nonce"}, "bad_signature"),
    ]
    for headers, code in cases:
        with pytest.raises(AuthError) as refused:
            verify(headers)
        assert (refused.value.status, refused.value.code) == (401, code), headers
        assert refused.value.message
