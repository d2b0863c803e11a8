"""Render a sheet of the demo workbook to a PNG for the README (LibreOffice headless).

    python scripts/render_readme_image.py [--out docs/demo-workbook.png]
    python scripts/render_readme_image.py --sheet Scenarios --out docs/demo-scenarios.png

Runs the demo into a temporary folder, converts the workbook to PDF with LibreOffice (formulas
recalculated on load) and turns the first page into a PNG with pdftoppm: by default the
Executive sheet (roll-up and charts); with `--sheet`, that sheet alone, fitted to one page (the
other sheets hidden in a copy).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import openpyxl
from openpyxl.utils import get_column_letter

from addin.cli.demo import run_demo
from sheets_sync.libreoffice import convert


def _content_box(ppm: Path, margin: int = 12) -> tuple[int, int, int, int]:
    """Bounding box (x, y, w, h) of the non-white pixels of a binary PPM (P6) image."""
    data = ppm.read_bytes()
    parts = data.split(maxsplit=4)
    width, height = int(parts[1]), int(parts[2])
    pixels = np.frombuffer(parts[4][: width * height * 3], dtype=np.uint8).reshape(height, width, 3)
    ink = np.argwhere(pixels.min(axis=2) < 245)
    (y0, x0), (y1, x1) = ink.min(axis=0), ink.max(axis=0)
    x0, y0 = max(0, x0 - margin), max(0, y0 - margin)
    return int(x0), int(y0), int(min(width, x1 + margin) - x0), int(min(height, y1 + margin) - y0)


def _only(book: Path, sheet: str, folder: Path) -> Path:
    """A copy of `book` showing only `sheet`, fitted to one page; the charts' data columns at
    its right (a header starting with "chart data") are hidden, the charts still plot them."""
    wb = openpyxl.load_workbook(book)
    ws = wb[sheet]
    data_cols = [
        c.column
        for row in ws.iter_rows(max_row=60)
        for c in row
        if isinstance(c.value, str) and c.value.startswith("chart data")
    ]
    if data_cols:
        for col in range(min(data_cols), ws.max_column + 1):
            ws.column_dimensions[get_column_letter(col)].hidden = True
        for chart in ws._charts:
            chart.visible_cells_only = False
        last = max(chart.anchor._from.col + 11 for chart in ws._charts)  # ~24 cm of columns
        ws.print_area = f"A1:{get_column_letter(min(last, min(data_cols) - 1))}{ws.max_row}"
    for other in wb.worksheets:
        if other.title != sheet:
            other.sheet_state = "hidden"
    wb.active = wb.worksheets.index(ws)
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1
    ws.page_setup.orientation = "landscape"
    copy = folder / f"{sheet}.xlsx"
    wb.save(copy)
    return copy


def render(out: Path, dpi: int = 110, sheet: str | None = None) -> Path:
    if shutil.which("pdftoppm") is None:
        raise SystemExit("pdftoppm is missing: apt-get install poppler-utils")
    with tempfile.TemporaryDirectory() as tmp:
        result = run_demo(Path(tmp) / "demo")
        book = result.workbook if sheet is None else _only(result.workbook, sheet, Path(tmp))
        pdf = convert(book, Path(tmp) / "pdf", "pdf")
        stem = Path(tmp) / "page"
        page = ["pdftoppm", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile"]
        subprocess.run([*page, str(pdf), str(stem)], check=True)
        x, y, w, h = _content_box(Path(f"{stem}.ppm"))
        crop = ["-x", str(x), "-y", str(y), "-W", str(w), "-H", str(h)]
        subprocess.run([*page, "-png", *crop, str(pdf), str(stem)], check=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f"{stem}.png", out)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/demo-workbook.png"))
    parser.add_argument("--dpi", type=int, default=160)
    parser.add_argument("--sheet", help="Render this sheet alone (default: the Executive sheet).")
    args = parser.parse_args()
    print(render(args.out, args.dpi, args.sheet))
