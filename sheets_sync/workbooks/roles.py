"""A sheet found by its role, whatever language the workbook is in.

Actions and sheet modules name sheets, headers and row labels in English (``"Plan"``,
``"leads p"``, ``"Total"``): those are their *roles*, the catalogs' message ids. A workbook in
Russian has the same sheets under Russian names (``"План"``), and a user may rename a sheet.
The adapters (xlsx, Google Sheets, live Excel) use this module so that actions need no change
to *find* things in either language:

- `SheetRoles.real(name)`: the sheet an action means by `name`: the sheet of that exact name,
  else the one a ``_fp_role_<role>`` defined name points at (a renamed sheet; only where the
  adapter can read defined names), else the one named like the role in any language's catalog
  (case-insensitive);
- `SheetRoles.role(real)`: the role of a real sheet (what `sheet_names()` answers, so that
  ``"Cohorts" in wb.sheet_names()`` holds on a Russian workbook);
- `canonical_header` / `canonical_label`: a header or row label read back in English (whole
  text first, then word groups, so a composed header "<metric> <kind>" of a user-defined stage
  reads back too); text that is no translation stays as it is;
- `label_variants`: a stop label or `find_row` label in every language;
- `SheetRoles.rewrite_formula`: sheet references in a formula an action writes (``Plan!E5``,
  ``'Daily History'!A:A``) pointed at the real sheets; text inside string literals is left;
- `localized_sheet_name`: the name a new sheet gets (``add_sheet("Split Undo")`` → "Отмена
  сплита" in a Russian workbook);
- `language_of(wb)`: the Settings sheet's ``language`` item (``"en"`` when absent).

Decisions: headers are canonicalised in every workbook, whatever its language (a Russian header
in an English workbook reads as its id too); values in cells are never translated (a campaign
called "Total" stays "Total"; only a row *label* an action asks for matches either language).
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sheets_sync.i18n import LANGUAGES, SOURCE_LANGUAGE, header_words, resolve_language, translator

__all__ = [
    "ROLE_PREFIX",
    "SETTINGS_ROLE",
    "SheetRoles",
    "canonical_header",
    "canonical_label",
    "label_variants",
    "language_of",
    "localized_sheet_name",
    "role_defined_name",
]

#: Defined names marking a sheet's role: ``_fp_role_daily_history`` → the Daily History sheet.
ROLE_PREFIX = "_fp_role_"
#: The sheet holding the workbook's settings (and its ``language`` item).
SETTINGS_ROLE = "Settings"
LANGUAGE_ITEM = "language"
#: Rows of the Settings sheet's key/value table `language_of` looks through.
SETTINGS_ROWS_SCANNED = 80

_OTHER_LANGUAGES = tuple(lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE)
_LANGUAGE_WORDS = {
    "ru": "ru",
    "en": "en",
    "русский": "ru",
    "russian": "ru",
    "english": "en",
    "английский": "en",
}


def role_defined_name(role: str) -> str:
    """The defined name that marks `role`'s sheet: ``"Daily History"`` →
    ``"_fp_role_daily_history"`` (defined names allow no spaces)."""
    slug = re.sub(r"[^0-9a-z]+", "_", role.strip().lower()).strip("_")
    return ROLE_PREFIX + slug


@functools.cache
def _names_of(role: str) -> tuple[str, ...]:
    """`role` and its translation in every language, casefolded."""
    names = {role.strip().casefold()}
    for lang in _OTHER_LANGUAGES:
        names.add(translator(lang)(role).strip().casefold())
    return tuple(sorted(names))


def label_variants(labels: Iterable[str]) -> set[str]:
    """Each label and its translations, stripped and lower-cased (how stops are compared)."""
    found: set[str] = set()
    for label in labels:
        found.update(_names_of(str(label)))
    return found


def _reverse(text: str) -> str | None:
    for lang in _OTHER_LANGUAGES:
        found = translator(lang).reverse(text)
        if found is not None:
            return found
    return None


_FOREIGN = re.compile(r"[^\x00-\x7f]")


@functools.lru_cache(maxsize=4096)
def canonical_label(text: str) -> str:
    """`text` as its English id when it is a catalog translation (whole text), else as is."""
    return _reverse(text.strip()) or text.strip()


@functools.lru_cache(maxsize=4096)
def canonical_header(text: str) -> str:
    """A header read back in English.

    A text of plain ASCII is returned as it is (stripped): it is already an id, and a Latin
    translation such as "CPA" or "Итого"'s id must not turn an English header into another.
    Otherwise the Plan's composed headers go through `header_words.canonical_header` (every
    word group of the text offered as a possible stage, so a user-defined stage nobody
    translated reads back as itself: "demo план" -> "demo p"), then the whole text's id, then
    each word group's id ("лиды вчера" -> "leads вчера"); a text with no translated part stays.
    """
    text = text.strip()
    if not _FOREIGN.search(text):
        return text
    composed = header_words.canonical_header(text, _stage_candidates(text))
    if composed != text:
        return composed
    whole = _reverse(text)
    if whole is not None:
        return whole
    return _compose(tuple(text.split())) or text


def _stage_candidates(text: str) -> tuple[str, ...]:
    """The stage keys `text` may name: each group of consecutive words translated back to its
    id (spaces as underscores), or a single Latin word kept (a stage key nobody translated)."""
    words = text.split()
    found: list[str] = []
    for i in range(len(words)):
        for j in range(i + 1, len(words) + 1):
            group = " ".join(words[i:j])
            back = _reverse(group)
            if back is not None:  # lower case first: "ПП" is both the key "pp" and "PP"
                found += [back.casefold().replace(" ", "_"), back.replace(" ", "_")]
            elif j == i + 1 and not _FOREIGN.search(group):  # a key nobody translated
                found.append(group)
    return tuple(dict.fromkeys(found))


def _compose(words: tuple[str, ...]) -> str | None:
    """`words` read as id parts, the longest translated group first at each place; a word no
    group starting at it translates stays as it is. None when no part is a translation."""
    parts: list[str] = []
    translated = False
    i = 0
    while i < len(words):
        for end in range(len(words), i, -1):
            found = _reverse(" ".join(words[i:end]))
            if found is not None:
                parts.append(found)
                translated = True
                i = end
                break
        else:
            parts.append(words[i])
            i += 1
    return " ".join(parts) if translated else None


def localized_sheet_name(role: str, lang: str) -> str:
    """The name a new sheet for `role` gets in a workbook of `lang`."""
    return translator(lang)(role)


@dataclass
class SheetRoles:
    """Which real sheet plays which role in one workbook.

    `names` are the workbook's sheet names in order; `marked` maps a role's defined name
    (`role_defined_name`, lower-cased) to the sheet it points at, for adapters that read them.
    """

    names: Sequence[str]
    marked: Mapping[str, str] = field(default_factory=dict)

    def real(self, sheet: str) -> str | None:
        """The real sheet meant by `sheet` (a real name or a role in any language)."""
        if sheet in self.names:
            return sheet
        marked = self.marked.get(role_defined_name(canonical_label(sheet)))
        if marked is not None and marked in self.names:
            return marked
        wanted = set(_names_of(canonical_label(sheet)))
        for name in self.names:
            if name.strip().casefold() in wanted:
                return name
        return None

    def role(self, name: str) -> str:
        """The role `name` plays: its defined-name role, else its catalog id, else itself."""
        for key, target in self.marked.items():
            if target == name and key.startswith(ROLE_PREFIX):
                role = self._role_of_key(key)
                if role is not None:
                    return role
        return canonical_label(name)

    def _role_of_key(self, key: str) -> str | None:
        for name in self.names:
            role = canonical_label(name)
            if role_defined_name(role) == key:
                return role
        # a role no sheet is named after any more: the known ones, else the key's words
        return _KNOWN_ROLE_KEYS.get(key) or key[len(ROLE_PREFIX) :].replace("_", " ").title()

    def canonical_names(self) -> list[str]:
        """`names` as roles, so an action's ``"Cohorts" in wb.sheet_names()`` works in either
        language; a name that would repeat an earlier one stays as it is."""
        seen: set[str] = set()
        out: list[str] = []
        for name in self.names:
            role = self.role(name)
            if role in seen or (role != name and role in self.names):
                role = name
            seen.add(role)
            out.append(role)
        return out

    def rewrite_formula(self, formula: str) -> str:
        """`formula` with each sheet reference pointing at the real sheet of its role; text in
        string literals is left alone, and a formula naming only real sheets is unchanged."""
        if not formula.startswith("=") or "!" not in formula:
            return formula
        parts = _STRING_LITERAL.split(formula)
        for i in range(0, len(parts), 2):  # even parts are outside string literals
            parts[i] = _SHEET_REF.sub(self._ref, parts[i])
        return "".join(parts)

    def _ref(self, match: re.Match[str]) -> str:
        quoted, bare = match.group("quoted"), match.group("bare")
        name = quoted.replace("''", "'") if quoted is not None else bare
        real = self.real(name)
        if real is None or real == name:
            return match.group(0)
        return "'" + real.replace("'", "''") + "'!"


#: The roles a defined name may point at (every sheet the workbook templates make).
KNOWN_ROLES = (
    "Plan",
    "Executive",
    "Daily",
    "Pace",
    "Settings",
    "History",
    "Daily History",
    "Data Quality",
    "Unmapped",
    "Mapping",
    "Optimize Split",
    "Curves",
    "Split Undo",
    "Scenarios",
    "Alerts",
    "Attribution",
    "Cohorts",
    "Glossary",
)
_KNOWN_ROLE_KEYS = {role_defined_name(role): role for role in KNOWN_ROLES}

_STRING_LITERAL = re.compile(r'("(?:[^"]|"")*")')
_SHEET_REF = re.compile(r"(?:'(?P<quoted>(?:[^']|'')+)'|(?<![\w.'])(?P<bare>[^\W\d][\w.]*))!")


class _Readable(Protocol):
    def read_cells(
        self, sheet: str, row: int, col: int, n_rows: int, n_cols: int, formulas: bool = True
    ) -> list[list[Any]]: ...

    def sheet_names(self) -> list[str]: ...


def language_of(wb: _Readable) -> str:
    """The workbook's language: the Settings sheet's ``language`` item (its key in either
    language, the value a code or a language's name); ``"en"`` without one.

    Read once per adapter object (kept on it as ``_fp_language``): a button asks again after
    its save, and on a Google Sheet a second read would be one more request."""
    known = getattr(wb, "_fp_language", None)
    if isinstance(known, str):
        return known
    found = _read_language(wb)
    with contextlib.suppress(AttributeError):
        wb._fp_language = found  # type: ignore[attr-defined]
    return found


def _read_language(wb: _Readable) -> str:
    if SETTINGS_ROLE not in wb.sheet_names():
        return SOURCE_LANGUAGE
    rows = wb.read_cells(SETTINGS_ROLE, 1, 1, SETTINGS_ROWS_SCANNED, 2, formulas=False)
    for line in rows:
        key = line[0] if line else None
        if not isinstance(key, str) or canonical_label(key).lower() != LANGUAGE_ITEM:
            continue
        value = str(line[1] if len(line) > 1 and line[1] is not None else "").strip().lower()
        word = _LANGUAGE_WORDS.get(value)
        if word is not None:
            return word
        try:
            return resolve_language(value) if value else SOURCE_LANGUAGE
        except ValueError:
            return SOURCE_LANGUAGE
    return SOURCE_LANGUAGE
