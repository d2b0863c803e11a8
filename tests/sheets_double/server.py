"""A Google Sheets API v4 test double: real HTTP on a free localhost port, sheets in memory.

It answers the endpoints gspread uses for our adapter, with the API's shapes and errors:

* ``GET  /v4/spreadsheets/{id}`` — metadata (title, locale, sheets with grid sizes);
* ``GET  /v4/spreadsheets/{id}/values:batchGet`` — ``ranges`` (repeated),
  ``valueRenderOption`` FORMATTED_VALUE / UNFORMATTED_VALUE / FORMULA,
  ``dateTimeRenderOption`` SERIAL_NUMBER / FORMATTED_STRING, ``majorDimension`` ROWS;
* ``GET  /v4/spreadsheets/{id}/values/{range}`` — one range, same options;
* ``POST /v4/spreadsheets/{id}/values:batchUpdate`` — ``valueInputOption`` RAW / USER_ENTERED,
  ``null`` meaning "leave the cell", ``""`` clearing it; all ranges checked before any is
  applied (the real call is atomic);
* ``POST /v4/spreadsheets/{id}:batchUpdate`` — ``addSheet`` and ``deleteSheet`` requests,
  all-or-nothing.

A1 ranges are parsed properly (``'Sheet name'!A1:C3``, ``Sheet1!A:C``, ``Sheet1!2:5``, a bare
sheet name, a range without a sheet meaning the first sheet); reads outside the grid fail
with 400 as the API does, writes beyond it grow the grid.

Cells are typed as the API keeps them: numbers, text, booleans, formulas (text plus a stored
computed value, never evaluated here) and dates (a serial number with a date format).
USER_ENTERED parses like Sheets in the spreadsheet's locale: a leading ``'`` forces text,
``=`` a formula, ``1,5`` is 1.5 in ``ru_RU``, ISO dates become dates, TRUE/FALSE booleans.
FORMATTED_VALUE renders numbers with the locale's decimal separator.

Auth: ``POST /token`` is Google's OAuth token endpoint for a service account (the JWT-bearer
grant; `SheetsDouble.service_account_file` writes a key file pointing at it, and the signed JWT
is verified); with `SheetsDouble.require_auth` the Sheets calls need a token it issued (401
UNAUTHENTICATED otherwise), as the real API does.

Test controls: a per-minute quota of reads (GET) and writes (POST) per user (the
``Authorization`` header, else "anonymous"; 429 RESOURCE_EXHAUSTED once exceeded, on a clock
the test can advance), fault injection (`SheetsDouble.inject`: the next N requests get a
429, a 500 or a delay longer than the client's timeout) and a request log of
``(method, path)`` for counting calls.

gspread talks to it unmodified: `double_session` is the production `rooted_session` (a
google-auth `AuthorizedSession`) with anonymous credentials, whose `request` swaps the
``https://sheets.googleapis.com`` origin for the double's — the custom-session hook gspread's
`Client(auth, session=...)` documents.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

GOOGLE_ORIGIN = "https://sheets.googleapis.com"
TOKEN_PATH = "/token"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
EPOCH = dt.datetime(1899, 12, 30)
DATE_PATTERNS = {"ru_RU": "%d.%m.%Y", "en_US": "%m/%d/%Y"}


# ---------------------------------------------------------------- the model


@dataclass
class Cell:
    """One cell: `value` (number, text, bool; a date's serial), `formula` text, `kind`
    ("DATE" / "DATE_TIME" for a date format, else None) and the date `pattern` shown."""

    value: Any = None
    formula: str | None = None
    kind: str | None = None
    pattern: str | None = None

    def state(self) -> tuple[Any, str | None]:
        return (self.value, self.formula)


@dataclass
class Sheet:
    sheet_id: int
    title: str
    rows: int = 1000
    cols: int = 26
    hidden: bool = False
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)


@dataclass
class Book:
    spreadsheet_id: str
    title: str
    locale: str = "en_US"
    sheets: list[Sheet] = field(default_factory=list)
    next_sheet_id: int = 1

    def sheet(self, title: str) -> Sheet:
        for s in self.sheets:
            if s.title == title:
                return s
        raise ApiError(400, f"Unable to parse range: {quote_sheet(title)}", "INVALID_ARGUMENT")

    def add(self, title: str, rows: int = 1000, cols: int = 26, hidden: bool = False) -> Sheet:
        if any(s.title == title for s in self.sheets):
            raise ApiError(
                400,
                f'Invalid requests[0].addSheet: A sheet with the name "{title}" already exists.',
                "INVALID_ARGUMENT",
            )
        sheet = Sheet(self.next_sheet_id, title, rows, cols, hidden)
        self.next_sheet_id += 1
        self.sheets.append(sheet)
        return sheet


class ApiError(Exception):
    def __init__(self, code: int, message: str, status: str) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "status": self.status}}


# ---------------------------------------------------------------- A1 notation


def quote_sheet(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def col_letters(col: int) -> str:
    out = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


_CELL = re.compile(r"^([A-Za-z]*)(\d*)$")


@dataclass
class Range:
    """A parsed A1 range: sheet title and 1-based inclusive bounds (None = open)."""

    sheet: str | None
    r1: int | None = None
    c1: int | None = None
    r2: int | None = None
    c2: int | None = None


def parse_a1(text: str) -> Range:
    text = text.strip()
    sheet: str | None = None
    rest = text
    if text.startswith("'"):
        i, title = 1, ""
        while i < len(text):
            if text[i] == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    title += "'"
                    i += 2
                    continue
                break
            title += text[i]
            i += 1
        else:
            raise ApiError(400, f"Unable to parse range: {text}", "INVALID_ARGUMENT")
        sheet, rest = title, text[i + 1 :]
        if rest.startswith("!"):
            rest = rest[1:]
        elif rest:
            raise ApiError(400, f"Unable to parse range: {text}", "INVALID_ARGUMENT")
    elif "!" in text:
        sheet, rest = text.split("!", 1)
    elif not _is_cells(text):
        sheet, rest = text, ""
    if rest == "":
        return Range(sheet)
    parts = rest.split(":")
    if len(parts) > 2 or not all(_CELL.match(p) and p for p in parts):
        raise ApiError(400, f"Unable to parse range: {text}", "INVALID_ARGUMENT")
    m1 = _CELL.match(parts[0])
    m2 = _CELL.match(parts[-1])
    assert m1 and m2
    c1 = col_number(m1[1]) if m1[1] else None
    r1 = int(m1[2]) if m1[2] else None
    c2 = col_number(m2[1]) if m2[1] else None
    r2 = int(m2[2]) if m2[2] else None
    if len(parts) == 1 and (c1 is None or r1 is None):
        raise ApiError(400, f"Unable to parse range: {text}", "INVALID_ARGUMENT")
    if len(parts) == 2 and m2[1] and not m2[2] and m1[2]:
        r2 = None  # "A5:C" — rows from 5 down
    return Range(sheet, r1, c1, r2, c2)


def _is_cells(text: str) -> bool:
    parts = text.split(":")
    return 0 < len(parts) <= 2 and all(p and _CELL.match(p) for p in parts)


# ---------------------------------------------------------------- values in and out


def to_serial(value: dt.date) -> float:
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    delta = value - EPOCH
    return delta.days + delta.seconds / 86400


def from_serial(serial: float) -> dt.datetime:
    return EPOCH + dt.timedelta(days=serial)


def typed_cell(value: Any, locale: str) -> Cell:
    """A Python value as the sheet would hold it (used to seed sheets)."""
    if value is None:
        return Cell()
    if isinstance(value, str) and value.startswith("="):
        return Cell(formula=value)
    if isinstance(value, dt.datetime):
        return Cell(to_serial(value), kind="DATE_TIME", pattern=DATE_PATTERNS.get(locale))
    if isinstance(value, dt.date):
        return Cell(to_serial(value), kind="DATE", pattern=DATE_PATTERNS.get(locale))
    return Cell(value)


_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$")


def parse_user_entered(value: Any, locale: str) -> Cell:
    """USER_ENTERED: what Sheets makes of a typed value."""
    if not isinstance(value, str):
        return Cell(value)
    if value == "":
        return Cell()
    if value.startswith("'"):
        return Cell(value[1:])
    if value.startswith("="):
        return Cell(formula=value)
    if value.upper() in ("TRUE", "FALSE"):
        return Cell(value.upper() == "TRUE")
    m = _ISO.match(value.strip())
    if m:
        y, mo, d, hh, mi, ss = m.groups()
        when = dt.datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0))
        kind = "DATE_TIME" if hh else "DATE"
        return Cell(to_serial(when), kind=kind, pattern="%Y-%m-%d")
    text = value.strip().replace("\u00a0", "").replace(" ", "")
    if locale.startswith("ru"):
        text = text.replace(",", ".") if "." not in text else "x"
    else:
        text = text.replace(",", "")
    try:
        number = float(text)
    except ValueError:
        return Cell(value)
    return Cell(int(number) if number.is_integer() and "." not in text else number)


def render(cell: Cell, value_option: str, date_option: str, locale: str) -> Any:
    if value_option == "FORMULA" and cell.formula is not None:
        return cell.formula
    v = cell.value
    if v is None:
        return ""
    if cell.kind and isinstance(v, (int, float)) and not isinstance(v, bool):
        if value_option == "FORMATTED_VALUE" or date_option == "FORMATTED_STRING":
            when = from_serial(float(v))
            text = when.strftime(cell.pattern or "%Y-%m-%d")
            if cell.kind == "DATE_TIME":
                text += when.strftime(" %H:%M:%S")
            return text
        return v
    if value_option == "FORMATTED_VALUE":
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if isinstance(v, (int, float)):
            text = f"{v:g}" if isinstance(v, float) else str(v)
            return text.replace(".", ",") if locale.startswith("ru") else text
        return str(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


# ---------------------------------------------------------------- faults and quota


@dataclass
class Fault:
    """What the next request gets: an HTTP `status` (429, 500, ...) or a `delay` in seconds
    before the normal answer; only requests of `method` when given."""

    status: int | None = None
    delay: float = 0.0
    method: str | None = None


class SheetsDouble:
    """The double: start with `start()` (or as a context manager), seed with `add_book`."""

    def __init__(self, reads_per_minute: int = 60, writes_per_minute: int = 60) -> None:
        self.books: dict[str, Book] = {}
        self.reads_per_minute = reads_per_minute
        self.writes_per_minute = writes_per_minute
        self.log: list[tuple[str, str]] = []
        self.bodies: list[tuple[str, Any]] = []
        """(path, JSON body) of every POST, in order."""
        self.faults: deque[Fault] = deque()
        self.lock = threading.RLock()
        self.clock_offset = 0.0
        self._usage: dict[tuple[str, str], deque[float]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.service_accounts: dict[str, str] = {}
        """Service-account email -> public key (PEM) the token endpoint verifies with."""
        self.tokens: dict[str, str] = {}
        """Access token -> the account it was issued to."""
        self.require_auth = False
        """When true, Sheets calls need ``Authorization: Bearer`` with an issued token."""

    # -- lifecycle
    @property
    def url(self) -> str:
        assert self._server is not None, "start() the double first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> SheetsDouble:
        double = self

        class Handler(_Handler):
            pass

        Handler.double = double
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> SheetsDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- seeding and inspecting
    def add_book(self, spreadsheet_id: str, title: str = "Plan", locale: str = "en_US") -> Book:
        with self.lock:
            book = Book(spreadsheet_id, title, locale)
            self.books[spreadsheet_id] = book
            return book

    def seed(
        self, spreadsheet_id: str, sheet: str, rows: list[list[Any]], hidden: bool = False
    ) -> Sheet:
        """A new sheet holding `rows` from A1 (None = blank; "=..." a formula; dates as dates).
        A row item may be a `Cell` to give a formula its computed value."""
        with self.lock:
            book = self.books[spreadsheet_id]
            n_rows = max(1000, len(rows) + 10)
            n_cols = max([26, *(len(r) + 1 for r in rows)])
            s = book.add(sheet, n_rows, n_cols, hidden)
            for i, line in enumerate(rows):
                for j, v in enumerate(line):
                    cell = v if isinstance(v, Cell) else typed_cell(v, book.locale)
                    if cell.value is not None or cell.formula is not None:
                        s.cells[(i + 1, j + 1)] = cell
            return s

    def snapshot(self, spreadsheet_id: str) -> dict[str, dict[tuple[int, int], tuple[Any, Any]]]:
        """Every non-blank cell's (value, formula) by sheet and (row, col)."""
        with self.lock:
            return {
                s.title: {
                    k: c.state()
                    for k, c in s.cells.items()
                    if c.value is not None or c.formula is not None
                }
                for s in self.books[spreadsheet_id].sheets
            }

    def cell(self, spreadsheet_id: str, sheet: str, row: int, col: int) -> Cell:
        with self.lock:
            return self.books[spreadsheet_id].sheet(sheet).cells.get((row, col), Cell())

    # -- controls
    def inject(self, fault: Fault, count: int = 1) -> None:
        with self.lock:
            self.faults.extend(Fault(fault.status, fault.delay, fault.method) for _ in range(count))

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def advance(self, seconds: float) -> None:
        """Move the quota clock forward (a new minute without waiting for it)."""
        with self.lock:
            self.clock_offset += seconds

    def reset_log(self) -> None:
        with self.lock:
            self.log.clear()
            self.bodies.clear()

    def count(self, method: str | None = None, suffix: str | None = None) -> int:
        """Requests logged, optionally of one method and with a path ending in `suffix`."""
        with self.lock:
            return sum(
                1
                for m, p in self.log
                if (method is None or m == method) and (suffix is None or p.endswith(suffix))
            )

    def now(self) -> float:
        return time.monotonic() + self.clock_offset

    # -- request handling (called by the handler thread)
    def take_fault(self, method: str) -> Fault | None:
        with self.lock:
            if self.faults and self.faults[0].method in (None, method):
                return self.faults.popleft()
            return None

    def charge(self, user: str, method: str) -> None:
        kind, limit = (
            ("Read", self.reads_per_minute)
            if method == "GET"
            else ("Write", self.writes_per_minute)
        )
        with self.lock:
            window = self._usage.setdefault((user, kind), deque())
            now = self.now()
            while window and window[0] <= now - 60:
                window.popleft()
            if len(window) >= limit:
                raise ApiError(
                    429,
                    f"Quota exceeded for quota metric '{kind} requests' and limit "
                    f"'{kind} requests per minute per user' of service "
                    "'sheets.googleapis.com'.",
                    "RESOURCE_EXHAUSTED",
                )
            window.append(now)

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        m = re.match(r"^/v4/spreadsheets/([^/:]+)(.*)$", path)
        if not m:
            raise ApiError(404, f"no such endpoint {path}", "NOT_FOUND")
        sid, rest = m[1], m[2]
        with self.lock:
            book = self.books.get(sid)
            if book is None:
                raise ApiError(404, "Requested entity was not found.", "NOT_FOUND")
            if method == "GET" and rest == "":
                return self.metadata(book)
            if method == "GET" and rest == "/values:batchGet":
                return {
                    "spreadsheetId": sid,
                    "valueRanges": [self.read(book, r, query) for r in query.get("ranges", [])],
                }
            if method == "GET" and rest.startswith("/values/"):
                return self.read(book, unquote(rest[len("/values/") :]), query)
            if method == "POST" and rest == "/values:batchUpdate":
                return self.write(book, body or {})
            if method == "POST" and rest == ":batchUpdate":
                return self.batch_update(book, body or {})
        raise ApiError(404, f"no such endpoint {method} {path}", "NOT_FOUND")

    def token(self, form: str) -> tuple[int, dict[str, Any]]:
        """Google's OAuth token endpoint, for a service account's signed JWT (the JWT-bearer
        grant): the assertion's RS256 signature is checked against the registered public key,
        its audience, scope and expiry too; an access token comes back."""
        from google.auth import jwt

        fields = {k: v[0] for k, v in parse_qs(form).items()}
        if fields.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type"}
        assertion = fields.get("assertion", "")
        try:
            claims = jwt.decode(assertion, verify=False)
            key = self.service_accounts.get(str(claims.get("iss")))
            if key is None:
                return 400, {"error": "invalid_grant", "error_description": "Invalid account"}
            # google-auth signs for Google's token URI whatever the key file's token_uri says
            jwt.decode(assertion, certs=key, audience=GOOGLE_TOKEN_AUDIENCE)
        except ValueError as exc:
            return 400, {"error": "invalid_grant", "error_description": f"Invalid JWT: {exc}"}
        if "https://www.googleapis.com/auth/spreadsheets" not in str(claims.get("scope", "")):
            return 400, {"error": "invalid_scope"}
        with self.lock:
            token = f"ya29.double-{len(self.tokens) + 1}"
            self.tokens[token] = str(claims["iss"])
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def service_account_file(
        self,
        folder: Any,
        email: str = "funnelplan@test.iam.gserviceaccount.com",
        register: bool = True,
    ) -> Any:
        """Write a service account's JSON key (a fresh RSA key) whose ``token_uri`` is this
        double's token endpoint, register its public key (unless `register` is false: a key
        Google does not know), and return the file's path."""
        from pathlib import Path

        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public = (
            private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        if register:
            self.service_accounts[email] = public
        info = {
            "type": "service_account",
            "project_id": "funnelplan-test",
            "private_key_id": "test-key-1",
            "private_key": pem,
            "client_email": email,
            "client_id": "1",
            "token_uri": self.url + TOKEN_PATH,
        }
        path = Path(folder) / "service-account.json"
        path.write_text(json.dumps(info), encoding="utf-8")
        return path

    def metadata(self, book: Book) -> dict[str, Any]:
        sheets = []
        for index, s in enumerate(book.sheets):
            props: dict[str, Any] = {
                "sheetId": s.sheet_id,
                "title": s.title,
                "index": index,
                "sheetType": "GRID",
                "gridProperties": {"rowCount": s.rows, "columnCount": s.cols},
            }
            if s.hidden:
                props["hidden"] = True
            sheets.append({"properties": props})
        return {
            "spreadsheetId": book.spreadsheet_id,
            "properties": {
                "title": book.title,
                "locale": book.locale,
                "autoRecalc": "ON_CHANGE",
                "timeZone": "Europe/Moscow",
            },
            "sheets": sheets,
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book.spreadsheet_id}/edit",
        }

    def _bounds(self, book: Book, text: str) -> tuple[Sheet, int, int, int, int]:
        rng = parse_a1(text)
        sheet = book.sheet(rng.sheet) if rng.sheet is not None else book.sheets[0]
        r1, c1 = rng.r1 or 1, rng.c1 or 1
        r2 = rng.r2 if rng.r2 is not None else sheet.rows
        c2 = rng.c2 if rng.c2 is not None else sheet.cols
        if rng.r1 is not None and rng.r2 is None and rng.c1 is not None and rng.c2 is not None:
            r2 = sheet.rows  # "A5:C"
        if r2 < r1 or c2 < c1:
            r1, r2, c1, c2 = min(r1, r2), max(r1, r2), min(c1, c2), max(c1, c2)
        return sheet, r1, c1, r2, c2

    def read(self, book: Book, text: str, query: dict[str, list[str]]) -> dict[str, Any]:
        value_option = query.get("valueRenderOption", ["FORMATTED_VALUE"])[0]
        date_option = query.get("dateTimeRenderOption", ["SERIAL_NUMBER"])[0]
        if query.get("majorDimension", ["ROWS"])[0] != "ROWS":
            raise ApiError(400, "the double only serves majorDimension=ROWS", "INVALID_ARGUMENT")
        sheet, r1, c1, r2, c2 = self._bounds(book, text)
        if r2 > sheet.rows or c2 > sheet.cols:
            raise ApiError(
                400,
                f"Range ({quote_sheet(sheet.title)}!{col_letters(c2)}{r2}) exceeds grid limits. "
                f"Max rows: {sheet.rows}, max columns: {sheet.cols}",
                "INVALID_ARGUMENT",
            )
        grid: list[list[Any]] = []
        for r in range(r1, r2 + 1):
            line = [
                render(sheet.cells.get((r, c), Cell()), value_option, date_option, book.locale)
                for c in range(c1, c2 + 1)
            ]
            while line and line[-1] == "":
                line.pop()
            grid.append(line)
        while grid and not grid[-1]:
            grid.pop()
        out: dict[str, Any] = {
            "range": f"{quote_sheet(sheet.title)}!{col_letters(c1)}{r1}:{col_letters(c2)}{r2}",
            "majorDimension": "ROWS",
        }
        if grid:
            out["values"] = grid
        return out

    def write(self, book: Book, body: dict[str, Any]) -> dict[str, Any]:
        option = body.get("valueInputOption")
        if option not in ("RAW", "USER_ENTERED"):
            raise ApiError(
                400, "Invalid valueInputOption: must be RAW or USER_ENTERED", "INVALID_ARGUMENT"
            )
        plan: list[tuple[Sheet, int, int, list[list[Any]]]] = []
        for item in body.get("data", []):  # check everything before changing anything
            if item.get("majorDimension", "ROWS") != "ROWS":
                raise ApiError(400, "the double only takes ROWS", "INVALID_ARGUMENT")
            sheet, r1, c1, r2, c2 = self._bounds(book, item["range"])
            values = item.get("values", [])
            if len(values) > r2 - r1 + 1 or any(len(v) > c2 - c1 + 1 for v in values):
                raise ApiError(
                    400,
                    f"Requested writing within range [{item['range']}], but tried writing "
                    "outside of it",
                    "INVALID_ARGUMENT",
                )
            for line in values:
                for v in line:
                    if isinstance(v, (list, dict)):
                        raise ApiError(400, f"Invalid value {v!r}", "INVALID_ARGUMENT")
            plan.append((sheet, r1, c1, values))
        responses, total = [], 0
        for sheet, r1, c1, values in plan:
            n = 0
            for i, line in enumerate(values):
                for j, v in enumerate(line):
                    if v is None:
                        continue  # null: leave the cell as it is
                    n += 1
                    cell = (
                        parse_user_entered(v, book.locale)
                        if option == "USER_ENTERED"
                        else Cell(None if v == "" else v)
                    )
                    key = (r1 + i, c1 + j)
                    if cell.value is None and cell.formula is None:
                        sheet.cells.pop(key, None)
                    else:
                        sheet.cells[key] = cell
            if values:
                sheet.rows = max(sheet.rows, r1 + len(values) - 1)
                sheet.cols = max(sheet.cols, c1 + max(len(v) for v in values) - 1)
            total += n
            responses.append({"spreadsheetId": book.spreadsheet_id, "updatedCells": n})
        return {
            "spreadsheetId": book.spreadsheet_id,
            "totalUpdatedCells": total,
            "responses": responses,
        }

    def batch_update(self, book: Book, body: dict[str, Any]) -> dict[str, Any]:
        requests = body.get("requests", [])
        titles = [s.title for s in book.sheets]
        ids = {s.sheet_id for s in book.sheets}
        for i, req in enumerate(requests):  # check first: the call is all-or-nothing
            if "addSheet" in req:
                title = req["addSheet"].get("properties", {}).get("title")
                if not title or title in titles:
                    raise ApiError(
                        400,
                        f'Invalid requests[{i}].addSheet: A sheet with the name "{title}" '
                        "already exists.",
                        "INVALID_ARGUMENT",
                    )
                titles.append(title)
            elif "deleteSheet" in req:
                if req["deleteSheet"].get("sheetId") not in ids:
                    raise ApiError(
                        400, f"No sheet with id {req['deleteSheet']}", "INVALID_ARGUMENT"
                    )
            else:
                raise ApiError(400, f"the double does not serve {sorted(req)}", "INVALID_ARGUMENT")
        replies: list[dict[str, Any]] = []
        for req in requests:
            if "addSheet" in req:
                props = req["addSheet"].get("properties", {})
                grid = props.get("gridProperties", {})
                s = book.add(
                    props["title"],
                    grid.get("rowCount", 1000),
                    grid.get("columnCount", 26),
                    bool(props.get("hidden", False)),
                )
                replies.append(
                    {
                        "addSheet": {
                            "properties": {
                                "sheetId": s.sheet_id,
                                "title": s.title,
                                "index": len(book.sheets) - 1,
                                "sheetType": "GRID",
                                "hidden": s.hidden,
                                "gridProperties": {"rowCount": s.rows, "columnCount": s.cols},
                            }
                        }
                    }
                )
            else:
                sid = req["deleteSheet"]["sheetId"]
                book.sheets = [s for s in book.sheets if s.sheet_id != sid]
                replies.append({})
        return {"spreadsheetId": book.spreadsheet_id, "replies": replies}


class _Handler(BaseHTTPRequestHandler):
    double: SheetsDouble
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        split = urlsplit(self.path)
        path = unquote(split.path)
        query = parse_qs(split.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        double = self.double
        if method == "POST" and path == TOKEN_PATH:
            with double.lock:
                double.log.append((method, path))
            status, payload = double.token(raw.decode())
            self._send(status, payload)
            return
        if double.require_auth:
            bearer = self.headers.get("Authorization", "")
            if not bearer.startswith("Bearer ") or bearer[7:] not in double.tokens:
                with double.lock:
                    double.log.append((method, path))
                self._send(
                    401,
                    ApiError(
                        401,
                        "Request is missing required authentication credential.",
                        "UNAUTHENTICATED",
                    ).body(),
                )
                return
        with double.lock:
            double.log.append((method, path))
            if method == "POST":
                double.bodies.append((path, json.loads(raw) if raw else None))
        fault = double.take_fault(method)
        try:
            if fault is not None and fault.delay:
                time.sleep(fault.delay)
            if fault is not None and fault.status is not None:
                status = HTTPStatus(fault.status)
                raise ApiError(
                    fault.status,
                    "injected fault" if fault.status != 429 else "Quota exceeded (injected)",
                    "RESOURCE_EXHAUSTED" if fault.status == 429 else status.name,
                )
            user = self.headers.get("Authorization") or "anonymous"
            double.charge(user, method)
            body = json.loads(raw) if raw else None
            result = double.handle(method, path, query, body)
            self._send(200, result)
        except ApiError as exc:
            self._send(exc.code, exc.body())
        except (KeyError, ValueError, TypeError) as exc:
            self._send(400, ApiError(400, f"bad request: {exc}", "INVALID_ARGUMENT").body())

    def _send(self, code: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
            pass


# ---------------------------------------------------------------- gspread wiring


Snapshot = dict[str, dict[tuple[int, int], tuple[Any, Any]]]


def changed_cells(before: Snapshot, after: Snapshot) -> set[tuple[str, tuple[int, int]]]:
    """The (sheet, (row, col)) cells whose value or formula differ between two snapshots."""
    return {
        (s, k)
        for s in set(after) | set(before)
        for k in set(after.get(s, {})) | set(before.get(s, {}))
        if after.get(s, {}).get(k) != before.get(s, {}).get(k)
    }


def double_session(base_url: str) -> Any:
    """A google-auth `AuthorizedSession` (anonymous credentials) sending Sheets API calls to
    `base_url` instead of https://sheets.googleapis.com: the production `rooted_session`."""
    from google.auth.credentials import AnonymousCredentials

    from sheets_sync.google_http import rooted_session

    return rooted_session(AnonymousCredentials(), base_url)


def gspread_client(base_url: str) -> Any:
    """An unmodified `gspread.Client` whose session talks to the double at `base_url`."""
    import gspread
    from google.auth.credentials import AnonymousCredentials

    return gspread.Client(auth=AnonymousCredentials(), session=double_session(base_url))
