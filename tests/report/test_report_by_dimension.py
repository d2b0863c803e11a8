"""The client report's results by city and product (Russian demo): the tables' leads sum to their
total, which is the Plan's fact leads; the page is in Russian; without a fact store the page is
left out."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from demo_cache import run_demo

from addin.actions.base import ActionContext
from addin.actions.button_config import known_config
from addin.report.content import report_content
from addin.report.render import render_html
from sheets_sync.i18n import translator
from sheets_sync.samples.lead_exports import CITIES
from sheets_sync.workbooks.xlsx import XlsxWorkbook
from workbook_templates.plan_sheet import read_plan
from workbook_templates.settings_sheet import read_funnel

pytestmark = pytest.mark.slow
RU = translator("ru")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_demo(tmp_path_factory.mktemp("report_dims") / "ru", lang="ru").workbook


def test_tables_by_city_and_product(demo: Path) -> None:
    wb = XlsxWorkbook(demo)
    _, plan = read_plan(wb, read_funnel(wb))
    leads = float(plan["leads f"].fillna(0).sum())
    config = known_config(ActionContext.of_file(demo))
    assert config is not None
    c = report_content(wb, RU, "Acme", config)
    assert [d.title for d in c.dims] == ["Итоги по городам", "Итоги по продуктам"]
    for d in c.dims:
        assert math.fsum(x.leads for x in d.lines) == pytest.approx(d.total.leads)
        assert d.total.leads == pytest.approx(leads)
        assert d.lines[-1].label == "(не указано)"
    assert set(CITIES) <= {x.label for x in c.dims[0].lines}
    assert "17.11.2026" in c.dims_note and "01.10.2026 – 17.10.2026" in c.dims_note
    html = render_html(c, RU)
    assert "Итоги по городам и продуктам" in html and "лиды к прошлому месяцу" in html


def test_no_store_no_page(demo: Path) -> None:
    c = report_content(XlsxWorkbook(demo), RU, "Acme")  # no config: no fact store to read
    assert c.dims == () and "Итоги по городам" not in render_html(c, RU)
