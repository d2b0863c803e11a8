"""Run-rate of many plan lines at once: `forecast_frame` against the obvious per-line loop.

    python benchmarks/bench_runrate.py [--lines 2000] [--days 60] [--repeat 3]

Both compute the same forecasts (checked); the figure that matters is the ratio, measured in
the same run (machines here are shared and noisy, so absolute seconds are only indicative).
The obvious alternative is what a script would do: group the daily table by line and call
`forecast_series` on each line's series.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable

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
            "date": np.repeat(dates, lines),
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


def best_of(repeat: int, func: Callable[[], pd.DataFrame]) -> tuple[float, pd.DataFrame]:
    best, result = float("inf"), pd.DataFrame()
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
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
