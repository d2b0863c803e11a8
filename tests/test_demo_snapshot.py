"""The demo's JSON summary and every cell of its workbook equal the committed snapshot.

A refactor must not change what the demo computes or writes. When a change is meant to alter the
demo, regenerate the snapshot and review its diff in the commit:

    python scripts/demo_snapshot.py > tests/data/demo_snapshot.json
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "tests" / "data" / "demo_snapshot.json"


def _script():
    spec = importlib.util.spec_from_file_location(
        "demo_snapshot", ROOT / "scripts" / "demo_snapshot.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_matches_snapshot() -> None:
    script = _script()
    now = script.snapshot([sys.executable, "-m", "addin.cli"])
    before = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert now["summary"] == before["summary"]
    assert now["workbook"].keys() == before["workbook"].keys()
    for sheet, cells in before["workbook"].items():
        changed = {
            ref: (value, now["workbook"][sheet].get(ref))
            for ref, value in cells.items()
            if now["workbook"][sheet].get(ref) != value
        }
        added = set(now["workbook"][sheet]) - set(cells)
        assert not changed and not added, f"{sheet}: changed {changed}, added {sorted(added)}"
