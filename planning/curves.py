"""Response curves fitted per channel: daily conversions as a function of daily spend.

Units: spend is account currency PER DAY, conversions are PER DAY (history rows are daily; rows of
one channel-day are summed). A fitted curve is the response of the average day of a week.

Method (`fit_channel`)
----------------------
1. **Checks.** A blank, negative, infinite or non-numeric value raises `InputError` naming the
   channel, the column, the row and the value; so does a channel whose conversions are all 0 (no
   curve and no CPA: leave it out or give its curve with `given_curves`).
2. **Fallback.** Fewer than `FitOptions.min_days` days with spend > 0, or a spend coefficient of
   variation (std / mean over those days) below `min_spend_cv`: ``Linear(cpa, capacity)`` with
   ``cpa = total spend / total conversions`` (summed absolutes) and ``capacity = extrapolation x
   highest daily spend / cpa`` (it stops growing where a fitted curve is capped), confidence
   ``"low"`` and a flag saying why.
3. **Scaling.** Spend is divided by its median over the days with spend, conversions by their
   mean; the fits work on numbers near 1 and the parameters are rescaled afterwards.
4. **Forms** (concave, increasing, 0 at zero spend) in log-parameters, scaled amplitudes and `k`
   in ``[1e-4, 1e4]``: ``hill`` ``vmax s^h / (k^h + s^h)`` with ``0.1 <= h <= 1``;
   ``saturating`` ``vmax s / (k + s)`` (Michaelis-Menten: hill with ``h = 1`` for two
   parameters, not three, so AICc does not penalise it out); ``power`` ``a s^b`` with
   ``0.05 <= b <= 1``; ``negexp`` ``vmax (1 - exp(-s / k))``. Bounded least squares with
   analytic Jacobians: a few starting points improved together by a batched
   Levenberg-Marquardt, the best polished by `scipy.optimize.least_squares` (trust region).
5. **Average** (`FitOptions.average`, the default): the curve is the forms' weighted sum
   (`planning.curve_average.Averaged`) with Akaike weights ``exp(-(AICc_i - min AICc) / 2)``,
   normalised; AICc is ``n ln(RSS / n) + 2p + 2p(p + 1) / (n - p - 1)``. A form weighing less
   than 0.1% is left out; when one form is left, it is the curve. A flag gives the weights
   (``"curve: 61% saturating, 27% power, 12% negexp"``). Decided on the decision-quality
   benchmark (`benchmarks/bench_curve_quality.py`): averaging captures more of the oracle's
   uplift, pooled, than the single form of smallest AICc for every true family, noise level and
   history length there, and was never worse than the current split beyond the noise band;
   with the forms hard to tell apart from noisy days, choosing one is a coin toss the split
   inherits. Without averaging (``average=False``) the form of smallest AICc is the curve.
6. **Band.** `n_bootstrap` replicates resample the days with replacement (as weights: a day drawn
   twice counts twice) and refit, all at once (batched Levenberg-Marquardt from the point fit):
   every averaged form, each replicate's average weighted by its own AICcs (the band carries the
   uncertainty of the weights too), or the chosen form alone. `ChannelFit.band` gives the
   `band` quantiles (default 10th and 90th percentile) of the replicate curves' responses. The
   fallback's band bootstraps its CPA.
7. **Extrapolation cap.** Every fitted curve (and band curve) is flat beyond ``max_spend =
   extrapolation x highest observed daily spend``, flagged ``"extrapolation capped at N/day"``.

Weekends: weekend days often have both less spend and fewer conversions per unit of spend, which
would bend the low end of a naive fit down. Given the days' dates (`fit_history`, or a `weekend`
mask), a weekend factor ``r`` (``0.2 <= r <= 5``, conversions on a weekend day per weekday at the
same spend) is fitted with the curve when there are >= 3 weekend days and >= 3 weekdays; the
returned curve is the weekday curve times ``(5 + 2 r) / 7``, and ``criterion["weekend_factor"]``
holds ``r`` (each form fits its own; an average reports their weighted mean).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from planning.curve_average import Averaged, akaike_weights
from planning.curve_fitting import account_curve, aicc, batched_lm, bootstrap_average, point_fit
from planning.errors import InputError
from planning.response import Curve, CurveStack, Linear, curve_from_params
from planning.split_flags import flag

__all__ = ["FIT_FORMS", "ChannelFit", "FitOptions", "fit_channel", "fit_history", "given_curves"]

Floats = npt.NDArray[np.float64]
Confidence = Literal["high", "low", "given"]

FIT_FORMS: tuple[str, ...] = ("hill", "saturating", "power", "negexp")
"""The curve forms `fit_channel` can fit (all concave)."""

_CONFIDENCE = ("high", "low", "given")
_PARAMETERS = ("vmax", "k", "slope", "a", "b", "cpa", "capacity")  # of the forms of `given_curves`
_MIN_GROUP_DAYS = 3  # weekend days and weekdays needed to fit the weekend factor
_MIN_WEIGHT = 1e-3  # a form of a smaller Akaike weight is left out of the average


# --------------------------------------------------------------------------- options and results


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool | np.bool_)


def _invalid(name: str, must: str, value: Any) -> InputError:
    return InputError(f"`{name}` must be {must}, got {value!r}", value=value, has_value=False)


@dataclass(frozen=True)
class FitOptions:
    """How `fit_channel` fits a curve.

    `forms`: the forms to try (a non-empty subset of `FIT_FORMS`); `average`: the curve is the
    forms' average by Akaike weight (else the form of smallest AICc); `n_bootstrap`: bootstrap
    replicates for the band (0: no band); `band`: the lower and upper quantiles of the band,
    ``0 <= low < high <= 1``; `extrapolation`: the curve is flat beyond this multiple (>= 1) of
    the highest observed daily spend; `min_days`: days with spend > 0 needed to fit a curve
    (>= 5); `min_spend_cv`: the spend coefficient of variation needed (>= 0); `seed`: of the
    bootstrap (an integer >= 0); `weekend`: fit a weekend factor when the dates are known.
    """

    forms: tuple[str, ...] = FIT_FORMS
    n_bootstrap: int = 200
    band: tuple[float, float] = (0.1, 0.9)
    extrapolation: float = 1.75
    min_days: int = 14
    min_spend_cv: float = 0.1
    seed: int = 0
    weekend: bool = True
    average: bool = True

    def __post_init__(self) -> None:
        forms = (self.forms,) if isinstance(self.forms, str) else tuple(self.forms)
        if not forms or len(set(forms)) != len(forms) or not set(forms) <= set(FIT_FORMS):
            raise _invalid("forms", f"distinct names among {', '.join(FIT_FORMS)}", self.forms)
        object.__setattr__(self, "forms", forms)
        band = tuple(self.band)
        if (
            len(band) != 2
            or not all(_is_number(q) for q in band)
            or not 0 <= band[0] < band[1] <= 1
        ):
            raise _invalid("band", "two quantiles (low, high) with 0 <= low < high <= 1", self.band)
        object.__setattr__(self, "band", (float(band[0]), float(band[1])))
        for name, low, integer in (
            ("n_bootstrap", 0, True),
            ("extrapolation", 1, False),
            ("min_days", 5, True),
            ("min_spend_cv", 0, False),
            ("seed", 0, True),
        ):
            value = getattr(self, name)
            ok = _is_int(value) if integer else _is_number(value) and math.isfinite(value)
            if not ok or value < low:
                raise _invalid(
                    name, f"{'an integer' if integer else 'a finite number'} >= {low}", value
                )
        for name in ("weekend", "average"):
            if not isinstance(getattr(self, name), bool):
                raise _invalid(name, "True or False", getattr(self, name))


@dataclass(frozen=True)
class ChannelFit:
    """One channel's response curve with its band and diagnostics.

    `curve`: conversions per day as a function of spend per day; `confidence`: ``"high"`` (a
    fitted curve), ``"low"`` (the constant-CPA fallback) or ``"given"`` (`given_curves`);
    `flags`: readable notes for the user (fallbacks, the extrapolation cap); `band_curves`: the
    bootstrap replicate curves (empty: no band); `n_days`: days of history; `max_observed_spend`:
    the highest daily spend of the history (``nan`` for a given curve); `criterion`: AICc per
    fitted form (smaller is better; an averaged curve's weights follow from them) and, when
    fitted, ``"weekend_factor"`` (of an average: its forms' weighted mean); `band_levels`: the
    quantiles `band` returns.
    """

    channel: str
    curve: Curve
    confidence: Confidence
    flags: tuple[str, ...]
    band_curves: tuple[Curve, ...]
    n_days: int
    max_observed_spend: float
    criterion: dict[str, float] = field(default_factory=dict)
    band_levels: tuple[float, float] = (0.1, 0.9)
    _stack: CurveStack | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "flags", tuple(self.flags))
        object.__setattr__(self, "band_curves", tuple(self.band_curves))
        m, (lo, hi) = self.max_observed_spend, self.band_levels
        for name, ok, must in (
            ("channel", isinstance(self.channel, str), "a text"),
            ("curve", isinstance(self.curve, Curve), "a `Curve`"),
            ("confidence", self.confidence in _CONFIDENCE, "one of high, low, given"),
            ("flags", all(isinstance(f, str) for f in self.flags), "texts"),
            ("band_curves", all(isinstance(c, Curve) for c in self.band_curves), "`Curve`s"),
            ("n_days", _is_int(self.n_days) and self.n_days >= 0, "an integer >= 0"),
            ("max_observed_spend", _is_number(m) and (m != m or 0 <= m < math.inf), "nan or >= 0"),
            ("band_levels", 0 <= lo < hi <= 1, "(low, high) with 0 <= low < high <= 1"),
        ):
            if not ok:
                raise _invalid(name, must, getattr(self, name))
        stack = CurveStack(self.band_curves) if self.band_curves else None
        object.__setattr__(self, "_stack", stack)

    def band(self, spend: npt.ArrayLike) -> tuple[Floats | float, Floats | float]:
        """``(low, high)``: the band's quantiles of the response at `spend` (per day, same shape).

        Without band curves (a given curve, ``n_bootstrap=0``) both ends are the curve's response.
        """
        r = self.curve.response(cast(Any, spend))  # checks `spend` first
        if self._stack is None:
            return r, r
        points = np.asarray(spend, dtype=np.float64)
        n = self._stack.n
        responses = np.stack([self._stack.response(np.full(n, s)) for s in points.ravel()], axis=1)
        low, high = np.quantile(responses, self.band_levels, axis=0)
        if points.ndim == 0:
            return float(low[0]), float(high[0])
        return low.reshape(points.shape), high.reshape(points.shape)


# --------------------------------------------------------------------------- public functions


def fit_channel(
    spend: npt.ArrayLike,
    conversions: npt.ArrayLike,
    channel: str = "",
    options: FitOptions = FitOptions(),  # frozen: a shared default is safe
    *,
    weekend: npt.ArrayLike | None = None,
) -> ChannelFit:
    """Fit one channel's curve on its daily history (see the module docstring).

    `spend`, `conversions`: sequences of shape ``(n_days,)``, spend per day and conversions per
    day (a pandas Series names its rows by its index labels, a plain sequence by 0-based
    position); `weekend`: optional booleans of shape ``(n_days,)``, True on Saturdays and Sundays.
    """
    line = channel or None
    s = _numbers(spend, "spend", channel)
    c = _numbers(conversions, "conversions", channel)
    if len(s) != len(c):
        raise InputError(
            f"`spend` has {len(s)} days and `conversions` has {len(c)}; they must have one value "
            "per day each",
            line=line,
        )
    if len(s) == 0:
        raise InputError("no days of history, so no curve can be fitted", line=line)
    if not np.any(c > 0):
        raise InputError(
            # a Flag: Optimize Split shows it as a locked channel's reason, in the workbook's
            # language (the error's text is the same English sentence)
            flag("no_conversions_one") if len(c) == 1 else flag("no_conversions", days=str(len(c))),
            line=line,
            column="conversions",
        )
    if not np.any(s > 0):
        raise InputError(
            f"no day of the {len(s)} has spend > 0, so no cost per conversion can be estimated",
            line=line,
            column="spend",
        )
    we = None
    if weekend is not None and options.weekend:
        we = np.asarray(weekend, dtype=bool).ravel()
        if len(we) != len(s):
            raise InputError(f"`weekend` has {len(we)} days and `spend` has {len(s)}", line=line)
        if min(int(we.sum()), int((~we).sum())) < _MIN_GROUP_DAYS:
            we = None

    spent = s[s > 0]
    cv = float(np.std(spent) / np.mean(spent))
    if len(spent) < options.min_days:
        why = flag("few_days", days=f"{len(spent)}", min_days=f"{options.min_days}")
        return _fallback(channel, s, c, options, why)
    if cv < options.min_spend_cv:
        why = flag("flat_spend", cv=f"{cv:.2f}", min_cv=f"{options.min_spend_cv:g}")
        return _fallback(channel, s, c, options, why)
    return _fit(channel, s, c, we, options)


def fit_history(
    history: pd.DataFrame,
    options: FitOptions = FitOptions(),
    conversions: str = "conversions",
) -> dict[str, ChannelFit]:
    """Fit every channel of a long frame of daily history, in order of first appearance.

    `history`: columns ``date``, ``channel``, ``spend`` and `conversions` (the name of the
    conversions column), one row per channel-day or several (summed). Errors name the channel,
    the column and the row (the frame's index label).
    """
    if not isinstance(history, pd.DataFrame):
        raise _invalid("history", "a DataFrame", type(history).__name__)
    needed = ("date", "channel", "spend", conversions)
    missing = [col for col in needed if col not in history.columns]
    if missing:
        have = ", ".join(map(str, history.columns)) or "none"
        raise InputError(f"`history` has no column `{missing[0]}` (its columns: {have})")
    if history.empty:
        raise InputError("`history` has no rows")
    for label, name in history["channel"].items():
        if _blank(name):
            raise InputError(f"row {label} is blank", column="channel")
    names = [str(name) for name in history["channel"]]
    dates = _dates(history["date"])
    if dates.isna().any():
        i = int(np.flatnonzero(dates.isna().to_numpy())[0])
        label, value = history.index[i], history["date"].iloc[i]
        if _blank(value):
            raise InputError(f"row {label} is blank", line=names[i], column="date")
        raise InputError(f"in row {label} is not a date", line=names[i], column="date", value=value)
    frame = pd.DataFrame({"date": dates.dt.normalize(), "channel": names}, index=history.index)
    for column in ("spend", conversions):
        values = np.empty(len(frame))
        for name, rows in frame.groupby("channel", sort=False).indices.items():
            values[rows] = _numbers(history[column].iloc[rows], column, str(name))
        frame[column] = values
    daily = frame.groupby(["channel", "date"], sort=False)[["spend", conversions]].sum()
    fits: dict[str, ChannelFit] = {}
    for name in dict.fromkeys(names):
        days = daily.loc[name].sort_index()
        weekend = pd.DatetimeIndex(days.index).day_of_week >= 5
        fits[name] = fit_channel(
            days["spend"].to_numpy(), days[conversions].to_numpy(), name, options, weekend=weekend
        )
    return fits


def given_curves(table: pd.DataFrame) -> dict[str, ChannelFit]:
    """Curves given directly (e.g. from a marketing-mix model), confidence ``"given"``.

    `table`: one row per channel, columns ``channel``, ``form`` (``hill``, ``saturating``,
    ``power``, ``negexp``, ``linear``) and the parameter columns of the forms used (``vmax``, ``k``,
    ``slope``, ``a``, ``b``, ``cpa``, ``capacity``, in any case; blank where a form has no such
    parameter), optionally ``max_spend`` (spend per day beyond which the curve is flat; blank:
    none). Other columns are ignored. A given curve has no band (`ChannelFit.band` returns its
    response at both ends) and a flag saying so.
    """
    if not isinstance(table, pd.DataFrame):
        raise _invalid("table", "a DataFrame", type(table).__name__)
    for col in ("channel", "form"):
        if col not in table.columns:
            have = ", ".join(map(str, table.columns)) or "none"
            raise InputError(f"the curves table has no column `{col}` (its columns: {have})")
    params = {str(col).strip().lower(): col for col in table.columns}
    params = {name: params[name] for name in _PARAMETERS if name in params}
    fits: dict[str, ChannelFit] = {}
    for label, row in table.iterrows():
        if _blank(row["channel"]):
            raise InputError(f"row {label} is blank", column="channel")
        name = str(row["channel"])
        if name in fits:
            raise InputError("appears twice in the curves table", line=name, column="channel")
        form = row["form"]
        if _blank(form):
            raise InputError(f"row {label} is blank", line=name, column="form")
        values = {
            key: _number(row[col], str(col), name, label)
            for key, col in params.items()
            if not _blank(row[col])
        }
        cap = math.inf
        if "max_spend" in table.columns and not _blank(row["max_spend"]):
            cap = _number(row["max_spend"], "max_spend", name, label)
        try:
            curve = curve_from_params(str(form).strip().lower(), values, max_spend=cap)
        except InputError as err:
            raise InputError(str(err), line=name) from None
        flags = [flag("given", form=curve.form)]
        if math.isfinite(cap):
            flags.append(flag("flat_beyond", cap=flag_number(cap)))
        fits[name] = ChannelFit(name, curve, "given", tuple(flags), (), 0, math.nan)
    return fits


# --------------------------------------------------------------------------- input checks


def _dates(column: pd.Series) -> pd.Series:
    """`column` as timestamps, NaT where a value is blank or not a date (numbers are not)."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return pd.Series(pd.to_datetime(column), index=column.index)
    if pd.api.types.is_numeric_dtype(column):
        return pd.Series(pd.NaT, index=column.index)
    return pd.Series(pd.to_datetime(column, errors="coerce", format="mixed"), index=column.index)


def _blank(value: Any) -> bool:
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _numbers(values: Any, column: str, channel: str) -> Floats:
    """`values` as floats >= 0, or an InputError naming the channel, column, row and value."""
    line = channel or None
    if isinstance(values, str | bytes) or np.ndim(values) != 1:
        raise InputError("must be a sequence of daily values", line=line, column=column)
    series = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values, object))
    raw = series.to_numpy()
    if raw.dtype.kind in "iuf":
        out = raw.astype(np.float64)
        if np.all(np.isfinite(out) & (out >= 0)):
            return out
    return np.array([_number(v, column, line, label) for label, v in series.items()], float)


def _number(v: Any, column: str, line: str | None, label: Any) -> float:
    """One value as a float >= 0; `label` names its row in the error."""
    if _blank(v):
        raise InputError(f"row {label} is blank", line=line, column=column)
    x = math.nan
    if isinstance(v, str):
        with contextlib.suppress(ValueError):
            x = float(v.strip().replace(" ", ""))
    elif _is_number(v):
        x = float(v)
        v = int(v) if isinstance(v, int | np.integer) else x  # shown as given, not np.float64
    where = f"in row {label}"
    if math.isnan(x):
        raise InputError(f"{where} is not a number", line=line, column=column, value=v)
    if not math.isfinite(x):
        raise InputError(f"{where} is not a finite number", line=line, column=column, value=v)
    if x < 0:
        raise InputError(f"{where} is negative", line=line, column=column, value=v)
    return x


def flag_number(x: float) -> str:
    """A spend or a capacity for a flag: ``126,000``, ``1,234`` or ``12.5`` (never ``1.23e+03``,
    which ``.3g`` alone writes from 1,000 up)."""
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}" if abs(x) >= 0.0005 else "0"


def _cap_flag(cap: float, options: FitOptions, observed: float) -> str:
    return flag(
        "cap",
        cap=flag_number(cap),
        times=f"{options.extrapolation:g}",
        observed=flag_number(observed),
    )


# --------------------------------------------------------------------------- bootstrap


def _resample(n_days: int, options: FitOptions) -> Floats:
    """Bootstrap weights of shape ``(n_bootstrap, n_days)``: how often each day is drawn."""
    rng = np.random.default_rng(options.seed)
    counts = rng.multinomial(n_days, np.full(n_days, 1 / n_days), size=options.n_bootstrap)
    return np.asarray(counts, dtype=np.float64)


# --------------------------------------------------------------------------- fit and fallback


def _fit(
    channel: str, s: Floats, c: Floats, we_mask: npt.NDArray[np.bool_] | None, options: FitOptions
) -> ChannelFit:
    s_scale, c_scale = float(np.median(s[s > 0])), float(np.mean(c))
    x, y = s / s_scale, c / c_scale
    we = None if we_mask is None else we_mask.astype(np.float64)
    n = len(x)
    fits: dict[str, tuple[Floats, float]] = {}
    criterion: dict[str, float] = {}
    for form in options.forms:
        theta, rss = point_fit(form, x, y, we)
        criterion[form] = aicc(rss, n, len(theta))
        fits[form] = (theta, rss)
    best = min(criterion, key=criterion.__getitem__)
    if not math.isfinite(criterion[best]):
        return _fallback(channel, s, c, options, flag("no_fit"))
    observed = float(np.max(s))
    cap = options.extrapolation * observed
    weekend = we is not None

    def scaled(form: str, theta: Floats) -> Curve:
        return account_curve(form, theta, s_scale, c_scale, weekend, cap)

    flags = [_cap_flag(cap, options, observed)]
    forms = [f for f in options.forms if math.isfinite(criterion[f])]
    weights = akaike_weights([criterion[f] for f in forms])
    forms = [f for f, w in zip(forms, weights, strict=True) if w >= _MIN_WEIGHT]
    if not options.average or len(forms) == 1:
        theta = fits[best][0]
        if weekend:
            criterion["weekend_factor"] = math.exp(theta[-1])
        band: tuple[Curve, ...] = ()
        if options.n_bootstrap:
            thetas, _ = batched_lm(best, theta, x, y, we, _resample(n, options))
            band = tuple(scaled(best, t) for t in thetas)
        curve = scaled(best, theta)
        return ChannelFit(
            channel, curve, "high", tuple(flags), band, n, observed, criterion, options.band
        )
    weights = akaike_weights([criterion[f] for f in forms])
    if weekend:
        factors = [math.exp(fits[f][0][-1]) for f in forms]
        criterion["weekend_factor"] = float(np.dot(weights, factors))
    curve = Averaged(tuple(scaled(f, fits[f][0]) for f in forms), tuple(weights.tolist()), cap)
    shares = sorted(zip(weights, forms, strict=True), reverse=True)
    parts = [flag("share", share=f"{w:.0%}", form=f) for w, f in shares if w >= 0.005]
    flags.insert(0, flag("curve", shares=", ".join(parts)))
    band = ()
    if options.n_bootstrap:
        starts = {f: fits[f][0] for f in forms}
        refits, w_b = bootstrap_average(starts, x, y, we, _resample(n, options))
        band = tuple(
            Averaged(tuple(scaled(f, refits[f][b]) for f in forms), tuple(w_b[b].tolist()), cap)
            for b in range(options.n_bootstrap)
        )
    return ChannelFit(
        channel, curve, "high", tuple(flags), band, n, observed, criterion, options.band
    )


def _fallback(channel: str, s: Floats, c: Floats, options: FitOptions, why: str) -> ChannelFit:
    """Constant CPA (summed spend / summed conversions) with a capacity at the extrapolation cap."""
    observed = float(np.max(s))
    cap = options.extrapolation * observed
    cpa = float(s.sum() / c.sum())
    curve = Linear(cpa, cap / cpa, cap)
    band: list[Curve] = []
    if options.n_bootstrap:
        w = _resample(len(s), options)
        spend_b, conv_b = w @ s, w @ c
        ok = (conv_b > 0) & (spend_b > 0)
        band = [Linear(cpa_b, cap / cpa_b, cap) for cpa_b in spend_b[ok] / conv_b[ok]]
    flags = (
        flag("low_constant", why=why, cpa=flag_number(cpa), capacity=flag_number(curve.capacity)),
        _cap_flag(cap, options, observed),
    )
    return ChannelFit(channel, curve, "low", flags, tuple(band), len(s), observed, {}, options.band)
