"""The local state: the keys folder of one host (`keys.KeyStore`'s ``keys.json``,
`signing.ReplayCache`'s ``replay.sqlite``) and a lock file per sheet under ``locks/``.

Every worker of the host shares it; a host killed while a button runs frees its lock with it
(the kernel drops a dead process's ``flock``). Several hosts need the PostgreSQL state instead:
SQLite and ``flock`` over a network mount are not safe.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from addin.server.shared_state.protocols import SheetBusy

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no cross-worker lock
    fcntl = None  # type: ignore[assignment]


class FileSheetLocks:
    """A lock file per sheet in `folder`, held with ``flock`` while the button runs."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @contextmanager
    def hold(self, spreadsheet_id: str) -> Iterator[None]:
        """Hold the sheet's lock file; `SheetBusy` at once while another worker holds it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / f"{spreadsheet_id}.lock", "a") as handle:
            if fcntl is not None:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise SheetBusy() from None
            try:
                yield
            finally:
                if fcntl is not None:
                    fcntl.flock(handle, fcntl.LOCK_UN)
