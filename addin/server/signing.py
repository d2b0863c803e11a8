"""Request signatures: HMAC-SHA256 with a timestamp window, a nonce and a replay cache.

A client signs each request with its signing key (`keys.derive_signing_key`) over

    METHOD + "\\n" + PATH + "\\n" + TIMESTAMP + "\\n" + NONCE + "\\n" + hex(SHA-256(body))

(PATH as sent on the request line, percent-encoded, with its query string, if any; TIMESTAMP in
Unix seconds; NONCE fresh for every request, 8 to 64 characters of ``A-Z a-z 0-9 _ -``, a UUID
or 32 hex digits) and sends

    X-Funnelplan-Key: the key id
    X-Funnelplan-Timestamp: TIMESTAMP
    X-Funnelplan-Nonce: NONCE
    X-Funnelplan-Signature: hex(HMAC-SHA256(signing key, the text above))

The nonce makes two identical requests (same key, body and second) sign differently, so both
pass; the same signed request sent twice is still refused. The server refuses (401) a missing
header, a timestamp more than the window (300 s) from its clock, a malformed nonce, a wrong
signature or a signature already seen within the window, and (403) a revoked key whose request
is signed right. An unknown key, a wrong signature and a revoked key signed wrongly get the one
same answer (401 ``bad_signature``; the log tells them apart), and the signature is checked
before the key's state is told, so a caller without the secret learns nothing of which key ids
exist. The server checks the signature over the raw body before it parses it (`middleware`).
Seen signatures are kept in a small SQLite file beside the keys (0600, the folder 0700), so
every worker on the host shares them; several hosts behind a load balancer share them in the
PostgreSQL state instead (`shared_state.postgres.PgReplayCache`, ``serve --state``).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Protocol

from addin.server.keys import ApiKey, KeyBackend

KEY_HEADER = "X-Funnelplan-Key"
TIMESTAMP_HEADER = "X-Funnelplan-Timestamp"
SIGNATURE_HEADER = "X-Funnelplan-Signature"
NONCE_HEADER = "X-Funnelplan-Nonce"

NONCE_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,64}")
"""A valid nonce (the whole value): a UUID, hex digits or URL-safe base64 fit."""


BAD_SIGNATURE = "the request's signature does not match"
"""The one answer (401 ``bad_signature``) to an unknown key, a wrong signature and a revoked
key signed wrongly: which key ids exist, or were revoked, is not told."""

_DECOY_KEY = secrets.token_bytes(32)


class AuthError(Exception):
    """A refused request: HTTP status (401 or 403), a code and a sentence (no secrets), and
    `reason`, the code the log shows (it may tell more than the answer: ``unknown_key``)."""

    def __init__(self, status: int, code: str, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.reason = reason or code


def canonical(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """The text a signature covers."""
    digest = hashlib.sha256(body).hexdigest()
    return f"{method.upper()}\n{path}\n{timestamp}\n{nonce}\n{digest}".encode()


def sign(
    signing_key: bytes, method: str, path: str, timestamp: str, nonce: str, body: bytes
) -> str:
    """The hex signature of a request."""
    return hmac.new(
        signing_key, canonical(method, path, timestamp, nonce, body), hashlib.sha256
    ).hexdigest()


def new_nonce() -> str:
    """A fresh nonce: 32 random hex digits."""
    return secrets.token_hex(16)


def signed_headers(
    key_id: str,
    signing_key: bytes,
    method: str,
    path: str,
    body: bytes,
    now: float | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four headers of a signed request (for Python clients and tests): a fresh nonce
    unless `nonce` is given."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = new_nonce() if nonce is None else nonce
    return {
        KEY_HEADER: key_id,
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: sign(signing_key, method, path, timestamp, nonce, body),
    }


class ReplayBackend(Protocol):
    """Where the signatures seen within the window are kept (`ReplayCache`: this host's
    SQLite file; `shared_state.postgres.PgReplayCache`: every host's database)."""

    def first_use(self, signature: str, now: float) -> bool:
        """Record `signature`; False if it was already seen within the window."""
        ...


class ReplayCache:
    """Signatures seen within the window, in SQLite (shared by the workers of one host). A
    signature covers the request's nonce, so only the same signed request sent again repeats
    one."""

    def __init__(self, path: Path, window_seconds: int) -> None:
        self.path = path
        self.window = window_seconds
        self._local = threading.local()
        self._last_sweep = 0.0

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            _private(self.path)
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")
            db.execute("CREATE TABLE IF NOT EXISTS seen (sig TEXT PRIMARY KEY, expires REAL)")
            self._local.db = db
        return db

    def first_use(self, signature: str, now: float) -> bool:
        """Record `signature`; False if it was already seen within the window."""
        db = self._db()
        if now - self._last_sweep > 30:
            self._last_sweep = now
            db.execute("DELETE FROM seen WHERE expires < ?", (now,))
        try:
            db.execute(
                "INSERT INTO seen (sig, expires) VALUES (?, ?)", (signature, now + 2 * self.window)
            )
        except sqlite3.IntegrityError:
            row = db.execute("SELECT expires FROM seen WHERE sig = ?", (signature,)).fetchone()
            if row is not None and row[0] < now:  # an expired entry not swept yet
                db.execute(
                    "UPDATE seen SET expires = ? WHERE sig = ?", (now + 2 * self.window, signature)
                )
                return True
            return False
        return True


def _private(path: Path) -> None:
    """`path`'s folder 0700 and the file 0600 (created so; SQLite gives its ``-wal`` and
    ``-shm`` files the database's mode): the cache holds the signatures seen."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # a folder of another owner: left as it is
        os.chmod(path.parent, 0o700)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(name, 0o600)  # the files of an older version were 0644


class Verifier:
    """Checks a request's key, timestamp, nonce, signature and freshness."""

    def __init__(self, keys: KeyBackend, replay: ReplayBackend, window_seconds: int) -> None:
        self.keys = keys
        self.replay = replay
        self.window = window_seconds

    def verify(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        now: float | None = None,
    ) -> str:
        """The key id of a valid request; raises `AuthError` otherwise."""
        now = time.time() if now is None else now
        key_id = headers.get(KEY_HEADER.lower(), "")
        timestamp = headers.get(TIMESTAMP_HEADER.lower(), "")
        nonce = headers.get(NONCE_HEADER.lower(), "")
        signature = headers.get(SIGNATURE_HEADER.lower(), "").strip().lower()
        if not key_id or not timestamp or not nonce or not signature:
            raise AuthError(
                401,
                "unauthenticated",
                f"sign the request: {KEY_HEADER}, {TIMESTAMP_HEADER}, {NONCE_HEADER} and "
                f"{SIGNATURE_HEADER} headers are required",
            )
        try:
            stamp = int(timestamp)
        except ValueError:
            raise AuthError(
                401, "bad_timestamp", f"{TIMESTAMP_HEADER} must be Unix seconds"
            ) from None
        if abs(now - stamp) > self.window:
            raise AuthError(
                401,
                "expired",
                f"the request's timestamp is more than {self.window} s from the server's clock",
            )
        if not NONCE_PATTERN.fullmatch(nonce):
            raise AuthError(
                401,
                "bad_nonce",
                f"{NONCE_HEADER} must be 8 to 64 letters, digits, '_' or '-' (a fresh UUID per "
                "request fits)",
            )
        key = self.lookup(key_id)
        # an unknown key is checked against a throwaway key: the same work and the same answer
        signing_key = bytes.fromhex(key.signing_key) if key is not None else _DECOY_KEY
        expected = sign(signing_key, method, path, timestamp, nonce, body)
        # bytes: `compare_digest` raises on non-ASCII text (a header is decoded as Latin-1)
        if key is None or not hmac.compare_digest(
            expected.encode(), signature.encode("latin-1", "replace")
        ):
            raise AuthError(401, "bad_signature", BAD_SIGNATURE, _why_refused(key))
        self.admit(key, signature, now)
        return key.id

    def lookup(self, key_id: str) -> ApiKey | None:
        """The key whose signing key checks the signature (its revocation is `admit`'s)."""
        return self.keys.get(key_id)

    def admit(self, key: ApiKey, signature: str, now: float) -> None:
        """After a good signature: 403 for a revoked key (only the secret's holder learns
        that it was revoked), 401 for a signature already seen within the window."""
        if not key.active:
            raise revoked()
        if not self.replay.first_use(signature, now):
            raise replayed()


def revoked() -> AuthError:
    return AuthError(403, "revoked_key", "this API key was revoked")


def replayed() -> AuthError:
    return AuthError(401, "replayed", "this signed request was already used")


def _why_refused(key: ApiKey | None) -> str:
    """What the log says of a refused signature (the answer does not say it)."""
    if key is None:
        return "unknown_key"
    return "bad_signature" if key.active else "bad_signature_revoked_key"
