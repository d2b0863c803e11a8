"""Does the cohort forecast of purchases beat the straight line? Simulated CRM deals whose lags
are known.

    python benchmarks/bench_cohort_forecast.py [--months 120] [--seed 1] [--prior-events 5]

Each simulated month is one market of four channels with known funnels: every lead reaches pp,
negotiations and purchases with the channel's conversion rates, each step after a gamma-
distributed lag (means from 2 to 12 days a step: purchases 1 to 4 weeks after the lead); a stage
that falls on a weekend is recorded the next Monday (sales rest). Leads arrive Poisson, with a
weekend dip (x0.6), a level that moves from month to month (x0.8..1.25) and, in half the months,
a mid-month shift of lead volume (x0.75 or x1.25 from a day between the 6th and the 24th). Three
months of history precede the forecast month, so the lag curves are estimated from the deals
themselves (Kaplan-Meier with censoring, `planning.cohorts.lag_curves`), never given.

Forecasts of each channel's month-end purchases on days 10, 15 and 20 (as of that day), from the
deals known that day:
- cohort: `planning.cohorts.channel_forecasts` (curves estimated by `lag_curves` with its
  defaults, `--prior-events` aside; rest-of-month leads at their last_n run-rate over 7 days; it
  falls back to the straight line when a curve is not enough);
- cohort, true curves: the same with the curves of the generator (what estimation costs);
- straight line: month-to-date / days elapsed x days in month (`linear`, the current method);
- last 5: month-to-date + days left x the mean of the last 5 days (`last_n`, window 5).

Reported: the mean absolute % error against the month's real purchases, over every channel and
month (and the share of forecasts where the cohort forecast is closer than the straight line).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from planning.cohorts import LagCurve, channel_forecasts, cohort_table, lag_curves
from planning.runrate import forecast_series, month_end

DAYS = (10, 15, 20)
METHODS = ("cohort", "cohort, true curves", "straight line", "last 5")


@dataclass(frozen=True)
class Channel:
    name: str
    leads: float  # per weekday
    rates: tuple[float, float, float]  # lead -> pp, pp -> negotiations, negotiations -> purchase
    lag_means: tuple[float, float, float]  # days, each step (gamma, shape 2)
    check: float  # revenue per purchase


CHANNELS = (
    Channel("Search", 40.0, (0.40, 0.55, 0.50), (2.0, 4.0, 5.0), 900.0),
    Channel("Social", 60.0, (0.25, 0.45, 0.40), (4.0, 7.0, 9.0), 700.0),
    Channel("Display", 30.0, (0.20, 0.40, 0.45), (5.0, 9.0, 12.0), 650.0),
    Channel("Referral", 8.0, (0.50, 0.60, 0.60), (2.0, 3.0, 4.0), 1200.0),
)


def _lags(channel: Channel, n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Days from the lead to each stage (inf when not reached), before the weekend shift."""
    out, at, alive = [], np.zeros(n), np.ones(n, dtype=bool)
    for rate, mean in zip(channel.rates, channel.lag_means, strict=True):
        alive &= rng.random(n) < rate
        at = at + rng.gamma(2.0, mean / 2.0, n)
        out.append(np.where(alive, np.floor(at), np.inf))
    return tuple(out)


def _to_weekday(days: np.ndarray) -> np.ndarray:
    """Day numbers of events: Saturday and Sunday move to the next Monday."""
    weekday = (days + 3) % 7  # day 0 (1970-01-01) was a Thursday
    return days + np.where(weekday == 5, 2, np.where(weekday == 6, 1, 0))


def _lead_levels(first: int, last: int, rng: np.random.Generator) -> np.ndarray:
    """The expected leads' multiplier of each day: month levels, mid-month shifts, weekends."""
    days = np.arange(first, last + 1)
    stamps = pd.to_datetime(days.astype("datetime64[D]"))
    months = (stamps.year * 12 + stamps.month).to_numpy()
    level = np.ones(len(days))
    current = 1.0
    for m in np.unique(months):
        current *= rng.uniform(0.8, 1.25)
        inside = months == m
        level[inside] = current
        if rng.random() < 0.5:
            start = int(np.flatnonzero(inside)[0]) + int(rng.integers(5, 24))
            level[start : np.flatnonzero(inside)[-1] + 1] *= rng.choice([0.75, 1.25])
    weekend = ((days + 3) % 7) >= 5
    return level * np.where(weekend, 0.6, 1.0)


def simulate(month: date, rng: np.random.Generator) -> pd.DataFrame:
    """Deals of every channel from three months before `month` to its end (all of them, as a
    CRM export after the month would hold them)."""
    start = (pd.Timestamp(month) - pd.DateOffset(months=3)).date()
    first, last = (start - date(1970, 1, 1)).days, (month_end(month) - date(1970, 1, 1)).days
    frames = []
    for channel in CHANNELS:
        levels = _lead_levels(first, last, rng)
        per_day = rng.poisson(channel.leads * levels)
        created = np.repeat(np.arange(first, last + 1), per_day)
        lags = _lags(channel, len(created), rng)
        stages = [
            np.where(np.isfinite(lag), _to_weekday(created + np.nan_to_num(lag, posinf=0)), -1)
            for lag in lags
        ]
        frames.append(_frame(channel, created, stages, rng))
    return pd.concat(frames, ignore_index=True)


def _frame(
    channel: Channel, created: np.ndarray, stages: list[np.ndarray], rng: np.random.Generator
) -> pd.DataFrame:
    def dates(days: np.ndarray) -> pd.Series:
        values = pd.Series(days.astype("datetime64[D]")).astype("datetime64[ns]")
        return values.where(days >= 0)

    bought = stages[2] >= 0
    revenue = np.where(bought, rng.lognormal(np.log(channel.check), 0.3, len(created)), 0.0)
    return pd.DataFrame(
        {
            "channel": channel.name,
            "created": dates(created.astype(np.int64)),
            "pp": dates(stages[0].astype(np.int64)),
            "negotiations": dates(stages[1].astype(np.int64)),
            "purchases": dates(stages[2].astype(np.int64)),
            "revenue": revenue,
        }
    )


def true_curves(horizon: int = 90, n: int = 400_000, seed: int = 0) -> dict[str, np.ndarray]:
    """Each channel's true purchase curve F[0..horizon]: the generator's lags (weekend shift
    included, leads spread over the weekdays as they arrive)."""
    rng = np.random.default_rng(seed)
    curves = {}
    for channel in CHANNELS:
        created = rng.integers(0, 7_000, n)
        weight = np.where(((created + 3) % 7) >= 5, 0.6, 1.0)
        lag = _lags(channel, n, rng)[2]
        reached = np.isfinite(lag)
        age = _to_weekday(created[reached] + lag[reached].astype(np.int64)) - created[reached]
        counts = np.bincount(np.minimum(age, horizon + 1), weight[reached], horizon + 2)
        curves[channel.name] = np.cumsum(counts[: horizon + 1]) / weight.sum()
    return curves


def _day_numbers(column: pd.Series) -> np.ndarray:
    """Day numbers of a date column, -1 for NaT."""
    values = column.to_numpy(dtype="datetime64[ns]")
    return np.where(np.isnat(values), -1, values.astype("datetime64[D]").astype(np.int64))


def _daily(days: np.ndarray, first: int, last: int) -> pd.Series:
    """Counts of `days` on each day first..last, indexed by date."""
    inside = days[(days >= first) & (days <= last)]
    counts = np.bincount(inside - first, minlength=last - first + 1).astype(np.float64)
    return pd.Series(counts, index=pd.to_datetime(np.arange(first, last + 1).astype("M8[D]")))


def forecasts_of_month(
    month: date, seed: int, truth: dict[str, np.ndarray] | None, prior: float = 5.0
) -> list[tuple[int, str, dict[str, float], float]]:
    """(day, channel, forecast per method, real purchases) for one simulated month; without
    `truth` no forecast with the true curves; `prior` is the curves' `prior_events`."""
    rng = np.random.default_rng(seed)
    deals = simulate(month, rng)
    created, bought = _day_numbers(deals["created"]), _day_numbers(deals["purchases"])
    channel = deals["channel"].to_numpy(dtype=object)
    first, last = _day_numbers(pd.Series([month, month_end(month)], dtype="datetime64[ns]"))
    oracle = {
        (name, "purchases"): LagCurve(name, "purchases", curve, 0, 0, 1.0, 999, True)
        for name, curve in (truth or {}).items()
    }
    out = []
    for day in DAYS:
        as_of = month.replace(day=day)
        known = deals[created <= first + day - 1]
        curves = lag_curves(known, as_of, prior_events=prior)
        estimated = channel_forecasts(
            known, month, as_of, window=7, stages=["purchases"], curves=curves
        )
        exact = estimated
        if truth is not None:
            exact = channel_forecasts(
                known, month, as_of, window=7, stages=["purchases"], curves=oracle
            )
        for c in CHANNELS:
            mine = bought[channel == c.name]
            actual = float(((mine >= first) & (mine <= last)).sum())
            so_far = _daily(mine, first, first + day - 1)
            made = {
                "cohort": estimated[(c.name, "purchases")].forecast,
                **({"cohort, true curves": exact[(c.name, "purchases")].forecast} if truth else {}),
                "straight line": forecast_series(so_far, month, as_of, method="linear").forecast,
                "last 5": forecast_series(so_far, month, as_of, window=5).forecast,
            }
            out.append((day, c.name, made, actual))
    return out


def evaluate(
    months: int, seed: int, with_true_curves: bool = True, prior: float = 5.0
) -> pd.DataFrame:
    """One row per (month, day, channel): each method's absolute % error."""
    truth = true_curves() if with_true_curves else None
    rows = []
    for i in range(months):
        year, m = divmod(10 + i, 12)
        month = date(2025 + year, m + 1, 1)
        for day, name, made, actual in forecasts_of_month(month, seed * 10_000 + i, truth, prior):
            errors = {k: 100 * abs(v - actual) / actual for k, v in made.items()}
            rows.append({"month": month, "day": day, "channel": name, **errors})
    return pd.DataFrame(rows)


def speed(n: int = 100_000) -> tuple[float, float, float]:
    """Seconds for `lag_curves`, `channel_forecasts` and `cohort_table` on `n` deals (best
    of 3)."""
    rng = np.random.default_rng(7)
    deals = simulate(date(2026, 11, 1), rng)
    deals = deals.sample(n, replace=len(deals) < n, random_state=1).reset_index(drop=True)
    as_of = date(2026, 11, 15)
    best = [np.inf, np.inf, np.inf]
    for _ in range(3):
        t0 = time.perf_counter()
        lag_curves(deals, as_of)
        t1 = time.perf_counter()
        channel_forecasts(deals, date(2026, 11, 1), as_of)
        t2 = time.perf_counter()
        cohort_table(deals, as_of)
        t3 = time.perf_counter()
        best = [min(best[0], t1 - t0), min(best[1], t2 - t1), min(best[2], t3 - t2)]
    return best[0], best[1], best[2]


def table(errors: pd.DataFrame) -> str:
    lines = ["| method | " + " | ".join(f"day {d}" for d in DAYS) + " |"]
    lines.append("| --- |" + " ---: |" * len(DAYS))
    by_day = errors.groupby("day")
    for method in METHODS:
        cells = " | ".join(f"{by_day[method].mean()[d]:.1f} %" for d in DAYS)
        lines.append(f"| {method} | {cells} |")
    closer = by_day.apply(lambda g: (g["cohort"] < g["straight line"]).mean())
    lines.append(
        "| cohort closer than the straight line | "
        + " | ".join(f"{100 * closer[d]:.0f} % of forecasts" for d in DAYS)
        + " |"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().splitlines()[0])
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--prior-events", type=float, default=5.0, help="lag_curves' shrinkage")
    args = parser.parse_args()
    started = time.perf_counter()
    errors = evaluate(args.months, args.seed, prior=args.prior_events)
    n = len(errors) // len(DAYS)
    print(f"\n### Purchases month-end forecast: mean absolute % error ({n} channel-months)\n")
    print(table(errors))
    print("\nPer channel, day 15:\n")
    per = errors[errors["day"] == 15].groupby("channel")[list(METHODS)].mean()
    print("| channel | " + " | ".join(METHODS) + " |")
    print("| --- |" + " ---: |" * len(METHODS))
    for name, row in per.iterrows():
        print(f"| {name} | " + " | ".join(f"{row[m]:.1f} %" for m in METHODS) + " |")
    curves, forecasts, cohorts = speed()
    print(
        f"\n100,000 deals: lag_curves {1000 * curves:.0f} ms, channel_forecasts "
        f"{1000 * forecasts:.0f} ms, cohort_table {1000 * cohorts:.0f} ms. "
        f"Whole run {time.perf_counter() - started:.0f} s."
    )


if __name__ == "__main__":
    main()
