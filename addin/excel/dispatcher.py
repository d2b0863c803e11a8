"""What the ribbon's buttons call: one action on the workbook the user is looking at.

The VBA callback (build/excel/FunnelPlan.bas) runs, through xlwings' ``RunPython``::

    import addin.excel.dispatcher as d; d.run('<button id>')

`run` finds the workbook (xlwings' caller is an add-in - FunnelPlan.xlam or xlwings.xlam - so
the target is the *active* workbook of the calling Excel), wraps it in the xlwings adapter and
runs `run_on`, the testable core: `addin.registry.dispatch` on any workbook adapter, returning
an `Outcome` instead of raising. A failure is a readable sentence (the registry's `ActionError`;
the actions save once at the end, so the workbook is left as it was) shown in a message box;
success shows the action's message. Unexpected errors are logged with their traceback to
``funnelplan-excel.log`` in the temp folder.
"""

from __future__ import annotations

import logging
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from addin.registry import ACTIONS, ActionContext, ActionError, dispatch
from sheets_sync.workbooks.live_excel import XlwingsWorkbook

log = logging.getLogger("funnelplan.excel")
TITLE = "Funnel Plan"
LOG_FILE = Path(tempfile.gettempdir()) / "funnelplan-excel.log"


@dataclass(frozen=True)
class Outcome:
    """A button's result: whether it worked and the sentence to show."""

    action_id: str
    ok: bool
    message: str


def _sentence(message: str) -> str:
    """`message` as a message box shows it: one capitalised sentence with its full stop."""
    message = " ".join(message.split()) or "The action failed."
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


def run_on(action_id: str, ctx: ActionContext) -> Outcome:
    """Run the button `action_id` in `ctx`; never raises for a failed action."""
    try:
        return Outcome(action_id, True, dispatch(action_id, ctx))
    except ActionError as error:
        return Outcome(action_id, False, _sentence(str(error)))
    except Exception as error:  # dispatch wraps errors; this is the last line of defence
        log.error("%s failed:\n%s", action_id, traceback.format_exc())
        label = ACTIONS[action_id].label if action_id in ACTIONS else action_id
        return Outcome(
            action_id,
            False,
            f"{label} failed unexpectedly ({type(error).__name__}: {error}); "
            f"the details are in {LOG_FILE}.",
        )


def _log_to_file() -> None:
    root = logging.getLogger("funnelplan")
    if not any(isinstance(h, logging.FileHandler) for h in root.handlers):
        handler = logging.FileHandler(LOG_FILE, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)


def active_book() -> Any:
    """The workbook the user is looking at in the Excel that called ``RunPython``."""
    import xlwings as xw  # the `excel` extra: imported only where Excel runs the button

    caller = xw.Book.caller()  # an add-in (FunnelPlan.xlam or xlwings.xlam), never the target
    book = caller.app.books.active
    if book is None or str(book.name).lower().endswith(".xlam"):
        return None
    return book


def run(action_id: str) -> Outcome:
    """The ribbon's entry point (``RunPython``): run the button on the active workbook and show
    the result in a message box. Needs Excel (xlwings on Windows desktop Excel)."""
    _log_to_file()
    book = active_book()
    if book is None:
        import xlwings as xw

        outcome = Outcome(action_id, False, "Open a planning workbook, then click the button.")
        xw.Book.caller().app.alert(outcome.message, title=TITLE, mode="critical")
        return outcome
    app = book.app
    wb = XlwingsWorkbook(book)
    outcome = run_on(action_id, ActionContext(wb, path=wb.path))
    app.status_bar = False  # hand the status bar back to Excel
    app.alert(outcome.message, title=TITLE, mode="info" if outcome.ok else "critical")
    return outcome
