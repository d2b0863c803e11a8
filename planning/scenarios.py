"""What-if scenarios: any budget split, or a rule applied to one, evaluated on fitted curves.

A scenario is a spend per channel over a period of `days` days (the Plan's monthly budget with
``days=30``, a daily split with ``days=1``). Curves map spend PER DAY to conversions PER DAY
(`planning.curves`), so a channel's period spend ``s`` is evaluated as ``days * curve(s / days)``:
the same daily spend on each day of the period.

Per channel and in total `evaluate` gives the expected conversions with their band (the fit's
`ChannelFit.band`, e.g. 10th-90th percentile of the bootstrap), CPA, revenue (conversions x value
per conversion) and ROMI, each with the band it inherits from the conversions band. Totals sum the
absolutes (spend, conversions, the band's low and high ends, revenue) and recompute CPA and ROMI
from the sums, never averaging them. Summing the channels' band ends treats their errors as moving
together, so the total's band is the conservative (widest) one.

Rules turn one split into another: `scale_total` (+20 % budget) and `move` (30 % of Context's
spend to Programmatic, the total kept). `compare` puts scenarios side by side.

Undefined ratios (zero conversions, zero spend) are ``nan``; revenue and ROMI are ``nan`` when no
value per conversion is given.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from planning.curves import ChannelFit
from planning.errors import InputError

__all__ = ["TOTAL", "Scenario", "compare", "evaluate", "move", "scale_total"]

Floats = npt.NDArray[np.float64]

TOTAL = "Total"
"""Label of the totals row in `Scenario.to_frame` and `compare`."""

COMPARED = ("spend", "conversions", "low", "high", "cpa", "revenue", "romi")
"""The quantities `compare` puts side by side, per scenario."""
_DELTAS = ("spend", "conversions", "cpa", "revenue", "romi")


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool | np.bool_)


def _amount(value: Any, channel: str, column: str) -> float:
    """A finite number >= 0 for `channel`, else an InputError naming the channel and column."""
    if not _is_number(value):
        raise InputError("is not a number", line=channel, column=column, value=value)
    x = float(value)
    if not math.isfinite(x):
        raise InputError("is not a finite number", line=channel, column=column, value=value)
    if x < 0:
        raise InputError("must not be negative", line=channel, column=column, value=value)
    return x


def _days(days: Any) -> int:
    if isinstance(days, bool | np.bool_) or not isinstance(days, int | np.integer) or days < 1:
        raise InputError(
            f"`days` must be a whole number of days >= 1, got {days!r}",
            value=days,
            has_value=False,
        )
    return int(days)


def _ratio(num: Floats, den: Floats) -> Floats:
    """``num / den`` elementwise; ``nan`` where the denominator is 0 or nan."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan)
    return np.asarray(out, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class Scenario:
    """A split evaluated on the fitted curves. Arrays have shape ``(n_channels,)`` in `channels`
    order; money in the account currency and conversions over the whole period of `days` days.

    `spend`: the period's spend; `conversions`: expected conversions, `low` / `high` the band's
    ends; `marginal_cpa`: the cost of one more conversion at this spend (``1 / curve.marginal``;
    ``inf`` where the curve is flat, e.g. past its extrapolation cap); `value_per_conversion`:
    ``nan`` where none was given; `confidence`: the fit's ("high", "low" or "given").
    """

    name: str
    channels: tuple[str, ...]
    spend: Floats
    conversions: Floats
    low: Floats
    high: Floats
    marginal_cpa: Floats
    value_per_conversion: Floats
    confidence: tuple[str, ...]
    days: int

    # --- per channel -----------------------------------------------------------------------

    @property
    def cpa(self) -> Floats:
        """Spend / expected conversions; ``nan`` at zero conversions."""
        return _ratio(self.spend, self.conversions)

    @property
    def revenue(self) -> Floats:
        """Expected conversions x value per conversion (``nan`` without a value)."""
        return np.asarray(self.conversions * self.value_per_conversion, dtype=np.float64)

    @property
    def romi(self) -> Floats:
        """(revenue - spend) / spend; ``nan`` at zero spend or without a value per conversion."""
        return _ratio(self.revenue - self.spend, self.spend)

    # --- totals: sums of absolutes, ratios from the sums ------------------------------------

    @property
    def total_spend(self) -> float:
        return float(self.spend.sum())

    @property
    def total_conversions(self) -> float:
        return float(self.conversions.sum())

    @property
    def total_low(self) -> float:
        return float(self.low.sum())

    @property
    def total_high(self) -> float:
        return float(self.high.sum())

    @property
    def total_revenue(self) -> float:
        return float(self.revenue.sum())

    @property
    def total_cpa(self) -> float:
        return float(_ratio(np.array([self.total_spend]), np.array([self.total_conversions]))[0])

    @property
    def total_romi(self) -> float:
        spend = np.array([self.total_spend])
        return float(_ratio(np.array([self.total_revenue]) - spend, spend)[0])

    def to_frame(self) -> pd.DataFrame:
        """One row per channel and a `TOTAL` row; columns `spend`, `conversions`, `low`, `high`,
        `cpa` (with `cpa_low` = spend / high and `cpa_high` = spend / low), `revenue` (with
        `revenue_low`, `revenue_high`), `romi` (with `romi_low`, `romi_high`), `marginal_cpa`,
        `confidence`. The totals row recomputes every ratio from its sums; its marginal CPA is
        ``nan`` (a split has no single one) and its confidence the lowest of the channels'."""
        value = self.value_per_conversion
        spend = np.append(self.spend, self.total_spend)
        conv = np.append(self.conversions, self.total_conversions)
        low = np.append(self.low, self.total_low)
        high = np.append(self.high, self.total_high)
        revenue = np.append(self.revenue, self.total_revenue)
        rev_low = np.append(self.low * value, float((self.low * value).sum()))
        rev_high = np.append(self.high * value, float((self.high * value).sum()))
        order = {"given": 0, "high": 1, "low": 2}
        worst = max(self.confidence, key=lambda c: order.get(c, 3)) if self.confidence else ""
        frame = pd.DataFrame(
            {
                "spend": spend,
                "conversions": conv,
                "low": low,
                "high": high,
                "cpa": _ratio(spend, conv),
                "cpa_low": _ratio(spend, high),
                "cpa_high": _ratio(spend, low),
                "revenue": revenue,
                "revenue_low": rev_low,
                "revenue_high": rev_high,
                "romi": _ratio(revenue - spend, spend),
                "romi_low": _ratio(rev_low - spend, spend),
                "romi_high": _ratio(rev_high - spend, spend),
                "marginal_cpa": np.append(self.marginal_cpa, np.nan),
                "confidence": [*self.confidence, worst],
            },
            index=pd.Index([*self.channels, TOTAL], name="channel"),
        )
        return frame


def evaluate(
    fits: Mapping[str, ChannelFit],
    spend: Mapping[str, Any],
    values: Mapping[str, Any] | None = None,
    days: int = 1,
    name: str = "scenario",
) -> Scenario:
    """Evaluate a split: `spend` maps channel → its spend over `days` days (>= 0).

    Every channel of `spend` needs a fit in `fits` (channels of `fits` not in `spend` are left
    out). `values` maps channel → value per conversion (>= 0; e.g. revenue per lead) and, when
    given, must cover every channel of `spend`. Raises `InputError` naming the channel and the
    value for a missing fit, a negative, blank or non-numeric spend or value, and `days` < 1.
    """
    n_days = _days(days)
    channels = tuple(str(c) for c in spend)
    missing = [c for c in channels if c not in fits]
    if missing:
        raise InputError(
            f"channel {missing[0]!r} has no response curve; curves exist for: "
            f"{', '.join(map(repr, fits)) or 'none'}"
        )
    amounts = np.array([_amount(spend[c], c, "spend") for c in channels], dtype=np.float64)
    if values is None:
        value = np.full(len(channels), np.nan)
    else:
        absent = [c for c in channels if c not in values]
        if absent:
            raise InputError(
                "has no value per conversion", line=absent[0], column="value per conversion"
            )
        value = np.array(
            [_amount(values[c], c, "value per conversion") for c in channels], dtype=np.float64
        )
    conv = np.empty(len(channels))
    low = np.empty(len(channels))
    high = np.empty(len(channels))
    marginal_cpa = np.empty(len(channels))
    for i, channel in enumerate(channels):
        fit = fits[channel]
        per_day = amounts[i] / n_days
        conv[i] = float(fit.curve.response(per_day)) * n_days
        lo, hi = fit.band(per_day)
        low[i], high[i] = float(lo) * n_days, float(hi) * n_days
        marginal = float(fit.curve.marginal(per_day))
        marginal_cpa[i] = 1.0 / marginal if marginal > 0 else math.inf
    return Scenario(
        name=name,
        channels=channels,
        spend=amounts,
        conversions=conv,
        low=np.minimum(low, conv),
        high=np.maximum(high, conv),
        marginal_cpa=marginal_cpa,
        value_per_conversion=value,
        confidence=tuple(str(fits[c].confidence) for c in channels),
        days=n_days,
    )


# --- rules --------------------------------------------------------------------------------


def _pct(pct: Any, low: float, high: float = math.inf) -> float:
    if not _is_number(pct) or not math.isfinite(float(pct)) or not low <= float(pct) <= high:
        bound = f"between {low:g} and {high:g}" if math.isfinite(high) else f">= {low:g}"
        raise InputError(
            f"`pct` must be a percentage {bound}, got {pct!r}", value=pct, has_value=False
        )
    return float(pct)


def _checked(spend: Mapping[str, Any]) -> dict[str, float]:
    return {str(c): _amount(v, str(c), "spend") for c, v in spend.items()}


def scale_total(spend: Mapping[str, Any], pct: float) -> dict[str, float]:
    """Every channel's spend x (1 + `pct` / 100): ``scale_total(split, 20)`` is +20 % budget.

    `pct` >= -100; the shares of the channels are kept.
    """
    factor = 1.0 + _pct(pct, -100.0) / 100.0
    return {c: v * factor for c, v in _checked(spend).items()}


def move(spend: Mapping[str, Any], src: str, dst: str, pct: float) -> dict[str, float]:
    """Move `pct` % (0-100) of channel `src`'s spend to channel `dst`; the total is kept.

    ``move(split, "Context", "Programmatic", 30)``: Context −30 %, Programmatic + that amount.
    """
    out = _checked(spend)
    for arg, channel in (("src", src), ("dst", dst)):
        if channel not in out:
            raise InputError(
                f"`{arg}` {channel!r} is not a channel of the split; channels: "
                f"{', '.join(map(repr, out))}",
                value=channel,
                has_value=False,
            )
    if src == dst:
        raise InputError(
            f"`src` and `dst` must be different channels, got {src!r} twice",
            value=src,
            has_value=False,
        )
    # never more than the source has: x * 100 / 100 can exceed x by one ulp
    amount = min(out[src] * _pct(pct, 0.0, 100.0) / 100.0, out[src])
    out[src] -= amount
    out[dst] += amount
    return out


def compare(
    fits: Mapping[str, ChannelFit],
    scenarios: Mapping[str, Mapping[str, Any]],
    values: Mapping[str, Any] | None = None,
    days: int = 1,
) -> pd.DataFrame:
    """Scenarios side by side, e.g. ``compare(fits, {"current": now, "proposal": split})``.

    Index: the channels (the first scenario's order) and `TOTAL`. Columns: a MultiIndex
    ``(quantity, scenario)`` for each quantity of `COMPARED` and each scenario, then for every
    scenario after the first (the base) ``(quantity, "Δ <name>")`` = that scenario − the base,
    for spend, conversions, CPA, revenue and ROMI. Every scenario must split the same channels.
    """
    if not scenarios:
        raise InputError("`scenarios` is empty; give at least one split, e.g. {'current': ...}")
    evaluated = [evaluate(fits, s, values, days, name=str(n)) for n, s in scenarios.items()]
    base = evaluated[0]
    for other in evaluated[1:]:
        if set(other.channels) != set(base.channels):
            extra = sorted(set(other.channels) ^ set(base.channels))
            raise InputError(
                f"scenario {other.name!r} and {base.name!r} split different channels: "
                f"{', '.join(map(repr, extra))}"
            )
    frames = {s.name: s.to_frame().loc[[*base.channels, TOTAL]] for s in evaluated}
    columns: dict[tuple[str, str], Any] = {}
    for quantity in COMPARED:
        for scenario, frame in frames.items():
            columns[(quantity, scenario)] = frame[quantity].to_numpy()
        if quantity in _DELTAS:
            for scenario, frame in list(frames.items())[1:]:
                delta = frame[quantity].to_numpy() - frames[base.name][quantity].to_numpy()
                columns[(quantity, f"Δ {scenario}")] = delta
    out = pd.DataFrame(columns, index=pd.Index([*base.channels, TOTAL], name="channel"))
    out.columns = pd.MultiIndex.from_tuples(list(columns), names=["quantity", "scenario"])
    return out
