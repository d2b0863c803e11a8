"""API keys: created, listed and revoked with the CLI; the keys file holds no secret."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from click.testing import CliRunner

from addin.server.commands import keys_group
from addin.server.keys import KeyStore, derive_signing_key


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
    assert set(stored) == {"id", "name", "created", "revoked", "signing_key"}
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
