"""The team's language: gettext catalogs read with Babel, and which language a workbook uses.

Every text a user reads (sheet names, headers, labels, chart titles, Data Quality texts, button
and CLI messages) is written in code in English, the catalogs' message ids, and translated
through a `Translator`. The Russian catalogs are ``locales/ru/*.po`` (one file per area:
``workbook.po`` for the sheets, ``quality.po`` for Data Quality, ``messages.po`` for buttons,
``cli.po`` for the command line ...); all files of a language are merged. They are plain
gettext ``.po`` files, so a translator edits them with any PO editor; Babel compiles them in
memory when first used (no ``.mo`` file is committed), which also gives Russian its three plural
forms.

English is the source language: `translator("en")` returns every id unchanged.
"""

from __future__ import annotations

import functools
import io
import locale
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

__all__ = [
    "LANGUAGES",
    "SOURCE_LANGUAGE",
    "Translator",
    "resolve_language",
    "system_language",
    "translator",
]

#: The languages a workbook can be in; English is the catalogs' source language.
LANGUAGES = ("ru", "en")
SOURCE_LANGUAGE = "en"

LOCALES_DIR = Path(__file__).with_name("locales")


@dataclass(frozen=True)
class Translator:
    """One language's texts.

    `t("Plan")` translates a message id; `t("{n} rows", n=3)` translates, then formats with
    `str.format`; `t.plural("{n} row", "{n} rows", n)` picks the language's plural form (and
    formats ``n``); `t.reverse("План")` is the id a translated text came from (None if it is
    not a translation), which readers use to accept a workbook in either language.
    """

    lang: str
    _translations: Translations | None = field(repr=False, compare=False)
    _reverse: Mapping[str, str] = field(repr=False, compare=False)

    def gettext(self, msgid: str) -> str:
        if self._translations is None or not msgid:
            return msgid
        return str(self._translations.gettext(msgid))

    def __call__(self, msgid: str, **kwargs: object) -> str:
        text = self.gettext(msgid)
        return text.format(**kwargs) if kwargs else text

    def plural(self, singular: str, plural: str, n: int, **kwargs: object) -> str:
        if self._translations is None:
            text = singular if n == 1 else plural
        else:
            text = str(self._translations.ngettext(singular, plural, n))
        return text.format(n=n, **kwargs)

    def reverse(self, text: str) -> str | None:
        """The message id whose translation is `text` (exact, then case-insensitive)."""
        if self._translations is None:
            return None
        found = self._reverse.get(text)
        if found is None:
            found = self._reverse.get(text.strip().casefold())
        return found

    def has(self, msgid: str) -> bool:
        """True when the catalog translates `msgid` (always true for English)."""
        return self._translations is None or self.gettext(msgid) != msgid or msgid in self._ids

    @functools.cached_property
    def _ids(self) -> frozenset[str]:
        return frozenset(self._reverse.values())


def _load(lang: str) -> tuple[Translations, dict[str, str]]:
    """Every ``locales/<lang>/*.po`` merged, compiled in memory, and the reverse map."""
    merged: Translations | None = None
    reverse: dict[str, str] = {}
    files = sorted((LOCALES_DIR / lang).glob("*.po"))
    if not files:
        raise ValueError(f"no catalogs for language {lang!r} in {LOCALES_DIR / lang}")
    for path in files:
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=lang, domain=path.stem)
        for message in catalog:
            if not message.id or not message.string:
                continue
            if isinstance(message.id, str) and isinstance(message.string, str):
                reverse[message.string] = message.id
                reverse.setdefault(message.string.strip().casefold(), message.id)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        part = Translations(fp=buffer, domain=path.stem)
        if merged is None:
            merged = part
        else:
            merged.merge(part)
    assert merged is not None
    return merged, reverse


@functools.cache
def translator(lang: str) -> Translator:
    """The `Translator` of `lang` (one of `LANGUAGES`), loaded once per process."""
    lang = resolve_language(lang)
    if lang == SOURCE_LANGUAGE:
        return Translator(lang, None, {})
    translations, reverse = _load(lang)
    return Translator(lang, translations, reverse)


def system_language(environ: Mapping[str, str] | None = None) -> str:
    """``"ru"`` when the system locale is Russian (LC_ALL, LC_MESSAGES, LANG, then Python's
    locale), else ``"en"``."""
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = env.get(var, "")
        if value:
            return "ru" if value.lower().startswith("ru") else "en"
    code = locale.getlocale()[0] or ""
    return "ru" if code.lower().startswith("ru") else "en"


def resolve_language(lang: str | None) -> str:
    """`lang` checked (``"ru"``/``"en"``, case and region ignored: ``"ru_RU"`` → ``"ru"``), or
    the system's language when None or blank; ValueError names the value and the choices."""
    if lang is None or not str(lang).strip():
        return system_language()
    code = str(lang).strip().lower().replace("-", "_").split("_")[0]
    if code not in LANGUAGES:
        raise ValueError(f"language {lang!r} is not one of {', '.join(LANGUAGES)}")
    return code
