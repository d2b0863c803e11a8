"""`BodyLimit`: 413 for a request body over the limit; the body it read is kept for `signed`."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from addin.server.errors import error_response

RAW_BODY = "funnelplan_raw_body"
"""The key of the raw body in the request's state (the signature covers it)."""


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
                    await self._too_large(scope, receive, send)
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
                await self._too_large(scope, receive, send)
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

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, "too_large", f"the request body is larger than {self.limit:,} bytes"
        )
        await response(scope, receive, send)
