"""The Cohorts sheet module: the template (headers, formats, the conditional fills, the chart),
the rows it writes from a cohort table (by hand and as properties), the chart's data, the
published lag curves read back as they were written, a rewrite clearing what the last one
left, the run-rate notes, and the mature age of a curve."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from addin.actions.refresh_cohorts import mature_age
from planning.cohorts import LagCurve, cohort_table, lag_curves
from sheets_sync.workbooks.xlsx import XlsxWorkbook, save_atomic
from workbook_templates import layout as L
from workbook_templates.cohorts_sheet import (
    CHART_COHORTS,
    CHART_COL,
    COHORTS,
    CURVE_FIRST_DAY_ROW,
    CURVES_ROW,
    FILL_MATURING,
    FIRST_ROW,
    HEADER_ROW,
    HEADERS,
    HORIZON,
    NO_DEALS,
    NOTE_SLOTS,
    NOTES_ROW,
    ROW_SLOTS,
    STATUS_ROW,
    WEEKS,
    CohortsReport,
    chart_rows,
    cohort_rows,
    read_curves,
    write_cohorts,
    write_runrate_notes,
)
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook

AS_OF = dt.date(2026, 11, 17)  # a Tuesday
LINES = pd.DataFrame({"channel": ["Search"], "campaign": ["Brand"], "spend p": [1000.0]})


@pytest.fixture
def book(tmp_path: Path) -> Path:
    spec = PlanWorkbookSpec(month=dt.date(2026, 11, 1), lines=LINES)
    return save_atomic(build_plan_workbook(spec), tmp_path / "plan.xlsx")


def day(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


DEALS = pd.DataFrame(
    {
        "channel": ["Search", "Search", "Search", "Meta"],
        "created": [day("2026-11-02"), day("2026-11-04"), day("2026-11-09"), day("2026-11-10")],
        "pp": [day("2026-11-03"), day("2026-11-12"), pd.NaT, day("2026-11-10")],
        "negotiations": [day("2026-11-05"), pd.NaT, pd.NaT, pd.NaT],
        "purchases": [day("2026-11-16"), pd.NaT, pd.NaT, pd.NaT],
        "revenue": [900.0, 0.0, 0.0, 0.0],
    }
)
SPEND = pd.DataFrame(
    {
        "channel": ["Search"] * 2 + ["Meta"],
        "date": [day("2026-11-02"), day("2026-11-09"), day("2026-11-10")],
        "spend": [300.0, 200.0, 80.0],
    }
)


def report(**kwargs: object) -> CohortsReport:
    table = cohort_table(DEALS, AS_OF, spend=SPEND, weeks=WEEKS)
    curves = lag_curves(DEALS, AS_OF, horizon=HORIZON)
    values: dict[str, object] = {
        "as_of": AS_OF,
        "table": table,
        "curves": curves,
        "per_purchase": {"": 900.0, "Search": 900.0},
        "mature_age": {"": 20, "Search": 20, "Meta": None},
        "status": "As of 2026-11-17: 4 deals",
    }
    values.update(kwargs)
    return CohortsReport(**values)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- template


def test_the_template_draws_headers_formats_fills_and_the_chart(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    ws = wb[COHORTS]
    assert wb.sheetnames.index(COHORTS) == wb.sheetnames.index("Attribution") + 1
    assert [c.value for c in ws[HEADER_ROW]][: len(HEADERS)] == list(HEADERS)
    assert ws.cell(row=STATUS_ROW, column=1).value == NO_DEALS

    def fmt(header: str) -> str:
        return str(ws.cell(row=FIRST_ROW, column=HEADERS.index(header) + 1).number_format)

    assert fmt("lead week") == "yyyy-mm-dd"
    assert fmt("spend") == fmt("revenue") == "#,##0"
    assert fmt("PP w3") == fmt("leads") == "#,##0"
    assert fmt("purchases CR") == "0.00%"
    assert fmt("cost per purchase") == "#,##0.00"
    last = FIRST_ROW + ROW_SLOTS - 1
    assert ws.cell(row=last, column=HEADERS.index("PP CR") + 1).number_format == "0.00%"
    rules = [(str(r.sqref), rule) for r in ws.conditional_formatting for rule in r.rules]
    assert {where for where, _ in rules} == {f"A{FIRST_ROW}:AJ{last}"}
    formulas = {rule.formula[0]: rule for _, rule in rules}
    maturing = formulas[f'$AJ{FIRST_ROW}="yes"']
    assert maturing.dxf.fill.fgColor.rgb.endswith(FILL_MATURING.fgColor.rgb[-6:])
    assert f'$A{FIRST_ROW}="Total"' in formulas
    (chart,) = ws._charts
    assert len(chart.series) == CHART_COHORTS
    assert ws.cell(row=CURVES_ROW + 1, column=1).value == "channel"
    assert ws.cell(row=CURVE_FIRST_DAY_ROW + HORIZON, column=1).value == HORIZON
    assert ws.cell(row=NOTES_ROW, column=CHART_COL).value == "Run-rate notes"


# --------------------------------------------------------------------------- rows


def test_the_rows_of_a_small_table_by_hand() -> None:
    """Search, week Nov 2 (Mon): 2 leads (Nov 2, Nov 4). The first reaches PP a day later
    (week 0), negotiations on day 3 (week 0) and a purchase on day 14 (week 2, 900); the
    second PP on day 8 (week 1). 15 days to as-of: weeks 0..2. Spend 300: 150 per PP, 300 per
    purchase. Its youngest lead (Sunday Nov 8) is 9 days old, under the mature age 20.
    Week Nov 9: 1 lead, nothing yet, spend 200; week 0..1. Meta: one lead on Nov 10 with PP the
    same day; no mature age: maturing while its last week since lead is under 7."""
    rows = cohort_rows(report())
    by = {(r[0], r[1]): dict(zip(HEADERS, r, strict=True)) for r in rows}
    s = by[("Search", dt.date(2026, 11, 2))]
    assert (s["leads"], s["spend"]) == (2, 300.0)
    assert [s[f"PP w{k}"] for k in range(WEEKS)] == [1, 2, 2, None, None, None, None, None]
    assert [s[f"negotiations w{k}"] for k in range(3)] == [1, 1, 1]
    assert [s[f"purchases w{k}"] for k in range(3)] == [0, 0, 1]
    assert (s["PP CR"], s["negotiations CR"], s["purchases CR"]) == (1.0, 0.5, 0.5)
    assert (s["revenue"], s["cost per PP"], s["cost per purchase"]) == (900.0, 150.0, 300.0)
    assert (s["youngest lead, days"], s["maturing"]) == (9, "yes")
    later = by[("Search", dt.date(2026, 11, 9))]
    assert (later["leads"], later["spend"], later["PP w0"], later["PP w1"]) == (1, 200.0, 0, 0)
    assert later["cost per PP"] is None  # no PP: no cost per PP
    meta = by[("Meta", dt.date(2026, 11, 9))]
    assert (meta["leads"], meta["PP w0"], meta["maturing"]) == (1, 1, "yes")
    total = by[(L.TOTAL_LABEL, dt.date(2026, 11, 9))]
    assert (total["leads"], total["spend"], total["PP w0"]) == (2, 280.0, 1)
    # the Total first, then channels by leads; every channel has every lead week
    assert [r[0] for r in rows[::WEEKS]] == [L.TOTAL_LABEL, "Search", "Meta"]
    assert len(rows) == 3 * WEEKS
    old = by[("Search", dt.date(2026, 9, 28))]
    assert old["leads"] == 0 and old["PP CR"] is None
    # 50 days: older than the mature age: not maturing
    assert (old["youngest lead, days"], old["maturing"]) == (44, None)


def test_the_chart_block_holds_the_latest_lead_weeks_purchase_cr() -> None:
    rows = chart_rows(report())
    assert rows[0][0] == "week since lead"
    assert rows[0][1:] == [
        f"2026-{m}" for m in ("10-12", "10-19", "10-26", "11-02", "11-09", "11-16")
    ]
    # week Nov 2 (column 4): 0 leads purchased by week 0 and 1, 1 of 2 by week 2
    assert [r[4] for r in rows[1:4]] == [0.0, 0.0, 0.5]
    assert rows[4][4] is None  # week 3 has not come yet
    assert [r[0] for r in rows[1:]] == list(range(WEEKS))


_day = st.integers(0, 70)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["A", "B"]), _day, st.none() | st.integers(0, 30), st.booleans()),
        min_size=1,
        max_size=40,
    )
)
def test_counts_never_fall_over_the_weeks_and_never_pass_the_leads(
    deals: list[tuple[str, int, int | None, bool]],
) -> None:
    start = pd.Timestamp("2026-09-10")
    frame = pd.DataFrame(
        {
            "channel": [d[0] for d in deals],
            "created": [start + pd.Timedelta(days=d[1]) for d in deals],
            "pp": [
                start + pd.Timedelta(days=d[1] + d[2]) if d[2] is not None else pd.NaT
                for d in deals
            ],
            "negotiations": pd.NaT,
            "purchases": [
                start + pd.Timedelta(days=d[1] + d[2]) if d[2] is not None and d[3] else pd.NaT
                for d in deals
            ],
            "revenue": 0.0,
        }
    )
    table = cohort_table(frame, AS_OF, weeks=WEEKS)
    rows = cohort_rows(CohortsReport(AS_OF, table, {}))
    for row in rows:
        r = dict(zip(HEADERS, row, strict=True))
        for stage in ("PP", "negotiations", "purchases"):
            seen = [r[f"{stage} w{k}"] for k in range(WEEKS) if r[f"{stage} w{k}"] is not None]
            assert seen == sorted(seen)
            assert all(0 <= v <= r["leads"] for v in seen)
        seen_pp = [r[f"PP w{k}"] for k in range(WEEKS)]
        seen_bought = [r[f"purchases w{k}"] for k in range(WEEKS)]
        assert all(b <= p for p, b in zip(seen_pp, seen_bought, strict=True) if b is not None)
    # the Total's leads per week are the channels' summed
    weeks: dict[object, int] = {}
    for row in rows:
        if row[0] != L.TOTAL_LABEL:
            weeks[row[1]] = weeks.get(row[1], 0) + row[2]
    assert {row[1]: row[2] for row in rows if row[0] == L.TOTAL_LABEL} == weeks


# --------------------------------------------------------------------------- writing, reading


def test_the_published_curves_read_back_as_written(book: Path) -> None:
    rep = report()
    wb = XlsxWorkbook(book)
    assert read_curves(wb).curves == {}  # a fresh template publishes none
    write_cohorts(wb, rep)
    wb.save()
    back = read_curves(XlsxWorkbook(book))
    assert back.as_of == AS_OF
    assert set(back.curves) == {
        k for k in rep.curves if k[1] in ("pp", "negotiations", "purchases")
    }
    for key, curve in back.curves.items():
        mine = rep.curves[key]
        assert (curve.leads, curve.events, curve.enough) == (mine.leads, mine.events, mine.enough)
        assert curve.max_age_observed == mine.max_age_observed
        assert curve.shrink_weight == pytest.approx(mine.shrink_weight, abs=1e-4)
        np.testing.assert_allclose(
            curve.cumulative, mine.share_by(np.arange(HORIZON + 1)), atol=1e-6
        )
    assert back.per_purchase == {"": 900.0, "Search": 900.0}


def test_a_rewrite_without_deals_clears_the_table_and_the_curves(book: Path) -> None:
    wb = XlsxWorkbook(book)
    rows = write_cohorts(wb, report())
    wb.save()
    assert rows == 3 * WEEKS
    wb = XlsxWorkbook(book)
    assert write_cohorts(wb, CohortsReport(AS_OF, None, {})) == 0
    wb.save()
    ws = openpyxl.load_workbook(book)[COHORTS]
    assert ws.cell(row=STATUS_ROW, column=1).value == NO_DEALS
    assert ws.cell(row=FIRST_ROW, column=1).value is None
    assert ws.cell(row=CURVES_ROW + 1, column=2).value is None
    assert ws.cell(row=HEADER_ROW, column=CHART_COL + 1).value is None
    assert read_curves(XlsxWorkbook(book)).curves == {}


def test_the_sheet_is_added_to_an_older_workbook(tmp_path: Path) -> None:
    book = tmp_path / "old.xlsx"
    old = openpyxl.Workbook()
    old.active.title = "Plan"  # type: ignore[union-attr]
    old.save(book)
    wb = XlsxWorkbook(book)
    write_cohorts(wb, report())
    wb.save()
    ws = openpyxl.load_workbook(book)[COHORTS]
    assert ws.cell(row=1, column=1).value == COHORTS
    assert ws.cell(row=FIRST_ROW, column=1).value == L.TOTAL_LABEL


def test_the_run_rate_notes_keep_to_their_slots(book: Path) -> None:
    wb = XlsxWorkbook(book)
    write_runrate_notes(wb, [f"note {i}" for i in range(NOTE_SLOTS + 5)])
    wb.save()
    ws = openpyxl.load_workbook(book)[COHORTS]
    col = [ws.cell(row=NOTES_ROW + k, column=CHART_COL).value for k in range(NOTE_SLOTS + 2)]
    assert col[1] == "note 0" and col[NOTE_SLOTS - 1] == f"note {NOTE_SLOTS - 2}"
    assert col[NOTE_SLOTS] == "… and 6 more"
    assert col[NOTE_SLOTS + 1] is None
    wb = XlsxWorkbook(book)
    write_runrate_notes(wb, ["only one"])
    wb.save()
    ws = openpyxl.load_workbook(book)[COHORTS]
    assert [ws.cell(row=NOTES_ROW + k, column=CHART_COL).value for k in (1, 2)] == [
        "only one",
        None,
    ]


# --------------------------------------------------------------------------- mature age


def curve(values: list[float]) -> LagCurve:
    return LagCurve("X", "purchases", np.array(values), 100, 10, 0.5, 60, True)


def test_the_mature_age_is_where_the_curve_reaches_nine_tenths_of_its_end() -> None:
    # end 0.10: 90% of it is 0.09, first reached at day 4
    assert mature_age(curve([0.0, 0.01, 0.05, 0.08, 0.09, 0.095, 0.10])) == 4
    assert mature_age(curve([0.0, 0.0, 0.0])) is None
    assert mature_age(None) is None
    assert mature_age(curve([0.2, 0.2])) == 0


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.0, 0.2), min_size=1, max_size=30))
def test_the_mature_age_is_the_first_age_past_the_share(steps: list[float]) -> None:
    values = np.cumsum(steps) / max(1.0, float(np.sum(steps)))
    age = mature_age(curve(values.tolist()))
    if values[-1] <= 0:
        assert age is None
        return
    assert age is not None
    assert values[age] >= 0.9 * values[-1] - 1e-12
    assert age == 0 or values[age - 1] < 0.9 * values[-1] - 1e-12
