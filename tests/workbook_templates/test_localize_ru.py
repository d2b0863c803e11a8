"""The demo's template in Russian (`build_plan_workbook(lang="ru")`): every header of the core
sheets read back through the catalog, every sheet reference resolving, the role names, the
Settings language, the Glossary, and LibreOffice computing the same numbers as in English."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from openpyxl.formula.tokenizer import Token, Tokenizer
from openpyxl.workbook.workbook import Workbook

from addin.cli.demo import plan_lines
from planning.funnel import DEFAULT_FUNNEL
from sheets_sync.i18n import translator
from sheets_sync.i18n.header_words import canonical_header, localized_header
from sheets_sync.libreoffice import recalculate
from sheets_sync.samples.data import generate_sample
from workbook_templates import layout as L
from workbook_templates.localize import localize_workbook, role_name
from workbook_templates.localize_refs import split_sheet_ref
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook

MONTH = dt.date(2026, 11, 1)
AS_OF = dt.date(2026, 11, 17)
RU = translator("ru")
#: The core helper's sheets (the others' texts are checked by their own tests).
CORE_SHEETS = (
    L.PLAN,
    L.EXECUTIVE,
    L.SETTINGS,
    L.DAILY,
    L.DAILY_HISTORY,
    L.PACE,
    L.HISTORY,
    "Glossary",
)
#: The Glossary's language columns, named in their own language (no catalog entry).
OWN_NAMES = {"Русский", "English"}
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
HEADER_RGB = "1F3864"


def _lines() -> pd.DataFrame:
    """The demo's plan lines with fact and run-rate values (47% and 93% of plan), so every
    formula has numbers to work on."""
    sample = generate_sample(MONTH, as_of=AS_OF, seed=7)
    lines = plan_lines(sample.plan)
    for col in [c for c in lines.columns if c.endswith(" p")]:
        lines[col[:-2] + " f"] = lines[col] * 0.47
        lines[col[:-2] + " rr"] = lines[col] * 0.93
    return lines


def _history(lines: pd.DataFrame) -> pd.DataFrame:
    cols = [*L.KEYS, *[c for c in lines.columns if c.endswith((" p", " f"))]]
    return lines[cols]


def _build(lang: str) -> Workbook:
    lines = _lines()
    spec = PlanWorkbookSpec(
        month=MONTH,
        lines=lines,
        as_of=AS_OF,
        history=_history(lines),
        history_title="October 2026: plan and fact per line (from plan-2026-10.xlsx)",
        lang=lang,
    )
    return build_plan_workbook(spec)


@pytest.fixture(scope="module")
def ru() -> Workbook:
    return _build("ru")


@pytest.fixture(scope="module")
def en() -> Workbook:
    return _build("en")


def _headers(ws: Any) -> Iterator[str]:
    for row in ws.iter_rows():
        for c in row:
            rgb = getattr(c.fill.fgColor, "rgb", None)
            if isinstance(c.value, str) and isinstance(rgb, str) and rgb.endswith(HEADER_RGB):
                yield c.value


def test_every_sheet_has_its_russian_name_and_its_role_name(ru: Workbook, en: Workbook) -> None:
    assert ru.sheetnames == [RU(name) for name in en.sheetnames]
    assert all(CYRILLIC.search(name) for name in ru.sheetnames)
    for role in en.sheetnames:
        for wb, title in ((ru, RU(role)), (en, role)):
            ref = wb.defined_names[role_name(role)].attr_text
            assert split_sheet_ref(ref) == (title, "$A$1")


def test_core_sheets_headers_come_from_the_catalog(ru: Workbook) -> None:
    """Each header is Russian and reads back to an English header that translates to it."""
    seen = 0
    for role in CORE_SHEETS:
        for header in _headers(ru[RU(role)]):
            seen += 1
            if header in OWN_NAMES:
                continue
            assert CYRILLIC.search(header), f"{role}: {header!r} left in English"
            canonical = canonical_header(header, DEFAULT_FUNNEL.names)
            assert canonical != header, f"{role}: {header!r} is not in the catalog"
            assert localized_header(canonical, RU) == header
    # the Plan's 84 (2 keys, 8 metrics x 6, CPC/ROAS/ROMI x 3, 5 CRs x 2, 5 CPAs x 3), the
    # Executive's 29, Daily's 11, History's 18, Settings' 6 ...
    assert seen > len(L.plan_headers(DEFAULT_FUNNEL)) + 60


def test_plan_header_row_in_russian(ru: Workbook) -> None:
    plan = ru[RU(L.PLAN)]
    row = [c.value for c in plan[L.PLAN_HEADER_ROW]]
    assert row[:4] == ["канал", "кампания", "расход план", "расход факт"]
    assert "CPA переговоры факт" in row and "лиды прогноз % плана" in row
    assert plan["A1"].value == "План воронки — ноябрь 2026"
    total = [c.value for c in plan["A"] if c.value == "Итого"]
    assert total == ["Итого"]


def _sheet_refs(formula: str) -> Iterator[str]:
    for token in Tokenizer(formula if formula.startswith("=") else "=" + formula).items:
        if token.type == Token.OPERAND and token.subtype == Token.RANGE:
            sheet, _ = split_sheet_ref(token.value)
            if sheet is not None:
                yield sheet


def _formulas(wb: Workbook) -> Iterator[tuple[str, str]]:
    """(where, formula) of every cell formula, defined name, validation, conditional format and
    chart series reference."""
    for name, dn in wb.defined_names.items():
        yield f"name {name}", dn.attr_text
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("="):
                    yield f"{ws.title}!{c.coordinate}", c.value
        for dv in ws.data_validations.dataValidation:
            for f in (dv.formula1, dv.formula2):
                if isinstance(f, str):
                    yield f"{ws.title} validation", f
        for cf in ws.conditional_formatting:
            for rule in cf.rules:
                for f in rule.formula or []:
                    yield f"{ws.title} format", f
        for chart in getattr(ws, "_charts", []):
            for series in chart.series:
                for holder in (series.tx, series.val, series.cat):
                    for kind in ("strRef", "numRef"):
                        ref = getattr(holder, kind, None) if holder is not None else None
                        if ref is not None:
                            yield f"{ws.title} chart", ref.f


def test_every_sheet_reference_resolves(ru: Workbook) -> None:
    names = set(ru.sheetnames)
    refs = [(where, sheet) for where, f in _formulas(ru) for sheet in _sheet_refs(f)]
    # the Executive's SUMIFs: 7 channels x 4 metrics x 3 kinds x 2 Plan ranges = 168
    assert len(refs) > 300
    missing = [(where, sheet) for where, sheet in refs if sheet not in names]
    assert not missing, missing[:10]
    assert any(sheet == "План" for _, sheet in refs)


def test_formula_labels_and_formats_in_russian(ru: Workbook) -> None:
    executive = ru[RU(L.EXECUTIVE)]
    assert executive["A2"].value == '=IF(AsOf="","месяц","на дату")'
    assert executive["B2"].number_format == "dd.mm.yyyy"
    assert executive["A1"].value == "Сводка — ноябрь 2026"
    plan = ru[RU(L.PLAN)]
    assert plan.cell(row=L.PLAN_FIRST_ROW, column=3).number_format == "[$-419]#,##0"
    settings = ru[RU(L.SETTINGS)]
    assert settings["B2"].number_format == "mm.yyyy"
    history = ru[RU(L.HISTORY)]
    assert history["A1"].value == "октябрь 2026: план и факт по строкам (из plan-2026-10.xlsx)"


def test_settings_language_is_the_last_item_and_codes_stay(ru: Workbook, en: Workbook) -> None:
    for wb, lang in ((ru, "ru"), (en, "en")):
        ws = wb[RU(L.SETTINGS)] if lang == "ru" else wb[L.SETTINGS]
        keys = [ws.cell(row=r, column=1).value for r in range(2, ws.max_row + 1)]
        keys = [k for k in keys if k]
        assert keys[-1] == ("язык" if lang == "ru" else "language")
        assert ws.cell(row=len(keys) + 1, column=2).value == lang
        # stage keys, the method and the chart metric are codes: never translated
        assert [ws.cell(row=r, column=L.STAGES_FIRST_COL).value for r in (2, 3)] == [
            "traffic",
            "leads",
        ]
        values = {ws.cell(row=r, column=2).value for r in range(2, len(keys) + 2)}
        assert {"last_n", "leads", "RUB"} <= values
    assert [c.value for c in en[L.SETTINGS][1][:3]] == ["setting", "value", "help"]


def test_glossary_is_last_visible_and_bilingual(ru: Workbook, en: Workbook) -> None:
    for wb in (ru, en):
        assert wb.worksheets[-1].sheet_state == "hidden"
        glossary = wb.worksheets[-2]
        terms = {glossary.cell(row=r, column=1).value: r for r in range(4, glossary.max_row + 1)}
        for term in ("p", "f", "rr", "%f", "%rr", "pace", "CR", "CPA", "CPL", "CPC", "ROMI"):
            r = terms[term]
            assert CYRILLIC.search(str(glossary.cell(row=r, column=2).value)), term
            assert not CYRILLIC.search(str(glossary.cell(row=r, column=3).value)), term
        for stage in DEFAULT_FUNNEL.names:
            assert stage in terms
        assert glossary.column_dimensions["B"].width >= 40
        assert glossary.cell(row=terms["CR"], column=2).alignment.wrap_text


def test_english_is_not_translated(en: Workbook) -> None:
    """An English workbook is the template as drawn: no Cyrillic outside the Glossary's Russian
    column, and `localize_workbook(…, "en")` changes nothing."""
    before = {
        (ws.title, c.coordinate): (c.value, c.number_format)
        for ws in en.worksheets
        for row in ws.iter_rows()
        for c in row
    }
    assert localize_workbook(en, "en") == {}
    after = {
        (ws.title, c.coordinate): (c.value, c.number_format)
        for ws in en.worksheets
        for row in ws.iter_rows()
        for c in row
    }
    assert after == before
    russian = [
        key
        for key, (value, _) in before.items()
        if isinstance(value, str) and CYRILLIC.search(value)
    ]
    assert russian and all(
        sheet == "Glossary" and (ref.startswith("B") or ref == "B3") for sheet, ref in russian
    )


@pytest.mark.slow
def test_libreoffice_computes_the_same_numbers_in_both_languages(
    tmp_path: Path, ru: Workbook, en: Workbook, soffice: str
) -> None:
    values = {}
    for lang, wb in (("en", en), ("ru", ru)):
        path = tmp_path / f"{lang}.xlsx"
        wb.save(path)
        values[lang] = openpyxl.load_workbook(recalculate(path, tmp_path / lang), data_only=True)
    compared = 0
    for a, b in zip(values["en"].worksheets, values["ru"].worksheets, strict=True):
        assert b.title == RU(a.title)
        for row in a.iter_rows():
            for c in row:
                other = b[c.coordinate].value
                if isinstance(c.value, (int, float)) and not isinstance(c.value, bool):
                    compared += 1
                    assert other == c.value, f"{a.title}!{c.coordinate}: {c.value} vs {other}"
                if isinstance(other, str) and other.startswith("#"):
                    raise AssertionError(f"{b.title}!{c.coordinate} shows {other}")
    # Plan: 7 lines + Total over 62 columns, Executive, Pace (30 days), Settings...
    assert compared > 2000


def test_table_data_and_drop_down_codes_stay_as_written(ru: Workbook, en: Workbook) -> None:
    """Below a header, only label columns (setting, item, help, label ...) are translated: the
    alert rules' codes, the hidden drop-down lists and the Plan's channel names stay, so every
    value still passes its validation and its reader; a title after a blank row is translated."""
    alerts_en, alerts_ru = en["Alerts"], ru[RU("Alerts")]
    rules = [(r, c) for r in range(5, 12) for c in range(1, 13)]
    assert [alerts_ru.cell(row=r, column=c).value for r, c in rules] == [
        alerts_en.cell(row=r, column=c).value for r, c in rules
    ]
    hidden = [alerts_en.cell(row=r, column=40).value for r in range(1, 25)]
    assert "leads" in hidden
    assert [alerts_ru.cell(row=r, column=40).value for r in range(1, 25)] == hidden
    plan_en, plan_ru = en[L.PLAN], ru[RU(L.PLAN)]
    names = [plan_en.cell(row=r, column=1).value for r in range(L.PLAN_FIRST_ROW, 12)]
    assert "Google Search" in names
    assert [plan_ru.cell(row=r, column=1).value for r in range(L.PLAN_FIRST_ROW, 12)] == names
    split = ru[RU(L.SPLIT)]
    assert split["A1"].value == "Оптимизация бюджета — ноябрь 2026"
    assert CYRILLIC.search(str(split.cell(row=L.SPLIT_INFO_FIRST_ROW, column=1).value))
