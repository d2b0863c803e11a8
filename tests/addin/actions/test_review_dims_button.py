"""Review Month's results by city and by product on the demo (English and Russian workbooks):
the rows' leads sum to the Plan's fact leads (the channel table's total facts), the demo's
cities and products are there, a city has no spend (blank, not 0) and so no CPL, last month's
same days are compared, and without a fact store the blocks say why."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from demo_cache import run_demo

from addin.cli.main import main
from addin.registry import ActionContext, dispatch
from sheets_sync.i18n import translator
from sheets_sync.samples.lead_exports import CITIES
from sheets_sync.workbooks.xlsx import XlsxWorkbook
from workbook_templates.plan_sheet import read_plan
from workbook_templates.review_sheet import BLOCKS_ROW, REVIEW
from workbook_templates.settings_sheet import read_funnel

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("review_dims")
    return {lang: run_demo(out / lang, lang=lang).workbook for lang in ("en", "ru")}


def _copy(book: Path, tmp_path: Path) -> Path:
    """The demo's folder copied (workbook, sync config, exports, store)."""
    shutil.copytree(book.parent, tmp_path / "demo")
    return tmp_path / "demo" / book.name


def _block(book: Path, lang: str, title: str) -> tuple[list[Any], list[list[Any]], list[Any]]:
    """(headers, rows, the Total row) of the Review sheet's block titled `title` (a msgid)."""
    t = translator(lang)
    ws = openpyxl.load_workbook(book)[t(REVIEW)]
    first = next(r for r in range(BLOCKS_ROW, ws.max_row + 1) if ws.cell(r, 1).value == t(title))
    headers = [c.value for c in ws[first + 2]]
    rows: list[list[Any]] = []
    for r in range(first + 3, first + 60):
        line = [c.value for c in ws[r]]
        if line[0] == t("Total"):
            return headers, rows, line
        rows.append(line)
    raise AssertionError(f"no Total under {title}")


def _plan_facts(book: Path) -> dict[str, float]:
    wb = XlsxWorkbook(book)
    _, plan = read_plan(wb, read_funnel(wb))
    return {m: float(plan[f"{m} f"].fillna(0).sum()) for m in ("spend", "leads", "purchases")}


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_city_and_product_rows_sum_to_the_plans_facts(
    demos: dict[str, Path], tmp_path: Path, lang: str
) -> None:
    t = translator(lang)
    book = _copy(demos[lang], tmp_path)
    dispatch("review_month", ActionContext.of_file(book))
    want = _plan_facts(book)
    assert want["leads"] > 0
    for title in ("Results by city", "Results by product"):
        headers, rows, total = _block(book, lang, title)
        leads = headers.index(t("leads"))
        spend = headers.index(t("spend"))
        cpl = headers.index("CPL")
        # the rows' leads are the Plan's fact leads, and so is the total
        assert math.fsum(r[leads] or 0 for r in rows) == pytest.approx(want["leads"])
        assert total[leads] == pytest.approx(want["leads"])
        assert total[spend] == pytest.approx(want["spend"], abs=0.01 * len(rows) + 1)
        # CPL of the total from its sums
        assert total[cpl] == pytest.approx(total[spend] / total[leads], rel=1e-3)
        labels = [r[0] for r in rows]
        assert labels[-1] == t("(no value)")  # the ad exports' spend has no city or product
        for r in rows[:-1]:  # the CRM's values: no spend, so no CPL (blank, never 0)
            assert r[spend] is None and r[cpl] is None and r[leads] > 0
        if title == "Results by city":
            assert set(CITIES) <= set(labels)
        # the demo's store holds October: the same days compared, a status per row
        status = headers.index(t("vs last month"))
        change = headers.index(t("{metric} vs last month", metric=t("leads")))
        assert all(isinstance(r[change], int | float) for r in rows)
        known = {t(s) for s in ("not worse", "worse", "mixed", "too few to judge")}
        assert {r[status] for r in rows} <= known


def test_json_and_the_note_of_last_months_window(demos: dict[str, Path], tmp_path: Path) -> None:
    book = _copy(demos["en"], tmp_path)
    run = CliRunner().invoke(main, ["review", str(book), "--json"])
    assert run.exit_code == 0, run.output
    got = json.loads(run.output)["by_dimension"]
    assert set(got) == {"city", "product"}
    for level in ("city", "product"):
        rows = got[level]["rows"]
        total = got[level]["total"]
        assert math.fsum(r["leads"] or 0 for r in rows) == pytest.approx(total["leads"])
        assert total["leads"] == pytest.approx(_plan_facts(book)["leads"])
    ws = openpyxl.load_workbook(book)[REVIEW]
    notes = [ws.cell(r, 1).value for r in range(BLOCKS_ROW, ws.max_row + 1)]
    # as of the 17th: October 1-17
    assert any(isinstance(n, str) and "2026-10-01 – 2026-10-17" in n for n in notes)


def test_without_a_fact_store_the_blocks_say_why(demos: dict[str, Path], tmp_path: Path) -> None:
    book = _copy(demos["ru"], tmp_path)
    for store in book.parent.glob("*.duckdb*"):
        store.unlink()
    dispatch("review_month", ActionContext.of_file(book))
    t = translator("ru")
    ws = openpyxl.load_workbook(book)[t(REVIEW)]
    column = [ws.cell(r, 1).value for r in range(BLOCKS_ROW, ws.max_row + 1)]
    at = column.index(t("Results by city"))
    assert str(column[at + 1]).startswith("Нет хранилища фактов")
    assert t("Results by product") in column
