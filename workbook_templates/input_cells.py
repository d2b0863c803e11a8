"""Data validation on the input cells of the Plan, Settings and Optimize Split sheets.

What a user types is checked where it is typed: the run-rate method and the chart metric
from a list, the window a whole number of days from 1, the month and as-of dates, the split's
objective from a list, its budget, step and max change not negative, each channel's min and
max not negative with min ≤ max, and every plan (``p``) cell of the Plan not negative. The
sheets that had checks already (Mapping, Scenarios, Alerts, Attribution) keep theirs.
Cells are found by their English labels and headers: this runs before the Russian post-pass.
"""

from __future__ import annotations

from collections.abc import Callable

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from planning.runrate import METHODS
from planning.split import OBJECTIVES
from workbook_templates import input_checks as V
from workbook_templates import layout as L

NOT_NEGATIVE = "a number, 0 or more (blank: none)"


def _label_rows(ws: Worksheet, col: int = 1, last: int = 60) -> dict[str, int]:
    labels: dict[str, int] = {}
    for row in range(1, last + 1):
        value = ws.cell(row=row, column=col).value
        if isinstance(value, str):
            labels.setdefault(value.strip(), row)
    return labels


def check_settings(ws: Worksheet, metrics: list[str]) -> None:
    rows = _label_rows(ws)
    checks: dict[str, Callable[[str], DataValidation]] = {
        L.SETTING_MONTH: lambda at: V.date(at, "Month", "the first day of the month, a date"),
        L.SETTING_AS_OF: lambda at: V.date(at, "As of", "the last complete day of facts, a date"),
        L.SETTING_WINDOW: lambda at: V.whole(
            at, 1, 366, "Run-rate window", "a whole number of days, 1 or more"
        ),
        L.SETTING_METHOD: lambda at: V.choice(at, METHODS, "Run-rate method"),
        L.SETTING_CHART_METRIC: lambda at: V.choice(at, metrics, "Chart metric"),
    }
    for label, check in checks.items():
        if label in rows:
            ws.add_data_validation(check(f"B{rows[label]}"))


def check_split(ws: Worksheet) -> None:
    rows = _label_rows(ws)
    if L.SPLIT_OBJECTIVE in rows:
        ws.add_data_validation(V.choice(f"B{rows[L.SPLIT_OBJECTIVE]}", OBJECTIVES, "Objective"))
    for label in (L.SPLIT_BUDGET, L.SPLIT_STEP, L.SPLIT_MAX_CHANGE):
        if label in rows:
            ws.add_data_validation(V.at_least(f"B{rows[label]}", 0, label, NOT_NEGATIVE))
    header = rows.get(L.SPLIT_CHANNEL)
    if header is None:
        return
    cols = {ws.cell(row=header, column=c).value: c for c in range(1, ws.max_column + 1)}
    low, high = cols.get(L.SPLIT_MIN), cols.get(L.SPLIT_MAX)
    if low is None or high is None:
        return
    first, last = header + 1, header + 200
    lo, hi = _letter(low), _letter(high)
    ws.add_data_validation(
        V.rule(
            f"{lo}{first}:{lo}{last}",
            f'AND(N({lo}{first})>=0,OR({hi}{first}="",N({lo}{first})<={hi}{first}))',
            "min",
            "0 or more, and not above the channel's max",
        )
    )
    ws.add_data_validation(
        V.rule(
            f"{hi}{first}:{hi}{last}",
            f'AND(N({hi}{first})>=0,OR({lo}{first}="",N({lo}{first})<={hi}{first}))',
            "max",
            "0 or more, and not below the channel's min",
        )
    )
    for name in (L.SPLIT_CPA_CAP, L.SPLIT_VALUE):
        col = cols.get(name)
        if col is not None:
            area = f"{_letter(col)}{first}:{_letter(col)}{last}"
            ws.add_data_validation(V.at_least(area, 0, name, NOT_NEGATIVE))


def check_plan(ws: Worksheet) -> None:
    """Every ``… p`` column of an absolute metric, on the line rows (not the Total row)."""
    first = L.PLAN_FIRST_ROW
    total = next(
        (r for r in range(first, ws.max_row + 1) if ws.cell(r, 1).value == L.TOTAL_LABEL),
        ws.max_row + 1,
    )
    last = max(first, total - 1)
    areas = [
        f"{_letter(col)}{first}:{_letter(col)}{last}"
        for col in range(1, ws.max_column + 1)
        if _is_plan_input(ws.cell(L.PLAN_HEADER_ROW, col).value)
    ]
    if areas:
        ws.add_data_validation(V.at_least(" ".join(areas), 0, "Plan", NOT_NEGATIVE))


def _is_plan_input(header: object) -> bool:
    return isinstance(header, str) and header.endswith(" p") and header.count(" ") == 1


def check_inputs(wb: Workbook, metrics: list[str]) -> None:
    """Add the checks to whichever of the sheets `wb` has."""
    if L.SETTINGS in wb.sheetnames:
        check_settings(wb[L.SETTINGS], metrics)
    if L.SPLIT in wb.sheetnames:
        check_split(wb[L.SPLIT])
    if L.PLAN in wb.sheetnames:
        check_plan(wb[L.PLAN])


def _letter(col: int) -> str:
    return get_column_letter(col)
