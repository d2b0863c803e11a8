"""The demo workbook as a user sees it: every sheet rendered through LibreOffice to PNG, and
no number or date shown as ``###`` and no header cut short, measured cell by cell (the value
as its number format shows it, and each header's words, against the column's width), in
English and in Russian."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import require
from demo_cache import run_demo
from visual_check import pdftoppm_path, render_pngs, workbook_problems

from sheets_sync.libreoffice import recalculate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["en", "ru"])
def demo(request: Any, tmp_path_factory: pytest.TempPathFactory, soffice: str) -> dict[str, Any]:
    lang = request.param
    out = tmp_path_factory.mktemp(f"visual-{lang}")
    result = run_demo(out / "demo", lang=lang)
    return {
        "lang": lang,
        "built": result.workbook,
        "recalculated": recalculate(result.workbook, out / "recalc"),
        "out": out,
    }


def test_no_hashes_and_no_clipped_headers(demo: dict[str, Any]) -> None:
    problems = workbook_problems(demo["built"], demo["recalculated"])
    assert not problems, f"{len(problems)} in {demo['lang']}:\n" + "\n".join(
        str(p) for p in problems[:40]
    )


def test_the_check_sees_a_hash_and_a_clipped_header(demo: dict[str, Any], tmp_path: Path) -> None:
    """The measurement finds what it is for: a narrowed money column and header."""
    wb = openpyxl.load_workbook(demo["built"])
    plan = wb.worksheets[1]  # the Plan, in either language
    plan.column_dimensions["C"].width = 5
    narrowed = tmp_path / "narrowed.xlsx"
    wb.save(narrowed)
    found = {(p.cell, p.kind) for p in workbook_problems(narrowed, demo["recalculated"])}
    assert ("C4", "clipped header") in found
    assert ("C5", "###") in found  # 230,000 in 5 widths


def test_every_sheet_renders_to_png(demo: dict[str, Any]) -> None:
    require("pdftoppm", pdftoppm_path() is not None, "apt-get install poppler-utils")
    pngs = render_pngs(demo["recalculated"], demo["out"] / "png", dpi=20)
    visible = [
        ws.title
        for ws in openpyxl.load_workbook(demo["built"], read_only=True).worksheets
        if ws.sheet_state == "visible"
    ]
    assert len(pngs) >= len(visible)  # one page at least per visible sheet
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
