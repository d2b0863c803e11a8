"""The Plan's composed headers in either language: ``"cpa leads f"`` ↔ ``"CPA лиды факт"``.

A Plan header is ``[<ratio word>] <metric> <kind>`` (`workbook_templates.layout.abs_header`,
`ratio_header`). Headers of user-defined stages cannot all be in a catalog, so they are
translated by parts, and read back by parts:

- the metric word is the stage's key (``"leads"``, ``"pp"``), ``"spend"`` or ``"revenue"``:
  msgid = the word itself (a stage the catalog does not know keeps its key);
- the ratio word (``"cr"``, ``"cpa"`` before a stage; ``"cpc"``, ``"roas"``, ``"romi"`` alone)
  likewise: msgid = the word;
- the kind is a *pattern* msgid, ``"{metric} p"`` → ``"{metric} план"``, not a bare ``"p"``: the
  kind words' translations (план, факт, прогноз) are also the translations of whole words
  elsewhere (the Pace sheet's ``plan``), and a pattern keeps `Translator.reverse` unambiguous.

`localized_header` goes canonical → language; `canonical_header` goes back from either language
(case and surrounding spaces ignored), so readers need not know which language a workbook is in.
This module is in `sheets_sync.i18n` (not `workbook_templates`) so the adapters can use it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from sheets_sync.i18n import LANGUAGES, Translator, translator

__all__ = [
    "KINDS",
    "KIND_PATTERNS",
    "METRIC_WORDS",
    "RATIO_PREFIXES",
    "RATIO_WORDS",
    "canonical_header",
    "localized_header",
]

#: A Plan column's kind: plan, fact, run-rate, fact and run-rate as % of plan, daily pace needed.
KINDS = ("p", "f", "rr", "%f", "%rr", "pace")
#: The msgid of each kind: a pattern around the metric phrase.
KIND_PATTERNS = {kind: "{metric} " + kind for kind in KINDS}
#: Ratio words put before a stage (``"cr leads"``, ``"cpa pp"``) and ratio words alone.
RATIO_PREFIXES = ("cr", "cpa")
RATIO_WORDS = ("cpc", "roas", "romi")
#: Metrics that are not stages.
METRIC_WORDS = ("spend", "revenue")


def _split(canonical: str) -> tuple[str, str] | None:
    """``("cpa leads", "f")`` for ``"cpa leads f"``; None when the last word is not a kind."""
    head, _, kind = canonical.strip().rpartition(" ")
    if not head or kind not in KINDS:
        return None
    return head, kind


def _metric_phrase(phrase: str, t: Translator) -> str:
    """``"cpa leads"`` → ``"CPA лиды"``: the ratio word and the metric translated apart."""
    first, _, rest = phrase.partition(" ")
    if first in RATIO_PREFIXES and rest:
        return f"{t(first)} {t(rest)}"
    return t(phrase)


def localized_header(canonical: str, t: Translator) -> str:
    """The header `canonical` (English, as `layout.plan_headers` makes it) in `t`'s language.

    A composed Plan header is translated by parts (``"leads %rr"`` → ``"лиды прогноз % плана"``);
    any other header is translated whole (``"channel"`` → ``"канал"``) or kept when the catalog
    does not have it. English returns `canonical` unchanged.
    """
    parts = _split(canonical)
    if parts is None:
        return t(canonical)
    phrase, kind = parts
    return t(KIND_PATTERNS[kind], metric=_metric_phrase(phrase, t))


@functools.cache
def _kind_regexes(lang: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """Per kind, the regex of its translated pattern (longest first, so ``"%rr"`` wins)."""
    t = translator(lang)
    out = []
    for kind, msgid in KIND_PATTERNS.items():
        before, _, after = t.gettext(msgid).partition("{metric}")
        rx = re.compile(
            rf"^\s*{re.escape(before)}(?P<metric>.+?){re.escape(after)}\s*$", re.IGNORECASE
        )
        out.append((rx, kind, len(before) + len(after)))
    out.sort(key=lambda item: -item[2])
    return tuple((rx, kind) for rx, kind, _ in out)


def _word_map(lang: str, words: Iterable[str]) -> dict[str, str]:
    """Translated word (casefolded) → its English word, and each English word to itself."""
    t = translator(lang)
    found: dict[str, str] = {}
    for word in words:
        found.setdefault(word.casefold(), word)
        found.setdefault(t(word).strip().casefold(), word)
    return found


def _canonical_metric(phrase: str, lang: str, stages: tuple[str, ...]) -> str | None:
    metrics = _word_map(lang, (*METRIC_WORDS, *stages, *(s.replace("_", " ") for s in stages)))
    key = phrase.strip().casefold()
    if key in metrics:
        return metrics[key]
    ratios = _word_map(lang, RATIO_WORDS)
    if key in ratios:
        return ratios[key]
    first, _, rest = phrase.strip().partition(" ")
    prefix = _word_map(lang, RATIO_PREFIXES).get(first.casefold())
    stage = metrics.get(rest.strip().casefold())
    if prefix is not None and stage is not None and stage not in METRIC_WORDS:
        return f"{prefix} {stage.replace('_', ' ')}"
    return None


def canonical_header(text: str, stages: Iterable[str]) -> str:
    """The canonical (English) header of `text`, a header in either language.

    `stages` are the funnel's stage names (``Funnel.names``): a composed header whose metric is
    not spend, revenue or one of them is not a Plan header. ``"CPA лиды факт"`` → ``"cpa leads
    f"``, ``"лиды план"`` → ``"leads p"``, ``"Leads P"`` → ``"leads p"``; a whole translated
    header comes back through the catalog (``"канал"`` → ``"channel"``); anything else is
    returned stripped and unchanged (a user's own column, or ``"ROMI"``: a text that is its own
    word's translation).
    """
    names = tuple(stages)
    clean = text.strip()
    if not clean:
        return clean
    for lang in ("en", *(code for code in LANGUAGES if code != "en")):
        for rx, kind in _kind_regexes(lang):
            match = rx.match(clean)
            if match is None:
                continue
            metric = _canonical_metric(match.group("metric"), lang, names)
            if metric is not None:
                return f"{metric} {kind}"
    for lang in LANGUAGES:
        found = translator(lang).reverse(clean)
        # a Latin translation of the same word ("CR" of "cr") is already its own header
        if found is not None and found.casefold() != clean.casefold():
            return found
    return clean
