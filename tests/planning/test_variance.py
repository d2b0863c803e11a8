"""Variance explained (LMDI-I): known numbers worked by hand, invariants, zeros and blanks.

The hand-worked numbers below use ln 1.2 = 0.1823215567939546, ln(4/3) = 0.2876820724517809,
ln(5/3) = 0.5108256237659907, ln 1.5 = 0.4054651081081644 (six-figure tables suffice to check
them; the literals are to 16 digits).
"""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from planning.errors import InputError
from planning.funnel import DEFAULT_FUNNEL, Funnel
from planning.variance import (
    Decomposition,
    PlanFact,
    decompose,
    decompose_cpa,
    log_mean,
    waterfall,
)

TWO = Funnel.from_rows([("leads", "Leads", None), ("purchases", "Purchases", None)])
HAND = PlanFact(
    "Hand",
    {"spend": 100, "leads": 10, "purchases": 2, "revenue": 200},
    {"spend": 120, "leads": 9, "purchases": 3, "revenue": 240},
)
DEMO_NODES = ("spend", *DEFAULT_FUNNEL.names)


def _texts(d: Decomposition) -> tuple[str, ...]:
    """The notes as their English sentences."""
    return tuple(n.text for n in d.notes)


def close(a: float, b: float, tol: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def total(d: Decomposition) -> float:
    return math.fsum([p.effect for p in d.parts] + [d.not_comparable])


def scale_of(d: Decomposition) -> float:
    """The size against which float error is judged: the parts and the outcome."""
    return math.fsum([abs(p.effect) for p in d.parts] + [abs(d.plan), abs(d.fact), 1.0])


# --------------------------------------------------------------------------- known numbers


def test_log_mean() -> None:
    assert log_mean(5.0, 5.0) == 5.0
    # L(3, 2) = 1 / ln 1.5 = 1 / 0.4054651081081644 = 2.466303462376432
    assert close(log_mean(3.0, 2.0), 2.466303462376432, 1e-12)
    assert log_mean(3.0, 2.0) == log_mean(2.0, 3.0)
    # near a == b the series: L(1 + 1e-9, 1) = 1 + 0.5e-9 (the exact value to 1e-18)
    assert close(log_mean(1.0 + 1e-9, 1.0), 1.0 + 0.5e-9, 1e-15)
    # L(a, b) lies between the geometric and the arithmetic mean
    assert math.sqrt(2 * 8) < log_mean(2.0, 8.0) < (2 + 8) / 2


def test_two_stage_purchases_by_hand() -> None:
    # Plan: spend 100, leads 10, purchases 2 -> CPL 10, CR 0.2.
    # Fact: spend 120, leads 9, purchases 3 -> CPL 13.333.., CR 0.333.. . Gap 3 - 2 = 1.
    # purchases = spend * (leads / spend) * (purchases / leads); L(3, 2) = 1 / ln 1.5 = 2.4663034624
    # spend: L * ln(120/100)          = 2.4663034624 * 0.1823215568  =  0.4496602868
    # CPL:   L * ln(0.075/0.1) = -L * ln(4/3) = -2.4663034624 * 0.2876820725 = -0.7095112914
    # CR:    L * ln((1/3)/0.2) = L * ln(5/3) = 2.4663034624 * 0.5108256238 =  1.2598510046
    # sum: 0.4496602868 - 0.7095112914 + 1.2598510046 = 1.0000000000
    d = decompose(HAND, TWO)
    assert (d.metric, d.plan, d.fact, d.gap) == ("purchases", 2.0, 3.0, 1.0)
    assert [p.key for p in d.parts] == ["spend", "cpc", "cr_purchases"]
    assert close(d.part("spend").effect, 0.44966028678679153)
    assert close(d.part("cpc").effect, -0.70951129135145478)
    assert close(d.part("cr_purchases").effect, 1.2598510045646633)
    assert (d.part("cpc").plan, d.part("cpc").fact) == (10.0, 120 / 9)
    assert d.part("cr_purchases").fact == pytest.approx(1 / 3, rel=1e-15)
    assert d.not_comparable == 0.0 and d.zero_at is None and d.notes == ()
    assert close(d.explained, 1.0, 1e-12)


def test_two_stage_revenue_by_hand() -> None:
    # Revenue 200 -> 240 (gap 40); revenue per purchase 100 -> 80.
    # L(240, 200) = 40 / ln 1.2 = 219.3948...; so spend's part L * ln 1.2 is exactly 40,
    # CPL -L * ln(4/3) = -219.3948 * 0.2876821 = -63.1153172, CR L * ln(5/3) = 112.0713607,
    # revenue per purchase L * ln 0.8 = -L * ln 1.25 = -219.3948 * 0.2231436 = -48.9560434;
    # 40 - 63.1153172 + 112.0713607 - 48.9560434 = 40.0000001 (rounding of the 7-digit figures)
    d = decompose(HAND, TWO, metric="revenue")
    assert [p.key for p in d.parts] == ["spend", "cpc", "cr_purchases", "revenue_per_purchases"]
    assert close(d.part("spend").effect, 40.0)
    assert close(d.part("cpc").effect, -63.11531724729539)
    assert close(d.part("cr_purchases").effect, 112.07136067695717)
    assert close(d.part("revenue_per_purchases").effect, -48.95604342966198)
    assert (d.part("revenue_per_purchases").plan, d.part("revenue_per_purchases").fact) == (
        100.0,
        80.0,
    )
    assert close(total(d), 40.0, 1e-12)


def test_two_stage_cpa_by_hand() -> None:
    # CPA = spend / purchases: plan 100/2 = 50, fact 120/3 = 40, gap -10.
    # CPA = CPL / CR; L(40, 50) = -10 / ln 0.8 = 10 / 0.2231435513 = 44.8142011772
    # price (CPL):  L * ln(13.333/10) = 44.8142011772 * 0.2876820725 =  12.8922422699
    # conversion:  -L * ln(5/3)       = -44.8142011772 * 0.5108256238 = -22.8922422699
    # sum: 12.8922422699 - 22.8922422699 = -10
    d = decompose_cpa(HAND, TWO)
    assert (d.metric, d.plan, d.fact, d.gap) == ("cpa_purchases", 50.0, 40.0, -10.0)
    assert [p.key for p in d.parts] == ["cpc", "cr_purchases"]
    assert close(d.part("cpc").effect, 12.892242269941025)
    assert close(d.part("cr_purchases").effect, -22.892242269941025)
    assert close(total(d), -10.0, 1e-12)


def test_default_funnel_parts_and_labels() -> None:
    plan = {"spend": 1000, "traffic": 500, "leads": 50, "calls": 40, "pp": 20}
    plan |= {"negotiations": 10, "purchases": 5, "revenue": 500}
    fact = {k: v * 1.1 for k, v in plan.items()} | {"calls": 30.0}
    d = decompose(PlanFact("Google", plan, fact))
    assert [p.key for p in d.parts] == [
        "spend",
        "cpc",
        "cr_leads",
        "cr_calls",
        "cr_pp",
        "cr_negotiations",
        "cr_purchases",
    ]
    assert d.part("cr_leads").label == "CR Traffic → Leads"
    # every count grew by 10 % but calls fell to 30: the CR into calls fell, the CR out rose
    # by the same log ratio, and the rest (CPC, other CRs) is unchanged: parts 0
    assert d.part("cr_calls").effect == pytest.approx(-d.part("cr_pp").effect, rel=1e-12)
    for key in ("cpc", "cr_leads", "cr_negotiations", "cr_purchases"):
        assert abs(d.part(key).effect) < 1e-12
    # the 10 % more spend explains the whole 0.5 purchases
    assert close(d.part("spend").effect, 0.5)


def test_off_path_stage_takes_no_part() -> None:
    # calls is measured from leads, and PP from leads too: calls is off the path to purchases
    branched = Funnel.from_rows(
        [
            ("traffic", "Traffic", None),
            ("leads", "Leads", None),
            ("calls", "Calls", None),
            ("pp", "PP", "leads"),
            ("purchases", "Purchases", None),
        ]
    )
    plan = {"spend": 100, "traffic": 100, "leads": 10, "calls": 8, "pp": 4, "purchases": 2}
    fact = plan | {"calls": None, "purchases": 3}
    d = decompose(PlanFact("b", plan, fact), branched)
    assert [p.key for p in d.parts] == ["spend", "cpc", "cr_leads", "cr_pp", "cr_purchases"]
    assert d.notes == ()
    assert close(d.part("cr_purchases").effect, 1.0)


# --------------------------------------------------------------------------- zeros and blanks


def test_outcome_zero_in_fact_is_not_comparable() -> None:
    # the funnel stopped at leads in fact: the whole gap -2 is not comparable, zero at leads
    line = PlanFact(
        "Stopped",
        {"spend": 100, "leads": 10, "purchases": 2},
        {"spend": 120, "leads": 0, "purchases": 0},
    )
    d = decompose(line, TWO)
    assert (d.gap, d.not_comparable, d.parts, d.zero_at) == (-2.0, -2.0, (), "leads")
    assert _texts(d)[-1].startswith("leads is 0 in fact: the funnel stops there")
    bars = waterfall(d)
    assert [(b.key, b.value) for b in bars] == [
        ("plan", 2.0),
        ("not_comparable", -2.0),
        ("fact", 0),
    ]


def test_new_line_with_no_plan_is_not_comparable() -> None:
    line = PlanFact(
        "New", {"spend": 0, "leads": 0, "purchases": 0}, {"spend": 50, "leads": 5, "purchases": 1}
    )
    d = decompose(line, TWO)
    assert (d.gap, d.not_comparable, d.zero_at) == (1.0, 1.0, "spend")
    assert _texts(decompose_cpa(line, TWO)) == (
        "purchases is 0 in plan: the CPA is undefined there, no gap to decompose",
    )


def test_zero_on_both_sides_is_no_gap() -> None:
    zero = {"spend": 0, "leads": 0, "purchases": 0}
    d = decompose(PlanFact("Off", zero, zero), TWO)
    assert (d.gap, d.not_comparable, d.parts) == (0.0, 0.0, ())
    assert _texts(d) == ("purchases is 0 in plan and fact: no gap",)


def test_blank_stage_merges_its_neighbours() -> None:
    # calls blank in fact (no call tracking): CR leads -> calls and calls -> PP become PP per lead
    plan = {"spend": 100, "traffic": 200, "leads": 20, "calls": 10, "pp": 8}
    plan |= {"negotiations": 4, "purchases": 2}
    fact = plan | {"calls": None, "pp": 12, "purchases": 3}
    d = decompose(PlanFact("Calls blank", plan, fact))
    keys = [p.key for p in d.parts]
    assert keys == ["spend", "cpc", "cr_leads", "cr_leads_pp", "cr_negotiations", "cr_purchases"]
    assert d.part("cr_leads_pp").label == "CR Leads → PP"
    assert (d.part("cr_leads_pp").plan, d.part("cr_leads_pp").fact) == (0.4, 0.6)
    assert _texts(d) == (
        "calls is blank in fact: the factors on either side of calls are taken as one",
    )
    # pp 8 -> 12 and negotiations 4 -> 4: all of the gap is PP per lead (1.5x) and CR to
    # negotiations (4/8 -> 4/12, 1/1.5x); those two cancel, so CR purchases (0.5 -> 0.75) has it all
    assert close(d.part("cr_purchases").effect, 1.0)
    assert close(total(d), 1.0, 1e-12)


def test_blank_spend_gives_a_volume_factor() -> None:
    line = PlanFact(
        "Organic",
        {"spend": None, "leads": 10, "purchases": 2},
        {"spend": math.nan, "leads": 15, "purchases": 3},
    )
    d = decompose(line, TWO)
    assert [p.key for p in d.parts] == ["leads", "cr_purchases"]
    assert close(d.part("leads").effect, 1.0) and abs(d.part("cr_purchases").effect) < 1e-12
    assert _texts(d)[0].startswith("spend is blank in plan and fact: the line is explained from")
    assert _texts(decompose_cpa(line, TWO)) == ("spend is blank in plan: no CPA to decompose",)


def test_zero_stage_with_outcome_positive_is_merged() -> None:
    # no leads in the fact month, but 3 purchases from earlier leads: leads leave the chain
    line = PlanFact(
        "Late",
        {"spend": 100, "leads": 10, "purchases": 2},
        {"spend": 100, "leads": 0, "purchases": 3},
    )
    d = decompose(line, TWO)
    assert [p.key for p in d.parts] == ["spend", "cpa_purchases"]
    assert d.part("cpa_purchases").label == "Cost per Purchases"
    assert (d.part("cpa_purchases").plan, d.part("cpa_purchases").fact) == (50.0, 100 / 3)
    assert close(d.part("cpa_purchases").effect, 1.0)
    assert _texts(d) == (
        "leads is 0 in fact while purchases is not: the factors on either side of leads "
        "are taken as one",
    )
    cpa = decompose_cpa(line, TWO)
    assert [p.key for p in cpa.parts] == ["cpa_purchases"]
    assert close(cpa.part("cpa_purchases").effect, cpa.gap)


def test_blank_outcome_has_no_gap_and_says_why() -> None:
    line = PlanFact(
        "No CRM", {"spend": 100, "leads": 10, "purchases": 2}, {"spend": 100, "leads": 9}
    )
    d = decompose(line, TWO)
    assert math.isnan(d.gap) and math.isnan(d.not_comparable) and d.parts == ()
    assert _texts(d) == ("purchases is blank in fact: no gap to decompose",)
    assert waterfall(d) == ()


def test_revenue_blank_in_plan() -> None:
    line = PlanFact("x", {"spend": 100, "leads": 10, "purchases": 2}, HAND.fact)
    d = decompose(line, TWO, metric="revenue")
    assert math.isnan(d.gap)
    assert _texts(d) == ("revenue is blank in plan: no gap to decompose",)


def test_revenue_zero_in_fact() -> None:
    line = PlanFact("x", HAND.plan, dict(HAND.fact) | {"revenue": 0})
    d = decompose(line, TWO, metric="revenue")
    assert (d.gap, d.not_comparable, d.zero_at) == (-200.0, -200.0, "revenue")


def test_cpa_spend_zero_in_fact_only() -> None:
    line = PlanFact("x", HAND.plan, dict(HAND.fact) | {"spend": 0})
    d = decompose_cpa(line, TWO)
    assert (d.plan, d.fact, d.gap, d.not_comparable, d.zero_at) == (
        50.0,
        0.0,
        -50.0,
        -50.0,
        "spend",
    )
    assert _texts(d) == ("spend is 0 in fact: the CPA gap is not comparable",)


def test_bad_values_are_input_errors() -> None:
    with pytest.raises(InputError, match=r"^line 'x', column `leads fact`: value -1 must be"):
        decompose(PlanFact("x", HAND.plan, dict(HAND.fact) | {"leads": -1}), TWO)
    with pytest.raises(InputError, match=r"column `spend plan`: value 'abc' is not a number"):
        decompose(PlanFact("x", dict(HAND.plan) | {"spend": "abc"}, HAND.fact), TWO)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"value inf must be a finite number"):
        decompose(PlanFact("x", dict(HAND.plan) | {"spend": math.inf}, HAND.fact), TWO)
    with pytest.raises(InputError, match=r"value True is not a number"):
        decompose(PlanFact("x", dict(HAND.plan) | {"spend": True}, HAND.fact), TWO)
    with pytest.raises(InputError, match="unknown stage `sales`"):
        decompose(HAND, TWO, outcome="sales")
    with pytest.raises(InputError, match="metric must be 'outcome' or 'revenue', got 'cpa'"):
        decompose(HAND, TWO, metric="cpa")  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="no part 'mix'; the parts are: spend, cpc, cr_purchases"):
        decompose(HAND, TWO).part("mix")


# --------------------------------------------------------------------------- waterfall


def test_waterfall_bars() -> None:
    bars = waterfall(decompose(HAND, TWO))
    assert [b.kind for b in bars] == ["start", "step", "step", "step", "end"]
    assert [b.key for b in bars] == ["plan", "spend", "cpc", "cr_purchases", "fact"]
    assert (bars[0].before, bars[0].after, bars[-1].value) == (0.0, 2.0, 3.0)
    for previous, bar in itertools.pairwise(bars[1:-1]):
        assert bar.before == previous.after
        assert bar.after == pytest.approx(bar.before + bar.value)
    assert bars[-2].after == pytest.approx(3.0, abs=1e-12)


# --------------------------------------------------------------------------- properties

POSITIVE = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)
SIDE = st.fixed_dictionaries({name: POSITIVE for name in (*DEMO_NODES, "revenue")})


@settings(max_examples=300, deadline=None)
@given(SIDE, SIDE, st.sampled_from(["outcome", "revenue"]))
def test_parts_sum_to_the_gap(plan: dict[str, float], fact: dict[str, float], metric: str) -> None:
    d = decompose(PlanFact("p", plan, fact), metric=metric)  # type: ignore[arg-type]
    assert d.not_comparable == 0.0
    assert abs(total(d) - d.gap) <= 1e-9 * scale_of(d)
    n_parts = len(DEMO_NODES) + (metric == "revenue")
    assert len(d.parts) == n_parts


@settings(max_examples=200, deadline=None)
@given(SIDE, SIDE, st.integers(0, len(DEMO_NODES) - 1))
def test_unchanged_factor_contributes_zero(
    plan: dict[str, float], fact: dict[str, float], k: int
) -> None:
    # make factor k equal in plan and fact: node k in fact = node k-1 in fact * (plan's ratio)
    fact = dict(fact)
    name = DEMO_NODES[k]
    fact[name] = (
        plan[name] if k == 0 else fact[DEMO_NODES[k - 1]] * plan[name] / plan[DEMO_NODES[k - 1]]
    )
    assume(fact[name] > 0)
    d = decompose(PlanFact("u", plan, fact))
    assert abs(d.parts[k].effect) <= 1e-9 * scale_of(d)


@settings(max_examples=200, deadline=None)
@given(SIDE, SIDE, st.sampled_from(["outcome", "revenue"]))
def test_swapping_plan_and_fact_negates_every_part(
    plan: dict[str, float], fact: dict[str, float], metric: str
) -> None:
    there = decompose(PlanFact("a", plan, fact), metric=metric)  # type: ignore[arg-type]
    back = decompose(PlanFact("a", fact, plan), metric=metric)  # type: ignore[arg-type]
    assert back.gap == -there.gap
    for p, q in zip(there.parts, back.parts, strict=True):
        assert p.key == q.key
        assert abs(p.effect + q.effect) <= 1e-9 * scale_of(there)


@settings(max_examples=200, deadline=None)
@given(SIDE, SIDE, st.floats(min_value=1e-2, max_value=1e2))
def test_scaling_spend_and_every_count_scales_the_parts_and_keeps_cr_log_parts(
    plan: dict[str, float], fact: dict[str, float], c: float
) -> None:
    # Scaling one factor's plan and fact by the same c leaves its log ratio (and every CR's)
    # unchanged, and multiplies the outcome, hence L and every part, by c: the CR parts'
    # shares of the gap (and part / L, the CR's log change) are unchanged. (In the additive
    # form a CR part itself scales with the outcome: the CR parts cannot stay equal when the
    # outcome is c times larger, because the parts must add up to a c times larger gap.)
    d = decompose(PlanFact("s", plan, fact))
    scaled = decompose(
        PlanFact("s", {k: v * c for k, v in plan.items()}, {k: v * c for k, v in fact.items()})
    )
    weight, weight_c = log_mean(d.fact, d.plan), log_mean(scaled.fact, scaled.plan)
    for p, q in zip(d.parts, scaled.parts, strict=True):
        assert abs(q.effect - c * p.effect) <= 1e-9 * c * scale_of(d)
        if p.key.startswith("cr_"):
            assert q.effect / weight_c == pytest.approx(p.effect / weight, rel=1e-9, abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(SIDE, SIDE)
def test_cpa_parts_sum_to_the_cpa_gap(plan: dict[str, float], fact: dict[str, float]) -> None:
    d = decompose_cpa(PlanFact("c", plan, fact))
    assert d.plan == plan["spend"] / plan["purchases"]
    assert abs(total(d) - d.gap) <= 1e-9 * scale_of(d)
    assert d.parts[0].key == "cpc"


@settings(max_examples=200, deadline=None)
@given(
    SIDE,
    SIDE,
    st.lists(st.sampled_from([*DEMO_NODES, "revenue"]), max_size=4),
    st.lists(st.sampled_from([*DEMO_NODES, "revenue"]), max_size=4),
    st.sampled_from([0.0, None]),
)
def test_zeros_and_blanks_anywhere_still_add_up(
    plan: dict[str, float | None],
    fact: dict[str, float | None],
    plan_holes: list[str],
    fact_holes: list[str],
    hole: float | None,
) -> None:
    plan = dict(plan) | {k: hole for k in plan_holes}
    fact = dict(fact) | {k: hole for k in fact_holes}
    for metric in ("outcome", "revenue"):
        d = decompose(PlanFact("h", plan, fact), metric=metric)
        if math.isnan(d.gap):
            assert d.parts == () and _texts(d)[-1].endswith("no gap to decompose")
        else:
            assert abs(total(d) - d.gap) <= 1e-9 * scale_of(d)
            assert all(math.isfinite(p.effect) for p in d.parts)
            assert d.not_comparable == 0.0 or (d.parts == () and d.not_comparable == d.gap)
    cpa = decompose_cpa(PlanFact("h", plan, fact))
    assert math.isnan(cpa.gap) or abs(total(cpa) - cpa.gap) <= 1e-9 * scale_of(cpa)
