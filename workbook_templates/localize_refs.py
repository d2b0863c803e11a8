"""Sheet references and string literals inside formulas, rewritten when sheets are renamed.

A template is built in English and translated afterwards (`workbook_templates.localize`);
renaming a sheet in openpyxl changes nothing that points at it, so every formula, defined
name, data validation, conditional format and chart series is tokenized (openpyxl's
`Tokenizer`, the same grammar Excel uses) and its range operands re-prefixed with the new sheet
names. Text literals (``"as of"``) go through `text`, the caller's translation of one label.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from openpyxl.formula.tokenizer import Token, Tokenizer

__all__ = ["quote_sheet", "rewrite_formula", "split_sheet_ref"]

_BARE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


def quote_sheet(name: str) -> str:
    """`name` as a formula's sheet prefix: bare for plain ASCII names, else in quotes."""
    if _BARE.fullmatch(name) and not re.fullmatch(r"[A-Za-z]{1,3}[0-9]+", name):
        return name
    return "'" + name.replace("'", "''") + "'"


def split_sheet_ref(ref: str) -> tuple[str | None, str]:
    """``("Daily History", "A:A")`` for ``'Daily History'!A:A``; ``(None, ref)`` without a
    sheet prefix."""
    if "!" not in ref:
        return None, ref
    sheet, _, cells = ref.rpartition("!")
    if sheet.startswith("'") and sheet.endswith("'") and len(sheet) >= 2:
        sheet = sheet[1:-1].replace("''", "'")
    return sheet, cells


def _rename_ref(ref: str, renames: Mapping[str, str]) -> str:
    sheet, cells = split_sheet_ref(ref)
    if sheet is None or sheet not in renames:
        return ref
    return f"{quote_sheet(renames[sheet])}!{cells}"


def rewrite_formula(
    formula: str,
    renames: Mapping[str, str],
    text: Callable[[str], str] | None = None,
) -> str:
    """`formula` (with or without the leading ``=``) with every sheet in `renames` renamed and,
    when `text` is given, every text literal passed through it. A formula the tokenizer cannot
    read is returned unchanged (a template's formulas always can)."""
    eq = formula.startswith("=")
    try:
        tokens = Tokenizer(formula if eq else "=" + formula).items
    except Exception:
        return formula
    out: list[str] = []
    changed = False
    for token in tokens:
        value = token.value
        if token.type == Token.OPERAND and token.subtype == Token.RANGE:
            value = _rename_ref(value, renames)
        elif token.type == Token.OPERAND and token.subtype == Token.TEXT and text is not None:
            inner = value[1:-1].replace('""', '"')
            new = text(inner)
            if new != inner:
                value = '"' + new.replace('"', '""') + '"'
        changed = changed or value != token.value
        out.append(value)
    if not changed:
        return formula
    body = "".join(out)
    return "=" + body if eq else body
