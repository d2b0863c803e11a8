"""The digest's text in each destination's markup.

A digest text is Telegram HTML: ``<b>``, ``<i>`` (Telegram also knows ``<u>``, ``<s>``,
``<code>``, ``<pre>``, ``<a href>``, ...), and ``&lt;``, ``&gt;``, ``&amp;``, ``&quot;`` or
numeric entities for those characters outside tags (Telegram refuses other named entities,
``&nbsp;`` included: use the character or ``&#160;``). `plain_text` is it without markup (an
e-mail's plain part), `slack_mrkdwn` it in Slack's mrkdwn, `split_telegram_text` it in pieces
Telegram accepts (4096 characters each, as Telegram counts them).
"""

from __future__ import annotations

import html
import re

__all__ = ["TEXT_LIMIT", "plain_text", "slack_mrkdwn", "split_telegram_text"]

TEXT_LIMIT = 4096

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^<>]*>")
_ATOM = re.compile(r"<[^<>]*>|&#?[a-zA-Z0-9]+;|.", re.S)


def plain_text(text: str) -> str:
    """The text without its tags, entities decoded: the e-mail's plain part."""
    return html.unescape(_TAG.sub("", text))


def slack_mrkdwn(text: str) -> str:
    """The text in Slack mrkdwn: ``<b>`` -> ``*``, ``<i>`` -> ``_``, ``<s>`` -> ``~``,
    ``<code>`` -> backquote, other tags dropped; then ``&``, ``<``, ``>`` escaped as Slack asks."""
    marks = {"b": "*", "strong": "*", "i": "_", "em": "_", "s": "~", "del": "~", "code": "`"}
    converted = _TAG.sub(lambda m: marks.get(m.group(2).lower(), ""), text)
    plain = html.unescape(converted)
    return plain.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _width(atom: str) -> int:
    """An atom's length as Telegram counts it: UTF-16 units after the tags are parsed."""
    if atom.startswith("<") and len(atom) > 1:
        return 0
    if atom.startswith("&") and len(atom) > 1:
        atom = html.unescape(atom)
    return len(atom.encode("utf-16-le")) // 2


def _balanced(chunks: list[str]) -> list[str]:
    """Close the tags left open at the end of a chunk, and reopen them in the next one."""
    out: list[str] = []
    carried: list[tuple[str, str]] = []  # (name, opening tag) still open
    for chunk in chunks:
        opened = list(carried)
        for match in _TAG.finditer(chunk):
            name = match.group(2).lower()
            if not match.group(1):
                opened.append((name, match.group(0)))
            elif opened and opened[-1][0] == name:
                opened.pop()
        prefix = "".join(tag for _, tag in carried)
        suffix = "".join(f"</{name}>" for name, _ in reversed(opened))
        out.append(prefix + chunk + suffix)
        carried = opened
    return out


def split_telegram_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """The text cut into messages of at most `limit` characters as Telegram counts them: at
    the last line end that fits, else the last space, else between two atoms (a tag or an
    entity is never cut); the newline or space cut at is dropped."""
    atoms = _ATOM.findall(text)
    chunks: list[str] = []
    start = 0
    while start < len(atoms):
        used, end, newline, space = 0, start, -1, -1
        while end < len(atoms) and used + _width(atoms[end]) <= limit:
            used += _width(atoms[end])
            if atoms[end] == "\n":
                newline = end
            elif atoms[end] == " ":
                space = end
            end += 1
        if end >= len(atoms):
            cut, resume = end, end
        elif newline > start:
            cut, resume = newline, newline + 1
        elif space > start:
            cut, resume = space, space + 1
        else:
            cut, resume = max(end, start + 1), max(end, start + 1)
        chunks.append("".join(atoms[start:cut]))
        start = resume
    return [c for c in _balanced(chunks) if plain_text(c).strip()] or [text]
