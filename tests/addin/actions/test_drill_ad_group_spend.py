"""Drill by segment on the demo (issue 15): Google Ads, Yandex Direct, Meta Ads and VK Ads report
their spend by ad group, named as the CRM's utm_term segments, so after the demo's sync the
brand / generic / retarget rows of those channels have spend and a CPL next to their leads, and
the segment rows' spend adds up to the Plan's fact spend (the agency's channels' in "(no
value)")."""

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
from planning.drill import LEVELS
from sheets_sync.i18n import translator
from sheets_sync.samples.lead_exports import SEGMENTS
from sheets_sync.workbooks.xlsx import XlsxWorkbook
from workbook_templates.drill_sheet import DRILL, NO_VALUE
from workbook_templates.plan_sheet import read_plan
from workbook_templates.settings_sheet import read_funnel

pytestmark = pytest.mark.slow
EN = translator("en")
BROKEN_DOWN = ("Google Search", "Yandex Direct", "Yandex RSYa", "Meta Ads", "VK Ads")


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workbook = run_demo(tmp_path_factory.mktemp("segments") / "en", lang="en").workbook
    copy = tmp_path_factory.mktemp("segments_copy") / "demo"
    shutil.copytree(workbook.parent, copy)
    path = copy / workbook.name
    dispatch("drill", ActionContext.of_file(path))  # adds the sheet when the demo has none
    return path


def _press(book: Path, level: str, filters: dict[str, str] | None = None) -> dict[str, Any]:
    """Set the level and filters, press Drill; the header and the rows by label."""
    wb = openpyxl.load_workbook(book)
    ws = wb[DRILL]
    ws["B1"] = level
    for row, name in enumerate(LEVELS, start=2):
        ws.cell(row, 2).value = (filters or {}).get(name)  # None clears a filter
    wb.save(book)
    dispatch("drill", ActionContext.of_file(book))
    table = drill_table(book)
    header = table[0]
    rows = {str(r[0]): dict(zip(header, r, strict=True)) for r in table[1:]}
    return {"header": header, "rows": rows}


def _plan_spend(book: Path) -> tuple[dict[str, float], float]:
    """The Plan's fact spend per channel, and the rounding it allows (a cent per line)."""
    wb = XlsxWorkbook(book)
    _, plan = read_plan(wb, read_funnel(wb))
    spend = plan.groupby("channel")["spend f"].sum()
    return {str(k): float(v) for k, v in spend.items()}, 0.005 * len(plan)


def test_segment_rows_have_spend_and_cpl(book: Path) -> None:
    want, cents = _plan_spend(book)
    for channel in BROKEN_DOWN:
        rows = _press(book, "segment", {"channel": channel})["rows"]
        for segment in SEGMENTS:
            row = rows[segment]
            assert row["spend f"] > 0 and row["leads f"] > 0, (channel, segment)
            # CPL from the row's sums
            cpl = row["spend f"] / row["leads f"]
            assert row["CPL f"] == pytest.approx(cpl), (channel, segment)
        # all the channel's spend is in its ad groups: none left without a segment
        assert not (rows.get(NO_VALUE) or {}).get("spend f")
        spend = sum(rows[s]["spend f"] for s in SEGMENTS)
        assert math.isclose(spend, want[channel], abs_tol=cents), channel
        assert rows[EN("Total")]["spend f"] == pytest.approx(spend)


def test_segment_rows_sum_to_the_plans_spend(book: Path) -> None:
    want, cents = _plan_spend(book)
    rows = _press(book, "segment")["rows"]
    total = list(rows).index(EN("Total"))
    body = list(rows)[:total]  # the rows above the total (the unmapped facts are below it)
    assert set(SEGMENTS) <= set(body) and NO_VALUE in body
    spend = sum(float(rows[label]["spend f"] or 0.0) for label in body)
    assert math.isclose(spend, sum(want.values()), abs_tol=cents)
    # the channels without an ad-group breakdown: their spend in the "(no value)" row
    others = sum(v for k, v in want.items() if k not in BROKEN_DOWN)
    assert math.isclose(rows[NO_VALUE]["spend f"], others, abs_tol=cents)
