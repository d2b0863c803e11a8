"""The `auto` run-rate, and the weekday factors it shares with `last_n_dow`.

Why `auto`
----------
`linear` (the month so far, stretched) is the best forecast of a month whose level holds, and the
worst of one whose level shifted (a budget cut, a new campaign): it averages the old level in.
`last_n_dow` follows a shift but, resting on a few days, is noisier when nothing changed. `auto`
asks the data which of the two situations it is in, and how sure it can be:

1. **Weekday factors** ``f_w`` from every day available up to as-of (the month and any earlier
   history, as `last_n_dow`): ``mean on weekday w / overall mean``, then **shrunk toward 1** by
   how noisy they are (empirical Bayes: the weekday means' sampling variance, from the spread of
   the days within each weekday, against the spread of the factors themselves). A weekday never
   seen gets 1; so does every weekday when each was seen at most once (no spread to judge the
   noise by) or when every value so far is 0. A perfectly weekly pattern has no spread within a
   weekday: its factors are not shrunk at all and it is forecast exactly.
2. **The level** of the month's days is ``sum of values / sum of factors`` (a weekday-adjusted
   mean weighting each day by its factor, as a Poisson count calls for; days of a weekday whose
   factor is under ``QUIET_DAY``, say a B2B line's weekend, are left out). **Noise**
   ``sigma^2``: the mean squared day-to-day change of the weekday-adjusted values over every day
   available (history included; a single shift barely moves it), times ``n / (n - k)`` for the
   ``k`` factors fitted to those ``n`` days (few days and a factor each would otherwise soak up
   the noise and make every wiggle look like a shift). **Odd days** first: a day further than
   ``SPIKE`` sigmas from the median of the days within two of it counts as that median (a Hampel
   filter): a promotion or a tracking glitch is no new level, while a shift lasting a few days
   moves the median along. The MTD keeps every day as it was.
3. **Did the level shift, and when?** Every day ``s`` of the month after the first is a candidate
   for "the level changed on day s", against "it did not". A priori a shift happens on any one
   day with chance ``SHIFT_HAZARD`` and moves the level up or down by about ``SHIFT_SIZE`` of it
   (give or take ``SHIFT_SPREAD`` of that): budget changes are material. With Gaussian noise
   each candidate's Bayes factor is closed-form in the levels before and since ``s``. The rate
   is the **posterior-weighted average** of the current level under every hypothesis: the
   month's level if nothing changed, else the level since ``s`` (pulled toward "before + the
   prior's shift" as far as the days since ``s`` are few). Nothing is a hard switch: a month
   with no evidence of a shift gets about its weekday-adjusted level, one with a clear shift the
   level since it.

``forecast = mtd + rate * sum of the weekday factors of the days left``: at least the MTD for a
non-negative series, exact for a constant series and for a perfectly weekly pattern (each weekday
seen twice), and scaled with the series (every step is). `window` is not used. Before the month
and on or after its last day `auto` behaves as every method (nan; the MTD).

The three constants were chosen on simulation seeds that `benchmarks/bench_runrate_quality.py`
does not report (``--tune``): among the grid, the one whose worst margin against the better of
`linear` and `last_n_dow` (months with and without a shift, days 10, 15, 20) was smallest (+0.02
MAPE point, a tie with size 0.3, spread 0.2, hazard 0.025: the wider spread of shift sizes won).
docs/benchmarks.md ("Decision quality") says where `auto` wins and where it trails (by about
0.1 MAPE point at day 15).

Every sum over days runs day after day in order (`day_sum`), so a line alone and a line among
many give the same bits: `forecast_frame` equals `forecast_series` for `auto` too.
"""

from __future__ import annotations

import warnings
from datetime import date, timedelta
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from planning.runrate_inputs import day_sum

__all__ = [
    "SHIFT_HAZARD",
    "SHIFT_SIZE",
    "SHIFT_SPREAD",
    "AutoRun",
    "WeekdayTable",
    "auto_note",
    "auto_run",
    "weekday_table",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

SHIFT_SIZE = 0.25
"""The typical size of a level shift, up or down, as a share of the month's level."""
SHIFT_SPREAD = 0.35
"""How far a shift's size strays from `SHIFT_SIZE` (a standard deviation, as a share of it)."""
SHIFT_HAZARD = 0.03
"""The prior chance that the level shifts on any one day of the month."""
QUIET_DAY = 0.05
"""Days of a weekday whose factor is under this (a weekend of a B2B line) say nothing of the level:
they are left out of it, and get their factor's share of it among the days left."""
SPIKE = 4.0
"""A day further than this many sigmas from its neighbours' median is an odd day, not a level."""
NOISE_FLOOR = 1e-12
"""``sigma^2`` is at least this share of the level squared (a noiseless series stays finite)."""
SURE = 0.5
"""A shift is named in the note when its day (give or take one) has at least this posterior."""


class WeekdayTable(NamedTuple):
    """Raw weekday factors of `n_lines` lines; weekday arrays have shape ``(7, n_lines)``."""

    weekday: IntArray  # (n_days,): the weekday of each row, Monday 0
    observed: BoolArray  # (n_days, n_lines): the cell is within the line's history
    filled: FloatArray  # (n_days, n_lines): the values, 0 outside the history
    days_seen: IntArray  # days available up to as-of (with history)
    overall: FloatArray  # the mean over those days
    means: FloatArray  # the mean per weekday (nan when unseen)
    counts: IntArray  # days seen per weekday
    factors: FloatArray  # mean per weekday / overall mean; 1 when unseen or all zero
    all_zero: BoolArray  # the overall mean is 0: every factor is 1
    unseen: BoolArray  # the weekday was never observed


def weekday_table(daily: FloatArray, first_day: date) -> WeekdayTable:
    """The weekday factors of `daily` (``(n_days, n_lines)``, row 0 is `first_day`, nan before a
    line's history): ``f_w = mean on weekday w / overall mean``; 1 for a weekday never observed
    and for every weekday of a line whose overall mean is 0."""
    n_days = daily.shape[0]
    weekday = ((first_day.weekday() + np.arange(n_days)) % 7).astype(np.int64)
    observed = ~np.isnan(daily)
    filled = np.where(observed, daily, 0.0)
    days_seen = observed.sum(axis=0)
    overall = day_sum(filled) / days_seen
    sums = np.stack([day_sum(filled[weekday == w]) for w in range(7)])
    counts = np.stack([observed[weekday == w].sum(axis=0) for w in range(7)])
    all_zero = overall == 0
    unseen = counts == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        means = np.where(unseen, np.nan, sums / counts)
        factors = np.where(unseen | all_zero, 1.0, means / overall)
    return WeekdayTable(
        weekday, observed, filled, days_seen, overall, means, counts, factors, all_zero, unseen
    )


class Shrunk(NamedTuple):
    """Weekday factors pulled toward 1, and how many of them the data kept."""

    factors: FloatArray  # (7, n_lines)
    kept: FloatArray  # (n_lines,): the sum of the shares kept, the factors' degrees of freedom


def shrunk_factors(table: WeekdayTable) -> Shrunk:
    """The factors pulled toward 1 by their noise (empirical Bayes), shape ``(7, n_lines)``.

    The noise of ``f_w`` is ``s^2 / (n_w * overall^2)``, ``s^2`` the pooled variance of the days
    around their weekday's mean; the signal ``A`` is the factors' mean squared distance from 1
    less the mean noise (at least 0). ``f_w`` keeps the share ``A / (A + noise_w)`` of its
    distance from 1: all of it when there is no noise, none when there is no signal, and none
    when no weekday was seen twice (the noise cannot be judged).
    """
    seen = ~table.unseen & ~table.all_zero[None, :]
    centred = np.where(table.observed, table.filled - table.means[table.weekday], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.where(table.observed, centred * centred, 0.0)
        freedom = table.days_seen - seen.sum(axis=0)
        noise_var = day_sum(spread) / freedom
        noise = np.where(seen, noise_var / (table.counts * table.overall**2), 0.0)
        n_seen = seen.sum(axis=0)
        distance = np.where(seen, (table.factors - 1.0) ** 2, 0.0)
        signal = np.maximum(day_sum(distance) / n_seen - day_sum(noise) / n_seen, 0.0)
        pull = np.where(noise > 0, noise / (signal + noise), 0.0)
    pull = np.where(seen & (freedom > 0), pull, 1.0)
    # f + pull * (1 - f), not 1 + (1 - pull) * (f - 1): a tiny factor keeps its digits
    factors = np.where(seen, table.factors + pull * (1.0 - table.factors), 1.0)
    return Shrunk(factors, day_sum(np.where(seen, 1.0 - pull, 0.0)))


class AutoRun(NamedTuple):
    """`auto`'s run-rates of `n_lines` lines; every array has shape ``(n_lines,)``."""

    forecast: FloatArray
    rate: FloatArray  # the weekday-neutral daily level the days left extend
    window_days: IntArray  # the days the level rests on: posterior-weighted days since a shift
    days_seen: IntArray
    all_zero: BoolArray
    unseen: BoolArray  # (7, n_lines)
    shift_day: IntArray  # 1-based day of the month the level most likely changed on; 0 if none
    shift_prob: FloatArray  # its posterior (give or take a day); 0 if none


class _Level(NamedTuple):
    rate: FloatArray
    days: FloatArray
    weights: FloatArray  # (elapsed, n_lines): row 0 no shift, row k a shift on day k + 1


def _noise(x: FloatArray, f: FloatArray, usable: BoolArray, fitted: FloatArray) -> FloatArray:
    """``sigma^2`` of a weekday-adjusted day ``x_d`` (whose variance is ``sigma^2 / f_d``): the
    mean of ``(x_d - x_{d-1})^2 / (1/f_d + 1/f_{d-1})`` over consecutive usable days, times
    ``n / (n - k)`` for ``k`` factors `fitted` to the ``n`` usable days (fitted to few days, the
    factors soak up their noise); 0 when there is no pair."""
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse = np.where(usable, 1.0 / np.where(usable, f, 1.0), 0.0)
        pair = usable[1:] & usable[:-1]
        step = np.where(pair, x[1:] - x[:-1], 0.0)
        terms = np.where(pair, step * step / (inverse[1:] + inverse[:-1]), 0.0)
        n = usable.sum(axis=0)
        sigma2 = day_sum(terms) / pair.sum(axis=0) * n / (n - fitted)
    return np.where(np.isfinite(sigma2), sigma2, 0.0)


def _despike(x: FloatArray, f: FloatArray, usable: BoolArray, sigma2: FloatArray) -> FloatArray:
    """`x` with every day further than ``SPIKE * sigma / sqrt(f_d)`` from the median of the usable
    days within two of it (a Hampel filter) replaced by that median: one odd day (a promotion,
    a tracking glitch) is no shift, while a shift lasting a few days moves the median too."""
    n_days = x.shape[0]
    padded = np.full((n_days + 4, x.shape[1]), np.nan)
    padded[2:-2] = np.where(usable, x, np.nan)
    near = np.stack([padded[k : k + n_days] for k in range(5)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-nan windows: days not usable
        median = np.nanmedian(near, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        spike = usable & (np.abs(x - median) * np.sqrt(f) > SPIKE * np.sqrt(sigma2))
    return np.where(spike, median, x)


def _level(
    values: FloatArray, weights: FloatArray, sigma2: FloatArray, level: FloatArray
) -> _Level:
    """The posterior-weighted current level of the month's days (``(elapsed, n_lines)`` values
    and factor weights, 0 for a day left out), over "no shift" and "a shift on day s".

    For a shift on day ``s``: ``before``/``after`` the levels of the days before and since
    (weights ``F1``, ``F2``), their gap ``g`` has variance ``v = sigma^2 (1/F1 + 1/F2)`` with no
    shift; a shift adds ``+m`` or ``-m`` (``m = SHIFT_SIZE * level``, half a chance each) give or
    take ``SHIFT_SPREAD * m`` (a Normal; ``w = v + (SHIFT_SPREAD * m)^2``). The Bayes factor
    against no shift is ``(N(g; m, w) + N(g; -m, w)) / 2 / N(g; 0, v)``; a shift up makes the
    level since ``s`` ``after`` less its expected noise, ``sigma^2 / F2 / w * (g - m)`` (down:
    ``+m``), and the two are weighted by how well each explains ``g``.
    """
    elapsed = values.shape[0]
    y_cum, f_cum = np.cumsum(values, axis=0), np.cumsum(weights, axis=0)
    y1, f1 = y_cum[:-1], f_cum[:-1]  # the days before a shift on day s = 2..elapsed
    y2, f2 = y_cum[-1] - y1, f_cum[-1] - f1
    scale = np.abs(level)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        before, after = y1 / f1, y2 / f2
        var = sigma2 * (1.0 / f1 + 1.0 / f2)
        gap = after - before
        parts = []  # per component: log(p_c N(g; m_c, v + s_c^2) / N(g; 0, v)), its level
        wide = var + (SHIFT_SPREAD * SHIFT_SIZE * scale) ** 2
        for centre in (SHIFT_SIZE * scale, -SHIFT_SIZE * scale):  # up or down, half a chance each
            log_part = (
                np.log(0.5)
                + 0.5 * np.log(var / wide)
                + gap * gap / (2 * var)
                - (gap - centre) ** 2 / (2 * wide)
            )
            parts.append((log_part, after - sigma2 / f2 / wide * (gap - centre)))
        (log_up, up), (log_down, down) = parts
        top = np.maximum(log_up, log_down)
        share_up, share_down = np.exp(log_up - top), np.exp(log_down - top)
        log_bf = top + np.log(share_up + share_down)
        shifted = (share_up * up + share_down * down) / (share_up + share_down)
    valid = (f1 > 0) & (f2 > 0) & (scale > 0) & (sigma2 > 0)
    log_w = np.vstack(
        [
            np.full((1, len(level)), np.log1p(-SHIFT_HAZARD * (elapsed - 1))),
            np.where(valid, np.log(SHIFT_HAZARD) + log_bf, -np.inf),
        ]
    )
    w = np.exp(log_w - log_w.max(axis=0))
    w /= day_sum(w)
    rates = np.vstack([level[None, :], np.where(valid, shifted, 0.0)])
    since = np.arange(elapsed, 0, -1, dtype=np.float64)[:, None]  # days since each candidate
    return _Level(day_sum(w * rates), day_sum(w * since), w)


def auto_run(
    daily: FloatArray, first_day: date, month: date, elapsed: int, left: int, mtd: FloatArray
) -> AutoRun:
    """`auto`'s forecast from `daily` (``(n_days, n_lines)``, row 0 `first_day`, nan before a
    line's history; the last row is day `elapsed` of `month`, ``elapsed >= 1``), `left` days
    left and the month-to-date `mtd`.

    Each line is first divided by its largest absolute value (1 if all are 0), so that tiny and
    huge numbers alike stay far from the floating-point limits; the rate is scaled back.
    """
    scale = np.where(np.isnan(daily), 0.0, np.abs(daily)).max(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    table = weekday_table(daily / scale, first_day)
    shrunk = shrunk_factors(table)
    factors = shrunk.factors
    f = factors[table.weekday]
    usable = table.observed & (f >= QUIET_DAY)
    x = np.where(usable, table.filled / np.where(usable, f, 1.0), 0.0)
    x = _despike(x, f, usable, _noise(x, f, usable, shrunk.kept))
    start = (month - first_day).days
    weights = np.where(usable[start:], f[start:], 0.0)
    values = x[start:] * weights
    f_all = day_sum(weights)
    with np.errstate(divide="ignore", invalid="ignore"):
        month_level = np.where(f_all > 0, day_sum(values) / f_all, table.overall)
    month_level = np.where(np.isfinite(month_level), month_level, 0.0)
    sigma2 = np.maximum(_noise(x, f, usable, shrunk.kept), NOISE_FLOOR * month_level**2)
    found = _level(values, weights, sigma2, month_level)
    n_days = daily.shape[0]
    later = (first_day.weekday() + n_days - 1 + np.arange(1, left + 1)) % 7
    rate = found.rate * scale
    forecast = mtd + rate * day_sum(factors[later]) if left else mtd.copy()
    shift_day, shift_prob = _likely_shift(found.weights)
    if not left:  # nothing left to extend the level to: no shift worth a note
        shift_day[:] = 0
    return AutoRun(
        forecast=forecast,
        rate=rate,
        window_days=np.rint(found.days).astype(np.int64),
        days_seen=table.days_seen,
        all_zero=table.all_zero,
        unseen=table.unseen,
        shift_day=shift_day,
        shift_prob=shift_prob,
    )


def _likely_shift(weights: FloatArray) -> tuple[IntArray, FloatArray]:
    """The most probable shift day (1-based) and its posterior give or take a day; 0 and 0 when
    "no shift" is the most probable hypothesis."""
    shifts = weights[1:]  # row k: a shift on day k + 2
    if not len(shifts):
        return np.zeros(weights.shape[1], dtype=np.int64), np.zeros(weights.shape[1])
    best = np.argmax(weights, axis=0) - 1  # -1: no shift
    padded = np.vstack([np.zeros_like(shifts[:1]), shifts, np.zeros_like(shifts[:1])])
    columns = np.arange(weights.shape[1])
    rows = np.maximum(best, 0)
    near = padded[rows, columns] + padded[rows + 1, columns] + padded[rows + 2, columns]
    found = best >= 0
    return np.where(found, best + 2, 0).astype(np.int64), np.where(found, near, 0.0)


def auto_note(run: AutoRun, line: int, month: date) -> str:
    """The shift `auto` found for line `line`, in words; ``""`` when none is likely enough."""
    day, prob = int(run.shift_day[line]), float(run.shift_prob[line])
    if not day or prob < SURE:
        return ""
    since = month + timedelta(days=day - 1)
    return (
        f"the level changed around {since.isoformat()} (probability {prob:.0%}): the rate "
        "rests mostly on the days since"
    )
