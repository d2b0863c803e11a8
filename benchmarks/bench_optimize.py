"""Optimize Split: `planning.optimize.maximize` against scipy SLSQP on the same curves.

    python benchmarks/bench_optimize.py [--sizes 10 100 1000] [--cap 120] [--restarts 20]
                                        [--restart-cap 600] [--seed 1]

SLSQP with an analytic gradient, the budget as an equality constraint and per-channel bounds is
how PyMC-Marketing's and Robyn's budget allocators solve the problem (a local, gradient-based
solver). Both sides get the same curves and budget and are timed in the same run; objectives are
evaluated with the same code. Machines here are shared and noisy: the ratio is the figure that
matters, absolute times are indicative.

- concave: half Michaelis-Menten (Hill, slope 1), half negative exponential; SLSQP starts from
  the even split. Each SLSQP run is capped at `--cap` seconds of wall clock (a callback raises),
  and at 1,000 iterations; where it gave up, its last iterate is what is compared.
- S-shaped: Hill curves with slope 1.5-3; SLSQP runs from the even split and then random
  starts, up to `--restarts` runs or `--restart-cap` seconds in all, and the best feasible
  objective counts. The table says how many runs finished; the time ratio is SLSQP's total over
  all its runs (what it takes to get its best objective) to ours.

The concave budget is the sum of the curves' half-saturation spends `k`; the S-shaped one 0.6 of
it, so that not every S-shaped channel can be switched on.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from planning.optimize import maximize
from planning.response import Curve, CurveStack, Hill, NegExp


def make_curves(kind: str, n: int, seed: int) -> tuple[dict[str, Curve], float]:
    rng = np.random.default_rng(seed)
    vmax = rng.uniform(20, 200, n)
    k = rng.uniform(500, 5000, n)
    curves: dict[str, Curve] = {}
    for i in range(n):
        if kind == "concave":
            curves[f"ch{i}"] = Hill(vmax[i], k[i], 1.0) if i % 2 == 0 else NegExp(vmax[i], k[i])
        else:
            curves[f"ch{i}"] = Hill(vmax[i], k[i], float(rng.uniform(1.5, 3.0)))
    budget = float(np.sum(k)) * (1.0 if kind == "concave" else 0.6)
    return curves, budget


class _OutOfTime(Exception):
    pass


@dataclass
class SlsqpRun:
    objective: float
    seconds: float
    iterations: int
    gave_up: str  # "" when SLSQP stopped by itself
    violation: float  # |sum(x) - budget|


def slsqp(stack: CurveStack, budget: float, start: np.ndarray, cap: float) -> SlsqpRun:
    """SLSQP as budget allocators run it: analytic gradient, sum(x) == budget, 0 <= x <= budget."""
    n = stack.n
    last = {"x": start.copy(), "it": 0}
    began = time.perf_counter()

    def value(x: np.ndarray) -> float:
        return -float(np.sum(stack.response(np.maximum(x, 0.0))))

    def gradient(x: np.ndarray) -> np.ndarray:
        return -stack.marginal(np.maximum(x, 1e-9))

    def watch(x: np.ndarray) -> None:
        last["x"], last["it"] = x.copy(), int(last["it"]) + 1
        if time.perf_counter() - began > cap:
            raise _OutOfTime

    gave_up = ""
    try:
        res = minimize(
            value,
            start,
            jac=gradient,
            method="SLSQP",
            bounds=[(0.0, budget)] * n,
            constraints=[
                {"type": "eq", "fun": lambda x: np.sum(x) - budget, "jac": lambda x: np.ones(n)}
            ],
            options={"maxiter": 1000, "ftol": 1e-12},
            callback=watch,
        )
        x, iterations = res.x, int(res.nit)
        if not res.success:
            gave_up = f"stopped: {res.message}"
    except _OutOfTime:
        x, iterations = np.asarray(last["x"]), int(last["it"])
        gave_up = f"time cap {cap:g} s after {iterations} iterations"
    seconds = time.perf_counter() - began
    x = np.clip(x, 0.0, budget)
    return SlsqpRun(-value(x), seconds, iterations, gave_up, abs(float(np.sum(x)) - budget))


def best_of(repeat: int, func: Callable[[], float]) -> tuple[float, float]:
    best, value = math.inf, math.nan
    for _ in range(repeat):
        began = time.perf_counter()
        value = func()
        best = min(best, time.perf_counter() - began)
    return best, value


def run(kind: str, n: int, args: argparse.Namespace) -> dict[str, object]:
    curves, budget = make_curves(kind, n, args.seed + n)
    stack = CurveStack(list(curves.values()))
    repeat = 5 if kind == "concave" or n <= 100 else 1
    result = maximize(curves, budget)
    ours_s, ours_obj = best_of(repeat, lambda: maximize(curves, budget).objective)
    even = np.full(n, budget / n)
    if kind == "concave":
        runs = [slsqp(stack, budget, even, args.cap)]
    else:
        rng = np.random.default_rng(args.seed)
        runs, began = [], time.perf_counter()
        while len(runs) < args.restarts and time.perf_counter() - began < args.restart_cap:
            start = even if not runs else budget * rng.dirichlet(np.full(n, 0.5))
            left = args.restart_cap - (time.perf_counter() - began)
            runs.append(slsqp(stack, budget, start, min(args.cap, max(left, 1.0))))
    feasible = [r for r in runs if r.violation <= 1e-6 * budget] or runs
    best = max(feasible, key=lambda r: r.objective)
    slsqp_s = sum(r.seconds for r in runs) / len(runs)
    slsqp_all = sum(r.seconds for r in runs)
    return {
        "kind": kind,
        "n": n,
        "ours_ms": ours_s * 1e3,
        "ours_obj": ours_obj,
        "method": result.method,
        "slsqp_ms": slsqp_s * 1e3,
        "slsqp_all_ms": slsqp_all * 1e3,
        "slsqp_obj": best.objective,
        "runs": len(runs),
        "gave_up": sum(bool(r.gave_up) for r in runs),
        "note": next((r.gave_up for r in runs if r.gave_up), ""),
        "ratio": slsqp_all / ours_s,
        "gap": (ours_obj - best.objective) / abs(best.objective),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--kinds", nargs="+", default=["concave", "s-shaped"])
    parser.add_argument("--cap", type=float, default=120.0, help="seconds per SLSQP run")
    parser.add_argument("--restarts", type=int, default=20)
    parser.add_argument("--restart-cap", type=float, default=600.0, help="seconds for all runs")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(
        "| curves | channels | maximize | method | SLSQP per run | runs | SLSQP all runs "
        "| time ratio | objective: ours | best SLSQP | ours − SLSQP (relative) | SLSQP gave up |"
    )
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for kind in args.kinds:
        for n in args.sizes:
            r = run(kind, n, args)
            print(
                f"| {r['kind']} | {r['n']:,} | {r['ours_ms']:,.1f} ms | {r['method']} "
                f"| {r['slsqp_ms']:,.0f} ms | {r['runs']} | {r['slsqp_all_ms']:,.0f} ms "
                f"| {r['ratio']:,.1f}× "
                f"| {r['ours_obj']:,.4f} | {r['slsqp_obj']:,.4f} | {r['gap']:+.2e} "
                f"| {r['gave_up']}/{r['runs']}{': ' + str(r['note']) if r['note'] else ''} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
