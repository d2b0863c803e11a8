"""The server's errors: `ApiError`, the JSON error body and the handlers that produce it.

Every error is ``{"error": {"code": ..., "message": ...}}`` with the HTTP status: an `ApiError`
raised by an endpoint, Starlette's HTTP errors (404 for an unknown path, 405, ...), a request
that fails validation (422, the first five problems), the shared state's database out of reach
(503 ``state_unavailable``, with ``Retry-After``; nothing was done) and any unexpected exception
(500, logged with its traceback; the body names no detail).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from addin.server.shared_state.protocols import StateUnavailable

log = logging.getLogger("funnelplan.server")


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorResponse} for s in (400, 401, 403, 404, 409, 413, 422, 504)
}
"""The error statuses documented on every endpoint (``responses=`` of the routes)."""

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
    504: "too_slow",
}


class ApiError(Exception):
    """An error answered as ``{"error": {"code", "message"}}`` with HTTP `status`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers or None
    )


def log_refusal(scope: Scope, status: int, reason: str, message: str = "") -> None:
    """One line per refused request on the ``funnelplan.server`` logger (`funnelplan serve`
    shows it): method, path, status, reason, the key id as sent and the client's address; never
    the signature or the body. `message` (the answer's sentence) is cut to 200 characters."""
    key = ""
    for name, value in scope.get("headers", []):
        if name == b"x-funnelplan-key":
            key = re.sub(r"[^A-Za-z0-9_-]", "?", value[:40].decode("latin-1"))
    client = scope.get("client")
    address = client[0] if client else "-"
    path = re.sub(r"[^\x21-\x7e]", "?", str(scope.get("path", ""))[:200])
    log.info(
        "refused %s %s: %s %s key=%s client=%s%s",
        scope.get("method", "-"),
        path,
        status,
        reason,
        key or "-",
        address,
        f" ({message[:200]})" if message else "",
    )


async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    log_refusal(request.scope, exc.status, exc.code, exc.message)
    return error_response(exc.status, exc.code, exc.message)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _CODES.get(exc.status_code, "error")
    log_refusal(request.scope, exc.status_code, code)
    return error_response(exc.status_code, code, str(exc.detail), **(exc.headers or {}))


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    parts = []
    for e in errors[:5]:
        where = ".".join(str(p) for p in e.get("loc", ()))
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    log_refusal(request.scope, 422, "invalid_request")
    return error_response(422, "invalid_request", "; ".join(parts) + more)


async def _state_unavailable(request: Request, exc: StateUnavailable) -> JSONResponse:
    log.error("shared state unavailable on %s %s: %s", request.method, request.url.path, exc.cause)
    log_refusal(request.scope, 503, "state_unavailable")
    return error_response(503, "state_unavailable", exc.args[0], **{"Retry-After": "30"})


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal", "unexpected server error; see the server log")


EXCEPTION_HANDLERS: dict[
    int | type[Exception], Callable[[Request, Any], Coroutine[Any, Any, Response]]
] = {
    ApiError: _api_error,
    StarletteHTTPException: _http_error,
    RequestValidationError: _invalid,
    StateUnavailable: _state_unavailable,
    Exception: _unexpected,
}
"""The app's handlers (``FastAPI(exception_handlers=...)``): every error as the JSON body."""
