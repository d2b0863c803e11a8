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
* the credentials are a service account's JSON key file: ``credentials_file``, else the
  ``GOOGLE_APPLICATION_CREDENTIALS`` environment variable, else gspread's default
  (``~/.config/gspread/service_account.json``). The spreadsheet must be shared with the
  service account's e-mail.

Testing: `read_gsheet_rows` on grids, and `read_gsheet` with an unmodified gspread client
talking HTTP to the local Sheets API test double (tests/sheets_double), in
tests/sheets_sync/test_gsheet_source.py. Google's real API is not reached from tests.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from planning.errors import InputError
from sheets_sync.facts import ReadResult
from sheets_sync.sources.column_map import SourceOptions
from sheets_sync.sources.textfile import HEAD_LINES, SheetRows, cell_texts

__all__ = ["READONLY_SCOPES", "VALUE_PARAMS", "read_gsheet", "read_gsheet_rows", "where_label"]

READONLY_SCOPES: tuple[str, ...] = ("https://www.googleapis.com/auth/spreadsheets.readonly",)
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
    from sheets_sync.sources.inspect_file import KINDS, kind_of_rows, read_kind

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
    client: Any = None,
) -> ReadResult:
    """Fetch one tab of a Google Sheet (one ``values.get`` call) and read it with
    `read_gsheet_rows`. Errors (no key file, no access, no such spreadsheet or tab, no
    network) are `InputError` messages naming the spreadsheet and tab.

    `client` (a `gspread.Client`) replaces the key file, e.g. one pointed at a test double.
    """
    where = where_label(spreadsheet_id, tab)
    rows = _fetch_values(spreadsheet_id, tab, credentials_file, where, client)
    return read_gsheet_rows(rows, options, kind, where)


def _key_file(credentials_file: Path | str | None) -> Path:
    if credentials_file is not None:
        path = Path(credentials_file).expanduser()
    elif os.environ.get("GOOGLE_APPLICATION_CREDENTIALS"):
        path = Path(os.environ["GOOGLE_APPLICATION_CREDENTIALS"]).expanduser()
    else:
        from gspread.auth import DEFAULT_SERVICE_ACCOUNT_FILENAME

        path = Path(DEFAULT_SERVICE_ACCOUNT_FILENAME)
    if not path.is_file():
        raise InputError(
            f"the Google service account key file {path} does not exist (name it with the "
            "source's `credentials`, or set GOOGLE_APPLICATION_CREDENTIALS)"
        )
    return path


def _fetch_values(
    spreadsheet_id: str,
    tab: str,
    credentials_file: Path | str | None,
    where: str,
    client: Any = None,
) -> list[list[Any]]:
    """The tab's values, row by row from row 1 (the one HTTP call). `client`: a ready
    `gspread.Client` (else one is made from the service account key file)."""
    import gspread
    from gspread.utils import absolute_range_name

    if client is None:
        key = _key_file(credentials_file)
        try:
            client = gspread.service_account(filename=str(key), scopes=list(READONLY_SCOPES))
        except (ValueError, KeyError, OSError) as exc:
            raise InputError(f"{key}: not a Google service account key file ({exc})") from None
    try:
        response = client.http_client.values_get(
            spreadsheet_id, absolute_range_name(tab), params=dict(VALUE_PARAMS)
        )
    except gspread.exceptions.APIError as exc:
        raise _api_error(exc, where, tab, client) from None
    except Exception as exc:  # network, token refresh (google.auth / requests errors)
        raise InputError(f"{where}: cannot read from Google Sheets ({exc})") from None
    values = response.get("values", []) if isinstance(response, dict) else []
    return [list(r) for r in values]


def _api_error(exc: Any, where: str, tab: str, client: Any) -> InputError:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    email = getattr(getattr(client.http_client, "auth", None), "service_account_email", "")
    if status == 404:
        return InputError(f"{where}: no such spreadsheet (check the source's `spreadsheet` id)")
    if status == 403:
        share = f" with {email}" if email else " with the service account"
        return InputError(f"{where}: no access to the spreadsheet (share it{share})")
    if status == 400 and "parse range" in str(exc).lower():
        return InputError(f"{where}: the spreadsheet has no tab {tab!r}")
    return InputError(f"{where}: Google Sheets refused the read ({exc})")
