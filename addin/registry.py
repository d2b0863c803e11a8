"""The one registry of spreadsheet functions and buttons, used by every surface.

`FUNCTIONS` (the formulas, `addin.functions`) and `ACTIONS` (the buttons, one module each in
`addin.actions`, in ribbon order) are what the Excel UDF module and ribbon, `funnelplan
functions`, the function server and the generated Apps Script / Office.js clients are built
from. `dispatch` runs a button in an `ActionContext` and turns every failure into an
`ActionError` with a readable sentence; the buttons stage their writes and save once at the
end, so a failure leaves the workbook as it was.

A new button: a module in `addin/actions/` with its `ACTION`, added to `_BUTTONS` below
(docs/architecture.md walks through it).
"""

from __future__ import annotations

import logging
import traceback

from addin.actions import (
    apply_split,
    attribution,
    check_alerts,
    compare_scenarios,
    drill,
    new_month,
    optimize_split,
    refresh_cohorts,
    refresh_runrate,
    review_month,
    sync_facts,
    undo_split,
)
from addin.actions.base import Action, ActionContext, ActionError
from addin.functions import FUNCTIONS
from addin.sheet_function import DIV0, ERRORS, NA, NUM, VALUE, Arg, SheetFunction
from planning.errors import PlanningError
from sheets_sync.workbooks.interface import WorkbookError

__all__ = [
    "ACTIONS",
    "DIV0",
    "ERRORS",
    "FUNCTIONS",
    "NA",
    "NUM",
    "VALUE",
    "Action",
    "ActionContext",
    "ActionError",
    "Arg",
    "SheetFunction",
    "dispatch",
]

_BUTTONS = (
    sync_facts,
    refresh_runrate,
    refresh_cohorts,
    check_alerts,
    attribution,
    drill,
    optimize_split,
    apply_split,
    undo_split,
    compare_scenarios,
    review_month,
    new_month,
)

ACTIONS: dict[str, Action] = {module.ACTION.id: module.ACTION for module in _BUTTONS}
"""The buttons by id, in ribbon order."""


def dispatch(action_id: str, ctx: ActionContext) -> str:
    """Run the button `action_id` in `ctx` and return the message to show.

    Raises `ActionError` with a readable sentence on failure (the workbook is left as it was:
    the buttons save once, at the end). An unexpected error's traceback is logged, not shown.
    """
    action = ACTIONS.get(action_id)
    if action is None:
        known = ", ".join(ACTIONS)
        raise ActionError(f"Unknown button {action_id!r}; the buttons are: {known}.")
    try:
        return action.run(ctx)
    except ActionError:
        raise
    except (PlanningError, WorkbookError, OSError) as error:
        raise ActionError(f"{action.label} failed: {error}") from error
    except Exception as error:
        logging.getLogger("funnelplan").error(
            "%s failed unexpectedly:\n%s", action.label, traceback.format_exc()
        )
        raise ActionError(
            f"{action.label} failed unexpectedly ({type(error).__name__}: {error}); "
            "nothing was changed. Please report it with the log."
        ) from error
