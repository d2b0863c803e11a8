"""Alerts: the rules (`planning.alert_rules`) evaluated on the month's numbers.

`evaluate(rules, inputs)` gives one `Firing` per rule and place that breaks its rule on the
as-of day and on the `days - 1` days before it: what (metric, over which span), where (total,
channel, line or source), the value, the effective threshold, the plan's value it was scaled
from and since when the condition has held without a break. Every ratio is recomputed from
summed absolutes (`planning.funnel.rollup`), never averaged. Pure: frames and dataclasses in,
dataclasses out; the incident log (what was already sent) lives in the fact store.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from planning.alert_rules import Rule, is_ratio
from planning.anomaly import Band, day_band
from planning.errors import InputError
from planning.funnel import DEFAULT_FUNNEL, Funnel, derive, rollup
from planning.runrate import forecast_frame, month_end

TOTAL = "Total"  # the `where` of a total-level firing


@dataclass(frozen=True)
class SourceAge:
    """A source's freshness from Data Quality: hours since its latest data."""

    source: str
    age_hours: float


@dataclass(frozen=True)
class LeadsCheck:
    """Data Quality's CRM vs ad-platform check for one channel."""

    channel: str
    crm_leads: float
    platform_leads: float


@dataclass(frozen=True)
class FailedLoad:
    """A source (or the whole sync) that failed to load, with its one-line message."""

    source: str
    message: str


@dataclass(frozen=True)
class AlertInputs:
    """What the rules look at.

    `plan`: one row per Plan line with ``channel, campaign`` and each metric's plan under the
    metric's name (NaN where blank). `daily`: the Daily sheet (``date, channel, campaign`` and
    the metrics). `history`: days before the month (``date, channel`` and some metrics, the
    Daily History sheet) for the anomaly bands, or None. `window` and `method`: the run-rate
    settings. The data checks come from Data Quality.
    """

    month: dt.date
    as_of: dt.date
    plan: pd.DataFrame
    daily: pd.DataFrame
    history: pd.DataFrame | None = None
    window: int = 5
    method: str = "last_n"
    freshness: tuple[SourceAge, ...] = ()
    leads_check: tuple[LeadsCheck, ...] = ()
    failed_loads: tuple[FailedLoad, ...] = ()
    funnel: Funnel = DEFAULT_FUNNEL

    @property
    def days_in_month(self) -> int:
        return month_end(self.month).day


@dataclass(frozen=True)
class Firing:
    """A rule broken at one place: the numbers a message needs."""

    rule: Rule
    where: str
    value: float
    limit: float  # the effective threshold (plan-scaled for ``plan ×``)
    plan: float  # the plan's value over the same span (what `plan ×` scales); NaN: none
    since: dt.date | None  # first day of the unbroken streak (None: a data check)
    day: dt.date  # the day evaluated (as of)
    note: str = ""

    @property
    def key(self) -> str:
        """Identity of the incident: the rule and the place."""
        return f"{self.rule.name}|{self.where}"

    @property
    def excess(self) -> float:
        """How far past the threshold, as a share of it (0.25 = 25% past); for anomalies the
        share the day deviates from its expected value."""
        if self.limit == 0 or math.isnan(self.limit):
            return abs(self.value)
        return abs(self.value - self.limit) / abs(self.limit)


@dataclass(frozen=True)
class Evaluation:
    """Every firing, and the rules or places that could not be evaluated and why."""

    firings: tuple[Firing, ...]
    skipped: tuple[str, ...] = field(default=())


def evaluate(rules: Sequence[Rule], inputs: AlertInputs) -> Evaluation:
    """Evaluate the enabled `rules` on `inputs` as of `inputs.as_of`."""
    firings: list[Firing] = []
    skipped: list[str] = []
    for rule in rules:
        if not rule.enabled:
            continue
        rule.check_metric(inputs.funnel)
        if rule.is_check:
            firings += _check(rule, inputs)
        elif rule.over == "anomaly":
            found, missed = _anomalies(rule, inputs)
            firings += found
            skipped += missed
        else:
            found, missed = _metric(rule, inputs)
            firings += found
            skipped += missed
    return Evaluation(tuple(firings), tuple(skipped))


# --------------------------------------------------------------------------- data checks


def _check(rule: Rule, inputs: AlertInputs) -> list[Firing]:
    day = inputs.as_of
    out: list[Firing] = []
    if rule.metric == "freshness":
        for s in inputs.freshness:
            if rule.holds(s.age_hours, rule.threshold):
                out.append(Firing(rule, s.source, s.age_hours, rule.threshold, math.nan, None, day))
    elif rule.metric == "sync":
        failed = len(inputs.failed_loads)
        if rule.holds(float(failed), rule.threshold):
            note = "; ".join(f"{f.source}: {f.message}" for f in inputs.failed_loads)
            where = (
                TOTAL if rule.level == "total" else ", ".join(f.source for f in inputs.failed_loads)
            )
            out.append(
                Firing(rule, where, float(failed), rule.threshold, math.nan, None, day, note)
            )
    else:  # crm_mismatch
        checks = list(inputs.leads_check)
        if rule.level == "total" and checks:
            crm = sum(c.crm_leads for c in checks)
            platform = sum(c.platform_leads for c in checks)
            checks = [LeadsCheck(TOTAL, crm, platform)]
        for c in checks:
            if c.crm_leads > 0 or c.platform_leads > 0:
                # no CRM lead against the platforms' conversions is a 100% mismatch
                share = abs(c.platform_leads / c.crm_leads - 1.0) if c.crm_leads > 0 else 1.0
                if rule.holds(share, rule.threshold):
                    note = f"{c.crm_leads:g}/{c.platform_leads:g}"  # CRM / platforms
                    out.append(
                        Firing(rule, c.channel, share, rule.threshold, math.nan, None, day, note)
                    )
    return out


# --------------------------------------------------------------------------- Plan metrics


def _where(frame: pd.DataFrame, level: str) -> pd.Series:
    if level == "total":
        return pd.Series(TOTAL, index=frame.index, dtype=object)
    if level == "channel":
        return frame["channel"].astype(str)
    campaign = frame["campaign"].fillna("").astype(str)
    return frame["channel"].astype(str).str.cat(campaign, sep=" / ").str.rstrip(" /")


def _absolutes(metric: str, funnel: Funnel) -> list[str]:
    """The absolute metrics a metric is computed from."""
    if metric in funnel.metrics:
        return [metric]
    probe = {m: 1.0 for m in funnel.metrics}
    needed = []
    for m in funnel.metrics:
        without = {k: v for k, v in probe.items() if k != m}
        if metric not in derive(without, funnel):
            needed.append(m)
    return needed


def _value_of(metric: str, sums: pd.DataFrame, funnel: Funnel) -> pd.Series:
    """`metric` per row of `sums` (absolutes per place): the column, or the ratio of sums."""
    if metric in sums.columns:
        return sums[metric].astype(float)
    ratios = derive({m: sums[m].to_numpy(dtype=float) for m in funnel.metrics if m in sums}, funnel)
    return pd.Series(np.asarray(ratios[metric], dtype=float), index=sums.index)


def _plan_by_place(rule: Rule, inputs: AlertInputs, needed: list[str]) -> pd.DataFrame:
    plan = inputs.plan.copy()
    plan["where"] = _where(plan, rule.level)
    present = [m for m in needed if m in plan.columns]
    return rollup(plan[["where", *present]], ["where"], inputs.funnel).set_index("where")


def _span_sums(
    daily: pd.DataFrame, first: dt.date, last: dt.date, needed: list[str]
) -> pd.DataFrame:
    rows = daily[(daily["date"] >= first) & (daily["date"] <= last)]
    return rows.groupby("where")[needed].sum()


def _values_on(
    rule: Rule,
    inputs: AlertInputs,
    daily: pd.DataFrame,
    day: dt.date,
    needed: list[str],
    plan_value: pd.Series,
) -> tuple[pd.Series, pd.Series | None]:
    """The rule's metric per place on `day`, and the plan's reference (None: no plan scaling).
    `plan_value`: the metric's month plan per place."""
    funnel = inputs.funnel
    elapsed = (day - inputs.month).days + 1
    n = inputs.days_in_month
    ratio = is_ratio(rule.metric, funnel)
    if rule.over == "day":
        first = max(inputs.month, day - dt.timedelta(days=rule.window - 1))
        span = (day - first).days + 1
        sums = _span_sums(daily, first, day, needed)
        ref = plan_value if ratio else plan_value * span / n
        return _value_of(rule.metric, sums, funnel), ref
    if rule.over == "month":
        sums = _span_sums(daily, inputs.month, day, needed)
        ref = plan_value if ratio else plan_value * elapsed / n
        return _value_of(rule.metric, sums, funnel), ref
    if rule.over == "run-rate":
        upto = daily[daily["date"] <= day]
        if upto.empty:
            return pd.Series(dtype=float), plan_value
        fc = forecast_frame(
            upto,
            inputs.month,
            day,
            ["where"],
            needed,
            inputs.window,
            inputs.method,  # type: ignore[arg-type]
        ).set_index("where")
        rr = pd.DataFrame({m: fc[f"{m}_rr"] for m in needed})
        return _value_of(rule.metric, rr, funnel), plan_value
    # pace: needed per day for the rest of the month / the last `window` days' average per day
    mtd = _span_sums(daily, inputs.month, day, needed)[rule.metric]
    first = max(inputs.month, day - dt.timedelta(days=rule.window - 1))
    recent = _span_sums(daily, first, day, needed)[rule.metric] / ((day - first).days + 1)
    left = n - elapsed
    if left <= 0:
        return pd.Series(dtype=float), None
    need = (plan_value.reindex(mtd.index) - mtd) / left
    with np.errstate(divide="ignore", invalid="ignore"):
        value = need / recent.replace(0.0, np.nan)
    return value.astype(float), None


def _metric(rule: Rule, inputs: AlertInputs) -> tuple[list[Firing], list[str]]:
    """Walk back from as-of while some place keeps breaking the rule: the places that broke it
    on the as-of day and the `days - 1` before fire, with the first day of their streak."""
    needed = _absolutes(rule.metric, inputs.funnel)
    missing = [m for m in needed if m not in inputs.daily.columns]
    if missing:
        return [], [f"{rule.name}: the Daily sheet has no {', '.join(missing)}"]
    if inputs.as_of < inputs.month:
        return [], [f"{rule.name}: no day of the month has facts yet"]
    daily = inputs.daily.copy()
    daily["date"] = pd.to_datetime(daily["date"]).dt.date
    daily["where"] = _where(daily, rule.level)
    plan = _plan_by_place(rule, inputs, needed)
    places = plan.index
    plan_value = _value_of(rule.metric, plan, inputs.funnel)
    first: dict[str, Firing] = {}
    start: dict[str, dt.date] = {}
    alive: set[str] | None = None
    day = inputs.as_of
    while day >= inputs.month and (alive is None or alive):
        values, ref = _values_on(rule, inputs, daily, day, needed, plan_value)
        if rule.over != "pace" and not is_ratio(rule.metric, inputs.funnel):
            # a planned place without facts has 0 of an absolute; its pace is unknown, not 0
            values = values.reindex(values.index.union(places), fill_value=0.0)
        limits = _limits(rule, values, ref)
        holding = {
            str(w)
            for w, v in values.items()
            if rule.holds(float(v), float(limits.get(w, math.nan)))
        }
        if alive is None:
            alive = holding
            for w in holding:
                planned = float(ref.get(w, math.nan)) if ref is not None else math.nan
                first[w] = Firing(rule, w, float(values[w]), float(limits[w]), planned, day, day)
        else:
            alive &= holding
        for w in alive:
            start[w] = day
        day -= dt.timedelta(days=1)
    out = [
        dataclasses.replace(f, since=start[w])
        for w, f in sorted(first.items())
        if (inputs.as_of - start[w]).days + 1 >= rule.days
    ]
    return out, []


def _limits(rule: Rule, values: pd.Series, ref: pd.Series | None) -> pd.Series:
    if "plan" in rule.condition:
        if ref is None:
            raise InputError("has no plan to scale by", column="condition", value=rule.condition)
        return (ref * rule.threshold).reindex(values.index)
    return pd.Series(rule.threshold, index=values.index, dtype=float)


# --------------------------------------------------------------------------- anomalies


def _anomalies(rule: Rule, inputs: AlertInputs) -> tuple[list[Firing], list[str]]:
    metric, day = rule.metric, inputs.as_of
    if metric not in inputs.daily.columns:
        return [], [f"{rule.name}: the Daily sheet has no {metric}"]
    frames = [inputs.daily]
    history = inputs.history
    if (
        history is not None
        and metric in history
        and (rule.level != "line" or "campaign" in history)
    ):
        frames.insert(0, history)  # Daily History has channels only: no help for lines
    columns = ("date", "channel", "campaign", metric)
    both = pd.concat([f[[c for c in columns if c in f]] for f in frames], ignore_index=True)
    both["date"] = pd.to_datetime(both["date"]).dt.date
    both = both[both["date"] <= day]
    if "campaign" not in both:
        both["campaign"] = None
    both["where"] = _where(both, rule.level)
    out: list[Firing] = []
    missed: list[str] = []
    counts = metric not in ("spend", "revenue")
    for where, rows in both.groupby("where", sort=True):
        series = rows.groupby("date")[metric].sum()
        band = _outside_band(series, day, counts, rule.window)
        if band is None:
            missed.append(f"{rule.name}: {where}: not enough history for a band")
            continue
        if not band.outside:
            continue
        since = _streak_start(series, day, inputs.month, counts, rule.window)
        if (day - since).days + 1 < rule.days:
            continue
        limit = band.low if band.value < band.low else band.high
        note = f"{band.low:.6g}–{band.high:.6g}"  # the band, low–high
        out.append(Firing(rule, str(where), band.value, limit, band.expected, since, day, note))
    return out, missed


def _outside_band(series: pd.Series, day: dt.date, counts: bool, window: int) -> Band | None:
    """The day's band; with `window` > 1 also the last `window` days' total against the same
    days' totals in the history, and the band that is broken is returned (a halving shows in
    a 2-day total sooner than in one day: docs/benchmarks.md)."""
    band = day_band(series, day, counts=counts)
    if band is None or band.outside or window == 1:
        return band
    total = day_band(series, day, counts=counts, days=window)
    return total if total is not None and total.outside else band


def _streak_start(
    series: pd.Series, day: dt.date, month: dt.date, counts: bool, window: int = 1
) -> dt.date:
    """The first day of the month's unbroken run of days outside their bands ending on `day`
    (which is outside)."""
    start = day
    while start > month:
        band = _outside_band(series, start - dt.timedelta(days=1), counts, window)
        if band is None or not band.outside:
            break
        start -= dt.timedelta(days=1)
    return start
