"""The Drill button on the demo (issue 15's Done-when): at every level the Drill sheet's total
facts equal the Plan's facts (no double counting; the facts with no value for the level are
one row), the demo's breakdown shows (cities, segments), plan only at the Plan's levels, the
facts no plan line took below the total, and a filter."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from demo_cache import run_demo
from drill_table import drill_table

from addin.registry import ActionContext, dispatch
from planning.drill import DRILL_METRICS, LEVELS
from sheets_sync.i18n import translator
from sheets_sync.samples.lead_exports import CITIES
from sheets_sync.workbooks.xlsx import XlsxWorkbook
from workbook_templates.drill_sheet import DRILL, HEADER_ROW, NO_VALUE, NOT_IN_PLAN
from workbook_templates.plan_sheet import read_plan
from workbook_templates.settings_sheet import read_funnel

pytestmark = pytest.mark.slow
EN = translator("en")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_demo(tmp_path_factory.mktemp("drill") / "en", lang="en").workbook


def _copy(demo: Path, tmp_path: Path) -> Path:
    """The demo's folder copied (the workbook, its sync config, exports and store)."""
    shutil.copytree(demo.parent, tmp_path / "demo")
    return tmp_path / "demo" / demo.name


def _press(book: Path, level: str, filters: dict[str, str] | None = None) -> list[list[Any]]:
    """Set the level and filters (the sheet exists after a first press), press Drill, and
    return the table under the header (header first)."""
    wb = openpyxl.load_workbook(book)
    ws = wb[DRILL]
    ws["B1"] = level
    for row, name in enumerate(LEVELS, start=2):
        ws.cell(row, 2, (filters or {}).get(name))
    wb.save(book)
    dispatch("drill", ActionContext.of_file(book))
    table = drill_table(book)
    return table


def _plan_facts(book: Path) -> tuple[dict[str, float], float]:
    """The Plan's facts summed over its lines, and how far rounding may take the sum: the
    Plan writes each line's money to the cent (0.005 per line at most)."""
    wb = XlsxWorkbook(book)
    _, plan = read_plan(wb, read_funnel(wb))
    return {m: float(plan[f"{m} f"].fillna(0).sum()) for m in DRILL_METRICS}, 0.005 * len(plan)


def test_every_level_totals_the_plans_facts(demo: Path, tmp_path: Path) -> None:
    book = _copy(demo, tmp_path)
    dispatch("drill", ActionContext.of_file(book))  # adds the sheet, by channel
    want, cents = _plan_facts(book)
    assert want["leads"] > 0 and want["spend"] > 0
    for level in LEVELS:
        table = _press(book, level)
        header, rows = table[0], table[1:]
        assert header[0] == level
        labels = [r[0] for r in rows]
        total = rows[labels.index(EN("Total"))]
        body = rows[: labels.index(EN("Total"))]
        assert labels[-1] == NOT_IN_PLAN  # outside the total, after it
        for metric in DRILL_METRICS:
            col = header.index(f"{metric} f")
            got = float(total[col] or 0.0)
            assert math.isclose(got, want[metric], abs_tol=cents + 1e-6), (level, metric)
            assert math.isclose(sum(float(r[col] or 0) for r in body), got, abs_tol=1e-6)
        plan_col = header.index("leads p")
        if level in ("channel", "campaign"):
            assert total[plan_col] is not None and total[plan_col] > 0
        else:
            assert total[plan_col] is None
            assert NO_VALUE in labels  # the spend (ad exports) has no city, segment ...
        if level == "city":
            assert set(CITIES) <= set(labels)
            leads = header.index("leads f")
            assert all(rows[labels.index(c)][leads] > 0 for c in CITIES)
            # spend is not broken down by city: every ruble in the "(no value)" row
            spend = header.index("spend f")
            assert rows[labels.index(NO_VALUE)][spend] == pytest.approx(want["spend"], abs=cents)


def test_filter_by_city(demo: Path, tmp_path: Path) -> None:
    book = _copy(demo, tmp_path)
    dispatch("drill", ActionContext.of_file(book))
    by_city = _press(book, "city")
    header = by_city[0]
    leads = header.index("leads f")
    moscow = next(r for r in by_city if r[0] == CITIES[0])[leads]
    table = _press(book, "channel", {"city": CITIES[0]})
    labels = [r[0] for r in table]
    total = table[labels.index(EN("Total"))]
    # the channels' leads from Moscow add up to Moscow's leads; no plan under a city filter
    assert total[leads] == pytest.approx(moscow)
    assert total[header.index("leads p")] is None


def test_russian_workbook(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    """A Russian demo: the sheet is «Детализация», a level typed in Russian is read, the
    headers and the rows' labels are Russian, and the total still equals the Plan's facts."""
    ru = translator("ru")
    demo = run_demo(tmp_path_factory.mktemp("drill_ru") / "ru", lang="ru").workbook
    book = _copy(demo, tmp_path)
    dispatch("drill", ActionContext.of_file(book))
    wb = openpyxl.load_workbook(book)
    assert "Детализация" in wb.sheetnames
    wb["Детализация"]["B1"] = "город"
    wb.save(book)
    message = dispatch("drill", ActionContext.of_file(book))
    assert message.startswith("Детализация: уровень «город»")
    ws = openpyxl.load_workbook(book)["Детализация"]
    rows = [list(r) for r in ws.iter_rows(min_row=HEADER_ROW, values_only=True) if r[0]]
    header, labels = rows[0], [r[0] for r in rows]
    assert header[0] == "город" and "лиды факт" in header
    assert ru(NO_VALUE) in labels and ru(NOT_IN_PLAN) == labels[-1]
    want, cents = _plan_facts(book)
    total = rows[labels.index(ru("Total"))]
    assert total[header.index("лиды факт")] == pytest.approx(want["leads"], abs=cents)
