"""What makes an input "the same input again": a SHA-256 over a file's bytes (read in blocks)
and the reading options, so a store skips a file it already loaded, and reloads it when the
options that shape its rows change."""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_digest(path: Path, options: str) -> str:
    """SHA-256 of the file's bytes, then `options` (a stable text of the reading options)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    digest.update(options.encode())
    return digest.hexdigest()
