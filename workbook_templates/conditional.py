"""Red, amber and green on the Plan's and the Executive's share-of-plan and ratio columns.

Decisions:
- ``%rr`` (the month-end forecast over the plan): below 90 % red, 90-100 % amber, from 100 %
  green. ``%f`` (fact to date over the month's plan) is judged against the share of the month
  elapsed (``%f / (days elapsed / days in month)``), so a line on pace is green mid-month.
- Costs are the other way round: ``spend`` over 110 % of its pace red, 100-110 % amber, up to
  100 % green; a cost ratio (CPC, CPA) in ``f`` or ``rr`` is compared with its ``p`` on the
  same row: above 110 % of plan red, above plan amber, at or below plan green. Conversion
  rates, ROAS and ROMI are compared with their plan like counts (below 90 % red).
- Every rule tests ``ISNUMBER`` first: a blank ("" from a formula) or an error gets no colour.
Columns are found by their English headers, so this runs before the Russian post-pass
(the post-pass rewrites sheet references; these formulas name only cells and defined names).
"""

from __future__ import annotations

from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from workbook_templates import layout as L

RED = (PatternFill("solid", start_color="FFC7CE", end_color="FFC7CE"), Font(color="9C0006"))
AMBER = (PatternFill("solid", start_color="FFEB9C", end_color="FFEB9C"), Font(color="9C5700"))
GREEN = (PatternFill("solid", start_color="C6EFCE", end_color="C6EFCE"), Font(color="006100"))
LOW, HIGH = 0.9, 1.1
"""Below `LOW` of plan is red for what should be high; above `HIGH` is red for a cost."""

COSTS = ("spend",)
COST_RATIOS = ("cpc", "cpa")


@dataclass(frozen=True)
class Band:
    """One coloured column: its letter, the rows, and the ratio to plan as a formula over the
    first row's cell (`ratio`), higher being worse when `cost`."""

    column: str
    first: int
    last: int
    ratio: str
    guard: str
    cost: bool


def _rules(band: Band) -> list[tuple[str, tuple[PatternFill, Font]]]:
    r, g = band.ratio, band.guard
    if band.cost:
        return [
            (f"AND({g},{r}>{HIGH})", RED),
            (f"AND({g},{r}>1,{r}<={HIGH})", AMBER),
            (f"AND({g},{r}<=1)", GREEN),
        ]
    return [
        (f"AND({g},{r}<{LOW})", RED),
        (f"AND({g},{r}>={LOW},{r}<1)", AMBER),
        (f"AND({g},{r}>=1)", GREEN),
    ]


def colour(ws: Worksheet, band: Band) -> None:
    """Add `band`'s three rules to `ws` (stop at the first that matches)."""
    area = f"{band.column}{band.first}:{band.column}{band.last}"
    for formula, (fill, font) in _rules(band):
        ws.conditional_formatting.add(
            area, FormulaRule(formula=[formula], fill=fill, font=font, stopIfTrue=True)
        )


def _bands(ws: Worksheet, header_row: int, first: int, last: int) -> list[Band]:
    headers = {
        str(c.value): c.column for c in ws[header_row] if isinstance(c.value, str) and c.value
    }
    bands: list[Band] = []
    for header, col in headers.items():
        metric, _, kind = header.rpartition(" ")
        cell = f"{get_column_letter(col)}{first}"
        if kind in ("%f", "%rr"):
            ratio = cell if kind == "%rr" else f"{cell}/(DaysElapsed/DaysInMonth)"
            guard = f"ISNUMBER({cell})" + (",DaysElapsed>0" if kind == "%f" else "")
            bands.append(Band(get_column_letter(col), first, last, ratio, guard, metric in COSTS))
        elif kind in ("f", "rr") and (" " in metric or metric in ("cpc", "roas", "romi")):
            plan = headers.get(f"{metric} p")
            if plan is None:
                continue
            p = f"${get_column_letter(plan)}{first}"
            cost = metric.split(" ")[0] in COST_RATIOS
            guard = f"ISNUMBER({cell}),ISNUMBER({p}),{p}>0"
            bands.append(Band(get_column_letter(col), first, last, f"{cell}/{p}", guard, cost))
    return bands


def _last_row(ws: Worksheet, first: int) -> int:
    """The Total row (the last coloured one), else the sheet's last row."""
    for row in range(first, ws.max_row + 1):
        if ws.cell(row=row, column=1).value == L.TOTAL_LABEL:
            return row
    return max(first, ws.max_row)


def colour_plan_sheets(wb: Workbook) -> None:
    """The rules on the Plan and the Executive (whichever `wb` has)."""
    for sheet, header_row in ((L.PLAN, L.PLAN_HEADER_ROW), (L.EXECUTIVE, L.EXEC_HEADER_ROW)):
        if sheet not in wb.sheetnames:
            continue
        ws = wb[sheet]
        first = header_row + 1
        for band in _bands(ws, header_row, first, _last_row(ws, first)):
            colour(ws, band)
