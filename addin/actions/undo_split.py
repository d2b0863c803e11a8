"""Undo Split: restore exactly the Plan cells the last Apply Split changed (`spend p` and the
planned counts it set with it), formulas and blanks included."""

from __future__ import annotations

from addin.actions.apply_split import same_value
from addin.actions.base import Action, ActionContext
from addin.actions.texts import texts_of
from planning.errors import InputError
from sheets_sync.workbooks.interface import WorkbookTarget
from workbook_templates import layout as L
from workbook_templates.split_undo_sheet import UndoRecord, read_undo, write_undo


def _header(wb: WorkbookTarget, r: UndoRecord) -> str:
    """The Plan header over a recorded cell (spend p or a count p), for messages."""
    if r.sheet != L.PLAN:
        return r.ref
    header = wb.read_cells(L.PLAN, L.PLAN_HEADER_ROW, r.col, 1, 1)[0][0]
    return str(header) if header not in (None, "") else r.ref


def undo_split(wb: WorkbookTarget, force: bool = False) -> list[UndoRecord]:
    """Restore the cells the last Apply Split replaced, exactly (values, formulas and blanks),
    and clear the record. A cell changed since Apply is an error naming it, unless `force`."""
    records, n_rows = read_undo(wb)
    if not records:
        raise InputError(f"nothing to undo: no Apply Split is recorded on sheet `{L.SPLIT_UNDO}`")
    for r in records:
        now = wb.read_cells(r.sheet, r.row, r.col, 1, 1)[0][0]
        if not force and not same_value(now, r.new):
            raise InputError(
                f"was changed after Apply Split wrote {r.new!r}; Undo Split would overwrite "
                "it (force it to restore anyway)",
                line=r.ref,
                column=_header(wb, r),
                value=now,
                has_value=True,
            )
    for r in records:
        wb.write_block(r.sheet, r.row, r.col, [[r.old]])
    write_undo(wb, [], n_rows)
    wb.save()
    wb.notify(texts_of(wb)("Undo Split: {n} cells restored", n=len(records)))
    return records


def run_button(ctx: ActionContext) -> str:
    """The Undo button (of Apply Split)."""
    n = len(undo_split(ctx.workbook))
    return texts_of(ctx.workbook)("Undo: {n} budget and count cells restored.", n=n)


ACTION = Action(
    "undo_split",
    "Undo",
    "Restore the budget and count cells the last Apply Split changed.",
    run_button,
    group="Budget Split",
    icon="Undo",
    tip="Put back the budgets the last Apply Split replaced.",
)
