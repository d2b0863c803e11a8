"""The anomaly rule on simulated stable months: false alarms, and how fast it sees real breaks.

    python benchmarks/bench_anomaly.py [--channels 2000] [--seed 1] [--z 3.25] [--alpha 0.01]

Each simulated channel has 6 weeks of history and then a 30-day month, all stable: a weekday level
(leads log-uniform 4-80 a day, spend log-uniform 5,000-60,000 RUB a day, as in the demo's
channels), weekday factors (Mon-Fri within +-8 %, Saturday and Sunday 0.75-1.0 of a weekday for
leads and 0.70-1.05 for spend, the demo's range), leads negative-binomial (size 30-120: mild
overdispersion, sd 15-21 % of the mean at 80 a day), spend gamma with a 5-15 % coefficient of
variation. Every day of the month is judged against the 6 weeks before it (rolling, as the digest
does each morning); every alert on a stable month is a false one.

Breaks, each on a copy of the same months from a random day among the month's first 24 (so 7
days follow it): leads halve from that day on (binomial thinning); leads triple for that day only;
spend halves, or goes to 0 (a campaign stopped), from that day on. A break is caught when the rule
flags it in its direction (low for a drop, high for the spike) within 7 days; "mean day" is the
day it is caught on, 1 being the break's first day.

Rules, all judged on the same months:
- ours: `planning.anomaly` on yesterday alone (`days=1`), and "yesterday or the last 2 days
  together" (`days=1` or `days=2`, both at the same z); and with only 2 weeks of history;
- oracle (leads): the true mean and negative-binomial noise known exactly, yesterday outside its
  `--alpha` / 2 and 1 - `--alpha` / 2 quantiles: the most any one-day rule could see at that
  false-alarm rate;
- naive: mean +- 3 sd of the last 14 days, no day-of-week adjustment.

The script checks that `band_arrays`, used here for speed, gives what `day_band` gives (with
`days` 1 and 2, on sparse series) on a sample of channels and days.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from planning.anomaly import DEFAULT_Z, band_arrays, day_band

LEAD_IN = 1  # a day before the history, for the first 2-day sums
HISTORY = 42
MONTH = 30
TOTAL = LEAD_IN + HISTORY + MONTH
SPAN = 7  # days after a break in which it must be caught
FIRST = dt.date(2026, 1, 4)  # day 0 of the simulation
BUCKETS = ((4.0, 10.0, "4-10"), (10.0, 30.0, "10-30"), (30.0, 80.1, "30-80"), (4.0, 80.1, "4-80"))

Flags = tuple[np.ndarray, np.ndarray]  # (n, 30) below low, above high
Rule = Callable[[np.ndarray], Flags]  # a (n, TOTAL) series -> its month's flags


@dataclass
class Months:
    leads: np.ndarray  # (n, TOTAL)
    lead_mean: np.ndarray  # (n, TOTAL): the truth
    size: np.ndarray  # (n, 1): negative-binomial size
    spend: np.ndarray
    base: np.ndarray  # (n,): weekday leads a day
    starts: np.ndarray  # (n,): day of the month a break starts


def weekly(rng: np.random.Generator, n: int, weekend: tuple[float, float]) -> np.ndarray:
    """(n, TOTAL) day-of-week factors: Mon-Fri within +-8 %, Sat and Sun in `weekend`."""
    days = np.ones((n, 7))
    days[:, :5] = rng.uniform(0.92, 1.08, (n, 5))
    days[:, 5:] = rng.uniform(*weekend, (n, 1)) * rng.uniform(0.95, 1.05, (n, 2))
    days = np.roll(days, 1, axis=1)  # day 0 (FIRST) is a Sunday
    return np.tile(days, (1, TOTAL // 7 + 1))[:, :TOTAL]


def negbin(rng: np.random.Generator, mean: np.ndarray, size: np.ndarray) -> np.ndarray:
    size = np.broadcast_to(size, mean.shape)
    return rng.negative_binomial(size, size / (size + mean)).astype(np.float64)


def simulate(n: int, seed: int) -> Months:
    rng = np.random.default_rng(seed)
    base = np.exp(rng.uniform(np.log(4), np.log(80), n))
    lead_mean = base[:, None] * weekly(rng, n, (0.75, 1.0))
    size = rng.uniform(30, 120, (n, 1))
    spend_base = np.exp(rng.uniform(np.log(5_000), np.log(60_000), n))
    cv = rng.uniform(0.05, 0.15, (n, 1))
    noise = rng.gamma(1 / cv**2, cv**2, (n, TOTAL))
    spend = np.round(spend_base[:, None] * weekly(rng, n, (0.70, 1.05)) * noise, 2)
    leads = negbin(rng, lead_mean, size)
    starts = rng.integers(0, MONTH - SPAN + 1, n)
    return Months(leads, lead_mean, size, spend, base, starts)


def breaks(m: Months, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed + 1)
    days = np.arange(TOTAL)[None, :]
    after = days >= LEAD_IN + HISTORY + m.starts[:, None]
    on = days == LEAD_IN + HISTORY + m.starts[:, None]
    halved = np.where(after, rng.binomial(m.leads.astype(np.int64), 0.5), m.leads)
    return {
        "leads halve": halved.astype(np.float64),
        "leads triple": np.where(on, negbin(rng, 3 * m.lead_mean, m.size), m.leads),
        "spend halves": np.where(after, np.round(m.spend / 2, 2), m.spend),
        "spend stops": np.where(after, 0.0, m.spend),
    }


# --------------------------------------------------------------------------- rules


def windows(series: np.ndarray, days: int, weeks: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, 30, 7 weeks): the `days`-day sums before each day of the month; (n, 30): the days."""
    sums = series.copy()
    for lag in range(1, days):
        sums[:, lag:] += series[:, :-lag]
    end = LEAD_IN + HISTORY
    view = np.lib.stride_tricks.sliding_window_view(sums[:, : end + MONTH - 1], 7 * weeks, axis=1)
    return view[:, end - 7 * weeks : end - 7 * weeks + MONTH], sums[:, end:]


def ours(z: float, counts: bool, days: tuple[int, ...] = (1,), weeks: int = 6) -> Rule:
    def rule(series: np.ndarray) -> Flags:
        below = above = np.zeros((len(series), MONTH), dtype=bool)
        for d in days:
            history, value = windows(series, d, weeks)
            _, low, high = band_arrays(
                history.reshape(*history.shape[:2], weeks, 7), z=z, counts=counts
            )
            below, above = below | (value < low), above | (value > high)
        return below, above

    return rule


def oracle(m: Months, alpha: float) -> Rule:
    mean = m.lead_mean[:, LEAD_IN + HISTORY :]
    size = np.broadcast_to(m.size, mean.shape)
    low = stats.nbinom.ppf(alpha / 2, size, size / (size + mean))
    high = stats.nbinom.isf(alpha / 2, size, size / (size + mean))

    def rule(series: np.ndarray) -> Flags:
        value = series[:, LEAD_IN + HISTORY :]
        return value < low, value > high

    return rule


def naive(series: np.ndarray) -> Flags:
    history, value = windows(series, 1, 2)
    mean, sd = history.mean(axis=-1), history.std(axis=-1, ddof=1)
    return value < mean - 3 * sd, value > mean + 3 * sd


# --------------------------------------------------------------------------- measures


def first_catch(flagged: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Day caught (1 = the break's first day) within SPAN days, or 0 when not caught."""
    hits = np.take_along_axis(flagged, starts[:, None] + np.arange(SPAN), axis=1)
    return np.where(hits.any(axis=1), hits.argmax(axis=1) + 1, 0)


def pct(x: np.ndarray) -> str:
    return f"{100 * float(np.mean(x)):.0f} %"


def false_alerts(flags: Flags) -> np.ndarray:
    return np.asarray((flags[0] | flags[1]).sum(axis=1))


def summary(alerts: np.ndarray) -> list[str]:
    return [f"{alerts.mean():.2f}", f"{np.percentile(alerts, 95):.0f}", pct(alerts > 0)]


def catches(day: np.ndarray) -> list[str]:
    caught = day[day > 0]
    mean_day = f"{caught.mean():.2f}" if caught.size else "—"
    return [pct(day == 1), pct((day >= 1) & (day <= 2)), pct(day > 0), mean_day]


def lead_rows(m: Months, broken: dict[str, np.ndarray], rules: dict[str, Rule]) -> Iterator[str]:
    for name, rule in rules.items():
        stable = false_alerts(rule(m.leads))
        halved = first_catch(rule(broken["leads halve"])[0], m.starts)
        tripled = first_catch(rule(broken["leads triple"])[1], m.starts) == 1
        for low, high, label in BUCKETS:
            rows = (m.base >= low) & (m.base < high)
            cells = [name, label, f"{int(rows.sum()):,}", *summary(stable[rows])]
            cells += [*catches(halved[rows]), pct(tripled[rows])]
            yield "| " + " | ".join(cells) + " |"


def spend_rows(m: Months, broken: dict[str, np.ndarray], rules: dict[str, Rule]) -> Iterator[str]:
    for name, rule in rules.items():
        cells = [name, *summary(false_alerts(rule(m.spend)))]
        for kind in ("spend halves", "spend stops"):
            day = first_catch(rule(broken[kind])[0], m.starts)
            cells += [pct(day == 1), pct((day >= 1) & (day <= 2)), f"{day[day > 0].mean():.2f}"]
        yield "| " + " | ".join(cells) + " |"


def check_against_day_band(m: Months, z: float, seed: int) -> int:
    """`band_arrays` (used above) gives what `day_band` gives on a sample of channels and days."""
    rng = np.random.default_rng(seed + 2)
    dates = pd.date_range(FIRST, periods=TOTAL)
    checked = 0
    for i, d in zip(rng.integers(0, len(m.base), 20), rng.integers(0, MONTH, 20), strict=True):
        for series, counts in ((m.leads[i : i + 1], True), (m.spend[i : i + 1], False)):
            sparse = pd.Series(series[0], index=dates)
            sparse = sparse[sparse != 0]  # days without rows are 0 to day_band
            for days in (1, 2):
                day = dates[LEAD_IN + HISTORY + d].date()
                band = day_band(sparse, day, z=z, counts=counts, days=days)
                assert band is not None and band.weeks == 6
                history, value = windows(series, days, 6)
                expected, low, high = band_arrays(history[0, d].reshape(6, 7), z=z, counts=counts)
                np.testing.assert_allclose(
                    [band.value, band.expected, band.low, band.high],
                    [value[0, d], expected, low, high],
                    rtol=1e-12,
                )
                checked += 1
    return checked


LEADS_HEADER = """\
| rule | leads a day | channels | false alerts / month: mean | p95 | months with ≥ 1 | halving: caught day 1 | by day 2 | within 7 days | mean day | 3× one-day spike caught |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"""  # noqa: E501
SPEND_HEADER = """\
| rule | false alerts / month: mean | p95 | months with ≥ 1 | spend halves: caught day 1 | by day 2 | mean day | spend → 0: caught day 1 | by day 2 | mean day |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"""  # noqa: E501


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--z", type=float, default=DEFAULT_Z)
    parser.add_argument("--alpha", type=float, default=0.01, help="the oracle's daily rate")
    args = parser.parse_args()
    began = time.perf_counter()
    months = simulate(args.channels, args.seed)
    broken = breaks(months, args.seed)
    z = args.z
    ours_day, ours_two = (
        f"ours, yesterday (z = {z:g})",
        f"ours, yesterday or last 2 days (z = {z:g})",
    )
    ours_new = f"ours, yesterday, only 2 weeks of history (z = {z:g})"
    naive_name = "naive: last 14 days' mean ± 3 sd"
    checked = check_against_day_band(months, z, args.seed)
    print(
        f"{args.channels:,} simulated channel-months (seed {args.seed}), each 6 weeks of history "
        f"+ 30 days; band_arrays == day_band on {checked} sampled days\n"
    )
    print(LEADS_HEADER)
    lead_rules = {
        ours_day: ours(z, True),
        ours_two: ours(z, True, (1, 2)),
        ours_new: ours(z, True, weeks=2),
        f"oracle: true distribution, {args.alpha:g} a day": oracle(months, args.alpha),
        naive_name: naive,
    }
    for row in lead_rows(months, broken, lead_rules):
        print(row)
    print("\n" + SPEND_HEADER)
    spend_rules = {
        ours_day: ours(z, False),
        ours_two: ours(z, False, (1, 2)),
        ours_new: ours(z, False, weeks=2),
        naive_name: naive,
    }
    for row in spend_rows(months, broken, spend_rules):
        print(row)
    print(f"\n{time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
