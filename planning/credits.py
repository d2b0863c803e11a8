"""The rule-based attribution models and the assists table, over `Paths` (numpy, no loop over
journeys).

Each converting journey's conversions (and value) are split among its touches by weights that
add up to 1 in the journey; a channel's credit is the sum over its touches. A channel touched
twice in a journey gets two shares (linear, time decay, position).

- ``first_touch`` / ``last_touch``: all to the oldest / the newest touch.
- ``last_non_direct``: all to the newest touch whose channel is not one of ``paths.direct``; a
  journey of direct touches only gives it to its last touch.
- ``linear``: ``1 / n`` to each of the ``n`` touches.
- ``time_decay``: weight ``2 ** (-age / half_life_days)``, normalised in the journey: a touch
  ``half_life_days`` older than another gets half its credit.
- ``position``: 40 % to the first touch, 40 % to the last, 20 % split evenly among those between;
  one touch: 100 %; two touches: 50 / 50.

Journeys with no conversions and no value carry no credit and are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from planning.errors import InputError
from planning.journey_paths import Paths

RULE_MODELS = (
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "time_decay",
    "position",
)
POSITION_ENDS = 0.4
"""The share of the first and of the last touch in ``position`` (journeys of 3 touches or more)."""


@dataclass(frozen=True, eq=False)
class Attribution:
    """Conversions and value credited per channel by one model."""

    model: str
    channels: tuple[str, ...]
    conversions: np.ndarray  # credited per channel; sums to paths.conversions.sum() (rel. 1e-12)
    value: np.ndarray  # sums to paths.value.sum()

    def shares(self) -> np.ndarray:
        """Each channel's share of the credited conversions (zeros when there are none)."""
        total = float(self.conversions.sum())
        return self.conversions / total if total > 0 else np.zeros(len(self.channels))

    def to_frame(self) -> pd.DataFrame:
        """channel, conversions, value, share: one row per channel, in `channels` order."""
        return pd.DataFrame(
            {
                "channel": list(self.channels),
                "conversions": self.conversions,
                "value": self.value,
                "share": self.shares(),
            }
        )


def credited(paths: Paths) -> Paths:
    """The journeys with conversions or value (the only ones any model credits)."""
    return paths.subset((paths.conversions > 0) | (paths.value > 0))


def rule_attribution(paths: Paths, model: str, half_life_days: float = 7.0) -> Attribution:
    """One of `RULE_MODELS` on `paths`."""
    if model not in RULE_MODELS:
        raise InputError(f"is not a rule model ({', '.join(RULE_MODELS)})", value=model)
    if not (np.isfinite(half_life_days) and half_life_days > 0):
        raise InputError(f"`half_life_days` must be a positive number, got {half_life_days!r}")
    sub = credited(paths)
    size = len(sub.channels)
    if sub.journeys == 0:
        return Attribution(model, sub.channels, np.zeros(size), np.zeros(size))
    chosen = _chosen_touch(sub, model)
    if chosen is not None:
        channel = sub.touch_channel[chosen]
        return Attribution(
            model,
            sub.channels,
            np.bincount(channel, weights=sub.conversions, minlength=size),
            np.bincount(channel, weights=sub.value, minlength=size),
        )
    weights = _touch_weights(sub, model, half_life_days)
    journey = sub.journey_of_touch()
    return Attribution(
        model,
        sub.channels,
        np.bincount(sub.touch_channel, weights=weights * sub.conversions[journey], minlength=size),
        np.bincount(sub.touch_channel, weights=weights * sub.value[journey], minlength=size),
    )


def _chosen_touch(paths: Paths, model: str) -> np.ndarray | None:
    """For the one-touch models, the touch index that gets each journey's credit."""
    first, last = paths.offsets[:-1], paths.offsets[1:] - 1
    if model == "first_touch":
        return first
    if model == "last_touch":
        return last
    if model == "last_non_direct":
        direct_codes = [i for i, c in enumerate(paths.channels) if c in set(paths.direct)]
        non_direct = ~np.isin(paths.touch_channel, direct_codes)
        index = np.where(non_direct, np.arange(len(non_direct)), -1)
        last_non_direct = np.maximum.reduceat(index, first)
        return np.where(last_non_direct >= 0, last_non_direct, last)
    return None


def _touch_weights(paths: Paths, model: str, half_life_days: float) -> np.ndarray:
    """Per touch, its share of its journey (adding up to 1 in each journey)."""
    lengths = paths.lengths
    n = np.repeat(lengths, lengths).astype(np.float64)
    if model == "linear":
        return 1.0 / n
    if model == "time_decay":
        # relative to the journey's newest touch, so that old journeys do not underflow
        age = paths.touch_age_days
        newest = np.repeat(np.minimum.reduceat(age, paths.offsets[:-1]), lengths)
        raw = np.exp2(-(age - newest) / half_life_days)
        return raw / np.repeat(np.add.reduceat(raw, paths.offsets[:-1]), lengths)
    # position
    position = np.arange(len(paths.touch_channel)) - np.repeat(paths.offsets[:-1], lengths)
    end = (position == 0) | (position == n - 1)
    middle = (1.0 - 2 * POSITION_ENDS) / np.maximum(n - 2, 1)
    weights = np.where(end, POSITION_ENDS, middle)
    weights[n == 2] = 0.5
    weights[n == 1] = 1.0
    return weights


@dataclass(frozen=True, eq=False)
class Assists:
    """Closing versus assisting, per channel, over the converting journeys (conversions > 0);
    each journey counts with its conversions (usually 1)."""

    channels: tuple[str, ...]
    last_touch: np.ndarray  # conversions where the channel is the last touch
    assisted: np.ndarray  # conversions of journeys where it appears but is not the last touch
    ratio: np.ndarray  # assisted / last_touch: inf when it never closes but assists, nan if neither


def assists(paths: Paths) -> Assists:
    """How often each channel closes a conversion (is the last touch) and how often it assists
    (appears in a converting journey, once or more, without being its last touch)."""
    sub = paths.subset(paths.conversions > 0)
    size = len(sub.channels)
    last = sub.touch_channel[sub.offsets[1:] - 1] if sub.journeys else np.zeros(0, np.int32)
    last_touch = np.bincount(last, weights=sub.conversions, minlength=size)
    journey = sub.journey_of_touch()
    assisting = sub.touch_channel != last[journey]
    pairs = np.unique(journey[assisting] * size + sub.touch_channel[assisting])
    assisted = np.bincount(
        pairs % size, weights=sub.conversions[pairs // size], minlength=size
    ).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = assisted / last_touch
    return Assists(sub.channels, last_touch, assisted, ratio)
