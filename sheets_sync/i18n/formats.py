"""Number and date formats in a workbook's language.

English keeps the formats the sheet modules write (``yyyy-mm-dd``, ``#,##0``). Russian:
dates ``dd.mm.yyyy`` (months ``mm.yyyy``, times kept after the date), and every number format
gets the Russian locale tag ``[$-419]``, with which LibreOffice groups thousands with a
(non-breaking) space and writes a decimal comma, as a Russian Excel does by its own locale.
The template post-pass (`workbook_templates.localize`) and the adapters writing cells at run time
use the same function, so a ru workbook's cells look alike whoever wrote them.
"""

from __future__ import annotations

__all__ = ["LOCALE_TAGS", "localized_format"]

#: The number-format locale tag of a language (none for English, the formats' own).
LOCALE_TAGS = {"ru": "[$-419]"}
_DATES = {"ru": (("yyyy-mm-dd", "dd.mm.yyyy"), ("yyyy-mm", "mm.yyyy"))}


def _is_number_format(fmt: str) -> bool:
    """Digits, and not text, General, a date or a format that already names a locale."""
    return ("0" in fmt or "#" in fmt) and not fmt.startswith("[$") and "yy" not in fmt


def localized_format(fmt: str, lang: str) -> str:
    """`fmt` (as the sheet modules write it) in `lang`'s form: ``"yyyy-mm-dd"`` →
    ``"dd.mm.yyyy"``, ``"yyyy-mm-dd hh:mm"`` → ``"dd.mm.yyyy hh:mm"``, ``"#,##0"`` →
    ``"[$-419]#,##0"`` for ``ru``; English and formats it does not know are returned as is."""
    for english, local in _DATES.get(lang, ()):
        if fmt == english or fmt.startswith(english + " "):
            return local + fmt[len(english) :]
    tag = LOCALE_TAGS.get(lang)
    if tag and _is_number_format(fmt):
        return tag + fmt
    return fmt
