"""The workbook's look, defined once: number formats, fills, fonts and the header cell.

Colours tell the user who writes a cell: yellow (`FILL_INPUT`) the user types it, blue
(`FILL_FACT`) Sync Facts fills it, green (`FILL_OUTPUT`) a button writes it.
"""

from __future__ import annotations

from collections.abc import Sequence

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

FMT_MONEY = "#,##0"
FMT_COUNT = "#,##0"
#: Counts that are expectations or averages (pace per day, expected conversions).
FMT_COUNT_1DP = "#,##0.0"
FMT_COST = "#,##0.00"
FMT_PCT = "0.0%"
FMT_PCT_WHOLE = "0%"
FMT_CR = "0.00%"
FMT_X = "0.00"
FMT_INT = "0"
FMT_TEXT = "@"
FMT_DATE = "yyyy-mm-dd"
FMT_MONTH = "yyyy-mm"
FMT_SIGNED_MONEY = "+#,##0;-#,##0;0"
FMT_SIGNED_COUNT_1DP = "+#,##0.0;-#,##0.0;0.0"
FMT_SIGNED_PCT = "+0.0%;-0.0%;0.0%"
FMT_SCIENTIFIC = "0.000E+00"
#: A return per 1,000 spent (the split's marginal return): three decimals, never scientific.
FMT_RETURN = "0.000"

FILL_HEADER = PatternFill("solid", fgColor="1F3864")
FILL_GROUP = PatternFill("solid", fgColor="D9E1F2")
FILL_INPUT = PatternFill("solid", fgColor="FFF2CC")
FILL_FACT = PatternFill("solid", fgColor="DDEBF7")
FILL_OUTPUT = PatternFill("solid", fgColor="E2EFDA")
FILL_TOTAL = PatternFill("solid", fgColor="EDEDED")

FONT_HEADER = Font(bold=True, color="FFFFFF")
FONT_BOLD = Font(bold=True)
FONT_TITLE = Font(bold=True, size=14)
FONT_NOTE = Font(italic=True, color="595959")


def header_cell(ws: Worksheet, row: int, col: int, text: str) -> None:
    """A column header: white bold on dark blue, centred, wrapped."""
    c = ws.cell(row=row, column=col, value=text)
    c.font = FONT_HEADER
    c.fill = FILL_HEADER
    c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def header_row(ws: Worksheet, row: int, headers: Sequence[str], first_col: int = 1) -> None:
    """`headers` as header cells along `row` from `first_col`."""
    for i, h in enumerate(headers, start=first_col):
        header_cell(ws, row, i, h)


def total_row_style(ws: Worksheet, row: int, width: int) -> None:
    """Bold on grey over columns 1..`width` of a Total row."""
    for col in range(1, width + 1):
        cell = ws.cell(row=row, column=col)
        cell.font = FONT_BOLD
        cell.fill = FILL_TOTAL
