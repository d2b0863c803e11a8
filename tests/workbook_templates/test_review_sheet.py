"""The Review sheet's template: its place, the rule read back (either language, bad cells named),
no Brief in a new workbook, and every label translated in a Russian workbook."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from planning.errors import InputError
from planning.review import ReviewRules
from sheets_sync.i18n import translator
from sheets_sync.workbooks.xlsx import XlsxWorkbook, save_atomic
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook
from workbook_templates.review_sheet import (
    CHART_COL,
    MAX_BARS,
    REVIEW,
    SETTINGS,
    SETTINGS_ROW,
    chart_formulas,
    read_brief,
    read_rules,
)

RU = translator("ru")
MONTH = dt.date(2026, 11, 1)


def _book(tmp_path: Path, lang: str) -> Path:
    spec = PlanWorkbookSpec(month=MONTH, lang=lang)
    return save_atomic(build_plan_workbook(spec), tmp_path / f"plan-{lang}.xlsx")


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_rule_reads_back_with_its_defaults(tmp_path: Path, lang: str) -> None:
    wb = XlsxWorkbook(_book(tmp_path, lang))
    assert REVIEW in wb.sheet_names()
    compare, rules = read_rules(wb)
    assert compare == "auto" and rules == ReviewRules()
    assert read_brief(wb) is None  # a new workbook has no Brief: New Month copies the month


def test_a_bad_rule_cell_is_named(tmp_path: Path) -> None:
    wb = XlsxWorkbook(_book(tmp_path, "en"))
    wb.write_block(REVIEW, SETTINGS_ROW + 2, 2, [["lots"]])
    with pytest.raises(InputError, match=rf"{REVIEW}!B{SETTINGS_ROW + 2}"):
        read_rules(wb)
    wb.write_block(REVIEW, SETTINGS_ROW + 2, 2, [[1.0]])
    wb.write_block(REVIEW, SETTINGS_ROW + 1, 2, [["sometimes"]])
    with pytest.raises(InputError, match="auto, fact, rr"):
        read_rules(wb)


def test_chart_formulas_look_up_the_chosen_channel_and_metric() -> None:
    slot, bar, *series = chart_formulas(SETTINGS_ROW + 3)
    assert slot == 3
    assert bar == (
        '=IF(ISNA(MATCH($B$10&"|"&$B$11&"|"&AA6,$AH$4:$AH$2003,0)),"",'
        'INDEX($AL$4:$AL$2003,MATCH($B$10&"|"&$B$11&"|"&AA6,$AH$4:$AH$2003,0)))'
    )
    assert [s.split("INDEX(")[1][:3] for s in series] == ["$AN", "$AO", "$AP", "$AQ"]
    assert CHART_COL == 27 and MAX_BARS == 16


def test_every_label_of_the_russian_review_sheet_is_russian(tmp_path: Path) -> None:
    import openpyxl

    ws = openpyxl.load_workbook(_book(tmp_path, "ru"))[RU(REVIEW)]
    inputs = {(SETTINGS_ROW + 1 + i, 2) for i in range(len(SETTINGS))}
    latin = re.compile(r"\b(CPA|CPL|CR|ROMI|auto|fact|rr|revenue)\b|[Δ%#]")
    bad = [
        (c.coordinate, c.value)
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str)
        and not c.value.startswith("=")
        and (c.row, c.column) not in inputs
        and not re.search(r"[А-Яа-яЁё]", c.value)
        and re.search(r"[A-Za-z]", latin.sub("", c.value))
    ]
    assert not bad
    chart = ws._charts[0]  # type: ignore[attr-defined]
    title = "".join(r.t for p in chart.title.tx.rich.p for r in (p.r or []))
    assert title == RU("Waterfall: plan to fact")
