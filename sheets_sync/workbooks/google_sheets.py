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
* requests go through a `sheets_sync.google_http.GoogleSession`: its credentials (a
  `gspread.Client` may be passed, else `open_client` reads ``credentials_file``), timeouts,
  bounded retries with backoff and per-credential rate limit; a request that keeps failing
  is a `SheetsApiError` saying what failed and, for a write, that nothing was written;
* atomicity: one ``values:batchUpdate`` is applied by the API as a whole or not at all, so a
  failed save changes no cell. Sheets added by the same save are created by the call before
  it; if the values call then fails, they are deleted again (best effort) before the error
  is raised.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import gspread

from sheets_sync.google_http import (
    GoogleSession,
    RateLimiter,
    RetryPolicy,
    open_client,
)
from sheets_sync.workbooks.interface import Table, WorkbookError, column_letter, scan_table
from sheets_sync.workbooks.roles import (
    ROLE_PREFIX,
    SheetRoles,
    language_of,
    localized_sheet_name,
)

__all__ = ["GoogleSheetsWorkbook"]

READ_PARAMS: dict[str, str] = {
    "valueRenderOption": "UNFORMATTED_VALUE",
    "dateTimeRenderOption": "FORMATTED_STRING",
    "majorDimension": "ROWS",
}
FORMULA_PARAMS: dict[str, str] = {**READ_PARAMS, "valueRenderOption": "FORMULA"}

T = TypeVar("T")


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
        retry = RetryPolicy(max_tries, backoff, max_backoff, sleep)
        self.session = GoogleSession(
            client if client is not None else open_client(credentials_file),
            timeout=timeout,
            retry=retry,
            write_limiter=write_limiter,
            read_limiter=read_limiter,
        )
        self.client = self.session.client
        self.http = self.session.http
        self.spreadsheet_id = spreadsheet_id
        self._notify = notify or (lambda message: None)
        self.messages: list[str] = []
        meta = self._call(
            "read", "open the spreadsheet", self.http.fetch_sheet_metadata, spreadsheet_id
        )
        self._title: str = meta.get("properties", {}).get("title", spreadsheet_id)
        self.locale: str = meta.get("properties", {}).get("locale", "en_US")
        self._sheets: list[str] = []
        titles: dict[Any, str] = {}
        for s in meta.get("sheets", []):
            props = s.get("properties", {})
            self._sheets.append(props["title"])
            titles[props.get("sheetId")] = props["title"]
        self._marked: dict[str, str] = {  # named ranges marking a sheet's role (same request)
            str(n.get("name", "")).lower(): titles[n["range"].get("sheetId", 0)]
            for n in meta.get("namedRanges", [])
            if str(n.get("name", "")).lower().startswith(ROLE_PREFIX)
            and n.get("range", {}).get("sheetId", 0) in titles
        }
        self._values: dict[str, list[list[Any]]] | None = None
        self._formulas: dict[str, list[list[Any]]] | None = None
        self._staged: list[tuple[str, int, int, list[list[Any]]]] = []
        self._new_sheets: list[tuple[str, bool]] = []

    # ------------------------------------------------------------ the interface

    @property
    def name(self) -> str:
        return getattr(self, "_title", self.spreadsheet_id)

    def sheet_names(self) -> list[str]:
        """The sheets by role (``"Plan"`` for a sheet named "План"), see `roles`."""
        return self.roles().canonical_names()

    def roles(self) -> SheetRoles:
        """Which sheet plays which role: by name in either language, or by a ``_fp_role_*``
        named range (read with the metadata: a sheet the user renamed is still found)."""
        return SheetRoles(list(self._sheets), self._marked)

    def _check(self, sheet: str) -> str:
        """The real name of the sheet an action calls `sheet`; an unknown one is an error."""
        real = self.roles().real(sheet)
        if real is None:
            raise WorkbookError(f"workbook {self.name} has no sheet `{sheet}`")
        return real

    def read_table(
        self,
        sheet: str,
        header_row: int = 1,
        first_col: int = 1,
        stop_labels: Iterable[str] = (),
    ) -> Table:
        sheet = self._check(sheet)
        grid = self._snapshot("values")[sheet]
        headers = (_at(grid, header_row, c) for c in itertools.count(first_col))

        def rows(width: int) -> Iterator[list[Any]]:
            for r in range(header_row + 1, len(grid) + 1):
                yield [_at(grid, r, first_col + j) for j in range(width)]

        return scan_table(sheet, header_row, first_col, stop_labels, headers, rows)

    def read_cells(
        self, sheet: str, row: int, col: int, n_rows: int, n_cols: int, formulas: bool = True
    ) -> list[list[Any]]:
        sheet = self._check(sheet)
        grid = self._snapshot("formulas" if formulas else "values")[sheet]
        return [[_at(grid, row + i, col + j) for j in range(n_cols)] for i in range(n_rows)]

    def write_block(self, sheet: str, row: int, col: int, values: Sequence[Sequence[Any]]) -> None:
        """Stage `values` (reads see them; the sheet changes only on `save`); a formula's sheet
        references are pointed at the real sheets (`SheetRoles.rewrite_formula`)."""
        sheet = self._check(sheet)
        if row < 1 or col < 1:
            raise WorkbookError(f"cannot write to row {row}, column {col} of `{sheet}`")
        roles = self.roles()
        block = [
            [roles.rewrite_formula(v) if isinstance(v, str) and v[:1] == "=" else v for v in line]
            for line in values
        ]
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
        """Stage a new sheet named in the workbook's language (``"Split Undo"`` is "Отмена
        сплита" in a Russian workbook)."""
        if self.roles().real(sheet) is not None:
            raise WorkbookError(f"workbook {self.name} already has a sheet `{sheet}`")
        sheet = localized_sheet_name(sheet, language_of(self))
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
        """`fn(*args)` through the session (rate limit, retries), errors naming this book."""
        return self.session.call(kind, what, self.name, fn, *args)

    @property
    def requests(self) -> list[str]:
        """What this workbook sent, one entry per HTTP attempt (for request counts)."""
        return self.session.requests


# ---------------------------------------------------------------- helpers


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
