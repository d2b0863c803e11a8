"""How close is each run-rate method's month-end forecast to the month's real total? Simulated
plan lines whose daily facts are drawn from a known level, weekday pattern and noise.

    python benchmarks/bench_runrate_quality.py [--lines 240] [--seeds 1 2 3]
    python benchmarks/bench_runrate_quality.py --tune   # the grid `auto`'s constants came from

Each line has two daily metrics for one month and 1-2 months of history before it (what Daily
History holds):

- **leads**, a count: a level drawn log-uniformly from 5 to 200 a day, Poisson noise;
- **spend**, money: a level log-uniform from 300 to 30,000 a day, lognormal noise (sigma 0.1-0.3);
- a **weekend dip**: Saturday 0.45-0.85 of a weekday for leads (Sunday within 15 % of it), a
  milder 0.7-1.0 for spend; weekdays vary by 5 %;
- a **level drift** between months (lognormal, sigma 0.1): history is not at the month's level;
- in half the lines (drawn at random) a **level shift** of +25 % or -25 % (a budget change) from a
  random day 8-20 of the month to its end, on both metrics.

The lines are spread over four months (28, 30, 31 and 30 days, starting on different weekdays).
As of days 10, 15 and 20 every method forecasts each line's month-end total through
`forecast_frame` (the Plan refresh's path) from the month's facts so far plus the history; the
error of a forecast is ``|forecast - real total| / real total``. Reported: the mean of those
errors in % (MAPE) for months without and with a shift and overall, over every line of every
seed and both metrics. The robustness table varies the seeds, the noise, the shifts and drops
the history (as the Plan refresh reads only the Daily sheet, which holds the month).

`auto`'s three constants (`SHIFT_SIZE`, `SHIFT_SPREAD`, `SHIFT_HAZARD` in
`planning/runrate_auto.py`) were chosen with ``--tune`` on seeds 101-105, none of which is
reported, and only on the first scenario (the issue's).
"""

from __future__ import annotations

import argparse
import itertools
import time
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np
import pandas as pd

import planning.runrate_auto as auto_module
from planning.runrate import Method, forecast_frame

MONTHS = (date(2025, 2, 1), date(2025, 6, 1), date(2026, 3, 1), date(2026, 11, 1))
DAYS = (10, 15, 20)
METHODS: tuple[Method, ...] = ("last_n", "last_n_dow", "linear", "auto")
LABELS = {
    "last_n": "last 5 days",
    "last_n_dow": "last 5, weekday-adjusted",
    "linear": "linear month-to-date",
    "auto": "auto",
}
REPORTED_SEEDS = tuple(range(1, 11))
TUNING_SEEDS = (101, 102, 103, 104, 105)


@dataclass(frozen=True)
class Scenario:
    """What the simulated lines look like."""

    name: str
    leads: tuple[float, float] = (5, 200)  # daily level range (log-uniform)
    shift: float = 0.25  # size of the level shift, up or down
    overdispersion: float = 0.0  # leads: Poisson when 0, else negative binomial var mu + d*mu^2
    spend_sigma: tuple[float, float] = (0.1, 0.3)  # lognormal noise of spend
    history: bool = True  # 1-2 months before the month in the table


ISSUE = Scenario("issue: ±25 % shifts, Poisson, 1-2 months of history")
VARIANTS = (
    ISSUE,
    replace(ISSUE, name="no history (the Plan refresh today)", history=False),
    replace(
        ISSUE,
        name="overdispersed leads, spend sigma 0.2-0.5",
        overdispersion=0.05,
        spend_sigma=(0.2, 0.5),
    ),
    replace(ISSUE, name="low counts: 1-10 leads a day", leads=(1, 10)),
    replace(ISSUE, name="small shifts: ±10 %", shift=0.10),
    replace(ISSUE, name="big shifts: ±50 %", shift=0.50),
)


@dataclass(frozen=True)
class Lines:
    """A simulated set of line-months."""

    daily: pd.DataFrame  # date, line, month, leads, spend (history and the whole month)
    totals: pd.DataFrame  # per line: month, leads, spend (the month's real totals), shifted


def _profile(rng: np.random.Generator, dip: tuple[float, float]) -> np.ndarray:
    """Weekday factors, Monday first: weekdays 1 ± 5 %, a weekend dip."""
    profile = 1 + rng.normal(0, 0.05, 7)
    saturday = rng.uniform(*dip)
    profile[5], profile[6] = saturday, saturday * rng.uniform(0.85, 1.15)
    return profile


def _line(rng: np.random.Generator, line: int, month: date, shifted: bool, sc: Scenario) -> dict:
    """One line's history and month as columns."""
    leads0 = float(np.exp(rng.uniform(np.log(sc.leads[0]), np.log(sc.leads[1]))))
    spend0 = float(np.exp(rng.uniform(np.log(300), np.log(30_000))))
    lead_week, spend_week = _profile(rng, (0.45, 0.85)), _profile(rng, (0.7, 1.0))
    history_months = int(rng.integers(1, 3))
    start = month
    for _ in range(history_months):
        start = (start - timedelta(days=1)).replace(day=1)
    end = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    days = [start + timedelta(days=i) for i in range((end - start).days)]
    level = np.ones(len(days))
    for i, day in enumerate(days):  # each history month at its own drifted level
        if day < month and (i == 0 or day.day == 1):
            drift = float(np.exp(rng.normal(0, 0.1)))
        level[i] = drift if day < month else 1.0
    shift_day = int(rng.integers(8, 21)) if shifted else 0
    if shifted:
        first = month + timedelta(days=shift_day - 1)
        size = sc.shift if rng.random() < 0.5 else -sc.shift
        level[[i for i, d in enumerate(days) if d >= first]] *= 1 + size
    weekday = np.array([d.weekday() for d in days])
    mean_leads = leads0 * level * lead_week[weekday]
    if sc.overdispersion:
        shape = 1 / sc.overdispersion
        leads = rng.poisson(rng.gamma(shape, mean_leads / shape)).astype(float)
    else:
        leads = rng.poisson(mean_leads).astype(float)
    sigma = rng.uniform(*sc.spend_sigma)
    noise = np.exp(rng.normal(-sigma * sigma / 2, sigma, len(days)))
    spend = np.round(spend0 * level * spend_week[weekday] * noise, 2)
    keep = np.ones(len(days), dtype=bool) if sc.history else np.array([d >= month for d in days])
    return {
        "date": [d for d, k in zip(days, keep, strict=True) if k],
        "line": line,
        "month": month,
        "leads": leads[keep],
        "spend": spend[keep],
        "in_month": [d >= month for d, k in zip(days, keep, strict=True) if k],
        "shift_day": shift_day,
    }


def simulate(n_lines: int, seed: int, sc: Scenario) -> Lines:
    """`n_lines` line-months over `MONTHS`, half of them (at random) with a level shift."""
    rng = np.random.default_rng(seed)
    shifted = rng.permutation(np.arange(n_lines) % 2 == 1)
    frames = []
    for line in range(n_lines):
        month = MONTHS[line % len(MONTHS)]
        frames.append(pd.DataFrame(_line(rng, line, month, bool(shifted[line]), sc)))
    daily = pd.concat(frames, ignore_index=True)
    month_rows = daily[daily["in_month"]]
    totals = month_rows.groupby("line")[["leads", "spend"]].sum()
    totals["month"] = [MONTHS[line % len(MONTHS)] for line in totals.index]
    totals["shifted"] = shifted[totals.index]
    totals["shift_day"] = month_rows.groupby("line")["shift_day"].first()
    return Lines(daily.drop(columns=["in_month", "shift_day"]), totals)


def errors(lines: Lines, method: Method, day: int) -> pd.DataFrame:
    """Per line and metric: the absolute % error of `method`'s forecast as of `day`."""
    out = []
    for month in MONTHS:
        rows = lines.daily[lines.daily["month"] == month]
        as_of = month + timedelta(days=day - 1)
        fc = forecast_frame(rows, month, as_of, ["line"], ["leads", "spend"], 5, method)
        fc = fc.set_index("line")
        for metric in ("leads", "spend"):
            truth = lines.totals.loc[fc.index, metric]
            out.append(
                pd.DataFrame(
                    {
                        "metric": metric,
                        "shifted": lines.totals.loc[fc.index, "shifted"],
                        "shift_day": lines.totals.loc[fc.index, "shift_day"],
                        "ape": 100 * (fc[f"{metric}_rr"] - truth).abs() / truth,
                    }
                )
            )
    return pd.concat(out)


def mape_table(n_lines: int, seeds: tuple[int, ...], sc: Scenario) -> pd.DataFrame:
    """MAPE per (method, day) and kind of month: no shift, shift, all."""
    sims = [simulate(n_lines, seed, sc) for seed in seeds]
    rows = []
    for method, day in itertools.product(METHODS, DAYS):
        ape = pd.concat([errors(lines, method, day) for lines in sims])
        rows.append(
            {
                "method": method,
                "day": day,
                "no shift": ape.loc[~ape["shifted"], "ape"].mean(),
                "shift": ape.loc[ape["shifted"], "ape"].mean(),
                "all": ape["ape"].mean(),
                "leads": ape.loc[ape["metric"] == "leads", "ape"].mean(),
                "spend": ape.loc[ape["metric"] == "spend", "ape"].mean(),
            }
        )
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame) -> str:
    """The main table: a row per method, MAPE by day and kind of month."""
    head = "| method | " + " | ".join(
        f"day {d}: {k}" for d in DAYS for k in ("no shift", "shift", "all")
    )
    lines = [head + " |", "| --- |" + " ---: |" * (3 * len(DAYS))]
    for method in METHODS:
        cells = []
        for day in DAYS:
            row = table[(table["method"] == method) & (table["day"] == day)].iloc[0]
            best = table[table["day"] == day]
            for kind in ("no shift", "shift", "all"):
                text = f"{row[kind]:.2f}"
                cells.append(f"**{text}**" if row[kind] == best[kind].min() else text)
        lines.append(f"| {LABELS[method]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def margins(table: pd.DataFrame) -> dict[tuple[int, str], float]:
    """auto's MAPE minus the better of linear and last_n_dow, per (day, kind): <= 0 is a win."""
    out = {}
    for day, kind in itertools.product(DAYS, ("no shift", "shift", "all")):
        at = table[table["day"] == day].set_index("method")[kind]
        out[(day, kind)] = float(at["auto"] - min(at["linear"], at["last_n_dow"]))
    return out


def _margin_cells(m: dict[tuple[int, str], float]) -> str:
    return " | ".join(f"{m[(d, 'no shift')]:+.2f} / {m[(d, 'shift')]:+.2f}" for d in DAYS)


def robustness(n_lines: int, seeds: tuple[int, ...]) -> str:
    """auto against the better of linear and last_n_dow: the issue's scenario seed by seed, then
    every variant over the first three seeds pooled."""
    head = "| scenario | seeds | " + " | ".join(f"day {d}: no shift / shift" for d in DAYS)
    lines = [head + " |", "| --- | --- |" + " ---: |" * len(DAYS)]
    for seed in seeds:
        m = margins(mape_table(n_lines, (seed,), ISSUE))
        lines.append(f"| {ISSUE.name} | {seed} | {_margin_cells(m)} |")
    pooled = seeds[:3]
    for sc in VARIANTS:
        m = margins(mape_table(n_lines, pooled, sc))
        shown = f"{pooled[0]}-{pooled[-1]}"
        lines.append(f"| {sc.name} | {shown} | {_margin_cells(m)} |")
    return "\n".join(lines)


def tune(n_lines: int) -> None:
    """The grid `auto`'s constants were picked from, on `TUNING_SEEDS` only: per setting, the
    worst margin over days and kinds of month (auto minus the better of linear and last_n_dow);
    the smallest worst margin wins."""
    grid = itertools.product((0.2, 0.25, 0.3), (0.2, 0.35, 0.5), (0.02, 0.025, 0.03))
    for size, spread, hazard in grid:
        auto_module.SHIFT_SIZE, auto_module.SHIFT_SPREAD = size, spread
        auto_module.SHIFT_HAZARD = hazard
        m = margins(mape_table(n_lines, TUNING_SEEDS, ISSUE))
        worst = max(m[(d, k)] for d in DAYS for k in ("no shift", "shift"))
        shown = " ".join(f"{m[(d, k)]:+.2f}" for d in DAYS for k in ("no shift", "shift"))
        print(
            f"size {size:.2f} spread {spread:.2f} hazard {hazard:.3f}: worst {worst:+.2f} "
            f"[{shown}]",
            flush=True,
        )


def by_metric(table: pd.DataFrame) -> str:
    """MAPE per metric (all months), a row per method."""
    head = "| method | " + " | ".join(f"{m} day {d}" for m in ("leads", "spend") for d in DAYS)
    lines = [head + " |", "| --- |" + " ---: |" * (2 * len(DAYS))]
    for method in METHODS:
        rows = table[table["method"] == method].set_index("day")
        cells = [f"{rows[m][d]:.2f}" for m in ("leads", "spend") for d in DAYS]
        lines.append(f"| {LABELS[method]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=240)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(REPORTED_SEEDS))
    parser.add_argument("--tune", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.tune:
        tune(args.lines)
        return
    seeds = tuple(args.seeds)
    table = mape_table(args.lines, seeds, ISSUE)
    print(
        f"MAPE of the month-end forecast, %: {args.lines} lines x seeds {seeds}, leads and spend\n"
    )
    print(markdown(table))
    print("\nBy metric (all months):\n")
    print(by_metric(table))
    print(
        "\nauto minus the better of linear and last_n_dow (MAPE points; <= 0: auto is as good"
        " or better):\n"
    )
    print(robustness(args.lines, seeds))
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
