"""FUNNEL_PLAN and BUDGET_FOR: bottom-up and top-down funnel plans."""

from __future__ import annotations

import math
from typing import Any

from addin.sheet_function import (
    DIV0,
    NUM,
    Cells,
    note,
    required_number,
    rowwise,
)
from planning.errors import InputError
from planning.funnel import DEFAULT_FUNNEL, Funnel, Stage, bottom_up, top_down


def _crs(crs: Cells) -> tuple[Funnel, dict[str, float]]:
    """The funnel of ``len(crs) + 1`` stages (the default funnel for 5 CRs) and its CRs."""
    for i, value in enumerate(crs):
        required_number(value, f"row {i + 1} of `crs`")
    if len(crs) + 1 == len(DEFAULT_FUNNEL.stages):
        funnel = DEFAULT_FUNNEL
    else:
        funnel = Funnel(tuple(Stage(f"stage{i + 1}") for i in range(len(crs) + 1)))
    return funnel, dict(zip(funnel.names[1:], (float(v) for v in crs), strict=True))


def funnel_plan(budget: float, cpc: float, crs: Cells) -> list[list[Any]]:
    """Bottom-up plan: one row per stage, [count, cost per unit] (CPC first, then the CPAs)."""
    funnel, rates = _crs(crs)
    plan = bottom_up(budget, cpc, rates, funnel)
    rows: list[list[Any]] = []
    for i, name in enumerate(funnel.names):
        cost = plan.ratios["cpc"] if i == 0 else plan.ratios[f"cpa_{name}"]
        rows.append([plan.counts[name], cost if math.isfinite(cost) else DIV0])
    return rows


def budget_for(target: Cells, crs: Cells, cpc: Cells) -> Any:
    """Top-down: the budget that reaches `target` units of the last stage."""
    funnel, rates = _crs(crs)

    def one(t: float, c: float) -> float | str:
        if t > 0 and any(r == 0 for r in rates.values()):
            note("a CR is 0: no budget reaches a positive target")
            return DIV0
        try:
            return top_down(t, rates, c, funnel).counts["spend"]
        except InputError as error:
            note(str(error))
            return NUM

    return rowwise(one, target, cpc)
