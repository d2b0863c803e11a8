"""Attribution from a file: a Metrica-style visits CSV read, loaded into the DuckDB fact store,
read back as journeys and attributed; each step timed (the "read from a CSV through the store,
reported separately" of docs/benchmarks.md, "Attribution").

    python benchmarks/bench_attribution_io.py [--journeys 1000000] [--seed 3]

Journeys: 10 channels by UTM, 1-8 visits each over the 30 days before the last, 5% converting
(the goal column on the last visit). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from planning.attribution import attribute, build_paths, removal_effects
from sheets_sync.sources.column_map import SourceOptions
from sheets_sync.sources.paths_export import read_paths_export
from sheets_sync.store import FactStore

CHANNELS = [(f"src{i}", "cpc" if i % 2 else "display") for i in range(10)]
HEADER = (
    "ID визита;ClientID;Дата и время визита;Источник трафика;UTM Source;UTM Medium;"
    "UTM Campaign;Цель: Заявка"
)


def write_visits(path: Path, journeys: int, seed: int) -> int:
    """The CSV; returns its rows."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 9, journeys)
    rows = int(lengths.sum())
    client = np.repeat(np.arange(journeys, dtype=np.int64) + 10**15, lengths)
    end = pd.Timestamp("2026-11-30") - pd.to_timedelta(rng.integers(0, 30 * 86400, journeys), "s")
    back = rng.integers(0, 30 * 86400, rows)
    ts = np.repeat(end.to_numpy(), lengths) - back.astype("timedelta64[s]")
    order = np.lexsort((ts, client))
    client, ts = client[order], ts[order]
    channel = rng.integers(0, len(CHANNELS), rows)
    last = np.r_[client[1:] != client[:-1], True]
    converts = np.repeat(rng.random(journeys) < 0.05, lengths)[order] & last
    frame = pd.DataFrame(
        {
            "id": np.arange(rows) + 7 * 10**9,
            "client": client,
            "ts": pd.to_datetime(ts).strftime("%d.%m.%Y %H:%M:%S"),
            "traffic": "Рекламные переходы",
            "source": [CHANNELS[c][0] for c in channel],
            "medium": [CHANNELS[c][1] for c in channel],
            "campaign": [f"camp{c}" for c in channel],
            "goal": converts.astype(int),
        }
    )
    with path.open("w", encoding="utf-8") as f:
        f.write(HEADER + "\n")
        frame.to_csv(f, sep=";", header=False, index=False)
    return rows


def timed(step: str, results: list[tuple[str, float]], func):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = func()
    results.append((step, time.perf_counter() - start))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--journeys", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    results: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "metrica_visits.csv"
        rows = timed(
            "write the CSV (not part of the path)",
            results,
            lambda: write_visits(csv, args.journeys, args.seed),
        )
        size = csv.stat().st_size
        read = timed(
            "read the visits CSV (read_paths_export)",
            results,
            lambda: read_paths_export(csv, SourceOptions(source="metrica")),
        )
        with FactStore(Path(tmp) / "facts.duckdb") as store:
            timed(
                "load into the fact store (load_paths)",
                results,
                lambda: store.load_paths(read, "bench"),
            )
            touches, outcomes = timed("read the journeys back (paths)", results, store.paths)
        touches = touches.assign(channel=touches["utm_source"] + " / " + touches["utm_medium"])
        leads = outcomes[outcomes["kind"] == "lead"].assign(conversions=1.0)
        paths, _ = timed(
            "build_paths",
            results,
            lambda: build_paths(
                touches[["journey", "ts", "channel"]],
                leads[["journey", "ts", "conversions", "value"]],
            ),
        )
        timed(
            "rule models + Markov order 1",
            results,
            lambda: [
                attribute(paths, m)
                for m in (
                    "first_touch",
                    "last_touch",
                    "last_non_direct",
                    "linear",
                    "time_decay",
                    "position",
                    "markov",
                )
            ],
        )
        timed("removal effects, order 3", results, lambda: removal_effects(paths, 3))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{args.journeys:,} journeys, {rows:,} visit rows, CSV {size / 1e6:,.0f} MB; "
        f"{paths.journeys:,} journeys in the paths, {int(paths.conversions.sum()):,} leads; "
        f"peak RSS {peak:,.0f} MB\n"
    )
    print("| step | seconds |\n| --- | ---: |")
    for step, seconds in results:
        print(f"| {step} | {seconds:.2f} |")
    total = sum(s for step, s in results if not step.startswith("write"))
    print(f"| **from the file to every model** | **{total:.2f}** |")


if __name__ == "__main__":
    main()
