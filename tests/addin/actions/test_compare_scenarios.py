"""Compare Scenarios on the demo workbook: the seed's two examples, errors per row, one path
with the SCENARIO formula and with planning.scenarios.compare."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from demo_cache import run_demo

from addin.actions.compare_scenarios import compare_scenarios, read_base
from addin.actions.optimize_split import read_history
from addin.cli.main import main
from addin.registry import FUNCTIONS, ActionContext, dispatch
from planning.scenarios import compare
from sheets_sync.workbooks.xlsx import XlsxWorkbook
from workbook_templates.scenarios_sheet import CURRENT, PROPOSAL, SCENARIOS
from workbook_templates.settings_sheet import read_settings

PLUS_20 = "+20% budget"
CONTEXT = "-30% Context, +30% Programmatic"


@pytest.fixture(scope="module")
def demo_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_demo(tmp_path_factory.mktemp("demo") / "demo").workbook


@pytest.fixture
def book(demo_book: Path, tmp_path: Path) -> Path:
    copy = tmp_path / demo_book.name
    copy.write_bytes(demo_book.read_bytes())
    return copy


def _cells(path: Path) -> dict[str, dict[str, Any]]:
    wb = openpyxl.load_workbook(path)
    return {
        ws.title: {
            c.coordinate: c.value for row in ws.iter_rows() for c in row if c.value is not None
        }
        for ws in wb.worksheets
    }


def _type(book: Path, row: int, values: dict[str, Any]) -> None:
    """Type a scenario row on the Scenarios sheet (by header)."""
    wb = openpyxl.load_workbook(book)
    ws = wb[SCENARIOS]
    headers = {}
    for r in range(1, 40):
        labels = [c.value for c in ws[r]]
        if "scenario" in labels and "budget" in labels:
            headers = {v: i + 1 for i, v in enumerate(labels) if v}
            break
    assert headers
    for column, value in values.items():
        ws.cell(row=row, column=headers[column], value=value)
    wb.save(book)


def test_the_seed_examples_equal_planning_scenarios_compare(book: Path) -> None:
    comparison = compare_scenarios(XlsxWorkbook(book))
    names = [r.name for r in comparison.results]
    assert names[:2] == [CURRENT, PROPOSAL]
    assert PLUS_20 in names and CONTEXT in names
    assert comparison.errors == {}
    by_name = {r.name: r for r in comparison.results}
    base = read_base(XlsxWorkbook(book))
    current = base.current
    plus = {c: v * 1.2 for c, v in current.items()}
    context = dict(current)
    for c in context:
        if "Direct" in c:
            context[c] *= 0.7
        if "Programmatic" in c:
            context[c] *= 1.3
    values = dict(base.economics.value_per_lead)
    splits = {CURRENT: current, PLUS_20: plus, CONTEXT: context}
    table = compare(base.fits, splits, values, days=base.days)
    for name in splits:
        result = by_name[name]
        for o in (*result.channels, result.total):
            row = table.loc[o.channel]
            assert o.spend == pytest.approx(row[("spend", name)])
            assert o.leads == pytest.approx(row[("conversions", name)])
            assert (o.leads_low, o.leads_high) == pytest.approx(
                (row[("low", name)], row[("high", name)])
            )
            assert o.cpa == pytest.approx(row[("cpa", name)])
            assert o.romi == pytest.approx(row[("romi", name)])
    # +20% budget brings more leads, at a higher CPA (the curves are concave)
    assert by_name[PLUS_20].total.leads > by_name[CURRENT].total.leads
    assert by_name[PLUS_20].total.cpa > by_name[CURRENT].total.cpa
    assert by_name[CURRENT].total.delta_leads == 0
    assert comparison.best is not None


def test_the_band_widens_outside_the_fitted_range(book: Path) -> None:
    base = read_base(XlsxWorkbook(book))
    channel = next(c for c in base.channels if math.isfinite(base.fits[c].max_observed_spend))
    observed = base.fits[channel].max_observed_spend * base.days
    _type(book, 14, {"scenario": "double", channel: observed * 1.6})
    _type(book, 15, {"scenario": "half", channel: observed * 0.5})
    by_name = {r.name: r for r in compare_scenarios(XlsxWorkbook(book)).results}

    def width(name: str) -> tuple[float, tuple[str, ...]]:
        o = next(o for o in by_name[name].channels if o.channel == channel)
        return (o.leads_high - o.leads_low) / o.leads, o.flags

    (wide, flags), (narrow, none) = width("double"), width("half")
    assert wide > narrow
    assert flags and "extrapolated" in flags[0] and not none


def test_bad_rows_name_the_cell_and_the_others_still_compute(book: Path) -> None:
    base = read_base(XlsxWorkbook(book))
    first = base.channels[0]
    _type(book, 14, {"scenario": "typo", first: "lots"})
    _type(book, 15, {"scenario": PLUS_20, "budget": "+5%"})
    _type(book, 16, {"scenario": "radio", "moves": "10% from Radio to " + first})
    before = _cells(book)
    comparison = dispatch("compare_scenarios", ActionContext.of_file(book))
    assert "3 could not be computed" in comparison
    after = _cells(book)
    assert {s: c for s, c in after.items() if s != SCENARIOS} == {
        s: c for s, c in before.items() if s != SCENARIOS
    }
    statuses = [v for v in after[SCENARIOS].values() if isinstance(v, str) and "error" in v]
    assert any("'lots'" in s and "is not an amount" in s and f"{SCENARIOS}!" in s for s in statuses)
    assert any("already on the sheet" in s for s in statuses)
    assert any("'Radio'" in s for s in statuses)
    names = {v for v in after[SCENARIOS].values() if v in (PLUS_20, CONTEXT, CURRENT)}
    assert names == {PLUS_20, CONTEXT, CURRENT}


def test_the_formula_shares_the_buttons_numbers(book: Path) -> None:
    wb = XlsxWorkbook(book)
    comparison = compare_scenarios(wb)
    history, _ = read_history(wb, read_settings(wb).month)
    base = read_base(wb)
    current = next(r for r in comparison.results if r.name == CURRENT)
    table = [
        [d, c, s, v]
        for d, c, s, v in history[["date", "channel", "spend", "conversions"]].to_numpy()
    ]
    rows = FUNCTIONS["SCENARIO"].call(
        [[c] for c in base.channels],
        [[base.current[c]] for c in base.channels],
        None,
        table,
        None,
        base.days,
    )
    assert rows[0][:3] == ["channel", "spend", "leads"]
    by_channel = {r[0]: r for r in rows[1:]}
    fitted = [o for o in current.channels if base.fits[o.channel].confidence == "high"]
    assert fitted  # the demo's history fits curves: the comparison below is not empty
    for o in fitted:
        assert by_channel[o.channel][2] == pytest.approx(o.leads, rel=1e-9)
    assert by_channel["total"][1] == pytest.approx(current.total.spend)


def test_cli_scenarios_json(book: Path) -> None:
    result = CliRunner().invoke(main, ["scenarios", str(book), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [s["name"] for s in data["scenarios"]][:2] == [CURRENT, PROPOSAL]
    assert data["best"] in [s["name"] for s in data["scenarios"]]
    total = data["scenarios"][0]["total"]
    assert total["cpa"] == pytest.approx(total["spend"] / total["leads"])
