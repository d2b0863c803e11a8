"""API keys: created, listed and revoked with `funnelplan keys`; never stored or logged in clear.

A key is an id (``fpk_...``, sent with every request) and a secret (shown once, kept by the
client: Script Properties in Apps Script, the add-in's storage in Office.js). The keys file
(``keys.json`` in the keys folder, mode 0600) holds, per key, its id, name, creation and
revocation times and the *signing key* derived from the secret one way:

    signing_key = HMAC-SHA256(key=secret, msg="funnelplan-signing-key:" + key_id)

so the secret itself cannot be read back from the file. The client derives the same signing key
and signs each request with it (`addin.server.signing`). HMAC verification needs the signing key
on the server: whoever can read the keys file can sign requests, so keep it readable by the
server's account only, and revoke every key if it leaks.

The file is re-read when it changes (its mtime and size), so a revocation takes effect in every
worker on the next request; writes replace it atomically under a lock file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from sheets_sync.sheet_ids import spreadsheet_id_of

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: single-writer use only
    fcntl = None  # type: ignore[assignment]

KEYS_FILE = "keys.json"
_PREFIX = "fpk_"
_DERIVE_LABEL = "funnelplan-signing-key:"


def derive_signing_key(key_id: str, secret: str) -> bytes:
    """The key a client signs requests with (the server stores only this)."""
    return hmac.new(secret.encode(), (_DERIVE_LABEL + key_id).encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class ApiKey:
    """A key as stored (no secret): id, name, created, revoked (None while active), and the
    Google Sheet it may run buttons on (None: functions and uploaded workbooks only)."""

    id: str
    name: str
    created: str
    revoked: str | None
    signing_key: str  # hex of `derive_signing_key`
    spreadsheet: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked is None

    def public(self) -> dict[str, Any]:
        """What `keys list` shows (no key material)."""
        return {
            "id": self.id,
            "name": self.name,
            "spreadsheet": self.spreadsheet,
            "created": self.created,
            "revoked": self.revoked,
        }


@dataclass(frozen=True)
class NewKey:
    """A key just created: the only time its secret exists outside the client."""

    id: str
    name: str
    secret: str


class KeyStoreError(Exception):
    """A keys-file problem (unknown id, unreadable file) with a readable sentence."""


class KeyBackend(Protocol):
    """Where the keys live: the keys file (`KeyStore`, the default) or the shared PostgreSQL
    state (`shared_state.postgres_keys.PgKeyStore`). A revocation made through one is seen by
    every server using it on its next request."""

    def get(self, key_id: str) -> ApiKey | None: ...

    def list(self) -> list[ApiKey]: ...

    def create(self, name: str, spreadsheet: str | None = None) -> NewKey: ...

    def revoke(self, key_id: str) -> ApiKey: ...


class KeyStore:
    """The keys file in `folder`."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self.path = self.folder / KEYS_FILE
        self._cache: dict[str, ApiKey] = {}
        self._stamp: tuple[int, int] | None = None

    # ------------------------------------------------------------------ reading

    def _load(self) -> dict[str, ApiKey]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._cache, self._stamp = {}, None
            return self._cache
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                keys = {k["id"]: ApiKey(**k) for k in data.get("keys", [])}
            except (OSError, ValueError, TypeError, KeyError) as exc:
                raise KeyStoreError(f"cannot read the keys file {self.path}: {exc}") from exc
            self._cache, self._stamp = keys, stamp
        return self._cache

    def get(self, key_id: str) -> ApiKey | None:
        return self._load().get(key_id)

    def list(self) -> list[ApiKey]:
        return sorted(self._load().values(), key=lambda k: k.created)

    # ------------------------------------------------------------------ writing

    @contextmanager
    def _locked(self) -> Iterator[dict[str, ApiKey]]:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(self.folder / ".keys.lock", "a") as lock:
            if fcntl is not None:
                fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._stamp = None
                keys = dict(self._load())
                yield keys
                self._write(keys)
            finally:
                if fcntl is not None:
                    fcntl.flock(lock, fcntl.LOCK_UN)

    def _write(self, keys: dict[str, ApiKey]) -> None:
        text = json.dumps({"keys": [asdict(k) for k in keys.values()]}, indent=2)
        fd, tmp = tempfile.mkstemp(prefix=".keys-", suffix=".json", dir=self.folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._stamp = None

    def create(self, name: str, spreadsheet: str | None = None) -> NewKey:
        """A new active key; its secret is returned here and nowhere else. `spreadsheet` (an
        id or a Google Sheets URL) is the one Google Sheet whose buttons the key may run."""
        stored, new = new_key(name, spreadsheet)
        with self._locked() as keys:
            keys[stored.id] = stored
        return new

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key (kept in the file, marked revoked); unknown ids are an error."""
        with self._locked() as keys:
            key = keys.get(key_id)
            if key is None:
                raise KeyStoreError(unknown_key(key_id))
            if key.revoked is None:
                key = replace(key, revoked=now_text())
                keys[key_id] = key
        return key


def now_text() -> str:
    """The time a key is created or revoked: UTC, ISO 8601, whole seconds."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def unknown_key(key_id: str) -> str:
    """What `revoke` says of an id no store holds."""
    return f"no key {key_id!r} (see `funnelplan keys list`)"


def new_key(name: str, spreadsheet: str | None = None) -> tuple[ApiKey, NewKey]:
    """A new active key as stored and as shown once (every key store makes its keys here):
    its name checked, `spreadsheet` (an id or a Google Sheets URL) read as a sheet id."""
    name = name.strip()
    if not name:
        raise KeyStoreError("give the key a name (e.g. the workbook it is for)")
    sheet = None
    if spreadsheet:
        sheet = spreadsheet_id_of(spreadsheet) or spreadsheet_id_of("gsheet:" + spreadsheet)
        if sheet is None:
            raise KeyStoreError(f"{spreadsheet!r} is not a Google Sheet: give its id or its URL")
    key_id = _PREFIX + secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    signing_key = derive_signing_key(key_id, secret).hex()
    return ApiKey(key_id, name, now_text(), None, signing_key, sheet), NewKey(key_id, name, secret)
