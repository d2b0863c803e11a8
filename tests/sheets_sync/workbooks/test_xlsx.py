"""The .xlsx adapter: writes are seen by reads at once, the file changes only on save, and a
saved workbook keeps its permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import openpyxl

from sheets_sync.workbooks.xlsx import XlsxWorkbook, save_atomic


def _book(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Plan"
    ws.append(["line", "spend p", "double"])
    ws.append(["a", 10, "=B2*2"])
    ws.append(["b", 20, "=B3*2"])
    return save_atomic(wb, path)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_reads_see_writes_and_the_file_changes_only_on_save(tmp_path: Path) -> None:
    path = _book(tmp_path / "plan.xlsx")
    before = path.read_bytes()
    wb = XlsxWorkbook(path)
    wb.write_block("Plan", 2, 2, [[15], [25]])
    table = wb.read_table("Plan")
    assert table.values("spend p") == [15, 25]
    assert table.values("double") == [None, None]  # never calculated: the file caches nothing
    assert path.read_bytes() == before
    wb.save()
    assert XlsxWorkbook(path).read_table("Plan").values("spend p") == [15, 25]


def test_new_files_get_the_usual_mode_and_saves_keep_the_files(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        path = _book(tmp_path / "plan.xlsx")
        assert _mode(path) == 0o644  # not the 0o600 of a temporary file
        path.chmod(0o640)
        wb = XlsxWorkbook(path)
        wb.write_block("Plan", 2, 2, [[1]])
        wb.save()
        assert _mode(path) == 0o640
    finally:
        os.umask(umask)


def test_read_cells_formulas_or_their_values(tmp_path: Path, soffice: str) -> None:
    """Formulas as their text by default; `formulas=False` gives the value last calculated
    (None in a file no spreadsheet program has calculated yet; LibreOffice's once it has)."""
    from sheets_sync.libreoffice import recalculate

    path = tmp_path / "book.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "S"
    ws.append(["a", 2, "=B1*2"])
    book.save(path)
    wb = XlsxWorkbook(path)
    assert wb.read_cells("S", 1, 1, 1, 3) == [["a", 2, "=B1*2"]]
    assert wb.read_cells("S", 1, 1, 1, 3, formulas=False) == [["a", 2, None]]
    calculated = XlsxWorkbook(recalculate(path, tmp_path / "calc"))
    assert calculated.read_cells("S", 1, 1, 1, 3) == [["a", 2, "=B1*2"]]
    assert calculated.read_cells("S", 1, 1, 1, 3, formulas=False) == [["a", 2, 4]]
