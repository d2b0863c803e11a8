"""Column widths that fit what the cells show, measured after the workbook's texts are final
(the Russian post-pass makes headers longer), and help texts wrapped instead of widened.

`fit_widths(wb)` is the workbook build's last step. Per sheet it widens (never narrows) each
column to fit:
- its header cells (the dark blue ones): they wrap, so the column fits the header's longest
  word and, up to `HEADER_MAX` wide, the whole header in at most `HEADER_LINES` lines; the
  header row gets the height of its tallest header;
- its number and date values as their number format shows them (a value that does not fit
  shows as ``###``);
- its formulas, by the widest value their number format shows in a plan of up to tens of
  millions (`FORMULA_SAMPLES`): the values are only known once a spreadsheet calculates;
- a text that would be cut by a filled cell on its right: widened up to `TEXT_MAX`, beyond
  that wrapped (help texts).
Text is measured by `text_width` (DejaVu Sans advances, LibreOffice's stand-in for Calibri,
which is narrower, so a column fitted here fits in Excel too).
"""

from __future__ import annotations

import math
import re

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment
from openpyxl.styles.numbers import is_date_format
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from sheets_sync.i18n import LANGUAGES, translator
from workbook_templates import styles as S
from workbook_templates.display import UnknownFormat, shown_text
from workbook_templates.text_width import PADDING, text_units, width_for

_LOCALE = re.compile(r"\[\$[^\]]*\]")
DEFAULT_WIDTH = 8.43
HEADER_LINES = 2
HEADER_MAX = 24.0
TEXT_MAX = 48.0
LINE_HEIGHT = 15.0  # points per line of 11 pt text, LibreOffice and Excel alike

FORMULA_SAMPLES: dict[str, float] = {
    S.FMT_MONEY: 99_999_999,
    S.FMT_COST: 9_999_999.99,
    S.FMT_COUNT_1DP: 999_999.9,
    S.FMT_PCT: -0.999,
    S.FMT_PCT_WHOLE: -9.99,
    S.FMT_CR: 0.9999,
    S.FMT_X: 999.99,
    S.FMT_INT: 9999,
    S.FMT_SIGNED_MONEY: -9_999_999,
    S.FMT_SIGNED_COUNT_1DP: -99_999.9,
    S.FMT_SIGNED_PCT: -9.999,
    S.FMT_RETURN: 99.999,
    S.FMT_DATE: 46_000,
    S.FMT_MONTH: 46_000,
}
"""A formula's widest likely value per number format (a date as its serial number)."""


def is_header(cell: Cell) -> bool:
    """A dark-blue header cell (`styles.header_cell`)."""
    fill = cell.fill
    rgb = fill.fgColor.rgb if fill is not None and fill.fill_type == "solid" else None
    return isinstance(rgb, str) and rgb.upper().endswith(S.FILL_HEADER.fgColor.rgb[-6:])


def wrapped_lines(text: str, width: float, bold: bool = False) -> int:
    """Lines `text` takes wrapped at word boundaries in a column `width` wide."""
    room = width - PADDING
    lines, current = 0, ""
    for paragraph in text.split("\n"):
        lines += 1
        current = ""
        for word in paragraph.split(" "):
            trial = f"{current} {word}" if current else word
            if text_units(trial, bold) <= room or not current:
                current = trial
            else:
                lines += 1
                current = word
    return max(lines, 1)


def word_variants(word: str) -> set[str]:
    """`word` and its counterparts in the other language (a header a button writes at run time
    may come in either: the column must fit both)."""
    variants = {word}
    for lang in LANGUAGES:
        t = translator(lang)
        english = t.reverse(word)
        if english:
            variants.add(english)
        if t.has(word):
            variants.add(t(word))
    return variants


def header_width(text: str, bold: bool = True) -> float:
    """The narrowest width showing `text` whole within `HEADER_LINES` lines: its longest word
    (in either language) at least, wider up to `HEADER_MAX` while it needs more lines."""
    whole = {text} | {t.reverse(text) or text for t in map(translator, LANGUAGES)}
    words = {v for phrase in whole for w in phrase.split() for v in word_variants(w)}
    width = max((width_for(w, bold) for w in words), default=PADDING)
    while wrapped_lines(text, width, bold) > HEADER_LINES and width < HEADER_MAX:
        width += 0.25
    return width


def sample_width(number_format: str | None, bold: bool = False) -> float:
    """The width a cell of `number_format` needs for the widest value it is likely to hold
    (0 for General and text)."""
    if not number_format:
        return 0.0
    if is_date_format(number_format):
        sample: float = 46_000.5 if "h" in number_format.lower() else 46_000
    else:
        sample = FORMULA_SAMPLES.get(_LOCALE.sub("", number_format).replace("\\ ", ","), 0.0)
    if not sample:
        return 0.0
    try:
        return width_for(shown_text(sample, number_format), bold)
    except UnknownFormat:
        return 0.0


def _value_width(cell: Cell, samples: dict[tuple[int, int], float] | None = None) -> float:
    """What `cell` needs: its value as shown, or for a formula or an empty formatted cell (one
    a button fills) the widest value its format is likely to show.

    `samples` caches the latter per (font, number format) style ids: a template pre-formats a
    thousand blank rows per filled column, and measuring each again made a build seconds
    slower."""
    value = cell.value
    if value is None or (isinstance(value, str) and value.startswith("=")):
        style = getattr(cell, "_style", None)
        key = (int(style.fontId), int(style.numFmtId)) if style is not None else (-1, -1)
        known = samples.get(key) if samples is not None else None
        if known is None:
            known = sample_width(cell.number_format, bool(cell.font is not None and cell.font.b))
            if samples is not None:
                samples[key] = known
        return known
    if isinstance(value, str | bool):
        return 0.0
    bold = bool(cell.font is not None and cell.font.b)
    size = float(cell.font.sz) if cell.font is not None and cell.font.sz else 11.0
    try:
        return width_for(shown_text(value, cell.number_format), bold, size)
    except UnknownFormat:
        return 0.0


def _merged(ws: Worksheet) -> set[tuple[int, int]]:
    return {
        (row, col)
        for rng in ws.merged_cells.ranges
        for row in range(rng.min_row, rng.max_row + 1)
        for col in range(rng.min_col, rng.max_col + 1)
    }


def fit_sheet(ws: Worksheet) -> None:
    """Widen `ws`'s columns and heighten its header rows as `fit_widths` says."""
    merged = _merged(ws)
    need: dict[int, float] = {}
    headers: list[Cell] = []
    long_texts: list[Cell] = []
    samples: dict[tuple[int, int], float] = {}
    for row in ws.iter_rows():
        for cell in row:
            if not isinstance(cell, Cell) or (cell.row, cell.column) in merged:
                continue
            col = cell.column
            if isinstance(cell.value, str) and is_header(cell):
                headers.append(cell)
                need[col] = max(need.get(col, 0.0), header_width(cell.value))
            elif isinstance(cell.value, str) and not cell.value.startswith("="):
                long_texts.append(cell)
            else:
                need[col] = max(need.get(col, 0.0), _value_width(cell, samples))
    for dim in list(ws.column_dimensions.values()):  # a column a button fills, formatted
        for col in range(dim.min or 0, (dim.max or 0) + 1):
            if col > 0:
                need[col] = max(need.get(col, 0.0), sample_width(dim.number_format))
    for col, width in need.items():
        dim = ws.column_dimensions[get_column_letter(col)]
        if width > (dim.width or DEFAULT_WIDTH):
            dim.width = width
    _fit_texts(ws, long_texts)
    _header_heights(ws, headers)
    _merged_heights(ws)


def _width(ws: Worksheet, col: int) -> float:
    return float(ws.column_dimensions[get_column_letter(col)].width or DEFAULT_WIDTH)


def _fit_texts(ws: Worksheet, cells: list[Cell]) -> None:
    """A text cut by a filled right neighbour: a wider column up to `TEXT_MAX`, else wrapped."""
    for cell in cells:
        text = str(cell.value)
        col = cell.column
        neighbour = ws.cell(row=cell.row, column=col + 1).value
        wrap = cell.alignment is not None and cell.alignment.wrap_text
        if neighbour in (None, "") or wrap:
            continue
        bold = bool(cell.font is not None and cell.font.b)
        width = width_for(text, bold)
        letter = get_column_letter(col)
        if width <= _width(ws, col):
            continue
        if width <= TEXT_MAX:
            ws.column_dimensions[letter].width = width
        else:
            ws.column_dimensions[letter].width = max(_width(ws, col), TEXT_MAX)
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _header_heights(ws: Worksheet, headers: list[Cell]) -> None:
    lines: dict[int, int] = {}
    for cell in headers:
        n = wrapped_lines(str(cell.value), _width(ws, cell.column), bold=True)
        lines[cell.row] = max(lines.get(cell.row, 1), n)
    for row, n in lines.items():
        height = math.ceil(n * LINE_HEIGHT + 3)
        dim = ws.row_dimensions[row]
        if n > 1 and (dim.height or 0) < height:
            dim.height = height


def _merged_heights(ws: Worksheet) -> None:
    """A one-row merged range whose text wraps gets the height of its lines (spreadsheets do
    not size rows to merged cells)."""
    for rng in ws.merged_cells.ranges:
        cell = ws.cell(row=rng.min_row, column=rng.min_col)
        wrap = cell.alignment is not None and cell.alignment.wrap_text
        if rng.min_row != rng.max_row or not wrap or not isinstance(cell.value, str):
            continue
        width = sum(_width(ws, col) for col in range(rng.min_col, rng.max_col + 1))
        bold = bool(cell.font is not None and cell.font.b)
        n = wrapped_lines(cell.value, width, bold)
        dim = ws.row_dimensions[rng.min_row]
        height = math.ceil(n * LINE_HEIGHT + 3)
        if n > 1 and (dim.height or 0) < height:
            dim.height = height


def fit_widths(wb: Workbook) -> None:
    """Fit every sheet of `wb` (the build's last step, after the texts are translated)."""
    for ws in wb.worksheets:
        fit_sheet(ws)
