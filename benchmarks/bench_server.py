"""Function server: RUNRATE for 10,000 lines x 31 days in one request vs 10,000 single-line calls,
then 50 concurrent clients for 10 s.

1. Batch vs single calls: starts the server for real (uvicorn on a free localhost port, a
   temporary key), signs every request, and prints for each way the wall time over HTTP and the
   server's compute time (the `Server-Timing` header: parsing of the arguments and the registry
   calls, not JSON decoding of the body), and the ratio.
2. Load: the server as deployed (`uvicorn addin.server.app:create_app --factory`, one worker, in
   its own process) and `--clients` concurrent clients (httpx.AsyncClient, one connection each)
   that send signed requests back to back for `--seconds`: RUNRATE of one 31-day line, a
   different line each time (each request signed with its own nonce, the replay cache on).
   Prints the throughput (requests/s), the p50/p99 latency and the error count (anything but a
   200 with a number), which must be 0.

    python benchmarks/bench_server.py [--lines 10000] [--days 31] [--clients 50] [--seconds 10]
    python benchmarks/bench_server.py --skip-batch    # the load part alone
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "addin"))

from live_server import SignedClient, Signer, free_port, live_server, new_signer

from addin.server.settings import Settings


def _server_s(response: object) -> float:
    timing = response.headers.get("server-timing", "")  # type: ignore[attr-defined]
    return float(timing.split("dur=")[1]) / 1000 if "dur=" in timing else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--skip-batch", action="store_true", help="run the load part only")
    args = parser.parse_args()
    if not args.skip_batch:
        batch_vs_singles(args)
    load(args.clients, args.seconds)


def batch_vs_singles(args: argparse.Namespace) -> None:
    rnd = random.Random(7)
    lines = [[round(rnd.uniform(0, 1000), 2) for _ in range(args.days)] for _ in range(args.lines)]
    as_of = f"2026-{'12' if args.days == 31 else '11'}-{args.days:02d}"
    with tempfile.TemporaryDirectory() as tmp:
        signer = new_signer(Path(tmp), "bench")
        with live_server(Settings(keys_dir=Path(tmp))) as url:
            client = SignedClient(url, signer, timeout=600)
            body = json.dumps({"args": [lines, as_of], "by_row": True})
            warm = client.call("RUNRATE", lines[:1], as_of)  # imports and first-call costs
            assert warm.status_code == 200, warm.text[:300]
            t0 = time.perf_counter()
            r = client.call("RUNRATE", lines, as_of, by_row=True)
            one = time.perf_counter() - t0
            one_server = _server_s(r)
            assert r.status_code == 200, r.text[:300]
            batch = r.json()["values"]
            assert len(batch) == args.lines

            t0 = time.perf_counter()
            singles = []
            many_server = 0.0
            for line in lines:
                rs = client.call("RUNRATE", [line], as_of)
                assert rs.status_code == 200, rs.text[:300]
                singles.append(rs.json()["values"][0][0])
                many_server += _server_s(rs)
            many = time.perf_counter() - t0
            assert singles == [row[0] for row in batch]
            client.close()
    print(f"RUNRATE, {args.lines:,} lines x {args.days} days ({len(body) / 1e6:.1f} MB request)")
    print(f"  one batched request:         {one:8.2f} s wall, {one_server:8.2f} s server compute")
    print(
        f"  {args.lines:,} single-line calls: {many:8.2f} s wall, {many_server:8.2f} s server "
        f"compute ({many / args.lines * 1000:.2f} ms each)"
    )
    print(
        f"  ratio (singles / batch):     {many / one:8.1f}x wall, "
        f"{many_server / one_server:.1f}x server"
    )


def _percentile(sorted_values: list[float], q: float) -> float:
    """The `q` quantile (0..1) of sorted values, nearest rank."""
    rank = max(1, round(q * len(sorted_values) + 0.5))
    return sorted_values[min(rank, len(sorted_values)) - 1]


async def _client(
    url: str, signer: Signer, client_id: int, stop_at: float, latencies: list[float]
) -> int:
    """One client sending signed RUNRATE calls back to back until `stop_at`; its error count."""
    rnd = random.Random(client_id)
    errors = 0
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as http:
        k = 0
        while time.perf_counter() < stop_at:
            k += 1
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
            latencies.append(time.perf_counter() - t0)
            errors += not ok
    return errors


async def _load(url: str, signer: Signer, clients: int, seconds: float) -> tuple[list[float], int]:
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds
    errors = await asyncio.gather(
        *(_client(url, signer, i, stop_at, latencies) for i in range(clients))
    )
    return latencies, sum(errors)


def load(clients: int, seconds: float) -> None:
    """`clients` concurrent clients for `seconds` against the server in its own process."""
    with tempfile.TemporaryDirectory() as tmp:
        signer = new_signer(Path(tmp), "load")
        port = free_port()
        env = {**os.environ, "FUNNELPLAN_KEYS_DIR": tmp}
        command = [sys.executable, "-m", "uvicorn", "addin.server.app:create_app", "--factory"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        server = subprocess.Popen(command, env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(url + "/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the server did not start")
                time.sleep(0.1)
            t0 = time.perf_counter()
            latencies, errors = asyncio.run(_load(url, signer, clients, seconds))
            wall = time.perf_counter() - t0
        finally:
            server.terminate()
            server.wait(10)
    latencies.sort()
    ms = [x * 1000 for x in latencies]
    print(
        f"Load: {clients} concurrent clients for {seconds:g} s, RUNRATE of one 31-day line per "
        "request (signed, one uvicorn worker in its own process)"
    )
    print(f"  requests:   {len(ms):8,d} in {wall:.1f} s = {len(ms) / wall:8.0f} requests/s")
    print(
        f"  latency:    p50 {_percentile(ms, 0.5):6.1f} ms, p99 {_percentile(ms, 0.99):6.1f} ms, "
        f"max {ms[-1]:6.1f} ms (mean {statistics.fmean(ms):.1f} ms)"
    )
    print(f"  errors:     {errors:8d}")
    if errors:
        raise SystemExit(f"{errors} requests failed")


if __name__ == "__main__":
    main()
