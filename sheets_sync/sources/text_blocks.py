"""A text export streamed as UTF-8 blocks of whole rows, with limits on line length.

`read_grid` reads a CSV through this module so that a 200 MB export is never held as one
``bytes`` + one ``str`` + one body copy + one re-encoded copy at once, and a file that is not a
table (one 9 MB line) is refused in a fraction of a second instead of being split into a
million header cells.

Decisions:

* the encoding is settled on the whole file as before (UTF-8 / UTF-16 by BOM, UTF-16 without
  BOM by its zero bytes, then UTF-8 if every byte of the file decodes, else cp1251), but the
  UTF-8 check reads the file in blocks and keeps none of it;
* blocks are cut at a line break outside quotes (an even number of ``"`` before it), so a
  quoted cell with line breaks never straddles two blocks; a block's first line number is
  exact (the line breaks of the blocks before it are counted);
* every block is at least `TAIL_LINES` lines (or the whole body): the totals rows looked for
  in the first 10 and the last 50 rows, and the notes below the table, are each in one
  block (a file of lines near `LINE_LIMIT` therefore makes blocks of up to 200 of them);
* a line longer than `LINE_LIMIT` bytes (UTF-8) is refused with its line number and length;
  a line of the first `HEAD_LINES` longer than `HEADER_LIMIT` is never split into cells nor
  taken for the header: the header must be above it, else the file is refused naming that
  line and its length (a 9 MB header row is refused in milliseconds, not split into a
  million cells and matched against every alias for minutes).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from planning.errors import InputError

__all__ = [
    "BLOCK_BYTES",
    "HEADER_LIMIT",
    "HEAD_LINES",
    "LINE_LIMIT",
    "TAIL_LINES",
    "Block",
    "body_blocks",
    "head_line_too_long",
    "head_lines",
    "sniff_encoding",
    "too_long",
    "utf8_pieces",
]

HEAD_LINES = 60
"""Lines searched for the header row (report title lines above it included)."""
HEADER_LIMIT = 64 * 1024
"""The longest header row (characters) looked at; longer lines are not headers."""
LINE_LIMIT = 1024 * 1024
"""The longest line (bytes of UTF-8) a text export may have."""
BLOCK_BYTES = 16 * 1024 * 1024
"""Bytes of UTF-8 parsed at once (rows are never split)."""
TAIL_LINES = 200
"""The last block has at least this many lines (or is the whole body)."""
_READ = 4 * 1024 * 1024


@dataclass(frozen=True)
class Block:
    """Whole rows of the body as UTF-8, and the 1-based file line of its first row."""

    data: bytes
    first_line: int
    last: bool
    first: bool


def sniff_encoding(path: Path) -> str:
    """The file's encoding, settled like `textfile._decode` on the whole file."""
    with path.open("rb") as handle:
        head = handle.read(4000)
        if head.startswith(b"\xef\xbb\xbf"):
            return "utf-8-sig"
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return "utf-16"
        if head and head.count(b"\x00") > len(head) // 4:
            return "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            for piece in iter(lambda: handle.read(_READ), b""):
                decoder.decode(piece)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1251"
    return "utf-8"


def utf8_pieces(path: Path, encoding: str) -> Iterator[bytes]:
    """The file's text (BOM removed) as UTF-8 bytes, a few MB at a time; undecodable bytes
    become U+FFFD as in `textfile._decode`."""
    with path.open("rb") as handle:
        if encoding in ("utf-8", "utf-8-sig"):
            if encoding == "utf-8-sig":
                handle.read(3)
            yield from iter(lambda: handle.read(_READ), b"")
            return
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        start = True
        for piece in iter(lambda: handle.read(_READ), b""):
            text = decoder.decode(piece)
            if start and text:
                text, start = text.lstrip("\ufeff"), False
            yield text.encode("utf-8")
        yield decoder.decode(b"", final=True).encode("utf-8")


def head_lines(data: bytes, count: int) -> tuple[list[str], int, int]:
    """The first ``count`` lines of ``data`` (UTF-8, ``\\r`` stripped), the byte offset after
    them, and the 0-based index of the first line longer than `HEADER_LIMIT` (-1 if none);
    such a line is returned cut to `HEADER_LIMIT` characters."""
    lines: list[str] = []
    offset = 0
    long_line = -1
    while len(lines) < count and offset < len(data):
        newline = data.find(b"\n", offset)
        end = len(data) if newline < 0 else newline
        raw = data[offset:end]
        if len(raw) > HEADER_LIMIT and long_line < 0:
            long_line = len(lines)
        lines.append(raw[: HEADER_LIMIT * 4].decode("utf-8", errors="replace").rstrip("\r"))
        offset = len(data) if newline < 0 else newline + 1
    return lines, offset, long_line


def too_long(where: object, line: int, length: int, limit: int, what: str) -> InputError:
    """``<file>: line 1 is 9,437,184 bytes long, over the 65,536 bytes <what>; is this a
    table export?`` (lengths in bytes of UTF-8, a ``\\r`` before the line break counted)."""
    return InputError(
        f"{where}: line {line} is {length:,} bytes long, over the {limit:,} bytes {what}; "
        "is this a table export?"
    )


def head_line_too_long(
    where: object, head: bytes, pieces: Iterator[bytes], index: int
) -> InputError:
    """The error for line ``index`` (0-based) of ``head``, longer than `HEADER_LIMIT`: its
    length is measured to its end, reading on through ``pieces`` if it goes past ``head``."""
    start = 0
    for _ in range(index):
        start = head.index(b"\n", start) + 1
    end = head.find(b"\n", start)
    if end >= 0:
        length = end - start
    else:
        length = len(head) - start
        for piece in pieces:
            newline = piece.find(b"\n")
            length += len(piece) if newline < 0 else newline
            if newline >= 0:
                break
    return too_long(where, index + 1, length, HEADER_LIMIT, "a header row may have")


def _cut(buffer: bytes) -> int:
    """The end (exclusive) of the last whole row in ``buffer``: after its last line break
    preceded by an even number of quote characters; 0 when there is none."""
    data = np.frombuffer(buffer, dtype=np.uint8)
    breaks = np.flatnonzero(data == 10)
    if not len(breaks):
        return 0
    quotes = np.flatnonzero(data == 34)
    if not len(quotes):
        return int(breaks[-1]) + 1
    even = np.flatnonzero(np.searchsorted(quotes, breaks) % 2 == 0)
    return int(breaks[even[-1]]) + 1 if len(even) else 0


def _longest(buffer: bytes) -> tuple[int, int]:
    """(0-based index, length in bytes) of the longest line of ``buffer``."""
    data = np.frombuffer(buffer, dtype=np.uint8)
    breaks = np.flatnonzero(data == 10)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [len(data)]))
    lengths = ends - starts
    i = int(np.argmax(lengths))
    return i, int(lengths[i])


def _rows(pieces: Iterator[bytes], where: object, first_line: int, size: int) -> Iterator[bytes]:
    """Runs of whole rows of about ``size`` bytes; refuses a line over `LINE_LIMIT`."""
    buffer = b""
    line = first_line
    for piece in pieces:
        buffer += piece
        tail_start = buffer.rfind(b"\n") + 1
        if len(buffer) - tail_start > LINE_LIMIT:  # a line with no end in sight
            at = line + buffer.count(b"\n", 0, tail_start)
            raise too_long(where, at, len(buffer) - tail_start, LINE_LIMIT, "a line may have")
        while len(buffer) >= size:
            cut = _cut(buffer[:size]) or _cut(buffer)
            if not cut:
                break
            block, buffer = buffer[:cut], buffer[cut:]
            index, length = _longest(block)
            if length > LINE_LIMIT:
                raise too_long(where, line + index, length, LINE_LIMIT, "a line may have")
            line += block.count(b"\n")
            yield block
    if buffer:
        index, length = _longest(buffer)
        if length > LINE_LIMIT:
            raise too_long(where, line + index, length, LINE_LIMIT, "a line may have")
        yield buffer


def body_blocks(
    pieces: Iterator[bytes], where: object, first_line: int, size: int | None = None
) -> Iterator[Block]:
    """The body (the UTF-8 text below the header) as `Block`s of whole rows of about ``size``
    bytes (`BLOCK_BYTES`), the last one of at least `TAIL_LINES` lines (or the whole body);
    ``first_line`` is the file line of the body's first row."""
    size = size or BLOCK_BYTES
    pending = b""
    tail = b""
    line = first_line
    first = True
    for data in _rows(pieces, where, first_line, size):
        tail += data
        if tail.count(b"\n") < TAIL_LINES:
            continue
        if pending:
            yield Block(pending, line, last=False, first=first)
            line += pending.count(b"\n")
            first = False
        pending, tail = tail, b""
    yield Block(pending + tail, line, last=True, first=first)
