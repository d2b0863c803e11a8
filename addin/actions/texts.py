"""What a button says, in the workbook's language.

Every sentence a button returns or passes to `notify` is an English message id translated
through the workbook's `Translator` (`texts_of(wb)`: Settings' ``language``, English without
one); the Russian texts are in ``sheets_sync/i18n/locales/ru/messages.po``. Numbers and dates
inside a sentence are formatted here for the language (English: ``4,269`` and ``2026-11-17``,
as before; Russian: ``4 269`` with a no-break space and ``17.11.2026``), then passed to the
message as text, so the catalog holds one sentence per message, not one per number.
"""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date

from sheets_sync.i18n import Translator, translator
from sheets_sync.workbooks.interface import WorkbookTarget
from sheets_sync.workbooks.roles import language_of

__all__ = ["ENGLISH", "day", "month", "month_name", "number", "signed", "texts_of"]

NBSP = "\u00a0"


def texts_of(wb: WorkbookTarget) -> Translator:
    """The translator of `wb`'s language."""
    return translator(language_of(wb))


def number(value: float, t: Translator, digits: int = 0) -> str:
    """`value` with thousands grouped: ``4,269`` in English, ``4 269`` (no-break space) and a
    decimal comma in Russian."""
    text = f"{value:,.{digits}f}"
    if t.lang == "en":
        return text
    return text.replace(",", NBSP).replace(".", ",")


def signed(value: float, t: Translator, digits: int = 0) -> str:
    """`number` with its sign always shown (``+257``, ``-12``)."""
    text = number(value, t, digits)
    return text if text.startswith("-") else "+" + text


def day(value: dt.date, t: Translator) -> str:
    """A date as the language writes it: ``2026-11-17`` / ``17.11.2026``."""
    return f"{value:%Y-%m-%d}" if t.lang == "en" else f"{value:%d.%m.%Y}"


def month(value: dt.date, t: Translator) -> str:
    """A month as a label: ``2026-11`` / ``11.2026``."""
    return f"{value:%Y-%m}" if t.lang == "en" else f"{value:%m.%Y}"


def month_name(value: dt.date, t: Translator) -> str:
    """A month in words: ``November 2026`` / ``ноябрь 2026``."""
    if t.lang == "en":
        return f"{value:%B %Y}"
    return format_date(value, "LLLL yyyy", locale=t.lang)


#: The source language's translator: what a sentence is without a workbook at hand.
ENGLISH = translator("en")
