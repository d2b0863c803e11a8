"""The FastAPI app: registry functions and button actions over signed HTTP.

Endpoints (all but ``/health`` and ``/openapi.json`` need a signed request, see `signing`), one
router each group in `routes`:

- ``GET /health``: ``{"status": "ok"}`` (`routes.health`).
- ``GET /functions``: every registry function (`SheetFunction.describe`) and action
  (`routes.functions`).
- ``POST /functions/{name}``: ``{"args": [...], "by_row": false}``; each argument a cell value
  (number, text, boolean, null) or a range as a 2-D array (rows of cells). Returns
  ``{"values": rows, "message": reason}``: the result as rows of cells, spreadsheet error values
  kept as strings (``"#DIV/0!"``). With ``"by_row": true`` the function is called once per row
  of the ranges (a range of one row, or a single value, is used for every row) and the result
  has one row per line: ``=RUNRATE(B2:AF10001, ...)`` in one request (`routes.functions`).
- ``POST /sheets/{spreadsheet_id}/actions/{id}``: a button on a Google Sheet, which the server
  opens with its service account (`Settings.google_credentials`); the key must be bound to that
  sheet (``funnelplan keys create NAME --sheet ID``). Returns ``{"message", "requests", ...}``;
  New Month also returns next month's workbook (base64 .xlsx) for the client to import
  (`routes.sheet_actions`).
- ``POST /actions/{id}``: a multipart upload (field ``workbook``, an .xlsx); the button runs on
  a temporary copy and the changed workbook comes back (``X-Funnelplan-Message`` holds the
  message, URL-encoded). A failure is a JSON error and no workbook (`routes.actions`).

Errors are ``{"error": {"code": ..., "message": ...}}`` with the HTTP status (`errors`), and
each is logged in one line (`errors.log_refusal`). Bodies larger than `Settings.max_body_bytes`
get 413 before they are read in full, and the signature is checked over the raw body before
anything parses it (`middleware`). A call or an uploaded workbook past the limits of `Settings`
(cells, stages, channels, unzipped size) gets 413 before it runs, and one past
`Settings.time_limit` gets 504 (`limits`). The
app keeps no state but the keys file and the replay cache beside it (and its Google client,
`state.ServerState`), so it runs as many workers.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from addin.server import limits
from addin.server.errors import EXCEPTION_HANDLERS
from addin.server.middleware import SignedBody
from addin.server.routes import actions, functions, health, sheet_actions
from addin.server.settings import Settings
from addin.server.signing import KEY_HEADER, NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER
from addin.server.state import ServerState

DESCRIPTION = (
    "Spreadsheet functions and button actions of Funnel Plan for Google Sheets and "
    "Excel on the web. Every call except /health needs a signed request: headers "
    f"{KEY_HEADER}, {TIMESTAMP_HEADER} (Unix seconds), {NONCE_HEADER} (fresh per "
    f"request, 8 to 64 of A-Z a-z 0-9 _ -) and {SIGNATURE_HEADER} = hex "
    "HMAC-SHA256(signing key, METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nhex SHA-256(body)), "
    "PATH as sent (percent-encoded, with the query string)."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The server for `settings` (default: `Settings.from_env()`)."""
    settings = settings or Settings.from_env()
    app = FastAPI(
        title="Funnel Plan function server",
        version="1",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        exception_handlers=EXCEPTION_HANDLERS,
    )
    state = app.state.server = ServerState.for_settings(settings)
    limits.warm_up()
    for group in (health, functions, actions, sheet_actions):
        app.include_router(group.router)
    app.add_middleware(SignedBody, limit=settings.max_body_bytes, verifier=state.verifier)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=[
            "Content-Type",
            KEY_HEADER,
            TIMESTAMP_HEADER,
            NONCE_HEADER,
            SIGNATURE_HEADER,
        ],
        expose_headers=[actions.MESSAGE_HEADER, "Content-Disposition"],
        max_age=600,
    )
    return app
