"""Attribution verdicts (issue 15): a stable English code in data, a sentence in the workbook's
language on the Attribution sheet, the Review's recommendations and the report; read back from
the sheet in either language (and from the code itself) to the same code."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from addin.actions.review_month import attribution_verdicts
from addin.actions.review_rows import Recommendation, recommendations_block
from planning.funnel import DEFAULT_FUNNEL
from sheets_sync.i18n import translator
from sheets_sync.workbooks.xlsx import XlsxWorkbook, save_atomic
from workbook_templates.attribution_sheet import (
    ATTRIBUTION,
    HEADERS,
    LEADS_TITLE_ROW,
    VERDICTS,
    verdict_code,
    verdict_text,
)
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook

RU, EN = translator("ru"), translator("en")
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
LINES = pd.DataFrame(
    {
        "channel": ["Search", "Meta"],
        "campaign": ["", ""],
        "spend p": [100_000.0, 50_000.0],
        "leads p": [100.0, 60.0],
    }
)


def test_every_verdict_reads_as_russian_and_comes_back_to_its_code() -> None:
    for code, english in VERDICTS.items():
        russian = verdict_text(code, RU)
        assert CYRILLIC.search(russian) and russian != english, code
        assert verdict_text(code, EN) == english
        for shown in (russian, english, code, f"  {russian.upper()} ", russian.replace("ё", "е")):
            assert verdict_code(shown) == code, shown
    assert len({verdict_text(c, RU) for c in VERDICTS}) == len(VERDICTS)


def test_what_is_not_a_verdict_stays_as_written() -> None:
    assert verdict_code(None) == "" and verdict_code("  ") == ""
    assert verdict_code(" a newer verdict ") == "a newer verdict"
    assert verdict_text("a_newer_code", RU) == "a_newer_code" and verdict_text("", RU) == ""


@given(st.text(max_size=40))
def test_a_code_read_back_is_shown_and_read_back_the_same(text: str) -> None:
    """verdict_code is idempotent through verdict_text in both languages."""
    code = verdict_code(text)
    for t in (RU, EN):
        assert verdict_code(verdict_text(code, t)) == code


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_review_reads_the_sheet_in_either_language(tmp_path: Path, lang: str) -> None:
    """The Attribution sheet written in `lang` (and one row in the other language) gives codes;
    the Review's recommendations show them in the workbook's language."""
    spec = PlanWorkbookSpec(month=dt.date(2026, 11, 1), lines=LINES, lang=lang)
    path = save_atomic(build_plan_workbook(spec), tmp_path / f"plan_{lang}.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb[translator(lang)(ATTRIBUTION)]
    other = EN if lang == "ru" else RU
    row, col = LEADS_TITLE_ROW + 2, HEADERS.index("verdict") + 1
    spend = HEADERS.index("proposed spend") + 1
    shown = [
        ("Search", verdict_text("cannibalising", translator(lang)), 90_000.0),
        ("Meta", verdict_text("under_credited", other), 60_000.0),
    ]
    for i, (channel, text, amount) in enumerate(shown):
        ws.cell(row=row + i, column=1, value=channel)
        ws.cell(row=row + i, column=col, value=text)
        ws.cell(row=row + i, column=spend, value=amount)
    wb.save(path)
    found = attribution_verdicts(XlsxWorkbook(path))
    assert found == {"Search": ("cannibalising", 90_000.0), "Meta": ("under_credited", 60_000.0)}
    t = translator(lang)
    recs = [Recommendation(c, 100.0, 120.0, 10.0, "", found[c][0], found[c][1]) for c in found]
    rows, _ = recommendations_block(recs, DEFAULT_FUNNEL, t, "note")
    verdict_col = rows[2].index(t("attribution verdict"))
    assert [r[verdict_col] for r in rows[3:5]] == [
        t(VERDICTS["cannibalising"]),
        t(VERDICTS["under_credited"]),
    ]
    assert not math.isnan(found["Meta"][1])
