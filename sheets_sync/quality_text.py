"""Data Quality's texts in the workbook's language.

The flags, warnings and quarantine reasons a sync produces are English sentences, and they stay
so where they are data (the fact store's ``quarantine`` table, ``--json``, the CLI, the
incident log). What the Data Quality sheet shows a marketer is translated when the sheet is
written: `localize_line` matches a sentence against the message templates below (the catalog's
msgids, with named placeholders), translates the template through the catalog and puts the
captured values back.

Decisions:

- **Templates, not string surgery.** Every sentence the sync writes is one of `TEMPLATES`
  (quality.py builds its own flags from these very constants, so the code and the catalog
  cannot drift apart); a sentence no template matches is shown as it is (English) rather than
  half translated.
- **Values are data, except a few.** A captured source, channel, campaign or file name is never
  translated (a channel called "Total" stays "Total"). Placeholders in `WORDS` (a metric, a
  basis, a nested reason ...) are translated when the catalog has them or when they are
  themselves a template; placeholders in `NUMBERS` get the language's number form
  (``11,300,000.00`` → ``11 300 000,00``) and ISO dates become ``dd.mm.yyyy``.
- **Russian without plural traps.** Counts are put after a colon ("строк в карантине: 3"), so
  one form reads right for any number.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterable

from sheets_sync.i18n import Translator

__all__ = [
    "DUPLICATE_ROWS",
    "FILE_QUARANTINED",
    "MISMATCH_FLAG",
    "MISMATCH_NONE",
    "NUMBERS",
    "QUARANTINED_FLAG",
    "QUARANTINED_FLAG_ONE",
    "QUARANTINED_MONEY_FLAG",
    "QUARANTINED_MONEY_FLAG_ONE",
    "RECONCILE_FLAG",
    "STALE_FLAG",
    "STALE_LATEST",
    "STALE_NO_DATA",
    "TEMPLATES",
    "UNMAPPED_ROWS_FLAG",
    "UNMAPPED_SPEND_FLAG",
    "WORDS",
    "localize_line",
    "localize_number",
]

# --- the report's own flags (sheets_sync.quality builds them from these)
STALE_FLAG = "{source}: no fresh data for more than {hours} h ({when})"
STALE_NO_DATA = "no data"
STALE_LATEST = "latest data {date}"
UNMAPPED_SPEND_FLAG = "{source}: {share} of the spend is unmapped (see the Unmapped sheet)"
UNMAPPED_ROWS_FLAG = "{source}: {share} of the rows is unmapped (see the Unmapped sheet)"
QUARANTINED_FLAG_ONE = "{source}: {n} row quarantined (Data Quality sheet)"
QUARANTINED_FLAG = "{source}: {n} rows quarantined (Data Quality sheet)"
RECONCILE_FLAG = "{source}: {metric} does not reconcile (total {total}, {difference} unaccounted)"
MISMATCH_FLAG = "{channel}: ad platforms report {platform} conversions, CRM {crm} leads ({pct})"
MISMATCH_NONE = "CRM has none"
QUARANTINED_MONEY_FLAG_ONE = (
    "{source}: {file}: {held} of {metric} in {n} quarantined row ({share} of the file's {metric})"
)
QUARANTINED_MONEY_FLAG = (
    "{source}: {file}: {held} of {metric} in {n} quarantined rows ({share} of the file's {metric})"
)
# --- a whole file no reader could read (sheets_sync.file_quarantine)
FILE_QUARANTINED = "{source}: file {file} ({size}) could not be read and was quarantined: {reason}"

# --- an ad export's repeated rows (sheets_sync.sources.ad_export), by the levels below the
# campaign that its key has (ad group, ad): the warning names the whole key
DUPLICATE_ROWS: dict[tuple[str, ...], str] = {
    (): "{n} row(s) repeat a date and campaign already in the file (lines {lines}); the last row "
    "of each was kept",
    ("group",): "{n} row(s) repeat a date, campaign and ad group already in the file (lines "
    "{lines}); the last row of each was kept",
    ("ad",): "{n} row(s) repeat a date, campaign and ad already in the file (lines {lines}); the "
    "last row of each was kept",
    ("group", "ad"): "{n} row(s) repeat a date, campaign, ad group and ad already in the file "
    "(lines {lines}); the last row of each was kept",
}

# --- what the readers write (sheets_sync.sources): file flags, warnings, quarantine reasons
READER_TEMPLATES = (
    "size unknown",
    "1 byte",
    "{n} bytes",
    # file flags
    "{file}: the file's total row (line {line}) disagrees with its rows (total vs rows: {off})",
    "{file}: no row is dated in {month} ({n} rows); export the plan month",
    "{file}: {share} of its spend is dated after {month} ({after} of {n} rows); export the plan "
    "month",
    "{file}: {share} of its rows is dated after {month} ({after} of {n} rows); export the plan "
    "month",
    "{file}: {n} row(s) cover a period, not a day (line {line}: {start} .. {end}, {days} days); "
    "export with a daily breakdown (Meta: Breakdown > By time > Day), or set spread_periods = "
    "true for source {source}",
    # quarantine reasons
    "campaign is blank",
    "period ends before it starts",
    "is not a number",
    "{metric} is negative",
    "spend is blank",
    "covers several days: export a daily breakdown",
    "date in the future",
    "is not yes/no (Да/Нет)",
    "is not a duration",
    "date is blank",
    "is not a date",
    "is not a date (expected {format})",
    "unknown status (expected open, won, lost)",
    "amount is negative",
    "is not a known metric",
    "unknown stage: {hint}",
    # warnings
    "no data rows below the header",
    "no Target column: only calls_all (every call) is counted",
    "{n} call(s) without an ID kept as they are",
    "{n} row(s) without an ID kept as they are",
    "no Amount column: revenue is not counted",
    "{n} purchase(s) with a blank amount: revenue 0",
    "{n} more unknown stage name(s): see Data Quality",
    "{file}: unknown stage {value} in {n} row(s) (column {column}, first at line {line}): {hint}",
    "{n} lost deal(s) with a purchase date or won status: counted as lost (negotiations "
    "reached), no revenue",
    *DUPLICATE_ROWS.values(),
    "{n} period row(s) spread evenly over {days} days (spread_periods = true): month-to-date is "
    "right, the daily shape is not",
    "line {line}: note below the table ignored: {text}",
)

TEMPLATES: tuple[str, ...] = (
    STALE_FLAG,
    STALE_NO_DATA,
    STALE_LATEST,
    UNMAPPED_SPEND_FLAG,
    UNMAPPED_ROWS_FLAG,
    QUARANTINED_FLAG_ONE,
    QUARANTINED_FLAG,
    RECONCILE_FLAG,
    MISMATCH_FLAG,
    MISMATCH_NONE,
    QUARANTINED_MONEY_FLAG_ONE,
    QUARANTINED_MONEY_FLAG,
    FILE_QUARANTINED,
    *READER_TEMPLATES,
)
"""Every sentence Data Quality shows that is not a header: the catalog (``quality.po``) has
each one as a msgid."""

WORDS = frozenset({"metric", "when", "pct", "size", "reason", "off"})
"""Placeholders whose value is a text to translate (a known word, or a template itself)."""
NUMBERS = frozenset(
    {"n", "hours", "share", "total", "difference", "held", "platform", "crm", "after", "days"}
)
"""Placeholders whose value is a number written the English way (``1,234.50``, ``7.5%``)."""
DATES = frozenset({"date", "start", "end"})

_NUMBER = re.compile(r"^([+-]?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(%?)$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(.*)$")


def localize_number(text: str, lang: str) -> str:
    """An English-written number in `lang`'s form: ``-1,234.50`` → ``-1 234,50`` (a no-break
    space between thousands, a decimal comma) and ``7.5%`` → ``7,5 %`` under ``ru``; any
    other text unchanged."""
    if lang == "en":
        return text
    m = _NUMBER.match(text.strip())
    if not m:
        return text
    sign, whole, frac, pct = m.groups()
    out = sign + whole.replace(",", "\u00a0") + ("," + frac if frac else "")
    return out + ("\u00a0%" if pct else "")


def _localize_date(text: str, lang: str) -> str:
    m = _ISO_DATE.match(text.strip())
    if lang == "en" or not m:
        return text
    year, month, day, rest = m.groups()
    return f"{day}.{month}.{year}{rest}"


@functools.cache
def _pattern(template: str) -> re.Pattern[str]:
    """`template` as an anchored regex: a placeholder is a lazy group, a repeated one a
    back-reference."""
    parts: list[str] = []
    seen: set[str] = set()
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is None:
            continue
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
        seen.add(name)
    return re.compile("^" + "".join(parts) + "$", re.DOTALL)


def _literal_length(template: str) -> int:
    return sum(len(literal) for literal, *_ in string.Formatter().parse(template))


@functools.cache
def _ordered(templates: tuple[str, ...]) -> tuple[str, ...]:
    """Most literal text first, so a specific template wins over a looser one."""
    return tuple(sorted(templates, key=_literal_length, reverse=True))


def _value(t: Translator, name: str, value: str, depth: int) -> str:
    if name in WORDS:
        if t.has(value) and t.gettext(value) != value:
            return t.gettext(value)
        if depth < 3:
            found = _translate(t, value, TEMPLATES, depth + 1)
            if found is not None:
                return found
        return localize_number(value, t.lang)  # "+20.0%" in "({pct})"
    if name in NUMBERS:
        return localize_number(value, t.lang)
    if name in DATES:
        return _localize_date(value, t.lang)
    return value


def _translate(t: Translator, text: str, templates: Iterable[str], depth: int) -> str | None:
    for template in _ordered(tuple(templates)):
        m = _pattern(template).match(text)
        if m is None:
            continue
        values = {k: _value(t, k, v, depth) for k, v in m.groupdict().items()}
        return t(template, **values) if values else t(template)
    return None


def localize_line(t: Translator, text: str) -> str:
    """`text` (a flag, warning or quarantine reason as the sync wrote it) in `t`'s language;
    unchanged for English and for a sentence no template matches. Several warnings joined
    with ``"; "`` are translated one by one."""
    if t.lang == "en" or not text:
        return text
    found = _translate(t, text, TEMPLATES, 0)
    if found is not None:
        return found
    if "; " in text:
        return "; ".join(localize_line(t, part) for part in text.split("; "))
    return text
