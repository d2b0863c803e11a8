"""`open_state`: the local or the PostgreSQL backends of one app, chosen by
`Settings.state_url`, and `key_backend` for ``funnelplan keys``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from addin.server.keys import KeyBackend, KeyStore
from addin.server.settings import Settings
from addin.server.shared_state.local import FileSheetLocks
from addin.server.shared_state.postgres import PgPool, PgReplayCache, is_postgres_url, migrate_url
from addin.server.shared_state.postgres_keys import PgKeyStore
from addin.server.shared_state.postgres_locks import PgSheetLocks, PgSheetsBudget
from addin.server.shared_state.postgres_verify import PgVerifier
from addin.server.shared_state.protocols import SheetLocks
from addin.server.signing import ReplayBackend, ReplayCache, Verifier
from sheets_sync.google_http import SharedBudget


@dataclass
class StateBackends:
    """What one app's requests share: keys, seen signatures, sheet locks and (PostgreSQL
    only) the Google Sheets budget; `pool` is None for the local state."""

    keys: KeyBackend
    replay: ReplayBackend
    locks: SheetLocks
    verifier: Verifier
    budget: SharedBudget | None = None
    pool: PgPool | None = None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()


def open_state(settings: Settings) -> StateBackends:
    """The local folder's state (`Settings.keys_dir`), or the database's when
    `Settings.state_url` is a PostgreSQL URL (migrated first: a no-op when up to date)."""
    url = settings.state_url
    if url is None or not is_postgres_url(url):
        folder = Path(settings.keys_dir)
        keys = KeyStore(folder)
        replay = ReplayCache(folder / "replay.sqlite", settings.window_seconds)
        return StateBackends(
            keys,
            replay,
            FileSheetLocks(folder / "locks"),
            Verifier(keys, replay, settings.window_seconds),
        )
    migrate_url(url)
    pool = PgPool(url)
    pg_keys = PgKeyStore(pool=pool)
    pg_replay = PgReplayCache(pool, settings.window_seconds)
    return StateBackends(
        pg_keys,
        pg_replay,
        PgSheetLocks(pool, settings.lock_lease_seconds),
        PgVerifier(pg_keys, pg_replay, settings.window_seconds),
        PgSheetsBudget(pool, settings.sheets_per_minute, settings.sheets_burst),
        pool,
    )


def key_backend(keys_dir: Path, state_url: str | None) -> KeyBackend:
    """The keys ``funnelplan keys`` works on: the database's (migrated first) when
    `state_url` is a PostgreSQL URL, else the keys file in `keys_dir`."""
    if state_url and is_postgres_url(state_url):
        migrate_url(state_url)
        return PgKeyStore(url=state_url)
    return KeyStore(keys_dir)
