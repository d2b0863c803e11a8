"""What the server's state backends share: the sheet lock's protocol and the two ways a backend
fails a request (`SheetBusy`: 409; `StateUnavailable`: 503).

The key store's protocol is `addin.server.keys.KeyBackend` and the replay cache's
`addin.server.signing.ReplayBackend` (beside their local implementations, which the signing
code uses); the Google Sheets budget's is `sheets_sync.google_http.SharedBudget` (sheets_sync
may not import addin).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

BUSY_MESSAGE = "another Funnel Plan button is running on this sheet; try again when it has finished"
UNAVAILABLE_MESSAGE = (
    "the server's shared state (its PostgreSQL database) cannot be reached; nothing was done, "
    "try again in a minute"
)


class SheetBusy(Exception):
    """A button is already running on the sheet (on this host or another): 409."""

    def __init__(self) -> None:
        super().__init__(BUSY_MESSAGE)


class StateUnavailable(Exception):
    """The shared state cannot be read or written (the database is down or unreachable): the
    request is answered 503 and nothing is done. The cause is logged, never sent."""

    def __init__(self, cause: str) -> None:
        super().__init__(UNAVAILABLE_MESSAGE)
        self.cause = cause


class SheetLocks(Protocol):
    """One button at a time per Google Sheet, across every worker (and host) of the backend."""

    def hold(self, spreadsheet_id: str) -> AbstractContextManager[None]:
        """Hold the sheet's lock for the `with` block; raises `SheetBusy` at once while
        another button holds it."""
        ...
