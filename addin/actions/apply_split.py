"""Apply Split: copy the Optimize Split proposal into the Plan's `spend p` cells and keep each
changed line's planned counts consistent with its new spend (`planning.split_counts`).

What it replaced is kept on the hidden Split Undo sheet, for Undo Split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from addin.actions.base import Action, ActionContext
from addin.actions.texts import number, texts_of
from planning.errors import InputError
from planning.funnel import Funnel
from planning.split_counts import (
    ChannelTarget,
    PlanLines,
    SplitCounts,
    distribute,
    split_counts,
)
from sheets_sync.workbooks.interface import Table, WorkbookTarget
from workbook_templates import layout as L
from workbook_templates.cells import line_name, sheet_value, to_number
from workbook_templates.optimize_split_sheet import (
    SplitSheet,
    info_counts,
    read_split_sheet,
    write_info,
)
from workbook_templates.plan_sheet import read_plan
from workbook_templates.settings_sheet import read_funnel
from workbook_templates.split_undo_sheet import (
    UndoRecord,
    a1,
    undo_rows_to_replace,
    write_undo,
)

CONVERSION = "leads"
"""The count the curves predict (Optimize Split's conversions) and the sheet promises."""

__all__ = ["ACTION", "ApplyResult", "apply_split", "distribute", "plan_numbers", "same_value"]


@dataclass
class ApplyResult:
    """What Apply Split wrote: the cells (with what they held), per channel the Plan's
    `spend p` before and after, the Plan's total `leads p` afterwards and the lines whose
    counts could not be set (named, with why)."""

    cells: list[UndoRecord]
    channels: dict[str, tuple[float, float]]
    leads_after: float = math.nan
    kept: list[str] = field(default_factory=list)


def same_value(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-9)
    return bool(a == b)


def plan_numbers(plan: pd.DataFrame, funnel: Funnel) -> PlanLines:
    """The Plan's lines as `split_counts` takes them: channel, spend p and every count p below
    spend (the funnel's metrics in order; a column the Plan lacks is blank)."""
    blank = [math.nan] * len(plan)
    counts: dict[str, list[float]] = {}
    for m in funnel.metrics:
        header = L.abs_header(m, "p")
        if m != "spend":
            counts[m] = [float(x) for x in plan[header]] if header in plan else blank
    return PlanLines(
        channels=[str(c).strip() if c is not None else "" for c in plan["channel"]],
        spend=[float(x) for x in plan[L.abs_header("spend", "p")]],
        counts=counts,
        conversion=CONVERSION,
    )


def _is_number(raw: Any) -> bool:
    return isinstance(raw, int | float) and not isinstance(raw, bool)


def _number(raw: Any) -> float:
    return float(raw) if _is_number(raw) else math.nan


def split_targets(sheet: SplitSheet, channels: set[str]) -> list[ChannelTarget]:
    """Each channel's checked `proposed` spend and its `expected conversions` (NaN when not
    a number) from the Optimize Split sheet."""
    targets = []
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
        if channel not in channels:
            raise InputError(
                f"is not a channel of sheet `{L.PLAN}`; run Optimize Split again",
                line=where,
                column=L.SPLIT_CHANNEL,
                value=channel,
            )
        expected = _number(sheet.rows[channel].get(L.SPLIT_EXPECTED))
        targets.append(ChannelTarget(channel, proposed, expected))
    return targets


def _records(wb: WorkbookTarget, table: Table, n_lines: int, done: SplitCounts) -> list[UndoRecord]:
    """The Plan cells to write (spend p and the counts that change), each with what it holds;
    a cell that already holds its new value (a blank for 0 included) is left alone."""
    cols = {"spend": table.column(L.abs_header("spend", "p"))}
    for change in done.changes:
        for m in change.counts:
            cols.setdefault(m, table.column(L.abs_header(m, "p")))
    raw = {
        m: [r[0] for r in wb.read_cells(L.PLAN, table.first_row, c, n_lines, 1)]
        for m, c in cols.items()
    }
    out: list[UndoRecord] = []
    for change in done.changes:
        row = table.first_row + change.index
        for m, new in [("spend", change.spend), *change.counts.items()]:
            old = raw[m][change.index]
            new_cell: Any = int(new) if float(new).is_integer() else new
            if (old is None and new == 0) or (_is_number(old) and old == new):
                continue  # exactly what it holds (a blank for 0): the Plan's sums stay exact
            out.append(UndoRecord(a1(L.PLAN, row, cols[m]), L.PLAN, row, cols[m], old, new_cell))
    return out


def _moved(lines: PlanLines, targets: list[ChannelTarget]) -> dict[str, tuple[float, float]]:
    """Per channel whose proposal differs from its current total: (current, proposed)."""
    out = {}
    for t in targets:
        now = sum(
            0.0 if math.isnan(s) else s
            for s, c in zip(lines.spend, lines.channels, strict=True)
            if c == t.channel
        )
        if not math.isclose(now, t.proposed, rel_tol=0, abs_tol=0.005):
            out[t.channel] = (now, t.proposed)
    return out


def _keep_promise(wb: WorkbookTarget, sheet: SplitSheet, leads_after: float) -> None:
    """Rewrite `planned leads after Apply` when the Plan or the `counts` item changed since
    Optimize Split wrote it, so the sheet says what the Plan now shows."""
    if L.SPLIT_LEADS_AFTER not in sheet.info:
        return
    promised = sheet.info[L.SPLIT_LEADS_AFTER]
    if isinstance(promised, int | float) and same_value(promised, leads_after):
        return
    write_info(wb, sheet, {L.SPLIT_LEADS_AFTER: sheet_value(leads_after)})
    t = texts_of(wb)
    wb.notify(
        t(
            "the Plan or the `{counts}` item changed since Optimize Split: {item} is now {leads}",
            counts=t(L.SPLIT_COUNTS),
            item=t(L.SPLIT_LEADS_AFTER),
            leads=number(leads_after, t, 1),
        )
    )


def apply_split(wb: WorkbookTarget) -> ApplyResult:
    """Copy the Optimize Split sheet's `proposed` column into the Plan's `spend p` cells and
    set each changed line's planned counts as the sheet's `counts` item says: `keep ratios`
    (default: rescaled with its spend, so its planned CPA and CRs stay) or `curves` (leads =
    the curves' expected conversions, the CRs below kept). See `planning.split_counts`.

    A channel's proposal is split over its lines in proportion to their current `spend p`
    (equally if all are 0 or blank). Only changed cells are written; what they held is
    recorded on the hidden Split Undo sheet (replacing the previous record) for `undo_split`.
    A line whose counts could not be set (its spend p was blank or 0) keeps them and is named.
    """
    if L.SPLIT not in wb.sheet_names():
        raise InputError(f"no sheet `{L.SPLIT}`: run Optimize Split first")
    sheet = read_split_sheet(wb)
    funnel = read_funnel(wb)
    table, plan = read_plan(wb, funnel)
    lines = plan_numbers(plan, funnel)
    targets = split_targets(sheet, set(lines.channels))
    mode = info_counts(sheet)
    done = split_counts(lines, targets, mode)
    changes = _moved(lines, targets)
    kept = [
        f"{line_name(plan['channel'].iloc[i], plan['campaign'].iloc[i])}: {why}"
        for i, why in done.kept
    ]
    leads_after = done.totals.get(CONVERSION, math.nan)
    records = _records(wb, table, len(plan), done)
    t = texts_of(wb)
    if not records:
        wb.notify(t("Apply Split: the Plan already holds the proposal; nothing changed"))
        return ApplyResult([], changes, leads_after, kept)
    old_rows = undo_rows_to_replace(wb)
    for r in records:
        wb.write_block(r.sheet, r.row, r.col, [[r.new]])
    write_undo(wb, records, old_rows)
    _keep_promise(wb, sheet, leads_after)
    wb.save()
    wb.notify(
        t(
            "Apply Split: {cells} Plan cells of {channels} channels changed (spend p and the "
            "counts: {mode}); planned leads {leads}; Undo Split restores them",
            cells=len(records),
            channels=len(changes),
            mode=mode,
            leads=number(leads_after, t, 1),
        )
    )
    if kept:
        wb.notify(t("counts left as they were: {lines}", lines="; ".join(kept)))
    return ApplyResult(records, changes, leads_after, kept)


def run_button(ctx: ActionContext) -> str:
    """The Apply Split button."""
    result = apply_split(ctx.workbook)
    t = texts_of(ctx.workbook)
    if not result.cells:
        return t("Apply Split: the Plan already holds the proposal; nothing changed.")
    kept = ""
    if result.kept:
        kept = " " + t("Counts left as they were: {lines}.", lines="; ".join(result.kept))
    said = t(
        "Apply Split: {cells} budget and count cells of {channels} channels changed; planned "
        "leads now {leads}; Undo restores them.",
        cells=len(result.cells),
        channels=len(result.channels),
        leads=number(result.leads_after, t),
    )
    return said + kept


ACTION = Action(
    "apply_split",
    "Apply Split",
    "Copy the proposed split into the Plan's budget cells and rescale each line's planned "
    "counts (Undo restores both).",
    run_button,
    group="Budget Split",
    icon="AcceptInvitation",
    tip="Write the proposed split into the plan's budgets (the old values are kept for Undo).",
)
