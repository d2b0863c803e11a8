"""The visual check's tools: a workbook rendered through LibreOffice to PNG (every sheet, or
one sheet alone for the README), and what a user would see wrong in it, measured: a number or
date shown as ``###`` (its text, as its number format shows it, wider than its column) and a
header cut short (a word of a wrapped header wider than its column, or more lines than its
row is high).

Values come from the LibreOffice-recalculated copy; number formats, widths, fonts and heights
from the workbook as built (LibreOffice rewrites some formats on save).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell.cell import Cell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

from sheets_sync.libreoffice import convert
from workbook_templates.display import shown_text
from workbook_templates.text_width import PADDING, text_units
from workbook_templates.widths import DEFAULT_WIDTH, LINE_HEIGHT, is_header, wrapped_lines


def pdftoppm_path() -> str | None:
    return shutil.which("pdftoppm")


def render_pngs(xlsx: Path, out_dir: Path, dpi: int = 40) -> list[Path]:
    """Every printed page of `xlsx` (all its visible sheets) as a PNG in `out_dir`."""
    pdf = convert(xlsx, out_dir, "pdf")
    prefix = out_dir / xlsx.stem
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(prefix)], check=True)
    return sorted(out_dir.glob(f"{xlsx.stem}*.png"))


def render_sheet(
    xlsx: Path, sheet: str, out_png: Path, dpi: int = 80, area: str | None = None
) -> Path:
    """`sheet` alone (its `area`, e.g. ``"A1:Z33"``, when given), fitted to one page and
    cropped to its content, as `out_png` (the README pictures)."""
    work = out_png.parent / f".render-{out_png.stem}"
    work.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.load_workbook(xlsx)
    for ws in wb.worksheets:
        ws.sheet_state = "visible" if ws.title == sheet else "hidden"
    ws = wb[sheet]
    wb.active = wb.worksheets.index(ws)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    if area is not None:
        ws.print_area = area
    copy = work / f"{out_png.stem}.xlsx"
    wb.save(copy)
    pdf = convert(copy, work, "pdf")
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", "-singlefile", "-f", "1", str(pdf), str(work / "p")],
        check=True,
    )
    _crop(work / "p.png", out_png)
    shutil.rmtree(work)
    return out_png


def _crop(png: Path, out: Path, margin: int = 10) -> None:
    """`png` cut to its non-white content (plus `margin`) as `out`."""
    from PIL import Image

    image = Image.open(png).convert("RGB")
    ink = Image.eval(image.convert("L"), lambda v: 255 if v < 245 else 0).getbbox()
    if ink is not None:
        x0, y0, x1, y1 = ink
        box = (max(0, x0 - margin), max(0, y0 - margin), x1 + margin, y1 + margin)
        image = image.crop(box)
    image.save(out, optimize=True)


def column_width(ws: Any, col: int) -> float:
    """Column `col`'s width as the file says (a dimension may span several columns)."""
    for dim in ws.column_dimensions.values():
        low, high = dim.min or 0, dim.max or 0
        if low <= col <= high and dim.width:
            return float(dim.width)
    fmt = ws.sheet_format
    return float(fmt.defaultColWidth or DEFAULT_WIDTH) if fmt is not None else DEFAULT_WIDTH


def hidden_column(ws: Any, col: int) -> bool:
    return any(
        (dim.min or 0) <= col <= (dim.max or 0) and dim.hidden
        for dim in ws.column_dimensions.values()
    )


@dataclass(frozen=True)
class Problem:
    sheet: str
    cell: str
    kind: str  # "###" or "clipped header"
    text: str
    need: float
    width: float

    def __str__(self) -> str:
        return (
            f"{self.sheet}!{self.cell}: {self.kind} {self.text!r} needs {self.need:.1f}, "
            f"column {self.width:.1f}"
        )


def _merged_widths(ws: Any) -> dict[tuple[int, int], float]:
    """Each merged range's anchor and its total width; its other cells as 0 (skipped)."""
    out: dict[tuple[int, int], float] = {}
    for rng in ws.merged_cells.ranges:
        cols = range(rng.min_col, rng.max_col + 1)
        for row in range(rng.min_row, rng.max_row + 1):
            for col in cols:
                out[(row, col)] = 0.0
        out[(rng.min_row, rng.min_col)] = sum(column_width(ws, c) for c in cols)
    return out


def _bold(cell: Cell) -> bool:
    return bool(cell.font is not None and cell.font.b)


def _header_problem(ws: Any, cell: Cell, width: float) -> Problem | None:
    text = str(cell.value)
    bold = _bold(cell)
    wraps = cell.alignment is not None and cell.alignment.wrap_text
    words = text.split() if wraps else [text]
    worst = max(words, key=lambda w: text_units(w, bold), default="")
    need = text_units(worst, bold) + PADDING
    if need > width + 1e-9:
        return Problem(ws.title, cell.coordinate, "clipped header", text, need, width)
    height = ws.row_dimensions[cell.row].height
    if wraps and height:  # a row without a height grows to its text in LibreOffice
        lines = wrapped_lines(text, width, bold)
        if lines * LINE_HEIGHT > height + 2:
            return Problem(ws.title, cell.coordinate, "clipped header", text, lines, height)
    return None


def sheet_problems(formats_ws: Any, values_ws: Any) -> list[Problem]:
    """The ``###`` cells and clipped headers of one sheet."""
    problems: list[Problem] = []
    merged = _merged_widths(formats_ws)
    values = {(c.row, c.column): c.value for row in values_ws.iter_rows() for c in row if c.value}
    for row in formats_ws.iter_rows():
        for cell in row:
            if not isinstance(cell, Cell) or hidden_column(formats_ws, cell.column):
                continue
            at = (cell.row, cell.column)
            width = merged.get(at, column_width(formats_ws, cell.column))
            if width == 0.0:
                continue
            value = values.get(at, cell.value)
            if is_header(cell) and isinstance(value, str):
                problem = _header_problem(formats_ws, cell, width)
                if problem is not None:
                    problems.append(problem)
            elif value is not None and not isinstance(value, str | bool):
                text = shown_text(value, cell.number_format)
                need = text_units(text, _bold(cell)) + PADDING
                if need > width + 1e-9:
                    problems.append(
                        Problem(formats_ws.title, cell.coordinate, "###", text, need, width)
                    )
    return problems


def workbook_problems(built: Path, recalculated: Path) -> list[Problem]:
    """Every visible sheet's ``###`` cells and clipped headers."""
    formats = openpyxl.load_workbook(built)
    values = openpyxl.load_workbook(recalculated, data_only=True)
    problems: list[Problem] = []
    for ws in formats.worksheets:
        if ws.sheet_state == "visible":
            problems += sheet_problems(ws, values[ws.title])
    return problems


def column_letter(col: int) -> str:
    return get_column_letter(col)
