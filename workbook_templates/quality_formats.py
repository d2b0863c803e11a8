"""The number formats of the Data Quality sheet's cells, section by section.

Data Quality is stacked sections (summary, sources, reconciliation, leads check, files, the
quarantined rows, flags) whose columns hold different things (column D is a date in the
sources, money in the reconciliation, a share in the leads check), so its formats cannot be
the columns'. `quality_formats(block)` reads the block Sync Facts writes: each section starts
at its header row (in English or Russian), and each column of the section has its format;
in the reconciliation, money metrics (spend, revenue) show kopecks and counts whole numbers.
`fact_blocks.write_over` applies them where the adapter can (`write_number_formats`: the
.xlsx file).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sheets_sync.facts import MONEY
from sheets_sync.i18n import LANGUAGES, translator
from sheets_sync.i18n.formats import localized_format
from sheets_sync.quality import RECONCILIATION_COLUMNS
from workbook_templates.quality_sheet import (
    FILE_QUARANTINE_HEADERS,
    MISMATCH_HEADERS,
    QUARANTINE_HEADERS,
    SOURCE_HEADERS,
)
from workbook_templates.styles import FMT_COST, FMT_COUNT, FMT_COUNT_1DP, FMT_INT, FMT_PCT

DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm"
TITLE = "Data Quality"
MONEY_ROW = "money"  # the reconciliation's numbers on a money metric's row
_N = FMT_COUNT
RECONCILIATION_HEADERS = (*RECONCILIATION_COLUMNS[:-1], "earlier loads")

SECTIONS: tuple[tuple[tuple[str, ...], tuple[str | None, ...]], ...] = (
    (
        SOURCE_HEADERS,
        (None, None, _N, DATETIME, FMT_COUNT_1DP, None, _N, _N, _N, _N, FMT_PCT, None, None),
    ),
    (RECONCILIATION_HEADERS, (None, None, *([MONEY_ROW] * 9), None, MONEY_ROW)),
    (MISMATCH_HEADERS, (None, _N, _N, FMT_PCT, None)),
    (FILE_QUARANTINE_HEADERS, (None, None, _N, None)),
    (QUARANTINE_HEADERS, (None, None, FMT_INT, None, None, None)),
)


def _texts(row: Sequence[Any]) -> tuple[str, ...]:
    return tuple(str(v).strip() if v is not None else "" for v in row)


def _section_of(row: Sequence[Any]) -> tuple[str, tuple[str | None, ...]] | None:
    """(language, formats) when `row` is a section's header row in either language."""
    texts = _texts(row)
    for lang in LANGUAGES:
        t = translator(lang)
        for headers, formats in SECTIONS:
            names = tuple(t(h) for h in headers)
            if texts[: len(names)] == names:
                return lang, formats
    return None


def _is_money(metric: Any) -> bool:
    if not isinstance(metric, str):
        return False
    name = metric.strip()
    for lang in LANGUAGES:
        name = translator(lang).reverse(name) or name
    return name in MONEY


def quality_formats(block: Sequence[Sequence[Any]]) -> list[list[str | None]]:
    """Per cell of `block` (`quality_sheet.quality_block`'s rows) its number format, None
    where the cell keeps what it has (text, titles, the flags)."""
    out: list[list[str | None]] = []
    formats: tuple[str | None, ...] = ()
    lang = "en"
    for i, row in enumerate(block):
        found = _section_of(row)
        if found is not None:
            lang, formats = found
            out.append([None] * len(row))
            continue
        if i > 0 and row and row[0] is not None and (len(row) == 1 or row[1] is None):
            formats = ()  # a section's title: what follows is not the old section
        if i == 0:
            lang = next((x for x in LANGUAGES if row and translator(x)(TITLE) == row[0]), "en")
            out.append(_summary_formats(row, lang))
            continue
        money = _is_money(row[1]) if len(row) > 1 else False
        line: list[str | None] = []
        for j in range(len(row)):
            fmt = formats[j] if j < len(formats) else None
            if fmt == MONEY_ROW:
                fmt = FMT_COST if money else FMT_COUNT
            shown = row[j] is not None and not isinstance(row[j], str)
            line.append(localized_format(fmt, lang) if shown and fmt is not None else None)
        out.append(line)
    return out


def _summary_formats(row: Sequence[Any], lang: str) -> list[str | None]:
    """The summary line: synced (date and time) in C, as-of (a date) in G."""
    line: list[str | None] = [None] * len(row)
    if len(row) > 2 and row[2] is not None:
        line[2] = localized_format(DATETIME, lang)
    if len(row) > 6 and row[6] is not None:
        line[6] = localized_format(DATE, lang)
    return line
