"""Decision quality of the cohort forecast: the simulation of benchmarks/bench_cohort_forecast.py
(known gamma lags, weekend dip, Poisson leads, lead-volume shifts, three months of history; the
lag curves estimated from the deals), smaller: 40 months of 4 channels (the benchmark runs 60),
no forecast with the true curves, a fixed seed. About 6 seconds.

The cohort forecast of month-end purchases must beat the straight line (month-to-date stretched
to the month) at days 10, 15 and 20: the ratio of mean absolute % errors (cohort / straight
line) below 0.85, 0.95 and 1.0. Over seeds 1..12 of this size the ratios were at most 0.78,
0.88 and 0.93 (seed 3: 0.61, 0.74, 0.87); the cohort's edge shrinks as the month fills up (by
day 20 most of the month's purchases have happened, and both see the same unforeseeable lead
shifts after it). Against last-5 the ratios were at most 0.62: below 0.75 is asserted.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_cohort_forecast.py"
MARGINS = {10: 0.85, 15: 0.95, 20: 1.0}


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_cohort_forecast", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("seed", [3])
def test_cohort_forecast_beats_the_straight_line(seed: int) -> None:
    bench = _bench()
    errors = bench.evaluate(40, seed, with_true_curves=False)
    assert len(errors) == 40 * 3 * 4
    mean = errors.groupby("day")[["cohort", "straight line", "last 5"]].mean()
    for day, margin in MARGINS.items():
        cohort, line, last5 = mean.loc[day]
        assert cohort < margin * line, f"day {day}: cohort {cohort:.1f}% vs line {line:.1f}%"
        assert cohort < 0.75 * last5, f"day {day}: cohort {cohort:.1f}% vs last 5 {last5:.1f}%"
