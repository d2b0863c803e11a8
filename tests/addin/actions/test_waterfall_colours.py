"""The waterfalls' colours (issue 15): a step is red when it moved the metric the bad way: up for
CPA, down for purchases and revenue; on the Review sheet's chart (a fixed worse / better series
pair the button fills per metric) and on the report's chart (matplotlib)."""

from __future__ import annotations

import datetime as dt

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.colors import to_hex

from addin.actions.review_rows import variance_rows
from addin.report.charts import BAD_COLOUR, GOOD_COLOUR, step_colour, waterfall_figure
from addin.report.content import WaterfallBar
from planning.funnel import Funnel
from planning.variance import PlanFact, decompose, decompose_cpa, waterfall
from sheets_sync.i18n import translator
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook
from workbook_templates.review_sheet import (
    BETTER_COLOUR,
    CHART_COL,
    CHART_HEADERS,
    REVIEW,
    SETTINGS_ROW,
    VAR_HEADERS,
    WORSE_COLOUR,
)

TWO = Funnel.from_rows([("leads", "Leads", None), ("purchases", "Purchases", None)])
#: CPA by hand: plan 100 / 2 = 50, fact 120 / 2 = 60: +10. CPA = CPL / CR(leads → purchases);
#: the CR is 2/10 on both sides, so its part is 0 and the CPL (the price: 100/10 → 120/10) takes
#: the whole +10. Purchases: 2 → 2, no gap; with 3 purchases in fact the CR takes it all (+1).
DEARER = PlanFact(
    "Search",
    {"spend": 100.0, "leads": 10.0, "purchases": 2.0},
    {"spend": 120.0, "leads": 10.0, "purchases": 2.0},
)
MORE = PlanFact(
    "Search",
    {"spend": 100.0, "leads": 10.0, "purchases": 2.0},
    {"spend": 100.0, "leads": 10.0, "purchases": 3.0},
)
RU = translator("ru")


def _steps(rows: list[list[object]]) -> dict[object, dict[str, object]]:
    named = [dict(zip(VAR_HEADERS, row, strict=True)) for row in rows]
    return {r["bar"]: r for r in named[1:-1]}


def test_a_dearer_cpa_goes_to_the_worse_series_by_hand() -> None:
    d = decompose_cpa(DEARER, TWO)
    assert d.gap == pytest.approx(10.0)
    steps = _steps(variance_rows("Search", "CPA", d, RU))
    price = next(r for r in steps.values() if r["effect"] == pytest.approx(10.0))
    assert price["worse than plan"] == pytest.approx(10.0) and price["better than plan"] == 0
    more = _steps(variance_rows("Search", "purchases", decompose(MORE, TWO), RU))
    cr = next(r for r in more.values() if r["effect"] == pytest.approx(1.0))
    assert cr["better than plan"] == pytest.approx(1.0) and cr["worse than plan"] == 0


def test_the_review_charts_worse_series_is_red_in_both_languages(tmp_path: object) -> None:
    lines = pd.DataFrame({"channel": ["Search"], "campaign": [""], "spend p": [100.0]})
    for lang in ("en", "ru"):
        t = translator(lang)
        wb = build_plan_workbook(
            PlanWorkbookSpec(month=dt.date(2026, 11, 1), lines=lines, lang=lang)
        )
        ws = wb[t(REVIEW)]
        (chart,) = ws._charts  # type: ignore[attr-defined]
        fills = {}
        for series in chart.series:
            ref = series.tx.strRef.f  # the header cell naming the series
            header = ws[ref.split("!")[1].replace("$", "")].value
            props = series.graphicalProperties
            fills[header] = None if props.noFill else str(props.solidFill.srgbClr)
        assert fills[t("worse than plan")] == WORSE_COLOUR == "C00000"
        assert fills[t("better than plan")] == BETTER_COLOUR == "70AD47"
        assert ws.cell(SETTINGS_ROW, CHART_COL + CHART_HEADERS.index("worse than plan")).value == t(
            "worse than plan"
        )


def _figure_colours(bars: list[WaterfallBar], lower_is_better: bool) -> list[str]:
    fig = waterfall_figure(bars, "CPA", RU, lower_is_better=lower_is_better)
    colours = [to_hex(p.get_facecolor()) for p in fig.axes[0].patches]
    plt.close(fig)
    return colours


def _bars(d: object) -> list[WaterfallBar]:
    return [WaterfallBar(b.label, b.kind, b.value, b.before, b.after) for b in waterfall(d)]  # type: ignore[arg-type]


def test_the_reports_cpa_increase_bar_is_red_and_a_purchases_increase_green() -> None:
    cpa = _bars(decompose_cpa(DEARER, TWO))
    colours = _figure_colours(cpa, lower_is_better=True)
    rise = next(i for i, b in enumerate(cpa) if b.kind == "step" and b.value > 0)
    assert colours[rise] == BAD_COLOUR
    purchases = _bars(decompose(MORE, TWO))
    colours = _figure_colours(purchases, lower_is_better=False)
    rise = next(i for i, b in enumerate(purchases) if b.kind == "step" and b.value > 0)
    assert colours[rise] == GOOD_COLOUR


@given(st.floats(-1e6, 1e6, allow_nan=False))
def test_a_step_is_good_one_way_for_a_count_and_the_other_for_a_cost(value: float) -> None:
    count, cost = step_colour(value), step_colour(value, lower_is_better=True)
    if value == 0:
        assert count == cost == GOOD_COLOUR
    else:
        assert {count, cost} == {GOOD_COLOUR, BAD_COLOUR}
        assert (count == GOOD_COLOUR) == (value > 0)


def test_the_reports_waterfall_numbers_are_russian() -> None:
    """Bar values in Russian form: plan 50, CPL +10 (the CR's part 0), fact 60; a step of
    1.5 with one decimal: +1,5."""
    bars = _bars(decompose_cpa(DEARER, TWO))
    bars.append(WaterfallBar("x", "step", 1.5, 60.0, 61.5))
    fig = waterfall_figure(bars, "CPA", RU, lower_is_better=True)
    texts = [a.get_text() for a in fig.axes[0].texts]
    plt.close(fig)
    assert texts == ["50", "+10", "0", "60", "+1,5"]
    assert not any("." in x for x in texts)
