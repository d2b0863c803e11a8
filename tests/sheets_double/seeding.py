"""Seed the Sheets API double from an .xlsx workbook (formulas with their cached values)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl

from sheets_double.server import Cell, SheetsDouble, typed_cell


def _seed_value(v: Any) -> Any:
    if isinstance(v, dt.datetime) and v.time() == dt.time():
        return v.date()
    return v


def seed_from_xlsx(d: SheetsDouble, sid: str, path: Path, locale: str) -> None:
    """Every sheet of the workbook at `path`, formulas with their cached values."""
    d.add_book(sid, path.stem, locale)
    formulas = openpyxl.load_workbook(path)
    shown = openpyxl.load_workbook(path, data_only=True)
    for ws in formulas.worksheets:
        cached = shown[ws.title]
        rows: list[list[Any]] = []
        for line in ws.iter_rows():
            out: list[Any] = []
            for c in line:
                value = _seed_value(c.value)
                if isinstance(value, str) and value.startswith("="):
                    computed = _seed_value(cached[c.coordinate].value)
                    base = Cell() if computed is None else typed_cell(computed, locale)
                    out.append(Cell(base.value, value, base.kind, base.pattern))
                else:
                    out.append(value)
            rows.append(out)
        d.seed(sid, ws.title, rows, hidden=ws.sheet_state != "visible")


def sheet_sync_config(demo_workbook: Path, sheet_id: str, folder: Path, store: str) -> Path:
    """The demo's sync config rewritten for a Google Sheet: ``workbook = "gsheet:ID"``, its
    own fact store, the demo's exports by absolute path; written to `folder`/plan.toml."""
    import re

    text = (demo_workbook.parent / "sync.toml").read_text(encoding="utf-8")
    text = re.sub(r'(?m)^workbook = ".*"$', f'workbook = "gsheet:{sheet_id}"', text)
    text = re.sub(r'(?m)^store = ".*"$', f'store = "{store}"', text)
    text = text.replace('path = "exports/', f'path = "{demo_workbook.parent.as_posix()}/exports/')
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "plan.toml"
    path.write_text(text, encoding="utf-8")
    return path
