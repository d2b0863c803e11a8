"""A Telegram Bot API double: real HTTP on a free 127.0.0.1 port, in a thread.

``POST /bot<TOKEN>/sendMessage`` (JSON or form) and ``POST /bot<TOKEN>/sendPhoto``
(multipart/form-data, the ``photo`` file part) answer as the Bot API does:
``{"ok": true, "result": {...}}``, or ``{"ok": false, "error_code": ..., "description": ...}``
for a wrong token (401 Unauthorized), an unknown chat (400 chat not found), an unknown method
(404 Not Found), an empty or too long text or caption, and HTML that Telegram would not parse
with ``parse_mode=HTML`` (unknown or unclosed tags, a stray end tag or ``<``, an unknown
named entity: 400 "Bad Request: can't parse entities: ...").

Test controls: `fail_next` (the next N requests get a status with a Telegram-shaped body; a
429 carries ``parameters.retry_after``), `delay_next` (the next N requests wait before
answering, to run past a client's timeout) and `requests`, every request received (even the
refused ones) with its time.
"""

from __future__ import annotations

import html
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

TOKEN = "123456789:AAE-test-token_FOR-the-double"
CHAT_ID = "-1001234567890"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
# The tags Telegram's HTML parse mode knows.
KNOWN_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre"}
    | {"tg-spoiler", "span", "tg-emoji", "blockquote"}
)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)?[^<>]*>")
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);")
_NAMED = {"lt", "gt", "amp", "quot"}
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class ParseError(ValueError):
    """What Telegram says after "Bad Request: can't parse entities: "."""


def parse_html(text: str) -> str:
    """The visible text of `text` in Telegram's HTML parse mode; `ParseError` where Telegram
    refuses it."""
    stack: list[str] = []
    visible: list[str] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        offset = len(text[:pos].encode())
        if char == "<":
            match = _TAG.match(text, pos)
            name = (match.group(2) or "").lower() if match else ""
            if match is None or not name:
                raise ParseError(f'Unsupported start tag "" at byte offset {offset}')
            if match.group(1):
                if not stack or stack[-1] != name:
                    raise ParseError(f"Unexpected end tag at byte offset {offset}")
                stack.pop()
            elif name not in KNOWN_TAGS:
                raise ParseError(f'Unsupported start tag "{name}" at byte offset {offset}')
            else:
                stack.append(name)
            pos = match.end()
        elif char == "&" and (entity := _ENTITY.match(text, pos)):
            body = entity.group(1)
            if not body.startswith("#") and body not in _NAMED:
                raise ParseError(f'Unsupported HTML entity "&{body};" at byte offset {offset}')
            visible.append(html.unescape(entity.group(0)))
            pos = entity.end()
        else:
            visible.append(char)
            pos += 1
    if stack:
        raise ParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(visible)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Request:
    """One request the double received."""

    method: str
    """The Bot API method: sendMessage, sendPhoto, ..."""
    token: str
    chat_id: str | None
    text: str | None
    parse_mode: str | None
    caption: str | None
    photo: bytes | None
    photo_filename: str | None
    disable_web_page_preview: Any
    time: float
    """`time.monotonic()` when it arrived."""
    status: int = 0
    """The HTTP status answered."""


@dataclass
class _Fault:
    status: int | None = None
    retry_after: int | None = None
    description: str | None = None
    delay: float = 0.0


class TelegramDouble:
    """The double: a context manager (or `start`/`stop`); `url` is the ``api_root``."""

    def __init__(self, token: str = TOKEN, chats: tuple[str, ...] = (CHAT_ID,)) -> None:
        self.token = token
        self.chats = set(chats)
        self.requests: list[Request] = []
        self.faults: deque[_Fault] = deque()
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._message_id = 0

    # -- lifecycle
    @property
    def url(self) -> str:
        assert self._server is not None, "start() the double first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> TelegramDouble:
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

    def __enter__(self) -> TelegramDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- controls
    def fail_next(
        self,
        status: int,
        retry_after: int | None = None,
        times: int = 1,
        description: str | None = None,
    ) -> None:
        """The next `times` requests get `status` with a Telegram-shaped error body."""
        with self.lock:
            for _ in range(times):
                self.faults.append(_Fault(status, retry_after, description))

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """The next `times` requests wait `seconds` before being answered (normally)."""
        with self.lock:
            for _ in range(times):
                self.faults.append(_Fault(delay=seconds))

    @property
    def messages(self) -> list[Request]:
        """The requests that posted something (status 200)."""
        return [r for r in self.requests if r.status == 200]

    # -- answering
    def answer(self, path: str, request: Request) -> tuple[int, dict[str, Any]]:
        with self.lock:
            fault = self.faults.popleft() if self.faults else None
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status is not None:
            return fault.status, _error(fault.status, fault.description, fault.retry_after)
        if request.token != self.token:
            return 401, _error(401)
        if request.method not in ("sendMessage", "sendPhoto"):
            return 404, _error(404)
        if request.chat_id not in self.chats:
            return 400, _error(400, "Bad Request: chat not found")
        problem = self._check(request)
        if problem:
            return 400, _error(400, f"Bad Request: {problem}")
        with self.lock:
            self._message_id += 1
            message_id = self._message_id
        result = {"message_id": message_id, "date": int(time.time()), "chat": {"id": 0}}
        return 200, {"ok": True, "result": result}

    def _check(self, request: Request) -> str | None:
        """Why Telegram would refuse the text or caption; None when it is fine."""
        if request.method == "sendPhoto":
            if not request.photo:
                return "there is no photo in the request"
            body, limit, what = request.caption or "", CAPTION_LIMIT, "caption"
        else:
            body, limit, what = request.text or "", TEXT_LIMIT, "text"
        visible = body
        if request.parse_mode == "HTML":
            try:
                visible = parse_html(body)
            except ParseError as exc:
                return f"can't parse entities: {exc}"
        if what == "text" and not visible.strip():
            return "message text is empty"
        if utf16_len(visible.strip()) > limit:
            return f"message {what} is too long"
        return None


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout) is not an error worth a traceback."""


def _error(status: int, description: str | None = None, retry_after: int | None = None) -> dict:
    text = description or _DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
    body: dict[str, Any] = {
        "ok": False,
        "error_code": status,
        "description": text.format(retry_after=retry_after),
    }
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return body


def _form_fields(content_type: str, raw: bytes) -> dict[str, tuple[bytes, str | None]]:
    """name -> (value bytes, filename) of a multipart/form-data body."""
    message = BytesParser(policy=policy.default).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\nMIME-Version: 1.0\r\n\r\n" + raw
    )
    assert isinstance(message, EmailMessage)
    fields: dict[str, tuple[bytes, str | None]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        fields[str(name)] = (payload if isinstance(payload, bytes) else b"", part.get_filename())
    return fields


def _fields(content_type: str, raw: bytes) -> dict[str, tuple[bytes | str | Any, str | None]]:
    if content_type.startswith("application/json"):
        data = json.loads(raw or b"{}")
        return {key: (value, None) for key, value in data.items()}
    if content_type.startswith("multipart/form-data"):
        return dict(_form_fields(content_type, raw))
    form = parse_qs(raw.decode(), keep_blank_values=True)
    return {key: (values[-1], None) for key, values in form.items()}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


class _Handler(BaseHTTPRequestHandler):
    double: TelegramDouble

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        match = re.fullmatch(r"/bot([^/]+)/(\w+)", self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if match is None:
            self._send(404, _error(404))
            return
        try:
            fields = _fields(self.headers.get("Content-Type", ""), raw)
        except (ValueError, UnicodeDecodeError):
            self._send(400, _error(400, "Bad Request: can't parse request body"))
            return
        photo, filename = fields.get("photo", (None, None))
        request = Request(
            method=match.group(2),
            token=match.group(1),
            chat_id=_text(fields.get("chat_id", (None, None))[0]),
            text=_text(fields.get("text", (None, None))[0]),
            parse_mode=_text(fields.get("parse_mode", (None, None))[0]),
            caption=_text(fields.get("caption", (None, None))[0]),
            photo=photo if isinstance(photo, bytes) else None,
            photo_filename=filename,
            disable_web_page_preview=fields.get("disable_web_page_preview", (None, None))[0],
            time=time.monotonic(),
        )
        with self.double.lock:
            self.double.requests.append(request)
        status, body = self.double.answer(self.path, request)
        request.status = status
        self._send(status, body)

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 429 and "parameters" in body:
            self.send_header("Retry-After", str(body["parameters"]["retry_after"]))
        self.end_headers()
        self.wfile.write(data)
