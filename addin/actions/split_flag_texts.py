"""Optimize Split's and Scenarios' flags and history line in the workbook's language.

`planning.split_flags.Flag` keeps a flag as data (a code, its parameters as English-formatted
texts); here it becomes a sentence: the English sentence (`FLAGS[code]`) is the msgid (Russian
in ``split.po``), the numbers in its parameters are re-written the language's way (``4,000`` →
``4 000``, ``1.25`` → ``1,25``), a nested flag (a low confidence's reason) is translated in
turn and the curve families are named in words (``61% saturating`` → ``61% насыщение``). In
English a flag is exactly its old text. A flag that is plain text (read from a sheet, or made
before the codes) is translated when it is a whole msgid, else kept as written.

`has_flag` reads a flags cell back (Review Month's advice) in either language.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from addin.actions.texts import NBSP, day
from planning.split_flags import FLAGS, FORM_NAMES, Flag
from sheets_sync.i18n import Translator, translator

__all__ = ["flag_text", "flags_text", "has_flag", "history_text", "word"]

#: A parameter that holds a number (English-formatted): re-written in the language's way.
_NUMBER = re.compile(r"^[+-]?[\d,]*\.?\d+(?:e[+-]?\d+)?%?$")
#: One share of the ``curve`` flag: ``61% saturating``.
_SHARE = re.compile(r"^(\d+%) (\w+)$")
_FORM = "curve family: {form}"


def _number(text: str, t: Translator) -> str:
    if t.lang == "en" or not _NUMBER.match(text):
        return text
    return text.replace(",", NBSP).replace(".", ",")


def _form(name: str, t: Translator) -> str:
    """A curve family in words (``saturating`` → ``насыщение``); an unknown one as written."""
    if name not in FORM_NAMES:
        return name
    msgid = _FORM.format(form=name)
    if t.has(msgid):
        return t(msgid)
    return t(name) if t.has(name) else name


def _shares(text: str, t: Translator) -> str:
    parts = []
    for part in text.split(", "):
        found = _SHARE.match(part)
        if found is None:
            parts.append(part)
            continue
        parts.append(t(FLAGS["share"], share=found[1], form=_form(found[2], t)))
    return ", ".join(parts)


def flag_text(flag: str, t: Translator) -> str:
    """One flag in `t`'s language (English: exactly the flag's text)."""
    if t.lang == "en":
        return str(flag)
    if not isinstance(flag, Flag):
        return t(flag) if t.has(flag) else flag
    params: dict[str, str] = {}
    for key, value in flag.params:
        if isinstance(value, Flag):
            params[key] = flag_text(value, t)
        elif key == "shares":
            params[key] = _shares(value, t)
        elif key == "form":
            params[key] = _form(value, t)
        elif key == "reason":
            params[key] = t(value) if t.has(value) else value
        else:
            params[key] = _number(value, t)
    return t(FLAGS[flag.code], **params)


def word(kind: str, code: str, t: Translator) -> str:
    """A code shown as a word: a channel's confidence (``high`` → «высокая»), the solver's
    method (``bisection`` → «бисекция»). English, and a code the catalog lacks, as written."""
    msgid = f"{kind}: {code}"
    return t(msgid) if t.lang != "en" and t.has(msgid) else code


def flags_text(flags: Iterable[str], t: Translator, sep: str = "; ") -> str:
    """A line's flags as one cell's text."""
    return sep.join(flag_text(f, t) for f in flags)


def has_flag(cell: str, code: str) -> bool:
    """True when a flags cell (either language) holds the constant flag `code`
    (``at_max``, ``at_min``, ``locked``)."""
    parts = [p.strip() for p in str(cell or "").split(";")]
    english = FLAGS[code]
    return english in parts or translator("ru")(english) in parts


def history_text(days: int, first: dt.date, last: dt.date, t: Translator) -> str:
    """The history line: ``77 days, 2026-09-02 to 2026-11-17`` (Russian: «77 дней,
    02.09.2026–17.11.2026»)."""
    # One English text for every count (``1 days``, as the line always read); Russian's
    # three plural forms in the catalog.
    return t.plural(
        "{n} days, {first} to {last}",
        "{n} days, {first} to {last}",
        days,
        first=day(first, t),
        last=day(last, t),
    )
