"""A built template in the workbook's language: the English workbook translated in place.

Templates are written in English (the catalogs' message ids), so an ``en`` workbook is exactly
what the sheet modules draw. For another language `localize_workbook` then translates:

- sheet titles (``t("Plan")`` → ``План``) and every sheet reference to them: cell formulas,
  defined names, data validations, conditional formats, chart series (`localize_refs`);
- every text cell whose whole text is a msgid, a composed Plan header (`header_words`), a
  ratio label (``"CPA PP"``) or one of `PATTERNS` (texts with a month or a label inside);
  text literals inside formulas likewise (``IF(AsOf="","month","as of")``);
- chart titles and axis titles;
- the options of a drop-down of words (`WORDED_OPTIONS`: the Drill sheet's levels) and its
  message;
- date formats to the language's (``dd.mm.yyyy``); number formats get the Russian locale tag
  ``[$-419]`` (a space between thousands, a decimal comma): `sheets_sync.i18n.formats`.

What is *not* translated: the cells of a table (under a header cell, down to the first blank row)
except in the label columns
`LABEL_HEADERS` (setting, item, help, label ...): channel and campaign names, stage keys, the
Settings values, alert rules, drop-down codes are data a reader parses; nor hidden columns (the
drop-downs' lists). The Total label is translated wherever it is. Readers accept either
language (the runtime's roles and `canonical_header`).

`add_role_names` gives every sheet a ``_fp_role_<role>`` defined name (both languages), so a
sheet the user renames is still found by what it is.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from babel.dates import format_date
from openpyxl import Workbook
from openpyxl.utils import column_index_from_string
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.worksheet import Worksheet

from planning.drill import LEVELS
from sheets_sync.i18n import SOURCE_LANGUAGE, Translator, translator
from sheets_sync.i18n.formats import localized_format
from sheets_sync.i18n.header_words import localized_header
from workbook_templates import layout as L
from workbook_templates.localize_charts import localize_charts
from workbook_templates.localize_refs import quote_sheet, rewrite_formula

__all__ = [
    "LABEL_HEADERS",
    "PATTERNS",
    "ROLE_PREFIX",
    "WORDED_OPTIONS",
    "add_role_names",
    "localize_workbook",
    "role_name",
]

#: Table columns whose cells are labels for people (translated); the cells of any other
#: table column are data or codes a reader parses and a drop-down offers (left as written).
LABEL_HEADERS = frozenset(
    {"setting", "item", "help", "label", "note", "notes", "description", "scenario", "status"}
)
#: Drop-down options that are words for people, not codes: the Drill sheet's levels, whose
#: reader takes either language. An inline list made only of these is translated (and its
#: error message); every other list holds codes a reader parses and stays as written.
WORDED_OPTIONS = frozenset(LEVELS)
#: Labels translated in any column (the template's own rows).
ALWAYS = frozenset({L.TOTAL_LABEL})
#: Texts with a value inside: the English pattern is the msgid; ``{month}`` is a month
#: ("November 2026"), any other field a text translated on its own.
PATTERNS = (
    "Funnel plan — {month}",
    "Executive report — {month}",
    "Optimize Split — {month}",
    "{label} by channel: plan vs fact vs run-rate",
    "{label}: plan vs fact vs run-rate, cumulative",
    "{label}, cumulative: fact and run-rate are set by Refresh Run-Rate",
    "{month}: plan and fact per line (from {file})",
)
ROLE_PREFIX = "_fp_role_"
_HEADER_RGB = "1F3864"  # styles.FILL_HEADER
_RATIO_LABEL = re.compile(r"^(CR|CPA) (.+)$")


def role_name(role: str) -> str:
    """The defined name of a sheet's role: ``_fp_role_Daily_History`` for "Daily History"."""
    return ROLE_PREFIX + re.sub(r"\W", "_", role)


def add_role_names(wb: Workbook, roles: dict[str, str]) -> None:
    """A ``_fp_role_<role>`` defined name at A1 of each sheet (`roles`: role → sheet title)."""
    for role, title in roles.items():
        name = role_name(role)
        wb.defined_names[name] = DefinedName(name, attr_text=f"{quote_sheet(title)}!$A$1")


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", pattern)
    rx = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)
    )
    return re.compile(f"^{rx}$")


_PATTERN_RX = tuple((p, _pattern_regex(p)) for p in PATTERNS)


class _Texts:
    """One label in the workbook's language (unchanged when it is no known text)."""

    def __init__(self, t: Translator) -> None:
        self.t = t
        self.locale = t.lang

    def month(self, text: str) -> str:
        try:
            day = dt.datetime.strptime(text, "%B %Y").date()
        except ValueError:
            return text
        return format_date(day, "LLLL y", locale=self.locale)

    def __call__(self, text: str) -> str:
        if not text.strip():
            return text
        if self.t.has(text):
            return self.t(text)
        header = localized_header(text, self.t)
        if header != text:
            return header
        ratio = _RATIO_LABEL.match(text)
        if ratio and self.t.has(ratio.group(2)):
            return f"{ratio.group(1)} {self.t(ratio.group(2))}"
        for msgid, rx in _PATTERN_RX:
            found = rx.match(text)
            if found and self.t.has(msgid):
                values = {
                    k: self.month(v) if k == "month" else (v if k == "file" else self(v))
                    for k, v in found.groupdict().items()
                }
                return self.t(msgid, **values)
        return text


def _is_header(cell: Any) -> bool:
    rgb = getattr(getattr(cell.fill, "fgColor", None), "rgb", None)
    return isinstance(rgb, str) and rgb.upper().endswith(_HEADER_RGB)


def _hidden_columns(ws: Worksheet) -> set[int]:
    """Columns the template hides (drop-down lists of codes)."""
    hidden: set[int] = set()
    for key, dim in ws.column_dimensions.items():
        if dim.hidden:
            first = dim.min or column_index_from_string(key)
            hidden.update(range(first, (dim.max or first) + 1))
    return hidden


def _localize_cells(ws: Worksheet, texts: _Texts, renames: dict[str, str]) -> None:
    """Texts outside tables, headers, cells of `LABEL_HEADERS` columns and `ALWAYS` labels are
    translated; formulas get their sheet references and text literals; number formats the
    language's form."""
    hidden = _hidden_columns(ws)
    header_above: dict[int, str] = {}  # column -> the English text of the last header above
    for row in ws.iter_rows():
        if all(c.value in (None, "") for c in row):
            header_above.clear()  # a blank row ends every table above it
        for c in row:
            value, col = c.value, int(c.column or 0)
            if isinstance(value, str) and col not in hidden:
                if value.startswith("="):
                    c.value = rewrite_formula(value, renames, texts)
                elif _is_header(c):
                    header_above[col] = value.strip()
                    c.value = texts(value)
                elif header_above.get(col, "help") in LABEL_HEADERS or value in ALWAYS:
                    c.value = texts(value)
            fmt = c.number_format
            local = localized_format(fmt, texts.locale)
            if local != fmt:
                c.number_format = local


def _worded_list(formula: str, texts: _Texts) -> str | None:
    """An inline drop-down list (``"a,b,c"``) of `WORDED_OPTIONS` only, its options
    translated; None for any other list (codes stay as written)."""
    if not (formula.startswith('"') and formula.endswith('"')):
        return None
    options = formula[1:-1].split(",")
    if not all(option in WORDED_OPTIONS for option in options):
        return None
    return '"' + ",".join(texts(option) for option in options) + '"'


def _localize_rules(ws: Worksheet, renames: dict[str, str], texts: _Texts) -> None:
    """Sheet references in data validations and conditional formats; a drop-down of
    `WORDED_OPTIONS` in the language, with its title and message."""
    for dv in ws.data_validations.dataValidation:
        worded = _worded_list(dv.formula1, texts) if isinstance(dv.formula1, str) else None
        if worded is not None:
            dv.formula1 = worded
            for attr in ("errorTitle", "error", "promptTitle", "prompt"):
                value = getattr(dv, attr)
                if isinstance(value, str):
                    setattr(dv, attr, texts(value))
            continue
        for attr in ("formula1", "formula2"):
            value = getattr(dv, attr)
            if isinstance(value, str):
                setattr(dv, attr, rewrite_formula(value, renames))
    for cf in ws.conditional_formatting:
        for rule in cf.rules:
            if rule.formula:
                rule.formula = [rewrite_formula(f, renames) for f in rule.formula]


def _localize_names(wb: Workbook, renames: dict[str, str]) -> None:
    scopes: list[Iterable[DefinedName]] = [wb.defined_names.values()]
    scopes += [ws.defined_names.values() for ws in wb.worksheets]
    for names in scopes:
        for dn in names:
            if dn.attr_text:
                dn.attr_text = rewrite_formula(dn.attr_text, renames)


def localize_workbook(wb: Workbook, lang: str) -> dict[str, str]:
    """Translate the English template `wb` into `lang` in place; returns the sheet renames
    (English title → title). English changes nothing."""
    t = translator(lang)
    if t.lang == SOURCE_LANGUAGE:
        return {}
    renames = {ws.title: t(ws.title) for ws in wb.worksheets if t(ws.title) != ws.title}
    texts = _Texts(t)
    for ws in wb.worksheets:
        _localize_cells(ws, texts, renames)
        _localize_rules(ws, renames, texts)
        localize_charts(ws, texts, renames)
    _localize_names(wb, renames)
    for ws in wb.worksheets:
        if ws.title in renames:
            ws.title = renames[ws.title]
    return renames
