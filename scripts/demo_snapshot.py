"""Snapshot of `funnelplan demo --json` and of every cell of the demo workbook, for refactors.

    python scripts/demo_snapshot.py > before.json        # on the old tree
    python scripts/demo_snapshot.py --compare before.json  # on the new tree: prints the diff

The demo runs in a temporary folder; its path is replaced by ``<out>`` and anything that looks
like a wall-clock timestamp (not midnight) is replaced by ``<time>``, so two runs of the same
code give the same snapshot. Each cell is recorded as its formula (or value) as openpyxl reads
it from the .xlsx.
Exit status 1 when ``--compare`` finds a difference.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import openpyxl

STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:?\d{2}|Z)?")


def _stamp(match: re.Match[str]) -> str:
    """A timestamp with a time of day is wall-clock (a sync's `now`); a midnight one is a date."""
    text = match.group(0)
    return text if text[11:19] == "00:00:00" and not match.group(2) else "<time>"


def _clean(value: Any, out: str) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v, out) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v, out) for v in value]
    if isinstance(value, str):
        return STAMP.sub(_stamp, value.replace(out, "<out>"))
    return value


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def workbook_cells(path: Path) -> dict[str, dict[str, Any]]:
    book = openpyxl.load_workbook(path)
    return {
        ws.title: {
            cell.coordinate: _cell(cell.value)
            for row in ws.iter_rows()
            for cell in row
            if cell.value is not None
        }
        for ws in book.worksheets
    }


def snapshot(command: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "demo"
        run = subprocess.run(
            [*command, "demo", "--out", str(out), "--json"],
            capture_output=True,
            text=True,
            check=True,
        )
        summary = json.loads(run.stdout)
        cells = workbook_cells(Path(summary["workbook"]))
        return _clean({"summary": summary, "workbook": cells}, str(out))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", type=Path, help="A snapshot to compare against.")
    parser.add_argument(
        "--command", default="funnelplan", help="The funnelplan command (default: funnelplan)."
    )
    args = parser.parse_args()
    snap = snapshot(args.command.split())
    text = json.dumps(snap, indent=1, sort_keys=True, ensure_ascii=False)
    if args.compare is None:
        print(text)
        return 0
    before = args.compare.read_text(encoding="utf-8").splitlines()
    diff = list(difflib.unified_diff(before, text.splitlines(), "before", "after", lineterm=""))
    for line in diff[:200]:
        print(line)
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
