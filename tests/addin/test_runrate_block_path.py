"""RUNRATE / RUNRATE_COST by rows: the block path (plain numbers taken as one numpy array) gives
exactly the per-line results, and plain lines are not coerced cell by cell."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from addin import sheet_function
from addin.functions import FUNCTIONS
from addin.sheet_function import NUM, VALUE, plain_numbers


def _same(evaluations: list[Any]) -> list[Any]:
    """Evaluations comparable with ==: nan as a marker."""
    return [
        ("nan" if isinstance(v, float) and math.isnan(v) else v, reason)
        for v, reason in evaluations
    ]


def test_plain_numbers_takes_flat_lists_and_one_row_ranges_only() -> None:
    assert plain_numbers([1.0, 2, 3.5]) == [1.0, 2, 3.5]
    assert plain_numbers([[1.0, 2]]) == [1.0, 2]
    assert plain_numbers([[1.0], [2.0]]) is None  # a column: the per-cell path
    assert plain_numbers([1.0, True]) is None  # a bool is not a number
    assert plain_numbers([1.0, None]) is None
    assert plain_numbers([1.0, "2"]) is None
    assert plain_numbers([]) is None
    assert plain_numbers([[]]) is None
    assert plain_numbers(5.0) is None
    assert plain_numbers((1.0, 2.0)) is None


def test_plain_lines_are_not_coerced_cell_by_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    fn = FUNCTIONS["RUNRATE"]
    rows: list[list[Any]] = [[[[10.0 * i + d for d in range(17)]], "2026-11-17"] for i in range(40)]
    expected = [fn.evaluate(*row) for row in rows]
    calls = []
    real = sheet_function._number_cell

    def counting(*args: Any) -> Any:
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(sheet_function, "_number_cell", counting)
    assert fn.evaluate_rows(rows) == expected
    # the per-cell path read 40 lines x 17 cells; the block path reads none of them (the one
    # coercion of the shared options reads a representative line's 17 cells once)
    assert len(calls) <= 17
    # line 0: days 0..16, the last 5 average 14, 13 days left: 136 + 13 * 14 = 318
    assert expected[0] == (318.0, "")


def test_a_bad_line_among_plain_ones_keeps_its_value_and_reason() -> None:
    fn = FUNCTIONS["RUNRATE"]
    good: list[list[Any]] = [[[[1.0] * 10], "2026-11-10"] for _ in range(3)]
    rows: list[list[Any]] = [
        *good,
        [[[1.0] * 9 + [math.inf]], "2026-11-10"],
        [[[1.0] * 9 + [math.nan]], "2026-11-10"],
        [[[1.0] * 9 + [10**400]], "2026-11-10"],
        [[[1.0] * 9 + ["x"]], "2026-11-10"],
    ]
    got = fn.evaluate_rows(rows)
    assert got == [fn.evaluate(*row) for row in rows]
    # 10 days of 1 in a 30-day month: 10 + 20 * 1 = 30
    assert [v for v, _ in got[:3]] == [30.0, 30.0, 30.0]
    assert got[3][0] == NUM and "row 10" in got[3][1]
    assert got[5][0] == VALUE
    assert got[6][0] == VALUE and "'x'" in got[6][1]


number = st.one_of(
    st.floats(-50, 1000, allow_nan=False).map(lambda x: round(x, 2)),
    st.integers(-5, 500),
    st.just(0.0),
)
odd = st.sampled_from([None, "", "abc", "#N/A", True, False, math.inf, -math.inf, math.nan])
option = st.sampled_from([5, 5.0, True, 1, 3, None, "7", 2.5, 0])
method = st.sampled_from(["last_n", "last_n_dow", "linear", "auto", None, "bogus", 1.0])


@st.composite
def lines(draw: st.DrawFn, metrics: int) -> list[list[Any]]:
    """Argument lists mixing plain lines (flat or one-row ranges, ints and floats, lengths that
    differ) with odd cells, columns, option values of several types and as-of as text or date."""
    as_of = draw(st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31)))
    rows = []
    for _ in range(draw(st.integers(1, 14))):
        days = draw(st.sampled_from([1, 5, as_of.day, as_of.day + 3, 33]))
        line: list[list[Any]] = [[draw(number) for _ in range(days)] for _ in range(metrics)]
        if draw(st.integers(0, 4)) == 0:
            line[-1][draw(st.integers(0, days - 1))] = draw(odd)
        shaped: list[Any] = []
        for cells in line:
            shape = draw(st.integers(0, 5))
            shaped.append(cells if shape == 0 else [[c] for c in cells] if shape == 1 else [cells])
        day: Any = draw(st.sampled_from([as_of, as_of.isoformat(), as_of.isoformat()]))
        extra = draw(st.sampled_from([[], [draw(option)], [draw(option), draw(method)]]))
        rows.append([*shaped, day, *extra])
    return rows


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(rows=lines(1))
def test_runrate_block_path_equals_single_calls(rows: list[list[Any]]) -> None:
    fn = FUNCTIONS["RUNRATE"]
    assert _same(fn.evaluate_rows(rows)) == _same([fn.evaluate(*row) for row in rows])


@settings(max_examples=120, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(rows=lines(2))
def test_runrate_cost_block_path_equals_single_calls(rows: list[list[Any]]) -> None:
    fn = FUNCTIONS["RUNRATE_COST"]
    assert _same(fn.evaluate_rows(rows)) == _same([fn.evaluate(*row) for row in rows])
