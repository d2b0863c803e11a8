"""Seeded sample data: one month of an acquisition team's plan and daily facts (RUB).

Seven channels (search, display, programmatic, social, messenger) with 3-5 campaigns each. Every
channel has a known concave response curve (`TRUE_CURVES`): daily leads as a function of daily
channel spend, so curve fitting and the budget optimiser can be checked against the truth. The
channels and curves are defined in `sheets_sync.samples.channels` and re-exported here.

How a day is made, per channel:

1. campaign spend = typical share of the channel budget x weekday factor x budget regime (before
   the month, blocks of deliberately higher or lower budget, so the curves are identifiable) x
   lognormal noise (about 25 %); a campaign is occasionally paused for a few days;
2. channel leads ~ Poisson(curve(channel spend) x weekday factor), split to campaigns in
   proportion to spend x campaign quality;
3. traffic = spend / CPC, the CPC rising mildly with spend and noisy; calls ~ Binomial(leads, p)
   the same day;
4. PP, negotiations and purchases are event-dated: each call becomes a PP with probability p
   after a random lag of several days, each PP a negotiation, each negotiation a purchase. Events
   are dated when they happen (as in a CRM export), so the history's leads mature into the month
   and the month's latest leads have not converted yet by `as_of`;
5. revenue = purchases x revenue per purchase, with noise.

The plan has one line per campaign: a round monthly budget near the campaign's typical spend and
CPC/CRs near the truth, both with per-channel bias (so some channels over-deliver leads at a lower
CPA and some under-deliver), turned into counts by `planning.funnel.bottom_up`.

Pure numpy/pandas; the only file I/O is `write_exports` / `read_exports`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from planning.errors import InputError
from planning.funnel import DEFAULT_FUNNEL, bottom_up
from planning.runrate import parse_month
from sheets_sync.samples.channels import (
    CHANNELS,
    TRUE_CURVES,
    ChannelSpec,
    Floats,
    ResponseCurve,
)

__all__ = [
    "CHANNELS",
    "DAILY_COLUMNS",
    "PLAN_COLUMNS",
    "TRUE_CURVES",
    "ChannelSpec",
    "ResponseCurve",
    "SampleMonth",
    "generate_sample",
    "read_exports",
    "write_exports",
]

Ints = npt.NDArray[np.int64]

KEYS: tuple[str, str] = ("channel", "campaign")
METRICS: tuple[str, ...] = DEFAULT_FUNNEL.metrics
"""``spend, traffic, leads, calls, pp, negotiations, purchases, revenue``."""
COUNTS: tuple[str, ...] = DEFAULT_FUNNEL.names
PLAN_COLUMNS: tuple[str, ...] = (*KEYS, *METRICS)
DAILY_COLUMNS: tuple[str, ...] = ("date", *KEYS, *METRICS)
EXPORT_FILES: dict[str, str] = {"plan": "plan.csv", "daily": "daily_facts.csv"}

_BURN_IN_DAYS = 60
"""Days simulated before the history starts, so lagged stages are mature from its first day."""
_SPEND_NOISE = 0.25  # lognormal sigma of daily campaign spend
_CPC_NOISE = 0.08  # lognormal sigma of the daily CPC
_CPC_ELASTICITY = 0.12  # CPC grows as (spend / typical spend) ** this
_REVENUE_SHAPE = 6.0  # gamma shape per purchase: one deal's revenue varies by ~40 %
_REGIMES = (0.45, 0.65, 1.35, 1.6)  # budget multipliers of the deliberate high/low blocks


# --------------------------------------------------------------------------- the sample


@dataclass(frozen=True)
class SampleMonth:
    """A generated month.

    `plan`: one row per campaign, columns `PLAN_COLUMNS` (channel, campaign, then planned spend,
    traffic, leads, calls, pp, negotiations, purchases, revenue for the whole month; floats,
    2 decimals; RUB for spend and revenue). `daily`: one row per day per campaign from
    ``month - history_days`` through `as_of` inclusive, columns `DAILY_COLUMNS` (`date` as
    `datetime.date`, counts as int64, spend and revenue as float64 RUB rounded to kopecks),
    ordered by date, then channel and campaign in `CHANNELS` order.
    """

    month: dt.date
    as_of: dt.date
    plan: pd.DataFrame
    daily: pd.DataFrame

    @property
    def month_end(self) -> dt.date:
        """The last day of `month`."""
        return _month_end(self.month)

    def month_to_date(self) -> pd.DataFrame:
        """The rows of `daily` from the first of `month` through `as_of`."""
        dates = self.daily["date"]
        return self.daily[(dates >= self.month) & (dates <= self.as_of)].reset_index(drop=True)


def _month_end(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def _month_start(month: object) -> dt.date:
    """The first day of `month`: any date in it, or ``"YYYY-MM"`` read by `parse_month`."""
    if isinstance(month, dt.date) and not pd.isna(month):
        day = month.date() if isinstance(month, dt.datetime) else month
        return day.replace(day=1)
    return parse_month(month)  # type: ignore[arg-type]  # it refuses non-months by name


def generate_sample(
    month: str | dt.date = "2026-11",
    as_of: dt.date | None = None,
    seed: int = 7,
    history_days: int = 60,
) -> SampleMonth:
    """Generate the plan of `month` and the daily facts up to `as_of` (default: the 17th).

    `month`: ``"YYYY-MM"`` or any date in the month; `as_of`: a day of that month, the last day
    with facts; `history_days`: days of facts before the month (>= 0). The same arguments give
    identical frames; each channel draws from its own stream of `seed`, and a later `as_of`
    only appends days (the facts up to an earlier `as_of` are unchanged).
    """
    start = _month_start(month)
    end = _month_end(start)
    if as_of is None:
        as_of = start.replace(day=17)
    elif isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    if not isinstance(as_of, dt.date) or not start <= as_of <= end:
        raise InputError(
            f"`as_of` must be a day of {start:%Y-%m} ({start} to {end}), got {as_of!r}",
            value=as_of,
            has_value=False,
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(
            f"`seed` must be an integer >= 0, got {seed!r}", value=seed, has_value=False
        )
    if isinstance(history_days, bool) or not isinstance(history_days, int) or history_days < 0:
        raise InputError(
            f"`history_days` must be an integer >= 0, got {history_days!r}",
            value=history_days,
            has_value=False,
        )

    first = start - dt.timedelta(days=history_days)
    sim_start = first - dt.timedelta(days=_BURN_IN_DAYS)
    # Simulate through the month's end and cut at `as_of`: a later `as_of` extends the same facts.
    days = [sim_start + dt.timedelta(days=i) for i in range((end - sim_start).days + 1)]
    weekend = np.array([d.weekday() >= 5 for d in days])
    keep = slice(_BURN_IN_DAYS, (as_of - sim_start).days + 1)
    month_day = (start - sim_start).days

    blocks = [
        _simulate_channel(spec, weekend, month_day, np.random.default_rng([int(seed), i]))
        for i, spec in enumerate(CHANNELS)
    ]
    lines = [line for spec in CHANNELS for line in spec.lines]
    n_out = (as_of - first).days + 1
    daily = pd.DataFrame(
        {
            "date": np.repeat(np.array(days[keep], dtype=object), len(lines)),
            "channel": [c for _ in range(n_out) for c, _ in lines],
            "campaign": [c for _ in range(n_out) for _, c in lines],
        }
    )
    for metric in METRICS:
        values = np.concatenate([block[metric][keep] for block in blocks], axis=1).ravel()
        if metric in COUNTS:
            daily[metric] = values.astype(np.int64)
        else:
            daily[metric] = np.round(values, 2)

    month_weekend = weekend[month_day:]
    plan = pd.concat([_plan_lines(spec, month_weekend) for spec in CHANNELS], ignore_index=True)
    return SampleMonth(month=start, as_of=as_of, plan=plan, daily=daily)


def _budget_regimes(n_days: int, until: int, rng: np.random.Generator) -> Floats:
    """Budget multipliers: blocks of 2-5 days at a deliberately higher or lower budget over about
    a third of the days before day `until` (the month itself runs at its planned pace)."""
    regime = np.ones(n_days)
    for _ in range(until // 10):
        begin = int(rng.integers(0, until))
        end = min(begin + int(rng.integers(2, 6)), until)
        regime[begin:end] = rng.choice(_REGIMES)
    return regime


def _lag_pmf(mean: float) -> Floats:
    """Probabilities of a lag of 0, 1, ... days: a discretised gamma (shape 2) of about `mean`."""
    if mean <= 0:
        return np.array([1.0])
    x = np.arange(math.ceil(4 * mean) + 1) + 0.5
    weights = x * np.exp(-2 * x / mean)
    return np.asarray(weights / weights.sum(), dtype=np.float64)


def _lagged(events: Ints, pmf: Floats, rng: np.random.Generator) -> Ints:
    """Spread `events` (days x campaigns) forward by random lags; those past the end are lost."""
    split = rng.multinomial(events, pmf)  # days x campaigns x lags
    out = np.zeros_like(events)
    n_days = events.shape[0]
    for lag in range(min(len(pmf), n_days)):
        out[lag:] += split[: n_days - lag, :, lag]
    return out


def _simulate_channel(
    spec: ChannelSpec, weekend: npt.NDArray[np.bool_], month_day: int, rng: np.random.Generator
) -> dict[str, Floats | Ints]:
    """Every metric of `spec`'s campaigns, arrays of shape ``(n_days, n_campaigns)``.

    `weekend` (shape ``(n_days,)``) flags Saturdays and Sundays; day `month_day` is the 1st of
    the month.
    """
    n_days, n_camp = len(weekend), len(spec.campaigns)
    base = spec.daily_budget * np.asarray(spec.shares)  # RUB/day per campaign
    weekday_spend = np.where(weekend, spec.weekend_spend, 1.0)
    noise = rng.lognormal(-(_SPEND_NOISE**2) / 2, _SPEND_NOISE, size=(n_days, n_camp))
    spend = base * (weekday_spend * _budget_regimes(n_days, month_day, rng))[:, None] * noise
    for j in range(n_camp):  # a few campaigns pause for a few days
        if rng.random() < 0.3:
            begin = int(rng.integers(0, n_days))
            spend[begin : begin + int(rng.integers(2, 5)), j] = 0.0
    spend = np.round(spend, 2)

    channel_spend = spend.sum(axis=1)
    expected = spec.curve.leads(channel_spend) * np.where(weekend, spec.weekend_leads, 1.0)
    total_leads = rng.poisson(expected)
    weights = spend * np.asarray(spec.quality)
    row_sums = weights.sum(axis=1, keepdims=True)
    weights = np.divide(
        weights, row_sums, out=np.full_like(weights, 1.0 / n_camp), where=row_sums > 0
    )
    leads = rng.multinomial(total_leads, weights).astype(np.int64)

    cpc = spec.cpc * np.asarray(spec.cpc_factors)
    relative = np.divide(spend, base)
    cpc_day = cpc * relative**_CPC_ELASTICITY * rng.lognormal(0.0, _CPC_NOISE, (n_days, n_camp))
    with np.errstate(divide="ignore", invalid="ignore"):
        traffic = np.where(spend > 0, np.rint(spend / cpc_day), 0).astype(np.int64)

    calls = rng.binomial(leads, spec.call_rate)
    pp = _lagged(rng.binomial(calls, spec.pp_rate), _lag_pmf(spec.pp_lag), rng)
    negotiations = _lagged(
        rng.binomial(pp, spec.negotiation_rate), _lag_pmf(spec.negotiation_lag), rng
    )
    purchases = _lagged(
        rng.binomial(negotiations, spec.purchase_rate), _lag_pmf(spec.purchase_lag), rng
    )
    deal = rng.gamma(np.maximum(purchases * _REVENUE_SHAPE, 1e-12)) / _REVENUE_SHAPE
    revenue = np.where(purchases > 0, np.round(spec.revenue_per_purchase * deal, 2), 0.0)
    return {
        "spend": spend,
        "traffic": traffic,
        "leads": leads,
        "calls": calls.astype(np.int64),
        "pp": pp,
        "negotiations": negotiations,
        "purchases": purchases,
        "revenue": revenue,
    }


def _plan_lines(spec: ChannelSpec, month_weekend: npt.NDArray[np.bool_]) -> pd.DataFrame:
    """The planned lines of one channel for a month whose days are Sat/Sun where `month_weekend`."""
    shares = np.asarray(spec.shares)
    quality = np.asarray(spec.quality)
    # Typical day: the month's mean weekday factors.
    spend_factor = float(np.where(month_weekend, spec.weekend_spend, 1.0).mean())
    lead_factor = float(np.where(month_weekend, spec.weekend_leads, 1.0).mean())
    channel_spend = spec.daily_budget * spend_factor
    channel_leads = float(spec.curve.leads(channel_spend)) * lead_factor
    campaign_leads = channel_leads * shares * quality / float((shares * quality).sum())
    true_cpc = spec.cpc * np.asarray(spec.cpc_factors)
    true_cr = campaign_leads / (channel_spend * shares / true_cpc)

    rows = []
    for j, campaign in enumerate(spec.campaigns):
        budget = channel_spend * shares[j] * len(month_weekend) * spec.plan_budget_bias
        crs = {
            "leads": round(float(true_cr[j]) * spec.plan_cr_bias, 4),
            "calls": round(spec.call_rate, 2),
            "pp": round(spec.pp_rate, 2),
            "negotiations": round(spec.negotiation_rate, 2),
            "purchases": round(spec.purchase_rate, 2),
        }
        plan = bottom_up(
            budget=round(budget, -3),  # plans are round numbers
            cpc=round(float(true_cpc[j]) * spec.plan_cpc_bias, 2),
            crs=crs,
            value_per_conversion=spec.revenue_per_purchase,
        )
        row: dict[str, object] = {"channel": spec.name, "campaign": campaign}
        row |= {m: round(float(plan.counts[m]), 2) for m in METRICS}
        rows.append(row)
    return pd.DataFrame(rows, columns=list(PLAN_COLUMNS))


# --------------------------------------------------------------------------- exports


def write_exports(sample: SampleMonth, folder: Path) -> dict[str, Path]:
    """Write ``plan.csv`` and ``daily_facts.csv`` (UTF-8, ISO dates) into `folder`.

    Creates `folder` if needed; returns ``{"plan": path, "daily": path}``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {key: folder / name for key, name in EXPORT_FILES.items()}
    frames = {"plan": sample.plan, "daily": sample.daily}
    for key, path in paths.items():
        frames[key].to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return paths


def read_exports(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read ``plan.csv`` and ``daily_facts.csv`` back from `folder`: ``(plan, daily)``.

    The frames have the dtypes `generate_sample` gives: `date` as `datetime.date`, counts of the
    daily facts as int64, every other metric as float64.
    """
    folder = Path(folder)
    plan = _read_csv(folder / EXPORT_FILES["plan"], PLAN_COLUMNS, {m: "float64" for m in METRICS})
    types = {m: ("int64" if m in COUNTS else "float64") for m in METRICS}
    daily = _read_csv(folder / EXPORT_FILES["daily"], DAILY_COLUMNS, types)
    try:
        dates = pd.to_datetime(daily["date"], format="%Y-%m-%d")
    except ValueError as error:
        raise InputError(
            f"file {EXPORT_FILES['daily']!r}: column `date` must hold YYYY-MM-DD dates ({error})"
        ) from None
    daily["date"] = pd.Series(dates.dt.date.to_numpy(dtype=object), index=daily.index, dtype=object)
    return plan, daily


def _read_csv(path: Path, columns: Sequence[str], types: dict[str, str]) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(f"export file {str(path)!r} does not exist")
    dtype: dict[str, str] = {"channel": "str", "campaign": "str", "date": "str", **types}
    try:
        frame = pd.read_csv(
            path,
            encoding="utf-8",
            dtype=dtype,
            keep_default_na=False,
            na_values=[""],
        )
    except ValueError as error:
        raise InputError(f"file {path.name!r} could not be read: {error}") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"file {path.name!r} is missing the columns: {', '.join(missing)}",
            value=missing,
            has_value=False,
        )
    return frame[list(columns)]
