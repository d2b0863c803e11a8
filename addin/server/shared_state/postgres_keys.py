"""`keys.KeyBackend` in the shared database: the same keys (derived signing keys only, never
the secret) for every host, read on every request so a revocation made anywhere is refused
everywhere on the next request."""

from __future__ import annotations

from typing import Any

from addin.server.keys import ApiKey, KeyStoreError, NewKey, new_key, now_text, unknown_key
from addin.server.shared_state.migrate import SCHEMA
from addin.server.shared_state.postgres import PgPool, connect

_COLUMNS = "id, name, created, revoked, signing_key, spreadsheet"


class PgKeyStore:
    """The keys table, through the server's pool (`pool`) or, for ``funnelplan keys``, one
    connection per call to `url` that commits durably."""

    def __init__(self, pool: PgPool | None = None, url: str | None = None) -> None:
        if pool is None and url is None:
            raise ValueError("give a pool or a URL")
        self.pool, self.url = pool, url
        self._signing: dict[str, ApiKey] = {}

    def signing(self, key_id: str) -> ApiKey | None:
        """The key as first read, for its signing key (which never changes): read from the
        database once per process. Its revocation is NOT current: `PgVerifier` reads that on
        every request with the replay check."""
        key = self._signing.get(key_id)
        if key is None:
            key = self.get(key_id)
            if key is not None:
                if len(self._signing) > 10_000:  # bounded: many keys, or a caller guessing ids
                    self._signing.clear()
                self._signing[key_id] = key
        return key

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        if self.pool is not None:
            with self.pool.connection() as con:
                cur = con.execute(sql.encode(), params)
                return cur.fetchall() if cur.description else []
        assert self.url is not None
        with connect(self.url) as con:
            cur = con.execute(sql.encode(), params)
            return cur.fetchall() if cur.description else []

    def get(self, key_id: str) -> ApiKey | None:
        rows = self._query(f"SELECT {_COLUMNS} FROM {SCHEMA}.api_keys WHERE id = %s", (key_id,))
        return ApiKey(*rows[0]) if rows else None

    def list(self) -> list[ApiKey]:
        rows = self._query(f"SELECT {_COLUMNS} FROM {SCHEMA}.api_keys ORDER BY created, id", ())
        return [ApiKey(*row) for row in rows]

    def create(self, name: str, spreadsheet: str | None = None) -> NewKey:
        stored, new = new_key(name, spreadsheet)
        self._query(
            f"INSERT INTO {SCHEMA}.api_keys ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s)",
            (stored.id, stored.name, stored.created, None, stored.signing_key, stored.spreadsheet),
        )
        return new

    def revoke(self, key_id: str) -> ApiKey:
        """Mark the key revoked (kept, like the keys file); a revoked key keeps its first
        revocation time; unknown ids are an error."""
        self._query(
            f"UPDATE {SCHEMA}.api_keys SET revoked = %s WHERE id = %s AND revoked IS NULL",
            (now_text(), key_id),
        )
        key = self.get(key_id)
        if key is None:
            raise KeyStoreError(unknown_key(key_id))
        return key
