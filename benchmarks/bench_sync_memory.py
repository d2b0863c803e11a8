"""Peak memory of reading, inspecting and loading a large ad export, each in a fresh process.

    python benchmarks/bench_sync_memory.py [--rows 4000000] [--keep DIR]

Writes one Yandex Direct daily campaign report as Direct writes it (cp1251, ``;``,
dd.mm.yyyy, NBSP thousands and decimal commas, a title line, a UTM column, an ``Итого`` row)
of `--rows` rows, 10,000 campaigns a day (``--rows 4000000``: 400 days, 200 MB), in a
temporary folder, then runs in a child process each of

* ``read``: `read_ad_export` (what every sync and inspect does first);
* ``inspect``: `inspect` + `render` (the ``funnelplan inspect`` command);
* ``sync``: `read_ad_export` then `FactStore.load` into a fresh DuckDB store (the sync's
  read and load steps, where its memory goes);

and prints each one's seconds and peak RSS (`resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`
after the child ends: the child's high-water mark, every allocation counted). The target of
issue 17: a 200 MB export syncs in at most 1.5 GB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
"""The checkout whose code is measured (put first on the children's path)."""
CAMPAIGNS = 10_000
LAST_DAY = dt.date(2026, 11, 17)

CHILD = {
    "read": (
        "from sheets_sync.sources.ad_export import read_ad_export\n"
        "from sheets_sync.sources.column_map import SourceOptions\n"
        "r = read_ad_export(PATH, SourceOptions(source='google'))\n"
        "print(len(r.facts), len(r.quarantine), r.info.rows_ok)\n"
    ),
    "inspect": (
        "from sheets_sync.sources.inspect_file import inspect, render\n"
        "r = inspect(PATH)\n"
        "print(len(render(r)))\n"
    ),
    "sync": (
        "from pathlib import Path\n"
        "from sheets_sync.sources.ad_export import read_ad_export\n"
        "from sheets_sync.sources.column_map import SourceOptions\n"
        "from sheets_sync.store import FactStore\n"
        "r = read_ad_export(PATH, SourceOptions(source='google'))\n"
        "db = Path(PATH).with_suffix('.duckdb')\n"
        "db.unlink(missing_ok=True)\n"
        "store = FactStore(db)\n"
        "store.con.execute('SET enable_progress_bar = false')\n"
        "print(store.load(r, 'bench'))\n"
    ),
}


def _ru(values: list[float], decimals: int) -> list[str]:
    """Numbers as Direct writes them: NBSP thousands, decimal comma."""
    return [f"{v:,.{decimals}f}".replace(",", "\xa0").replace(".", ",") for v in values]


def write_export(path: Path, rows: int, seed: int = 1) -> None:
    """`rows` rows (whole days of `CAMPAIGNS`), newest day last, and a totals row."""
    rng = np.random.default_rng(seed)
    days = max(rows // CAMPAIGNS, 1)
    first = LAST_DAY - dt.timedelta(days=days - 1)
    names = [f"C{i:05d} Поиск;utm=c{i:05d}" for i in range(CAMPAIGNS)]
    totals = np.zeros(3)
    with path.open("w", encoding="cp1251", newline="") as out:
        out.write(f'"Статистика по дням: {first:%d.%m.%Y} - {LAST_DAY:%d.%m.%Y}"\r\n')
        out.write("Дата;Кампания;UTM;Показы;Клики;Расход (руб.)\r\n")
        for d in range(days):
            day = f"{first + dt.timedelta(days=d):%d.%m.%Y}"
            clicks = rng.poisson(30.0, CAMPAIGNS)
            impressions = clicks * rng.integers(15, 60, CAMPAIGNS)
            cost = np.round(clicks * rng.gamma(2.0, 0.6, CAMPAIGNS), 2)
            totals += [impressions.sum(), clicks.sum(), cost.sum()]
            columns = (_ru(impressions.tolist(), 0), _ru(clicks.tolist(), 0), _ru(cost.tolist(), 2))
            out.write(
                "".join(
                    f"{day};{n};{i};{c};{s}\r\n" for n, i, c, s in zip(names, *columns, strict=True)
                )
            )
        total = _ru(totals.tolist()[:2], 0) + _ru(totals.tolist()[2:], 2)
        out.write(f"Итого;;;{';'.join(total)}\r\n")


def measure(mode: str, path: Path) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, the child's output) of one mode in a fresh process."""
    code = f"PATH = {str(path)!r}\n" + CHILD[mode]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak <= before:  # ru_maxrss is the largest child so far: run modes biggest-last
        print(f"warning: {mode}'s peak did not exceed an earlier child's", file=sys.stderr)
    return seconds, peak / 1024, done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="write the export here")
    parser.add_argument("--modes", default="read,inspect,sync")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "direct_big.csv"
        write_export(path, args.rows)
        size = path.stat().st_size / 1e6
        print(f"export: {args.rows:,} rows, {size:,.0f} MB")
        for mode in args.modes.split(","):
            # each mode in its own parent too, so RUSAGE_CHILDREN is that child's alone
            if len(args.modes.split(",")) > 1:
                out = subprocess.run(
                    [sys.executable, __file__, "--measure", mode, str(path)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                print(out.stdout.strip())
            else:
                seconds, peak, said = measure(mode, path)
                print(f"{mode}: {seconds:,.1f} s, peak RSS {peak:,.0f} MB ({said})")


def measure_main(mode: str, path: str) -> None:
    seconds, peak, said = measure(mode, Path(path))
    print(f"{mode}: {seconds:,.1f} s, peak RSS {peak:,.0f} MB ({said})")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--measure":
        measure_main(sys.argv[2], sys.argv[3])
    else:
        main()
