"""Variance explained for many lines at once: LMDI-I over numpy arrays (channel-months).

`decompose_arrays` gives, for every row, the same parts as `planning.variance.decompose` on the
full chain (spend, CPC, each CR on the path, revenue per unit): ``effects[:, k] =
L(Y_f, Y_p) × ln(x_k,f / x_k,p)``, the logs of the factors taken as differences of the logs of
the nodes' growth, so the row's effects add up to its gap.

The decision on zeros and blanks here: a row with a node that is not positive and finite on
either side is **not decomposed** (``done`` False): its effects are 0 and its whole gap is in
``not_comparable`` (NaN when the outcome itself is blank there). `decompose` on such a row is the
careful answer (blank stages merged, zero stages named); `done` says which rows need it. Nothing
is left as a silent NaN in `effects`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from planning.errors import InputError
from planning.funnel import DEFAULT_FUNNEL, Funnel
from planning.variance import Metric, _Chain, _factors, _nodes

__all__ = ["ArrayDecomposition", "decompose_arrays", "log_mean_arrays"]

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ArrayDecomposition:
    """Rows' decompositions: `keys`/`labels` name the columns of `effects` (n, k).

    `plan`, `fact`, `gap`, `not_comparable` (n,); `done` (n,) True where LMDI split the gap.
    For every row ``effects.sum(axis=1) + not_comparable == gap`` to float precision.
    """

    keys: tuple[str, ...]
    labels: tuple[str, ...]
    plan: Floats
    fact: Floats
    gap: Floats
    effects: Floats
    not_comparable: Floats
    done: npt.NDArray[np.bool_]


def log_mean_arrays(a: Floats, b: Floats) -> Floats:
    """`planning.variance.log_mean` elementwise (a, b > 0), with the same series near a = b."""
    with np.errstate(divide="ignore", invalid="ignore"):
        d = a / b - 1.0
        near = np.abs(d) < 1e-6
        far = b * d / np.log1p(np.where(near, 1.0, d))
        series = b * (1.0 + d / 2.0 - d * d / 12.0)
    return np.where(near, series, far)


def _column(side: str, name: str, values: Mapping[str, Any], n: int | None) -> Floats:
    if name not in values:
        raise InputError(f"the {side} arrays have no `{name}`", value=name, has_value=False)
    column = np.asarray(values[name], dtype=np.float64)
    if column.ndim != 1 or (n is not None and column.shape[0] != n):
        raise InputError(
            f"`{name}` in the {side} arrays must be one-dimensional with one value per row",
            value=name,
            has_value=False,
        )
    if np.any(column < 0) or np.any(np.isinf(column)):
        raise InputError(
            f"`{name}` in the {side} arrays must be finite and >= 0 (blank: NaN)",
            value=name,
            has_value=False,
        )
    return column


def decompose_arrays(
    plan: Mapping[str, Any],
    fact: Mapping[str, Any],
    funnel: Funnel = DEFAULT_FUNNEL,
    *,
    metric: Metric = "outcome",
    outcome: str | None = None,
) -> ArrayDecomposition:
    """LMDI-I for every row of `plan`/`fact` (metric name → one value per row, NaN blank)."""
    stage = funnel.names[-1] if outcome is None else funnel.stage(outcome).name
    nodes = _nodes(funnel, stage, metric == "revenue")
    first = _column("plan", nodes[0], plan, None)
    n = first.shape[0]
    p = np.column_stack([_column("plan", m, plan, n) for m in nodes])
    f = np.column_stack([_column("fact", m, fact, n) for m in nodes])
    done = np.all(p > 0, axis=1) & np.all(f > 0, axis=1)
    gap = f[:, -1] - p[:, -1]
    safe_p = np.where(done[:, None], p, 1.0)
    safe_f = np.where(done[:, None], f, 1.0)
    growth = np.log(safe_f / safe_p)  # ln of each node's fact/plan
    logs = np.diff(growth, axis=1, prepend=0.0)  # ln of each factor's fact/plan
    weight = log_mean_arrays(safe_f[:, -1], safe_p[:, -1])
    effects = np.where(done[:, None], weight[:, None] * logs, 0.0)
    not_comparable = np.where(done, 0.0, gap)
    unit = _Chain(nodes, (1.0,) * len(nodes), (1.0,) * len(nodes), ())
    factors = _factors(unit, funnel)
    return ArrayDecomposition(
        tuple(x.key for x in factors),
        tuple(x.label for x in factors),
        p[:, -1],
        f[:, -1],
        gap,
        effects,
        not_comparable,
        done,
    )
