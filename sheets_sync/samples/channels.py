"""The known truth the sample generator draws from: seven channels and their response curves.

`sheets_sync.samples.data` simulates a month of plan and daily facts from these definitions; tests
of curve fitting and of the budget optimiser compare what they recover with them.

- `ResponseCurve`: daily leads as a function of daily channel spend (RUB/day), one of three
  concave forms (hill, power, negative exponential), 0 at zero spend, evaluated by the planner's
  own curves (`planning.response.Hill`, `Power`, `NegExp`): one set of formulas for both;
- `ChannelSpec`: everything true about one channel (curve, CPC, campaigns with their spend shares,
  lead quality and CPC factors, weekend factors, funnel rates and lags, revenue per purchase) and
  how its plan is biased against the truth;
- `CHANNELS`: the seven channels of the sample team (search, display, programmatic, social,
  messenger), 28 campaigns in all; `TRUE_CURVES`: channel name → its weekday response curve.

Pure numpy; no I/O and no randomness here (the generator owns both).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt

from planning.errors import InputError
from planning.response import Curve, Hill, NegExp, Power

__all__ = ["CHANNELS", "TRUE_CURVES", "ChannelSpec", "ResponseCurve"]

Floats = npt.NDArray[np.float64]
CurveForm = Literal["hill", "power", "negexp"]

_ARITY: dict[str, int] = {"hill": 3, "power": 2, "negexp": 2}
_FORMS: dict[str, type[Hill] | type[Power] | type[NegExp]] = {
    "hill": Hill,
    "power": Power,
    "negexp": NegExp,
}


@dataclass(frozen=True)
class ResponseCurve:
    """Daily leads as a function of daily channel spend (RUB/day): the ground truth.

    `form` and `params`:

    - ``"hill"``: ``(vmax, k, slope)``, ``vmax * s**slope / (k**slope + s**slope)``; `vmax` leads
      per day, `k` the spend (RUB/day) giving half of `vmax`, ``0 < slope <= 1`` (concave);
    - ``"power"``: ``(a, b)``, ``a * s**b`` with ``0 < b < 1``;
    - ``"negexp"``: ``(vmax, k)``, ``vmax * (1 - exp(-s / k))``; `k` in RUB/day.

    Every parameter is finite and > 0. All three are 0 at zero spend, increasing and concave
    (the truth is stricter than `planning.response`, which also takes S-shaped hills and
    ``b == 1``); `leads` and `marginal` are `planning_curve`'s response and marginal.
    """

    form: CurveForm
    params: tuple[float, ...]
    planning_curve: Curve = dataclasses.field(init=False, repr=False, compare=False)
    """The same curve as `planning.response` evaluates it (`Hill`, `Power` or `NegExp`)."""

    def __post_init__(self) -> None:
        if self.form not in _ARITY:
            raise InputError(
                f"`form` must be one of {', '.join(_ARITY)}, got {self.form!r}",
                value=self.form,
                has_value=False,
            )
        params = tuple(self.params)
        if len(params) != _ARITY[self.form]:
            raise InputError(
                f"a {self.form} curve takes {_ARITY[self.form]} parameters, got {len(params)}: "
                f"{params!r}",
                value=params,
                has_value=False,
            )
        for i, p in enumerate(params):
            bad = isinstance(p, bool) or not isinstance(p, int | float | np.number)
            if bad or not math.isfinite(p) or p <= 0:
                raise InputError(
                    f"parameter {i + 1} of the {self.form} curve must be a finite number > 0, "
                    f"got {p!r}",
                    value=p,
                    has_value=False,
                )
        if self.form == "hill" and params[2] > 1:
            raise InputError(
                f"the hill `slope` must be <= 1 (a concave curve), got {params[2]!r}",
                value=params[2],
                has_value=False,
            )
        if self.form == "power" and params[1] >= 1:
            raise InputError(
                f"the power exponent `b` must be < 1 (a concave curve), got {params[1]!r}",
                value=params[1],
                has_value=False,
            )
        object.__setattr__(self, "params", tuple(float(p) for p in params))
        object.__setattr__(self, "planning_curve", _FORMS[self.form](*self.params))

    def leads(self, spend: npt.ArrayLike) -> Floats:
        """Expected daily leads at daily spend `spend` (RUB/day, >= 0); same shape as `spend`."""
        return np.asarray(self.planning_curve.response(cast(Any, spend)), dtype=np.float64)

    def marginal(self, spend: npt.ArrayLike) -> Floats:
        """d leads / d spend (leads per RUB) at `spend`; ``inf`` at 0 spend for hill and power."""
        return np.asarray(self.planning_curve.marginal(cast(Any, spend)), dtype=np.float64)


@dataclass(frozen=True)
class ChannelSpec:
    """The true behaviour of one channel and the bias of its plan.

    `curve`: daily leads on a weekday vs daily channel spend; `cpc` RUB per click at the typical
    spend; `daily_budget` the typical weekday channel spend (RUB/day). Per campaign (tuples as
    long as `campaigns`): `shares` of the channel's spend (normalised to sum to 1), lead `quality`
    (leads are split in proportion to spend x quality) and `cpc_factors` (campaign CPC / `cpc`).
    `weekend_spend` / `weekend_leads`: Saturday and Sunday spend and leads-per-curve relative to
    a weekday. Rates are probabilities: `call_rate` calls per lead (same day), `pp_rate` PP per
    call, `negotiation_rate` negotiations per PP, `purchase_rate` purchases per negotiation;
    the lags are the mean days from the source stage. `revenue_per_purchase` in RUB.
    The plan biases multiply the truth: planned budget / typical spend, planned CPC / true CPC,
    planned traffic→leads CR / true CR.
    """

    name: str
    curve: ResponseCurve
    cpc: float
    campaigns: tuple[str, ...]
    daily_budget: float
    shares: tuple[float, ...]
    quality: tuple[float, ...]
    cpc_factors: tuple[float, ...]
    weekend_spend: float
    weekend_leads: float
    call_rate: float
    pp_rate: float
    negotiation_rate: float
    purchase_rate: float
    revenue_per_purchase: float
    pp_lag: float
    negotiation_lag: float
    purchase_lag: float
    plan_budget_bias: float = 1.0
    plan_cpc_bias: float = 1.0
    plan_cr_bias: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InputError(f"`name` must be a non-empty text, got {self.name!r}")
        if not isinstance(self.curve, ResponseCurve):
            raise InputError(f"channel {self.name!r}: `curve` must be a `ResponseCurve`")
        campaigns = tuple(self.campaigns)
        if not campaigns or len(set(campaigns)) != len(campaigns):
            raise InputError(
                f"channel {self.name!r}: `campaigns` must be distinct names, got {campaigns!r}"
            )
        object.__setattr__(self, "campaigns", campaigns)
        for field in ("shares", "quality", "cpc_factors"):
            values = tuple(float(v) for v in getattr(self, field))
            if len(values) != len(campaigns):
                raise InputError(
                    f"channel {self.name!r}: `{field}` has {len(values)} values for "
                    f"{len(campaigns)} campaigns"
                )
            if not all(math.isfinite(v) and v > 0 for v in values):
                raise InputError(f"channel {self.name!r}: `{field}` must be > 0, got {values!r}")
            if field == "shares":
                values = tuple(v / sum(values) for v in values)
            object.__setattr__(self, field, values)
        for field in (
            *("cpc", "daily_budget", "weekend_spend", "weekend_leads", "revenue_per_purchase"),
            *("plan_budget_bias", "plan_cpc_bias", "plan_cr_bias"),
        ):
            _check_number(self.name, field, getattr(self, field), low=0.0, low_open=True)
        for field in ("call_rate", "pp_rate", "negotiation_rate", "purchase_rate"):
            _check_number(self.name, field, getattr(self, field), low=0.0, high=1.0)
        for field in ("pp_lag", "negotiation_lag", "purchase_lag"):
            _check_number(self.name, field, getattr(self, field), low=0.0)

    @property
    def lines(self) -> list[tuple[str, str]]:
        """``(channel, campaign)`` keys in campaign order."""
        return [(self.name, c) for c in self.campaigns]


def _check_number(
    channel: str,
    field: str,
    value: object,
    *,
    low: float,
    high: float = math.inf,
    low_open: bool = False,
) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        assert isinstance(value, int | float)
        ok = (value > low if low_open else value >= low) and value <= high
    if not ok:
        bound = f"> {low:g}" if low_open else f">= {low:g}"
        if math.isfinite(high):
            bound += f" and <= {high:g}"
        raise InputError(
            f"channel {channel!r}: `{field}` must be a finite number {bound}, got {value!r}",
            value=value,
            has_value=False,
        )


def _power_a(leads: float, spend: float, b: float) -> float:
    """The `a` of ``a * s**b`` that gives `leads` at `spend`."""
    return round(leads / spend**b, 6)


def _channel(
    name: str,
    curve: ResponseCurve,
    cpc: float,
    daily_budget: float,
    campaigns: Sequence[tuple[str, float, float, float]],
    weekend: tuple[float, float],
    rates: tuple[float, float, float, float],
    lags: tuple[float, float, float],
    revenue_per_purchase: float,
    plan_bias: tuple[float, float, float],
) -> ChannelSpec:
    """A `ChannelSpec` from the compact rows of the table below."""
    names, shares, quality, cpc_factors = zip(*campaigns, strict=True)
    return ChannelSpec(
        name, curve, cpc, names, daily_budget, shares, quality, cpc_factors, *weekend, *rates,
        revenue_per_purchase, *lags, *plan_bias,
    )  # fmt: skip


# Campaign rows: (name, share of channel spend, lead quality, CPC factor). Weekend: (spend, leads).
# Rates: calls/lead, PP/call, negotiations/PP, purchases/negotiation. Lags: mean days to PP,
# negotiation, purchase. Plan bias: planned budget, CPC, CR(traffic→leads) / truth.
# fmt: off
CHANNELS: tuple[ChannelSpec, ...] = (
    _channel(
        "Google Search", ResponseCurve("hill", (70.0, 60_000.0, 0.9)),  # ~30 leads/day at 45k
        cpc=62.0, daily_budget=45_000.0,
        campaigns=[("Brand", 0.15, 2.2, 0.45), ("Generic — Moscow", 0.35, 1.0, 1.2),
                   ("Generic — Regions", 0.25, 0.9, 0.8), ("Competitors", 0.12, 0.6, 1.5),
                   ("DSA — All pages", 0.13, 0.8, 0.9)],
        weekend=(0.70, 0.80), rates=(0.62, 0.38, 0.52, 0.34), lags=(3.0, 6.0, 9.0),
        revenue_per_purchase=185_000.0,
        plan_bias=(1.25, 1.0, 0.90),  # plans more budget than it spends: ~90 % of leads, lower CPA
    ),
    _channel(
        "Yandex Direct", ResponseCurve("power", (_power_a(48.0, 80_000.0, 0.7), 0.7)),  # 48 at 80k
        cpc=48.0, daily_budget=80_000.0,
        campaigns=[("Brand", 0.12, 2.0, 0.4), ("Generic — Moscow", 0.34, 1.0, 1.25),
                   ("Generic — St Petersburg", 0.18, 1.0, 1.1),
                   ("Generic — Regions", 0.24, 0.85, 0.75), ("Competitors", 0.12, 0.6, 1.4)],
        weekend=(0.72, 0.82), rates=(0.58, 0.35, 0.50, 0.32), lags=(3.0, 7.0, 10.0),
        revenue_per_purchase=170_000.0,
        plan_bias=(0.90, 1.04, 1.05),  # overspends: a few more leads than planned, higher CPA
    ),
    _channel(
        "Yandex RSYa", ResponseCurve("negexp", (45.0, 40_000.0)),  # saturates early: ~24 at 30k
        cpc=19.0, daily_budget=30_000.0,
        campaigns=[("Retargeting", 0.25, 1.8, 1.3), ("Interests — SMB owners", 0.35, 0.9, 1.0),
                   ("Lookalike 3%", 0.25, 0.8, 0.9), ("Smart banners", 0.15, 1.1, 1.1)],
        weekend=(0.92, 0.90), rates=(0.50, 0.30, 0.48, 0.30), lags=(4.0, 8.0, 11.0),
        revenue_per_purchase=150_000.0,
        plan_bias=(1.0, 1.0, 0.85),  # conservative CR: over-delivers leads at a lower CPA
    ),
    _channel(
        "Programmatic", ResponseCurve("hill", (20.0, 35_000.0, 0.8)),  # ~8 at 20k
        cpc=14.0, daily_budget=20_000.0,
        campaigns=[("Retargeting", 0.4, 1.6, 1.2), ("Audience segments — B2B", 0.4, 0.8, 1.0),
                   ("Video — Awareness", 0.2, 0.4, 0.7)],
        weekend=(0.95, 0.90), rates=(0.45, 0.28, 0.45, 0.28), lags=(5.0, 9.0, 12.0),
        revenue_per_purchase=160_000.0,
        plan_bias=(1.05, 0.95, 1.25),  # optimistic CR: under-delivers leads at a higher CPA
    ),
    _channel(
        "Meta Ads", ResponseCurve("power", (_power_a(14.0, 25_000.0, 0.6), 0.6)),  # 14 at 25k
        cpc=34.0, daily_budget=25_000.0,
        campaigns=[("Lookalike 3%", 0.3, 1.0, 1.0), ("Lead form — Interests", 0.3, 0.9, 0.9),
                   ("Retargeting — Site visitors", 0.2, 1.6, 1.3),
                   ("Advantage+ — International", 0.2, 0.7, 0.8)],
        weekend=(1.05, 0.95), rates=(0.50, 0.30, 0.50, 0.30), lags=(4.0, 8.0, 12.0),
        revenue_per_purchase=210_000.0,
        plan_bias=(0.95, 1.08, 1.10),
    ),
    _channel(
        "VK Ads", ResponseCurve("negexp", (30.0, 30_000.0)),  # ~16 at 22k
        cpc=23.0, daily_budget=22_000.0,
        campaigns=[("Lead forms — SMB", 0.35, 1.0, 1.0), ("Lookalike 3%", 0.25, 0.9, 0.9),
                   ("Retargeting", 0.2, 1.5, 1.2), ("Communities — Business", 0.2, 0.7, 0.8)],
        weekend=(1.05, 0.95), rates=(0.52, 0.32, 0.50, 0.30), lags=(4.0, 8.0, 11.0),
        revenue_per_purchase=140_000.0,
        plan_bias=(1.0, 0.95, 0.90),  # cheaper clicks and better CR than planned
    ),
    _channel(
        "Telegram Ads", ResponseCurve("hill", (12.0, 15_000.0, 1.0)),  # 4.8 at 10k
        cpc=58.0, daily_budget=10_000.0,
        campaigns=[("Business channels", 0.45, 1.0, 1.0), ("Marketing channels", 0.35, 0.9, 0.9),
                   ("Retargeting — Bot", 0.2, 1.4, 1.2)],
        weekend=(1.0, 0.90), rates=(0.55, 0.33, 0.50, 0.30), lags=(3.0, 7.0, 10.0),
        revenue_per_purchase=175_000.0,
        plan_bias=(1.2, 1.0, 1.15),  # planned to scale and did not: well under plan
    ),
)
# fmt: on
"""The seven channels of the sample team, 28 campaigns in all."""

TRUE_CURVES: dict[str, ResponseCurve] = {spec.name: spec.curve for spec in CHANNELS}
"""Channel name → its true weekday response curve (daily leads vs RUB/day)."""
