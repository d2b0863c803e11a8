"""`SignedBody`: the body read within its limit and its signature checked over the raw bytes,
both before anything parses it.

A request's body is read at most `limit` bytes (413 past it, by its Content-Length or while it
streams in); then, unless the path is public (`PUBLIC_PATHS`), its signature is checked over
exactly those bytes (`signing.Verifier`), and only a signed request reaches the app, which
parses the JSON or the multipart form. An anonymous 5 MiB body of many small JSON elements so
costs a hash, not a parse. The key id is kept in the request's state for `state.signed`. A
shared state out of reach (`StateUnavailable`) answers 503 before the app runs.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from addin.server.errors import error_response, log_refusal
from addin.server.shared_state.protocols import StateUnavailable
from addin.server.signing import AuthError, Verifier

RAW_BODY = "funnelplan_raw_body"
"""The key of the raw body in the request's state (the signature covers it)."""

KEY_ID = "funnelplan_key_id"
"""The key id of a request whose signature was checked, in the request's state."""

_RETRY = {"Retry-After": "30"}

PUBLIC_PATHS = frozenset({"/health", "/openapi.json"})
"""The paths answered without a signature."""


class SignedBody:
    """413 for a body over `limit` bytes; 401/403 for a request `verifier` refuses, before
    the body is parsed; else the app, with the body replayed to it."""

    def __init__(self, app: ASGIApp, limit: int, verifier: Verifier) -> None:
        self.app = app
        self.limit = limit
        self.verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await self._read(scope, receive)
        if body is None:
            message = f"the request body is larger than {self.limit:,} bytes"
            log_refusal(scope, 413, "too_large", message)
            await error_response(413, "too_large", message)(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state[RAW_BODY] = body
        if scope.get("path") not in PUBLIC_PATHS and scope.get("method") != "OPTIONS":
            try:
                state[KEY_ID] = self._verify(scope, body)
            except AuthError as error:
                log_refusal(scope, error.status, error.reason)
                response = error_response(error.status, error.code, error.message)
                await response(scope, receive, send)
                return
            except StateUnavailable as down:  # the keys or the replay cache out of reach
                log_refusal(scope, 503, "state_unavailable", down.cause)
                response = error_response(503, "state_unavailable", down.args[0], **_RETRY)
                await response(scope, receive, send)
                return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole body (at most `limit` bytes: the signature covers it); None past it."""
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.limit:
                    return None
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _verify(self, scope: Scope, body: bytes) -> str:
        """The key id of a signed request (the path as sent: percent-encoded, with its query)."""
        raw = scope.get("raw_path")
        path = raw.decode("utf-8", "replace") if raw else str(scope.get("path", ""))
        query = scope.get("query_string", b"")
        if query:
            path += "?" + query.decode("latin-1")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        return self.verifier.verify(str(scope.get("method", "")), path, headers, body)
