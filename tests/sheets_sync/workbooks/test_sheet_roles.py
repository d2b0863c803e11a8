"""Sheets found by role in either language, headers and labels read back in English."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl.workbook.defined_name import DefinedName

from sheets_sync.i18n import translator
from sheets_sync.workbooks.interface import scan_table
from sheets_sync.workbooks.roles import (
    SheetRoles,
    canonical_header,
    label_variants,
    language_of,
    role_defined_name,
)
from sheets_sync.workbooks.xlsx import XlsxWorkbook

RU = translator("ru")


def test_real_sheet_by_exact_name_then_catalog_then_marked() -> None:
    roles = SheetRoles(["План", "Daily", "My plan copy"], {"_fp_role_executive": "My plan copy"})
    assert roles.real("Plan") == "План"
    assert roles.real("план") == "План"  # a role typed in Russian, any case
    assert roles.real("Daily") == "Daily"
    assert roles.real("Executive") == "My plan copy"  # renamed: found by its defined name
    assert roles.real("Pace") is None
    assert roles.canonical_names() == ["Plan", "Daily", "Executive"]


def test_canonical_names_keep_a_name_that_would_repeat() -> None:
    # both "Plan" and "План": the English one is the role, the Russian one keeps its name
    assert SheetRoles(["Plan", "План"]).canonical_names() == ["Plan", "План"]


def test_role_defined_name_has_no_spaces() -> None:
    assert role_defined_name("Daily History") == "_fp_role_daily_history"


def test_formula_references_point_at_the_real_sheets() -> None:
    roles = SheetRoles(["План", "История по дням", "Daily"])
    formula = "=SUM(Plan!E5:E9)+COUNT('Daily History'!A:A)+Daily!B2&\"Plan!E5\""
    assert roles.rewrite_formula(formula) == (
        "=SUM('План'!E5:E9)+COUNT('История по дням'!A:A)+Daily!B2&\"Plan!E5\""
    )
    # a formula naming only real sheets, or no sheet, is left as it is
    assert roles.rewrite_formula("='План'!A1*2") == "='План'!A1*2"
    assert roles.rewrite_formula("=A1+B1") == "=A1+B1"
    assert roles.rewrite_formula("Plan!A1") == "Plan!A1"  # not a formula


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("лиды план", "leads p"),
        ("CPA переговоры факт", "cpa negotiations f"),
        ("расход прогноз % плана", "spend %rr"),
        ("ПП факт", "pp f"),
        ("demo план", "demo p"),  # a stage nobody translated keeps its key
        ("leads p", "leads p"),
        ("CPA", "CPA"),  # Latin text stays, though it is also a translation of "cpa"
        ("  Итого ", "Total"),
        ("моя колонка", "моя колонка"),  # a user's own column
    ],
)
def test_canonical_header(text: str, canonical: str) -> None:
    assert canonical_header(text) == canonical


def test_localized_plan_headers_read_back() -> None:
    from sheets_sync.i18n.header_words import localized_header

    for header in ("leads p", "spend %f", "cpa purchases rr", "cr calls p", "revenue pace"):
        assert canonical_header(localized_header(header, RU)) == header


@given(st.text(alphabet="abcdefgh xyz%", min_size=1, max_size=20))
def test_ascii_headers_unchanged(text: str) -> None:
    assert canonical_header(text) == text.strip()


def test_stop_labels_in_either_language() -> None:
    assert label_variants(["Total"]) == {"total", "итого"}
    rows = [["a", 1], ["Итого", 2], ["b", 3]]
    table = scan_table("План", 1, 1, ["Total"], ["канал", "лиды план"], lambda width: rows)
    assert table.headers == [canonical_header("канал"), "leads p"]
    assert [r[0] for r in table.rows] == ["a"]


def _ru_book(path: Path, *, language: str | None = "ru") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.worksheets[0]
    ws.title = RU("Settings")
    ws.append(["setting", "value"])
    ws.append(["month", "2026-11"])
    if language is not None:
        ws.append([RU("language"), language])
    plan = wb.create_sheet(RU("Plan"))
    plan.append(["channel", RU("leads")])
    plan.append(["Search", 5])
    plan.append([RU("Total"), 5])
    wb.save(path)
    return path


def test_language_of(tmp_path: Path) -> None:
    assert language_of(XlsxWorkbook(_ru_book(tmp_path / "ru.xlsx"))) == "ru"
    assert language_of(XlsxWorkbook(_ru_book(tmp_path / "en.xlsx", language="en"))) == "en"
    assert language_of(XlsxWorkbook(_ru_book(tmp_path / "none.xlsx", language=None))) == "en"


def test_xlsx_ru_book_by_role(tmp_path: Path) -> None:
    book = XlsxWorkbook(_ru_book(tmp_path / "ru.xlsx"))
    assert book.sheet_names() == ["Settings", "Plan"]
    table = book.read_table("Plan", stop_labels=["Total"])
    assert table.sheet == RU("Plan")
    assert table.values("leads") == [5]
    assert book.find_row("Plan", 1, "Total") == 3
    book.add_sheet("Split Undo", hidden=True)
    book.write_block("Split Undo", 1, 1, [["=Plan!B2*2"]])
    book.save()
    raw = openpyxl.load_workbook(tmp_path / "ru.xlsx")
    undo = RU("Split Undo")
    assert undo in raw.sheetnames and undo != "Split Undo"
    assert raw[undo]["A1"].value == f"='{RU('Plan')}'!B2*2"
    assert "Split Undo" in XlsxWorkbook(tmp_path / "ru.xlsx").sheet_names()


def test_xlsx_renamed_sheet_found_by_defined_name(tmp_path: Path) -> None:
    path = _ru_book(tmp_path / "renamed.xlsx")
    raw = openpyxl.load_workbook(path)
    raw[RU("Plan")].title = "Мой план"
    raw.defined_names["_fp_role_Plan"] = DefinedName("_fp_role_Plan", attr_text="'Мой план'!$A$1")
    raw.save(path)
    book = XlsxWorkbook(path)
    assert "Plan" in book.sheet_names()
    assert book.read_table("Plan", stop_labels=["Total"]).sheet == "Мой план"
