"""The registry's spreadsheet functions as plain Python: numbers worked by hand, bad input
(blanks, text, error values, mismatched ranges) and vectorised calls equal to per-row calls."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from addin.registry import DIV0, ERRORS, FUNCTIONS, NA, NUM, VALUE

NOV10 = dt.date(2026, 11, 10)  # day 10 of a 30-day month: 20 days left


def call(name: str, *args: Any) -> Any:
    return FUNCTIONS[name].call(*args)


def message(name: str, *args: Any) -> str:
    return FUNCTIONS[name].evaluate(*args).message


def col(*values: Any) -> list[list[Any]]:
    """A column as a spreadsheet range gives it: rows of one cell."""
    return [[v] for v in values]


# --------------------------------------------------------------------------- RUNRATE


def test_runrate_last_n_ten_days_of_100() -> None:
    # mtd 1000 + 20 days left x mean of the last 5 days (100) = 3000
    assert call("RUNRATE", col(*[100] * 10), NOV10) == pytest.approx(3000)
    assert call("RUNRATE", col(*[100] * 10), NOV10, 5, "last_n") == pytest.approx(3000)


def test_runrate_window_and_linear_by_hand() -> None:
    values = col(*[10] * 7, 40, 40, 40)  # mtd 190
    # last_n window 3: rate 40 -> 190 + 20 * 40 = 990
    assert call("RUNRATE", values, NOV10, 3) == pytest.approx(990)
    # window 5: rate (10+10+40+40+40)/5 = 28 -> 190 + 560 = 750
    assert call("RUNRATE", values, NOV10, 5) == pytest.approx(750)
    # linear: 190 / 10 * 30 = 570
    assert call("RUNRATE", values, NOV10, 5, "linear") == pytest.approx(570)


def test_runrate_blank_days_are_zero_and_days_after_as_of_are_ignored() -> None:
    # a whole month's column filled up to as-of: blanks and error values after it are ignored
    month = [100] * 10 + [None] * 15 + [NA] * 5
    assert call("RUNRATE", col(*month), NOV10) == pytest.approx(3000)
    # a blank day inside the month is a day of 0: mtd 900, last 5 days mean 80 -> 900 + 1600
    assert call("RUNRATE", col(*[100] * 9, None), NOV10) == pytest.approx(2500)


def test_runrate_with_dates_in_any_order() -> None:
    days = [dt.date(2026, 11, d) for d in range(10, 0, -1)]
    assert call("RUNRATE", col(*[100] * 10), NOV10, 5, "last_n", col(*days)) == pytest.approx(3000)
    # dates as ISO text and Excel serial numbers (46336 is 2026-11-10)
    assert call("RUNRATE", [100], NOV10, 1, "last_n", ["2026-11-10"]) == pytest.approx(100 + 2000)
    assert call("RUNRATE", [100], 46336.0, 1, "last_n", [46336.0]) == pytest.approx(2100)


def test_runrate_last_n_dow_forecasts_a_weekly_pattern_exactly() -> None:
    # weekdays 100, weekends 0 for all of November 2026: the forecast is the month's total
    nov = [dt.date(2026, 11, d) for d in range(1, 31)]
    values = [0.0 if d.weekday() >= 5 else 100.0 for d in nov]
    history = [dt.date(2026, 10, d) for d in range(1, 32)]
    hist_values = [0.0 if d.weekday() >= 5 else 100.0 for d in history]
    as_of = dt.date(2026, 11, 17)
    got = call("RUNRATE", col(*hist_values, *values), as_of, 7, "last_n_dow", col(*history, *nov))
    assert got == pytest.approx(sum(values))


@pytest.mark.parametrize(
    ("args", "error", "says"),
    [
        ((col(100, "abc"), NOV10), VALUE, "row 2 of `values`: 'abc' is text"),
        ((col(100, NA), NOV10), NA, "row 2 of `values`"),
        ((col(100, True), NOV10), VALUE, "not a number"),
        ((col(None, None), NOV10), NA, "no daily value"),
        ((col(None, None, 5), dt.date(2026, 11, 2)), NA, "no daily value"),
        ((col(100, 100), None), NA, "`as_of` is blank"),
        ((col(100, 100), "soon"), VALUE, "is not a date"),
        ((col(100, 100), NOV10, 0), NUM, "`window`"),
        ((col(100, 100), NOV10, 2.5), NUM, "`window`"),
        ((col(100, 100), NOV10, "five"), VALUE, "`window`"),
        ((col(100, 100), NOV10, 5, "median"), VALUE, "`method` must be one of"),
        ((col(100, 100), NOV10, 5, "last_n", col(NOV10)), VALUE, "one date per value"),
        ((col(100, 100), NOV10, 5, "last_n", col(NOV10, "x")), VALUE, "not a date"),
        ((col(100, 100), NOV10, 5, "last_n", col(NOV10, None)), NA, "row 2 of `dates` is blank"),
        ((col(100), col(NOV10, NOV10)), VALUE, "single cell"),
    ],
)
def test_runrate_bad_input(args: tuple[Any, ...], error: str, says: str) -> None:
    result = FUNCTIONS["RUNRATE"].evaluate(*args)
    assert result.value == error
    assert says in result.message


def test_runrate_cost_is_forecast_spend_over_forecast_count() -> None:
    # spend: 10 days of 100 -> 3000; leads: 10 days of 4 -> 120; CPA 25 (not the mean daily CPA)
    assert call("RUNRATE_COST", col(*[100] * 10), col(*[4] * 10), NOV10) == pytest.approx(25)
    spend = col(*[100] * 5, *[300] * 5)  # linear: 2000 / 10 * 30 = 6000
    leads = col(*[10] * 5, *[10] * 5)  # linear: 300
    assert call("RUNRATE_COST", spend, leads, NOV10, 5, "linear") == pytest.approx(20)


def test_runrate_cost_bad_input() -> None:
    assert call("RUNRATE_COST", col(*[100] * 10), col(*[0] * 10), NOV10) == DIV0
    assert "count's forecast is 0" in message(
        "RUNRATE_COST", col(*[100] * 10), col(*[0] * 10), NOV10
    )
    assert call("RUNRATE_COST", col(100, 100), col(1), NOV10) == VALUE
    assert "`counts` has 1" in message("RUNRATE_COST", col(100, 100), col(1), NOV10)
    assert call("RUNRATE_COST", col(100, "x"), col(1, 1), NOV10) == VALUE


# --------------------------------------------------------------------------- ratios


def test_plan_pct_cr_cpa_by_hand() -> None:
    assert call("PLAN_PCT", 910, 1000) == pytest.approx(0.91)
    assert call("CR", 50, 1000) == pytest.approx(0.05)
    assert call("CPA", 30000, 60) == pytest.approx(500)
    assert call("CPA", col(100, 300), col(4, 10)) == pytest.approx([25, 30])
    assert call("CR", col(5, 10, 15), 100) == pytest.approx([0.05, 0.10, 0.15])  # cell repeated


def test_pace_by_hand() -> None:
    # (3000 - 1000) / 20 days left = 100 per day
    assert call("PACE", 3000, 1000, NOV10) == pytest.approx(100)
    assert call("PACE", 3000, 3500, NOV10) == pytest.approx(-25)  # ahead of plan
    assert call("PACE", 3000, 1000, dt.date(2026, 11, 30)) == DIV0  # no day left
    feb = dt.date(2026, 2, 14)  # 14 days left in February 2026
    assert call("PACE", col(1400, 2800), col(0, 0), feb) == pytest.approx([100, 200])


@pytest.mark.parametrize("name", ["PLAN_PCT", "CR", "CPA"])
def test_ratio_bad_rows_get_their_own_error(name: str) -> None:
    num = col(10, 10, None, "abc", 10, NA, 10, math.inf, "x")
    den = col(5, 0, 5, 5, None, 5, "#REF!", 5, None)
    assert call(name, num, den) == [2.0, DIV0, NA, VALUE, NA, NA, "#REF!", NUM, NA]


@pytest.mark.parametrize("name", ["PLAN_PCT", "CR", "CPA"])
def test_ratio_single_cells(name: str) -> None:
    assert call(name, 10, 0) == DIV0
    assert "is 0" in message(name, 10, 0)
    assert call(name, None, 5) == NA
    assert call(name, "ten", 5) == VALUE
    assert call(name, True, 5) == VALUE
    assert call(name, 10, "#N/A") == NA
    assert call(name, [[10]], [[4]]) == pytest.approx(2.5)  # a 1x1 range is a single value


@pytest.mark.parametrize("name", ["PLAN_PCT", "CR", "CPA"])
def test_mismatched_range_sizes_are_value_with_a_message(name: str) -> None:
    result = FUNCTIONS[name].evaluate(col(1, 2, 3), col(1, 2))
    assert result.value == VALUE
    assert "different sizes" in result.message
    assert "has 3" in result.message and "has 2" in result.message


def test_pace_bad_input() -> None:
    assert call("PACE", 3000, 1000, None) == NA
    assert call("PACE", 3000, 1000, "tomorrow") == VALUE
    assert call("PACE", col(1, 2), col(1, 2, 3), NOV10) == VALUE
    assert call("PACE", col(3000, None), col(1000, 1000), NOV10) == [pytest.approx(100), NA]


# --------------------------------------------------------------------------- funnel plans

CRS = [0.1, 0.5, 0.4, 0.5, 0.5]  # leads/traffic, calls/leads, pp/calls, negotiations/pp, ...


def test_funnel_plan_by_hand() -> None:
    # 100 000 / 50 = 2000 clicks -> 200 leads -> 100 calls -> 40 PP -> 20 negotiations -> 10
    rows = call("FUNNEL_PLAN", 100_000, 50, col(*CRS))
    assert rows == [
        pytest.approx([2000, 50]),
        pytest.approx([200, 500]),
        pytest.approx([100, 1000]),
        pytest.approx([40, 2500]),
        pytest.approx([20, 5000]),
        pytest.approx([10, 10000]),
    ]
    # any number of stages: 2 CRs -> 3 stages
    assert call("FUNNEL_PLAN", 1000, 10, [0.5, 0.2]) == [
        pytest.approx([100, 10]),
        pytest.approx([50, 20]),
        pytest.approx([10, 100]),
    ]


def test_funnel_plan_bad_input() -> None:
    assert call("FUNNEL_PLAN", 1000, 10, [0.5, 0.0]) == [
        pytest.approx([100, 10]),
        pytest.approx([50, 20]),
        [0.0, DIV0],
    ]
    assert call("FUNNEL_PLAN", None, 10, CRS) == NA
    assert call("FUNNEL_PLAN", "a lot", 10, CRS) == VALUE
    assert call("FUNNEL_PLAN", 1000, 10, [0.5, None]) == NA
    assert call("FUNNEL_PLAN", 1000, 10, [0.5, "x"]) == VALUE
    negative = call("FUNNEL_PLAN", -1, 10, CRS)  # planning's sentence, readable in the cell
    assert negative == [["`budget` must be >= 0, got -1.0"]]
    assert "> 0" in call("FUNNEL_PLAN", 1000, 0, CRS)[0][0]


def test_budget_for_by_hand() -> None:
    # 10 purchases / (0.1 * 0.5 * 0.4 * 0.5 * 0.5) = 2000 clicks x 50 = 100 000
    assert call("BUDGET_FOR", 10, col(*CRS), 50) == pytest.approx(100_000)
    assert call("BUDGET_FOR", col(10, 20, 0), col(*CRS), 50) == pytest.approx([1e5, 2e5, 0])
    assert call("BUDGET_FOR", col(10, 10), CRS, col(50, 25)) == pytest.approx([1e5, 5e4])


def test_budget_for_bad_input() -> None:
    assert call("BUDGET_FOR", 10, [0.1, 0.0], 50) == DIV0
    assert "unreachable" in message("BUDGET_FOR", 10, [0.1, 0.0], 50) or "CR is 0" in message(
        "BUDGET_FOR", 10, [0.1, 0.0], 50
    )
    assert call("BUDGET_FOR", 0, [0.1, 0.0], 50) == 0
    assert call("BUDGET_FOR", -5, CRS, 50) == NUM
    assert call("BUDGET_FOR", 10, CRS, 0) == NUM
    assert call("BUDGET_FOR", col(10, None, "x"), CRS, 50) == [pytest.approx(1e5), NA, VALUE]
    assert call("BUDGET_FOR", col(1, 2, 3), CRS, col(1, 2)) == VALUE
    assert call("BUDGET_FOR", 10, [0.1, None], 50) == NA


# --------------------------------------------------------------------------- curves


def test_response_by_hand() -> None:
    # hill vmax 100, k 1000, slope 1: at spend k it gives half of vmax
    assert call("RESPONSE", "hill", [100, 1000, 1], 1000) == pytest.approx(50)
    assert call("RESPONSE", "Hill ", col(100, 1000, 1), col(0, 1000, 3000)) == pytest.approx(
        [0, 50, 75]
    )
    assert call("RESPONSE", "power", [2, 0.5], 100) == pytest.approx(20)
    # saturating vmax 100, k 1000: 100 * 3000 / (1000 + 3000) = 75
    assert call("RESPONSE", "saturating", [100, 1000], 3000) == pytest.approx(75)
    assert "takes 2 parameters (vmax, k)" in message("RESPONSE", "saturating", [1, 2, 3], 10)
    assert call("RESPONSE", "negexp", [10, 100], 100) == pytest.approx(10 * (1 - math.exp(-1)))
    assert call("RESPONSE", "linear", [50, 10], col(100, 1000)) == pytest.approx([2, 10])
    # flat beyond max_spend
    assert call("RESPONSE", "linear", [50, 100], 1000, 500) == pytest.approx(10)


def test_response_bad_input() -> None:
    assert call("RESPONSE", "sigmoid", [1, 2], 10) == VALUE
    assert "must be one of" in message("RESPONSE", "sigmoid", [1, 2], 10)
    assert call("RESPONSE", "hill", [100, 1000], 10) == VALUE
    assert "takes 3 parameters" in message("RESPONSE", "hill", [100, 1000], 10)
    assert call("RESPONSE", "hill", [100, -1, 1], 10) == NUM
    assert call("RESPONSE", "hill", [100, "k", 1], 10) == VALUE
    assert call("RESPONSE", "hill", [100, 1000, 1], col(-1, None, "x", 1000)) == [
        NUM,
        NA,
        VALUE,
        pytest.approx(50),
    ]
    assert call("RESPONSE", None, [1, 2], 10) == NA


CURVES = [["hill", 100, 1000, 1], ["negexp", 50, 200, None]]


def test_optimize_split_table() -> None:
    # max 200 each: limits given, so the ±50% default of channels without min/max stays off
    wide = col(200, 200)
    rows = call("OPTIMIZE_SPLIT", col("Meta", "Search"), col(100, 100), 200, CURVES, None, wide)
    assert rows[0] == ["channel", "current", "proposed", "change", "conversions", "marginal CPA"]
    assert [r[0] for r in rows[1:]] == ["Meta", "Search", "total"]
    meta, search, total = rows[1:]
    assert meta[2] + search[2] == pytest.approx(200)
    assert total[2] == pytest.approx(200) and total[3] == pytest.approx(0)
    # the optimum equalises marginal CPAs (up to the split's rounding to cents, as the button's)
    assert meta[5] == pytest.approx(search[5], rel=1e-4)
    # expected conversions are the curves' responses at the proposal
    assert meta[4] == pytest.approx(100 * meta[2] / (1000 + meta[2]))
    # bounds: Meta at least 150
    rows = call("OPTIMIZE_SPLIT", col("Meta", "Search"), col(100, 100), 200, CURVES, col(150, 0))
    assert rows[1][2] >= 150 - 1e-9


def test_optimize_split_from_history() -> None:
    start = dt.date(2026, 10, 1)
    history: list[list[Any]] = [["date", "channel", "spend", "conversions"]]
    for d in range(28):
        day = start + dt.timedelta(days=d)
        for name, cpa in (("Meta", 50.0), ("Search", 100.0)):
            spend = 500.0 + 400.0 * ((d * 7) % 5)
            history.append([day, name, spend, 100 * spend / (1000 + spend) * 50 / cpa])
    rows = call(
        "OPTIMIZE_SPLIT", col("Meta", "Search"), col(1000, 1000), 2000, None, None, None, history
    )
    assert [r[0] for r in rows] == ["channel", "Meta", "Search", "total"]
    assert rows[-1][2] == pytest.approx(2000)
    assert rows[1][2] > rows[2][2]  # the cheaper channel gets more


def test_optimize_split_bad_input() -> None:
    f = FUNCTIONS["OPTIMIZE_SPLIT"]
    wide = col(1000, 1000)  # limits given: no ±50% default
    infeasible = f.call(col("Meta", "Search"), col(100, 100), 200, CURVES, col(300, 0), wide)
    assert infeasible == [["minimum spends add up to 300, above the budget 200 by 100"]]
    assert f.call(col("Meta", "Search"), col(100), 200, CURVES)[-1][1] == 200  # repeated
    assert f.call(col("Meta", "Search"), col(100, 100, 100), 200, CURVES) == VALUE
    assert f.call(col("Meta", None), col(100, 100), 200, CURVES) == NA
    assert f.call(col("Meta", "Meta"), col(100, 100), 200, CURVES) == VALUE
    assert f.call(col("Meta", "Search"), col(100, "x"), 200, CURVES) == VALUE
    assert f.call(col("Meta", "Search"), col(100, None), 200, CURVES) == NA
    assert f.call(col("Meta", "Search"), col(100, 100), 200) == NA
    assert "give `curves`" in f.evaluate(col("Meta", "Search"), col(100, 100), 200).message
    assert f.call(col("Meta", "Search"), col(100, 100), 200, CURVES[:1]) == VALUE
    assert f.call(col("Meta", "Search"), col(100, 100), None, CURVES) == NA
    bad_form = [["hill", 100, 1000, 1], ["cubic", 1, 2, None]]
    assert f.call(col("Meta", "Search"), col(100, 100), 200, bad_form) == VALUE
    assert (
        "channel 'Search'"
        in f.evaluate(col("Meta", "Search"), col(100, 100), 200, bad_form).message
    )


# --------------------------------------------------------------------------- vectorised = per row

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
cell = st.one_of(finite, st.just(0.0), st.none(), st.sampled_from(["abc", "", NA, "#REF!", True]))


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(["PLAN_PCT", "CR", "CPA"]),
    rows=st.lists(st.tuples(cell, cell), min_size=1, max_size=12),
)
def test_ratio_vectorised_equals_per_row(name: str, rows: list[tuple[Any, Any]]) -> None:
    whole = call(name, col(*[a for a, _ in rows]), col(*[b for _, b in rows]))
    single = [call(name, a, b) for a, b in rows]
    if len(rows) == 1:
        whole = [whole]
    assert whole == single


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(cell, cell, st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31))),
        min_size=2,
        max_size=10,
    )
)
def test_pace_vectorised_equals_per_row(rows: list[tuple[Any, Any, dt.date]]) -> None:
    plan, mtd, days = (col(*c) for c in zip(*rows, strict=True))
    assert call("PACE", plan, mtd, days) == [call("PACE", *r) for r in rows]


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(
    targets=st.lists(st.one_of(st.floats(0, 1e5), st.none(), st.just("x")), min_size=2, max_size=8),
    crs=st.lists(st.floats(0, 2), min_size=1, max_size=6),
    cpc=st.floats(0.01, 500),
)
def test_budget_for_vectorised_equals_per_row(
    targets: list[Any], crs: list[float], cpc: float
) -> None:
    assert call("BUDGET_FOR", col(*targets), col(*crs), cpc) == [
        call("BUDGET_FOR", t, col(*crs), cpc) for t in targets
    ]


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(
    form=st.sampled_from(["hill", "saturating", "power", "negexp", "linear"]),
    spend=st.lists(st.one_of(st.floats(-10, 1e5), st.none()), min_size=2, max_size=8),
)
def test_response_vectorised_equals_per_row(form: str, spend: list[Any]) -> None:
    params = {"hill": [100, 1000, 1.5], "power": [2, 0.5], "negexp": [10, 100], "linear": [5, 9]}
    params["saturating"] = [100, 1000]
    assert call("RESPONSE", form, params[form], col(*spend)) == [
        call("RESPONSE", form, params[form], s) for s in spend
    ]


# --------------------------------------------------------------------------- never a traceback

anything = st.one_of(
    cell,
    st.text(max_size=5),
    st.dates(dt.date(2000, 1, 1), dt.date(2040, 1, 1)),
    st.lists(st.lists(cell, min_size=1, max_size=3), min_size=1, max_size=4),
    st.floats(),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(name=st.sampled_from(sorted(FUNCTIONS)), args=st.lists(anything, max_size=9))
def test_any_input_gives_a_value_or_an_error_value_never_an_exception(
    name: str, args: list[Any]
) -> None:
    value, reason = FUNCTIONS[name].evaluate(*args)
    assert "Traceback" not in reason
    if isinstance(value, str) and value.startswith("#"):
        assert value in ERRORS or value == "#REF!"
        assert reason  # every whole-call error value says why


# --------------------------------------------------------------------------- batched rows (by_rows)

day_value = st.one_of(
    st.floats(-50, 1000, allow_nan=False).map(lambda x: round(x, 2)),
    st.floats(0, 1e6, allow_nan=False),
    st.just(0.0),
    st.none(),
    st.sampled_from(["", "abc", NA, "#REF!", True, math.inf]),
)
clean_value = st.floats(0, 1000, allow_nan=False).map(lambda x: round(x, 2))
as_of_day = st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31))


def _same(evaluations: list[Any]) -> list[Any]:
    """Evaluations comparable with ==: nan as a marker (a nan forecast shows #NUM!)."""
    return [
        ("nan" if isinstance(v, float) and math.isnan(v) else v, reason)
        for v, reason in evaluations
    ]


@st.composite
def runrate_rows(draw: st.DrawFn, metrics: int) -> list[list[Any]]:
    """Argument lists of RUNRATE (metrics=1) or RUNRATE_COST (2), one per line, as the server
    gives them by row: mostly clean lines, some with blanks, text, error values and bad options."""
    days = draw(st.integers(1, 40))
    shared_as_of = draw(as_of_day)
    window = draw(st.sampled_from([5, 5, 1, 3, 7, 10.0, 0, 2.5, None]))
    method = draw(st.sampled_from(["last_n", "last_n_dow", "linear", None, "bogus"]))
    dates: list[list[Any]] | None = None
    if draw(st.booleans()):  # a date header shared by every line, maybe reaching back months
        first = shared_as_of - dt.timedelta(days=draw(st.integers(0, 70)))
        header: list[Any] = [first + dt.timedelta(days=i) for i in range(days)]
        if draw(st.integers(0, 4)) == 0:
            header[draw(st.integers(0, days - 1))] = draw(st.sampled_from([None, "x", NA]))
        dates = [header]
    rows = []
    for _ in range(draw(st.integers(1, 12))):
        values = draw(st.sampled_from([clean_value, clean_value, day_value]))
        line = [[draw(values) for _ in range(days)] for _ in range(metrics)]
        if draw(st.integers(0, 6)) == 0:  # a blank line
            line[0] = [None] * days
        as_of: Any = shared_as_of
        if draw(st.integers(0, 5)) == 0:
            as_of = draw(st.sampled_from([None, "abc", NA, draw(as_of_day).isoformat()]))
        rows.append(
            [*[[cells] for cells in line], as_of, window, method, *([dates] if dates else [])]
        )
    return rows


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(rows=runrate_rows(1))
def test_runrate_by_rows_equals_per_row(rows: list[list[Any]]) -> None:
    fn = FUNCTIONS["RUNRATE"]
    assert fn.by_rows is not None
    assert _same(fn.evaluate_rows(rows)) == _same([fn.evaluate(*row) for row in rows])


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(rows=runrate_rows(2))
def test_runrate_cost_by_rows_equals_per_row(rows: list[list[Any]]) -> None:
    fn = FUNCTIONS["RUNRATE_COST"]
    assert fn.by_rows is not None
    assert _same(fn.evaluate_rows(rows)) == _same([fn.evaluate(*row) for row in rows])


def test_runrate_by_rows_is_one_vectorised_forecast(monkeypatch: pytest.MonkeyPatch) -> None:
    from addin.formulas import runrate as functions

    def per_line(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a usable line was forecast on its own")

    fn = FUNCTIONS["RUNRATE"]
    rows: list[list[Any]] = [[[[10.0 * i + d for d in range(17)]], "2026-11-17"] for i in range(50)]
    expected = [fn.evaluate(*row) for row in rows]
    monkeypatch.setattr(functions, "forecast_series", per_line)
    assert fn.evaluate_rows(rows) == expected
    assert [v for v, _ in expected[:2]] == [136 + 13 * 14.0, 170 + 136 + 13 * 24.0]
    bad = [[["abc", *range(16)]], "2026-11-17"]  # a bad line gets its error value and reason
    assert fn.evaluate_rows([*rows, bad])[-1] == (
        VALUE,
        "row 1 of `values`: 'abc' is text, not a number",
    )
