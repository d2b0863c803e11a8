"""The finishing passes on a new workbook: protection, data validation, red/amber/green rules
(evaluated on known numbers), Data Quality's formats per section, and widths."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from planning.runrate import METHODS
from workbook_templates import layout as L
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook
from workbook_templates.quality_formats import RECONCILIATION_HEADERS, quality_formats
from workbook_templates.quality_sheet import MISMATCH_HEADERS, SOURCE_HEADERS
from workbook_templates.text_width import width_for
from workbook_templates.widths import HEADER_LINES, fit_sheet, header_width, wrapped_lines


@pytest.fixture(scope="module")
def wb() -> Workbook:
    lines = pd.DataFrame(
        {
            "channel": ["Search", "Social"],
            "campaign": ["Brand", "Retargeting"],
            "spend p": [100_000.0, 50_000.0],
            "leads p": [100.0, 40.0],
        }
    )
    spec = PlanWorkbookSpec(month=dt.date(2026, 11, 1), lines=lines, lang="en")
    return build_plan_workbook(spec)


def _col(ws: Any, header: str, row: int) -> str:
    for cell in ws[row]:
        if cell.value == header:
            return str(cell.column_letter)
    raise AssertionError(header)


def test_formulas_locked_inputs_unlocked_no_password(wb: Workbook) -> None:
    plan = wb[L.PLAN]
    assert plan.protection.sheet and not plan.protection.password
    p, f, share = (_col(plan, h, L.PLAN_HEADER_ROW) for h in ("spend p", "spend f", "spend %f"))
    row = L.PLAN_FIRST_ROW
    assert not plan[f"{p}{row}"].protection.locked  # the user types it
    assert not plan[f"{f}{row}"].protection.locked  # Sync Facts writes it (live Excel too)
    assert plan[f"{share}{row}"].protection.locked  # a formula
    assert plan[f"{p}{row + 2}"].protection.locked  # the Total row: formulas
    for sheet in (L.EXECUTIVE, L.SETTINGS, L.PACE):
        assert wb[sheet].protection.sheet
    for sheet in (L.DAILY, L.DATA_QUALITY, L.UNMAPPED, L.SPLIT, L.CURVES):
        assert not wb[sheet].protection.sheet  # buttons rewrite them whole
    settings = wb[L.SETTINGS]
    assert not settings["B8"].protection.locked and settings["B4"].protection.locked


def test_input_cells_are_validated(wb: Workbook) -> None:
    checks = {str(dv.sqref): dv for dv in wb[L.SETTINGS].data_validations.dataValidation}
    method_row = next(
        r for r in range(1, 20) if wb[L.SETTINGS].cell(r, 1).value == "run-rate method"
    )
    assert checks[f"B{method_row}"].formula1 == '"' + ",".join(METHODS) + '"'
    split = {str(dv.sqref): dv for dv in wb[L.SPLIT].data_validations.dataValidation}
    assert any(dv.type == "custom" and "<=" in (dv.formula1 or "") for dv in split.values())
    plan = [dv for dv in wb[L.PLAN].data_validations.dataValidation]
    assert any(dv.operator == "greaterThanOrEqual" and dv.formula1 == "0" for dv in plan)


def _evaluate(formula: str, cells: dict[str, float]) -> bool:
    """A rule's AND(...) over numbers: ISNUMBER is true, references become the numbers."""
    inner = formula.removeprefix("AND(").removesuffix(")")
    terms = re.split(r",(?![^()]*\))", inner)
    ok = True
    for term in terms:
        if term.startswith("ISNUMBER("):
            continue
        expr = re.sub(r"\$?([A-Z]+)\$?(\d+)", lambda m: repr(cells[m.group(1)]), term)
        for name, value in cells.items():
            expr = expr.replace(name, repr(value))
        ok = ok and bool(eval(expr.replace("<>", "!=")))
    return ok


def _colour(ws: Any, column: str, cells: dict[str, float]) -> str:
    for rng in ws.conditional_formatting:
        if str(rng.sqref).startswith(f"{column}{L.PLAN_FIRST_ROW}:"):
            for rule in rng.rules:
                if _evaluate(rule.formula[0], cells):
                    return {"FFC7CE": "red", "FFEB9C": "amber", "C6EFCE": "green"}[
                        rule.dxf.fill.fgColor.rgb[-6:]
                    ]
            return "none"
    raise AssertionError(f"no rule on column {column}")


@pytest.mark.parametrize(
    ("header", "value", "colour"),
    [
        ("leads %rr", 0.85, "red"),  # forecast 85 % of plan
        ("leads %rr", 0.95, "amber"),
        ("leads %rr", 1.00, "green"),
        ("spend %rr", 1.15, "red"),  # overspend
        ("spend %rr", 1.05, "amber"),
        ("spend %rr", 0.95, "green"),
    ],
)
def test_share_of_plan_colours(wb: Workbook, header: str, value: float, colour: str) -> None:
    ws = wb[L.PLAN]
    col = _col(ws, header, L.PLAN_HEADER_ROW)
    assert _colour(ws, col, {col: value}) == colour


@pytest.mark.parametrize(
    ("value", "colour"),
    # mid-month (15 of 30 days): 50 % of the plan done is on pace; 44 % is 88 % of pace
    [(0.50, "green"), (0.46, "amber"), (0.44, "red")],
)
def test_fact_share_is_judged_against_the_month_elapsed(
    wb: Workbook, value: float, colour: str
) -> None:
    ws = wb[L.PLAN]
    col = _col(ws, "leads %f", L.PLAN_HEADER_ROW)
    cells = {col: value, "DaysElapsed": 15.0, "DaysInMonth": 30.0}
    assert _colour(ws, col, cells) == colour


@pytest.mark.parametrize(("fact", "colour"), [(115.0, "red"), (105.0, "amber"), (95.0, "green")])
def test_cpa_fact_is_compared_with_its_plan(wb: Workbook, fact: float, colour: str) -> None:
    ws = wb[L.PLAN]
    f, p = (_col(ws, h, L.PLAN_HEADER_ROW) for h in ("cpa leads f", "cpa leads p"))
    assert _colour(ws, f, {f: fact, p: 100.0}) == colour  # higher CPA is worse


def test_quality_formats_per_section() -> None:
    now = dt.datetime(2026, 11, 18, 1, 0)
    block: list[list[Any]] = [
        ["Data Quality", "synced", now, "month", "2026-11", "as of", dt.date(2026, 11, 17)],
        ["Sources: freshness"],
        list(SOURCE_HEADERS),
        ["ads", "ad", 1, now, 4.08, "yes", 388, 388, 0, 0, 0.002335, "spend", None],
        ["Reconciliation"],
        list(RECONCILIATION_HEADERS),
        ["ads", "spend", 2260208.55, 515091.69],
        ["ads", "traffic", 122591, 27392],
        ["Quarantined rows: none"],
        ["flag", 5],  # after a title: no section, the cell keeps its format
        ["Leads check"],
        list(MISMATCH_HEADERS),
        ["Search", 100, 95, 0.05, "no"],
    ]
    formats = quality_formats(block)
    assert formats[0][2] == "yyyy-mm-dd hh:mm" and formats[0][6] == "yyyy-mm-dd"
    assert formats[3][3] == "yyyy-mm-dd hh:mm" and formats[3][10] == "0.0%"
    assert formats[3][0] is None  # text keeps its cell's format
    assert formats[12][3] == "0.0%"  # the leads check's difference is a share
    assert formats[6][2] == "#,##0.00"  # money shows kopecks
    assert formats[7][2] == "#,##0"  # counts whole
    assert formats[9][1] is None


@given(st.lists(st.sampled_from(["spend", "прогноз", "%", "CPA", "переговоры", "w0"]), min_size=1))
def test_a_fitted_header_takes_at_most_two_lines(words: list[str]) -> None:
    text = " ".join(words)
    width = header_width(text)
    longest = max(width_for(w, True) for w in words)
    assert width >= longest  # no word is cut
    assert wrapped_lines(text, width, True) <= HEADER_LINES or width >= 24.0


def test_fit_never_narrows_and_fits_numbers() -> None:
    ws = Workbook().active
    assert ws is not None
    ws.column_dimensions["A"].width = 30
    ws["A1"] = 1.0
    ws["B1"] = 1719805.33
    ws["B1"].number_format = "#,##0.00"
    fit_sheet(ws)
    assert ws.column_dimensions["A"].width == 30
    assert ws.column_dimensions["B"].width >= width_for("1,719,805.33")


def test_formats_in_russian() -> None:
    """A Russian block (headers from the catalog) gets the Russian forms: dd.mm.yyyy and the
    [$-419] tag that groups thousands with a space."""
    from sheets_sync.i18n import translator

    t = translator("ru")
    now = dt.datetime(2026, 11, 18, 1, 0)
    block: list[list[Any]] = [
        [t("Data Quality"), t("synced"), now],
        [t(h) for h in SOURCE_HEADERS],
        ["ads", "ad", 1, now, 4.08, "да", 388, 388, 0, 0, 0.002335, "spend", None],
    ]
    formats = quality_formats(block)
    assert formats[0][2] == "dd.mm.yyyy hh:mm"
    assert formats[2][3] == "dd.mm.yyyy hh:mm"
    assert formats[2][6] == "[$-419]#,##0" and formats[2][10] == "[$-419]0.0%"


def test_filled_columns_in_russian() -> None:
    from workbook_templates.column_formats import format_filled_columns

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = L.DAILY
    for col, header in enumerate(("date", "channel", "campaign", "spend", "leads"), start=1):
        ws.cell(row=1, column=col, value=header)
    format_filled_columns(wb, "ru")
    assert ws.column_dimensions["A"].number_format == "dd.mm.yyyy"
    assert ws.column_dimensions["D"].number_format == "[$-419]#,##0"
    assert ws["E2"].number_format == "[$-419]#,##0"  # pre-formatted for a written count
    assert ws.column_dimensions["B"].number_format == "General"  # text
