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


_TOKEN = re.compile(r"\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|.", re.DOTALL)
"""A unit of a run: an escape (``\\x00``, written so by us or already by a reader's repr) or
one character."""


def _runs(text: str) -> str:
    tokens = _TOKEN.findall(text)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        j = i
        while j < len(tokens) and tokens[j] == tokens[i]:
            j += 1
        n = j - i
        out.append(tokens[i] * n if n <= RUN else f"{tokens[i] * 3}…(×{n})")
        i = j
    return "".join(out)


def one_line(text: object, limit: int = LIMIT) -> str:
    """`text` as one printable line of at most about `limit` characters (see the module)."""
    printable = "".join(_printable(ch) for ch in str(text))
    shown = _runs(_WHITESPACE.sub(" ", printable).strip())
    if len(shown) <= limit:
        return shown
    return f"{shown[:limit].rstrip()} … ({len(shown) - limit} more characters)"
