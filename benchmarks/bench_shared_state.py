"""Shared PostgreSQL state vs the local folder: signed RUNRATE at 50 concurrent clients.

1. Load: the servers as deployed (`funnelplan serve`, each in its own process) and a load
   generator in a process of its own (asyncio + httpx, `--clients` clients, one connection each,
   every request signed with a fresh nonce as the clients do, RUNRATE of one 31-day line, a
   different line each time) for `--seconds`, after a warm-up. Set-ups, side by side:
   - ``1 x local``: one process, the keys folder's state (keys.json, replay.sqlite);
   - ``4 x local``: four processes on four ports sharing one keys folder (one host's workers);
   - ``4 x postgres``: four processes on four ports, ``--state postgresql://...`` (a private
     cluster on this machine), what several hosts behind a load balancer do.
   The clients are spread over the ports round-robin (no proxy in between). Prints the
   throughput, p50/p99 latency and errors of each, and the shared state's cost: 1 - its
   throughput / the local one's (target: < 20 %).
2. Cost per operation, in this process: the whole signature check of a request (key, HMAC,
   revocation, replay: keys.json and SQLite vs one PostgreSQL round trip) and a sheet lock
   taken and released (a lock file vs a lease row).

    python benchmarks/bench_shared_state.py [--clients 50] [--seconds 20] [--hosts 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

# the repository first: tests/addin (no __init__) must not shadow the addin package
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "addin"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from live_server import Signer, free_port, new_signer
from pg import PrivateCluster, pg_bin_dir

# ------------------------------------------------------------------ the load generator


def _percentile(sorted_values: list[float], q: float) -> float:
    rank = max(1, round(q * len(sorted_values) + 0.5))
    return sorted_values[min(rank, len(sorted_values)) - 1]


async def _client(
    url: str, signer: Signer, seed: int, warm_until: float, stop_at: float, lat: list[float]
) -> int:
    rnd = random.Random(seed)
    errors = 0
    async with httpx.AsyncClient(
        base_url=url, timeout=30, limits=httpx.Limits(max_connections=1)
    ) as http:
        while (now := time.perf_counter()) < stop_at:
            line = [round(rnd.uniform(0, 1000), 2) for _ in range(31)]
            body = json.dumps({"args": [[line], "2026-12-31"], "by_row": False}).encode()
            path = "/functions/RUNRATE"
            headers = {"Content-Type": "application/json", **signer.headers("POST", path, body)}
            t0 = time.perf_counter()
            try:
                r = await http.post(path, content=body, headers=headers)
                ok = r.status_code == 200 and isinstance(r.json()["values"][0][0], float)
            except (httpx.HTTPError, ValueError, KeyError, IndexError):
                ok = False
            if now >= warm_until:
                lat.append(time.perf_counter() - t0)
                errors += not ok
    return errors


async def _generate(
    urls: list[str], signer: Signer, clients: int, seconds: float
) -> dict[str, float]:
    lat: list[float] = []
    start = time.perf_counter()
    warm_until = start + 3.0
    stop_at = warm_until + seconds
    errors = await asyncio.gather(
        *(_client(urls[i % len(urls)], signer, i, warm_until, stop_at, lat) for i in range(clients))
    )
    lat.sort()
    ms = [x * 1000 for x in lat]
    return {
        "requests": len(ms),
        "per_s": len(ms) / seconds,
        "p50": _percentile(ms, 0.5),
        "p99": _percentile(ms, 0.99),
        "errors": sum(errors),
    }


def generator_main(argv: list[str]) -> None:
    """The load generator's process: ``--generate URLS KEY_ID SECRET CLIENTS SECONDS``."""
    urls, key_id, secret, clients, seconds = argv
    result = asyncio.run(
        _generate(urls.split(","), Signer(key_id, secret), int(clients), float(seconds))
    )
    print(json.dumps(result))


# ------------------------------------------------------------------ the servers


def _serve(port: int, keys_dir: Path, state: str | None, log: Path) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "addin.cli", "serve", "--port", str(port)]
    args += ["--keys-dir", str(keys_dir)]
    if state:
        args += ["--state", state]
    env = {k: v for k, v in os.environ.items() if k != "FUNNELPLAN_STATE"}
    with log.open("wb") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)


def _wait(urls: list[str]) -> None:
    deadline = time.monotonic() + 60
    for url in urls:
        while True:
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not start")
            time.sleep(0.1)


def run_setup(
    name: str, hosts: int, state: str | None, folder: Path, signer: Signer, args: argparse.Namespace
) -> dict[str, float]:
    """`hosts` servers sharing `state` (None: the keys folder) under the load generator."""
    ports = [free_port() for _ in range(hosts)]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    folder.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        for port in ports:
            proc = _serve(port, folder / "keys", state, folder / f"serve-{port}.log")
            stack.callback(proc.wait, 10)
            stack.callback(proc.terminate)
        _wait(urls)
        gen = subprocess.run(
            [
                sys.executable,
                __file__,
                "--generate",
                ",".join(urls),
                signer.key_id,
                signer.secret,
                str(args.clients),
                str(args.seconds),
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=args.seconds + 120,
        )
    if gen.returncode != 0:
        raise SystemExit(f"the load generator failed: {gen.stderr[-2000:]}")
    result: dict[str, float] = json.loads(gen.stdout.strip().splitlines()[-1])
    print(
        f"  {name:14s} {result['per_s']:8.0f} req/s   p50 {result['p50']:7.1f} ms   "
        f"p99 {result['p99']:7.1f} ms   errors {int(result['errors'])}",
        flush=True,
    )
    return result


# ------------------------------------------------------------------ per operation


def per_operation(url: str, folder: Path, n: int = 2000) -> None:
    """Per signed request, in this process: the whole signature check (`Verifier.verify`:
    key, signature, revocation, replay) local vs shared, and a sheet lock taken and released."""
    from addin.server.keys import KeyStore
    from addin.server.shared_state.local import FileSheetLocks
    from addin.server.shared_state.postgres import PgPool, PgReplayCache, migrate_url
    from addin.server.shared_state.postgres_keys import PgKeyStore
    from addin.server.shared_state.postgres_locks import PgSheetLocks
    from addin.server.shared_state.postgres_verify import PgVerifier
    from addin.server.shared_state.protocols import SheetLocks
    from addin.server.signing import ReplayCache, Verifier

    migrate_url(url)
    pool = PgPool(url, max_size=2)
    local_keys = KeyStore(folder / "ops")
    made_local = local_keys.create("ops")
    pg_keys = PgKeyStore(pool=pool)
    made_pg = pg_keys.create("ops")
    verifiers = [
        (Verifier(local_keys, ReplayCache(folder / "ops" / "replay.sqlite", 300), 300), made_local),
        (PgVerifier(pg_keys, PgReplayCache(pool, 300), 300), made_pg),
    ]
    body = b'{"args": [[[1, 2, 3]], "2026-12-31"]}'
    costs = []
    for verifier, made in verifiers:
        signer = Signer(made.id, made.secret)
        now = time.time()
        requests = [
            {k.lower(): v for k, v in signer.headers("POST", "/f", body, now=now).items()}
            for _ in range(n)
        ]
        t0 = time.perf_counter()
        for headers in requests:
            verifier.verify("POST", "/f", headers, body, now=now)
        costs.append((time.perf_counter() - t0) / n * 1e6)
    print(f"Cost per operation ({n:,} each, this process, one at a time):")
    print(
        f"  {'signature check (all)':24s} local {costs[0]:7.1f} us   postgres {costs[1]:7.1f} us"
        "   (key, HMAC, revocation, replay; postgres: one round trip)"
    )
    locks: list[SheetLocks] = [FileSheetLocks(folder / "ops" / "locks"), PgSheetLocks(pool, 30.0)]
    times = []
    for lock in locks:
        t0 = time.perf_counter()
        for i in range(n // 4):
            with lock.hold(f"1Sheet{i % 50:06d}"):
                pass
        times.append((time.perf_counter() - t0) / (n // 4) * 1e6)
    print(
        f"  {'sheet lock take+release':24s} local {times[0]:7.1f} us   postgres {times[1]:7.1f} us"
    )
    pool.close()


# ------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--hosts", type=int, default=4)
    args = parser.parse_args()
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
    print(
        f"{os.cpu_count()} cores; load: {args.clients} clients, {args.seconds:g} s after a 3 s "
        "warm-up"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cluster = PrivateCluster(bin_dir)
        try:
            url = cluster.url
            local_signer = new_signer(root / "local" / "keys", "bench")
            from addin.server.shared_state.backends import key_backend

            made = key_backend(root, url).create("bench")
            pg_signer = Signer(made.id, made.secret)
            results = {
                "1 x local": run_setup("1 x local", 1, None, root / "local", local_signer, args),
                f"{args.hosts} x local": run_setup(
                    f"{args.hosts} x local", args.hosts, None, root / "local", local_signer, args
                ),
                f"{args.hosts} x postgres": run_setup(
                    f"{args.hosts} x postgres", args.hosts, url, root / "pg", pg_signer, args
                ),
            }
            base = results["1 x local"]["per_s"]
            shared = results[f"{args.hosts} x postgres"]["per_s"]
            four_local = results[f"{args.hosts} x local"]["per_s"]
            print(f"  shared state's cost vs 1 x local: {1 - shared / base:+.1%} of throughput")
            print(f"  shared state's cost vs {args.hosts} x local: {1 - shared / four_local:+.1%}")
            per_operation(url, root)
        finally:
            cluster.stop()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--generate":
        generator_main(sys.argv[2:])
    else:
        main()
