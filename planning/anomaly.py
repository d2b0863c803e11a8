"""The anomaly rule: was yesterday outside a day-of-week-adjusted band of the last weeks?

One channel, one daily metric: a count (leads, calls) or money (spend). `day_band` looks at the
`weeks` full weeks before the day (not the day itself) and says what the day was expected to be
and how far from that it may fall by chance; with ``days=2`` it judges the last 2 days' total the
same way. `band_arrays` is the same computation on many channels or days at once (numpy).

The model
---------
History: ``w = min(weeks, full weeks since the series' first value)`` weeks laid out as a table of
``w`` rows (weeks) by 7 columns (weekdays; column 0 is the day's own weekday). A day missing from
the series inside that range counts as 0, and so does a NaN: the team's sources have no row on a
day with no leads or no spend, and a NaN is treated the same way (fill it before calling if it
means "not loaded yet"). Days after the day are ignored; duplicate dates are summed.

1. **Robust cleaning.** A first rough fit is each weekday's median over the weeks. Cells further
   than ``WINSOR`` (3) spreads from it (the spread as in step 4, from this rough fit) are pulled
   back to that limit (winsorised), so a holiday-like spike or a one-day outage moves the level
   and the weekday factors only a little. (With 2 weeks the median of a weekday is the mean of
   two days and cannot tell the spike from a pattern; from 3 weeks it can.)
2. **Level.** ``L`` = the mean of the cleaned table (every day of the ``w`` weeks).
3. **Day-of-week factors**, shrunk toward 1. Raw ``f_j`` = the cleaned mean of weekday ``j``
   divided by ``L``. They are noisy when weeks are few, so they are shrunk toward 1 by the
   positive-part James-Stein weight ``a = max(0, 1 - 4 v / sum_j (f_j - 1)^2)``, where ``v`` is the
   noise variance of one raw factor (the within-weekday variance of ``cell / L`` divided by ``w``)
   and 4 is 7 weekdays - 3: ``factor_j = 1 + a (f_j - 1)``. A clear pattern (weekends at half the
   weekdays) keeps ``a`` near 1; a flat channel or a short history pulls ``a`` toward 0, i.e.
   toward pooling all seven days. With one week, or no spread among the factors, ``a = 0``. The
   day's **expected** value is ``L * factor_0``.
4. **Spread** from the history's residuals against the fit (robust: 1.4826 x the median absolute
   residual, MAD, which one spike barely moves), with a floor:

   - counts: on the square-root scale ``sqrt(x + 3/8)`` (Anscombe's), where Poisson noise has
     sd 1/2 whatever the volume; the floor 1/2 is the Poisson sd ``sqrt(expected)`` on the count
     scale, so a channel of 3-10 leads a day does not alarm on its own noise, and the band is
     skewed the way counts are (a 0 on a 2-lead day is inside it; a 0 on a 30-lead day is not);
   - money: relative, ``spend / fitted - 1``, floored at ``MIN_RELATIVE_SPREAD`` (5 %) so that a
     very steady spend does not flag a budget tweak of a few per cent.

   Residuals from a fit are smaller than the noise: the MAD is first scaled by
   ``sqrt(7 w / (7 w - p))`` with ``p = 1 + 6 a`` numbers fitted (the level and the shrunk factors).
   And the expected value is itself an average, so the spread is widened by
   ``sqrt(1 + (a^2 + (1 - a^2) / 7) / w)`` (the variance of ``L * factor_0`` relative to one day's).
5. **Band.** Counts: ``low, high = (sqrt(expected + 3/8) -/+ z * spread)^2 - 3/8``, low at least 0.
   Money: ``expected * (1 -/+ z * spread)``, low at least 0. The day is **outside** when its value
   is below `low` or above `high` (two-sided: a drop and a spike both count).

Zero expected. A count channel with an all-zero history (or a weekday that is always 0) has
expected 0 and the band ``[0, (sqrt(3/8) + z * 0.5 * widening)^2 - 3/8]``: with the defaults and
6 weeks, ``[0, 4.72]``, so a day is outside from 5 leads on, which Poisson noise around "nothing"
does not produce. Money does not appear by chance: with expected 0 the band is ``[0, 0]`` and any
spend is outside (a campaign switched on, or a cost mapped to the wrong channel). `Band.deviation`
is nan then. A usual 2 leads a day gives ``[0, 9.77]``: a day with none is not an alarm.

Choice of `z` and what one day can show
---------------------------------------
``DEFAULT_Z`` = 3.25 was chosen on 2,000 simulated stable channel-months
(benchmarks/bench_anomaly.py; docs/benchmarks.md, "Anomaly rule"): 0.09 false alerts per channel
per month on leads and 0.17 on spend judging yesterday alone, 0.16 and 0.26 adding the 2-day sums
(``days=2``), so leads, calls and spend together stay well under 1 per channel per month. Spend
going to 0 is caught on its first day. One day of counts cannot show a halving quickly on a small
channel: at 10-30 leads a day even the true distribution, known exactly, flags the first halved
day about 1 time in 4 at that false-alarm rate (43 % by the second day). Alerting when either
yesterday (``days=1``) or the last 2 days together (``days=2``) is outside catches 40 % by the
second day there (25 % with yesterday alone) and 81 % at 30-80 leads a day (61 %).
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from planning.errors import InputError

__all__ = [
    "DEFAULT_Z",
    "MIN_RELATIVE_SPREAD",
    "WINSOR",
    "Band",
    "band_arrays",
    "day_band",
]

Floats = npt.NDArray[np.float64]

DEFAULT_Z = 3.25
"""Band half-width in spreads (see "Choice of `z`" above): about 0.1 false alerts per channel per
month on leads and 0.2 on spend in simulated stable months."""

MIN_RELATIVE_SPREAD = 0.05
"""Money: the floor of the relative spread (5 % of the expected spend)."""

WINSOR = 3.0
"""Cleaning: history cells further than this many spreads from the rough fit are pulled back."""

_SHIFT = 3.0 / 8.0  # Anscombe: sqrt(x + 3/8) has variance ~1/4 for Poisson x
_POISSON_SD = 0.5
_MAD_SD = 1.4826  # MAD -> sd for normal residuals


@dataclass(frozen=True)
class Band:
    """The day's value against the band the last weeks give it (see the module docstring)."""

    day: dt.date
    value: float
    """The day's actual (a missing day or NaN is 0)."""
    expected: float
    """Level x the day-of-week factor."""
    low: float
    high: float
    weeks: int
    """Full weeks of history used."""
    days: int = 1
    """Days summed: `value` is the total of the `days` days ending on `day` (1: the day alone)."""

    @property
    def outside(self) -> bool:
        """The value is below `low` or above `high`."""
        return self.value < self.low or self.value > self.high

    @property
    def deviation(self) -> float:
        """(value - expected) / expected; nan when expected is 0."""
        if self.expected == 0:
            return math.nan
        return (self.value - self.expected) / self.expected


def _invalid(name: str, must: str, value: Any) -> InputError:
    return InputError(f"`{name}` must be {must}, got {value!r}", value=value, has_value=False)


def _check_z(z: Any) -> float:
    if isinstance(z, bool) or not isinstance(z, int | float) or not math.isfinite(z) or z <= 0:
        raise _invalid("z", "a positive number", z)
    return float(z)


def _check_values(x: Floats, where: str) -> None:
    if np.isinf(x).any():
        raise InputError(f"{where}: values must be finite numbers", value=None, has_value=False)
    if (x < 0).any():
        raise InputError(
            f"{where}: daily counts and spend must be >= 0, got {float(x.min())!r}",
            value=float(x.min()),
            has_value=False,
        )


# --------------------------------------------------------------------------- the model on arrays


def _residuals(x: Floats, fitted: Floats, counts: bool) -> Floats:
    """Residuals on the band's scale: square-root for counts, relative for money (nan if fit 0)."""
    if counts:
        return np.sqrt(x + _SHIFT) - np.sqrt(fitted + _SHIFT)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(fitted > 0, x / np.where(fitted > 0, fitted, 1.0) - 1.0, np.nan)


def _spread(x: Floats, fitted: Floats, counts: bool, parameters: Floats | float) -> Floats:
    """1.4826 x the median absolute residual over the table, floored (Poisson or 5 %).

    Residuals from a fit of `parameters` numbers to the ``7 w`` cells are smaller than the noise:
    the MAD is scaled by ``sqrt(7 w / (7 w - parameters))`` before the floor.
    """
    residuals = np.abs(_residuals(x, fitted, counts))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-nan table: money, fit all 0
        mad = np.nanmedian(residuals, axis=(-2, -1))
    cells = 7 * x.shape[-2]
    deflated = np.sqrt(cells / np.maximum(cells - parameters, 1.0))
    mad = np.nan_to_num(_MAD_SD * mad * deflated, nan=0.0)
    return np.maximum(mad, _POISSON_SD if counts else MIN_RELATIVE_SPREAD)


def _winsorise(x: Floats, fitted: Floats, width: Floats, counts: bool) -> Floats:
    """`x` pulled back to within `width` spreads of `fitted` (on the band's scale)."""
    if counts:
        centre = np.sqrt(fitted + _SHIFT)
        low = np.maximum(centre - width, math.sqrt(_SHIFT)) ** 2 - _SHIFT
        high = (centre + width) ** 2 - _SHIFT
    else:
        low = np.where(fitted > 0, np.maximum(fitted * (1.0 - width), 0.0), -np.inf)
        high = np.where(fitted > 0, fitted * (1.0 + width), np.inf)
    return np.where(x < low, low, np.where(x > high, high, x))  # untouched inside: exact means


def _fit(x: Floats, counts: bool) -> tuple[Floats, Floats]:
    """Per-weekday fitted values (..., 7) and the shrinkage weight `a` (...)."""
    weeks = x.shape[-2]
    rough = np.median(x, axis=-2, keepdims=True)
    width = (WINSOR * _spread(x, rough, counts, 7.0))[..., None, None]
    clean = _winsorise(x, rough, width, counts)
    level = clean.mean(axis=(-2, -1))
    positive = level > 0
    scaled = clean / np.where(positive, level, 1.0)[..., None, None]
    raw = scaled.mean(axis=-2)
    if weeks >= 2:
        within = ((scaled - raw[..., None, :]) ** 2).sum(axis=(-2, -1)) / (7 * (weeks - 1))
        noise = within / weeks
        between = ((raw - 1.0) ** 2).sum(axis=-1)
        safe = np.where(between > 0, between, 1.0)
        weight = np.where(between > 0, np.clip(1.0 - 4.0 * noise / safe, 0.0, 1.0), 0.0)
    else:
        weight = np.zeros(level.shape)
    weight = np.where(positive, weight, 0.0)
    factors = 1.0 + weight[..., None] * (raw - 1.0)
    return level[..., None] * factors, weight


def band_arrays(
    history: npt.ArrayLike, *, z: float = DEFAULT_Z, counts: bool = True
) -> tuple[Floats, Floats, Floats]:
    """Expected, low and high for many days at once (the model of the module docstring).

    `history` has shape ``(..., w, 7)``: ``history[..., k, j]`` is the value ``7 * (w - k) - j``
    days before the day in question (row 0 the oldest week; column 0 the day's own weekday).
    NaN counts as 0. Returns three arrays of shape ``(...)``. `day_band` is this for one day.
    """
    z = _check_z(z)
    x = np.asarray(history, dtype=np.float64)
    if x.ndim < 2 or x.shape[-1] != 7 or x.shape[-2] < 1:
        raise InputError(
            f"`history` must have shape (..., weeks, 7), got {x.shape}",
            value=x.shape,
            has_value=False,
        )
    x = np.where(np.isnan(x), 0.0, x)
    _check_values(x, "history")
    weeks = x.shape[-2]
    fitted, weight = _fit(x, counts)
    expected = fitted[..., 0]
    widening = np.sqrt(1.0 + (weight**2 + (1.0 - weight**2) / 7.0) / weeks)
    half = z * _spread(x, fitted[..., None, :], counts, 1.0 + 6.0 * weight) * widening
    if counts:
        centre = np.sqrt(expected + _SHIFT)
        top = centre - half
        low = np.where(top > math.sqrt(_SHIFT), top**2 - _SHIFT, 0.0)
        high = (centre + half) ** 2 - _SHIFT
    else:
        low = np.maximum(expected * (1.0 - half), 0.0)
        high = expected * (1.0 + half)
    return np.asarray(expected), np.asarray(low), np.asarray(high)


# --------------------------------------------------------------------------- one series, one day


def _daily(series: pd.Series) -> pd.Series:
    """`series` as floats on a naive, normalised date index (duplicate dates summed, NaN kept)."""
    if not isinstance(series, pd.Series):
        raise _invalid("series", "a pandas Series of daily values indexed by date", series)
    try:
        index = pd.DatetimeIndex(pd.to_datetime(series.index))
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"`series` must be indexed by dates: {exc}", value=None, has_value=False
        ) from exc
    if index.tz is not None:
        index = index.tz_localize(None)
    try:
        values = pd.to_numeric(series, errors="raise").astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"`series` must hold numbers: {exc}", value=None, has_value=False) from exc
    frame = pd.Series(values.to_numpy(), index=index.normalize())
    if frame.index.has_duplicates:
        frame = frame.groupby(level=0).sum(min_count=1)
    return frame.sort_index()


def day_band(
    series: pd.Series,
    day: dt.date,
    *,
    weeks: int = 6,
    min_weeks: int = 2,
    z: float = DEFAULT_Z,
    counts: bool = True,
    days: int = 1,
) -> Band | None:
    """The band the `weeks` full weeks before `day` give it, and the day's value against it.

    `series`: daily values of one channel indexed by date (dates or Timestamps; sparse is fine: a
    missing day is 0, and so is NaN). The history starts at the series' first non-NaN value before
    `day`; ``w = min(weeks, full weeks since then)`` weeks are used. `counts`: True for leads or
    calls (square-root band with a Poisson floor), False for money (relative band).

    `days` > 1 judges the sum of the `days` days ending on `day` against the same sums ending on
    each day of the history (their own day-of-week pattern): a drop that one day's noise hides
    shows in two days together (see docs/benchmarks.md, "Anomaly rule").

    Returns None when fewer than `min_weeks` full weeks of history exist: the day-of-week factors
    and the spread cannot be estimated from less, and the caller shows "not enough history"
    rather than a band that would alarm on noise.
    """
    for name, value in (("weeks", weeks), ("min_weeks", min_weeks), ("days", days)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise _invalid(name, "a whole number >= 1", value)
    if min_weeks > weeks:
        raise _invalid("min_weeks", f"at most `weeks` ({weeks})", min_weeks)
    z = _check_z(z)
    if not isinstance(day, dt.date) or pd.isna(day):
        raise _invalid("day", "a date", day)
    target = pd.Timestamp(day).normalize()
    daily = _daily(series)
    known = daily.index[(daily.index < target) & daily.notna().to_numpy()]
    if known.empty:
        return None
    used = min(weeks, ((target - known.min()).days - (days - 1)) // 7)
    if used < min_weeks:
        return None
    first = target - pd.Timedelta(days=7 * used + days - 1)
    window = daily.reindex(pd.date_range(first, target))
    values = window.fillna(0.0).to_numpy(dtype=np.float64)
    _check_values(values, f"`series` from {first.date()} to {target.date()}")
    sums = np.convolve(values, np.ones(days), mode="valid") if days > 1 else values
    expected, low, high = band_arrays(sums[:-1].reshape(used, 7), z=z, counts=counts)
    return Band(
        day=target.date(),
        value=float(sums[-1]),
        expected=float(expected),
        low=float(low),
        high=float(high),
        weeks=used,
        days=days,
    )
