"""``POST /sheets/{spreadsheet_id}/actions/{action_id}``: a button on a Google Sheet, opened
with the server's service account (`Settings.google_credentials`) through the app's one gspread
client; the key must be bound to that sheet (``funnelplan keys create NAME --sheet ID``). One
button at a time per sheet (`ServerState.locks`: a lock file per sheet on one host, a lease
row in the shared state across hosts): a second gets 409."""

from __future__ import annotations

import base64
import logging
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from addin.registry import ActionContext, ActionError, dispatch
from addin.server.errors import ERRORS, ApiError
from addin.server.models import SheetActionResult, json_response
from addin.server.routes.actions import check_action
from addin.server.shared_state.local import FileSheetLocks
from addin.server.shared_state.protocols import SheetBusy, SheetLocks
from addin.server.state import ServerState, Signed, State
from planning.errors import InputError
from sheets_sync.google_http import account_email
from sheets_sync.sync_config import config_for_sheet
from sheets_sync.workbooks.google_sheets import GoogleSheetsWorkbook
from sheets_sync.workbooks.interface import WorkbookError

log = logging.getLogger("funnelplan.server")

SHEET_ID = re.compile(r"[A-Za-z0-9_-]{10,100}")

router = APIRouter()


@contextmanager
def sheet_lock(folder: Path, spreadsheet_id: str) -> Iterator[None]:
    """One button at a time per Google Sheet (every worker on the host, lock files in
    `folder`): a second button pressed while one runs gets 409 instead of both reading the
    sheet and the later write undoing the earlier one."""
    with held(FileSheetLocks(folder), spreadsheet_id):
        yield


@contextmanager
def held(locks: SheetLocks, spreadsheet_id: str) -> Iterator[None]:
    """`locks.hold(spreadsheet_id)`, a busy sheet answered 409 (only taking the lock raises
    `SheetBusy`)."""
    try:
        with locks.hold(spreadsheet_id):
            yield
    except SheetBusy as busy:
        raise ApiError(409, "busy", str(busy)) from None


def _check_request(state: ServerState, key: str, spreadsheet_id: str, action_id: str) -> None:
    """422 for a malformed sheet id, 404 for an unknown button, 403 for a key not bound to
    the sheet."""
    if not SHEET_ID.fullmatch(spreadsheet_id):
        raise ApiError(
            422, "invalid_request", "spreadsheet_id is not a Google Sheets id (from its URL)"
        )
    check_action(action_id)
    bound = state.keys.get(key)
    if bound is None or bound.spreadsheet != spreadsheet_id:
        raise ApiError(
            403,
            "key_not_for_sheet",
            f"this key may not run buttons on Google Sheet {spreadsheet_id}: create one "
            f"for it with `funnelplan keys create NAME --sheet {spreadsheet_id}`",
        )


def _sync_config(state: ServerState, spreadsheet_id: str, action_id: str) -> Path | None:
    """The sheet's sync config, from the server's sync folder: Sync Facts and Attribution need
    it (an error without one); the Alerts button keeps its incident log in that config's fact
    store (none without one); the other buttons do not use it."""
    if action_id not in ("sync_facts", "check_alerts", "attribution"):
        return None
    try:
        return config_for_sheet(state.settings.sync_dir, spreadsheet_id)
    except InputError as error:
        if action_id == "check_alerts":
            return None
        label = "Sync Facts" if action_id == "sync_facts" else "Attribution"
        raise ApiError(422, "action_failed", f"{label}: {error}") from None


@router.post(
    "/sheets/{spreadsheet_id}/actions/{action_id}",
    tags=["actions"],
    response_model=SheetActionResult,
    responses=ERRORS,
)
def run_sheet_action(spreadsheet_id: str, action_id: str, key: Signed, state: State) -> Response:
    """Run a button on a Google Sheet (the key must be bound to it: `keys create --sheet`).

    The server opens the sheet with its service account, reads it in one request and
    writes the button's cells in one; Sync Facts reads the sheet's config from the server's
    sync folder; New Month returns next month's workbook (base64 .xlsx) to import."""
    started = time.perf_counter()
    _check_request(state, key, spreadsheet_id, action_id)
    try:
        client = state.sheets_client()
    except WorkbookError as error:
        log.error("no Google credentials: %s", error)
        raise ApiError(
            503, "no_google_credentials", "the server has no usable Google credentials"
        ) from None
    with (
        held(state.locks, spreadsheet_id),
        tempfile.TemporaryDirectory(prefix="funnelplan-sheet-") as tmp,
    ):
        try:
            wb = GoogleSheetsWorkbook(spreadsheet_id, client=client)
        except WorkbookError as error:
            email = account_email(client)
            share = f" Share the sheet with {email} as an editor." if email else ""
            raise ApiError(422, "sheet_unavailable", f"{error}{share}") from None
        ctx = ActionContext(
            wb,
            spreadsheet_id=spreadsheet_id,
            sync_config=_sync_config(state, spreadsheet_id, action_id),
            output_dir=Path(tmp),  # where New Month writes the workbook it returns
        )
        try:
            message = dispatch(action_id, ctx)
        except ActionError as error:
            raise ApiError(422, "action_failed", str(error)) from None
        created = sorted(Path(tmp).glob("*.xlsx"))
        result: dict[str, Any] = {
            "message": message,
            "spreadsheet_id": spreadsheet_id,
            "requests": len(wb.requests),
            "workbook": None,
            "filename": None,
        }
        if created:
            result["workbook"] = base64.b64encode(created[0].read_bytes()).decode()
            result["filename"] = created[0].name
    return json_response(result, started)
