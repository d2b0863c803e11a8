"""The FastAPI app: registry functions and button actions over signed HTTP.

Endpoints (all but ``/health`` and ``/openapi.json`` need a signed request, see `signing`):

- ``GET /health``: ``{"status": "ok"}``.
- ``GET /functions``: every registry function (`SheetFunction.describe`) and action.
- ``POST /functions/{name}``: ``{"args": [...], "by_row": false}``; each argument a cell value
  (number, text, boolean, null) or a range as a 2-D array (rows of cells). Returns
  ``{"values": rows, "message": reason}``: the result as rows of cells, spreadsheet error values
  kept as strings (``"#DIV/0!"``). With ``"by_row": true`` the function is called once per row
  of the ranges (a range of one row, or a single value, is used for every row) and the result
  has one row per line: ``=RUNRATE(B2:AF10001, ...)`` in one request.
- ``POST /sheets/{spreadsheet_id}/actions/{id}``: a button on a Google Sheet, which the server
  opens with its service account (`Settings.google_credentials`); the key must be bound to that
  sheet (``funnelplan keys create NAME --sheet ID``). Returns ``{"message", "requests", ...}``;
  New Month also returns next month's workbook (base64 .xlsx) for the client to import.
- ``POST /actions/{id}``: a multipart upload (field ``workbook``, an .xlsx); the button runs on
  a temporary copy and the changed workbook comes back (``X-Funnelplan-Message`` holds the
  message, URL-encoded). A failure is a JSON error and no workbook.

Errors are ``{"error": {"code": ..., "message": ...}}`` with the HTTP status. Bodies larger than
`Settings.max_body_bytes` get 413 before they are read in full. The app keeps no state but the
keys file and the replay cache beside it, so it runs as many workers.
"""

import base64
import json
import logging
import math
import re
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Request, Security, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field, StrictBool, StrictFloat, StrictInt, StrictStr
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from addin.server.keys import KeyStore
from addin.server.settings import Settings
from addin.server.signing import (
    KEY_HEADER,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    AuthError,
    ReplayCache,
    Verifier,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no cross-worker lock
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("funnelplan.server")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MESSAGE_HEADER = "X-Funnelplan-Message"
RAW_BODY = "funnelplan_raw_body"

Cell = StrictBool | StrictInt | StrictFloat | StrictStr | None
Range = list[list[Cell]]


class FunctionCall(BaseModel):
    """A call: the arguments in order (cells or ranges) and whether to call it per row."""

    args: list[Cell | Range] = Field(
        default_factory=list,
        description="Each argument a cell value or a range (a 2-D array, rows of cells).",
        max_length=32,
    )
    by_row: bool = Field(
        False,
        description=(
            "Call the function once per row of the ranges (a one-row range or a single value "
            "is used for every row); the result has one row per line."
        ),
    )


class FunctionResult(BaseModel):
    values: list[list[Any]] = Field(description="The result as rows of cells.")
    message: str = Field("", description="Why a cell holds an error value, if one does.")


class SheetActionResult(BaseModel):
    message: str = Field(description="What the button did, to show the user.")
    spreadsheet_id: str
    requests: int = Field(description="Sheets API requests the button made (retries counted).")
    workbook: str | None = Field(
        None, description="New Month: next month's workbook, a base64 .xlsx, to import."
    )
    filename: str | None = Field(None, description="New Month: the workbook's file name.")


SHEET_ID = re.compile(r"[A-Za-z0-9_-]{10,100}")


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


_ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorResponse} for s in (400, 401, 403, 404, 409, 413, 422)
}

_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "busy",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers or None
    )


class BodyLimit:
    """413 for a body over `limit` bytes: by its Content-Length, or while it streams in."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.limit:
                    response = error_response(
                        413, "too_large", f"the request body is larger than {self.limit:,} bytes"
                    )
                    await response(scope, receive, send)
                    return
        chunks: list[bytes] = []
        seen = 0
        while True:  # buffered (at most `limit` bytes): the signature covers the raw body
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                response = error_response(
                    413, "too_large", f"the request body is larger than {self.limit:,} bytes"
                )
                await response(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        scope.setdefault("state", {})[RAW_BODY] = body
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


# --------------------------------------------------------------------------- values out


def _cell_out(value: Any) -> Any:
    """A result cell as JSON: non-finite numbers are #NUM!, dates ISO text."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return "#NUM!"
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _rows(value: Any, result: str) -> list[list[Any]]:
    """A function's value as rows of cells (as `SheetFunction.call_cells`)."""
    if result == "table" and isinstance(value, list):
        return [[_cell_out(c) for c in (r if isinstance(r, list) else [r])] for r in value]
    if isinstance(value, list):
        return [[_cell_out(v)] for v in value]
    return [[_cell_out(value)]]


def _json(data: Any, started: float) -> Response:
    """A JSON response with a ``Server-Timing`` header (the computation, in ms)."""
    text = json.dumps(data, allow_nan=False, separators=(",", ":"), default=str)
    ms = (time.perf_counter() - started) * 1000
    headers = {"Server-Timing": f"compute;dur={ms:.1f}"}
    return Response(text, media_type="application/json", headers=headers)


def _per_row(args: list[Any]) -> int:
    """The number of lines of a by-row call; 422 for mismatched or empty ranges."""
    sizes = {len(a) for a in args if isinstance(a, list) and len(a) != 1}
    if len(sizes) > 1:
        shown = ", ".join(
            f"argument {i + 1} has {len(a)} rows" for i, a in enumerate(args) if isinstance(a, list)
        )
        raise ApiError(
            422, "invalid_request", f"the ranges have different numbers of rows ({shown})"
        )
    n = sizes.pop() if sizes else 1
    for i, a in enumerate(args):
        if isinstance(a, list) and not a:
            raise ApiError(422, "invalid_request", f"argument {i + 1} is an empty range")
    return n


@contextmanager
def sheet_lock(folder: Path, spreadsheet_id: str) -> Iterator[None]:
    """One button at a time per Google Sheet (every worker on the host): a second button
    pressed while one runs gets 409 instead of both reading the sheet and the later write
    undoing the earlier one."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{spreadsheet_id}.lock", "a") as handle:
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ApiError(
                    409,
                    "busy",
                    "another Funnel Plan button is running on this sheet; try again when it "
                    "has finished",
                ) from None
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _check_action(action_id: str) -> None:
    """404 for an id that is no button."""
    from addin.registry import ACTIONS

    if action_id not in ACTIONS:
        known = ", ".join(ACTIONS)
        raise ApiError(404, "unknown_action", f"no action {action_id!r}; the actions are: {known}")


def _safe_name(filename: str | None) -> str:
    name = Path(filename or "").name
    name = re.sub(r"[^A-Za-z0-9._ -]", "_", name).strip(" .")
    if not name.lower().endswith(".xlsx"):
        raise ApiError(400, "bad_workbook", "upload an .xlsx workbook (field `workbook`)")
    return name if len(name) > 5 else "workbook.xlsx"


# --------------------------------------------------------------------------- the app


def create_app(settings: Settings | None = None) -> FastAPI:
    """The server for `settings` (default: `Settings.from_env()`)."""
    settings = settings or Settings.from_env()
    store = KeyStore(settings.keys_dir)
    verifier = Verifier(
        store,
        ReplayCache(Path(settings.keys_dir) / "replay.sqlite", settings.window_seconds),
        settings.window_seconds,
    )
    app = FastAPI(
        title="Funnel Plan function server",
        version="1",
        description=(
            "Spreadsheet functions and button actions of Funnel Plan for Google Sheets and "
            "Excel on the web. Every call except /health needs a signed request: headers "
            f"{KEY_HEADER}, {TIMESTAMP_HEADER} (Unix seconds), {NONCE_HEADER} (fresh per "
            f"request, 8 to 64 of A-Z a-z 0-9 _ -) and {SIGNATURE_HEADER} = hex "
            "HMAC-SHA256(signing key, METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nhex SHA-256(body)), "
            "PATH as sent (percent-encoded, with the query string)."
        ),
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.keys = store

    key_header = APIKeyHeader(name=KEY_HEADER, auto_error=False, scheme_name="key")
    ts_header = APIKeyHeader(name=TIMESTAMP_HEADER, auto_error=False, scheme_name="timestamp")
    sig_header = APIKeyHeader(name=SIGNATURE_HEADER, auto_error=False, scheme_name="signature")
    nonce_header = APIKeyHeader(name=NONCE_HEADER, auto_error=False, scheme_name="nonce")

    async def signed(
        request: Request,
        _key: Annotated[str | None, Security(key_header)],
        _ts: Annotated[str | None, Security(ts_header)],
        _sig: Annotated[str | None, Security(sig_header)],
        _nonce: Annotated[str | None, Security(nonce_header)],
    ) -> str:
        body: bytes = getattr(request.state, RAW_BODY, b"")
        # the path as sent (percent-encoded): `request.url.path` is decoded
        raw_path = request.scope.get("raw_path")
        path = raw_path.decode("utf-8", "replace") if raw_path else request.url.path
        if request.url.query:
            path += "?" + request.url.query
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            return verifier.verify(request.method, path, headers, body)
        except AuthError as error:
            log.info("refused %s %s: %s", request.method, request.url.path, error.code)
            raise ApiError(error.status, error.code, error.message) from None

    Signed = Annotated[str, Depends(signed)]

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _CODES.get(exc.status_code, "error")
        return error_response(exc.status_code, code, str(exc.detail), **(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        parts = []
        for e in errors[:5]:
            where = ".".join(str(p) for p in e.get("loc", ()))
            parts.append(f"{where}: {e.get('msg', 'invalid')}")
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        return error_response(422, "invalid_request", "; ".join(parts) + more)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal", "unexpected server error; see the server log")

    @app.get("/health", tags=["server"])
    def health() -> dict[str, str]:
        """Liveness: no authentication."""
        return {"status": "ok"}

    @app.get("/functions", tags=["functions"], responses=_ERRORS)
    def list_functions(key: Signed) -> dict[str, Any]:
        """Every spreadsheet function and button action of the registry."""
        from addin.registry import ACTIONS, FUNCTIONS

        return {
            "functions": [
                json.loads(json.dumps(f.describe(), default=str)) for f in FUNCTIONS.values()
            ],
            "actions": [{"id": a.id, "label": a.label, "help": a.help} for a in ACTIONS.values()],
        }

    @app.post(
        "/functions/{name}",
        tags=["functions"],
        response_model=FunctionResult,
        responses=_ERRORS,
    )
    def call_function(name: str, call: FunctionCall, key: Signed) -> Response:
        """Call a function on cells and whole ranges; error values come back as strings."""
        from addin.registry import FUNCTIONS

        started = time.perf_counter()
        fn = FUNCTIONS.get(name.upper())
        if fn is None:
            raise ApiError(404, "unknown_function", f"no function {name!r} (see GET /functions)")
        if len(call.args) > len(fn.args):
            raise ApiError(
                422,
                "invalid_request",
                f"{fn.name} takes at most {len(fn.args)} arguments, got {len(call.args)}",
            )
        if not call.by_row:
            value, message = fn.evaluate(*call.args)
            return _json({"values": _rows(value, fn.result), "message": message}, started)
        args = list(call.args)
        n = _per_row(args)
        rows: list[list[Any]] = []
        first = ""
        per_row = [
            [([a[i]] if len(a) > 1 else a) if isinstance(a, list) else a for a in args]
            for i in range(n)
        ]
        # one evaluation per row; RUNRATE and RUNRATE_COST batch them (`SheetFunction.by_rows`)
        for i, (value, message) in enumerate(fn.evaluate_rows(per_row)):
            cells = _rows(value, fn.result)
            rows.append([c for r in cells for c in r])
            if message and not first:
                first = f"row {i + 1}: {message}" if n > 1 else message
        return _json({"values": rows, "message": first}, started)

    @app.post(
        "/actions/{action_id}",
        tags=["actions"],
        responses={**_ERRORS, 200: {"content": {XLSX: {}}, "description": "The changed workbook."}},
        response_class=Response,
    )
    def run_action(
        action_id: str,
        key: Signed,
        workbook: Annotated[UploadFile, File(description="The .xlsx workbook.")],
    ) -> Response:
        """Run a button on an uploaded workbook and return the changed workbook."""
        from addin.registry import ActionContext, ActionError, dispatch
        from sheets_sync.workbooks.interface import WorkbookError
        from sheets_sync.workbooks.xlsx import XlsxWorkbook

        _check_action(action_id)
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
            before = set(folder.iterdir())
            try:
                wb = XlsxWorkbook(path)
            except WorkbookError as error:
                raise ApiError(
                    400, "bad_workbook", str(error).replace(str(folder) + "/", "")
                ) from None
            try:
                message = dispatch(action_id, ActionContext(wb, path=path))
            except ActionError as error:
                raise ApiError(
                    422, "action_failed", str(error).replace(str(folder) + "/", "")
                ) from None
            created = [
                p
                for p in set(folder.iterdir()) - before
                if p.suffix.lower() == ".xlsx" and not p.name.startswith(".")
            ]
            result = created[0] if len(created) == 1 else path
            content = result.read_bytes()
        headers = {
            "Content-Disposition": f'attachment; filename="{result.name}"',
            MESSAGE_HEADER: urllib.parse.quote(message),
        }
        return Response(content, media_type=XLSX, headers=headers)

    google: dict[str, Any] = {}
    google_lock = threading.Lock()

    def sheets_client() -> Any:
        """One gspread client per app (its token is reused), built on first use."""
        from sheets_sync.workbooks.google_sheets import open_client

        with google_lock:
            if "client" not in google:
                google["client"] = open_client(
                    settings.google_credentials, settings.sheets_api_root
                )
            return google["client"]

    @app.post(
        "/sheets/{spreadsheet_id}/actions/{action_id}",
        tags=["actions"],
        response_model=SheetActionResult,
        responses=_ERRORS,
    )
    def run_sheet_action(spreadsheet_id: str, action_id: str, key: Signed) -> Response:
        """Run a button on a Google Sheet (the key must be bound to it: `keys create --sheet`).

        The server opens the sheet with its service account, reads it in one request and
        writes the button's cells in one; Sync Facts reads the sheet's config from the server's
        sync folder; New Month returns next month's workbook (base64 .xlsx) to import."""
        from addin.registry import ActionContext, ActionError, dispatch
        from planning.errors import InputError
        from sheets_sync.sync_config import config_for_sheet
        from sheets_sync.workbooks.google_sheets import GoogleSheetsWorkbook, account_email
        from sheets_sync.workbooks.interface import WorkbookError

        started = time.perf_counter()
        if not SHEET_ID.fullmatch(spreadsheet_id):
            raise ApiError(
                422, "invalid_request", "spreadsheet_id is not a Google Sheets id (from its URL)"
            )
        _check_action(action_id)
        bound = store.get(key)
        if bound is None or bound.spreadsheet != spreadsheet_id:
            raise ApiError(
                403,
                "key_not_for_sheet",
                f"this key may not run buttons on Google Sheet {spreadsheet_id}: create one "
                f"for it with `funnelplan keys create NAME --sheet {spreadsheet_id}`",
            )
        try:
            client = sheets_client()
        except WorkbookError as error:
            log.error("no Google credentials: %s", error)
            raise ApiError(
                503, "no_google_credentials", "the server has no usable Google credentials"
            ) from None
        with (
            sheet_lock(Path(settings.keys_dir) / "locks", spreadsheet_id),
            tempfile.TemporaryDirectory(prefix="funnelplan-sheet-") as tmp,
        ):
            try:
                wb = GoogleSheetsWorkbook(spreadsheet_id, client=client)
            except WorkbookError as error:
                email = account_email(client)
                share = f" Share the sheet with {email} as an editor." if email else ""
                raise ApiError(422, "sheet_unavailable", f"{error}{share}") from None
            config = None
            if action_id == "sync_facts":
                try:
                    config = config_for_sheet(settings.sync_dir, spreadsheet_id)
                except InputError as error:
                    raise ApiError(422, "action_failed", f"Sync Facts: {error}") from None
            ctx = ActionContext(
                wb,
                spreadsheet_id=spreadsheet_id,
                sync_config=config,
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
        return _json(result, started)

    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=[
            "Content-Type",
            KEY_HEADER,
            TIMESTAMP_HEADER,
            NONCE_HEADER,
            SIGNATURE_HEADER,
        ],
        expose_headers=[MESSAGE_HEADER, "Content-Disposition"],
        max_age=600,
    )
    return app
