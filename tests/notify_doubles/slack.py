"""A Slack incoming-webhook double: real HTTP on a free 127.0.0.1 port, in a thread.

``POST /services/T000/B000/XXXX`` with a JSON body holding a non-empty ``text`` answers 200
``ok`` as Slack does; another path gets 404 ``no_service``, a body that is not JSON 400
``invalid_payload``, no text 400 ``no_text``. `fail_next` programs the next answers (429 with a
``Retry-After`` header, 500, 403 ``invalid_token``, 410 ``channel_is_archived``, ...),
`delay_next` delays them; `requests` records every request, `texts` what was posted.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATH = "/services/T000/B000/XXXX"
_BODIES = {
    400: "invalid_payload",
    403: "invalid_token",
    404: "no_service",
    410: "channel_is_archived",
    429: "rate_limited",
    500: "internal_error",
}


@dataclass
class Request:
    path: str
    payload: Any
    time: float
    status: int = 0
    body: str = ""


@dataclass
class _Fault:
    status: int | None = None
    retry_after: int | None = None
    body: str | None = None
    delay: float = 0.0


class SlackWebhookDouble:
    """The double: a context manager (or `start`/`stop`); `webhook_url` is the secret URL."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.faults: deque[_Fault] = deque()
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the double first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def webhook_url(self) -> str:
        return self.url + PATH

    @property
    def texts(self) -> list[str]:
        """The texts posted successfully, in order."""
        return [r.payload["text"] for r in self.requests if r.status == 200]

    def start(self) -> SlackWebhookDouble:
        handler = type("Handler", (_Handler,), {"double": self})
        self._server = _QuietServer(("127.0.0.1", 0), handler)
        server = self._server
        threading.Thread(target=lambda: server.serve_forever(0.05), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> SlackWebhookDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail_next(
        self, status: int, retry_after: int | None = None, times: int = 1, body: str | None = None
    ) -> None:
        """The next `times` requests get `status` (and Slack's body for it)."""
        with self.lock:
            for _ in range(times):
                self.faults.append(_Fault(status, retry_after, body))

    def delay_next(self, seconds: float, times: int = 1) -> None:
        with self.lock:
            for _ in range(times):
                self.faults.append(_Fault(delay=seconds))

    def answer(self, request: Request) -> tuple[int, str, dict[str, str]]:
        with self.lock:
            fault = self.faults.popleft() if self.faults else None
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status is not None:
            headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            body = fault.body or _BODIES.get(fault.status, "error")
            return fault.status, body, headers
        if request.path != PATH:
            return 404, "no_service", {}
        if not isinstance(request.payload, dict):
            return 400, "invalid_payload", {}
        text = request.payload.get("text")
        if not isinstance(text, str) or not text.strip():
            return 400, "no_text", {}
        return 200, "ok", {}


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout) is not an error worth a traceback."""


class _Handler(BaseHTTPRequestHandler):
    double: SlackWebhookDouble

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        request = Request(self.path, payload, time.monotonic())
        with self.double.lock:
            self.double.requests.append(request)
        status, body, headers = self.double.answer(request)
        request.status, request.body = status, body
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
