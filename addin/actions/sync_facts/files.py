"""The workbook file around a sync: refused while Excel has it open or it is read-only, and the
temp files a killed save left beside it swept."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

from sheets_sync.workbooks.interface import WorkbookError

STALE_TEMP = dt.timedelta(minutes=10)
"""A save's temp file older than this is a leftover of a killed sync (a save takes seconds)."""


def lock_file(path: Path) -> Path:
    """Excel's lock file of `path` while it is open there: ``~$name.xlsx`` beside it."""
    return path.with_name("~$" + path.name)


def check_writable(path: Path) -> None:
    """Refuse a workbook that is missing, open in Excel or read-only (before anything runs)."""
    if not path.exists():
        raise WorkbookError(f"workbook {path} does not exist")
    if not path.is_file():
        raise WorkbookError(f"workbook {path} is not a file")
    lock = lock_file(path)
    if lock.exists():
        raise WorkbookError(
            f"workbook {path.name} is open in Excel (its lock file {lock.name} is there): "
            "close it in Excel, then sync again"
        )
    mode = path.stat().st_mode
    if not mode & 0o222 or not os.access(path, os.W_OK):
        raise WorkbookError(
            f"workbook {path} is read-only: make it writable (or copy it), then sync again"
        )
    if not os.access(path.parent, os.W_OK):
        raise WorkbookError(
            f"cannot write in {path.parent}: the sync saves the workbook through a temporary "
            "file beside it"
        )


def sweep_temp_files(path: Path, now: dt.datetime | None = None) -> list[Path]:
    """Remove the temp files a killed save of `path` left beside it (``.<stem>-XXXXXXXX.xlsx``
    older than `STALE_TEMP`); a SIGKILL cannot clean up after itself. Returns those removed."""
    pattern = re.compile(rf"^\.{re.escape(path.stem)}-[a-z0-9_]{{8}}\.xlsx$")
    limit = (now or dt.datetime.now()).timestamp() - STALE_TEMP.total_seconds()
    removed = []
    for p in path.parent.glob(f".{path.stem}-*.xlsx"):
        if pattern.match(p.name) and p.stat().st_mtime < limit:
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed
