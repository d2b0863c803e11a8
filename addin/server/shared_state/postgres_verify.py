"""`PgVerifier`: the signature check of the shared state in one database round trip per
request (two for a key this process has not seen yet).

A key's signing key never changes, so each process reads it once (`PgKeyStore.signing`) and
checks the signature without the database; then one statement records the signature in the
replay cache and reads whether the key is revoked now. A revocation made on any host is so
refused on the very next request everywhere, as with the local keys file, at the cost of one
round trip instead of two. The answers are the local verifier's: 403 for a revoked key signed
right (the request is recorded as seen all the same), 401 ``replayed`` for a signature seen.
A key deleted from the table (no command does it) counts as revoked.
"""

from __future__ import annotations

from addin.server.keys import ApiKey
from addin.server.shared_state.postgres import PgReplayCache
from addin.server.shared_state.postgres_keys import PgKeyStore
from addin.server.signing import Verifier, replayed, revoked


class PgVerifier(Verifier):
    """`signing.Verifier` over `PgKeyStore` and `PgReplayCache`."""

    def __init__(self, keys: PgKeyStore, replay: PgReplayCache, window_seconds: int) -> None:
        super().__init__(keys, replay, window_seconds)
        self.pg_keys, self.pg_replay = keys, replay

    def lookup(self, key_id: str) -> ApiKey | None:
        return self.pg_keys.signing(key_id)

    def admit(self, key: ApiKey, signature: str, now: float) -> None:
        first, is_revoked = self.pg_replay.first_use_of(signature, now, key.id)
        if is_revoked:
            raise revoked()
        if not first:
            raise replayed()
