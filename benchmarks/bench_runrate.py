"""Run-rate of many plan lines at once: `forecast_frame` against the obvious per-line loop.

    python benchmarks/bench_runrate.py [--lines 2000] [--days 60] [--repeat 3]
    python benchmarks/bench_runrate.py --by-rows [--lines 10000] [--days 31]

`--by-rows` times the spreadsheet function instead: RUNRATE of every line in one batched call
(`SheetFunction.evaluate_rows`, what the function server's ``"by_row": true`` request runs)
against one `SheetFunction.evaluate` per line (what single calls run), in process, with the
arguments exactly as the server hands them over (each line a one-row range, as-of as text). The
results must be identical (checked); the singles are timed on `--singles` lines and scaled.

Both compute the same forecasts (checked); the figure that matters is the ratio, measured in
the same run (machines here are shared and noisy, so absolute seconds are only indicative).
The obvious alternative is what a script would do: group the daily table by line and call
`forecast_series` on each line's series.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from planning.runrate import METHODS, forecast_frame, forecast_series

MONTH = dt.date(2026, 11, 1)
AS_OF = dt.date(2026, 11, 17)
METRICS = ["spend", "leads"]


def make_daily(lines: int, days: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = [AS_OF - dt.timedelta(days=d) for d in range(days)]
    frame = pd.DataFrame(
        {
            "date": np.repeat(np.array(dates, dtype=object), lines),
            "line": np.tile([f"line {i}" for i in range(lines)], days),
            "spend": rng.gamma(4, 2500, lines * days).round(2),
            "leads": rng.poisson(6, lines * days),
        }
    )
    return frame


def per_line(daily: pd.DataFrame, method: str) -> pd.DataFrame:
    rows = []
    for line, group in daily.groupby("line", sort=False):
        row: dict[str, object] = {"line": line}
        for m in METRICS:
            series = pd.Series(group[m].to_numpy(), index=pd.to_datetime(group["date"]))
            row[f"{m}_rr"] = forecast_series(series, MONTH, AS_OF, method=method).forecast  # type: ignore[arg-type]
        rows.append(row)
    return pd.DataFrame(rows)


_R = TypeVar("_R")


def best_of(repeat: int, func: Callable[[], _R]) -> tuple[float, _R]:
    best, result = float("inf"), None
    for _ in range(max(repeat, 1)):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    assert result is not None
    return best, result


def by_rows(lines: int, days: int, repeat: int, singles: int) -> None:
    """RUNRATE's batched evaluation against single calls, with identical results."""
    from addin.functions import FUNCTIONS

    fn = FUNCTIONS["RUNRATE"]
    rnd = random.Random(7)
    values = [[round(rnd.uniform(0, 1000), 2) for _ in range(days)] for _ in range(lines)]
    as_of = f"2026-{'12' if days == 31 else '11'}-{min(days, 30):02d}"
    rows: list[list[Any]] = [[[line], as_of] for line in values]
    fn.evaluate_rows(rows[:2])  # first-call costs
    t_batch, batch = best_of(repeat, lambda: fn.evaluate_rows(rows))
    some = rows[: min(singles, lines)]
    t_some, one_by_one = best_of(1, lambda: [fn.evaluate(*row) for row in some])
    assert one_by_one == batch[: len(some)], "the batch and the single calls differ"
    t_single = t_some * lines / len(some)
    print(
        f"RUNRATE {lines:,} lines x {days} days: by rows {t_batch * 1000:8.1f} ms | single "
        f"calls {t_single * 1000:8.1f} ms ({len(some):,} timed, scaled) | "
        f"{t_single / t_batch:6.1f}x faster (same results)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=None)
    parser.add_argument("--days", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--by-rows", action="store_true", help="time RUNRATE's batched call")
    parser.add_argument("--singles", type=int, default=2000)
    args = parser.parse_args()
    if args.by_rows:
        by_rows(args.lines or 10_000, args.days or 31, max(args.repeat, 5), args.singles)
        return
    args.lines, args.days = args.lines or 2000, args.days or 60
    daily = make_daily(args.lines, args.days)
    print(f"{args.lines} lines x {args.days} days, {len(daily):,} rows; best of {args.repeat}")
    for method in METHODS:
        t_vec, vec = best_of(
            args.repeat,
            lambda method=method: forecast_frame(  # type: ignore[misc]
                daily, MONTH, AS_OF, keys=["line"], metrics=METRICS, method=method
            ),
        )
        t_loop, loop = best_of(1, lambda method=method: per_line(daily, method))  # type: ignore[misc]
        for m in METRICS:
            np.testing.assert_allclose(vec[f"{m}_rr"], loop[f"{m}_rr"], rtol=1e-9)
        print(
            f"{method:<11} forecast_frame {t_vec * 1000:8.1f} ms | per-line loop "
            f"{t_loop * 1000:8.1f} ms | {t_loop / t_vec:6.1f}x faster (same results)"
        )


if __name__ == "__main__":
    main()
