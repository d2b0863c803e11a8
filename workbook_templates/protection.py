"""Formula cells locked against a stray keystroke; input cells and the cells buttons write
left unlocked; the sheets with formulas a user should not overwrite protected, without a
password.

Decisions:
- Protected: Plan, Executive, Settings, Pace (the sheets whose formulas carry the plan).
  The sheets a button rewrites whole (Daily, Data Quality, Unmapped, Curves, Optimize Split,
  Scenarios, Attribution, Cohorts, Alerts, Review, Drill, Split Undo, Daily History, History,
  Mapping) stay unprotected: their content is values a button or the user writes (the Drill
  sheet's inputs are unlocked by its template all the same).
- No password: Review → Unprotect Sheet (Excel), Tools → Protect Sheet (LibreOffice) or
  Data → Protected sheets (Google Sheets) unlocks a sheet with one click. The point is to
  stop an accident, not a user.
- Unlocked on a protected sheet: every cell of the Plan's line rows that is not a formula
  (keys, ``p`` inputs, the ``f`` and ``rr`` columns Sync Facts and Refresh write, blank rows),
  Settings' values (column B but its formulas) and its stages table, the Pace sheet's fact
  and run-rate columns (Refresh writes them). The xlsx adapter (openpyxl) and the Google
  Sheets adapter write whatever the protection; live Excel (xlwings) writes only into
  unlocked cells of a protected sheet, which is why every cell a button writes is unlocked.
- Users may still format cells, columns and rows, sort and filter; inserting or deleting
  rows and columns needs the sheet unprotected (a formula range must not be cut).
"""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.styles import Protection
from openpyxl.worksheet.worksheet import Worksheet

from workbook_templates import layout as L

UNLOCKED = Protection(locked=False)
PROTECTED_SHEETS = (L.PLAN, L.EXECUTIVE, L.SETTINGS, L.PACE)
MARGIN_ROWS = 40
"""Rows below a table that stay unlocked (Settings' stages a user adds)."""


def _is_formula(value: object) -> bool:
    return isinstance(value, str) and value.startswith("=")


def unlock(ws: Worksheet, rows: range, cols: range) -> None:
    """Unlock the cells of `rows` x `cols` that hold no formula."""
    for row in rows:
        for col in cols:
            cell = ws.cell(row=row, column=col)
            if not _is_formula(cell.value):
                cell.protection = UNLOCKED


def protect(ws: Worksheet) -> None:
    """Protect `ws` without a password; formatting, sorting and filtering stay allowed."""
    p = ws.protection
    p.sheet = True
    p.formatCells = False
    p.formatColumns = False
    p.formatRows = False
    p.sort = False
    p.autoFilter = False
    p.selectLockedCells = False
    p.selectUnlockedCells = False


def _plan_rows(ws: Worksheet) -> range:
    first = L.PLAN_FIRST_ROW
    total = next(
        (r for r in range(first, ws.max_row + 1) if ws.cell(r, 1).value == L.TOTAL_LABEL),
        ws.max_row + 1,
    )
    return range(first, total)


def protect_workbook(wb: Workbook) -> None:
    """Unlock the input and written cells, then protect `PROTECTED_SHEETS` (those present)."""
    if L.PLAN in wb.sheetnames:
        ws = wb[L.PLAN]
        unlock(ws, _plan_rows(ws), range(1, ws.max_column + 1))
    if L.SETTINGS in wb.sheetnames:
        ws = wb[L.SETTINGS]
        unlock(ws, range(2, ws.max_row + MARGIN_ROWS), range(2, 3))
        stages = range(L.STAGES_FIRST_COL, ws.max_column + 1)
        unlock(ws, range(2, ws.max_row + MARGIN_ROWS), stages)
    if L.PACE in wb.sheetnames:
        ws = wb[L.PACE]
        unlock(ws, range(2, ws.max_row + 1), range(3, 5))  # fact, run-rate
    for sheet in PROTECTED_SHEETS:
        if sheet in wb.sheetnames:
            protect(wb[sheet])
