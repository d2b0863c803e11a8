"""The Drill sheet from the demo to the next month, on a Russian demo: the demo leaves it filled
by channel (its total the Plan's facts), a renamed sheet is still the one the button writes, a
workbook made before the template had the sheet gets it on the first press, and New Month's
workbook has it, empty, in its language."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from demo_cache import run_demo

from addin.actions.new_month import new_month
from addin.registry import ActionContext, dispatch
from planning.drill import LEVELS
from sheets_sync.i18n import translator
from sheets_sync.workbooks.xlsx import XlsxWorkbook
from workbook_templates.drill_sheet import DRILL, HEADER_ROW, STATUS_ROW
from workbook_templates.plan_sheet import read_plan
from workbook_templates.settings_sheet import read_funnel

pytestmark = pytest.mark.slow
RU = translator("ru")
SHEET = RU(DRILL)  # «Детализация»


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_demo(tmp_path_factory.mktemp("drill_life") / "ru", lang="ru").workbook


def _copy(demo: Path, tmp_path: Path) -> Path:
    shutil.copytree(demo.parent, tmp_path / "demo")
    return tmp_path / "demo" / demo.name


def _table(ws: Any) -> list[list[Any]]:
    rows = [list(r) for r in ws.iter_rows(min_row=HEADER_ROW, values_only=True)]
    return [r for r in rows if r[0] is not None]


def _plan_leads(book: Path) -> tuple[float, float]:
    """The Plan's leads fact summed over its lines, and its leads plan."""
    wb = XlsxWorkbook(book)
    _, plan = read_plan(wb, read_funnel(wb))
    return float(plan["leads f"].fillna(0).sum()), float(plan["leads p"].fillna(0).sum())


def test_the_demo_leaves_the_sheet_filled_by_channel(demo: Path) -> None:
    ws = openpyxl.load_workbook(demo)[SHEET]
    assert (ws["A1"].value, ws["B1"].value) == ("уровень", "канал")
    assert ws[f"A{STATUS_ROW}"].value == "Уровень «канал», на 17.11.2026; фильтры: нет"
    table = _table(ws)
    header, labels = table[0], [r[0] for r in table]
    total = table[labels.index(RU("Total"))]
    fact, plan = _plan_leads(demo)
    assert fact > 0 and plan > 0
    assert total[header.index("лиды факт")] == pytest.approx(fact)
    assert total[header.index("лиды план")] == pytest.approx(plan)
    channels = labels[1 : labels.index(RU("Total"))]
    assert len(channels) >= 5  # one row per channel of the demo
    # the values land in the template's formatted columns (money without kopecks)
    spend = header.index("расход факт") + 1
    assert ws.cell(HEADER_ROW + 1, spend).number_format == "[$-419]#,##0"


def test_a_renamed_sheet_is_the_one_written(demo: Path, tmp_path: Path) -> None:
    book = _copy(demo, tmp_path)
    wb = openpyxl.load_workbook(book)
    wb[SHEET].title = "Срезы"
    for defined in wb.defined_names.values():  # what Excel does on a rename
        defined.attr_text = defined.attr_text.replace(f"'{SHEET}'!", "'Срезы'!")
    wb["Срезы"]["B1"] = "город"
    wb.save(book)
    message = dispatch("drill", ActionContext.of_file(book))
    assert message.startswith("Детализация: уровень «город»"), message
    raw = openpyxl.load_workbook(book)
    assert SHEET not in raw.sheetnames  # no second sheet added
    table = _table(raw["Срезы"])
    assert table[0][0] == "город" and RU("(no value)") in [r[0] for r in table]


def test_a_workbook_without_the_sheet_gets_it_on_the_first_press(
    demo: Path, tmp_path: Path
) -> None:
    """A workbook made before this version: no Drill sheet, no role name for it."""
    book = _copy(demo, tmp_path)
    wb = openpyxl.load_workbook(book)
    del wb[SHEET]
    del wb.defined_names["_fp_role_Drill"]
    wb.save(book)
    assert "Drill" not in XlsxWorkbook(book).sheet_names()
    dispatch("drill", ActionContext.of_file(book))
    ws = openpyxl.load_workbook(book)[SHEET]
    assert [ws.cell(r, 1).value for r in range(1, 8)] == [RU("level"), *map(RU, LEVELS)]
    assert ws["B1"].value == "канал"  # the level in the workbook's language
    table = _table(ws)
    labels = [r[0] for r in table]
    fact, _ = _plan_leads(book)
    total = table[labels.index(RU("Total"))]
    assert total[table[0].index("лиды факт")] == pytest.approx(fact)


def test_new_month_has_the_empty_sheet(demo: Path, tmp_path: Path) -> None:
    book = _copy(demo, tmp_path)
    out = tmp_path / "next.xlsx"
    new_month(XlsxWorkbook(book), out)
    wb = openpyxl.load_workbook(out)
    names = wb.sheetnames
    assert names.index(SHEET) == names.index(RU("Review")) + 1
    ws = wb[SHEET]
    assert ws["B1"].value == "канал"
    assert ws[f"A{STATUS_ROW}"].value.startswith("Выберите уровень")
    assert _table(ws)[0][:2] == ["канал", "расход план"]
    assert len(_table(ws)) == 1  # the header only: no facts of the next month yet
    (check,) = ws.data_validations.dataValidation
    assert "город" in check.formula1
