"""A whole input file that cannot be read (empty, binary garbage, not a workbook): quarantined
on its own so one bad file does not stop a sync.

Decisions: the sync reads the other files and sources as usual; the file is not loaded (the
store keeps what earlier loads of its source hold) and is listed on the Data Quality sheet with
its size and the reader's reason as one printable line (`one_line`: echoed bytes escaped, runs
shortened, cut at 200 characters), flagged, and counted in its source's warnings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sheets_sync.one_line import one_line
from sheets_sync.quality_text import FILE_QUARANTINED


@dataclass(frozen=True)
class QuarantinedFile:
    """One input file the sync could not read."""

    source: str
    kind: str
    file: str
    """The file's path as configured (expanded)."""
    size: int | None
    """Bytes on disk (None when even its size could not be read)."""
    reason: str
    """The reader's message, one line, without the path it starts with."""

    @property
    def name(self) -> str:
        return Path(self.file).name

    def flag(self) -> str:
        """The Data Quality flag: one line naming the source, the file, its size, the reason."""
        return FILE_QUARANTINED.format(
            source=self.source, file=self.name, size=_size(self.size), reason=self.reason
        )

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _size(size: int | None) -> str:
    if size is None:
        return "size unknown"
    return "1 byte" if size == 1 else f"{size:,} bytes"


def quarantine_file(source: str, kind: str, path: Path, error: BaseException) -> QuarantinedFile:
    """The quarantine entry of `path`, which its reader refused with `error`."""
    try:
        size: int | None = path.stat().st_size
    except OSError:
        size = None
    message = str(error) or type(error).__name__
    for prefix in (f"{path}: ", f"{path.name}: "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
            break
    return QuarantinedFile(source, kind, str(path), size, one_line(message))
