"""The registry itself: its functions' descriptions, argument handling, messages, the
`funnelplan functions` command, and every ribbon action dispatched on the demo workbook (with
the workbook unchanged byte for byte when an action fails)."""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from demo_cache import run_demo

import addin.registry as registry
from addin.cli.main import main
from addin.registry import (
    ACTIONS,
    DIV0,
    ERRORS,
    FUNCTIONS,
    NA,
    VALUE,
    Action,
    ActionContext,
    ActionError,
    Arg,
    SheetFunction,
    dispatch,
)
from sheets_sync.workbooks.xlsx import XlsxWorkbook
from workbook_templates import layout as L
from workbook_templates.split_undo_sheet import read_undo

ELEVEN = [
    "RUNRATE",
    "RUNRATE_COST",
    "PLAN_PCT",
    "PACE",
    "CR",
    "CPA",
    "FUNNEL_PLAN",
    "BUDGET_FOR",
    "RESPONSE",
    "OPTIMIZE_SPLIT",
    "SCENARIO",
]
BUTTONS = [
    ("sync_facts", "Sync Facts"),
    ("refresh_runrate", "Refresh Run-Rate"),
    ("refresh_cohorts", "Refresh Cohorts"),
    ("check_alerts", "Alerts"),
    ("attribution", "Attribution"),
    ("drill", "Drill"),
    ("optimize_split", "Optimize Split"),
    ("apply_split", "Apply Split"),
    ("undo_split", "Undo"),
    ("compare_scenarios", "Compare Scenarios"),
    ("review_month", "Review Month"),
    ("new_month", "New Month"),
]


# --------------------------------------------------------------------------- the functions


def test_the_eleven_functions_are_registered_in_order() -> None:
    assert list(FUNCTIONS) == ELEVEN
    assert all(isinstance(f, SheetFunction) and f.name == name for name, f in FUNCTIONS.items())
    assert ERRORS == ("#VALUE!", "#DIV/0!", "#N/A", "#NUM!")


@pytest.mark.parametrize("name", ELEVEN)
def test_descriptions_fit_the_function_wizard(name: str) -> None:
    f = FUNCTIONS[name]
    assert f.name.isupper() and f.result in ("scalar", "column", "table")
    assert 0 < len(f.help) <= 255 and "\n" not in f.help  # Excel's description limit
    assert f.args and all(isinstance(a, Arg) for a in f.args)
    for a in f.args:
        assert a.kind in ("number", "numbers", "dates", "date", "text", "table", "bool")
        assert 0 < len(a.help) <= 255 and a.name.isidentifier()
    optional = [a.optional for a in f.args]
    assert optional == sorted(optional), "optional arguments come last"
    # the Python callable takes the arguments under the same names, in the same order
    params = list(inspect.signature(f.func).parameters)
    assert params == [a.name for a in f.args]


def test_signature_and_describe() -> None:
    f = FUNCTIONS["RUNRATE"]
    assert f.signature == "RUNRATE(values, as_of, [window], [method], [dates], [leads], [curve])"
    d = f.describe()
    assert d["name"] == "RUNRATE" and d["result"] == "scalar"
    names = ["values", "as_of", "window", "method", "dates", "leads", "curve"]
    assert [a["name"] for a in d["args"]] == names
    assert d["args"][2] == {
        "name": "window",
        "kind": "number",
        "help": f.args[2].help,
        "optional": True,
        "default": 5,
    }


def test_call_cells_shapes() -> None:
    assert FUNCTIONS["CPA"].call_cells(100, 4) == [[25.0]]
    assert FUNCTIONS["CPA"].call_cells([[100], [300]], [[4], [0]]) == [[25.0], [DIV0]]
    table = FUNCTIONS["FUNNEL_PLAN"].call_cells(1000, 10, [0.5])
    assert table == [[100.0, 10.0], [50.0, 20.0]]
    assert FUNCTIONS["FUNNEL_PLAN"].call_cells(None, 10, [0.5]) == [[NA]]


def test_too_many_or_missing_arguments() -> None:
    result = FUNCTIONS["CPA"].evaluate(1, 2, 3)
    assert result.value == VALUE and "at most 2 arguments" in result.message
    result = FUNCTIONS["CPA"].evaluate(1)
    assert result.value == NA and "`count` is blank or missing" in result.message


def test_optional_arguments_take_their_default_when_blank() -> None:
    values = [[100]] * 10
    import datetime as dt

    as_of = dt.date(2026, 11, 10)
    expected = FUNCTIONS["RUNRATE"].call(values, as_of)
    assert FUNCTIONS["RUNRATE"].call(values, as_of, None, "", None) == expected
    assert FUNCTIONS["RUNRATE"].call(values, as_of, [[None]], [[""]]) == expected


def test_a_scalar_argument_given_a_range_is_value() -> None:
    result = FUNCTIONS["FUNNEL_PLAN"].evaluate([[1], [2]], 10, [0.5])
    assert result.value == VALUE and "single cell" in result.message


def test_call_logs_the_reason_and_returns_the_error_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="funnelplan.functions"):
        assert FUNCTIONS["CR"].call([[1], [2], [3]], [[1], [2]]) == VALUE
    assert "CR: the ranges have different sizes" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="funnelplan.functions"):
        assert FUNCTIONS["CR"].call(5, 100) == pytest.approx(0.05)
    assert caplog.text == ""


def test_an_unexpected_exception_becomes_value_not_a_traceback() -> None:
    def boom(x: Any) -> Any:
        raise RuntimeError("kaput")

    f = SheetFunction("BOOM", boom, (Arg("x", "numbers", "x"),), "Fails.", "scalar")
    value, message = f.evaluate(1)
    assert value == VALUE
    assert message == "unexpected error: RuntimeError: kaput"


def test_registry_gathers_the_functions_and_one_module_per_button() -> None:
    import addin.functions as functions

    assert registry.FUNCTIONS is functions.FUNCTIONS
    for action_id, action in registry.ACTIONS.items():
        module = importlib.import_module(f"addin.actions.{action_id}")
        assert module.ACTION is action


# --------------------------------------------------------------------------- the CLI


def test_functions_command_lists_every_function() -> None:
    result = CliRunner().invoke(main, ["functions"])
    assert result.exit_code == 0, result.output
    for f in FUNCTIONS.values():
        assert f.signature in result.output
        assert f.help in result.output
        for a in f.args:
            assert a.help in result.output
    assert "window (number, optional, default 5)" in result.output


def test_functions_command_json() -> None:
    result = CliRunner().invoke(main, ["functions", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [d["name"] for d in data] == ELEVEN
    assert data == json.loads(json.dumps([f.describe() for f in FUNCTIONS.values()]))


# --------------------------------------------------------------------------- actions


def test_the_buttons_in_ribbon_order() -> None:
    assert [(a.id, a.label) for a in ACTIONS.values()] == BUTTONS
    assert all(isinstance(a, Action) and a.help for a in ACTIONS.values())


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo folder (workbook, sync.toml, exports, fact store), built once per module."""
    out = tmp_path_factory.mktemp("demo")
    run_demo(out)
    return out


@pytest.fixture
def book(demo: Path, tmp_path: Path) -> Iterator[Path]:
    """A fresh copy of the demo folder; yields its workbook."""
    folder = tmp_path / "demo"
    shutil.copytree(demo, folder)
    yield folder / "plan-2026-11.xlsx"


def _split_rows(path: Path) -> list[Any]:
    wb = openpyxl.load_workbook(path, data_only=False)
    ws = wb[L.PLAN]
    return [[c.value for c in row] for row in ws.iter_rows(min_row=1, max_row=40)]


def test_every_action_runs_on_the_demo_workbook(book: Path) -> None:
    messages = {}
    for action_id, _ in BUTTONS:
        before = book.read_bytes()
        messages[action_id] = dispatch(action_id, ActionContext.of_file(book))
        changed = book.read_bytes() != before
        # New Month writes a new file; every other button changes the workbook
        assert changed == (action_id != "new_month"), action_id
    assert messages["sync_facts"].startswith("Sync Facts: 28 of 28 plan lines filled (as of 2026")
    assert messages["refresh_runrate"].startswith("Run-rate refreshed as of 2026-11-17")
    assert messages["refresh_runrate"].endswith("; see the Cohorts sheet.")
    assert messages["refresh_cohorts"].startswith("Cohorts refreshed as of 2026-11-17: ")
    assert "leads expected at the proposal" in messages["optimize_split"]
    assert messages["apply_split"].startswith("Apply Split: ")
    assert messages["undo_split"].startswith("Undo: ")
    assert messages["review_month"].startswith("Review Month: ")
    assert messages["new_month"] == (
        "New Month: December 2026 written to plan-2026-12.xlsx (28 lines)."
    )
    assert (book.parent / "plan-2026-12.xlsx").exists()


def test_apply_then_undo_restores_the_plan(book: Path) -> None:
    before = _split_rows(book)
    dispatch("apply_split", ActionContext.of_file(book))
    assert _split_rows(book) != before
    dispatch("undo_split", ActionContext.of_file(book))
    assert _split_rows(book) == before


def _fails_unchanged(
    book: Path, action_id: str, says: str, ctx: ActionContext | None = None
) -> str:
    before = book.read_bytes()
    with pytest.raises(ActionError) as caught:
        dispatch(action_id, ctx if ctx is not None else ActionContext.of_file(book))
    assert says in str(caught.value)
    assert book.read_bytes() == before
    return str(caught.value)


def test_sync_without_a_config_fails_readably(book: Path) -> None:
    (book.parent / "sync.toml").unlink()
    message = _fails_unchanged(book, "sync_facts", "needs its config sync.toml")
    assert "copy your sync.toml next to the workbook" in message


def test_sync_config_named_in_settings(book: Path) -> None:
    (book.parent / "sync.toml").rename(book.parent / "team.toml")
    wb = XlsxWorkbook(book)
    table = wb.read_table(L.SETTINGS, header_row=L.SETTINGS_HEADER_ROW)
    row = table.first_row + len(table.rows)
    wb.write_block(L.SETTINGS, row, table.first_col, [["sync config", "team.toml"]])
    wb.save()
    assert dispatch("sync_facts", ActionContext.of_file(book)).startswith("Sync Facts: 28 of 28")


def test_sync_config_for_another_workbook_fails(book: Path) -> None:
    config = book.parent / "sync.toml"
    config.write_text(
        config.read_text().replace('workbook = "plan-2026-11.xlsx"', 'workbook = "other.xlsx"')
    )
    _fails_unchanged(book, "sync_facts", "syncs other.xlsx, not this workbook")


def test_sync_with_a_missing_export_fails_unchanged(book: Path) -> None:
    for export in (book.parent / "exports").glob("google_ads_*"):
        export.unlink()
    _fails_unchanged(book, "sync_facts", "Sync Facts failed: ")


def test_sync_refuses_a_workbook_open_in_excel(book: Path) -> None:
    (book.parent / f"~${book.name}").write_text("lock")
    _fails_unchanged(book, "sync_facts", "is open in Excel")


@pytest.mark.parametrize("action_id", [a for a, _ in BUTTONS if a != "undo_split"])
def test_every_action_fails_readably_on_a_broken_workbook(book: Path, action_id: str) -> None:
    raw = openpyxl.load_workbook(book)
    ws = raw[L.SETTINGS]
    for row in ws.iter_rows(min_row=L.SETTINGS_HEADER_ROW + 1):
        if str(row[0].value).strip().lower() == L.SETTING_MONTH:
            row[1].value = "someday"
    if action_id == "apply_split":  # Apply Split reads the proposal, not the Settings
        del raw[L.SPLIT]
    raw.save(book)
    message = _fails_unchanged(book, action_id, "failed: ")
    assert "someday" in message or "run Optimize Split first" in message


def test_undo_refuses_a_cell_changed_since_apply(book: Path) -> None:
    dispatch("apply_split", ActionContext.of_file(book))
    records, _ = read_undo(XlsxWorkbook(book))
    first = records[0]
    raw = openpyxl.load_workbook(book)
    raw[first.sheet].cell(first.row, first.col).value = 123456789
    raw.save(book)
    _fails_unchanged(book, "undo_split", "was changed after Apply Split")


def test_undo_with_nothing_to_undo(book: Path) -> None:
    _fails_unchanged(book, "undo_split", "Undo failed: nothing to undo")


def test_new_month_refuses_to_overwrite(book: Path) -> None:
    target = book.parent / "plan-2026-12.xlsx"
    target.write_bytes(b"someone's file")
    _fails_unchanged(book, "new_month", "already exists next to this workbook")
    assert target.read_bytes() == b"someone's file"


def test_an_unexpected_error_mid_action_leaves_the_workbook_unchanged(
    book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import addin.actions.apply_split as split_action

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(split_action, "write_undo", broken)  # after the Plan's cells are staged
    message = _fails_unchanged(book, "apply_split", "Apply Split failed unexpectedly")
    assert "disk on fire" in message and "nothing was changed" in message


@pytest.mark.parametrize("action_id", ["sync_facts", "new_month"])
def test_actions_needing_a_file_say_so(book: Path, action_id: str) -> None:
    unsaved = ActionContext(XlsxWorkbook(book))  # a workbook never saved to a file: no path
    _fails_unchanged(book, action_id, "Save the workbook as a file first", ctx=unsaved)


def test_unknown_button(book: Path) -> None:
    _fails_unchanged(book, "launch_rockets", "Unknown button 'launch_rockets'")
