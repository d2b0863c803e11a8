"""The fact store on PostgreSQL beside the embedded DuckDB store; COPY against executemany.

    python benchmarks/bench_pg_store.py [--rows 1000000] [--many 100000] [--url postgresql://...]

Builds `--rows` ad fact rows (November 2026: 30 days x campaigns x spend, impressions, traffic,
platform leads) and times, on a DuckDB file and on a PostgreSQL database (`--url`, else a private
cluster started from tests/pg.py with ``fsync`` turned back on, so commits reach the disk):

(a) the load (`FactStore.load`: one transaction, the window delete, the bulk insert, the log);
(b) the same file again (the same hash: the idempotent skip);
(c) a window restatement: a re-export of days 16-30 (half the rows) with new values;
(d) the read-back of the month's facts (`FactStore.source_facts`, categorical keys);
(e) the store's ordered sum (``SUM(value ORDER BY value)``: the same bits on every run) against a
    plain ``SUM(value)``, grouped per fact key and per day and metric.

The sums read back are checked equal on both stores. Then, on PostgreSQL, `--many` rows go into a
table shaped like ``source_facts`` three ways: ``COPY`` from pandas' CSV (what the store does),
``COPY`` row by row (``write_row``, what it falls back to when a text is the null marker), and
``executemany`` of an ``INSERT``: why the store uses COPY. Machines here are shared and noisy;
absolute seconds are indicative, the ratios are the point.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import psycopg

from sheets_sync.facts import FACT_COLUMNS, FileInfo, ReadResult, empty_quarantine
from sheets_sync.store import FactStore
from sheets_sync.store_backend import copy_frame

T = TypeVar("T")
NOV = dt.date(2026, 11, 1)
METRICS = np.array(["spend", "impressions", "traffic", "platform_leads"], dtype=object)


def facts_frame(rows: int, first_day: int = 1, scale: float = 1.0) -> pd.DataFrame:
    """`rows` facts over days `first_day`..30 of November (4 metrics per campaign and day)."""
    days = 31 - first_day
    campaigns = max(1, rows // (4 * days))
    i = np.arange(days * campaigns * 4)
    names = np.array([f"campaign {k}" for k in range(campaigns)], dtype=object)
    return pd.DataFrame(
        {
            "date": pd.Timestamp(NOV) + pd.to_timedelta(first_day - 1 + i // (4 * campaigns), "D"),
            "source": "yandex_direct",
            "utm_source": "yandex",
            "utm_medium": "cpc",
            "utm_campaign": names[(i // 4) % campaigns],
            "metric": METRICS[i % 4],
            "basis": "event",
            "value": ((i % 997) * scale).astype(np.float64),
        }
    )


def read_result(facts: pd.DataFrame, first_day: int) -> ReadResult:
    info = FileInfo(path="yandex.csv", source="yandex_direct", kind="ad")
    info.date_from, info.date_to = NOV.replace(day=first_day), NOV.replace(day=30)
    return ReadResult(facts, empty_quarantine(), info)


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def store_steps(location: Path | str, rows: int) -> dict[str, Any]:
    """(a)-(d) on one store; seconds per step and the month's sum read back."""
    full, half = facts_frame(rows), facts_frame(rows // 2, first_day=16, scale=2.0)
    out: dict[str, Any] = {}
    with FactStore(location) as store:
        loaded, out["load"] = timed(lambda: store.load(read_result(full, 1), "v1"))
        again, out["same file again"] = timed(lambda: store.load(read_result(full, 1), "v1"))
        restated, out["restate days 16-30"] = timed(lambda: store.load(read_result(half, 16), "v2"))
        month, out["read the month"] = timed(
            lambda: store.source_facts(start=NOV, end=NOV.replace(day=30))
        )
        out.update(sum_orders(store))
    assert not loaded.skipped and again.skipped and restated.replaced > 0
    out["rows"], out["sum"] = loaded.rows, float(month["value"].sum())
    return out


SUMS = {"plain": "SUM(value)", "ordered": "SUM(value ORDER BY value)"}
GROUPINGS = {"per fact key": "date, utm_campaign, metric", "per day and metric": "date, metric"}


def _frame(store: FactStore, sql: str) -> pd.DataFrame:
    return store.con.execute(sql).df()


def sum_orders(store: FactStore) -> dict[str, float]:
    """(e) The store's ordered sum (`SUM(value ORDER BY value)`, the same bits whatever order a
    parallel GROUP BY meets the rows in) against a plain `SUM(value)`: the whole table grouped
    per fact key (one row a group, as the read's) and per day and metric (thousands a group).
    Best of three each; the sums must agree to 1e-9."""
    out: dict[str, float] = {}
    for grouping, keys in GROUPINGS.items():
        totals = {}
        for name, aggregate in SUMS.items():
            sql = f"SELECT {keys}, {aggregate} AS value FROM source_facts GROUP BY {keys}"
            runs = [timed(partial(_frame, store, sql)) for _ in range(3)]
            out[f"{name} sum {grouping}"] = min(seconds for _, seconds in runs)
            totals[name] = float(runs[0][0]["value"].sum())
        assert abs(totals["plain"] - totals["ordered"]) <= 1e-9 * abs(totals["plain"]), totals
    return out


def insert_ways(url: str, rows: int) -> dict[str, float]:
    """`rows` facts into a plain table three ways (see the module); seconds each."""
    frame = facts_frame(rows)
    columns = ", ".join(FACT_COLUMNS)
    out: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("DROP TABLE IF EXISTS bench_facts")
        con.execute("CREATE TABLE bench_facts (LIKE source_facts)")

        def by_csv_copy() -> None:
            with con.transaction():
                copy_frame(con, "bench_facts", frame)

        def by_row_copy() -> None:
            sql = f"COPY bench_facts ({columns}) FROM STDIN"
            with con.transaction(), con.cursor() as cur, cur.copy(sql) as copy:
                for row in frame.itertuples(index=False):
                    copy.write_row(row)

        def by_executemany() -> None:
            marks = ", ".join("%s" for _ in FACT_COLUMNS)
            values = list(frame.itertuples(index=False, name=None))
            with con.transaction(), con.cursor() as cur:
                cur.executemany(f"INSERT INTO bench_facts ({columns}) VALUES ({marks})", values)

        for name, way in (
            ("COPY (pandas CSV, the store's)", by_csv_copy),
            ("COPY write_row (row by row)", by_row_copy),
            ("executemany INSERT", by_executemany),
        ):
            con.execute("TRUNCATE bench_facts")
            _, out[name] = timed(way)
            count = con.execute("SELECT count(*) FROM bench_facts").fetchone()
            assert count is not None and count[0] == len(frame), (name, count)
        con.execute("DROP TABLE bench_facts")
    return out


def private_cluster() -> tuple[Any, str]:
    """A private PostgreSQL cluster (tests/pg.py) with fsync on, and a database URL in it."""
    sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))
    from pg import PrivateCluster, pg_bin_dir

    bin_dir = pg_bin_dir()
    if bin_dir is None:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql), or pass --url")
    cluster = PrivateCluster(bin_dir)
    with psycopg.connect(cluster.url, autocommit=True) as con:
        con.execute("ALTER SYSTEM SET fsync = on")
        con.execute("SELECT pg_reload_conf()")
        con.execute("CREATE DATABASE bench")
    return cluster, cluster.url.rsplit("/", 1)[0] + "/bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--many", type=int, default=100_000, help="rows for COPY vs executemany")
    parser.add_argument("--url", help="an empty PostgreSQL database (default: a private one)")
    args = parser.parse_args()
    cluster, url = (None, args.url) if args.url else private_cluster()
    try:
        with tempfile.TemporaryDirectory() as folder:
            duck = store_steps(Path(folder) / "facts.duckdb", args.rows)
        pg = store_steps(url, args.rows)
        assert duck["sum"] == pg["sum"] and duck["rows"] == pg["rows"], (duck, pg)
        ways = insert_ways(url, args.many)
    finally:
        if cluster is not None:
            cluster.stop()
    print(f"{duck['rows']:,} fact rows; the month read back sums to {duck['sum']:,.0f} on both")
    print(f"{'step':<34}{'DuckDB s':>10}{'PostgreSQL s':>14}{'PG / DuckDB':>13}")
    steps = ["load", "same file again", "restate days 16-30", "read the month"]
    steps += [f"{name} sum {grouping}" for grouping in GROUPINGS for name in SUMS]
    for step in steps:
        ratio = pg[step] / duck[step] if duck[step] else float("nan")
        print(f"{step:<34}{duck[step]:>10.3f}{pg[step]:>14.3f}{ratio:>12.1f}x")
    for grouping in GROUPINGS:
        key = f"sum {grouping}"
        print(
            f"ordered / plain {key}: DuckDB {duck[f'ordered {key}'] / duck[f'plain {key}']:.1f}x, "
            f"PostgreSQL {pg[f'ordered {key}'] / pg[f'plain {key}']:.1f}x"
        )
    print(f"\n{args.many:,} rows into a PostgreSQL table:")
    fastest = min(ways.values())
    for name, seconds in ways.items():
        rate = args.many / seconds
        print(f"  {name:<32}{seconds:>8.3f} s {rate:>12,.0f} rows/s {seconds / fastest:>7.1f}x")


if __name__ == "__main__":
    main()
