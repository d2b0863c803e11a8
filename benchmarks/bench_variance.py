"""Variance explained for many channel-months: `decompose_arrays` against a per-row loop.

    python benchmarks/bench_variance.py [--rows 10000] [--repeat 3] [--seed 1] [--holes 0.02]

Each row is a channel-month of the demo funnel (spend, traffic, leads, calls, PP, negotiations,
purchases, revenue) in plan and in fact: plan spend log-uniform 50,000-2,000,000, CPC 20-200,
CRs in the demo's ranges, fact each node's plan times a lognormal factor (sd 0.2). A share
`--holes` of rows gets a zero or a blank somewhere in fact (the vectorised form leaves those
rows to `decompose`, so the hybrid timing runs `decompose` on them).

Timed, best of `--repeat`: the per-row loop (`decompose` on a `PlanFact` per row, purchases and
revenue), the vectorised form (`decompose_arrays`, both metrics), and the hybrid (vectorised,
then `decompose` on the rows not done). The script checks that the vectorised effects equal
the loop's on every row done (to 1e-9 relative to the row's scale) and that every row's parts
add up to its gap. The figure that matters is the ratio in the same run (shared, noisy machines).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from planning.funnel import DEFAULT_FUNNEL
from planning.variance import Decomposition, PlanFact, decompose
from planning.variance_arrays import ArrayDecomposition, decompose_arrays

NODES = ("spend", *DEFAULT_FUNNEL.names, "revenue")
CR_RANGES = {
    "leads": (0.01, 0.08),
    "calls": (0.4, 0.9),
    "pp": (0.3, 0.7),
    "negotiations": (0.4, 0.8),
    "purchases": (0.2, 0.6),
}

Columns = dict[str, np.ndarray]
_R = TypeVar("_R")


def make_rows(n: int, seed: int, holes: float) -> tuple[Columns, Columns]:
    rng = np.random.default_rng(seed)
    plan: Columns = {"spend": np.exp(rng.uniform(np.log(5e4), np.log(2e6), n))}
    plan["traffic"] = plan["spend"] / rng.uniform(20, 200, n)
    previous = "traffic"
    for stage, (low, high) in CR_RANGES.items():
        plan[stage] = plan[previous] * rng.uniform(low, high, n)
        previous = stage
    plan["revenue"] = plan["purchases"] * rng.uniform(2e4, 2e5, n)
    fact = {k: v * rng.lognormal(0.0, 0.2, n) for k, v in plan.items()}
    odd = np.flatnonzero(rng.random(n) < holes)
    for i in odd:
        node = NODES[rng.integers(1, len(NODES) - 1)]
        fact[node][i] = 0.0 if rng.random() < 0.5 else np.nan
    return plan, fact


def loop(plan: Columns, fact: Columns) -> list[tuple[Decomposition, Decomposition]]:
    out = []
    n = len(plan["spend"])
    plan_rows = [
        dict(zip(NODES, r, strict=True)) for r in np.column_stack([plan[k] for k in NODES]).tolist()
    ]
    fact_rows = [
        dict(zip(NODES, r, strict=True)) for r in np.column_stack([fact[k] for k in NODES]).tolist()
    ]
    for i in range(n):
        line = PlanFact(f"row {i}", plan_rows[i], fact_rows[i])
        out.append((decompose(line), decompose(line, metric="revenue")))
    return out


def vectorised(plan: Columns, fact: Columns) -> tuple[ArrayDecomposition, ArrayDecomposition]:
    return decompose_arrays(plan, fact), decompose_arrays(plan, fact, metric="revenue")


def hybrid(plan: Columns, fact: Columns) -> tuple[Any, ...]:
    purchases, revenue = vectorised(plan, fact)
    rest = np.flatnonzero(~(purchases.done & revenue.done))
    sub_plan = {k: v[rest] for k, v in plan.items()}
    sub_fact = {k: v[rest] for k, v in fact.items()}
    return purchases, revenue, loop(sub_plan, sub_fact)


def best_of(repeat: int, func: Callable[[], _R]) -> tuple[float, _R]:
    best, result = float("inf"), None
    for _ in range(max(repeat, 1)):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    assert result is not None
    return best, result


def check(
    rows: list[tuple[Decomposition, Decomposition]], arrays: tuple[ArrayDecomposition, ...]
) -> int:
    """Every row done equals the loop's parts; every row's parts add up to its gap."""
    compared = 0
    for which, out in enumerate(arrays):
        for i, pair in enumerate(rows):
            d = pair[which]
            scale = sum(abs(p.effect) for p in d.parts) + abs(d.plan) + abs(d.fact) + 1.0
            if np.isfinite(d.gap):
                assert (
                    abs(sum(p.effect for p in d.parts) + d.not_comparable - d.gap) <= 1e-9 * scale
                )
            if out.done[i]:
                assert [p.key for p in d.parts] == list(out.keys)
                diff = np.abs(out.effects[i] - [p.effect for p in d.parts]).max()
                assert diff <= 1e-9 * scale, (i, diff)
                compared += 1
    return compared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--holes", type=float, default=0.02)
    args = parser.parse_args()
    plan, fact = make_rows(args.rows, args.seed, args.holes)
    t_loop, rows = best_of(args.repeat, lambda: loop(plan, fact))
    t_vec, arrays = best_of(args.repeat, lambda: vectorised(plan, fact))
    t_hyb, _ = best_of(args.repeat, lambda: hybrid(plan, fact))
    compared = check(rows, arrays)
    not_done = int((~(arrays[0].done & arrays[1].done)).sum())
    print(
        f"{args.rows:,} channel-months, purchases and revenue, default funnel ({len(NODES)} nodes)"
    )
    print(
        f"  rows with a zero or blank (left to decompose): {not_done:,}; "
        f"rows compared: {compared:,}"
    )
    print(f"  per-row loop (decompose):   {t_loop * 1e3:9.1f} ms")
    print(f"  vectorised (numpy):         {t_vec * 1e3:9.1f} ms   x{t_loop / t_vec:,.0f} faster")
    print(f"  hybrid (numpy + loop rest): {t_hyb * 1e3:9.1f} ms   x{t_loop / t_hyb:,.0f} faster")


if __name__ == "__main__":
    main()
