"""Attribution on a million journeys: our models' speed, and side by side with
`marketing-attribution-models` (PyPI, imported as ``mam``).

    python benchmarks/bench_attribution.py [--journeys 1000000] [--seed 1]
                                           [--mam-journeys 1000000] [--no-mam]

The journeys (seeded): 10 channels with unequal frequencies ("Direct" one of them), 1-8 touches
each (uniform), touches spread over the 35 days before the journey's end (so some fall outside
the 30-day lookback), the rows in time order as an export gives them; about 5 % of journeys
convert, more often when they touched the stronger channels; a converting journey has value.

Timed, in one run: `build_paths` from the touches and outcomes frames; each rule model and
Markov order 1 (`attribute`, which for ``markov`` includes the removal effects; target: all
of these < 2 s together); `removal_effects` of orders 1, 2 and 3 (target: order 3 < 10 s);
Shapley.

Then `mam` (version 2.1.1 measured) on the same kept touches: its preprocessing
(``MAM(format_type="session")``, polars) and each model both have, with the largest difference
in attributed conversions per channel. Its time decay counts hours to the journey's last touch
where ours counts days to the conversion: the weights, normalised within a journey, are the same
(the ages differ by a constant per journey). Its Markov splits each journey's conversion among
the journey's own touches by their removal effects; ours splits the total by the effects'
shares; the removal effects themselves are compared too.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import scipy

from planning.attribution import MODELS, Paths, attribute, build_paths, removal_effects

T = TypeVar("T")
CHANNELS = (
    "Direct",
    "Display",
    "Email",
    "Organic",
    "Partners",
    "Retargeting",
    "Search Brand",
    "Search Generic",
    "Social",
    "Video",
)
FREQUENCY = np.array([14, 10, 6, 12, 4, 9, 10, 16, 11, 8], dtype=float)
STRENGTH = np.array([0.6, 0.7, 1.1, 0.9, 0.5, 1.3, 1.6, 1.2, 0.8, 0.9])
END = pd.Timestamp("2026-11-30 23:00")
RULES = MODELS[:6]
SHARED = {  # our model -> mam's runner
    "first_touch": "run_first_click",
    "last_touch": "run_last_click",
    "linear": "run_linear",
    "time_decay": "run_time_decay",
    "position": "run_position_based",
    "markov": "run_markov",
}


def timed(run: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = run()
    return result, time.perf_counter() - start


def journeys(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Touches (journey, ts, channel) in time order and outcomes (journey, ts, value)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 9, n)
    total = int(lengths.sum())
    journey = np.repeat(np.arange(n, dtype=np.int64), lengths)
    channel = rng.choice(len(CHANNELS), size=total, p=FREQUENCY / FREQUENCY.sum())
    end = END - pd.to_timedelta(rng.integers(0, 60 * 24 * 60, n), unit="m")
    age_s = rng.uniform(0, 35 * 86_400, total).astype(np.int64)
    ts = end.to_numpy()[journey] - age_s.astype("timedelta64[s]")
    strength = np.zeros(n)
    np.add.at(strength, journey, STRENGTH[channel])
    # conversion probability rises with the journey's channels; scaled to about 5 % overall
    p = np.clip(0.05 * strength / strength.mean(), 0, 1)
    converts = rng.random(n) < p
    touches = pd.DataFrame(
        {"journey": journey, "ts": ts, "channel": np.array(CHANNELS, dtype=object)[channel]}
    )
    touches = touches.sort_values("ts", kind="stable", ignore_index=True)
    outcomes = pd.DataFrame(
        {
            "journey": np.flatnonzero(converts),
            "ts": end[converts] + pd.Timedelta(minutes=5),
            "value": np.round(rng.lognormal(8, 0.6, int(converts.sum())), 0),
        }
    )
    return touches, outcomes


def sample(paths: Paths, n: int, seed: int) -> Paths:
    if n >= paths.journeys:
        return paths
    keep = np.zeros(paths.journeys, dtype=bool)
    keep[np.random.default_rng(seed).choice(paths.journeys, n, replace=False)] = True
    return paths.subset(keep)


def session_frame(paths: Paths) -> pd.DataFrame:
    """`paths` as mam's "session" format: one row per kept touch."""
    journey = paths.journey_of_touch()
    stamp = END.to_datetime64() - (paths.touch_age_days * 86_400e9).astype("timedelta64[ns]")
    return pd.DataFrame(
        {
            "user": journey,
            "ts": stamp,
            "channel": np.array(paths.channels, dtype=object)[paths.touch_channel],
            "converted": (paths.conversions > 0)[journey],
        }
    )


def per_journey_split(paths: Paths, effect: np.ndarray) -> np.ndarray:
    """Each converting journey's conversions split among its touches by their channels'
    removal effects (mam's way), summed per channel."""
    sub = paths.subset(paths.conversions > 0)
    weight = effect[sub.touch_channel]
    journey = sub.journey_of_touch()
    total = np.add.reduceat(weight, sub.offsets[:-1])[journey]
    share = np.divide(weight, total, out=np.zeros_like(weight), where=total > 0)
    credit = share * sub.conversions[journey]
    return np.bincount(sub.touch_channel, weights=credit, minlength=len(paths.channels))


def mam_credit(result: Any, channels: tuple[str, ...]) -> np.ndarray:
    frame = result.to_pandas()
    got = dict(zip(frame["channels"].astype(str), frame["attribution"], strict=True))
    return np.array([float(got.get(c, 0.0)) for c in channels])


def compare_with_mam(paths: Paths) -> list[str]:
    """Rows of the side-by-side table, or why mam could not run."""
    try:
        from importlib.metadata import version

        import mam  # type: ignore[import-not-found]
    except ImportError as exc:
        return [f'| mam could not be imported ({exc}): pip install -e ".[bench]" | | | | |']
    frame = session_frame(paths)
    model, t_pre = timed(
        lambda: mam.MAM(
            frame,
            format_type="session",
            channels_colname="channel",
            journey_with_conv_colname="converted",
            datetime_colname="ts",
            user_id_colname="user",
        )
    )
    touches = frame.rename(columns={"user": "journey"})[["journey", "ts", "channel"]]
    last = touches.groupby("journey", sort=False)["ts"].max()
    won = (paths.conversions > 0)[last.index.to_numpy()]
    outcomes = pd.DataFrame({"journey": last.index[won], "ts": last.to_numpy()[won]})
    _, t_ours_pre = timed(lambda: build_paths(touches, outcomes, lookback_days=None))
    rows = [
        f"| touch rows -> journeys (build_paths vs MAM(format_type='session'),"
        f" mam {version('marketing-attribution-models')})"
        f" | {t_ours_pre:.2f} | {t_pre:.2f} | {t_pre / t_ours_pre:.1f} | |"
    ]
    for ours_name, runner in SHARED.items():
        ours, t_ours = timed(lambda name=ours_name: attribute(paths, name))  # type: ignore[misc]
        theirs, t_theirs = timed(getattr(model, runner))
        credit = mam_credit(theirs, paths.channels)
        diff = float(np.max(np.abs(credit - ours.conversions)))
        rows.append(
            f"| {ours_name} | {t_ours:.2f} | {t_theirs:.2f} | {t_theirs / t_ours:.1f}"
            f" | {diff:.3g} |"
        )
        if ours_name == "markov":
            effects = removal_effects(paths, 1)
            table = theirs.metadata["removal_effect"]["removal_effect"]
            theirs_effect = np.array([float(table.get(c, 0.0)) for c in paths.channels])
            gap = float(np.max(np.abs(theirs_effect - effects.effect)))
            rows.append(f"| markov: the removal effects themselves | | | | {gap:.2g} |")
            split = float(np.max(np.abs(credit - per_journey_split(paths, effects.effect))))
            rows.append(
                f"| markov: mam's per-journey split redone with our removal effects | | | |"
                f" {split:.2g} |"
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().splitlines()[0])
    parser.add_argument("--journeys", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mam-journeys", type=int, default=1_000_000)
    parser.add_argument("--no-mam", action="store_true")
    args = parser.parse_args()

    touches, outcomes = journeys(args.journeys, args.seed)
    (paths, issues), t_build = timed(lambda: build_paths(touches, outcomes))
    print(
        f"{args.journeys:,} journeys, {len(touches):,} touch rows -> {len(paths.touch_channel):,}"
        f" kept, {int((paths.conversions > 0).sum()):,} converting;"
        f" out of lookback {issues.out_of_lookback:,}"
    )
    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__},"
        f" scipy {scipy.__version__}\n"
    )
    print("| step | seconds |")
    print("| --- | ---: |")
    print(f"| build_paths ({len(touches):,} touch rows) | {t_build:.2f} |")
    total = 0.0
    for model in RULES:
        _, seconds = timed(lambda model=model: attribute(paths, model))  # type: ignore[misc]
        total += seconds
        print(f"| {model} | {seconds:.2f} |")
    _, seconds = timed(lambda: attribute(paths, "markov", order=1))
    total += seconds
    print(f"| markov, order 1 (removal effects included) | {seconds:.2f} |")
    print(f"| **all rule models + Markov order 1** (target < 2 s) | **{total:.2f}** |")
    for order in (1, 2, 3):
        effects, seconds = timed(lambda order=order: removal_effects(paths, order))  # type: ignore[misc]
        print(f"| removal_effects, order {order} ({effects.states:,} states) | {seconds:.2f} |")
    _, seconds = timed(lambda: attribute(paths, "shapley"))
    print(f"| shapley (exact, {len(paths.channels)} channels) | {seconds:.2f} |")

    if args.no_mam:
        return
    sub = sample(paths, args.mam_journeys, args.seed)
    print(
        f"\nSide by side with mam on {sub.journeys:,} journeys ({len(sub.touch_channel):,} touches)"
    )
    print()
    print("| model | ours, s | mam, s | mam / ours | largest difference, conversions per channel |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for row in compare_with_mam(sub):
        print(row)


if __name__ == "__main__":
    main()
