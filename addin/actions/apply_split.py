"""Apply Split: copy the Optimize Split proposal into the Plan's `spend p` cells.

What it replaced is kept on the hidden Split Undo sheet, for Undo Split.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from addin.actions.base import Action, ActionContext
from planning.errors import InputError
from sheets_sync.workbooks.interface import WorkbookTarget
from workbook_templates import layout as L
from workbook_templates.cells import to_number
from workbook_templates.optimize_split_sheet import read_split_sheet
from workbook_templates.plan_sheet import read_plan
from workbook_templates.settings_sheet import read_funnel
from workbook_templates.split_undo_sheet import (
    UndoRecord,
    a1,
    undo_rows_to_replace,
    write_undo,
)


@dataclass
class ApplyResult:
    """What Apply Split wrote: the cells (with what they held) and per channel the Plan's
    `spend p` before and after."""

    cells: list[UndoRecord]
    channels: dict[str, tuple[float, float]]


def distribute(total: float, weights: Sequence[float]) -> list[float]:
    """Split `total` over lines in proportion to `weights` (equally if they sum to 0), in whole
    units when `total` is whole, else in cents; the parts sum to `total` exactly (largest
    remainders get the units left over, ties to the first line)."""
    whole = float(total).is_integer()
    unit = 1.0 if whole else 0.01
    units = round(total / unit)
    w = np.array([max(float(x), 0.0) if math.isfinite(x) else 0.0 for x in weights])
    if w.sum() <= 0:
        w = np.ones(len(w))
    raw = units * w / w.sum()
    base = np.floor(raw + 1e-9).astype(np.int64)
    rest = int(units - base.sum())
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:rest]] += 1
    return [float(b) if whole else round(b * unit, 2) for b in base]


def same_value(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-9)
    return bool(a == b)


def apply_split(wb: WorkbookTarget) -> ApplyResult:
    """Copy the Optimize Split sheet's `proposed` column into the Plan's `spend p` cells.

    A channel's proposal is split over its lines in proportion to their current `spend p`
    (equally if all are 0 or blank); a channel whose proposal equals its current total is left
    as it is. Only changed `spend p` cells are written; what they held is recorded on the
    hidden Split Undo sheet (replacing the previous record) for `undo_split`.
    """
    if L.SPLIT not in wb.sheet_names():
        raise InputError(f"no sheet `{L.SPLIT}`: run Optimize Split first")
    sheet = read_split_sheet(wb)
    funnel = read_funnel(wb)
    table, plan = read_plan(wb, funnel)
    header = L.abs_header("spend", "p")
    col = table.column(header)
    raw = [r[0] for r in wb.read_cells(L.PLAN, table.first_row, col, len(plan), 1)]
    names = [str(c).strip() if c is not None else "" for c in plan["channel"]]
    records: list[UndoRecord] = []
    changes: dict[str, tuple[float, float]] = {}
    for channel in sheet.rows:
        where = sheet.ref(channel, L.SPLIT_PROPOSED)
        value = sheet.rows[channel].get(L.SPLIT_PROPOSED)
        proposed = to_number(value, where, L.SPLIT_PROPOSED)
        if math.isnan(proposed):
            raise InputError(
                "is blank: run Optimize Split first", line=where, column=L.SPLIT_PROPOSED
            )
        if proposed < 0:
            raise InputError(
                "must not be negative", line=where, column=L.SPLIT_PROPOSED, value=value
            )
        lines = [i for i, n in enumerate(names) if n == channel]
        if not lines:
            raise InputError(
                f"is not a channel of sheet `{L.PLAN}`; run Optimize Split again",
                line=where,
                column=L.SPLIT_CHANNEL,
                value=channel,
            )
        now = [float(plan[header].iloc[i]) for i in lines]
        total = float(np.nansum(now))
        if math.isclose(total, proposed, rel_tol=0, abs_tol=0.005):
            continue
        parts = distribute(proposed, [0.0 if math.isnan(x) else x for x in now])
        for i, new in zip(lines, parts, strict=True):
            old = raw[i]
            new_cell: Any = int(new) if float(new).is_integer() else new
            if (old is None and new == 0) or (not isinstance(old, str) and same_value(old, new)):
                continue
            row = table.first_row + i
            records.append(UndoRecord(a1(L.PLAN, row, col), L.PLAN, row, col, old, new_cell))
        changes[channel] = (total, proposed)
    if not records:
        wb.notify("Apply Split: the Plan already holds the proposal; nothing changed")
        return ApplyResult([], changes)
    old_rows = undo_rows_to_replace(wb)
    for r in records:
        wb.write_block(r.sheet, r.row, r.col, [[r.new]])
    write_undo(wb, records, old_rows)
    wb.save()
    wb.notify(
        f"Apply Split: {len(records)} `{header}` cells of {len(changes)} channels changed; "
        "Undo Split restores them"
    )
    return ApplyResult(records, changes)


def run_button(ctx: ActionContext) -> str:
    """The Apply Split button."""
    result = apply_split(ctx.workbook)
    if not result.cells:
        return "Apply Split: the Plan already holds the proposal; nothing changed."
    return (
        f"Apply Split: {len(result.cells)} budget cells of {len(result.channels)} channels "
        "changed; Undo restores them."
    )


ACTION = Action(
    "apply_split",
    "Apply Split",
    "Copy the proposed split into the Plan's budget cells (Undo restores them).",
    run_button,
    group="Budget Split",
    icon="AcceptInvitation",
    tip="Write the proposed split into the plan's budgets (the old values are kept for Undo).",
)
