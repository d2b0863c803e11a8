"""Which attribution model finds the channels that really bring the conversions? Simulated
journeys whose true incremental contributions are known.

    python benchmarks/bench_attribution_quality.py [--visitors 300000] [--seeds 3]

Each simulated visitor has an intent (high for 25 %, low otherwise) and is exposed to channels:

- **assists** (Video, Display, Social): seen early (5-25 days before the end), each on its own
  chance; they really raise the chance to convert, and rarely come last;
- **middle** (Search Generic, Email): 2-10 days before, raise it too;
- **closers** (Retargeting, Search Brand, Direct): seen last (0-2 days before), far more often by
  high-intent visitors and (Retargeting, Search Brand) by those an assist reached; they add
  little or nothing themselves: they *cannibalise*, taking the last touch of conversions that
  would have happened anyway.

A visitor converts with ``p = 1 - (1 - base[intent]) * prod over their channels (1 - lift[c])``
(``base`` 0.004 or 0.04 is conversion that no channel caused). The truth, exact from the
generator on the same visitors: channel ``c``'s removal effect is ``1 - sum p(without c) /
sum p``, everyone keeping their other channels, i.e. the share of expected conversions lost
without ``c``; its true share is its effect over the effects' sum. A second scenario, the
control, makes the closers causal (lift 0.02 each) and exposed independently of intent.

Reported per model, over `--seeds` runs: the mean absolute error of channel shares (credited
conversions / all) against the true shares, in percentage points; for Markov also the error of
the raw removal effects against the true ones (and, for scale, of last-touch shares read as the
loss). The journeys go through `build_paths` like real
ones (30-day lookback).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planning.attribution import MODELS, attribute, build_paths, removal_effects

END = pd.Timestamp("2026-11-30 23:00")


@dataclass(frozen=True)
class Channel:
    name: str
    role: str  # assist | middle | closer
    exposure: float  # base chance of being exposed
    lift: float  # its own effect on the chance to convert
    ages: tuple[float, float]  # days before the end


ASSISTS = (
    Channel("Video", "assist", 0.30, 0.030, (5, 25)),
    Channel("Display", "assist", 0.40, 0.015, (5, 25)),
    Channel("Social", "assist", 0.30, 0.025, (5, 25)),
)
MIDDLE = (
    Channel("Search Generic", "middle", 0.30, 0.030, (2, 10)),
    Channel("Email", "middle", 0.15, 0.015, (2, 10)),
)
CLOSERS = (
    Channel("Retargeting", "closer", 0.05, 0.003, (0, 2)),
    Channel("Search Brand", "closer", 0.05, 0.002, (0, 2)),
    Channel("Direct", "closer", 0.10, 0.0, (0, 2)),
)
BASE = {False: 0.004, True: 0.04}


@dataclass(frozen=True)
class Visitors:
    exposed: np.ndarray  # (n, channels) bool
    p: np.ndarray  # chance to convert
    truth: np.ndarray  # true removal effect per channel
    touches: pd.DataFrame
    outcomes: pd.DataFrame


def simulate(n: int, seed: int, confounded: bool) -> tuple[tuple[Channel, ...], Visitors]:
    rng = np.random.default_rng(seed)
    channels = ASSISTS + MIDDLE + CLOSERS
    if not confounded:
        channels = (
            ASSISTS + MIDDLE + tuple(Channel(c.name, c.role, 0.25, 0.02, c.ages) for c in CLOSERS)
        )
    high = rng.random(n) < 0.25
    exposed = np.zeros((n, len(channels)), dtype=bool)
    for i, c in enumerate(channels[:5]):
        exposed[:, i] = rng.random(n) < c.exposure
    assisted = exposed[:, :3].sum(axis=1)
    chance = {
        "Retargeting": 0.05 + 0.35 * (assisted > 0) + 0.20 * high,
        "Search Brand": 0.05 + 0.10 * assisted + 0.40 * high,
        "Direct": 0.10 + 0.35 * high,
    }
    for i, c in enumerate(channels[5:], start=5):
        p_c = chance[c.name] if confounded else np.full(n, c.exposure)
        exposed[:, i] = rng.random(n) < p_c
    seen = exposed.any(axis=1)
    exposed, high = exposed[seen], high[seen]
    lift = np.array([c.lift for c in channels])
    log_stay = np.log1p(-np.where(high, BASE[True], BASE[False])) + exposed @ np.log1p(-lift)
    p = -np.expm1(log_stay)
    without = -np.expm1(log_stay[:, None] - exposed * np.log1p(-lift)[None, :])
    truth = 1 - without.sum(axis=0) / p.sum()
    converts = rng.random(len(p)) < p
    touches, outcomes = frames(channels, exposed, converts, rng)
    return channels, Visitors(exposed, p, truth, touches, outcomes)


def frames(
    channels: tuple[Channel, ...],
    exposed: np.ndarray,
    converts: np.ndarray,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Touches (1-2 per exposed channel, at the channel's ages; a closer comes early 10 % of the
    time) and outcomes (at the end, for the converting visitors)."""
    visitor, channel = np.nonzero(exposed)
    repeats = rng.integers(1, 3, len(visitor))
    visitor, channel = np.repeat(visitor, repeats), np.repeat(channel, repeats)
    low = np.array([c.ages[0] for c in channels])[channel]
    high = np.array([c.ages[1] for c in channels])[channel]
    closer = np.array([c.role == "closer" for c in channels])[channel]
    early = closer & (rng.random(len(channel)) < 0.10)
    low, high = np.where(early, 5.0, low), np.where(early, 20.0, high)
    age_days = rng.uniform(low, high)
    ts = END.to_datetime64() - (age_days * 86_400e9).astype("timedelta64[ns]")
    names = np.array([c.name for c in channels], dtype=object)
    touches = pd.DataFrame({"journey": visitor, "ts": ts, "channel": names[channel]})
    winners = np.flatnonzero(converts)
    outcomes = pd.DataFrame(
        {"journey": winners, "ts": np.full(len(winners), END.to_datetime64()), "conversions": 1.0}
    )
    return touches, outcomes


def evaluate(n: int, seed: int, confounded: bool) -> tuple[dict[str, float], pd.DataFrame]:
    """Per model, the mean absolute error of shares (percentage points); and the per-channel
    shares."""
    channels, visitors = simulate(n, seed, confounded)
    paths, _ = build_paths(visitors.touches, visitors.outcomes, lookback_days=30.0)
    order = [paths.channels.index(c.name) for c in channels]
    true_share = visitors.truth / visitors.truth.sum()
    table = {"truth": true_share}
    errors: dict[str, float] = {}
    for model in MODELS:
        for k in (1, 2, 3) if model == "markov" else (1,):
            label = f"markov order {k}" if model == "markov" else model
            share = attribute(paths, model, order=k).shares()[order]
            table[label] = share
            errors[label] = 100 * float(np.mean(np.abs(share - true_share)))
    for k in (1, 2, 3):
        effect = removal_effects(paths, k).effect[order]
        errors[f"markov order {k}: removal effects vs true effects"] = 100 * float(
            np.mean(np.abs(effect - visitors.truth))
        )
        table[f"effect, order {k}"] = effect
    last = attribute(paths, "last_touch").shares()[order]
    errors["last_touch share read as the loss vs true effects"] = 100 * float(
        np.mean(np.abs(last - visitors.truth))
    )
    table["true effect"] = visitors.truth
    frame = pd.DataFrame(table, index=[c.name for c in channels])
    return errors, frame


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().splitlines()[0])
    parser.add_argument("--visitors", type=int, default=300_000)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    for confounded, title in ((True, "assists + cannibalising closers"), (False, "control")):
        runs = [evaluate(args.visitors, seed, confounded) for seed in range(1, args.seeds + 1)]
        print(f"\n### {title}: mean absolute error of channel shares, percentage points")
        print(f"({args.seeds} runs of {args.visitors:,} visitors; mean and range)\n")
        print("| model | MAE, pp | min | max |")
        print("| --- | ---: | ---: | ---: |")
        for label in runs[0][0]:
            values = np.array([errors[label] for errors, _ in runs])
            print(f"| {label} | {values.mean():.2f} | {values.min():.2f} | {values.max():.2f} |")
        shares = runs[0][1]
        print("\nPer channel, run 1 (shares and effects in %):\n")
        columns = ["truth", "last_touch", "linear", "position", "markov order 1"]
        columns += ["markov order 2", "shapley", "true effect", "effect, order 1"]
        print("| channel | " + " | ".join(columns) + " |")
        print("| --- |" + " ---: |" * len(columns))
        for name, row in shares.iterrows():
            cells = " | ".join(f"{100 * row[c]:.1f}" for c in columns)
            print(f"| {name} | {cells} |")


if __name__ == "__main__":
    main()
