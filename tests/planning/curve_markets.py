"""Seeded markets whose true response curves are known: the decision-quality test
(`test_decision_quality.py`) and its benchmark (`benchmarks/bench_curve_quality.py`) share them.

A market is `channels` channels of one true family (``"mm"``: Michaelis-Menten, Hill with slope
1; ``"hill"``: Hill with slope 0.5-0.85 or 1.2-1.6, half each; ``"power"``; ``"negexp"``) or of all
four in turn (``"mixed"``). Each channel has a current daily spend (10,000-80,000), its average CPA
there (800-3,000) and, for the saturating families, a half-saturation spend 0.5-3 times the current
spend. `days` days of history vary each channel's spend around its current spend (log-normal,
sigma 0.3); conversions are Poisson, over-dispersed by a gamma factor of mean 1 and coefficient of
variation `noise` (0: plain Poisson).

Each market is scored on its true curves: the true conversions per day at the current split, at
the proposal and at the oracle (the exact optimum under the true curves), all within the same
limits (each channel between a third of and twice its current spend, the budget the current
total). `share` is the proposal's share of the oracle's uplift, ``(proposal - current) /
(oracle - current)``; `noise_band` is half the summed 10-90% band widths of the fitted curves at
the current split (the test's band since it was written).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from planning.curves import ChannelFit
from planning.optimize import ChannelBounds, maximize
from planning.response import Curve, Hill, NegExp, Power

FAMILIES = ("mm", "hill", "power", "negexp", "mixed")
NOISE: dict[str, tuple[float, float]] = {
    "low": (10.0, 0.0),
    "medium": (1.0, 0.0),
    "high": (1.0, 0.3),
}
"""Noise level -> (volume, over-dispersion): conversions are `volume` times as many (the CPAs
divided by it), and Poisson around a mean times a gamma factor of that coefficient of variation."""
_ONE_FAMILY = ("mm", "hill", "power", "negexp")
_START = dt.date(2026, 9, 1)
MIN_UPLIFT = 0.01
"""A market's oracle gains at least this share over its current split (1%)."""


@dataclass(frozen=True)
class MarketSpec:
    """What a market is drawn from: its family, noise, days of history, seed and channel count."""

    family: str
    noise: str
    days: int
    seed: int
    channels: int = 6


def _true_curve(family: str, rng: np.random.Generator, s0: float, cpa0: float) -> Curve:
    """A curve of `family` through (s0, s0 / cpa0): `cpa0` is the average CPA at `s0`."""
    y0, k = s0 / cpa0, s0 * float(rng.uniform(0.5, 3.0))
    if family == "mm":
        return Hill(y0 * (k + s0) / s0, k, 1.0)
    if family == "hill":
        low = bool(rng.integers(2))
        slope = float(rng.uniform(0.5, 0.85) if low else rng.uniform(1.2, 1.6))
        return Hill(y0 * (k**slope + s0**slope) / s0**slope, k, slope)
    if family == "power":
        b = float(rng.uniform(0.4, 0.85))
        return Power(y0 / s0**b, b)
    return NegExp(y0 / -math.expm1(-s0 / k), k)


@dataclass(frozen=True)
class Market:
    """A seeded market: true curves, the current split, the limits and the daily history."""

    spec: MarketSpec
    truth: dict[str, Curve]
    current: dict[str, float]
    history: pd.DataFrame

    @property
    def budget(self) -> float:
        return sum(self.current.values())

    @property
    def bounds(self) -> dict[str, ChannelBounds]:
        return {c: ChannelBounds(min=s / 3, max=2 * s) for c, s in self.current.items()}

    def true_total(self, split: Mapping[str, float]) -> float:
        """True conversions per day of a split."""
        return float(sum(float(self.truth[c].response(s)) for c, s in split.items()))

    @cached_property
    def oracle(self) -> float:
        """True conversions per day at the optimum under the true curves."""
        best = maximize(self.truth, self.budget, bounds=self.bounds, current=self.current)
        return self.true_total(dict(zip(best.channels, best.allocation, strict=True)))

    def propose(self, curves: Mapping[str, Curve]) -> dict[str, float]:
        """The exact optimizer's split under `curves` (the fitted ones) within the limits."""
        got = maximize(dict(curves), self.budget, bounds=self.bounds, current=self.current)
        return dict(zip(got.channels, got.allocation.tolist(), strict=True))


def make_market(spec: MarketSpec) -> Market:
    """The market of `spec` (the same seed gives the same market).

    Only misallocated markets are kept: a draw whose oracle gains less than `MIN_UPLIFT` over the
    current split is drawn again (from the same generator, so still seeded). Near the optimum the
    share of the oracle's uplift is a ratio of two tiny numbers and says nothing.
    """
    families = {"mm": 0, "hill": 1, "power": 2, "negexp": 3, "mixed": 4}
    levels = {"low": 0, "medium": 1, "high": 2}
    rng = np.random.default_rng([spec.seed, families[spec.family], levels[spec.noise], spec.days])
    volume, dispersion = NOISE[spec.noise]
    while True:
        truth: dict[str, Curve] = {}
        current: dict[str, float] = {}
        for i in range(spec.channels):
            s0 = float(rng.uniform(10_000, 80_000))
            cpa0 = float(rng.uniform(800, 3_000)) / volume
            family = _ONE_FAMILY[i % 4] if spec.family == "mixed" else spec.family
            truth[f"channel {i}"] = _true_curve(family, rng, s0, cpa0)
            current[f"channel {i}"] = s0
        market = Market(spec, truth, current, pd.DataFrame())
        if market.oracle >= (1 + MIN_UPLIFT) * market.true_total(current):
            break
    rows = []
    for d in range(spec.days):
        for channel, curve in truth.items():
            spend = current[channel] * float(np.exp(rng.normal(0.0, 0.3)))
            mean = float(curve.response(spend))
            if dispersion > 0:
                mean *= float(rng.gamma(1 / dispersion**2, dispersion**2))
            rows.append(
                {
                    "date": _START + dt.timedelta(days=d),
                    "channel": channel,
                    "spend": round(spend, 2),
                    "conversions": int(rng.poisson(mean)),
                }
            )
    return Market(spec, truth, current, pd.DataFrame(rows))


def noise_band(market: Market, fits: Mapping[str, ChannelFit]) -> float:
    """Half the summed 10-90% band widths of `fits` at the current split (conversions/day)."""
    bands = [fits[c].band(s) for c, s in market.current.items()]
    return sum(float(high) - float(low) for low, high in bands) / 2


@dataclass(frozen=True)
class Outcome:
    """A proposal scored on the true curves (conversions per day)."""

    current: float
    proposal: float
    oracle: float
    noise_band: float

    @property
    def share(self) -> float:
        """The proposal's share of the oracle's uplift over the current split."""
        return (self.proposal - self.current) / (self.oracle - self.current)

    @property
    def worse(self) -> bool:
        """The proposal loses more than the noise band against the current split."""
        return self.current - self.proposal > self.noise_band


def score(market: Market, split: Mapping[str, float], band: float) -> Outcome:
    return Outcome(market.true_total(market.current), market.true_total(split), market.oracle, band)


@dataclass(frozen=True)
class Summary:
    """Shares of the oracle's uplift over a set of markets; `pooled` is the summed uplift over
    the summed oracle uplift (ratio of sums), `worse` the markets beyond the noise band."""

    markets: int
    median: float
    p10: float
    worst: float
    pooled: float
    worse: int


def summarise(outcomes: list[Outcome]) -> Summary:
    shares = np.array([o.share for o in outcomes])
    gained = sum(o.proposal - o.current for o in outcomes)
    possible = sum(o.oracle - o.current for o in outcomes)
    return Summary(
        markets=len(outcomes),
        median=float(np.median(shares)),
        p10=float(np.percentile(shares, 10)),
        worst=float(np.min(shares)),
        pooled=gained / possible,
        worse=sum(o.worse for o in outcomes),
    )


Method = Callable[[Market], dict[str, float]]
"""A way to propose: market in, split out."""
