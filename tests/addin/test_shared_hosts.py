"""Two (and a third, killed) real `funnelplan serve` processes on different ports sharing one
PostgreSQL state (a private cluster), buttons against the Sheets API double: a request replayed
on the other host is refused, a revocation made anywhere is refused everywhere on the next
request, a sheet locked by one host is 409 on the other and freed after the lease when its
holder is killed -9, and the Sheets requests of both hosts together stay within the budget."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from click.testing import CliRunner
from demo_cache import run_demo
from live_server import Signer, free_port
from pg import PrivateCluster
from shared_hosts import Host, fresh_database, private_postgres, start_host, wait_healthy
from sheets_double import Fault, SheetsDouble
from sheets_double.seeding import seed_from_xlsx

from addin.cli.main import main
from addin.server.shared_state.migrate import SCHEMA

pytestmark = pytest.mark.slow

LEASE = 3.0  # seconds a killed host keeps its sheet
PER_MINUTE, BURST = 18.0, 1.0  # the shared Sheets budget: 0.3 requests a second of each kind
SHEETS = [f"1SharedSheet{i:04d}" for i in range(3)]


class TimedDouble(SheetsDouble):
    """The double, with the time of every Sheets call (reads: GET, writes: POST)."""

    def __init__(self) -> None:
        super().__init__(reads_per_minute=10_000, writes_per_minute=10_000)
        self.times: list[tuple[float, str]] = []

    def charge(self, user: str, method: str) -> None:
        with self.lock:
            self.times.append((time.monotonic(), method))
        super().charge(user, method)


@dataclass
class Setup:
    url: str  # the state database
    hosts: list[Host]
    double: TimedDouble
    env: dict[str, str]
    root: Path
    credentials: Path


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    with private_postgres() as c:
        yield c


@pytest.fixture(scope="module")
def setup(cluster: PrivateCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """Two hosts started at once on a fresh database (both migrate; both must come up)."""
    root = tmp_path_factory.mktemp("hosts")
    url = fresh_database(cluster, "shared_hosts")
    demo = run_demo(root / "demo").workbook
    with TimedDouble() as double:
        double.require_auth = True
        for sheet in SHEETS:
            seed_from_xlsx(double, sheet, demo, "ru_RU")
        credentials = double.service_account_file(root)
        env = {
            "FUNNELPLAN_SHEETS_API_ROOT": double.url,
            "FUNNELPLAN_LOCK_LEASE_SECONDS": str(LEASE),
            "FUNNELPLAN_SHEETS_PER_MINUTE": str(PER_MINUTE),
            "FUNNELPLAN_SHEETS_BURST": str(BURST),
        }
        args = ("--google-credentials", str(credentials))
        started = [
            start_host(free_port(), root / f"host{i}", url, env, args, wait=False) for i in range(2)
        ]
        try:
            for host in started:
                wait_healthy(host)
            yield Setup(url, started, double, env, root, credentials)
        finally:
            for host in started:
                host.stop()


def new_key(setup: Setup, name: str, sheet: str | None = None) -> Signer:
    args = ["keys", "create", name, "--state", setup.url]
    done = CliRunner().invoke(main, [*args, "--sheet", sheet] if sheet else args)
    assert done.exit_code == 0, done.output
    key_id = done.output.split("key id:")[1].split()[0]
    return Signer(key_id, done.output.split("secret:")[1].split()[0])


def runrate(host: Host, signer: Signer) -> httpx.Response:
    body = b'{"args": [[[10, 20, 30]], "2026-11-03"]}'
    headers = signer.headers("POST", "/functions/RUNRATE", body)
    headers["Content-Type"] = "application/json"
    return httpx.post(host.url + "/functions/RUNRATE", content=body, headers=headers, timeout=30)


def press(host: Host, signer: Signer, sheet: str) -> httpx.Response:
    path = f"/sheets/{sheet}/actions/refresh_runrate"
    return httpx.post(host.url + path, headers=signer.headers("POST", path, b""), timeout=120)


def test_both_hosts_came_up_on_one_fresh_database(setup: Setup) -> None:
    with psycopg.connect(setup.url) as con:
        rows = con.execute(f"SELECT version FROM {SCHEMA}.schema_version").fetchall()
    assert rows == [(1,)]
    assert all(h.process.poll() is None for h in setup.hosts)


def test_a_request_replayed_on_the_other_host_is_refused(setup: Setup) -> None:
    a, b = setup.hosts
    signer = new_key(setup, "replay")
    body = b'{"args": [[[10, 20, 30]], "2026-11-03"]}'
    headers = signer.headers("POST", "/functions/RUNRATE", body)
    headers["Content-Type"] = "application/json"
    first = httpx.post(a.url + "/functions/RUNRATE", content=body, headers=headers)
    assert first.status_code == 200, first.text
    again = httpx.post(b.url + "/functions/RUNRATE", content=body, headers=headers)
    assert again.status_code == 401 and again.json()["error"]["code"] == "replayed"
    assert runrate(b, signer).status_code == 200  # a fresh nonce passes on either host


def test_a_key_revoked_on_one_host_is_refused_by_the_other(setup: Setup) -> None:
    a, b = setup.hosts
    signer = new_key(setup, "revoke")
    assert runrate(a, signer).status_code == 200
    assert runrate(b, signer).status_code == 200
    done = CliRunner().invoke(main, ["keys", "revoke", signer.key_id, "--state", setup.url])
    assert done.exit_code == 0, done.output
    for host in (b, a):  # the very next request, on either host
        r = runrate(host, signer)
        assert r.status_code == 403 and r.json()["error"]["code"] == "revoked_key", r.text


def _lock_holder(url: str, sheet: str) -> str | None:
    with psycopg.connect(url) as con:
        row = con.execute(
            f"SELECT holder FROM {SCHEMA}.sheet_locks WHERE spreadsheet = %s", (sheet,)
        ).fetchone()
    return None if row is None else str(row[0])


def test_a_locked_sheet_is_409_on_the_other_host_and_freed_after_its_holder_dies(
    setup: Setup,
) -> None:
    a, _ = setup.hosts
    sheet = SHEETS[0]
    signer = new_key(setup, "lock", sheet)
    args = ("--google-credentials", str(setup.credentials))
    c = start_host(free_port(), setup.root / "host-killed", setup.url, setup.env, args)
    try:
        setup.double.inject(Fault(delay=30, method="GET"))  # C's button hangs on its read
        stuck = threading.Thread(target=lambda: _ignore_errors(press, c, signer, sheet))
        stuck.start()
        deadline = time.monotonic() + 20
        while _lock_holder(setup.url, sheet) is None:
            assert time.monotonic() < deadline, "host C never took the sheet's lock"
            time.sleep(0.05)
        busy = press(a, signer, sheet)
        assert busy.status_code == 409 and busy.json()["error"]["code"] == "busy", busy.text
        time.sleep(LEASE)  # C renews its lease while the button runs
        assert press(a, signer, sheet).status_code == 409
        c.kill()  # kill -9: no release, no renewal any more
        killed_at = time.monotonic()
        assert press(a, signer, sheet).status_code == 409  # the lease still runs
        while (r := press(a, signer, sheet)).status_code == 409:
            assert time.monotonic() - killed_at < LEASE + 5, "the dead host kept the sheet"
            time.sleep(0.2)
        assert r.status_code == 200, r.text
        assert time.monotonic() - killed_at > LEASE / 3  # freed by expiry, not at once
        assert _lock_holder(setup.url, sheet) is None  # A released its own at the end
    finally:
        c.kill()
        setup.double.clear_faults()


def _ignore_errors(fn: object, *args: object) -> None:
    with contextlib.suppress(httpx.HTTPError):  # the host is killed mid-request
        fn(*args)  # type: ignore[operator]


def _most_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(
        (sum(1 for t in times[i:] if t <= start + window) for i, start in enumerate(times)),
        default=0,
    )


def test_the_sheets_budget_holds_across_hosts(setup: Setup) -> None:
    """Three clients pressing buttons on three sheets, alternating hosts, for 10 s: each kind
    of Sheets request of both hosts together stays within burst + rate x span (0.3 a second,
    burst 1: at most 1 + 1.5 = 2.5 in any 5 s, +1 for the hop from the database to the
    double), while the demand (unthrottled, about 0.7 reads a second) is more than that."""
    a, b = setup.hosts
    signers = [new_key(setup, f"budget {s}", s) for s in SHEETS]
    with setup.double.lock:
        setup.double.times.clear()
    statuses: list[int] = []
    stop_at = time.monotonic() + 10

    def client(i: int) -> None:
        k = 0
        while time.monotonic() < stop_at:
            host = (a, b)[(i + k) % 2]
            k += 1
            statuses.append(press(host, signers[i], SHEETS[i]).status_code)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(SHEETS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    with setup.double.lock:
        times = list(setup.double.times)
    reads = [t for t, m in times if m == "GET"]
    writes = [t for t, m in times if m == "POST"]
    assert statuses and set(statuses) == {200}, statuses
    rate = PER_MINUTE / 60
    for window in (1.0, 5.0, 10.0):
        limit = BURST + rate * window + 1
        assert _most_in_any_window(reads, window) <= limit, (window, sorted(reads))
        assert _most_in_any_window(writes, window) <= limit, (window, sorted(writes))
    span = max(reads) - min(reads)
    assert len(reads) >= 0.8 * rate * span  # the budget was used up, not left idle
    assert len(writes) >= 1
