"""A tab of a Google Sheet as a fact source: ad stats, calls or CRM rows someone keeps in a sheet.

`read_gsheet(spreadsheet_id, tab, options, credentials_file=None, kind=None)` fetches the tab's
values with gspread in one Sheets API call (``spreadsheets.values.get`` on the whole tab, a
service account with the read-only scope, ``valueRenderOption=UNFORMATTED_VALUE`` and
``dateTimeRenderOption=FORMATTED_STRING``) and hands the grid to `read_gsheet_rows`.

`read_gsheet_rows(rows, options, kind, where)` parses such a grid with the file readers' own
code (`sheets_sync.sources.textfile.grid_from_rows` builds the `Grid` an XLSX sheet would give, then
`read_ad_export`, `read_calls_export` or `read_crm_export` read it): the same column maps,
header search below report lines, totals rows, quarantine (``line`` is the sheet row,
``file`` is ``where``), de-duplication and money normalisation.

Decisions:

* a cell the sheet holds as a number is taken as that number: a Russian-locale sheet's 1.5
  arrives as the float 1.5 and stays 1.5 (no decimal-comma rule is applied to it); a number
  typed as text (``"1 234,5"``) is parsed like a file's cell, with the sheet's decimal
  separator guessed from its header (``","`` under Cyrillic headers);
* dates arrive as the sheet's formatted text (``"01.11.2026"``, ``"11/1/2026"``) and are
  parsed like a file's; a checkbox cell reads ``TRUE`` / ``FALSE``;
* ``kind`` (``"ad"``, ``"calls"``, ``"crm"``) is detected from the header when None, as
  `funnelplan inspect` does for a file; `FileInfo.kind` is ``"gsheet"`` and
  `FileInfo.platform` names the column map that matched;
* the request goes through `sheets_sync.google_http` (the session the Google Sheets workbook
  uses): a 429, a 5xx or a timeout is retried with backoff, reads stay under the
  credential's rate limit, and ``FUNNELPLAN_SHEETS_API_ROOT`` redirects the API calls;
* the credentials are a service account's JSON key file or an OAuth user's authorized-user
  file, with the read-only scope: ``credentials_file``, else the
  ``GOOGLE_APPLICATION_CREDENTIALS`` environment variable, else gspread's default
  (``~/.config/gspread/service_account.json``). The spreadsheet must be shared with the
  service account's e-mail (or the OAuth user).

Testing: `read_gsheet_rows` on grids, and `read_gsheet` through an unmodified gspread client
talking HTTP to the local Sheets API test double (tests/sheets_double), in
tests/sheets_sync/sources/test_google_sheet.py. Google's real API is not reached from tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests
from google.auth.exceptions import GoogleAuthError
from gspread.auth import DEFAULT_SERVICE_ACCOUNT_FILENAME
from gspread.utils import absolute_range_name

from planning.errors import InputError
from sheets_sync.errors import WorkbookError
from sheets_sync.facts import ReadResult
from sheets_sync.google_http import (
    READONLY_SCOPES,
    RETRY_STATUSES,
    GoogleSession,
    SheetsApiError,
    account_email,
    credentials_path,
    open_client,
)
from sheets_sync.sources.column_map import SourceOptions
from sheets_sync.sources.inspect_file import KINDS, kind_of_rows, read_kind
from sheets_sync.sources.textfile import HEAD_LINES, SheetRows, cell_texts

__all__ = ["READONLY_SCOPES", "VALUE_PARAMS", "read_gsheet", "read_gsheet_rows", "where_label"]

VALUE_PARAMS: dict[str, str] = {
    "valueRenderOption": "UNFORMATTED_VALUE",
    "dateTimeRenderOption": "FORMATTED_STRING",
    "majorDimension": "ROWS",
}
"""The ``values.get`` query: numbers as numbers, text as text, dates as their formatted text."""


def where_label(spreadsheet_id: str, tab: str) -> str:
    """How messages, the quarantine and the load log name a tab: ``gsheet:<id>!<tab>``."""
    return f"gsheet:{spreadsheet_id}!{tab}"


def read_gsheet_rows(
    rows: Sequence[Sequence[Any]],
    options: SourceOptions,
    kind: str | None = None,
    where: str = "gsheet",
) -> ReadResult:
    """Read a tab's cell values (``rows[0]`` is sheet row 1) as ``kind`` (detected from the
    header when None) into facts, with the file readers; see the module notes.

    Raises `InputError` naming ``where`` when the tab is empty, no row is a recognised header,
    or ``kind`` is unknown.
    """
    if kind is not None and kind not in KINDS:
        raise InputError(
            f"{where}: unknown kind of sheet (expected {', '.join(KINDS)})", value=kind
        )
    grid = [list(r) if r is not None else [] for r in rows]
    if not any(v is not None and str(v).strip() for r in grid for v in r):
        raise InputError(f"{where}: the sheet tab is empty")
    if kind is None:
        kind = kind_of_rows([cell_texts(r) for r in grid[:HEAD_LINES]], options, where)
    result = read_kind(kind, SheetRows(rows=grid, where=where), options)
    result.info.kind = "gsheet"
    return result


def read_gsheet(
    spreadsheet_id: str,
    tab: str,
    options: SourceOptions,
    credentials_file: Path | str | None = None,
    kind: str | None = None,
    session: GoogleSession | None = None,
) -> ReadResult:
    """Fetch one tab of a Google Sheet (one ``values.get`` call, retried on 429/5xx) and read
    it with `read_gsheet_rows`. Errors (no key file, no access, no such spreadsheet or tab,
    no network) are `InputError` messages naming the spreadsheet and tab.

    `session` (a `GoogleSession`) replaces the key file, e.g. one pointed at a test double.
    """
    where = where_label(spreadsheet_id, tab)
    if session is None:
        session = _open_session(credentials_file)
    rows = _fetch_values(session, spreadsheet_id, tab, where)
    return read_gsheet_rows(rows, options, kind, where)


def _key_file(credentials_file: Path | str | None) -> Path:
    path = credentials_path(credentials_file) or Path(DEFAULT_SERVICE_ACCOUNT_FILENAME)
    path = path.expanduser()
    if not path.is_file():
        raise InputError(
            f"the Google service account key file (or OAuth authorized-user file) {path} does "
            "not exist (name it with the source's `credentials`, or set "
            "GOOGLE_APPLICATION_CREDENTIALS)"
        )
    return path


def _open_session(credentials_file: Path | str | None) -> GoogleSession:
    """The read-only session on the key file (see `_key_file`)."""
    key = _key_file(credentials_file)
    try:
        return GoogleSession(open_client(key, scopes=READONLY_SCOPES))
    except (WorkbookError, ValueError, KeyError) as exc:
        raise InputError(f"{key}: not usable Google credentials ({exc})") from None


def _fetch_values(
    session: GoogleSession, spreadsheet_id: str, tab: str, where: str
) -> list[list[Any]]:
    """The tab's values, row by row from row 1 (one HTTP call, retried if it fails)."""
    try:
        response = session.call(
            "read",
            "read the tab",
            where,
            session.http.values_get,
            spreadsheet_id,
            absolute_range_name(tab),
            dict(VALUE_PARAMS),
        )
    except SheetsApiError as exc:
        raise _api_error(exc, where, tab, session) from None
    except (requests.RequestException, GoogleAuthError) as exc:  # beyond the retried ones
        raise InputError(f"{where}: cannot read from Google Sheets ({exc})") from None
    values = response.get("values", []) if isinstance(response, dict) else []
    return [list(r) for r in values]


def _api_error(exc: SheetsApiError, where: str, tab: str, session: GoogleSession) -> InputError:
    email = account_email(session.client)
    if exc.status == 404:
        return InputError(f"{where}: no such spreadsheet (check the source's `spreadsheet` id)")
    if exc.status == 403:
        share = f" with {email}" if email else " with the service account"
        return InputError(f"{where}: no access to the spreadsheet (share it{share})")
    if exc.status == 400 and "parse range" in exc.detail.lower():
        return InputError(f"{where}: the spreadsheet has no tab {tab!r}")
    if exc.status is None or exc.status in RETRY_STATUSES:
        return InputError(str(exc))  # kept failing after the retries, or a refused token
    return InputError(f"{where}: Google Sheets refused the read ({exc.detail})")
