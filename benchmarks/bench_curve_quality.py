"""Decision quality of Optimize Split's curves: the share of the oracle's uplift captured.

    python benchmarks/bench_curve_quality.py [--seeds 6] [--families mm hill power negexp mixed]
                                             [--noise low medium high] [--days 30 90 180]

Seeded markets of 6 channels whose true curves are known (`tests/planning/curve_markets.py`:
Michaelis-Menten, Hill with slope != 1, power, negative exponential, or all four mixed), at three
noise levels (``low``: ten times the conversions, Poisson; ``medium``: Poisson; ``high``: Poisson
over-dispersed by a gamma factor of CV 0.3) and 30, 90 or 180 days of history; 6 seeds of each:
270 markets, about three minutes. Every method proposes a split of the current budget within
the same limits (each channel between a third of and twice its current spend); each proposal is
scored with the true curves against the current split and the oracle (the exact optimum under
the true curves), side by side in the same run:

- ``before``: the fit as it was (AICc picks one of hill, power, negexp) + the exact optimizer;
  the same code path as before this benchmark, reached with ``average=False`` and those forms;
- ``naive MM + SLSQP``: `scipy.optimize.curve_fit` of ``a x / (k + x)`` per channel on its raw
  history, then SLSQP from the current split (the issue's comparison);
- ``pick + saturating``: AICc picks one of hill, saturating, power, negexp;
- ``after: average``: the default now, the four forms averaged by Akaike weight.

Reported per method (and per family, noise and history length): median, 10th percentile and
worst share of the oracle's uplift; the pooled share (summed uplift / summed oracle uplift); the
markets where the proposal is worse than the current split by more than the noise band (half
the summed 10-90% band widths of the ``before`` fit at the current split).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit, minimize

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "planning"))

from curve_markets import (
    FAMILIES,
    NOISE,
    Market,
    MarketSpec,
    Outcome,
    make_market,
    noise_band,
    score,
    summarise,
)

from planning.curves import FitOptions, fit_history

BEFORE = FitOptions(forms=("hill", "power", "negexp"), n_bootstrap=0, average=False)
"""The fit as it was: the form of smallest AICc among hill, power and negexp."""
BAND = FitOptions(forms=("hill", "power", "negexp"), n_bootstrap=40, average=False)
"""The fit whose band at the current split is a market's noise band (the same for every method)."""


def fitted(options: FitOptions) -> Callable[[Market], dict[str, float]]:
    """Fit every channel with `options`, then the exact optimizer."""

    def method(market: Market) -> dict[str, float]:
        fits = fit_history(market.history, options)
        return market.propose({c: fit.curve for c, fit in fits.items()})

    return method


def _mm(x: np.ndarray, a: float, k: float) -> np.ndarray:
    return a * x / (k + x)


def naive_mm_slsqp(market: Market) -> dict[str, float]:
    """`curve_fit` of ``a x / (k + x)`` per channel, then SLSQP from the current split."""
    params = {}
    for channel, rows in market.history.groupby("channel"):
        x, y = rows["spend"].to_numpy(float), rows["conversions"].to_numpy(float)
        p0 = (2 * max(float(np.max(y)), 1.0), float(np.median(x)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            try:
                (a, k), _ = curve_fit(_mm, x, y, p0=p0, bounds=(0, np.inf), maxfev=20_000)
            except RuntimeError:
                a, k = p0
        params[str(channel)] = (float(a), float(k))
    names = list(market.current)
    a = np.array([params[c][0] for c in names])
    k = np.array([params[c][1] for c in names])
    scale = market.budget / len(names)  # SLSQP on numbers near 1
    start = np.array([market.current[c] for c in names]) / scale
    bounds = [(b.min / scale, b.max / scale) for b in market.bounds.values()]
    total = market.budget / scale

    def value(u: np.ndarray) -> float:
        return -float(np.sum(_mm(u * scale, a, k)))

    def gradient(u: np.ndarray) -> np.ndarray:
        return -(a * k / (k + u * scale) ** 2) * scale

    res = minimize(
        value,
        start,
        jac=gradient,
        method="SLSQP",
        bounds=bounds,
        constraints=[{"type": "eq", "fun": lambda u: np.sum(u) - total, "jac": np.ones_like}],
        options={"maxiter": 500, "ftol": 1e-12},
    )
    return dict(zip(names, (res.x * scale).tolist(), strict=True))


def methods() -> dict[str, Callable[[Market], dict[str, float]]]:
    """The proposals compared, side by side on every market (``before`` first)."""
    return {
        "before": fitted(BEFORE),
        "naive MM + SLSQP": naive_mm_slsqp,
        "pick + saturating": fitted(FitOptions(n_bootstrap=0, average=False)),
        "after: average": fitted(FitOptions(n_bootstrap=0)),
    }


Results = dict[str, list[tuple[MarketSpec, Outcome]]]


def run(specs: list[MarketSpec]) -> tuple[Results, dict[str, float]]:
    """Every method on every market; the noise band of a market is the ``before`` fit's."""
    table: Results = {name: [] for name in methods()}
    seconds = dict.fromkeys(table, 0.0)
    for spec in specs:
        market = make_market(spec)
        band = noise_band(market, fit_history(market.history, BAND))
        for name, method in methods().items():
            began = time.perf_counter()
            split = method(market)
            seconds[name] += time.perf_counter() - began
            table[name].append((spec, score(market, split, band)))
    return table, seconds


HEAD = "| {} | markets | median | 10th pct | worst | pooled | worse than current |"
RULE = "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"


def _row(label: str, outcomes: list[Outcome]) -> str:
    s = summarise(outcomes)
    return (
        f"| {label} | {s.markets} | {s.median:.3f} | {s.p10:.3f} | {s.worst:.3f} | "
        f"{s.pooled:.3f} | {s.worse} |"
    )


def _mm_only(spec: MarketSpec) -> bool:
    return spec.family == "mm"


def report(table: Results, seconds: dict[str, float]) -> None:
    specs = [spec for spec, _ in next(iter(table.values()))]
    print(f"\nAll {len(specs)} markets (seconds: fitting and optimising, all markets)\n")
    print(HEAD.format("method") + "\n" + RULE)
    for name, rows in table.items():
        print(_row(f"{name} ({seconds[name]:.0f} s)", [o for _, o in rows]))
    groups: list[tuple[str, Callable[[MarketSpec], object], Callable[[MarketSpec], bool]]] = [
        ("family", lambda s: s.family, lambda s: True),
        ("noise", lambda s: s.noise, lambda s: True),
        ("days of history", lambda s: s.days, lambda s: True),
        ("noise and days", lambda s: f"{s.noise}, {s.days}", lambda s: True),
        ("noise and days, Michaelis-Menten markets", lambda s: f"{s.noise}, {s.days}", _mm_only),
    ]
    for title, key, keep in groups:
        print(f"\nBy {title}\n")
        print(HEAD.format(f"{title}: method") + "\n" + RULE)
        for value in dict.fromkeys(key(s) for s in specs if keep(s)):
            for name, rows in table.items():
                chosen = [o for s, o in rows if keep(s) and key(s) == value]
                print(_row(f"{value}: {name}", chosen))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--families", nargs="+", default=list(FAMILIES))
    parser.add_argument("--noise", nargs="+", default=list(NOISE))
    parser.add_argument("--days", type=int, nargs="+", default=[30, 90, 180])
    args = parser.parse_args()
    specs = [
        MarketSpec(family, noise, days, seed)
        for family in args.families
        for noise in args.noise
        for days in args.days
        for seed in range(1, args.seeds + 1)
    ]
    report(*run(specs))


if __name__ == "__main__":
    main()
