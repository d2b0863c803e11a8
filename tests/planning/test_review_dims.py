"""The Review's results by city and product (planning.review_dims): a case worked by hand, and
properties (the rows sum to the total, which is the Plan's facts; ratios and shares come from
the rows' sums; a blank is never 0)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.drill import drill
from planning.funnel import DEFAULT_FUNNEL as FUNNEL
from planning.review import ReviewRules
from planning.review_dims import OTHER, DimReview, DimRow, dim_metrics, review_dimension

METRICS = dim_metrics(FUNNEL)  # spend, leads, purchases, revenue
LINES = pd.DataFrame({"channel": ["Yandex", "VK"], "campaign": ["Brand", ""]})


def _fact(line: int, metric: str, value: float, city: str = "") -> dict[str, object]:
    return {
        "line": line,
        "metric": metric,
        "value": value,
        "channel": "" if line < 0 else LINES.at[line, "channel"],
        "campaign": "" if line < 0 else LINES.at[line, "campaign"],
        "segment": "",
        "creative": "",
        "city": city,
        "product": "",
    }


NOW = pd.DataFrame(
    [
        _fact(0, "spend", 900.0),  # the ad exports: no city
        _fact(1, "spend", 300.0),
        _fact(0, "leads", 30.0, "Москва"),  # the CRM: a city
        _fact(1, "leads", 10.0, "Москва"),
        _fact(0, "purchases", 12.0, "Москва"),
        _fact(0, "revenue", 60_000.0, "Москва"),
        _fact(0, "leads", 20.0, "Казань"),
        _fact(0, "purchases", 8.0, "Казань"),
        _fact(1, "leads", 10.0),  # a lead with no city
        _fact(-1, "leads", 99.0, "Москва"),  # no plan line took it: not in the Plan's facts
    ]
)
LAST = pd.DataFrame(
    [
        _fact(0, "spend", 1000.0),
        _fact(0, "leads", 50.0, "Москва"),
        _fact(0, "purchases", 10.0, "Москва"),
        _fact(0, "revenue", 40_000.0, "Москва"),
        _fact(0, "leads", 20.0, "Казань"),
        _fact(0, "purchases", 10.0, "Казань"),
        _fact(0, "leads", 5.0),
        _fact(0, "purchases", 2.0),
    ]
)


def _review(now: pd.DataFrame, last: pd.DataFrame | None, **kw: object) -> DimReview:
    d_now = drill(now, LINES, "city", metrics=METRICS)
    d_last = None if last is None else drill(last, LINES, "city", metrics=METRICS)
    return review_dimension(d_now, FUNNEL, ReviewRules(min_count=5), d_last, **kw)  # type: ignore[arg-type]


def _row(review: DimReview, key: str) -> DimRow:
    return next(r for r in review.rows if r.key == key)


def test_by_hand() -> None:
    r = _review(NOW, LAST)
    # the biggest by leads first (Москва 40, Казань 20), the facts with no city last
    assert [x.key for x in r.rows] == ["Москва", "Казань", ""]
    moscow, kazan, blank = (_row(r, k) for k in ("Москва", "Казань", ""))
    # the total is the Plan's facts: spend 900 + 300 = 1200, leads 30 + 10 + 20 + 10 = 70 (the
    # 99 leads on no plan line left out), purchases 12 + 8 = 20, revenue 60 000
    assert dict(r.total.kpis) == pytest.approx(
        {
            "spend": 1200.0,
            "leads": 70.0,
            "outcome": 20.0,
            "revenue": 60_000.0,
            "cpl": 1200 / 70,  # 17.14
            "cpa": 1200 / 20,  # 60
            "romi": (60_000 - 1200) / 1200,  # 49
        }
    )
    # no spend by city: blank (NaN), never 0, and so no CPL, CPA or ROMI
    assert math.isnan(moscow.kpis["spend"]) and math.isnan(moscow.kpis["cpl"])
    assert math.isnan(moscow.kpis["romi"])
    # the "(no value)" row has the month's whole spend but only 10 of its leads: no ratios
    assert blank.kpis["spend"] == 1200.0 and math.isnan(blank.kpis["cpl"])
    # Казань reported no revenue: blank, and so is its share
    assert math.isnan(kazan.kpis["revenue"]) and math.isnan(kazan.revenue_share)
    # shares: Москва 40 / 70 leads = 0.571, 60 000 / 60 000 revenue = 1
    assert moscow.lead_share == pytest.approx(40 / 70)
    assert moscow.revenue_share == pytest.approx(1.0)
    # against last month: Москва leads 40 / 50 − 1 = −0.2, purchases 12 / 10 − 1 = +0.2,
    # revenue 60 000 / 40 000 − 1 = +0.5; purchases up (12/10 ≥ 1) and no CPA: "achieved"
    assert dict(moscow.change) == pytest.approx({"leads": -0.2, "outcome": 0.2, "revenue": 0.5})
    assert moscow.status == "achieved"
    # Казань: purchases 8 / 10 = 0.8 < 1: missed
    assert kazan.status == "missed" and kazan.change["outcome"] == pytest.approx(-0.2)
    # the blank row: purchases 0 now (none reported: blank) against 2: under min_count 5 on
    # both sides -> too few to judge
    assert math.isnan(blank.kpis["outcome"]) and blank.status == "too few"
    # the total: purchases 20 / 22 < 1, CPA 1200/20 = 60 vs 1000/22 = 45.45: 45.45/60 < 1: missed
    assert r.total.status == "missed"
    assert r.total.last["cpa"] == pytest.approx(1000 / 22)


def test_cpa_decides_mixed_and_no_last_month() -> None:
    """Spend by city (say an export with a region): the CPA is judged too. Москва now: 12
    purchases for 600 (CPA 50); last month 10 for 400 (CPA 40): outcome 12/10 ≥ 1 achieved, CPA
    40/50 = 0.8 < 1 missed -> mixed. Казань had no purchases last month: no last month."""
    now = pd.DataFrame(
        [
            _fact(0, "spend", 600.0, "Москва"),
            _fact(0, "purchases", 12.0, "Москва"),
            _fact(0, "leads", 30.0, "Москва"),
            _fact(0, "spend", 100.0, "Казань"),
            _fact(0, "purchases", 6.0, "Казань"),
        ]
    )
    last = pd.DataFrame([_fact(0, "spend", 400.0, "Москва"), _fact(0, "purchases", 10.0, "Москва")])
    r = _review(now, last)
    moscow = _row(r, "Москва")
    assert moscow.kpis["cpa"] == pytest.approx(50.0) and moscow.last["cpa"] == pytest.approx(40.0)
    assert moscow.kpis["cpl"] == pytest.approx(600 / 30)  # 20: the row's spend over its leads
    assert moscow.status == "mixed"
    assert _row(r, "Казань").status == "no last month"


def test_without_last_month() -> None:
    r = _review(NOW, None)
    assert not r.has_last
    assert all(x.status == "no last month" for x in (*r.rows, r.total))
    assert all(math.isnan(v) for x in r.rows for v in x.change.values())


def test_the_smallest_values_are_summed_into_other() -> None:
    """Three cities with max_rows 2: Москва (40 leads) shown, Казань and Омск (5) summed."""
    now = pd.concat([NOW, pd.DataFrame([_fact(0, "leads", 5.0, "Омск")])], ignore_index=True)
    r = _review(now, LAST, max_rows=2)
    assert [x.key for x in r.rows] == ["Москва", OTHER, ""]
    other = _row(r, OTHER)
    assert other.values == 2 and other.kpis["leads"] == 25.0  # 20 + 5
    assert other.kpis["outcome"] == 8.0  # Казань's; Омск reported none
    assert other.last["leads"] == 20.0  # last month's Казань (Омск had none)


@st.composite
def _facts(draw: st.DrawFn) -> pd.DataFrame:
    cities = ["", "A", "B", "C", "D"]
    n = draw(st.integers(1, 25))
    rows = []
    for _ in range(n):
        metric = draw(st.sampled_from(METRICS))
        value = draw(st.floats(0, 1e6, allow_nan=False, allow_infinity=False))
        city = draw(st.sampled_from(cities))
        rows.append(_fact(draw(st.sampled_from([-1, 0, 1])), metric, value, city))
    return pd.DataFrame(rows)


@settings(max_examples=60, deadline=None)
@given(now=_facts(), last=_facts(), max_rows=st.integers(1, 5))
def test_rows_sum_to_the_total_and_ratios_come_from_sums(
    now: pd.DataFrame, last: pd.DataFrame, max_rows: int
) -> None:
    r = _review(now, last, max_rows=max_rows)
    on_plan = now[now["line"] >= 0]
    for key in ("spend", "leads", "outcome", "revenue"):
        metric = {"leads": "leads", "outcome": "purchases"}.get(key, key)
        want = float(on_plan.loc[on_plan["metric"] == metric, "value"].sum())
        got = [x.kpis[key] for x in r.rows]
        assert math.fsum(v for v in got if not math.isnan(v)) == pytest.approx(want, abs=1e-6)
        if metric in set(on_plan["metric"]):  # reported somewhere: the total has it
            assert r.total.kpis[key] == pytest.approx(want, abs=1e-6)
        else:
            assert math.isnan(r.total.kpis[key])
    keyed = {x.key for x in r.rows if x.key}
    assert len(keyed) <= max_rows
    for x in (*r.rows, r.total):
        k = x.kpis
        if k["leads"] > 0 and not math.isnan(k["cpl"]):
            assert k["cpl"] == pytest.approx(k["spend"] / k["leads"])
        if not math.isnan(x.lead_share):
            assert x.lead_share == pytest.approx(k["leads"] / r.total.kpis["leads"])
    shares = [x.lead_share for x in r.rows if not math.isnan(x.lead_share)]
    if r.total.kpis["leads"] > 0:
        assert math.fsum(shares) == pytest.approx(1.0)
