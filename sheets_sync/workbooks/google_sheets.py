"""The Google Sheets adapter of the workbook interface (gspread + google-auth).

`GoogleSheetsWorkbook(spreadsheet_id, client=None, credentials_file=None, notify=None)` gives
a Google Sheet the same guarantees as the .xlsx adapter: actions read tables by their
headers, stage blocks, and `save()` commits them together; cells outside the staged blocks
are never sent, and a save that fails leaves the sheet as it was.

Requests (Sheets API v4, all through gspread's `HTTPClient`, unmodified):

* opening: one ``GET spreadsheets/{id}`` (metadata: title, locale, sheets and grid sizes);
* reading: the first read after opening (or after a save) fetches every sheet in ONE
  ``values:batchGet`` (``valueRenderOption=UNFORMATTED_VALUE``,
  ``dateTimeRenderOption=FORMATTED_STRING``); later `read_table` calls read that snapshot,
  with the staged writes laid over it. `read_cells` needs formulas as their text, so its first
  call fetches every sheet once more with ``valueRenderOption=FORMULA``;
* saving: new sheets first, in one ``spreadsheets:batchUpdate`` of ``addSheet`` requests, then
  every staged block in ONE ``values:batchUpdate`` (``valueInputOption=USER_ENTERED``, each
  block its own range, so only owned cells are sent). A Refresh Run-Rate is therefore
  3 requests: metadata, one batchGet, one values:batchUpdate.

Decisions:

* numbers are read unformatted: a Russian-locale sheet's 1,5 arrives as the JSON number 1.5;
  whole numbers arrive as ints (the API sends 5 for 5.0);
* dates are read as FORMATTED_STRING (a serial number cannot be told from a number without
  the cell's format, which values:batchGet does not return) and a text that reads as a date
  in ISO form (``2026-11-15``, with an optional time), as ``dd.mm.yyyy``, or as the sheet
  locale's slash form (``m/d/yyyy`` in ``en_US``, ``dd/mm/yyyy`` elsewhere) becomes a
  `datetime.date` (`datetime.datetime` with a time); a date typed as text in one of those
  forms reads as a date too;
* writes are USER_ENTERED so that ``=...`` becomes a formula and a `date` (sent as ISO text)
  becomes a date; any other text is sent with Sheets' quote prefix (``'text``) so it stays
  the text it was (``"1,5"`` or ``"007"`` are not turned into numbers); `None` clears a cell
  (sent as ``""``); NaN and infinities are refused;
* retries: 408, 429, 5xx, timeouts and dropped connections are retried with exponential
  backoff and full jitter (a ``Retry-After`` header is honoured), at most `max_tries` (5)
  tries per request, then a `SheetsApiError` saying what failed and that nothing was
  written. gspread's `BackOffHTTPClient` is not used: it never gives up on a constant 429.
  A write retried after a timeout may have landed the first time; repeating it writes the
  same values, so it is harmless;
* rate limit: a client-side sliding window keeps each credential (process-wide) under
  `WRITES_PER_MINUTE` (50) writes and `READS_PER_MINUTE` (50) reads a minute, below the API's
  60-per-minute-per-user quotas, by waiting before a request that would exceed it;
* atomicity: one ``values:batchUpdate`` is applied by the API as a whole or not at all, so a
  failed save changes no cell. Sheets added by the same save are created by the call before
  it; if the values call then fails, they are deleted again (best effort) before the error
  is raised;
* credentials: a `gspread.Client` may be passed (tests, an app's own auth); else
  `open_client` reads ``credentials_file`` (else ``GOOGLE_APPLICATION_CREDENTIALS``): a service
  account's JSON key, or an OAuth user's authorized-user JSON (``refresh_token``), with the
  single scope ``https://www.googleapis.com/auth/spreadsheets``. Timeouts: `timeout`
  (connect 10 s, read 60 s by default) via ``client.set_timeout``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import os
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import gspread
import requests
from google.auth.exceptions import RefreshError, TransportError
from gspread.exceptions import APIError

from sheets_sync.workbooks.interface import Table, WorkbookError, column_letter, scan_table

__all__ = [
    "READS_PER_MINUTE",
    "SCOPES",
    "WRITES_PER_MINUTE",
    "GoogleSheetsWorkbook",
    "RateLimiter",
    "SheetsApiError",
    "account_email",
    "load_credentials",
    "open_client",
    "rooted_session",
]

SCOPES: tuple[str, ...] = ("https://www.googleapis.com/auth/spreadsheets",)
WRITES_PER_MINUTE = 50
READS_PER_MINUTE = 50
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
READ_PARAMS: dict[str, str] = {
    "valueRenderOption": "UNFORMATTED_VALUE",
    "dateTimeRenderOption": "FORMATTED_STRING",
    "majorDimension": "ROWS",
}
FORMULA_PARAMS: dict[str, str] = {**READ_PARAMS, "valueRenderOption": "FORMULA"}

T = TypeVar("T")


class SheetsApiError(WorkbookError):
    """The Sheets API refused or kept failing a request (after the bounded retries)."""


class RateLimiter:
    """At most `limit` calls in any `period` seconds: `acquire()` waits until one is free."""

    def __init__(
        self,
        limit: int,
        period: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit, self.period, self.clock, self.sleep = limit, period, clock, sleep
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take a slot, waiting if needed; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self.clock()
                while self._calls and self._calls[0] <= now - self.period:
                    self._calls.popleft()
                if len(self._calls) < self.limit:
                    self._calls.append(now)
                    return waited
                pause = self._calls[0] + self.period - now
            self.sleep(pause)
            waited += pause


_LIMITERS: dict[tuple[str, str], RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def _limiter(user: str, kind: str) -> RateLimiter:
    with _LIMITERS_LOCK:
        key = (user, kind)
        if key not in _LIMITERS:
            limit = WRITES_PER_MINUTE if kind == "write" else READS_PER_MINUTE
            _LIMITERS[key] = RateLimiter(limit)
        return _LIMITERS[key]


def load_credentials(credentials_file: Path | str | None = None) -> Any:
    """Service-account or OAuth-user credentials from a JSON file, spreadsheets scope only."""
    path = credentials_file or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if not path:
        raise WorkbookError(
            "no Google credentials: pass a credentials file (a service account's JSON key or "
            "an OAuth authorized-user file) or set GOOGLE_APPLICATION_CREDENTIALS"
        )
    try:
        info = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WorkbookError(f"cannot read Google credentials from {path}: {exc}") from exc
    kind = info.get("type")
    if kind == "service_account":
        from google.oauth2.service_account import Credentials as ServiceCredentials

        return ServiceCredentials.from_service_account_info(info, scopes=list(SCOPES))
    if kind == "authorized_user":
        from google.oauth2.credentials import Credentials as UserCredentials

        return UserCredentials.from_authorized_user_info(info, scopes=list(SCOPES))
    raise WorkbookError(
        f"{path} is neither a service account key nor an OAuth authorized-user file (type {kind!r})"
    )


def _credentials(client: gspread.Client) -> Any:
    http = client.http_client
    return getattr(http, "auth", None) or getattr(http.session, "credentials", None)


def account_email(client: gspread.Client) -> str | None:
    """The service account's email (what a sheet must be shared with); None for OAuth users."""
    email = getattr(_credentials(client), "service_account_email", None)
    return email if isinstance(email, str) else None


GOOGLE_ORIGIN = "https://sheets.googleapis.com"
API_ROOT_ENV = "FUNNELPLAN_SHEETS_API_ROOT"


def open_client(
    credentials_file: Path | str | None = None, api_root: str | None = None
) -> gspread.Client:
    """An unmodified `gspread.Client` on the credentials in `credentials_file` (see
    `load_credentials`). `api_root` (else ``FUNNELPLAN_SHEETS_API_ROOT``) sends the Sheets
    API calls to another origin than https://sheets.googleapis.com: a company proxy, or a
    local test double. The token exchange goes wherever the credentials file's ``token_uri``
    says."""
    credentials = load_credentials(credentials_file)
    root = (api_root or os.environ.get(API_ROOT_ENV) or "").rstrip("/")
    if not root or root == GOOGLE_ORIGIN:
        return gspread.Client(auth=credentials)
    return gspread.Client(auth=credentials, session=rooted_session(credentials, root))


def rooted_session(credentials: Any, root: str) -> Any:
    """A google-auth `AuthorizedSession` sending the Sheets API's calls to `root` instead of
    https://sheets.googleapis.com (gspread's custom-session hook; gspread is unmodified)."""
    from google.auth.transport.requests import AuthorizedSession

    class RootedSession(AuthorizedSession):
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            if url.startswith(GOOGLE_ORIGIN):
                url = root + url[len(GOOGLE_ORIGIN) :]
            return super().request(method, url, *args, **kwargs)

    return RootedSession(credentials)


class GoogleSheetsWorkbook:
    """A Google Sheet seen through the workbook interface."""

    def __init__(
        self,
        spreadsheet_id: str,
        client: gspread.Client | None = None,
        credentials_file: Path | str | None = None,
        notify: Callable[[str], None] | None = None,
        *,
        timeout: float | tuple[float, float] = (10.0, 60.0),
        max_tries: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 32.0,
        sleep: Callable[[float], None] = time.sleep,
        write_limiter: RateLimiter | None = None,
        read_limiter: RateLimiter | None = None,
    ) -> None:
        if client is None:
            client = open_client(credentials_file)
        self.client = client
        self.client.set_timeout(timeout)
        self.http = client.http_client
        self.spreadsheet_id = spreadsheet_id
        self.max_tries = max(1, max_tries)
        self.backoff, self.max_backoff, self._sleep = backoff, max_backoff, sleep
        user = account_email(client) or str(id(_credentials(client)))
        self._writes = write_limiter or _limiter(user, "write")
        self._reads = read_limiter or _limiter(user, "read")
        self._notify = notify or (lambda message: None)
        self.messages: list[str] = []
        self.requests: list[str] = []
        """What this workbook sent, one entry per HTTP attempt (for request counts)."""
        meta = self._call(
            "read", "open the spreadsheet", self.http.fetch_sheet_metadata, spreadsheet_id
        )
        self._title: str = meta.get("properties", {}).get("title", spreadsheet_id)
        self.locale: str = meta.get("properties", {}).get("locale", "en_US")
        self._sheets: list[str] = []
        for s in meta.get("sheets", []):
            self._sheets.append(s.get("properties", {})["title"])
        self._values: dict[str, list[list[Any]]] | None = None
        self._formulas: dict[str, list[list[Any]]] | None = None
        self._staged: list[tuple[str, int, int, list[list[Any]]]] = []
        self._new_sheets: list[tuple[str, bool]] = []

    # ------------------------------------------------------------ the interface

    @property
    def name(self) -> str:
        return getattr(self, "_title", self.spreadsheet_id)

    def sheet_names(self) -> list[str]:
        return list(self._sheets)

    def _check(self, sheet: str) -> None:
        if sheet not in self._sheets:
            raise WorkbookError(f"workbook {self.name} has no sheet `{sheet}`")

    def read_table(
        self,
        sheet: str,
        header_row: int = 1,
        first_col: int = 1,
        stop_labels: Iterable[str] = (),
    ) -> Table:
        self._check(sheet)
        grid = self._snapshot("values")[sheet]
        headers = (_at(grid, header_row, c) for c in itertools.count(first_col))

        def rows(width: int) -> Iterator[list[Any]]:
            for r in range(header_row + 1, len(grid) + 1):
                yield [_at(grid, r, first_col + j) for j in range(width)]

        return scan_table(sheet, header_row, first_col, stop_labels, headers, rows)

    def read_cells(
        self, sheet: str, row: int, col: int, n_rows: int, n_cols: int, formulas: bool = True
    ) -> list[list[Any]]:
        self._check(sheet)
        grid = self._snapshot("formulas" if formulas else "values")[sheet]
        return [[_at(grid, row + i, col + j) for j in range(n_cols)] for i in range(n_rows)]

    def write_block(self, sheet: str, row: int, col: int, values: Sequence[Sequence[Any]]) -> None:
        """Stage `values` (reads see them; the sheet changes only on `save`)."""
        self._check(sheet)
        if row < 1 or col < 1:
            raise WorkbookError(f"cannot write to row {row}, column {col} of `{sheet}`")
        block = [list(line) for line in values]
        for i, line in enumerate(block):
            for j, v in enumerate(line):
                _to_api(v, f"{sheet}!{column_letter(col + j)}{row + i}")  # refuse bad values now
        if not block or not any(block):
            return
        self._staged.append((sheet, row, col, block))
        for kind, grid_by_sheet in (("values", self._values), ("formulas", self._formulas)):
            if grid_by_sheet is not None:
                _overlay(grid_by_sheet.setdefault(sheet, []), kind, row, col, block)

    def add_sheet(self, sheet: str, hidden: bool = False) -> None:
        if sheet in self._sheets:
            raise WorkbookError(f"workbook {self.name} already has a sheet `{sheet}`")
        self._sheets.append(sheet)
        self._new_sheets.append((sheet, hidden))
        for grid_by_sheet in (self._values, self._formulas):
            if grid_by_sheet is not None:
                grid_by_sheet[sheet] = []

    def save(self) -> None:
        """Add the staged sheets (one batchUpdate), then write every staged block in one
        values:batchUpdate; on failure nothing is changed (new sheets are removed again)."""
        if not self._staged and not self._new_sheets:
            return
        added: list[int] = []
        if self._new_sheets:
            body: dict[str, Any] = {
                "requests": [
                    {"addSheet": {"properties": {"title": title, "hidden": hidden}}}
                    for title, hidden in self._new_sheets
                ]
            }
            reply = self._call(
                "write", "add sheets", self.http.batch_update, self.spreadsheet_id, body
            )
            for r in reply.get("replies", []):
                added.append(r.get("addSheet", {}).get("properties", {}).get("sheetId"))
        data = [
            {
                "range": _a1(sheet, row, col, len(block), max(len(line) for line in block)),
                "majorDimension": "ROWS",
                "values": [
                    [
                        _to_api(v, f"{sheet}!{column_letter(col + j)}{row + i}")
                        for j, v in enumerate(line)
                    ]
                    for i, line in enumerate(block)
                ],
            }
            for sheet, row, col, block in self._staged
        ]
        if data:
            values_body: dict[str, Any] = {"valueInputOption": "USER_ENTERED", "data": data}
            try:
                self._call(
                    "write",
                    "write the staged cells",
                    self.http.values_batch_update,
                    self.spreadsheet_id,
                    values_body,
                )
            except BaseException:
                if added:
                    self._drop_sheets(added)
                raise
        self._new_sheets.clear()
        self._staged.clear()
        self._values = self._formulas = None  # formulas may have recomputed: read afresh

    def notify(self, message: str) -> None:
        self.messages.append(message)
        self._notify(message)

    # ------------------------------------------------------------ internals

    def _drop_sheets(self, sheet_ids: list[int]) -> None:
        body = {"requests": [{"deleteSheet": {"sheetId": sid}} for sid in sheet_ids]}
        try:
            self._call(
                "write",
                "remove the sheets just added",
                self.http.batch_update,
                self.spreadsheet_id,
                body,
            )
        except WorkbookError as exc:
            self.notify(f"could not remove the sheets added by the failed save: {exc}")

    def _snapshot(self, kind: str) -> dict[str, list[list[Any]]]:
        current = self._values if kind == "values" else self._formulas
        if current is not None:
            return current
        remote = [s for s in self._sheets if s not in {t for t, _ in self._new_sheets}]
        params = dict(READ_PARAMS if kind == "values" else FORMULA_PARAMS)
        reply = self._call(
            "read",
            "read the sheets",
            self.http.values_batch_get,
            self.spreadsheet_id,
            [_quote(s) for s in remote],
            params,
        )
        grids: dict[str, list[list[Any]]] = {s: [] for s in self._sheets}
        for sheet, vr in zip(remote, reply.get("valueRanges", []), strict=False):
            grids[sheet] = [[self._cell(v) for v in line] for line in vr.get("values", [])]
        for sheet, row, col, block in self._staged:  # staged writes stay visible
            _overlay(grids.setdefault(sheet, []), kind, row, col, block)
        if kind == "values":
            self._values = grids
        else:
            self._formulas = grids
        return grids

    def _cell(self, v: Any) -> Any:
        if v == "":
            return None
        if isinstance(v, str):
            return _parse_date(v, self.locale)
        return v

    def _call(self, kind: str, what: str, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` under the rate limit, retried on 408/429/5xx and network timeouts with
        exponential backoff and full jitter, at most `max_tries` times."""
        limiter = self._writes if kind == "write" else self._reads
        last = ""
        for attempt in range(1, self.max_tries + 1):
            limiter.acquire()
            self.requests.append(f"{kind}:{what}")
            retry_after: float | None = None
            try:
                return fn(*args)
            except APIError as exc:
                code = exc.response.status_code
                status = exc.error.get("status", "")
                last = f"HTTP {code} {status}: {exc.error.get('message', '')}".strip()
                if code not in RETRY_STATUSES:
                    raise SheetsApiError(
                        f"Google Sheets refused to {what} in {self.name}: {last}"
                    ) from exc
                header = exc.response.headers.get("Retry-After")
                if header and header.isdigit():
                    retry_after = float(header)
            except RefreshError as exc:
                raise SheetsApiError(
                    f"Google refused the credentials ({_refresh_reason(exc)}) while trying to "
                    f"{what} in {self.name}; nothing was changed. Check the service account's "
                    "key file (or the OAuth user's refresh token) and that it is not disabled."
                ) from exc
            except (requests.Timeout, requests.ConnectionError, TransportError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            if attempt == self.max_tries:
                break
            cap = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
            self._sleep(retry_after if retry_after is not None else random.uniform(0, cap))
        nothing = " Nothing was written." if kind == "write" else ""
        raise SheetsApiError(
            f"Google Sheets did not answer the request to {what} in {self.name} after "
            f"{self.max_tries} tries (last: {last}).{nothing} Try again in a minute."
        )


# ---------------------------------------------------------------- helpers


def _refresh_reason(exc: RefreshError) -> str:
    """The token endpoint's error (``invalid_grant: ...``) without any token or key material."""
    first = exc.args[0] if exc.args else ""
    return str(first).split("\n", 1)[0][:200] or type(exc).__name__


def _quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def _a1(sheet: str, row: int, col: int, n_rows: int, n_cols: int) -> str:
    end = f"{column_letter(col + n_cols - 1)}{row + n_rows - 1}"
    return f"{_quote(sheet)}!{column_letter(col)}{row}:{end}"


def _at(grid: list[list[Any]], row: int, col: int) -> Any:
    if row - 1 < len(grid):
        line = grid[row - 1]
        if col - 1 < len(line):
            return line[col - 1]
    return None


def _put(grid: list[list[Any]], row: int, col: int, value: Any) -> None:
    while len(grid) < row:
        grid.append([])
    line = grid[row - 1]
    while len(line) < col:
        line.append(None)
    line[col - 1] = value


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_DOTTED = re.compile(r"^\d{1,2}\.\d{1,2}\.\d{4}(?: \d{1,2}:\d{2}(?::\d{2})?)?$")
_SLASHED = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}(?: \d{1,2}:\d{2}(?::\d{2})?)?$")


def _overlay(grid: list[list[Any]], kind: str, row: int, col: int, block: list[list[Any]]) -> None:
    """Lay a staged block over a snapshot grid; in the values grid a formula reads as None (its
    result is only known after the sheet computes it)."""
    for i, line in enumerate(block):
        for j, v in enumerate(line):
            shown = None if kind == "values" and isinstance(v, str) and v[:1] == "=" else v
            _put(grid, row + i, col + j, shown)


def _parse_date(text: str, locale: str) -> Any:
    """A FORMATTED_STRING date as a date (datetime when it has a time); other text as is."""
    t = text.strip()
    if _ISO.match(t):
        day = "%Y-%m-%d"
    elif _DOTTED.match(t):
        day = "%d.%m.%Y"
    elif _SLASHED.match(t):
        day = "%m/%d/%Y" if locale == "en_US" else "%d/%m/%Y"
    else:
        return text
    t = t.replace("T", " ")
    for fmt, timed in ((day, False), (day + " %H:%M:%S", True), (day + " %H:%M", True)):
        try:
            when = dt.datetime.strptime(t, fmt)
        except ValueError:
            continue
        return when if timed else when.date()
    return text


def _to_api(value: Any, where: str) -> Any:
    """A staged value as a USER_ENTERED cell: formulas and dates as text, text quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        if value == "" or value.startswith("="):
            return value
        return "'" + value
    if isinstance(value, int):
        return int(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise WorkbookError(f"cannot write {value!r} to {where}") from None
    if not math.isfinite(number):
        raise WorkbookError(f"cannot write {value!r} to {where}: not a finite number")
    return number
