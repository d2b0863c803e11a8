"""The Drill sheet in every new workbook (`funnelplan template`, the demo, New Month), in English
and Russian: its place after Review, the level drop-down in the workbook's language, the
columns' number formats, the inputs unlocked, its role name; and the drop-down's words read
back as the levels they name."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.worksheet.worksheet import Worksheet

from addin.cli.main import main
from planning.drill import LEVELS
from sheets_sync.i18n import translator
from sheets_sync.workbooks.xlsx import XlsxWorkbook
from workbook_templates.drill_sheet import (
    DRILL,
    HEADER_ROW,
    NOTE,
    STATUS_ROW,
    drill_format,
    read_drill_inputs,
    write_drill_template,
)
from workbook_templates.localize import WORDED_OPTIONS
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook

MONTH = dt.date(2026, 11, 1)


@pytest.fixture(scope="module")
def books() -> dict[str, openpyxl.Workbook]:
    return {
        lang: build_plan_workbook(PlanWorkbookSpec(month=MONTH, lang=lang)) for lang in ("en", "ru")
    }


def _drill(wb: openpyxl.Workbook, lang: str) -> Worksheet:
    return wb[translator(lang)(DRILL)]


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_sheet_follows_review(books: dict[str, openpyxl.Workbook], lang: str) -> None:
    t = translator(lang)
    names = books[lang].sheetnames
    assert names.index(t(DRILL)) == names.index(t("Review")) + 1
    name = books[lang].defined_names["_fp_role_Drill"]
    assert name.attr_text.split("!")[0].strip("'") == t(DRILL)  # found when renamed


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_level_drop_down_speaks_the_workbooks_language(
    books: dict[str, openpyxl.Workbook], lang: str
) -> None:
    t = translator(lang)
    ws = _drill(books[lang], lang)
    (check,) = ws.data_validations.dataValidation
    assert str(check.sqref) == "B1" and check.type == "list"
    options = [t(level) for level in LEVELS]
    assert check.formula1 == '"' + ",".join(options) + '"'
    assert ws["B1"].value == options[0]  # by channel until the user chooses
    assert (check.errorTitle, check.error) == (t("level"), t("choose a level from the list"))
    if lang == "ru":
        assert options == ["канал", "кампания", "сегмент", "креатив", "город", "продукт"]
        assert check.error == "выберите уровень из списка"
        assert ws[f"A{STATUS_ROW}"].value == (
            "Выберите уровень и фильтры выше и нажмите «Детализация»."
        )
    else:
        assert ws[f"A{STATUS_ROW}"].value == NOTE
    assert [ws.cell(r, 1).value for r in range(2, 8)] == options  # the filters' labels


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_headers_formats_and_unlocked_inputs(
    books: dict[str, openpyxl.Workbook], lang: str
) -> None:
    t = translator(lang)
    ws = _drill(books[lang], lang)
    header = [c.value for c in ws[HEADER_ROW]]
    assert header[0] == t("channel") and len(header) == 22
    tag = "[$-419]" if lang == "ru" else ""
    en = books["en"]["Drill"]
    english = [c.value for c in en[HEADER_ROW]]
    want = {
        "spend f": "#,##0",
        "revenue rr": "#,##0",
        "leads p": "#,##0",
        "CPL f": "#,##0.00",
        "CPA p": "#,##0.00",
        "CR f": "0.00%",
    }
    for name, fmt in want.items():
        col = english.index(name) + 1
        assert ws.cell(HEADER_ROW + 1, col).number_format == tag + fmt, name
        assert ws.cell(HEADER_ROW + 300, col).number_format == tag + fmt, name
    assert ws.cell(HEADER_ROW + 1, 1).number_format == "General"  # the level's values
    assert all(ws.cell(r, 2).protection.locked is False for r in range(1, 8))
    assert not ws.protection.sheet  # a sheet a button rewrites, like Review


def test_drill_format_by_header() -> None:
    assert [drill_format(h) for h in ("spend p", "purchases rr", "revenue f")] == [
        "#,##0",
        "#,##0",
        "#,##0",
    ]
    assert [drill_format(h) for h in ("CPL p", "CPA f", "CR p")] == [
        "#,##0.00",
        "#,##0.00",
        "0.00%",
    ]
    assert [drill_format(h) for h in ("channel", "CR rr", "spend %f", "")] == [None] * 4


def test_other_drop_downs_keep_their_codes(books: dict[str, openpyxl.Workbook]) -> None:
    """Only the levels are words: Attribution's model list stays the codes its reader parses."""
    ru = translator("ru")
    ws = books["ru"][ru("Attribution")]
    models = next(dv for dv in ws.data_validations.dataValidation if str(dv.sqref) == "B5")
    assert "last_touch" in models.formula1 and not set(models.formula1) & set("абвгдежз")


@settings(deadline=None)  # the first example of a text writes its workbook
@given(st.sampled_from(LEVELS), st.sampled_from(["en", "ru"]), st.sampled_from(["", " "]))
def test_every_offered_level_reads_back_as_itself(level: str, lang: str, pad: str) -> None:
    """Whatever the drop-down offers, in either language, the button reads the level it names
    (and a level typed in the other language too)."""
    assert set(LEVELS) == WORDED_OPTIONS
    t, other = translator(lang), translator("en" if lang == "ru" else "ru")
    for shown in (t(level), other(level)):
        book = _typed(shown + pad)
        assert read_drill_inputs(book, DRILL, t).level == level


_TYPED: dict[str, XlsxWorkbook] = {}


def _typed(level: str) -> XlsxWorkbook:
    """An English template's Drill sheet with `level` typed in B1 (cached per text)."""
    if level not in _TYPED:
        wb = openpyxl.Workbook()
        write_drill_template(wb, translator("en"))
        wb[DRILL]["B1"] = level
        path = Path(tempfile.mkdtemp()) / "drill.xlsx"
        wb.save(path)
        _TYPED[level] = XlsxWorkbook(path)
    return _TYPED[level]


def test_funnelplan_template_writes_the_russian_drill_sheet(tmp_path: Path) -> None:
    out = tmp_path / "ru.xlsx"
    result = CliRunner().invoke(
        main, ["template", "--month", "2026-12", "--out", str(out), "--lang", "ru"]
    )
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(out)["Детализация"]
    assert (ws["A1"].value, ws["B1"].value) == ("уровень", "канал")
    assert ws.cell(HEADER_ROW, 2).value == "расход план"
