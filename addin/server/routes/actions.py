"""``POST /actions/{action_id}``: a button on an uploaded .xlsx, run on a temporary copy; the
changed workbook comes back (``X-Funnelplan-Message`` holds the message, URL-encoded)."""

from __future__ import annotations

import re
import tempfile
import urllib.parse
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import Response

from addin.registry import ACTIONS, ActionContext, ActionError, dispatch
from addin.server.errors import ERRORS, ApiError
from addin.server.limits import check_xlsx, run_in_process
from addin.server.state import Signed, State
from sheets_sync.workbooks.interface import WorkbookError
from sheets_sync.workbooks.xlsx import XlsxWorkbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MESSAGE_HEADER = "X-Funnelplan-Message"

router = APIRouter()


def check_action(action_id: str) -> None:
    """404 for an id that is no button."""
    if action_id not in ACTIONS:
        known = ", ".join(ACTIONS)
        raise ApiError(404, "unknown_action", f"no action {action_id!r}; the actions are: {known}")


MAX_NAME = 120
"""The longest upload file name accepted (a file system takes 255 bytes, the temporary copy
keeps the name)."""


def _safe_name(filename: str | None) -> str:
    name = Path(filename or "").name
    name = re.sub(r"[^A-Za-z0-9._ -]", "_", name).strip(" .")
    if not name.lower().endswith(".xlsx"):
        raise ApiError(400, "bad_workbook", "upload an .xlsx workbook (field `workbook`)")
    if len(name) > MAX_NAME:
        raise ApiError(
            400,
            "bad_workbook",
            f"the workbook's file name is {len(name)} characters long; at most {MAX_NAME} are "
            "accepted: rename it",
        )
    return name if len(name) > 5 else "workbook.xlsx"


def _run(action_id: str, folder: Path, path: Path) -> tuple[str, Path]:
    """Run the button on the workbook at `path` in `folder`: its message and the workbook to
    return (the one it created, New Month's, else `path` itself). Error messages name files
    without the temporary folder."""
    before = set(folder.iterdir())
    try:
        wb = XlsxWorkbook(path)
    except WorkbookError as error:
        raise ApiError(400, "bad_workbook", str(error).replace(str(folder) + "/", "")) from None
    try:
        message = dispatch(action_id, ActionContext(wb, path=path))
    except ActionError as error:
        raise ApiError(422, "action_failed", str(error).replace(str(folder) + "/", "")) from None
    created = [
        p
        for p in set(folder.iterdir()) - before
        if p.suffix.lower() == ".xlsx" and not p.name.startswith(".")
    ]
    return message, created[0] if len(created) == 1 else path


@router.post(
    "/actions/{action_id}",
    tags=["actions"],
    responses={**ERRORS, 200: {"content": {XLSX: {}}, "description": "The changed workbook."}},
    response_class=Response,
)
def run_action(
    action_id: str,
    key: Signed,
    state: State,
    workbook: Annotated[UploadFile, File(description="The .xlsx workbook.")],
) -> Response:
    """Run a button on an uploaded workbook and return the changed workbook. A workbook that
    unzips to more than the server's cap is refused before it is opened; the button runs in a
    worker process, killed past the time limit (`limits`)."""
    # a zip bomb is refused first, whatever the button (the body is in memory already)
    check_xlsx(workbook.file, state.settings.max_unzipped_bytes)
    check_action(action_id)
    if action_id == "sync_facts":
        raise ApiError(
            422,
            "action_failed",
            "Sync Facts needs the team's exports and its sync config, which an uploaded "
            "workbook does not bring: run it from the Excel desktop add-in or with "
            "`funnelplan sync` where the exports are, or keep the plan in a Google Sheet "
            "(the server syncs a sheet from its sync folder).",
        )
    name = _safe_name(workbook.filename)
    with tempfile.TemporaryDirectory(prefix="funnelplan-action-") as tmp:
        folder = Path(tmp)
        path = folder / name
        with path.open("wb") as out:
            while chunk := workbook.file.read(1 << 20):
                out.write(chunk)
        message, result = run_in_process(_run, (action_id, folder, path), state.settings.time_limit)
        content = result.read_bytes()
    headers = {
        "Content-Disposition": f'attachment; filename="{result.name}"',
        MESSAGE_HEADER: urllib.parse.quote(message),
    }
    return Response(content, media_type=XLSX, headers=headers)
