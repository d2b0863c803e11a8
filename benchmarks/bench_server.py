"""Function server: RUNRATE for 10,000 lines x 31 days in one request vs 10,000 single-line calls.

Starts the server for real (uvicorn on a free localhost port, a temporary key), signs every
request, and prints for each way the wall time over HTTP and the server's compute time (the
`Server-Timing` header: parsing of the arguments and the registry calls, not JSON decoding of
the body), and the ratio.

    python benchmarks/bench_server.py [--lines 10000] [--days 31]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "addin"))

from live_server import SignedClient, live_server, new_signer

from addin.server.settings import Settings


def _server_s(response: object) -> float:
    timing = response.headers.get("server-timing", "")  # type: ignore[attr-defined]
    return float(timing.split("dur=")[1]) / 1000 if "dur=" in timing else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=31)
    args = parser.parse_args()
    rnd = random.Random(7)
    lines = [[round(rnd.uniform(0, 1000), 2) for _ in range(args.days)] for _ in range(args.lines)]
    as_of = f"2026-{'12' if args.days == 31 else '11'}-{args.days:02d}"
    with tempfile.TemporaryDirectory() as tmp:
        signer = new_signer(Path(tmp), "bench")
        with live_server(Settings(keys_dir=Path(tmp))) as url:
            client = SignedClient(url, signer, timeout=600)
            body = json.dumps({"args": [lines, as_of], "by_row": True})
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


if __name__ == "__main__":
    main()
