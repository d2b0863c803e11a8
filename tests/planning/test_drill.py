"""The Drill sheet's numbers (planning.drill): a case worked by hand, and properties (the facts
reconcile at every level, the run-rate is shared without loss, ratios come from sums)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.drill import LEVELS, Drill, DrillRow, drill
from planning.errors import InputError

LINES = pd.DataFrame(
    {
        "channel": ["Yandex", "VK", "Yandex"],
        "campaign": ["Brand", "Retarget", "Generic"],
        "spend p": [1000.0, 400.0, 200.0],
        "leads p": [10.0, 5.0, 4.0],
        "spend rr": [1100.0, 300.0, float("nan")],
        "leads rr": [12.0, 6.0, 2.0],
    }
)


def _fact(
    line: int, metric: str, value: float, city: str = "", segment: str = ""
) -> dict[str, object]:
    channel, campaign = ("", "") if line < 0 else LINES.loc[line, ["channel", "campaign"]]
    return {
        "line": line,
        "metric": metric,
        "value": value,
        "channel": channel,
        "campaign": campaign,
        "segment": segment,
        "creative": "",
        "city": city,
        "product": "",
    }


FACTS = pd.DataFrame(
    [
        _fact(0, "spend", 500.0),  # the ad export: no city, no segment
        _fact(0, "leads", 3.0, "Москва", "brand"),
        _fact(0, "leads", 1.0, "Казань", "generic"),
        _fact(0, "leads", 2.0),  # leads with no city
        _fact(1, "spend", 150.0),
        _fact(1, "leads", 2.0, "Москва"),
        _fact(1, "leads", 1.0),
        _fact(-1, "leads", 4.0, "Москва"),  # no plan line took these
        _fact(-1, "spend", 70.0),
    ]
)


def _rows(result: Drill) -> dict[str, DrillRow]:
    return {row.key: row for row in result.rows}


def test_channel_level_by_hand() -> None:
    result = drill(FACTS, LINES, "channel")
    rows = _rows(result)
    assert list(rows) == ["Yandex", "VK"]  # the Plan's order
    yandex, vk = rows["Yandex"], rows["VK"]
    # Yandex: Brand's facts (Generic has none): spend 500, leads 3 + 1 + 2 = 6
    assert yandex.fact["spend"] == 500.0 and yandex.fact["leads"] == 6.0
    # plan: Brand + Generic: spend 1000 + 200 = 1200, leads 10 + 4 = 14
    assert yandex.plan["spend"] == 1200.0 and yandex.plan["leads"] == 14.0
    # rr: Brand's 12 + Generic's 2 (no facts: to its own channel) = 14; spend: 1100 (Generic blank)
    assert yandex.runrate["leads"] == 14.0 and yandex.runrate["spend"] == 1100.0
    assert vk.runrate["leads"] == 6.0
    # CPL from sums: Yandex 500 / 6; the total (500 + 150) / (6 + 3) = 72.22, not the mean of
    # 83.33 and 50
    assert yandex.ratio("CPL") == pytest.approx(500 / 6)
    assert result.total.ratio("CPL") == pytest.approx(650 / 9)
    assert result.total.ratio("CPL", "p") == pytest.approx(1600 / 19)
    assert result.total.fact["leads"] == 9.0
    # the facts no plan line took: outside the total
    assert result.unmapped["leads"] == 4.0 and result.unmapped["spend"] == 70.0


def test_city_level_by_hand() -> None:
    result = drill(FACTS, LINES, "city")
    rows = _rows(result)
    assert list(rows) == ["Казань", "Москва", ""]  # the row with no city last
    # leads: Москва 3 + 2 = 5, Казань 1, none 2 + 1 = 3; total 9 as at the channel level
    assert [rows[k].fact["leads"] for k in ("Москва", "Казань", "")] == [5.0, 1.0, 3.0]
    # rr leads: Brand's 12 shared 3/6, 1/6, 2/6 -> 6, 2, 4; Retarget's 6 shared 2/3, 1/3 ->
    # 4, 2; Generic's 2 (no facts) -> none. Москва 10, Казань 2, none 4 + 2 + 2 = 8; 20 in all
    assert rows["Москва"].runrate["leads"] == pytest.approx(10.0)
    assert rows["Казань"].runrate["leads"] == pytest.approx(2.0)
    assert rows[""].runrate["leads"] == pytest.approx(8.0)
    assert result.total.runrate["leads"] == pytest.approx(20.0)
    # no plan below the Plan's levels; no CPL where the row has no spend fact
    assert rows["Москва"].plan == {} and result.total.plan == {}
    assert rows["Москва"].ratio("CPL") is None
    assert rows[""].ratio("CPL") == pytest.approx(650 / 3)


def test_filter_by_city_at_channel_level() -> None:
    result = drill(FACTS, LINES, "channel", {"city": "москва "})  # case and spaces ignored
    rows = _rows(result)
    # Москва's leads: Yandex 3, VK 2; rr: Brand's 12 * 3/6 = 6, Retarget's 6 * 2/3 = 4
    assert rows["Yandex"].fact["leads"] == 3.0 and rows["VK"].fact["leads"] == 2.0
    assert rows["Yandex"].runrate["leads"] == pytest.approx(6.0)
    assert rows["VK"].runrate["leads"] == pytest.approx(4.0)
    assert rows["Yandex"].plan == {}  # the plan has no city
    assert result.unmapped["leads"] == 4.0


def test_bad_level_or_filter() -> None:
    with pytest.raises(InputError, match="level"):
        drill(FACTS, LINES, "region")
    with pytest.raises(InputError, match="filter"):
        drill(FACTS, LINES, "city", {"region": "x"})


_facts = st.lists(
    st.tuples(
        st.integers(-1, 2),
        st.sampled_from(["spend", "leads", "purchases"]),
        st.floats(0, 1000, allow_nan=False),
        st.sampled_from(["", "Москва", "Казань"]),
        st.sampled_from(["", "a", "b"]),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(_facts)
def test_every_level_reconciles(rows: list[tuple[int, str, float, str, str]]) -> None:
    frame = pd.DataFrame(
        [_fact(line, m, v, city, seg) for line, m, v, city, seg in rows] or [_fact(0, "leads", 0.0)]
    )
    mapped = frame[frame["line"] >= 0]
    for level in LEVELS:
        result = drill(frame, LINES, level)
        for metric in ("spend", "leads", "purchases"):
            want = float(mapped.loc[mapped["metric"] == metric, "value"].sum())
            assert math.isclose(result.total.fact[metric], want, abs_tol=1e-6)
            got = sum(row.fact[metric] for row in result.rows)
            assert math.isclose(got, want, abs_tol=1e-6)
        # the lines' rr is shared without loss: 12 + 6 + 2 = 20 leads, 1100 + 300 spend
        assert math.isclose(result.total.runrate["leads"] or 0.0, 20.0, abs_tol=1e-6)
        assert math.isclose(result.total.runrate["spend"] or 0.0, 1400.0, abs_tol=1e-6)
        # ratios of sums
        total = result.total
        if total.fact["leads"] > 0 and "spend" in total.has_fact:
            cpl = total.ratio("CPL")
            assert cpl is not None
            assert math.isclose(cpl, total.fact["spend"] / total.fact["leads"])
