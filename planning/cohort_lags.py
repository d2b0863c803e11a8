"""Lag curves: how fast leads reach each stage, estimated from the deals with censoring.

`lag_curves` gives, per channel and stage, ``F[d]`` (d = 0..horizon days): the share of leads
that have reached the stage by age ``d``, estimated by Kaplan–Meier on days.

Decisions
---------
- Time-to-stage counts from the lead's day (`created`); the lag of a stage is its (effective,
  see `planning.cohort_deals`) day minus the lead's day.
- Censoring: a lead created on day ``c`` is observed up to age ``as_of - c``. It is at risk at
  ages ``0..as_of - c`` and counts as a non-converter at those ages only, never at ages it has
  not reached. A lead that reached the stage is at risk up to its lag and an event there.
  ``hazard[d] = events at age d / leads at risk at age d``; ``F[d] = 1 - prod_{k<=d}(1 -
  hazard[k])``. Where no lead is at risk (ages older than any lead), the hazard is 0: the curve
  stays flat, it never guesses what no lead has shown.
- Pooling: the pooled curve (channel `POOLED`, ``""``) is the same estimate over every channel's
  leads. A channel's hazard is shrunk towards the pooled hazard,
  ``w * own + (1 - w) * pooled`` with ``w = events / (events + prior_events)``; at ages where the
  channel has no lead at risk, the pooled hazard is used. A channel with no event gets exactly
  the pooled curve. Shrinking hazards (not curves) keeps F non-decreasing and within [0, 1].
- Enough: a curve allows a forecast when its own leads showed at least `min_events` events and
  its oldest lead has been observed for at least ``min(min_age, horizon)`` days (30 by default:
  the most days a lead of the month can age by the month's end). A channel that is not enough
  still gets its (shrunk) curve; `cohort_forecast` falls back to the straight line for it.
- `events` counts every stage event observed, at any age; `clipped` those dated before their lead.

Vectorised: one `np.bincount` per stage for every channel at once; 100k deals take well under a
second (benchmarks/bench_cohort_forecast.py measures it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd

from planning.cohort_deals import NEVER, POOLED, DayDeals, day_deals
from planning.errors import InputError

__all__ = ["LagCurve", "curves_of_days", "lag_curves", "shares_at"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class LagCurve:
    """The share of a channel's leads that reached `stage` by each age (see the module docstring).

    `cumulative[d]` (d = 0..horizon) is F[d]; beyond the horizon F stays at its last value.
    """

    channel: str  # or POOLED ("") for the pooled curve
    stage: str
    cumulative: FloatArray
    leads: int  # leads used (created up to as-of)
    events: int  # stage events observed (any age)
    shrink_weight: float  # weight of the channel's own hazard vs the pooled one
    max_age_observed: int  # the oldest age with leads at risk (-1 without leads)
    enough: bool  # events >= min_events and max_age_observed >= min(min_age, horizon)
    clipped: int = 0  # events dated before their lead, counted at age 0
    at_risk: FloatArray = field(default_factory=lambda: np.zeros(0), repr=False)
    """Leads at risk at each age 0..horizon (the channel's own)."""

    @property
    def horizon(self) -> int:
        return len(self.cumulative) - 1

    def share_by(self, ages: npt.ArrayLike) -> FloatArray:
        """F at each age (days; beyond the horizon the last value; a negative age 0)."""
        return shares_at(self.cumulative, ages)


def shares_at(cumulative: npt.ArrayLike, ages: npt.ArrayLike) -> FloatArray:
    """``F[age]`` for each age: F's last value beyond its end, 0 for a negative age."""
    curve = np.asarray(cumulative, dtype=np.float64)
    at = np.asarray(ages, dtype=np.int64)
    if curve.size == 0:
        return np.zeros(at.shape)
    picked = curve[np.clip(at, 0, curve.size - 1)]
    return np.where(at < 0, 0.0, picked)


class _Counts:
    """Per group (row) and age (column): leads at risk and events, from one bincount each."""

    def __init__(self, group: IntArray, n_groups: int, lag: IntArray, age: IntArray, h: int):
        observed = np.minimum(lag, age)  # the last age each lead is observed at
        event = lag <= age
        width = h + 2  # ages 0..h, and h+1 for "older than the horizon"
        exits = np.bincount(
            group * width + np.minimum(observed, h + 1), minlength=n_groups * width
        ).reshape(n_groups, width)
        in_horizon = event & (lag <= h)
        self.events = np.bincount(
            group[in_horizon] * (h + 1) + lag[in_horizon], minlength=n_groups * (h + 1)
        ).reshape(n_groups, h + 1)
        self.leads = exits.sum(axis=1)
        left_before = np.cumsum(exits[:, :h], axis=1)
        self.at_risk = self.leads[:, None] - np.hstack(
            [np.zeros((n_groups, 1), dtype=np.int64), left_before]
        )
        self.total_events = np.bincount(group[event], minlength=n_groups)
        oldest = np.full(n_groups, -1, dtype=np.int64)
        np.maximum.at(oldest, group, observed)
        self.oldest = oldest

    def hazard(self) -> FloatArray:
        """Events / at risk; 0 where no lead is at risk."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.at_risk > 0, self.events / self.at_risk, 0.0)


def _curve(hazard: FloatArray) -> FloatArray:
    return np.clip(1.0 - np.cumprod(1.0 - hazard, axis=-1), 0.0, 1.0)


def _stage_curves(
    deals: DayDeals, s: int, horizon: int, prior: float, min_events: int, min_age: int
) -> dict[tuple[str, str], LagCurve]:
    stage = deals.stages[s]
    lag = np.where(deals.reached[s] == NEVER, NEVER, deals.lag(s))
    age = deals.age()
    clipped_by = np.bincount(
        deals.channel[(deals.reached[s] < deals.created)], minlength=len(deals.channels)
    )
    own = _Counts(deals.channel, len(deals.channels), lag, age, horizon)
    pooled = _Counts(np.zeros_like(deals.channel), 1, lag, age, horizon)
    pooled_hazard = pooled.hazard()[0]
    needed = min(min_age, horizon)

    def make(channel: str, counts: _Counts, i: int, hazard: FloatArray, w: float, clip: int):
        return LagCurve(
            channel=channel,
            stage=stage,
            cumulative=_curve(hazard),
            leads=int(counts.leads[i]),
            events=int(counts.total_events[i]),
            shrink_weight=w,
            max_age_observed=int(counts.oldest[i]),
            enough=bool(counts.total_events[i] >= min_events and counts.oldest[i] >= needed),
            clipped=clip,
            at_risk=counts.at_risk[i].astype(np.float64),
        )

    curves = {(POOLED, stage): make(POOLED, pooled, 0, pooled_hazard, 1.0, int(deals.clipped[s]))}
    events = own.total_events.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        weights = np.where(events > 0, events / (events + prior), 0.0)
    mixed = np.where(
        own.at_risk > 0,
        weights[:, None] * own.hazard() + (1 - weights[:, None]) * pooled_hazard[None, :],
        pooled_hazard[None, :],
    )
    for i, name in enumerate(deals.channels):
        curves[(name, stage)] = make(name, own, i, mixed[i], float(weights[i]), int(clipped_by[i]))
    return curves


def lag_curves(
    deals: pd.DataFrame,
    as_of: date,
    *,
    horizon: int = 90,
    prior_events: float = 5.0,
    min_events: int = 10,
    min_age: int = 30,
) -> dict[tuple[str, str], LagCurve]:
    """(channel, stage) -> curve for every channel of `deals` and every stage, plus
    ``(POOLED, stage)`` -> the curve pooled across channels. See the module docstring."""
    return curves_of_days(
        day_deals(deals, as_of),
        horizon=horizon,
        prior_events=prior_events,
        min_events=min_events,
        min_age=min_age,
    )


def curves_of_days(
    days: DayDeals,
    *,
    horizon: int = 90,
    prior_events: float = 5.0,
    min_events: int = 10,
    min_age: int = 30,
) -> dict[tuple[str, str], LagCurve]:
    """`lag_curves` of deals already read as day numbers (`planning.cohort_deals.day_deals`)."""
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 0:
        raise InputError(f"`horizon` must be a whole number of days, at least 0, got {horizon!r}")
    if not prior_events >= 0:
        raise InputError(f"`prior_events` must be at least 0, got {prior_events!r}")
    curves: dict[tuple[str, str], LagCurve] = {}
    for s in range(len(days.stages)):
        curves.update(
            _stage_curves(days, s, int(horizon), float(prior_events), min_events, min_age)
        )
    return curves
