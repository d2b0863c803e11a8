"""The workbook file around a sync: refused while Excel or LibreOffice has it open or it is
read-only, and the temp files a killed save left beside it swept.

Decision: a lock file is trusted as it is (neither office suite removes it on a crash, and a
sync cannot tell a stale lock from a live one); the message names the lock file so the user can
delete a stale one, and for LibreOffice who holds it (its lock records the user and host)."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

from sheets_sync.one_line import one_line
from sheets_sync.workbooks.interface import WorkbookError

STALE_TEMP = dt.timedelta(minutes=10)
"""A save's temp file older than this is a leftover of a killed sync (a save takes seconds)."""


def lock_file(path: Path) -> Path:
    """Excel's lock file of `path` while it is open there: ``~$name.xlsx`` beside it."""
    return path.with_name("~$" + path.name)


def libreoffice_lock_file(path: Path) -> Path:
    """LibreOffice's lock file of `path` while it is open there: ``.~lock.name.xlsx#``."""
    return path.with_name(f".~lock.{path.name}#")


def _lock_fields(text: str) -> list[str]:
    """A LibreOffice lock line's fields: comma-separated, ending with ``;``, a backslash
    escaping ``,``, ``;`` or itself."""
    fields, current, escaped = [], "", False
    for ch in text:
        if escaped:
            current, escaped = current + ch, False
        elif ch == "\\":
            escaped = True
        elif ch in ",;":
            fields.append(current.strip())
            current = ""
            if ch == ";":
                return fields
        else:
            current += ch
    return [*fields, current.strip()] if current.strip() else fields


def lock_holder(lock: Path) -> str:
    """Who holds a LibreOffice lock, from its fields (name, system user, host, since): e.g.
    ``Ivan Petrov (ivan@laptop) since 03.12.2026 11:02``; "someone" when it cannot be read."""
    try:
        text = lock.read_bytes()[:4096].decode("utf-8", errors="replace")
    except OSError:
        return "someone"
    fields = [one_line(f, 60) for f in _lock_fields(text)] + [""] * 4
    name, user, host, since = fields[:4]
    who = "@".join(x for x in (user, host) if x)
    holder = f"{name} ({who})" if name and who else name or who or "someone"
    return f"{holder} since {since}" if since else holder


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
    office = libreoffice_lock_file(path)
    if office.exists():
        raise WorkbookError(
            f"workbook {path.name} is open in LibreOffice by {lock_holder(office)} (its lock "
            f"file {office.name} is there): close it there, then sync again (delete the lock "
            "file if LibreOffice is not running)"
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
