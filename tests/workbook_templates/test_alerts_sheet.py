"""The Alerts sheet: the template's rules read back as the defaults, its drop-downs and number
checks, a bad cell named by its address and value, duplicate names refused, blank rows
skipped, the incidents block beside the rules (a shorter second write clears the old rows),
and the sheet added to an older workbook."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl import Workbook

from planning.alert_rules import Rule, default_rules, metric_names
from planning.errors import InputError
from sheets_sync.workbooks.xlsx import XlsxWorkbook, save_atomic
from workbook_templates import alerts_sheet as A
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook

MONTH = dt.date(2026, 11, 1)
FIRST = A.RULES_HEADER_ROW + 1  # row 5: the first rule


@pytest.fixture(scope="module")
def plan_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A planning workbook as New Month builds it (its Alerts sheet has the defaults)."""
    path = tmp_path_factory.mktemp("plan") / "plan.xlsx"
    return save_atomic(build_plan_workbook(PlanWorkbookSpec(month=MONTH)), path)


def alerts_book(tmp_path: Path, rules: list[Rule] | None = None) -> Path:
    """A workbook with the Alerts sheet alone, from the template."""
    wb = Workbook()
    default = wb.active
    assert default is not None
    wb.remove(default)
    A.write_alerts_template(wb, rules)
    return save_atomic(wb, tmp_path / "alerts.xlsx")


def edited(path: Path, cells: dict[str, Any]) -> XlsxWorkbook:
    """`path` with `cells` of the Alerts sheet set as a user would type them, reopened."""
    wb = openpyxl.load_workbook(path)
    for ref, value in cells.items():
        wb[A.ALERTS][ref] = value
    wb.save(path)
    return XlsxWorkbook(path)


def refused(book: XlsxWorkbook) -> InputError:
    with pytest.raises(InputError) as info:
        A.read_rules(book)
    return info.value


def test_the_plan_workbook_has_the_default_rules(plan_book: Path) -> None:
    book = XlsxWorkbook(plan_book)
    assert A.ALERTS in book.sheet_names()
    assert A.read_rules(book) == list(default_rules())


def test_the_template_writes_given_rules(tmp_path: Path) -> None:
    rules = [
        Rule(
            "mine",
            "cpa_calls",
            "month",
            1,
            "total",
            "> plan ×",
            1.3,
            2,
            "critical",
            "Anna",
            ("telegram", "mail"),
            False,
        ),
    ]
    assert A.read_rules(XlsxWorkbook(alerts_book(tmp_path, rules))) == rules


def test_the_headers_and_the_rows_as_the_user_sees_them(plan_book: Path) -> None:
    ws = openpyxl.load_workbook(plan_book)[A.ALERTS]
    header = [ws.cell(row=4, column=c).value for c in range(1, 13)]
    assert header == list(A.RULE_HEADERS)
    assert [ws.cell(row=4, column=c).value for c in range(14, 26)] == list(A.INCIDENT_HEADERS)
    assert A.INCIDENTS_COL == 14  # N
    # cpa-leads in row 5: the metric with a space, the condition with its ×, on = yes
    assert [ws.cell(row=5, column=c).value for c in range(1, 13)] == [
        "cpa-leads",
        "cpa leads",
        "day",
        3,
        "channel",
        "> plan ×",
        1.2,
        1,
        "warning",
        None,
        None,
        "yes",
    ]


def test_drop_downs_and_number_checks_on_the_inputs(plan_book: Path) -> None:
    ws = openpyxl.load_workbook(plan_book)[A.ALERTS]
    checks = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    last = A.RULES_HEADER_ROW + A.RULE_ROWS  # 104

    def lists(column: str) -> list[str]:
        dv = checks[f"{column}5:{column}{last}"]
        assert (dv.type, dv.showErrorMessage) == ("list", True)
        return str(dv.formula1).strip('"').split(",")

    assert lists("C") == ["day", "month", "run-rate", "pace", "anomaly"]  # over
    assert lists("E") == ["total", "channel", "line"]  # level
    assert lists("F") == [">", "<", "> plan ×", "< plan ×", "outside"]  # condition
    assert lists("I") == ["info", "warning", "critical"]  # severity
    assert lists("L") == ["yes", "no"]  # on
    # metric: a list read from the hidden column AN, every metric the funnel allows
    metric = checks[f"B5:B{last}"]
    names = metric_names()
    assert (metric.type, metric.formula1) == ("list", f"$AN$1:$AN${len(names)}")
    assert [ws.cell(row=r, column=40).value for r in range(1, len(names) + 1)] == [
        n.replace("_", " ") for n in names
    ]
    assert ws.column_dimensions["AN"].hidden
    # window and days: whole numbers 1..31; threshold: a number
    days = checks[f"D5:D{last} H5:H{last}"]
    assert (days.type, days.operator, days.formula1, days.formula2) == (
        "whole",
        "between",
        "1",
        "31",
    )
    threshold = checks[f"G5:G{last}"]
    assert (threshold.type, threshold.showErrorMessage) == ("decimal", True)


def test_a_bad_level_names_its_cell_and_value(tmp_path: Path) -> None:
    err = refused(edited(alerts_book(tmp_path), {"E7": "region"}))
    assert (err.line, err.column, err.value) == ("Alerts!E7", "level", "region")
    assert "Alerts!E7" in str(err) and "'region'" in str(err)
    assert "total, channel, line" in str(err)


@pytest.mark.parametrize(
    ("cell", "value", "column"),
    [
        ("B6", "clicks", "metric"),  # not a metric (names the allowed ones)
        ("C6", "week", "over"),
        ("D6", 2.5, "window"),  # not whole
        ("D6", 40, "window"),  # over 31
        ("F6", "outside", "condition"),  # outside without anomaly
        ("G6", "abc", "threshold"),
        ("H6", 0, "days"),
        ("I6", "urgent", "severity"),
        ("L6", "maybe", "on"),
        ("A6", None, "rule"),  # a row without a name
    ],
)
def test_every_bad_cell_is_named(tmp_path: Path, cell: str, value: Any, column: str) -> None:
    err = refused(edited(alerts_book(tmp_path), {cell: value}))
    assert err.line == f"Alerts!{cell}"
    assert err.column == column
    if value is not None:
        assert repr(value) in str(err)


def test_an_unknown_metric_lists_the_allowed_ones(tmp_path: Path) -> None:
    err = refused(edited(alerts_book(tmp_path), {"B6": "clicks"}))
    assert "cpa_leads" in str(err) and "freshness" in str(err)


def test_a_ratio_over_pace_is_named_at_over(tmp_path: Path) -> None:
    # row 5 is cpa-leads: pace on a ratio is refused at its `over` cell
    err = refused(edited(alerts_book(tmp_path), {"C5": "pace", "F5": ">"}))
    assert (err.line, err.value) == ("Alerts!C5", "pace")


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    err = refused(edited(alerts_book(tmp_path), {"A9": "cpa-leads"}))
    assert (err.line, err.column, err.value) == ("Alerts!A9", "rule", "cpa-leads")
    assert "row 5" in str(err)


def test_blank_rows_are_skipped_and_blank_cells_take_the_defaults(tmp_path: Path) -> None:
    rules = list(default_rules())[:2]
    cells: dict[str, Any] = {
        # a third rule far below, with only a name and a metric: the defaults for the rest
        "A30": "spend-day",
        "B30": "Spend",
        # typed freely: "> plan x", "No", a threshold with a decimal comma, a list of names
        "A31": "leads-low",
        "B31": "leads",
        "C31": "Month",
        "E31": "Total",
        "F31": "< plan x",
        "G31": "0,9",
        "I31": "Critical",
        "K31": "telegram, mail",
        "L31": "No",
    }
    got = A.read_rules(edited(alerts_book(tmp_path, rules), cells))
    assert got == [
        *rules,
        Rule("spend-day", "spend"),
        Rule(
            "leads-low",
            "leads",
            "month",
            1,
            "total",
            "< plan ×",
            0.9,
            1,
            "critical",
            send_to=("telegram", "mail"),
            enabled=False,
        ),
    ]
    assert got[2] == Rule("spend-day", "spend", "day", 1, "channel", ">", 0.0, 1, "warning")


def test_a_moved_header_is_refused(tmp_path: Path) -> None:
    err = refused(edited(alerts_book(tmp_path), {"C4": "basis"}))
    assert err.line == "Alerts!A4"
    assert "basis" in str(err)


def test_a_workbook_without_the_sheet_reads_none_and_gets_it_added(tmp_path: Path) -> None:
    wb = Workbook()
    path = save_atomic(wb, tmp_path / "old.xlsx")
    book = XlsxWorkbook(path)
    assert A.read_rules(book) is None
    A.write_rules(book, default_rules())
    book.save()
    assert A.read_rules(XlsxWorkbook(path)) == list(default_rules())


def _incidents(path: Path) -> list[list[Any]]:
    ws = openpyxl.load_workbook(path)[A.ALERTS]
    return [
        [ws.cell(row=r, column=c).value for c in range(14, 26)]
        for r in range(A.RULES_HEADER_ROW, A.RULES_HEADER_ROW + 6)
    ]


def row(status: str, rule: str, where: str, value: float) -> list[Any]:
    opened = dt.datetime(2026, 11, 10, 9, 0)
    return [
        status,
        rule,
        where,
        "cpa leads",
        value,
        180.0,
        dt.date(2026, 11, 7),
        opened,
        None,
        "warning",
        "Anna",
        "note",
    ]


def test_incidents_are_written_at_n_and_a_shorter_write_clears_the_rest(tmp_path: Path) -> None:
    path = alerts_book(tmp_path)
    book = XlsxWorkbook(path)
    three = [row("open", "cpa-leads", w, 187.5) for w in ("Search", "Social", "Video")]
    A.write_incidents(book, three)
    book.save()
    got = _incidents(path)
    assert got[0] == list(A.INCIDENT_HEADERS)
    assert [r[:5] for r in got[1:4]] == [
        ["open", "cpa-leads", "Search", "cpa leads", 187.5],
        ["open", "cpa-leads", "Social", "cpa leads", 187.5],
        ["open", "cpa-leads", "Video", "cpa leads", 187.5],
    ]
    assert got[1][6] == dt.datetime(2026, 11, 7)  # since (openpyxl reads dates as datetimes)
    assert got[4] == [None] * 12
    # the rules are untouched
    assert A.read_rules(XlsxWorkbook(path)) == list(default_rules())

    book = XlsxWorkbook(path)
    A.write_incidents(book, [row("closed", "roas", "Social", 0.5)])
    book.save()
    got = _incidents(path)
    assert got[0] == list(A.INCIDENT_HEADERS)
    assert got[1][:3] == ["closed", "roas", "Social"]
    assert got[2] == [None] * 12 and got[3] == [None] * 12
    # and none at all: only the header stays
    book = XlsxWorkbook(path)
    A.write_incidents(book, [])
    book.save()
    assert _incidents(path)[1] == [None] * 12
    assert A.read_rules(XlsxWorkbook(path)) == list(default_rules())


def test_disabled_rules_round_trip(tmp_path: Path) -> None:
    rules = [dataclasses.replace(r, enabled=False) for r in default_rules()[:3]]
    path = alerts_book(tmp_path, rules)
    ws = openpyxl.load_workbook(path)[A.ALERTS]
    assert [ws.cell(row=r, column=12).value for r in (5, 6, 7)] == ["no", "no", "no"]
    assert A.read_rules(XlsxWorkbook(path)) == rules
