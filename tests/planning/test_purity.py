"""`planning/` is pure numbers: it imports no I/O, spreadsheet or network library."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import planning

FORBIDDEN = ("xlwings", "gspread", "google.auth", "openpyxl", "duckdb", "matplotlib", "requests")
TOP_LEVEL = sorted({f.split(".")[0] for f in FORBIDDEN})
PACKAGE = Path(planning.__file__).parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_module_of_planning_imports_io_libraries() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) >= 4
    for module in modules:
        for name in _imports(module):
            assert not any(name == f or name.startswith(f + ".") for f in FORBIDDEN), (
                f"{module.name} imports {name}"
            )
            assert not name.startswith(("sheets_sync", "addin", "workbook_templates")), (
                f"{module.name} imports {name}: dependencies point into planning, never out"
            )


def test_importing_planning_loads_none_of_them() -> None:
    code = (
        "import sys, planning.funnel, planning.runrate, planning.errors;"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {TOP_LEVEL!r}"
        " or m.startswith('google.auth')];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
