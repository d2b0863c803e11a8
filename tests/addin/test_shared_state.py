"""The shared PostgreSQL state in one process, against a private cluster: migrations (twice =
no-op, two processes at once), the replay cache and the keys seen by a second pool, the lease
lock, the token bucket (known numbers, invariants, two pools drawing together) and a database
out of reach answered 503."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from live_server import Signer
from pg import PrivateCluster
from shared_hosts import fresh_database, private_postgres

from addin.cli.main import main
from addin.server.app import create_app
from addin.server.settings import Settings
from addin.server.shared_state.migrate import SCHEMA, migrate, migrations
from addin.server.shared_state.postgres import PgPool, PgReplayCache, migrate_url
from addin.server.shared_state.postgres_keys import PgKeyStore
from addin.server.shared_state.postgres_locks import PgSheetLocks, PgSheetsBudget
from addin.server.shared_state.protocols import SheetBusy
from sheets_sync.google_http import bucket_take, use_shared_budget

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    with private_postgres() as c:
        yield c


@pytest.fixture()
def db(cluster: PrivateCluster, request: pytest.FixtureRequest) -> str:
    """A fresh database, migrated."""
    url = fresh_database(cluster, "t_" + request.node.name.lower()[:40].replace("[", "_")[:40])
    migrate_url(url)
    return url


def _versions(url: str) -> list[tuple[int, str]]:
    with psycopg.connect(url) as con:
        rows = con.execute(f"SELECT version, name FROM {SCHEMA}.schema_version ORDER BY 1")
        return [(int(v), str(n)) for v, n in rows]


# ------------------------------------------------------------------ migrations


def test_migrations_run_twice_are_a_no_op(cluster: PrivateCluster) -> None:
    url = fresh_database(cluster, "migrate_twice")
    names = [m.name for m in migrations()]
    assert names and names[0] == "0001_shared_state.sql"
    assert migrate_url(url) == names
    assert migrate_url(url) == []  # nothing applied the second time
    with psycopg.connect(url, autocommit=True) as con:
        assert migrate(con) == []
    assert _versions(url) == [(1, "0001_shared_state.sql")]


def test_two_processes_migrating_at_once_both_succeed(cluster: PrivateCluster) -> None:
    """Both start together on an empty database: the advisory lock makes the second wait and
    find the files applied (without it one fails on CREATE SCHEMA / CREATE TABLE)."""
    url = fresh_database(cluster, "migrate_race")
    code = (
        "import sys, time; from addin.server.shared_state.postgres import migrate_url; "
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time())); "
        "print(len(migrate_url(sys.argv[1])))"
    )
    start = f"{time.time() + 1.5:.3f}"
    runs = [
        subprocess.Popen([sys.executable, "-c", code, url, start], stdout=subprocess.PIPE)
        for _ in range(3)
    ]
    outs = [run.communicate(timeout=60)[0].decode().strip() for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0]
    assert sorted(outs) == ["0", "0", "1"]  # exactly one applied the one file
    assert _versions(url) == [(1, "0001_shared_state.sql")]


# ------------------------------------------------------------------ replay, keys


def test_a_signature_seen_by_one_pool_is_refused_by_another(db: str) -> None:
    a, b = PgPool(db), PgPool(db)
    try:
        one, two = PgReplayCache(a, 300), PgReplayCache(b, 300)
        now = time.time()
        assert one.first_use("sig-1", now)
        assert not two.first_use("sig-1", now + 1)
        assert not one.first_use("sig-1", now + 2)
        assert two.first_use("sig-2", now)
        # kept twice the window; after that the same signature is taken over (its timestamp
        # is refused by the window check long before)
        assert two.first_use("sig-1", now + 601)
        assert not one.first_use("sig-1", now + 602)
        # pruning removes only the expired
        with psycopg.connect(db) as con:
            con.execute(f"INSERT INTO {SCHEMA}.replay VALUES ('old', %s)", (now - 1,))
        one._last_prune = 0.0
        assert one.first_use("sig-3", now)
        with psycopg.connect(db) as con:
            left = {r[0] for r in con.execute(f"SELECT signature FROM {SCHEMA}.replay")}
        # 'old' and sig-2 (expired at now + 600, pruned by the call at now + 601) are gone
        assert left == {"sig-1", "sig-3"}
    finally:
        a.close()
        b.close()


def test_keys_cli_works_against_the_database(db: str, tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(main, ["keys", "create", "Nov plan", "--state", db])
    assert made.exit_code == 0, made.output
    key_id = made.output.split("key id:")[1].split()[0]
    secret = made.output.split("secret:")[1].split()[0]
    assert not (tmp_path / "keys.json").exists()
    pool = PgPool(db)
    try:
        store = PgKeyStore(pool=pool)
        key = store.get(key_id)
        assert key is not None and key.active and key.name == "Nov plan"
        assert key.signing_key == Signer(key_id, secret).signing_key.hex()
        assert secret not in key.signing_key
        listed = runner.invoke(main, ["keys", "list", "--state", db, "--json"])
        assert key_id in listed.output and secret not in listed.output
        gone = runner.invoke(main, ["keys", "revoke", key_id, "--state", db])
        assert gone.exit_code == 0, gone.output
        revoked = store.get(key_id)
        assert revoked is not None and not revoked.active
        again = store.revoke(key_id)  # the first revocation time is kept
        assert again.revoked == revoked.revoked
        unknown = runner.invoke(main, ["keys", "revoke", "fpk_nope", "--state", db])
        assert unknown.exit_code != 0 and "no key 'fpk_nope'" in unknown.output
    finally:
        pool.close()
    bad = runner.invoke(main, ["keys", "list", "--state", "mysql://x"])
    assert bad.exit_code != 0 and "postgresql://" in bad.output


# ------------------------------------------------------------------ the lease lock


def test_the_lease_lock_is_held_renewed_and_released(db: str) -> None:
    a, b = PgPool(db), PgPool(db)
    try:
        one, two = PgSheetLocks(a, lease=1.0), PgSheetLocks(b, lease=1.0)
        with one.hold("1SheetAAAAAA"):
            with pytest.raises(SheetBusy), two.hold("1SheetAAAAAA"):
                pass
            with two.hold("1SheetBBBBBB"):  # another sheet is free
                pass
            time.sleep(2.5)  # past the lease: renewed every third of it, so still held
            with pytest.raises(SheetBusy), two.hold("1SheetAAAAAA"):
                pass
        with two.hold("1SheetAAAAAA"):  # released at the end of the block
            pass
        # a holder that stops renewing (its process died): the lease runs out by itself
        with psycopg.connect(db) as con:
            con.execute(
                f"INSERT INTO {SCHEMA}.sheet_locks VALUES"
                " ('1SheetCCCCCC', 'dead', clock_timestamp() + interval '1 second')"
            )
        with pytest.raises(SheetBusy), one.hold("1SheetCCCCCC"):
            pass
        time.sleep(1.2)
        with one.hold("1SheetCCCCCC"):
            pass
    finally:
        a.close()
        b.close()


# ------------------------------------------------------------------ the token bucket


def test_bucket_take_known_numbers() -> None:
    # 60 a minute = 1 a second, burst 5. Full bucket: 5 -> 4 taken, no wait.
    assert bucket_take(5.0, 0.0, 1.0, 5.0) == (4.0, 0.0)
    # 0.25 left, 0.5 s later: 0.25 + 0.5 * 1 = 0.75 < 1, wait (1 - 0.75) / 1 = 0.25 s
    assert bucket_take(0.25, 0.5, 1.0, 5.0) == pytest.approx((0.75, 0.25))
    # empty for an hour: refilled to the burst (5), not 3,600; one taken leaves 4
    assert bucket_take(0.0, 3600.0, 1.0, 5.0) == (4.0, 0.0)
    # 50 a minute (0.8333/s): empty, 0.6 s later 0.5 tokens, wait 0.5 / 0.8333 = 0.6 s
    assert bucket_take(0.0, 0.6, 50 / 60, 5.0) == pytest.approx((0.5, 0.6))


@given(
    gaps=st.lists(st.floats(0.0, 3.0, allow_nan=False), min_size=1, max_size=200),
    per_minute=st.floats(6.0, 600.0),
    burst=st.integers(1, 10),
    window=st.floats(0.1, 60.0),
)
def test_bucket_never_lets_more_than_burst_plus_rate_times_the_span(
    gaps: list[float], per_minute: float, burst: int, window: float
) -> None:
    """Requests asked at any times: in any span of W seconds at most burst + rate * W are
    taken, and tokens stay within [0, burst]; a wait told is never negative."""
    rate = per_minute / 60
    tokens, last, now, taken = float(burst), 0.0, 0.0, []
    for gap in gaps:
        now += gap
        tokens, wait = bucket_take(tokens, now - last, rate, burst)
        last = now
        assert 0.0 <= tokens <= burst and wait >= 0.0
        if wait == 0.0:
            taken.append(now)
    for i, start in enumerate(taken):
        inside = sum(1 for t in taken[i:] if t <= start + window)
        assert inside <= burst + rate * window + 1e-9


def test_two_pools_draw_from_one_budget(db: str) -> None:
    """Two 'hosts' (pools) with 4 threads each asking as fast as they can for 3 s: together at
    most burst + rate * 3 s (120 a minute = 2/s, burst 3: 3 + 6 = 9)."""
    pools = [PgPool(db), PgPool(db)]
    taken: list[float] = []
    guard = threading.Lock()
    stop_at = time.monotonic() + 3.0

    def hammer(budget: PgSheetsBudget) -> None:
        while time.monotonic() < stop_at:
            wait = budget.take("svc@x", "write")
            if wait == 0.0:
                with guard:
                    taken.append(time.monotonic())
            else:
                time.sleep(min(wait, max(0.0, stop_at - time.monotonic())))

    try:
        budgets = [PgSheetsBudget(p, per_minute=120, burst=3) for p in pools]
        threads = [threading.Thread(target=hammer, args=(b,)) for b in budgets for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert 7 <= len(taken) <= 3 + 2 * 3 + 1  # +1: the last take may land past the 3 s
        assert budgets[0].take("svc@x", "read") == 0.0  # reads have a budget of their own
    finally:
        for p in pools:
            p.close()


# ------------------------------------------------------------------ database down


def test_a_database_out_of_reach_is_503(db: str, cluster: PrivateCluster, tmp_path: Path) -> None:
    name = db.rsplit("/", 1)[1]
    made = CliRunner().invoke(main, ["keys", "create", "down", "--state", db])
    key_id = made.output.split("key id:")[1].split()[0]
    signer = Signer(key_id, made.output.split("secret:")[1].split()[0])
    app = create_app(Settings(keys_dir=tmp_path, state_url=db))
    try:
        with TestClient(app) as client:
            body = b'{"args": [[[1, 2, 3]], "2026-11-03"]}'

            def call() -> tuple[int, dict[str, object], dict[str, str]]:
                headers = signer.headers("POST", "/functions/RUNRATE", body)
                headers["Content-Type"] = "application/json"
                r = client.post("/functions/RUNRATE", content=body, headers=headers)
                return r.status_code, r.json(), dict(r.headers)

            assert call()[0] == 200
            with psycopg.connect(cluster.url, autocommit=True) as con:
                con.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'.encode())
                con.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (name,),
                )
            for _ in range(2):  # the broken connection, then no new one within the timeout
                status, payload, headers = call()
                assert status == 503, payload
                error = payload["error"]
                assert isinstance(error, dict) and error["code"] == "state_unavailable"
                assert "PostgreSQL" in str(error["message"]) and headers["retry-after"] == "30"
            assert client.get("/health").status_code == 200  # no state needed
            with psycopg.connect(cluster.url, autocommit=True) as con:
                con.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'.encode())
            deadline = time.monotonic() + 10
            while call()[0] != 200:
                assert time.monotonic() < deadline, "the pool did not reconnect"
                time.sleep(0.2)
    finally:
        app.state.server.backends.close()
        use_shared_budget(None)


def test_serve_refuses_to_start_without_its_database(tmp_path: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:9/nowhere"  # port 9: nothing listens
    done = CliRunner().invoke(main, ["serve", "--keys-dir", str(tmp_path), "--state", url])
    assert done.exit_code != 0 and "cannot reach the shared state" in done.output


def test_the_shared_verifier_reads_the_revocation_on_every_request(db: str) -> None:
    """The signing key is read once per process; the revocation on every request, in the same
    round trip as the replay check."""
    from addin.server.shared_state.postgres_verify import PgVerifier
    from addin.server.signing import AuthError

    made = PgKeyStore(url=db).create("verify")
    pool = PgPool(db)
    now = time.time()

    def check(signer: Signer, nonce: str) -> str:
        headers = signer.headers("POST", "/functions/X", b"{}", now=now, nonce=nonce)
        lowered = {k.lower(): v for k, v in headers.items()}
        return verifier.verify("POST", "/functions/X", lowered, b"{}", now=now)

    try:
        verifier = PgVerifier(PgKeyStore(pool=pool), PgReplayCache(pool, 300), 300)
        signer = Signer(made.id, made.secret)
        assert check(signer, "a" * 16) == made.id
        with pytest.raises(AuthError) as again:
            check(signer, "a" * 16)  # the same signed request again
        assert (again.value.status, again.value.code) == (401, "replayed")
        PgKeyStore(url=db).revoke(made.id)  # by another process; the signing key is cached
        with pytest.raises(AuthError) as gone:
            check(signer, "b" * 16)
        assert (gone.value.status, gone.value.code) == (403, "revoked_key")
        with pytest.raises(AuthError) as wrong:
            check(Signer(made.id, "not the secret"), "c" * 16)
        assert (wrong.value.status, wrong.value.code) == (401, "bad_signature")
        with pytest.raises(AuthError) as unknown:
            check(Signer("fpk_0000000000000000", "x"), "d" * 16)
        assert (unknown.value.status, unknown.value.reason) == (401, "unknown_key")
    finally:
        pool.close()
