"""The funnel: stages, derived ratios, bottom-up/top-down plans and roll-ups.

Known numbers are worked by hand in the comments; properties are checked with hypothesis;
user-facing error messages are checked word for word.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.errors import InputError
from planning.funnel import (
    ABSOLUTE_EXTRAS,
    DEFAULT_FUNNEL,
    Funnel,
    FunnelPlan,
    Stage,
    bottom_up,
    derive,
    rollup,
    top_down,
)

# CRs of the default funnel used by the hand-worked examples.
CRS = {"leads": 0.05, "calls": 0.5, "pp": 0.4, "negotiations": 0.5, "purchases": 0.5}

# traffic → leads → calls (from leads) and, also from leads, PP → purchases (from PP).
BRANCHED = Funnel.from_rows(
    [
        ("traffic", "Traffic", None),
        ("leads", "Leads", ""),
        ("calls", "Calls", None),
        ("pp", "Partnership proposals", "leads"),
        ("purchases", "Purchases", None),
    ]
)
BRANCHED_CRS = {"leads": 0.1, "calls": 2.0, "pp": 0.2, "purchases": 0.25}


def message(text: str) -> str:
    """An exact-match pattern for `pytest.raises(match=...)`."""
    return "^" + re.escape(text) + "$"


def same(a: float, b: float, rel: float = 1e-9) -> bool:
    """Equal within `rel`, or both nan."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


# --------------------------------------------------------------------------- stages and funnels


def test_default_funnel_shape() -> None:
    f = DEFAULT_FUNNEL
    assert f == Funnel.default()
    assert f.names == ("traffic", "leads", "calls", "pp", "negotiations", "purchases")
    assert [s.title for s in f.stages] == [
        "Traffic",
        "Leads",
        "Calls",
        "PP",
        "Negotiations",
        "Purchases",
    ]
    assert f.first == "traffic"
    assert f.metrics == ("spend", *f.names, "revenue")
    assert ABSOLUTE_EXTRAS == ("spend", "revenue")
    assert f.ratio_names() == (
        "cpc",
        "cr_leads",
        "cpa_leads",
        "cr_calls",
        "cpa_calls",
        "cr_pp",
        "cpa_pp",
        "cr_negotiations",
        "cpa_negotiations",
        "cr_purchases",
        "cpa_purchases",
        "roas",
        "romi",
    )
    assert f.source_of("traffic") is None
    assert f.source_of("pp") == "calls"
    assert f.path("traffic") == ("traffic",)
    assert f.path("purchases") == f.names
    assert f.stage("pp") == Stage("pp", "PP")


def test_stage_title_defaults_to_capitalised_name() -> None:
    assert Stage("leads").title == "Leads"
    assert Stage("pp", "PP").title == "PP"
    assert Stage("demo_calls").title == "Demo_calls"


def test_branched_funnel_from_rows() -> None:
    f = BRANCHED
    assert f.stage("pp").title == "Partnership proposals"
    assert f.stage("leads").cr_from is None  # "" means "the previous stage"
    assert f.source_of("calls") == "leads"
    assert f.source_of("pp") == "leads"
    assert f.source_of("purchases") == "pp"
    assert f.path("purchases") == ("traffic", "leads", "pp", "purchases")  # calls is off the path
    assert f.path("calls") == ("traffic", "leads", "calls")


def test_from_rows_strips_spaces_and_funnel_is_hashable() -> None:
    f = Funnel.from_rows([(" traffic ", " Traffic ", None), ("leads", "", " traffic ")])
    assert f == Funnel((Stage("traffic", "Traffic"), Stage("leads", "", "traffic")))
    again = Funnel.from_rows([("traffic", "Traffic", None), ("leads", "", "traffic")])
    assert hash(f) == hash(again) and {f: 1}[again] == 1
    listed = Funnel([Stage("a"), Stage("b")])  # type: ignore[arg-type]
    assert listed.stages == (Stage("a"), Stage("b"))  # a list is kept as a tuple


@pytest.mark.parametrize(
    ("make", "text"),
    [
        (
            lambda: Stage("Leads"),
            "stage name 'Leads' is invalid: use lowercase letters, digits and `_`, "
            "starting with a letter",
        ),
        (
            lambda: Stage("2nd_call"),
            "stage name '2nd_call' is invalid: use lowercase letters, digits and `_`, "
            "starting with a letter",
        ),
        (
            lambda: Stage("spend"),
            "stage name 'spend' is reserved: `spend` and `revenue` are metrics, not stages",
        ),
        (lambda: Stage("leads", 5), "the label of stage `leads` must be text, got 5"),  # type: ignore[arg-type]
        (
            lambda: Stage("leads", "", 3),  # type: ignore[arg-type]
            "`cr_from` of stage `leads` must be a stage name, got 3",
        ),
        (lambda: Funnel(()), "a funnel needs at least one stage"),
        (
            lambda: Funnel((Stage("traffic"), Stage("leads"), Stage("leads"))),
            "stage `leads` appears twice; stage names must be unique",
        ),
        (
            lambda: Funnel((Stage("traffic", cr_from="leads"), Stage("leads"))),
            "the first stage `traffic` has no CR, so it cannot have `cr_from` (got 'leads')",
        ),
        (
            lambda: Funnel.from_rows(
                [("traffic", "", None), ("leads", "", "calls"), ("calls", "", None)]
            ),
            "stage `leads` has `cr_from` 'calls', which is not an earlier stage; "
            "the earlier stages are: traffic",
        ),
        (
            lambda: Funnel.from_rows([("traffic", "", None), ("leads", "", "clicks")]),
            "stage `leads` has `cr_from` 'clicks', which is not an earlier stage; "
            "the earlier stages are: traffic",
        ),
        (
            lambda: Funnel.from_rows([("traffic", "", None), ("leads", "", "leads")]),
            "stage `leads` has `cr_from` 'leads', which is not an earlier stage; "
            "the earlier stages are: traffic",
        ),
        (
            lambda: Funnel((Stage("traffic"), Stage("cpc"))),
            "stage name `cpc` clashes with the derived metric `cpc`",
        ),
        (
            lambda: Funnel((Stage("traffic"), Stage("leads"), Stage("cr_leads"))),
            "stage name `cr_leads` clashes with the derived metric `cr_leads`",
        ),
        (
            lambda: DEFAULT_FUNNEL.stage("sales"),
            "unknown stage `sales`; the stages are: "
            "traffic, leads, calls, pp, negotiations, purchases",
        ),
        (
            lambda: BRANCHED.path("deals"),
            "unknown stage `deals`; the stages are: traffic, leads, calls, pp, purchases",
        ),
    ],
)
def test_funnel_errors(make: object, text: str) -> None:
    with pytest.raises(InputError, match=message(text)):
        make()  # type: ignore[operator]


# --------------------------------------------------------------------------- derive


def test_derive_known_numbers() -> None:
    absolutes = {
        "spend": 100_000,
        "traffic": 2000,
        "leads": 100,
        "calls": 50,
        "pp": 20,
        "negotiations": 10,
        "purchases": 5,
        "revenue": 150_000,
    }
    r = derive(absolutes)
    assert list(r) == list(DEFAULT_FUNNEL.ratio_names())
    assert all(type(v) is float for v in r.values())  # scalars in → floats out
    assert r["cpc"] == pytest.approx(50)  # 100 000 / 2 000
    assert r["cr_leads"] == pytest.approx(0.05)  # 100 / 2 000
    assert r["cpa_leads"] == pytest.approx(1000)  # CPL = 100 000 / 100
    assert r["cr_calls"] == pytest.approx(0.5)  # 50 / 100
    assert r["cpa_calls"] == pytest.approx(2000)  # 100 000 / 50
    assert r["cr_pp"] == pytest.approx(0.4)  # 20 / 50
    assert r["cpa_pp"] == pytest.approx(5000)  # 100 000 / 20
    assert r["cr_purchases"] == pytest.approx(0.5)  # 5 / 10
    assert r["cpa_purchases"] == pytest.approx(20_000)  # 100 000 / 5
    assert r["roas"] == pytest.approx(1.5)  # 150 000 / 100 000
    assert r["romi"] == pytest.approx(0.5)  # (150 000 − 100 000) / 100 000


def test_derive_branched_cr_uses_its_source() -> None:
    r = derive({"traffic": 5000, "leads": 500, "calls": 1000, "pp": 100}, BRANCHED)
    assert r == {
        "cr_leads": pytest.approx(0.1),  # 500 / 5 000
        "cr_calls": pytest.approx(2.0),  # 1 000 calls / 500 leads: more than one call per lead
        "cr_pp": pytest.approx(0.2),  # 100 PP / 500 leads (not / 1 000 calls)
    }


def test_derive_omits_ratios_whose_inputs_are_missing() -> None:
    # only spend and leads: CPL = 600 / 3 = 200; no traffic → no CPC, no CR of leads.
    assert derive({"spend": 600, "leads": 3, "unrelated": "ignored"}) == {"cpa_leads": 200.0}
    assert derive({}) == {}
    # ROAS and ROMI need both revenue and spend.
    assert derive({"revenue": 10}) == {}


@pytest.mark.filterwarnings("error")
def test_derive_zero_and_nan_denominators_give_nan() -> None:
    r = derive({"spend": 100, "traffic": 0, "leads": 0, "calls": 5, "revenue": 50})
    assert math.isnan(r["cpc"])  # 100 / 0: nan, not inf
    assert math.isnan(r["cr_leads"])  # 0 / 0
    assert math.isnan(r["cpa_leads"])  # 100 / 0
    assert math.isnan(r["cr_calls"])  # 5 / 0
    assert r["cpa_calls"] == 20.0  # 100 / 5
    z = derive({"spend": 0, "revenue": 10, "traffic": math.nan})
    assert math.isnan(z["roas"]) and math.isnan(z["romi"]) and math.isnan(z["cpc"])
    a = derive({"spend": np.array([10.0, 10.0, 0.0]), "traffic": np.array([2.0, 0.0, 0.0])})
    np.testing.assert_array_equal(a["cpc"], [5.0, np.nan, np.nan])


def test_derive_broadcasts_arrays() -> None:
    spend = np.array([[100.0], [200.0]])  # shape (2, 1)
    traffic = [10, 20, 0]  # shape (3,)
    r = derive({"spend": spend, "traffic": traffic, "leads": 5})
    assert r["cpc"].shape == (2, 3)  # type: ignore[union-attr]
    np.testing.assert_array_equal(r["cpc"], [[10, 5, np.nan], [20, 10, np.nan]])
    np.testing.assert_array_equal(r["cr_leads"], [0.5, 0.25, np.nan])  # 5 / traffic
    np.testing.assert_array_equal(r["cpa_leads"], [[20], [40]])  # spend / 5
    # a pandas nullable column: missing values are nan
    s = derive({"spend": pd.Series([10, None], dtype="Int64"), "traffic": [2, 2]})
    np.testing.assert_array_equal(s["cpc"], [5.0, np.nan])


@pytest.mark.parametrize(
    ("absolutes", "text"),
    [
        ({"spend": "abc"}, "`spend` must be a number or an array of numbers, got 'abc'"),
        ({"leads": True}, "`leads` must be a number or an array of numbers, got True"),
        ({"leads": [1, "2"]}, "`leads` must be a number or an array of numbers, got [1, '2']"),
        (
            {"spend": [1, 2, 3], "traffic": [1, 2]},
            "the metrics' shapes do not broadcast together: `spend` (3,), `traffic` (2,)",
        ),
    ],
)
def test_derive_errors(absolutes: dict[str, object], text: str) -> None:
    with pytest.raises(InputError, match=message(text)):
        derive(absolutes)


# --------------------------------------------------------------------------- bottom-up and top-down


def test_bottom_up_known_numbers() -> None:
    plan = bottom_up(100_000, 50, CRS, value_per_conversion=30_000)
    assert isinstance(plan, FunnelPlan)
    assert list(plan.counts) == list(DEFAULT_FUNNEL.metrics)
    expected = {
        "spend": 100_000,
        "traffic": 2000,  # 100 000 / 50
        "leads": 100,  # 2 000 × 0.05
        "calls": 50,  # 100 × 0.5
        "pp": 20,  # 50 × 0.4
        "negotiations": 10,  # 20 × 0.5
        "purchases": 5,  # 10 × 0.5
        "revenue": 150_000,  # 5 × 30 000
    }
    assert plan.counts == pytest.approx(expected)
    assert plan.ratios == pytest.approx(
        {
            "cpc": 50,
            "cr_leads": 0.05,
            "cpa_leads": 1000,  # CPL = 100 000 / 100
            "cr_calls": 0.5,
            "cpa_calls": 2000,  # 100 000 / 50
            "cr_pp": 0.4,
            "cpa_pp": 5000,  # 100 000 / 20
            "cr_negotiations": 0.5,
            "cpa_negotiations": 10_000,  # 100 000 / 10
            "cr_purchases": 0.5,
            "cpa_purchases": 20_000,  # 100 000 / 5
            "roas": 1.5,  # 150 000 / 100 000
            "romi": 0.5,  # (150 000 − 100 000) / 100 000
        }
    )
    assert plan.as_row() == plan.counts | plan.ratios
    assert list(plan.as_row()) == [*DEFAULT_FUNNEL.metrics, *DEFAULT_FUNNEL.ratio_names()]


def test_bottom_up_without_value_has_nan_revenue() -> None:
    plan = bottom_up(100_000, 50, CRS)
    assert math.isnan(plan.counts["revenue"])
    assert math.isnan(plan.ratios["roas"]) and math.isnan(plan.ratios["romi"])


def test_bottom_up_zero_budget_gives_zero_counts_and_nan_ratios() -> None:
    plan = bottom_up(0, 50, CRS, value_per_conversion=1)
    assert all(v == 0 for v in plan.counts.values())
    assert all(math.isnan(v) for v in plan.ratios.values())  # 0 / 0 everywhere


def test_bottom_up_branched_funnel() -> None:
    plan = bottom_up(10_000, 2, BRANCHED_CRS, BRANCHED, value_per_conversion=400)
    assert plan.counts == pytest.approx(
        {
            "spend": 10_000,
            "traffic": 5000,  # 10 000 / 2
            "leads": 500,  # 5 000 × 0.1
            "calls": 1000,  # 500 leads × 2.0 (two calls per lead)
            "pp": 100,  # 500 leads × 0.2 (measured from leads, not calls)
            "purchases": 25,  # 100 × 0.25
            "revenue": 10_000,  # 25 × 400
        }
    )
    assert plan.ratios["cpa_pp"] == pytest.approx(100)  # 10 000 / 100
    assert plan.ratios["cr_pp"] == pytest.approx(0.2)  # 100 / 500
    assert plan.ratios["roas"] == pytest.approx(1.0)
    assert plan.ratios["romi"] == pytest.approx(0.0)


def test_top_down_known_numbers() -> None:
    plan = top_down(20, CRS, cpc=50)
    # product of the CRs along the path: 0.05 × 0.5 × 0.4 × 0.5 × 0.5 = 0.0025
    # traffic = 20 / 0.0025 = 8 000; budget = 8 000 × 50 = 400 000
    assert plan.counts == pytest.approx(
        {
            "spend": 400_000,
            "traffic": 8000,
            "leads": 400,  # 8 000 × 0.05
            "calls": 200,
            "pp": 80,
            "negotiations": 40,
            "purchases": 20,
            "revenue": math.nan,
        },
        nan_ok=True,
    )
    assert plan.ratios["cpa_purchases"] == pytest.approx(20_000)  # 400 000 / 20


def test_top_down_to_an_inner_stage() -> None:
    # 100 leads at CR 0.05 need 2 000 clicks = 100 000 at CPC 50 (as in the bottom-up example).
    plan = top_down(100, CRS, 50, stage="leads", value_per_conversion=30_000)
    assert plan.counts["traffic"] == pytest.approx(2000)
    assert plan.counts["spend"] == pytest.approx(100_000)
    assert plan.counts["purchases"] == pytest.approx(5)
    assert plan.counts["revenue"] == pytest.approx(150_000)
    # the first stage itself: 300 clicks × 50 = 15 000
    assert top_down(300, CRS, 50, stage="traffic").counts["spend"] == pytest.approx(15_000)


def test_top_down_branched_funnel_fills_stages_off_the_path() -> None:
    plan = top_down(25, BRANCHED_CRS, 2, BRANCHED)
    # path traffic → leads → pp → purchases: 0.1 × 0.2 × 0.25 = 0.005
    # traffic = 25 / 0.005 = 5 000; budget = 5 000 × 2 = 10 000
    assert plan.counts["traffic"] == pytest.approx(5000)
    assert plan.counts["spend"] == pytest.approx(10_000)
    assert plan.counts["calls"] == pytest.approx(1000)  # off the path: 500 leads × 2.0
    # a zero CR off the path does not make the target unreachable
    off = top_down(25, {**BRANCHED_CRS, "calls": 0}, 2, BRANCHED)
    assert off.counts["calls"] == 0
    assert off.counts["spend"] == pytest.approx(10_000)


def test_top_down_zero_target_is_a_zero_plan_even_with_a_zero_cr() -> None:
    plan = top_down(0, {**CRS, "negotiations": 0}, 50)
    assert all(v == 0 for k, v in plan.counts.items() if k != "revenue")


CRS_ERRORS = [
    (
        {k: v for k, v in CRS.items() if k not in ("pp", "purchases")},
        "`crs` is missing the CR of `pp`, `purchases`",
    ),
    (
        {**CRS, "sales": 0.1},
        "unknown stage `sales`; the stages are: traffic, leads, calls, pp, negotiations, purchases",
    ),
    (
        {**CRS, "traffic": 1.0},
        "the first stage `traffic` has no CR (its count is budget / cpc); leave it out of `crs`",
    ),
    ({**CRS, "calls": -0.1}, "CR of `calls` must be >= 0, got -0.1"),
    ({**CRS, "calls": math.nan}, "CR of `calls` must be finite, got nan"),
    ({**CRS, "calls": "0.5"}, "CR of `calls` must be a number, got '0.5'"),
    ({**CRS, "calls": None}, "CR of `calls` must be a number, got None"),
]


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"budget": -1}, "`budget` must be >= 0, got -1"),
        ({"budget": math.nan}, "`budget` must be finite, got nan"),
        ({"budget": math.inf}, "`budget` must be finite, got inf"),
        ({"budget": "100"}, "`budget` must be a number, got '100'"),
        ({"budget": True}, "`budget` must be a number, got True"),
        ({"cpc": 0}, "`cpc` must be > 0, got 0"),
        ({"cpc": -1.5}, "`cpc` must be > 0, got -1.5"),
        ({"cpc": np.float64(0)}, "`cpc` must be > 0, got 0.0"),
        ({"value_per_conversion": -5}, "`value_per_conversion` must be >= 0, got -5"),
        *[({"crs": crs}, text) for crs, text in CRS_ERRORS],
    ],
)
def test_bottom_up_errors(kwargs: dict[str, object], text: str) -> None:
    args: dict[str, object] = {"budget": 100_000, "cpc": 50, "crs": CRS, **kwargs}
    with pytest.raises(InputError, match=message(text)):
        bottom_up(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"target": -1}, "`target` must be >= 0, got -1"),
        ({"target": math.inf}, "`target` must be finite, got inf"),
        ({"cpc": 0}, "`cpc` must be > 0, got 0"),
        ({"value_per_conversion": math.nan}, "`value_per_conversion` must be finite, got nan"),
        (
            {"stage": "deals"},
            "unknown stage `deals`; the stages are: "
            "traffic, leads, calls, pp, negotiations, purchases",
        ),
        ({"crs": {**CRS, "negotiations": 0}}, "target is unreachable: CR of `negotiations` is 0"),
        (
            {"crs": {**CRS, "leads": 0, "negotiations": 0}},
            "target is unreachable: CR of `leads` is 0",  # the first zero along the path
        ),
        ({"crs": {**CRS, "pp": 0}, "stage": "pp"}, "target is unreachable: CR of `pp` is 0"),
        *[({"crs": crs}, text) for crs, text in CRS_ERRORS],
    ],
)
def test_top_down_errors(kwargs: dict[str, object], text: str) -> None:
    args: dict[str, object] = {"target": 20, "crs": CRS, "cpc": 50, **kwargs}
    with pytest.raises(InputError, match=message(text)):
        top_down(**args)  # type: ignore[arg-type]


def test_top_down_out_of_range_budget() -> None:
    two = Funnel((Stage("traffic"), Stage("leads")))
    # 1 lead at CR 1e-320 needs 1e320 clicks: beyond the float range.
    text = (
        "target is unreachable: 1.0 `leads` needs a budget beyond floating-point range "
        "(the CRs along its path multiply to 1e-320)"
    )
    with pytest.raises(InputError, match=message(text)):
        top_down(1, {"leads": 1e-320}, 1, two)


# --------------------------------------------------------------------------- rollup


def two_campaigns() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "campaign": ["A", "B"],
            "spend": [1000.0, 9000.0],
            "traffic": [100, 3000],
            "leads": [10, 30],
            "revenue": [500.0, 19_500.0],
        }
    )


def test_rollup_sums_absolutes_and_recomputes_ratios() -> None:
    frame = two_campaigns()
    per = rollup(frame, ["campaign"])
    # A: CPL 1 000 / 10 = 100, CR 10 / 100 = 0.1; B: CPL 9 000 / 30 = 300, CR 30 / 3 000 = 0.01
    assert per["cpa_leads"].tolist() == pytest.approx([100, 300])
    assert per["cr_leads"].tolist() == pytest.approx([0.1, 0.01])

    total = rollup(frame, [])
    assert len(total) == 1
    row = total.iloc[0]
    # sums: spend 10 000, traffic 3 100, leads 40, revenue 20 000
    assert row["spend"] == 10_000 and row["traffic"] == 3100 and row["leads"] == 40
    # CPL = 10 000 / 40 = 250; averaging the CPLs would give (100 + 300) / 2 = 200 (wrong)
    assert row["cpa_leads"] == pytest.approx(250)
    assert per["cpa_leads"].mean() == pytest.approx(200)
    # CR = 40 / 3 100 ≈ 0.0129; the average of CRs would be (0.1 + 0.01) / 2 = 0.055 (wrong)
    assert row["cr_leads"] == pytest.approx(40 / 3100)
    # CPC = 10 000 / 3 100 ≈ 3.23; the average would be (10 + 3) / 2 = 6.5 (wrong)
    assert row["cpc"] == pytest.approx(10_000 / 3100)
    # ROAS = 20 000 / 10 000 = 2; the average of 0.5 and 2.1667 would be 1.33 (wrong)
    assert row["roas"] == pytest.approx(2.0)
    assert row["romi"] == pytest.approx(1.0)  # (20 000 − 10 000) / 10 000
    assert list(total.columns) == [
        "spend",
        "traffic",
        "leads",
        "revenue",
        "cpc",
        "cr_leads",
        "cpa_leads",
        "roas",
        "romi",
    ]


def test_rollup_groups_in_order_of_appearance_with_nan_keys_and_missing_values() -> None:
    frame = pd.DataFrame(
        {
            "channel": ["Meta", "Google", "Meta", None, "Google"],
            "campaign": ["x", "y", "z", "w", "y"],
            "spend": [100.0, 50.0, 300.0, 10.0, 0.0],
            "leads": [1.0, np.nan, 3.0, 0.0, np.nan],
            "note": ["drop", "me", "please", "", ""],
        }
    )
    out = rollup(frame, ["channel"])
    assert list(out.columns) == ["channel", "spend", "leads", "cpa_leads"]
    assert out["channel"].iloc[:2].tolist() == ["Meta", "Google"]
    assert pd.isna(out["channel"].iloc[2])  # the NaN key is its own group
    assert out["spend"].tolist() == [400, 50, 10]  # Meta 100 + 300
    assert out["leads"].iloc[0] == 4  # Meta 1 + 3
    assert math.isnan(out["leads"].iloc[1])  # Google: all missing → NaN, not 0
    assert out["cpa_leads"].iloc[0] == pytest.approx(100)  # 400 / 4
    assert math.isnan(out["cpa_leads"].iloc[1])  # 50 / NaN
    assert math.isnan(out["cpa_leads"].iloc[2])  # 10 / 0 → nan, not inf
    assert list(out.index) == [0, 1, 2]

    two = rollup(frame, ["channel", "campaign"])
    assert len(two) == 4  # (Meta, x), (Google, y), (Meta, z), (NaN, w)
    assert two["spend"].tolist() == [100, 50, 300, 10]


def test_rollup_accepts_numeric_text_and_nullable_columns() -> None:
    frame = pd.DataFrame(
        {
            "spend": pd.Series(["100", 50, None], dtype=object),
            "leads": pd.array([2, None, 3], dtype="Int64"),
        }
    )
    row = rollup(frame, []).iloc[0]
    assert row["spend"] == 150 and row["leads"] == 5
    assert row["cpa_leads"] == pytest.approx(30)  # 150 / 5


def test_rollup_of_an_empty_frame() -> None:
    empty = two_campaigns().iloc[0:0]
    assert len(rollup(empty, ["campaign"])) == 0
    total = rollup(empty, [])
    assert len(total) == 1 and math.isnan(total["spend"].iloc[0])


@pytest.mark.parametrize(
    ("frame", "by", "text"),
    [
        (
            pd.DataFrame({"spend": [1, "abc"]}, index=["Meta / Prospecting", "Meta / Retargeting"]),
            [],
            "line 'Meta / Retargeting', column `spend`: value 'abc' is not a number",
        ),
        (
            pd.DataFrame({"c": ["a", "b"], "leads": [3, "n/a"]}),
            ["c"],
            "line 1, column `leads`: value 'n/a' is not a number",
        ),
        (
            pd.DataFrame({"leads": pd.Series([True, 2], dtype=object)}),
            [],
            "line 0, column `leads`: value True is not a number",
        ),
        (
            pd.DataFrame({"leads": [True, False]}),
            [],
            "line 0, column `leads`: value True is not a number",
        ),
        (
            pd.DataFrame({"spend": [1]}),
            ["channel"],
            "`by` names column `channel`, which is not in the frame; the columns are: spend",
        ),
        (pd.DataFrame({"spend": [1]}), ["spend"], "`by` cannot group by the metric `spend`"),
        (
            pd.DataFrame([[1, 2]], columns=["spend", "spend"]),
            [],
            "column `spend` appears more than once",
        ),
    ],
)
def test_rollup_errors(frame: pd.DataFrame, by: list[str], text: str) -> None:
    with pytest.raises(InputError, match=message(text)):
        rollup(frame, by)


def test_rollup_error_carries_line_column_and_value() -> None:
    frame = pd.DataFrame({"spend": [1, "abc"]}, index=["ok", "Meta / Retargeting"])
    with pytest.raises(InputError) as caught:
        rollup(frame, [])
    assert (caught.value.line, caught.value.column, caught.value.value) == (
        "Meta / Retargeting",
        "spend",
        "abc",
    )


# --------------------------------------------------------------------------- properties

cells = st.one_of(
    st.just(0.0),
    st.integers(0, 10**6).map(float),
    st.floats(0, 1e6, allow_subnormal=False),
    st.just(math.nan),
)


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 12))
    columns = draw(st.sets(st.sampled_from(DEFAULT_FUNNEL.metrics), min_size=1))
    data: dict[str, list[object]] = {
        "key": draw(st.lists(st.sampled_from("abc"), min_size=n, max_size=n))
    }
    for c in DEFAULT_FUNNEL.metrics:
        if c in columns:
            data[c] = draw(st.lists(cells, min_size=n, max_size=n))
    return pd.DataFrame(data)


def ratio_parts(name: str) -> tuple[str, str]:
    """Numerator and denominator metric of a derived metric of the default funnel."""
    if name == "cpc":
        return "spend", "traffic"
    if name in ("roas", "romi"):
        return "revenue", "spend"
    kind, stage = name.split("_", 1)
    if kind == "cr":
        return stage, str(DEFAULT_FUNNEL.source_of(stage))
    return "spend", stage


@settings(max_examples=200, deadline=None)
@given(frames(), st.booleans())
def test_rollup_ratio_is_sum_over_sum(frame: pd.DataFrame, grouped: bool) -> None:
    by = ["key"] if grouped else []
    out = rollup(frame, by)
    metrics = [m for m in DEFAULT_FUNNEL.metrics if m in frame.columns]
    groups = list(dict.fromkeys(frame["key"])) if grouped else [None]
    assert len(out) == len(groups)
    for i, group in enumerate(groups):
        rows = frame if group is None else frame[frame["key"] == group]
        for m in metrics:
            present = [v for v in rows[m] if not math.isnan(v)]
            expected = math.fsum(present) if present else math.nan  # all missing → NaN, not 0
            assert same(float(out[m].iloc[i]), expected)
        for name in DEFAULT_FUNNEL.ratio_names():
            num, den = ratio_parts(name)
            if num not in metrics or den not in metrics:
                assert name not in out.columns
                continue
            n, d = float(out[num].iloc[i]), float(out[den].iloc[i])
            if name == "romi":
                n -= d
            got = float(out[name].iloc[i])
            if d == 0 or math.isnan(d) or math.isnan(n):
                assert math.isnan(got)
            else:
                assert got == n / d


positive_crs = st.floats(1e-3, 5.0)


@settings(max_examples=200, deadline=None)
@given(
    funnel_crs=st.sampled_from([(DEFAULT_FUNNEL, CRS), (BRANCHED, BRANCHED_CRS)]).flatmap(
        lambda fc: st.tuples(
            st.just(fc[0]),
            st.fixed_dictionaries({k: positive_crs for k in fc[1]}),
            st.sampled_from(fc[0].names),
        )
    ),
    target=st.floats(0, 1e6),
    cpc=st.floats(0.01, 1000),
)
def test_top_down_then_bottom_up_round_trips(
    funnel_crs: tuple[Funnel, dict[str, float], str], target: float, cpc: float
) -> None:
    funnel, crs, stage = funnel_crs
    plan = top_down(target, crs, cpc, funnel, stage=stage, value_per_conversion=10)
    assert same(plan.counts[stage], target)
    again = bottom_up(plan.counts["spend"], cpc, crs, funnel, value_per_conversion=10)
    for metric in funnel.metrics:
        assert same(again.counts[metric], plan.counts[metric])


@settings(max_examples=200, deadline=None)
@given(
    budget=st.one_of(st.just(0.0), st.floats(1e-3, 1e7)),
    factor=st.floats(0.01, 100),
    crs=st.fixed_dictionaries({k: st.one_of(st.just(0.0), st.floats(1e-3, 5)) for k in CRS}),
    cpc=st.floats(0.01, 1000),
)
def test_bottom_up_is_linear_in_budget(
    budget: float, factor: float, crs: dict[str, float], cpc: float
) -> None:
    base = bottom_up(budget, cpc, crs, value_per_conversion=7)
    scaled = bottom_up(budget * factor, cpc, crs, value_per_conversion=7)
    for metric, value in base.counts.items():
        assert same(scaled.counts[metric], value * factor)
    if budget > 0:
        # ratios do not depend on the budget; CRs come back as planned where the source is > 0
        for name, value in base.ratios.items():
            assert same(scaled.ratios[name], value)
        for stage, cr in crs.items():
            source = DEFAULT_FUNNEL.source_of(stage)
            if source is not None and base.counts[source] > 0:
                assert same(base.ratios[f"cr_{stage}"], cr)
