"""The Drill sheet's template and inputs: the level and the filters read back in either
language, a blank level is ``channel``, a wrong one is refused naming its cell."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from planning.errors import InputError
from sheets_sync.i18n import translator
from sheets_sync.workbooks.xlsx import XlsxWorkbook
from workbook_templates.drill_sheet import (
    DRILL,
    HEADER_ROW,
    NO_VALUE,
    read_drill_inputs,
    write_drill_template,
)


def _book(tmp_path: Path, lang: str, cells: dict[str, str]) -> tuple[XlsxWorkbook, str]:
    t = translator(lang)
    wb = Workbook()
    write_drill_template(wb, t)
    ws = wb[t(DRILL)]
    for ref, value in cells.items():
        ws[ref] = value
    path = tmp_path / f"{lang}.xlsx"
    wb.save(path)
    return XlsxWorkbook(path), t(DRILL)


def test_template_inputs_and_header(tmp_path: Path) -> None:
    book, sheet = _book(tmp_path, "en", {})
    inputs = read_drill_inputs(book, sheet, translator("en"))
    assert inputs.level == "channel" and inputs.filters == {}
    header = book.read_cells(sheet, HEADER_ROW, 1, 1, 4)[0]
    assert header == ["channel", "spend p", "spend f", "spend rr"]


def test_russian_level_and_filters(tmp_path: Path) -> None:
    ru = translator("ru")
    cells = {"B1": "сегмент", "B6": " Москва ", "B7": ru(NO_VALUE)}  # city, product rows
    book, sheet = _book(tmp_path, "ru", cells)
    inputs = read_drill_inputs(book, sheet, ru)
    assert inputs.level == "segment"
    assert inputs.filters == {"city": "Москва", "product": ""}


def test_wrong_level_names_its_cell(tmp_path: Path) -> None:
    book, sheet = _book(tmp_path, "en", {"B1": "region"})
    with pytest.raises(InputError, match=r"Drill!B1"):
        read_drill_inputs(book, sheet, translator("en"))
