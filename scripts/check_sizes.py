"""Modules over MAX_LINES lines and functions over MAX_FUNCTION lines, outside tests and
generated files: the size budget of docs/architecture.md.

    python scripts/check_sizes.py          # lists what is over; exit status 1 if anything is

A function's length counts from its `def` (decorators included) to its last line, docstring
included. `ALLOWED` names the few that must stay longer, each with its reason.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("planning", "sheets_sync", "workbook_templates", "addin")
MAX_LINES = 600
MAX_FUNCTION = 80
ALLOWED: dict[str, str] = {}
"""``path::function`` or ``path`` -> why it stays over budget."""


def over_budget() -> list[str]:
    found: list[str] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            text = path.read_text(encoding="utf-8")
            lines = text.count("\n") + 1
            if lines > MAX_LINES and rel not in ALLOWED:
                found.append(f"{rel}: {lines} lines (max {MAX_LINES})")
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                    length = (node.end_lineno or node.lineno) - first + 1
                    key = f"{rel}::{node.name}"
                    if length > MAX_FUNCTION and key not in ALLOWED:
                        found.append(f"{key}: {length} lines (max {MAX_FUNCTION})")
    return found


def main() -> int:
    found = over_budget()
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
