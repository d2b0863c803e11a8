"""Issue 16: every text the "sheets" modules translate is in the Russian catalogs.

An AST scan of the modules finds each call ``t(<first argument>, ...)`` (``t`` being a
`Translator`, also ``translator(lang)(...)``); a string literal, or a module constant holding a
string or a tuple of strings (``t(NOTE)``, ``[t(h) for h in HEADERS]``), is a msgid that must
have a Russian text. Texts built from data (``t(rec["metric"])``) are not msgids and are left
out. The header tuples written through a loop are listed here too.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from types import ModuleType

import pytest

from sheets_sync.i18n import translator

RU = translator("ru")

MODULES = (
    "workbook_templates.quality_sheet",
    "workbook_templates.alerts_sheet",
    "workbook_templates.attribution_sheet",
    "workbook_templates.cohorts_sheet",
    "addin.actions.sync_facts.report",
    "addin.actions.optimize_split",
)

CONSTANTS = {
    "workbook_templates.quality_sheet": (
        "SOURCE_HEADERS",
        "MISMATCH_HEADERS",
        "QUARANTINE_HEADERS",
        "FILE_QUARANTINE_HEADERS",
    ),
    "workbook_templates.alerts_sheet": ("RULE_HEADERS", "INCIDENT_HEADERS", "NOTE"),
    "workbook_templates.attribution_sheet": ("HEADERS", "SOURCE_HEADERS"),
    "workbook_templates.cohorts_sheet": ("HEADERS", "NOTE", "NO_DEALS", "CURVES_TITLE", "AS_OF"),
    "workbook_templates.layout": ("UNMAPPED_HEADERS", "UNDO_HEADERS", "MAPPING_HEADERS"),
}


def _is_translation_call(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id == "t"
    # translator(lang)("...") and texts_of(wb)("...")
    return isinstance(func, ast.Call) and getattr(func.func, "id", "") in ("translator", "texts_of")


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    return []


def _calls(node: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Call) and _is_translation_call(n)]


def _first(call: ast.Call, module: ModuleType, loops: dict[str, str]) -> list[str]:
    first = call.args[0] if call.args else None
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return [first.value]
    if isinstance(first, ast.Name):
        return _strings(getattr(module, loops.get(first.id, first.id), None))
    return []


def msgids(module: ModuleType) -> list[str]:
    """The msgids `module` passes to a translator: literals, and the module constants named
    as the first argument or looped over by the comprehension whose element is translated."""
    tree = ast.parse(inspect.getsource(module))
    found = [m for call in _calls(tree) for m in _first(call, module, {})]
    for node in ast.walk(tree):
        if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp):
            loops = {
                g.target.id: g.iter.id
                for g in node.generators
                if isinstance(g.target, ast.Name) and isinstance(g.iter, ast.Name)
            }
            found += [m for call in _calls(node.elt) for m in _first(call, module, loops)]
    return found


def _needs_text(msgid: str) -> bool:
    """A text with words to translate (not "{n}", not a Latin term such as "CRM leads"'s CRM)."""
    return bool(re.search(r"[A-Za-z]{2,}", re.sub(r"\{[^}]*\}", "", msgid)))


@pytest.mark.parametrize("name", MODULES)
def test_every_msgid_passed_to_t_is_in_the_catalogs(name: str) -> None:
    module = importlib.import_module(name)
    found = [m for m in msgids(module) if _needs_text(m)]
    assert len(found) >= 3, name  # the scan sees the module's calls
    missing = sorted({m for m in found if RU.gettext(m) == m})
    assert missing == []


@pytest.mark.parametrize(("name", "constant"), [(m, c) for m, cs in CONSTANTS.items() for c in cs])
def test_every_header_constant_is_in_the_catalogs(name: str, constant: str) -> None:
    values = [
        v for v in _strings(getattr(importlib.import_module(name), constant)) if _needs_text(v)
    ]
    latin = {"utm_source", "utm_medium", "utm_campaign"}  # kept as the exports write them
    missing = [v for v in values if v not in latin and RU.gettext(v) == v]
    assert missing == []


def test_the_scan_finds_literals_and_constants() -> None:
    source = "NOTE = 'hello'\nHEADERS = ('a b', 'c d')\n"
    module = ModuleType("m")
    exec(compile(source, "m", "exec"), module.__dict__)
    tree_calls = "def f(t):\n    return [t('x y'), t(NOTE), *[t(h) for h in HEADERS]]\n"
    exec(compile(tree_calls, "m", "exec"), module.__dict__)
    module.__dict__["__source__"] = source + tree_calls
    original = inspect.getsource
    try:
        inspect.getsource = lambda m: m.__dict__["__source__"]  # type: ignore[assignment]
        assert sorted(msgids(module)) == ["a b", "c d", "hello", "x y"]
    finally:
        inspect.getsource = original
