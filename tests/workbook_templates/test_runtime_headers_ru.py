"""Headers a button writes at run time (issue 15 leftovers): the Curves sheet's slot titles and
quantities (Optimize Split) and the Split Undo sheet's headers (Apply Split on a workbook
without the sheet) are in the workbook's language, as the template writes them, and read back."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pandas as pd
import pytest

from addin.actions.compare_scenarios import _statuses
from addin.actions.optimize_split import status_text
from planning.split import Proposal
from planning.split_flags import flag
from sheets_sync.i18n import translator
from sheets_sync.workbooks.xlsx import XlsxWorkbook, save_atomic
from workbook_templates import layout as L
from workbook_templates.curves_sheet import curve_slots, write_curves
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook
from workbook_templates.split_undo_sheet import (
    UndoRecord,
    read_undo,
    undo_rows_to_replace,
    write_undo,
)

LINES = pd.DataFrame(
    {"channel": ["Search", "Meta"], "campaign": ["", ""], "spend p": [100_000.0, 50_000.0]}
)


def _book(tmp_path: Path, lang: str) -> Path:
    spec = PlanWorkbookSpec(month=dt.date(2026, 11, 1), lines=LINES, lang=lang)
    return save_atomic(build_plan_workbook(spec), tmp_path / f"plan_{lang}.xlsx")


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_curves_headers_are_the_templates(tmp_path: Path, lang: str) -> None:
    path = _book(tmp_path, lang)
    t = translator(lang)
    before = openpyxl.load_workbook(path)[t(L.CURVES)]
    template = [[c.value for c in row] for row in before.iter_rows(min_row=1, max_row=2)]
    wb = XlsxWorkbook(path)
    slots = curve_slots(wb)
    now: list[float | None] = [100.0, 10.0, None, None]
    proposed: list[float | None] = [120.0, 11.0, 9.0, 13.0]
    markers = [[now, now], [proposed, proposed]]
    write_curves(wb, slots, markers, ["Search", "Meta"], [None, None])
    wb.save()
    ws = openpyxl.load_workbook(path)[t(L.CURVES)]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=1, max_row=2)]
    width = len(L.CURVE_QUANTITIES)
    # the marker slots' titles and every quantity as the template wrote them
    assert rows[0][: 2 * width] == template[0][: 2 * width]
    assert rows[1] == template[1]
    assert rows[0][2 * width] == "Search" and rows[0][3 * width] == "Meta"
    if lang == "ru":
        assert rows[0][0] == "сейчас" and rows[1][:2] == ["расход", "конверсии"]
    assert curve_slots(XlsxWorkbook(path)) == slots


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_undo_sheet_added_at_run_time_has_the_templates_headers(
    tmp_path: Path, lang: str
) -> None:
    path = _book(tmp_path, lang)
    t = translator(lang)
    book = openpyxl.load_workbook(path)
    template = [c.value for c in book[t(L.SPLIT_UNDO)][1]]
    del book[t(L.SPLIT_UNDO)]  # a workbook made before the sheet existed
    book.save(path)
    wb = XlsxWorkbook(path)
    assert undo_rows_to_replace(wb) == 0
    record = UndoRecord("E5", L.PLAN, 5, 5, 100.0, 120.0)
    write_undo(wb, [record], 0)
    wb.save()
    ws = openpyxl.load_workbook(path)[t(L.SPLIT_UNDO)]
    assert [c.value for c in ws[1]] == template == [t(h) for h in L.UNDO_HEADERS]
    records, rows = read_undo(XlsxWorkbook(path))
    assert rows == 1 and records == [record]


def test_the_scenarios_statuses_are_in_the_workbooks_language() -> None:
    """Rows 10, 11 fixed (a channel left out there), 12 computed, 13 an error (kept as given)."""
    inputs = SimpleNamespace(rows=[SimpleNamespace(row=12), SimpleNamespace(row=13)])
    inputs.fixed_rows = [10, 11]
    base = SimpleNamespace(left_out={"TG": flag("kept")})
    errors = {13: "error: Scenarios!E13 ..."}
    ru = _statuses(inputs, base, errors, translator("ru"))  # type: ignore[arg-type]
    why = "нет истории и CPA в плане: расход оставлен текущим"  # the reason translated too
    assert ru == {
        10: f"рассчитан (не учтены: TG: {why})",
        11: f"рассчитан (не учтены: TG: {why})",
        12: "рассчитан",
        13: "error: Scenarios!E13 ...",
    }
    en = _statuses(inputs, base, errors, translator("en"))  # type: ignore[arg-type]
    why = "no history and no plan CPA: kept at its current spend"
    assert en[10] == f"computed (left out: TG: {why})" and en[12] == "computed"


@pytest.mark.parametrize("method", ["bisection", "grid-dp", "slsqp"])
@pytest.mark.parametrize("success", [True, False])
@pytest.mark.parametrize("step", [None, 0.0, 1000.0, 12_500.0])
def test_the_split_status_line_in_both_languages(
    method: str, success: bool, step: float | None
) -> None:
    """English is exactly planning's `Proposal.status()`; Russian for the known methods, with
    the step's thousands grouped the Russian way (12 500)."""
    fake = SimpleNamespace(result=SimpleNamespace(method=method, success=success), step=step)
    en = status_text(fake, translator("en"))  # type: ignore[arg-type]
    assert en == Proposal.status(fake)  # type: ignore[arg-type]
    ru = status_text(fake, translator("ru"))  # type: ignore[arg-type]
    if method != "slsqp":
        assert re.search("[а-яё]", ru) and not re.search(r"\b(ok|failed|exact|steps)\b", ru)
    if step:
        assert ru.endswith(f"шаг {step:,.0f}".replace(",", "\u00a0"))
