"""The acquisition funnel: stages, the ratios derived from counts, bottom-up and top-down plans.

One definition, used everywhere (see DESIGN.md, "The numbers"):

- ``CR_i = n_i / n_source(i)``, where the source is the stage the CR is measured from
  (the previous stage unless the stage names another, earlier one);
- ``CPA_i = spend / n_i`` for every stage but the first; ``CPC = spend / n_first``;
- ``ROAS = revenue / spend``; ``ROMI = (revenue - spend) / spend``.

Ratios are always recomputed from (summed) absolutes, never averaged, and a zero or NaN
denominator gives ``nan`` (the spreadsheet edge shows ``#DIV/0!``), never 0 and never an exception.
Counts are in units of the stage (clicks, leads, ...); spend, revenue, CPC and CPAs are in the
account currency.
"""

from __future__ import annotations

import math
import re
import reprlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from planning.errors import InputError

__all__ = [
    "ABSOLUTE_EXTRAS",
    "DEFAULT_FUNNEL",
    "Funnel",
    "FunnelPlan",
    "Stage",
    "bottom_up",
    "derive",
    "rollup",
    "top_down",
]

ABSOLUTE_EXTRAS: tuple[str, str] = ("spend", "revenue")
"""Absolute metrics that are not funnel stages."""

_NAME = re.compile(r"[a-z][a-z0-9_]*")

Ratio = float | npt.NDArray[np.float64]
"""A derived metric: a float for scalar inputs, an array of the broadcast shape otherwise."""


# --------------------------------------------------------------------------- stages and funnels


@dataclass(frozen=True)
class Stage:
    """One funnel stage.

    `name` is the lowercase key used in tables and formulas (``[a-z][a-z0-9_]*``, not ``spend`` or
    ``revenue``); `label` the display label (empty: ``name.capitalize()``, see `title`); `cr_from`
    the stage whose count is this stage's CR denominator (``None``: the previous stage).
    """

    name: str
    label: str = ""
    cr_from: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise InputError(
                f"stage name {self.name!r} is invalid: use lowercase letters, digits and `_`, "
                "starting with a letter",
                value=self.name,
                has_value=False,
            )
        if self.name in ABSOLUTE_EXTRAS:
            raise InputError(
                f"stage name {self.name!r} is reserved: `spend` and `revenue` are metrics, "
                "not stages",
                value=self.name,
                has_value=False,
            )
        if not isinstance(self.label, str):
            raise InputError(
                f"the label of stage `{self.name}` must be text, got {self.label!r}",
                value=self.label,
                has_value=False,
            )
        if self.cr_from is not None and not isinstance(self.cr_from, str):
            raise InputError(
                f"`cr_from` of stage `{self.name}` must be a stage name, got {self.cr_from!r}",
                value=self.cr_from,
                has_value=False,
            )

    @property
    def title(self) -> str:
        """The display label: `label`, or the capitalised name when no label is given."""
        return self.label or self.name.capitalize()


@dataclass(frozen=True)
class Funnel:
    """An ordered chain of stages; each stage's CR is measured from an earlier stage.

    The first stage is the one bought (its cost is the CPC); every later stage has a CR and a CPA.
    """

    stages: tuple[Stage, ...]

    def __post_init__(self) -> None:
        stages = tuple(self.stages)
        object.__setattr__(self, "stages", stages)
        if not stages:
            raise InputError("a funnel needs at least one stage")
        seen: set[str] = set()
        for i, stage in enumerate(stages):
            if not isinstance(stage, Stage):
                raise InputError(
                    f"stage {i + 1} of the funnel must be a `Stage`, got {stage!r}",
                    value=stage,
                    has_value=False,
                )
            if stage.name in seen:
                raise InputError(
                    f"stage `{stage.name}` appears twice; stage names must be unique",
                    value=stage.name,
                    has_value=False,
                )
            if stage.cr_from is not None:
                if i == 0:
                    raise InputError(
                        f"the first stage `{stage.name}` has no CR, so it cannot have "
                        f"`cr_from` (got {stage.cr_from!r})",
                        value=stage.cr_from,
                        has_value=False,
                    )
                if stage.cr_from not in seen:
                    earlier = ", ".join(s.name for s in stages[:i])
                    raise InputError(
                        f"stage `{stage.name}` has `cr_from` {stage.cr_from!r}, which is not "
                        f"an earlier stage; the earlier stages are: {earlier}",
                        value=stage.cr_from,
                        has_value=False,
                    )
            seen.add(stage.name)
        ratios = set(self.ratio_names())
        for stage in stages:
            if stage.name in ratios:
                raise InputError(
                    f"stage name `{stage.name}` clashes with the derived metric `{stage.name}`",
                    value=stage.name,
                    has_value=False,
                )

    @classmethod
    def default(cls) -> Funnel:
        """traffic → leads → calls → PP → negotiations → purchases, each CR from the previous."""
        return cls(
            (
                Stage("traffic", "Traffic"),
                Stage("leads", "Leads"),
                Stage("calls", "Calls"),
                Stage("pp", "PP"),
                Stage("negotiations", "Negotiations"),
                Stage("purchases", "Purchases"),
            )
        )

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, str | None]]) -> Funnel:
        """A funnel from ``(name, label, cr_from)`` rows, e.g. a settings table.

        Surrounding spaces are stripped; an empty or ``None`` `cr_from` means the previous stage.
        """
        stages = []
        for name, label, cr_from in rows:
            name = name.strip() if isinstance(name, str) else name
            label = label.strip() if isinstance(label, str) else ("" if label is None else label)
            source = cr_from.strip() if isinstance(cr_from, str) else cr_from
            stages.append(Stage(name, label, source or None))
        return cls(tuple(stages))

    @property
    def names(self) -> tuple[str, ...]:
        """Stage names in funnel order."""
        return tuple(s.name for s in self.stages)

    @property
    def first(self) -> str:
        """The first stage's name (the stage that is bought; its cost is the CPC)."""
        return self.stages[0].name

    @property
    def metrics(self) -> tuple[str, ...]:
        """Every absolute metric: ``("spend", *names, "revenue")``."""
        return (ABSOLUTE_EXTRAS[0], *self.names, ABSOLUTE_EXTRAS[1])

    def _position(self, name: str) -> int:
        names = self.names
        if not isinstance(name, str) or name not in names:
            raise InputError(
                f"unknown stage `{name}`; the stages are: {', '.join(names)}",
                value=name,
                has_value=False,
            )
        return names.index(name)

    def stage(self, name: str) -> Stage:
        """The stage called `name`; an unknown name is an `InputError` listing the stages."""
        return self.stages[self._position(name)]

    def source_of(self, name: str) -> str | None:
        """The stage whose count is `name`'s CR denominator; ``None`` for the first stage."""
        i = self._position(name)
        stage = self.stages[i]
        if i == 0:
            return None
        return stage.cr_from if stage.cr_from is not None else self.stages[i - 1].name

    def path(self, name: str) -> tuple[str, ...]:
        """Stages from the first to `name` following `source_of`, e.g. ``("traffic", "leads")``."""
        chain = [name]
        source = self.source_of(name)
        while source is not None:
            chain.append(source)
            source = self.source_of(source)
        return tuple(reversed(chain))

    def ratio_names(self) -> tuple[str, ...]:
        """Derived metric keys in display order.

        ``"cpc"``, then ``"cr_<s>"`` and ``"cpa_<s>"`` for each stage after the first,
        then ``"roas"`` and ``"romi"``.
        """
        names = ["cpc"]
        for stage in self.stages[1:]:
            names += [f"cr_{stage.name}", f"cpa_{stage.name}"]
        return (*names, "roas", "romi")


DEFAULT_FUNNEL = Funnel.default()


# --------------------------------------------------------------------------- derived metrics


def _as_floats(metric: str, value: Any) -> npt.NDArray[np.float64]:
    """`value` (a number or an array-like of numbers) as a float array."""
    error = InputError(
        f"`{metric}` must be a number or an array of numbers, got {reprlib.repr(value)}",
        value=value,
        has_value=False,
    )
    if isinstance(value, bool | np.bool_ | str | bytes):
        raise error
    try:
        array = np.asarray(value)
        if array.dtype.kind == "O":  # e.g. a nullable pandas column: numbers and missing values
            if any(isinstance(v, bool | np.bool_ | str | bytes) for v in array.flat):
                raise error
            array = np.asarray(pd.to_numeric(array.ravel()), dtype=np.float64).reshape(array.shape)
        if array.dtype.kind not in "iuf":
            raise error
        return array.astype(np.float64)
    except (TypeError, ValueError):
        raise error from None


def _ratio(num: npt.NDArray[np.float64], den: npt.NDArray[np.float64]) -> Ratio:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.where(den == 0, np.nan, np.divide(num, den))
    return float(out) if out.ndim == 0 else out


def derive(absolutes: Mapping[str, Any], funnel: Funnel = DEFAULT_FUNNEL) -> dict[str, Ratio]:
    """Every derived metric of `funnel` from absolute metrics.

    `absolutes` maps metric names (``funnel.metrics``: spend, stage counts, revenue) to scalars or
    arrays of any mutually broadcastable shapes; other keys are ignored. Returns a dict keyed in
    ``funnel.ratio_names()`` order: CPC, CR and CPA per stage, ROAS, ROMI. A ratio is a float when
    both of its inputs are scalars, else an array of their broadcast shape. A ratio whose inputs
    are missing from `absolutes` is omitted. Zero or NaN denominators give ``nan``, silently.
    Units: CR and ROAS/ROMI are fractions (0.05 = 5 %); CPC/CPA in spend's currency per unit.
    """
    values = {m: _as_floats(m, absolutes[m]) for m in funnel.metrics if m in absolutes}
    try:
        np.broadcast_shapes(*(v.shape for v in values.values()))
    except ValueError:
        shapes = ", ".join(f"`{m}` {v.shape}" for m, v in values.items())
        raise InputError(f"the metrics' shapes do not broadcast together: {shapes}") from None

    out: dict[str, Ratio] = {}
    spend = values.get("spend")
    revenue = values.get("revenue")
    first = values.get(funnel.first)
    if spend is not None and first is not None:
        out["cpc"] = _ratio(spend, first)
    for stage in funnel.stages[1:]:
        count = values.get(stage.name)
        if count is None:
            continue
        source = funnel.source_of(stage.name)
        assert source is not None
        if source in values:
            out[f"cr_{stage.name}"] = _ratio(count, values[source])
        if spend is not None:
            out[f"cpa_{stage.name}"] = _ratio(spend, count)
    if spend is not None and revenue is not None:
        out["roas"] = _ratio(revenue, spend)
        with np.errstate(invalid="ignore", over="ignore"):
            profit = np.subtract(revenue, spend)
        out["romi"] = _ratio(profit, spend)
    return out


# --------------------------------------------------------------------------- plans


@dataclass(frozen=True)
class FunnelPlan:
    """A planned funnel.

    `counts`: spend (currency), the count of every stage, revenue (currency; ``nan`` when no value
    per conversion was given), keyed in ``funnel.metrics`` order. `ratios`: ``derive(counts)``.
    """

    counts: dict[str, float]
    ratios: dict[str, float]

    def as_row(self) -> dict[str, float]:
        """Counts then ratios, one flat row (e.g. for a Plan-sheet line)."""
        return self.counts | self.ratios


def _number(name: str, value: Any, *, positive: bool = False) -> float:
    """`value` as a finite float >= 0 (> 0 when `positive`), else an InputError naming `name`."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, Real):
        raise InputError(f"{name} must be a number, got {value!r}", value=value, has_value=False)
    x = float(value)
    shown = repr(value) if type(value) in (int, float) else repr(x)
    problem = None
    if not math.isfinite(x):
        problem = "must be finite"
    elif positive and x <= 0:
        problem = "must be > 0"
    elif x < 0:
        problem = "must be >= 0"
    if problem:
        raise InputError(f"{name} {problem}, got {shown}", value=value, has_value=False)
    return x


def _check_crs(crs: Mapping[str, Any], funnel: Funnel) -> dict[str, float]:
    """The CR of every stage after the first, validated (finite, >= 0; may exceed 1)."""
    for key in crs:
        funnel.stage(key)
        if key == funnel.first:
            raise InputError(
                f"the first stage `{key}` has no CR (its count is budget / cpc); "
                "leave it out of `crs`",
                value=key,
                has_value=False,
            )
    missing = [s for s in funnel.names[1:] if s not in crs]
    if missing:
        named = ", ".join(f"`{s}`" for s in missing)
        raise InputError(f"`crs` is missing the CR of {named}", value=missing, has_value=False)
    return {s: _number(f"CR of `{s}`", crs[s]) for s in funnel.names[1:]}


def _plan(
    budget: float, cpc: float, crs: dict[str, float], funnel: Funnel, vpc: float | None
) -> FunnelPlan:
    counts: dict[str, float] = {"spend": budget, funnel.first: budget / cpc}
    for name in funnel.names[1:]:
        source = funnel.source_of(name)
        assert source is not None
        counts[name] = counts[source] * crs[name]
    counts["revenue"] = math.nan if vpc is None else counts[funnel.names[-1]] * vpc
    ratios = {k: float(v) for k, v in derive(counts, funnel).items()}
    return FunnelPlan(counts, ratios)


def bottom_up(
    budget: float,
    cpc: float,
    crs: Mapping[str, float],
    funnel: Funnel = DEFAULT_FUNNEL,
    value_per_conversion: float | None = None,
) -> FunnelPlan:
    """Planned counts and ratios from a budget, a CPC and the CR of every stage after the first.

    `budget` (currency, >= 0), `cpc` (currency per first-stage unit, > 0), `crs` (stage name →
    CR as a fraction, >= 0; above 1 is allowed, e.g. several calls per lead). The first stage is
    ``budget / cpc``, each later stage ``count(source) * CR``; revenue is the last stage times
    `value_per_conversion` (currency, >= 0), or ``nan`` without it.
    """
    budget_ = _number("`budget`", budget)
    cpc_ = _number("`cpc`", cpc, positive=True)
    crs_ = _check_crs(crs, funnel)
    vpc = None
    if value_per_conversion is not None:
        vpc = _number("`value_per_conversion`", value_per_conversion)
    return _plan(budget_, cpc_, crs_, funnel, vpc)


def top_down(
    target: float,
    crs: Mapping[str, float],
    cpc: float,
    funnel: Funnel = DEFAULT_FUNNEL,
    stage: str | None = None,
    value_per_conversion: float | None = None,
) -> FunnelPlan:
    """The plan (traffic, budget, every count) that reaches `target` units of `stage`.

    `stage` defaults to the last stage. The first-stage count needed is `target` divided by the
    product of the CRs along ``funnel.path(stage)``; the budget is that times `cpc`; the other
    counts follow as in `bottom_up` (stages off the path included). A zero CR on the path makes
    any positive target unreachable (an `InputError`); a target of 0 gives a zero plan.
    """
    target_ = _number("`target`", target)
    cpc_ = _number("`cpc`", cpc, positive=True)
    crs_ = _check_crs(crs, funnel)
    stage_ = funnel.names[-1] if stage is None else funnel.stage(stage).name
    vpc = None
    if value_per_conversion is not None:
        vpc = _number("`value_per_conversion`", value_per_conversion)
    path = funnel.path(stage_)
    product = 1.0
    for name in path[1:]:
        if crs_[name] == 0 and target_ > 0:
            raise InputError(
                f"target is unreachable: CR of `{name}` is 0", value=name, has_value=False
            )
        product *= crs_[name]
    if target_ == 0:
        return _plan(0.0, cpc_, crs_, funnel, vpc)
    budget = target_ / product * cpc_ if 0 < product < math.inf else math.inf
    if not math.isfinite(budget):
        raise InputError(
            f"target is unreachable: {target_!r} `{stage_}` needs a budget beyond floating-point "
            f"range (the CRs along its path multiply to {product!r})",
            value=target,
            has_value=False,
        )
    return _plan(budget, cpc_, crs_, funnel, vpc)


# --------------------------------------------------------------------------- roll-ups


def _row_label(label: Any) -> str | int:
    if isinstance(label, bool | np.bool_):
        return str(label)
    if isinstance(label, int | np.integer):
        return int(label)
    return label if isinstance(label, str) else str(label)


def _numeric_column(frame: pd.DataFrame, column: str) -> npt.NDArray[np.float64]:
    """`frame[column]` as floats (missing → nan); a non-number is an InputError naming the row."""
    series = frame[column]
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    converted = pd.to_numeric(series, errors="coerce")
    bad = (converted.isna() & series.notna()).to_numpy() | np.fromiter(
        (isinstance(v, bool | np.bool_) for v in series), dtype=bool, count=len(series)
    )
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        value = series.iloc[pos]
        raise InputError(
            "is not a number",
            line=_row_label(frame.index[pos]),
            column=column,
            value=value.item() if isinstance(value, np.generic) else value,
        )
    return converted.to_numpy(dtype=np.float64, na_value=np.nan)


def rollup(frame: pd.DataFrame, by: Sequence[str], funnel: Funnel = DEFAULT_FUNNEL) -> pd.DataFrame:
    """Sum the absolutes per group of `by` and recompute every ratio from the sums.

    `frame` has the `by` columns and any of ``funnel.metrics`` (other columns are dropped).
    Groups keep their order of first appearance, NaN keys form their own group; a group whose
    values of a metric are all missing gets NaN, not 0. ``by=[]`` gives a one-row total.
    Returns a frame with columns ``[*by, *metrics present, *ratios derivable from them]`` and a
    fresh RangeIndex. CPAs and CRs are never averaged: ``cpa = sum(spend) / sum(count)``.
    """
    keys = [by] if isinstance(by, str) else list(by)
    for key in keys:
        if key not in frame.columns:
            raise InputError(
                f"`by` names column `{key}`, which is not in the frame; the columns are: "
                f"{', '.join(map(str, frame.columns))}",
                value=key,
                has_value=False,
            )
        if key in funnel.metrics:
            raise InputError(f"`by` cannot group by the metric `{key}`", value=key, has_value=False)
    metrics = [m for m in funnel.metrics if m in frame.columns]
    for name in (*keys, *metrics):
        if int((frame.columns == name).sum()) > 1:
            raise InputError(f"column `{name}` appears more than once", value=name, has_value=False)

    data = frame[keys].copy()
    for m in metrics:
        data[m] = _numeric_column(frame, m)
    if keys:
        sums = data.groupby(keys, sort=False, dropna=False)[metrics].sum(min_count=1).reset_index()
    else:
        total = data.sum(min_count=1)
        sums = pd.DataFrame([[float(total[m]) for m in metrics]], columns=metrics)
    ratios = derive({m: sums[m].to_numpy(dtype=np.float64) for m in metrics}, funnel)
    for name, values in ratios.items():
        sums[name] = values
    return sums[[*keys, *metrics, *ratios]]
