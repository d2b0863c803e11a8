"""What the user reads when a file the sync writes cannot be written: the workbook's save or the
fact store's load failing on a full disk, a read-only folder, a lost permission.

Decisions: the message names the file and says what happened in words ("the disk is full")
before the system's own text, on one line; it is a `StorageError`, a `WorkbookError`, so every
surface shows it as a user error, not "unexpected error: [Errno 28]". The caller leaves the file
as it was (the workbook is saved through a temp file and a rename; the store's load is one
transaction), and the message says so."""

from __future__ import annotations

import errno
from pathlib import Path

from sheets_sync.errors import WorkbookError
from sheets_sync.one_line import one_line

DISK_FULL = ("no space left on device", "disk is full", "not enough space")
"""How a full disk reads in an error's text when it has no errno (DuckDB's IOException)."""


class StorageError(WorkbookError):
    """A file the sync writes could not be written (see the module)."""


def is_disk_full(error: BaseException) -> bool:
    """True for a full disk (or quota): ``ENOSPC``/``EDQUOT``, or DuckDB's words for it."""
    if getattr(error, "errno", None) in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return True
    text = str(error).lower()
    return any(words in text for words in DISK_FULL)


def _cause(error: BaseException, path: Path) -> str:
    if is_disk_full(error):
        return f"the disk is full (no space left on the drive of {path.parent})"
    code = getattr(error, "errno", None)
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if code == errno.EROFS:
        return "the drive is read-only"
    return one_line(getattr(error, "strerror", None) or error, 160)


def storage_error(what: str, path: Path | str, error: BaseException, kept: str) -> StorageError:
    """The one-line error for `what` ("workbook", "fact store") at `path` failing with
    `error`; `kept` says what was left as it was."""
    path = Path(path)
    return StorageError(f"cannot write the {what} {path}: {_cause(error, path)}; {kept}")
