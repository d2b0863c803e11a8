"""Messages users read are one line: `one_line` makes any text (an error that echoes a file's
bytes, a path with a newline in it) a single printable line of bounded length.

Decisions: control characters (NUL, escapes, the C1 range, the Unicode "other" classes) are
shown as ``\\xNN`` / ``\\uNNNN`` escapes so a user can still tell what the bytes were; a run of
one character longer than `RUN` is shortened to a few of them and a count (a file of NULs says
so in a dozen characters, not ten thousand); whitespace collapses to one space; the result is
cut at `limit` characters with " … (N more characters)" so the truncation is visible."""

from __future__ import annotations

import re
import unicodedata

LIMIT = 200
"""Characters of echoed content kept in a message (the file name and reason come first)."""
RUN = 8
"""A run of one repeated character longer than this is shown as `RUN` of them and a count."""

_WHITESPACE = re.compile(r"\s+")


def _printable(ch: str) -> str:
    if ch in " \t\n\r":
        return " "
    if unicodedata.category(ch)[0] == "C":  # Cc control, Cf format, Co private, Cn, Cs
        code = ord(ch)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return ch


def _runs(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and text[j] == text[i]:
            j += 1
        n = j - i
        out.append(text[i] * n if n <= RUN else f"{text[i] * 3}…(×{n})")
        i = j
    return "".join(out)


def one_line(text: object, limit: int = LIMIT) -> str:
    """`text` as one printable line of at most about `limit` characters (see the module)."""
    raw = _runs(str(text))
    shown = _WHITESPACE.sub(" ", "".join(_printable(ch) for ch in raw)).strip()
    if len(shown) <= limit:
        return shown
    return f"{shown[:limit].rstrip()} … ({len(shown) - limit} more characters)"
