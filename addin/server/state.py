"""What the endpoints of one app share, and the dependencies that hand it to them.

`ServerState` (on ``app.state.server``) holds the settings, the state backends
(`shared_state.backends.StateBackends`: the local folder's or the shared PostgreSQL's keys,
replay cache and sheet locks), the signature verifier and the Google Sheets client, built on
first use and reused by every button on a sheet (its token too). Endpoints take it as a
`State` parameter and the caller's key id as a `Signed` one; neither adds anything to the
OpenAPI but the four signing headers (security schemes ``key``, ``timestamp``, ``signature``,
``nonce``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Annotated

import gspread
from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from addin.server.errors import ApiError
from addin.server.keys import KeyBackend
from addin.server.middleware import KEY_ID
from addin.server.settings import Settings
from addin.server.shared_state.backends import StateBackends, open_state
from addin.server.shared_state.protocols import SheetLocks
from addin.server.signing import (
    KEY_HEADER,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Verifier,
)
from sheets_sync.google_http import open_client, use_shared_budget

log = logging.getLogger("funnelplan.server")


@dataclass
class ServerState:
    """The settings, state backends and verifier of one app, and its Google Sheets client."""

    settings: Settings
    backends: StateBackends
    verifier: Verifier
    _google: gspread.Client | None = field(default=None, repr=False)
    _google_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def for_settings(cls, settings: Settings) -> ServerState:
        """The backends of `settings` (`open_state`); with the shared state, this process's
        Google Sheets sessions draw from the budget all hosts share."""
        backends = open_state(settings)
        if backends.budget is not None:
            use_shared_budget(backends.budget)
        return cls(settings, backends, backends.verifier)

    @property
    def keys(self) -> KeyBackend:
        return self.backends.keys

    @property
    def locks(self) -> SheetLocks:
        return self.backends.locks

    def sheets_client(self) -> gspread.Client:
        """One gspread client per app (its token is reused), built on first use; raises
        `WorkbookError` while the credentials are missing or unusable."""
        with self._google_lock:
            if self._google is None:
                self._google = open_client(
                    self.settings.google_credentials, self.settings.sheets_api_root
                )
            return self._google


def server_state(request: Request) -> ServerState:
    """The `ServerState` of the app serving `request`."""
    state: ServerState = request.app.state.server
    return state


State = Annotated[ServerState, Depends(server_state)]

_key_header = APIKeyHeader(name=KEY_HEADER, auto_error=False, scheme_name="key")
_ts_header = APIKeyHeader(name=TIMESTAMP_HEADER, auto_error=False, scheme_name="timestamp")
_sig_header = APIKeyHeader(name=SIGNATURE_HEADER, auto_error=False, scheme_name="signature")
_nonce_header = APIKeyHeader(name=NONCE_HEADER, auto_error=False, scheme_name="nonce")


async def signed(
    request: Request,
    _key: Annotated[str | None, Security(_key_header)],
    _ts: Annotated[str | None, Security(_ts_header)],
    _sig: Annotated[str | None, Security(_sig_header)],
    _nonce: Annotated[str | None, Security(_nonce_header)],
) -> str:
    """The key id of a signed request, checked by `middleware.SignedBody` over the raw body
    before the body was parsed; 401 if it was not (an app without that middleware). The header
    parameters only document the four headers in the OpenAPI spec."""
    key_id: str | None = getattr(request.state, KEY_ID, None)
    if key_id is None:
        raise ApiError(401, "unauthenticated", "sign the request")
    return key_id


Signed = Annotated[str, Depends(signed)]
"""The key id of the request; the endpoint answers only signed requests."""
