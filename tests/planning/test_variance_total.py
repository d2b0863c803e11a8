"""Variance explained in total over channels, and the vectorised form for many rows."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.errors import InputError
from planning.funnel import DEFAULT_FUNNEL, Funnel
from planning.variance import Decomposition, PlanFact, decompose
from planning.variance_arrays import decompose_arrays, log_mean_arrays
from planning.variance_total import decompose_total, decompose_total_cpa, total_line

TWO = Funnel.from_rows([("leads", "Leads", None), ("purchases", "Purchases", None)])
A = PlanFact(
    "A",
    {"spend": 100, "leads": 10, "purchases": 2},
    {"spend": 120, "leads": 9, "purchases": 3},
)
B = PlanFact(
    "B",
    {"spend": 100, "leads": 10, "purchases": 2},
    {"spend": 80, "leads": 8, "purchases": 2},
)
NODES = ("spend", *DEFAULT_FUNNEL.names, "revenue")


def _texts(d: Decomposition) -> tuple[str, ...]:
    """The notes as their English sentences."""
    return tuple(n.text for n in d.notes)


def total(d: Decomposition) -> float:
    return math.fsum([p.effect for p in d.parts] + [d.not_comparable])


def scale_of(d: Decomposition) -> float:
    return math.fsum([abs(p.effect) for p in d.parts] + [abs(d.plan), abs(d.fact), 1.0])


# --------------------------------------------------------------------------- totals


def test_total_of_one_line_is_the_line_with_no_mix() -> None:
    line = decompose(A, TWO)
    d = decompose_total([A], TWO)
    assert [p.key for p in d.parts] == ["spend", "mix", "cpc", "cr_purchases"]
    assert d.part("mix").effect == 0.0
    for p in line.parts:
        assert d.part(p.key).effect == p.effect
    assert (d.plan, d.fact, d.gap) == (2.0, 3.0, 1.0)


def test_two_channels_by_hand() -> None:
    # A (the two-stage example): L_A = 1/ln 1.5; spend 0.4496602868, CPL -0.7095112914,
    #   CR 1.2598510046.
    # B: purchases 2 -> 2, so L_B = 2; spend 100 -> 80: 2 ln 0.8 = -0.4462871026;
    #   CPL 10 -> 10: 0; CR 0.2 -> 0.25: 2 ln 1.25 = +0.4462871026.
    # Budget S = 200 in plan and in fact: the budget's part is 0 and the spend parts are mix:
    #   mix = 0.4496602868 - 0.4462871026 = 0.0033731842;
    #   CR = 1.2598510046 + 0.4462871026 = 1.7061381072; CPC = -0.7095112914 (A's alone).
    # 0 + 0.0033731842 - 0.7095112914 + 1.7061381072 = 1.0000000000 = (3 + 2) - (2 + 2)
    d = decompose_total([A, B], TWO)
    assert (d.label, d.plan, d.fact, d.gap, d.not_comparable) == ("Total", 4.0, 5.0, 1.0, 0.0)
    assert d.part("spend").effect == 0.0
    assert d.part("mix").effect == pytest.approx(0.003373184158372015, abs=1e-12)
    assert d.part("cpc").effect == pytest.approx(-0.7095112913514548, abs=1e-12)
    assert d.part("cr_purchases").effect == pytest.approx(1.7061381071930828, abs=1e-12)
    assert d.part("mix").plan is None and d.part("cr_purchases").fact is None
    assert total(d) == pytest.approx(1.0, abs=1e-12)


def test_total_budget_part_when_the_budget_grows() -> None:
    # A and B both double spend and every count: all of each gap is spend, and it is budget
    # (S 200 -> 400), none of it mix: budget part = L_A ln 2 + L_B ln 2 = 2 + 2 = 4
    lines = [
        PlanFact(x.label, x.plan, {k: 2 * v for k, v in x.plan.items() if v is not None})
        for x in (A, B)
    ]
    d = decompose_total(lines, TWO)
    assert d.part("spend").effect == pytest.approx(4.0, rel=1e-12)
    assert abs(d.part("mix").effect) < 1e-12


def test_total_leaves_out_a_blank_line_and_keeps_not_comparable() -> None:
    blank = PlanFact("No CRM", A.plan, {"spend": 10, "leads": 1})
    stopped = PlanFact("Stopped", A.plan, {"spend": 0, "leads": 0, "purchases": 0})
    d = decompose_total([A, blank, stopped], TWO)
    assert (d.plan, d.fact, d.gap, d.not_comparable) == (4.0, 3.0, -1.0, -2.0)
    assert _texts(d)[0] == "No CRM left out: purchases is blank in fact: no gap to decompose"
    assert _texts(d)[1].startswith("Stopped: spend is 0 in fact: the funnel stops there")
    assert total(d) == pytest.approx(-1.0, abs=1e-12)
    only_blank = decompose_total([blank], TWO)
    assert math.isnan(only_blank.gap) and only_blank.parts == ()
    with pytest.raises(InputError, match="a total needs at least one line"):
        decompose_total([], TWO)


def test_total_line_sums_and_keeps_blanks_blank() -> None:
    line = total_line([A, PlanFact("C", {"spend": 5, "leads": None}, B.fact)], TWO, "All")
    assert line.label == "All"
    assert line.plan == {"spend": 105.0, "leads": None, "purchases": None, "revenue": None}
    assert line.fact == {"spend": 200.0, "leads": 17.0, "purchases": 5.0, "revenue": None}


def test_total_cpa_on_summed_absolutes_by_hand() -> None:
    # Sums: plan spend 200, leads 20, purchases 4 -> CPA 50, CPL 10, CR 0.2;
    #       fact spend 200, leads 17, purchases 5 -> CPA 40, CPL 200/17, CR 5/17. Gap -10.
    # L(40, 50) = 10 / ln 1.25 = 44.8142011772
    # price:       L ln(20/17) = 44.8142011772 * 0.1625189295 =   7.2831560016
    # conversion: -L ln(25/17) = -44.8142011772 * 0.3856624808 = -17.2831560016
    d = decompose_total_cpa([A, B], TWO)
    assert (d.label, d.plan, d.fact, d.gap) == ("Total", 50.0, 40.0, -10.0)
    assert d.part("cpc").effect == pytest.approx(7.283156001623863, abs=1e-12)
    assert d.part("cr_purchases").effect == pytest.approx(-17.283156001623863, abs=1e-12)
    assert (d.part("cpc").plan, d.part("cpc").fact) == (10.0, 200 / 17)


POSITIVE = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)
CELL = st.one_of(POSITIVE, POSITIVE, POSITIVE, st.just(0.0), st.none())
LINE = st.builds(
    lambda p, f: PlanFact("l", p, f),
    st.fixed_dictionaries({n: CELL for n in NODES}),
    st.fixed_dictionaries({n: CELL for n in NODES}),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(LINE, min_size=1, max_size=5), st.sampled_from(["outcome", "revenue"]))
def test_total_parts_sum_to_the_sum_of_the_channels_gaps(
    lines: list[PlanFact], metric: str
) -> None:
    d = decompose_total(lines, metric=metric)  # type: ignore[arg-type]
    gaps = [decompose(x, metric=metric).gap for x in lines]  # type: ignore[arg-type]
    kept = [g for g in gaps if math.isfinite(g)]
    if not kept:
        assert math.isnan(d.gap)
        return
    assert d.gap == math.fsum(kept)
    assert abs(total(d) - d.gap) <= 1e-9 * scale_of(d)
    assert d.parts == () or d.parts[0].key in ("spend", *DEFAULT_FUNNEL.names, "revenue")
    cpa = decompose_total_cpa(lines)
    assert math.isnan(cpa.gap) or abs(total(cpa) - cpa.gap) <= 1e-9 * scale_of(cpa)


# --------------------------------------------------------------------------- many rows at once


def _rows(rng: np.random.Generator, n: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    plan = {k: rng.uniform(1, 1000, n) for k in NODES}
    fact = {k: plan[k] * rng.uniform(0.5, 1.5, n) for k in NODES}
    return plan, fact


@pytest.mark.parametrize("metric", ["outcome", "revenue"])
def test_arrays_match_decompose_row_by_row(metric: str) -> None:
    rng = np.random.default_rng(7)
    plan, fact = _rows(rng, 50)
    fact["leads"][3] = 0.0  # not done: outcome positive, a zero stage
    fact["purchases"][4] = np.nan  # not done: outcome blank (for purchases)
    plan["spend"][5] = 0.0
    fact["purchases"][6] = plan["purchases"][6]  # no gap
    out = decompose_arrays(plan, fact, metric=metric)  # type: ignore[arg-type]
    assert out.keys[:3] == ("spend", "cpc", "cr_leads")
    assert out.effects.shape == (50, len(out.keys))
    assert not out.done[3] and not out.done[4] and not out.done[5] and out.done.sum() == 47
    assert out.not_comparable[5] == out.gap[5] and (out.effects[3] == 0).all()
    for i in np.flatnonzero(out.done):
        row = PlanFact(
            "r",
            {k: float(v[i]) for k, v in plan.items()},
            {k: float(v[i]) for k, v in fact.items()},
        )
        d = decompose(row, metric=metric)  # type: ignore[arg-type]
        assert [p.key for p in d.parts] == list(out.keys)
        assert out.gap[i] == d.gap
        np.testing.assert_allclose(
            out.effects[i], [p.effect for p in d.parts], rtol=1e-9, atol=1e-9
        )
    sums = out.effects.sum(axis=1) + out.not_comparable
    ok = np.isfinite(out.gap)
    np.testing.assert_allclose(sums[ok], out.gap[ok], rtol=1e-9, atol=1e-9)
    assert np.isnan(out.not_comparable[4]) == (metric == "outcome")


def test_log_mean_arrays() -> None:
    a = np.array([3.0, 2.0, 5.0, 1.0 + 1e-9])
    b = np.array([2.0, 3.0, 5.0, 1.0])
    # L(3, 2) = 1 / ln 1.5 = 2.466303462376432; L(5, 5) = 5; L(1 + 1e-9, 1) = 1 + 0.5e-9
    np.testing.assert_allclose(
        log_mean_arrays(a, b), [2.466303462376432, 2.466303462376432, 5.0, 1.0 + 0.5e-9], rtol=1e-12
    )


def test_arrays_refuse_bad_columns() -> None:
    plan, fact = _rows(np.random.default_rng(1), 3)
    with pytest.raises(InputError, match="the fact arrays have no `calls`"):
        decompose_arrays(plan, {k: v for k, v in fact.items() if k != "calls"})
    with pytest.raises(InputError, match="`leads` in the plan arrays must be finite and >= 0"):
        decompose_arrays(plan | {"leads": np.array([1.0, -1.0, 2.0])}, fact)
    with pytest.raises(InputError, match="must be one-dimensional with one value per row"):
        decompose_arrays(plan, fact | {"pp": np.ones(4)})
