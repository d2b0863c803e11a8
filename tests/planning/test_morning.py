"""The morning numbers (seed 002): the as-of day's volumes against the pace the plan needs that
day, and each channel's CPA and CPA2 against its KPI, worked by hand.

November 2026 (30 days), as of the 10th. Plan: Search (brand 300 leads, generic 300) 90,000
spend, 600 leads, 300 calls; Social 90,000, 900 leads, 300 calls. Facts: one day of the plan
on every day (Search 3,000 spend, 20 leads, 10 calls; Social 3,000, 30, 10) unless changed.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from planning.alerts import AlertInputs
from planning.morning import ChannelDay, Volume, channel_days, volumes
from planning.runrate import forecast_frame

MONTH = dt.date(2026, 11, 1)
AS_OF = dt.date(2026, 11, 10)
METRICS = ("spend", "leads", "calls")
BASE = {
    ("Search", "brand"): (1000.0, 10.0, 5.0),
    ("Search", "generic"): (2000.0, 10.0, 5.0),
    ("Social", "feed"): (3000.0, 30.0, 10.0),
}
PLAN = pd.DataFrame(
    [
        {"channel": c, "campaign": k, **{m: 30 * v for m, v in zip(METRICS, vals, strict=True)}}
        for (c, k), vals in BASE.items()
    ]
)


def nov(day: int) -> dt.date:
    return dt.date(2026, 11, day)


def daily(last: int = 10, **changes: dict[int, float]) -> pd.DataFrame:
    """Baseline facts for days 1..`last`; `changes`: ``social_leads={day: value}`` etc."""
    rows = []
    for d in range(1, last + 1):
        for (c, k), vals in BASE.items():
            row: dict[str, object] = {"date": nov(d), "channel": c, "campaign": k}
            row.update(zip(METRICS, vals, strict=True))
            for name, by_day in changes.items():
                who, metric = name.split("_")
                if who in (c.lower(), k) and d in by_day:
                    row[metric] = by_day[d]
            rows.append(row)
    return pd.DataFrame(rows)


def inputs(facts: pd.DataFrame, as_of: dt.date = AS_OF, plan: pd.DataFrame = PLAN) -> AlertInputs:
    return AlertInputs(MONTH, as_of, plan, facts)


def by_metric(items: list[Volume]) -> dict[str, Volume]:
    return {v.metric: v for v in items}


def test_volume_on_plan_makes_the_needed_pace() -> None:
    # Total leads 50 a day. Before Nov 10: 9 x 50 = 450; days left counting the 10th: 21;
    # needed (1,500 - 450) / 21 = 50: the day's 50 makes it (>=).
    v = by_metric(volumes(inputs(daily()), ("leads", "calls")))
    leads = v["leads"]
    assert (leads.day, leads.fact, leads.plan, leads.mtd) == (AS_OF, 50.0, 1500.0, 500.0)
    assert leads.needed == pytest.approx(50.0)
    assert leads.ok is True
    assert leads.gap == pytest.approx(0.0)
    # calls: 20 a day; (600 - 180) / 21 = 20
    assert v["calls"].needed == pytest.approx(20.0)


def test_volume_behind_plan_needs_more_per_day() -> None:
    # Social 0 leads on Nov 6-10: totals 50 on days 1-5, 20 on 6-10.
    # Before Nov 10: 250 + 4 x 20 = 330; needed (1,500 - 330) / 21 = 55.714; the day: 20.
    facts = daily(social_leads={d: 0.0 for d in range(6, 11)})
    (leads,) = volumes(inputs(facts), ("leads",))
    assert leads.fact == 20.0
    assert leads.needed == pytest.approx(1170 / 21)
    assert leads.mtd == 350.0
    assert leads.ok is False
    assert leads.gap == pytest.approx((20 - 1170 / 21) / (1170 / 21))
    # the run-rate is Refresh Run-Rate's: 350 + 20 days x 20 a day = 750
    assert leads.rr == pytest.approx(750.0)
    fc = forecast_frame(facts, MONTH, AS_OF, [], ["leads"], 5, "last_n")
    assert leads.rr == pytest.approx(float(fc["leads_rr"].iloc[0]))


def test_volume_just_short_of_the_needed_pace_is_not_ok() -> None:
    # Nov 10 brings 49 (Social 29): needed is still 50 (it counts the days before only).
    (leads,) = volumes(inputs(daily(social_leads={10: 29.0})), ("leads",))
    assert (leads.fact, leads.needed, leads.ok) == (49.0, pytest.approx(50.0), False)


def test_a_plan_already_made_needs_0() -> None:
    # Search generic 1,200 leads on Nov 1 (was 10): before Nov 10, 450 + 1,190 = 1,640 > 1,500:
    # (1,500 - 1,640) / 21 < 0 is clamped at 0, and any day is ok.
    (leads,) = volumes(inputs(daily(generic_leads={1: 1200.0})), ("leads",))
    assert leads.needed == 0.0
    assert leads.ok is True


def test_without_a_plan_nothing_is_needed_or_judged() -> None:
    plan = PLAN.drop(columns=["calls"])
    (calls,) = volumes(inputs(daily(), plan=plan), ("calls",))
    assert math.isnan(calls.plan) and math.isnan(calls.needed)
    assert calls.ok is None
    blank = PLAN.assign(calls=math.nan)
    (calls,) = volumes(inputs(daily(), plan=blank), ("calls",))
    assert calls.ok is None


def test_the_month_last_day_needs_the_rest() -> None:
    # Nov 30, one day left counting it: needed = 1,500 - 29 x 50 = 50.
    (leads,) = volumes(inputs(daily(last=30), as_of=nov(30)), ("leads",))
    assert leads.needed == pytest.approx(50.0)
    assert leads.mtd == 1500.0
    assert leads.rr == pytest.approx(1500.0)


def test_a_metric_the_daily_sheet_lacks_is_left_out() -> None:
    assert [v.metric for v in volumes(inputs(daily()), ("leads", "purchases"))] == ["leads"]


def test_channel_days_cpa_and_kpi() -> None:
    # Nov 10: Search brand 6 leads and 4 calls (was 10 and 5): Search 3,000 spend, 16 leads,
    # 9 calls: CPA 3,000 / 16 = 187.5, CPA2 3,000 / 9 = 333.3; KPIs 90,000 / 600 = 150 and
    # 90,000 / 300 = 300. Social 3,000 / 30 = 100 (KPI 100), 3,000 / 10 = 300 (KPI 300).
    facts = daily(brand_leads={10: 6.0}, brand_calls={10: 4.0})
    assert channel_days(inputs(facts)) == [
        ChannelDay("Search", 3000.0, 16.0, 9.0, 187.5, 150.0, 3000 / 9, 300.0),
        ChannelDay("Social", 3000.0, 30.0, 10.0, 100.0, 100.0, 300.0, 300.0),
    ]


def test_channel_cpa_is_from_the_sums_not_the_lines_mean() -> None:
    # Search on Nov 10: brand 1,000 for 1 lead (CPA 1,000), generic 2,000 for 19 (105.3):
    # the channel's CPA is 3,000 / 20 = 150, not their mean 552.6.
    facts = daily(brand_leads={10: 1.0}, generic_leads={10: 19.0})
    search = channel_days(inputs(facts))[0]
    assert search.cpa == pytest.approx(150.0)


def test_channel_days_in_the_plans_order_with_blanks_as_nan() -> None:
    # Video is planned (no calls planned) but has no facts on the day: every fact and CPA NaN,
    # its CPA KPI 30,000 / 100 = 300, the CPA2 KPI NaN. Social with 0 calls: CPA2 NaN.
    plan = pd.concat(
        [
            PLAN,
            pd.DataFrame(
                [{"channel": "Video", "campaign": "pre", "spend": 30_000.0, "leads": 100.0}]
            ),
        ],
        ignore_index=True,
    )
    rows = channel_days(inputs(daily(social_calls={10: 0.0}), plan=plan))
    assert [r.channel for r in rows] == ["Search", "Social", "Video"]
    social, video = rows[1], rows[2]
    assert math.isnan(social.cpa2) and social.cpa2_kpi == 300.0
    assert all(math.isnan(x) for x in (video.spend, video.leads, video.cpa, video.cpa2))
    assert video.cpa_kpi == 300.0
    assert math.isnan(video.cpa2_kpi)


def test_channel_days_of_other_counts() -> None:
    # first = calls, second = leads: CPA = spend / calls
    search = channel_days(inputs(daily()), first="calls", second="leads")[0]
    assert (search.cpa, search.cpa_kpi, search.cpa2, search.cpa2_kpi) == (
        300.0,
        300.0,
        150.0,
        150.0,
    )
