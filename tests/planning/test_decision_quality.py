"""Decision quality of Optimize Split on seeded markets whose true curves are known.

For each market: fit curves on noisy daily history → optimise the current budget → evaluate the
current split, the proposal and the oracle (the optimum under the TRUE curves) with the true
curves. Report the share of the oracle's uplift over the current split that the proposal
captures, and check the proposal is never worse than the current split beyond the noise band.

Three sets of markets:
- synthetic: 7 channels with random true Hill/Power/NegExp curves, a month (30 days) of history
  whose daily spend varies ±30% around the current split, Poisson conversions;
- the sample generator's market (`sheets_sync.samples.data`, 7 channels, weekday effects, lagging
  funnel), fitted on its 60 days of history + month to date, with the current split misallocated
  at random inside each channel's observed range;
- a mix of true families (`curve_markets.py`, shared with `benchmarks/bench_curve_quality.py`):
  6 channels of Michaelis-Menten, Hill with slope != 1 (half of them S-shaped), power, negative
  exponential, or all four mixed; 6 seeds each. Here the issue's targets are asserted: median
  share of the oracle's uplift >= 0.99, 10th percentile >= 0.95, never worse than the current
  split beyond the noise band. They hold where the history can tell the curves apart: the
  high-signal markets (ten times the conversions of the synthetic ones, plain Poisson, 180 days
  of history), as in the issue's own simulation. With less signal no fit reaches them (the
  benchmark's table, docs/benchmarks.md "Decision quality": e.g. median 0.94, 10th percentile
  0.72 at the synthetic markets' volume and 90 days); the synthetic and sample sets keep their
  own, lower floors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pytest
from curve_markets import FAMILIES, MarketSpec, Outcome, make_market, noise_band, score, summarise

from planning.curve_average import Averaged
from planning.curves import ChannelFit, FitOptions, fit_history
from planning.optimize import ChannelBounds, maximize
from planning.response import Curve, Hill, NegExp, Power, curve_from_params
from sheets_sync.samples.data import TRUE_CURVES, generate_sample

PARAM_NAMES = {"hill": ("vmax", "k", "slope"), "power": ("a", "b"), "negexp": ("vmax", "k")}
OPTIONS = FitOptions(n_bootstrap=40)


def synthetic_market(seed: int, n: int = 7, days: int = 30) -> tuple[dict, dict, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    truth: dict[str, Curve] = {}
    current: dict[str, float] = {}
    for i in range(n):
        s0 = float(rng.uniform(10_000, 80_000))  # current daily spend
        cpa0 = float(rng.uniform(800, 3_000))  # its average CPA
        sat = float(rng.uniform(0.5, 3.0))  # saturation spend relative to current
        form = ("hill", "power", "negexp")[i % 3]
        if form == "hill":
            k, slope = s0 * sat, float(rng.uniform(0.7, 1.0))
            curve: Curve = Hill(s0 / cpa0 * (k**slope + s0**slope) / s0**slope, k, slope)
        elif form == "power":
            b = float(rng.uniform(0.4, 0.85))
            curve = Power(s0 / cpa0 / s0**b, b)
        else:
            k = s0 * sat
            curve = NegExp(s0 / cpa0 / (1 - np.exp(-s0 / k)), k)
        truth[f"channel {i}"], current[f"channel {i}"] = curve, s0
    rows = []
    for d in range(days):
        for channel, curve in truth.items():
            spend = current[channel] * float(np.exp(rng.normal(0, 0.3)))
            rows.append(
                {
                    "date": dt.date(2026, 10, 1) + dt.timedelta(days=d),
                    "channel": channel,
                    "spend": round(spend, 2),
                    "conversions": int(rng.poisson(float(curve.response(spend)))),
                }
            )
    return truth, current, pd.DataFrame(rows)


def true_curve(channel: str) -> Curve:
    form, params = TRUE_CURVES[channel].form, TRUE_CURVES[channel].params
    return curve_from_params(form, dict(zip(PARAM_NAMES[form], params, strict=True)))


def sample_market(seed: int) -> tuple[dict, dict, pd.DataFrame]:
    sample = generate_sample("2026-11", as_of=dt.date(2026, 11, 17), seed=seed)
    daily = sample.daily.groupby(["date", "channel"], as_index=False)[["spend", "leads"]].sum()
    history = daily.rename(columns={"leads": "conversions"})
    recent = history[history["date"] > dt.date(2026, 11, 3)].groupby("channel")["spend"].mean()
    observed = history.groupby("channel")["spend"].agg(["min", "max"])
    rng = np.random.default_rng(1000 + seed)
    tilted = recent * np.exp(rng.normal(0.0, 0.6, len(recent)))
    tilted = (tilted * recent.sum() / tilted.sum()).clip(
        observed["min"] * 1.1, observed["max"] * 0.9
    )
    truth = {c: true_curve(c) for c in recent.index}
    return truth, tilted.to_dict(), history


def outcome(
    truth: Mapping[str, Curve], current: dict[str, float], fits: dict[str, ChannelFit]
) -> dict:
    budget = sum(current.values())
    bounds = {c: ChannelBounds(min=s / 3, max=2 * s) for c, s in current.items()}
    proposal = maximize({c: fits[c].curve for c in current}, budget, bounds=bounds, current=current)
    oracle = maximize(dict(truth), budget, bounds=bounds, current=current)
    assert proposal.success and oracle.success
    assert float(proposal.allocation.sum()) == pytest.approx(budget, rel=1e-9)

    def true_total(channels: list[str], spend: np.ndarray) -> float:
        return float(sum(float(truth[c].response(s)) for c, s in zip(channels, spend, strict=True)))

    base = true_total(list(current), np.array(list(current.values())))
    got = true_total(proposal.channels, proposal.allocation)
    best = true_total(oracle.channels, oracle.allocation)
    bands = [fits[c].band(s) for c, s in current.items()]
    noise = sum(float(high) - float(low) for low, high in bands) / 2
    return {
        "current": base,
        "proposal": got,
        "oracle": best,
        "uplift_%": 100 * (best / base - 1),
        "share": (got - base) / (best - base),
        "noise_band": noise,
    }


@pytest.fixture(scope="module")
def synthetic() -> pd.DataFrame:
    rows = []
    for seed in range(1, 13):
        truth, current, history = synthetic_market(seed)
        rows.append({"seed": seed, **outcome(truth, current, fit_history(history, OPTIONS))})
    frame = pd.DataFrame(rows)
    print("\nsynthetic markets (a month of history)\n" + frame.round(3).to_string(index=False))
    return frame


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    rows = []
    for seed in range(1, 9):
        truth, current, history = sample_market(seed)
        rows.append({"seed": seed, **outcome(truth, current, fit_history(history, OPTIONS))})
    frame = pd.DataFrame(rows)
    print(
        "\nsample-generator markets (77 days of history)\n" + frame.round(3).to_string(index=False)
    )
    return frame


@pytest.fixture(scope="module")
def families() -> list[tuple[MarketSpec, Outcome, dict[str, ChannelFit]]]:
    rows = []
    for family in FAMILIES:
        for seed in range(1, 7):
            spec = MarketSpec(family, "low", 180, seed)
            market = make_market(spec)
            fits = fit_history(market.history, OPTIONS)
            split = market.propose({c: fit.curve for c, fit in fits.items()})
            rows.append((spec, score(market, split, noise_band(market, fits)), fits))
    frame = pd.DataFrame(
        [{"family": s.family, "seed": s.seed, **vars(o), "share": o.share} for s, o, _ in rows]
    )
    print("\nmixed true families (high signal, 180 days)\n" + frame.round(3).to_string(index=False))
    return rows


def test_targets_on_a_mix_of_true_families(
    families: list[tuple[MarketSpec, Outcome, dict[str, ChannelFit]]],
) -> None:
    summary = summarise([o for _, o, _ in families])
    assert summary.markets == 30
    assert summary.median >= 0.99, summary
    assert summary.p10 >= 0.95, summary
    assert summary.worse == 0, summary
    # every true family is in the set, Michaelis-Menten included, and the curves are averages
    assert {s.family for s, _, _ in families} == {"mm", "hill", "power", "negexp", "mixed"}
    curves = [fit.curve for _, _, fits in families for fit in fits.values()]
    assert sum(isinstance(c, Averaged) for c in curves) > len(curves) / 2


def test_michaelis_menten_markets_put_weight_on_the_saturating_form(
    families: list[tuple[MarketSpec, Outcome, dict[str, ChannelFit]]],
) -> None:
    # the issue: the single-form choice never picked a saturating curve on these markets
    weights = [
        dict(zip([p.form for p in fit.curve.parts], fit.curve.weights, strict=True))
        for spec, _, fits in families
        if spec.family == "mm"
        for fit in fits.values()
        if isinstance(fit.curve, Averaged)
    ]
    saturating = sum(w.get("saturating", 0.0) + w.get("hill", 0.0) for w in weights)
    power = sum(w.get("power", 0.0) for w in weights)
    assert saturating > power


def test_markets_have_room_to_gain(synthetic: pd.DataFrame, sample: pd.DataFrame) -> None:
    assert (synthetic["oracle"] > synthetic["current"] * 1.01).all()
    assert (sample["oracle"] > sample["current"] * 1.01).all()


def test_proposal_captures_most_of_the_oracle_uplift_on_synthetic_markets(
    synthetic: pd.DataFrame,
) -> None:
    assert float(np.median(synthetic["share"])) >= 0.8, synthetic


def test_proposal_captures_most_of_the_oracle_uplift_on_the_sample_market(
    sample: pd.DataFrame,
) -> None:
    # weekday effects and a lagging funnel make this market harder than the synthetic ones
    assert float(np.median(sample["share"])) >= 0.75, sample


def test_proposal_is_never_worse_than_current_beyond_the_noise_band(
    synthetic: pd.DataFrame,
    sample: pd.DataFrame,
    families: list[tuple[MarketSpec, Outcome, dict[str, ChannelFit]]],
) -> None:
    assert not any(o.worse for _, o, _ in families)
    for frame in (synthetic, sample):
        shortfall = frame["current"] - frame["proposal"]
        assert (shortfall <= frame["noise_band"]).all(), frame
