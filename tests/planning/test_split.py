"""planning.split: the request checked once, its defaults, and `propose` worked by hand."""

from __future__ import annotations

import math
from dataclasses import FrozenInstanceError, asdict
from typing import Any

import pytest

from planning.curves import ChannelFit
from planning.errors import InputError
from planning.optimize import InfeasibleError
from planning.response import Linear
from planning.split import (
    DEFAULT_CHANGE,
    DEFAULT_OBJECTIVE,
    ChannelInputs,
    ProposalTotals,
    SplitRequest,
    propose,
)


def _fit(channel: str, cpa: float, capacity: float = math.inf) -> ChannelFit:
    return ChannelFit(channel, Linear(cpa, capacity), "given", (), (), 0, math.nan)


# A: CPA 100 up to 30 conversions a day (3 000 a day); B: CPA 200, no cap.
FITS = {"A": _fit("A", 100.0, 30.0), "B": _fit("B", 200.0)}


def _message(**kwargs: Any) -> str:
    args: dict[str, Any] = {"current": {"A": 1000.0}, "budget": 1000.0, **kwargs}
    with pytest.raises(InputError) as err:
        SplitRequest(**args)
    return str(err.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"budget": 0}, "`budget` must be a number > 0, got 0"),
        ({"budget": -5}, "`budget` must be a number > 0, got -5"),
        ({"budget": math.inf}, "`budget` must be a number > 0, got inf"),
        ({"budget": True}, "`budget` must be a number > 0, got True"),
        ({"days": 0}, "`days` must be a whole number of days >= 1, got 0"),
        ({"days": 1.5}, "`days` must be a whole number of days >= 1, got 1.5"),
        ({"step": -1.0}, "`step` must be a number >= 0, got -1.0"),
        (
            {"objective": "revenue"},
            "`objective` must be one of leads, value, attributed, got 'revenue'",
        ),
        (
            {"max_change": -0.1},
            "`max_change` must be a share >= 0 (0.5 = ±50%, 0 = no default limits), got -0.1",
        ),
    ],
)
def test_the_request_is_checked_once_naming_the_input(kwargs: dict[str, Any], message: str) -> None:
    assert _message(**kwargs) == message


def test_the_request_is_frozen_and_normalised() -> None:
    request = SplitRequest(
        current={"A": 1000, "B": 500}, budget=1500, step=0, inputs={"B": ChannelInputs(max=900)}
    )
    assert request.channels == ("A", "B")
    assert request.current == {"A": 1000.0, "B": 500.0} and request.budget == 1500.0
    assert request.step is None  # 0: no rounding
    assert request.inputs == {"A": ChannelInputs(), "B": ChannelInputs(max=900)}
    assert request.objective == DEFAULT_OBJECTIVE == "leads"
    assert request.max_change == DEFAULT_CHANGE == 0.5 and request.days == 1
    with pytest.raises(FrozenInstanceError):
        request.budget = 2.0  # type: ignore[misc]


def test_default_limits_only_for_channels_without_any() -> None:
    request = SplitRequest(
        current={"A": 1000.0, "B": 500.0, "C": 0.0, "D": 800.0},
        budget=2300.0,
        inputs={"B": ChannelInputs(max=900.0), "D": ChannelInputs(locked=True)},
        step=300.0,
    )
    specs, defaulted = request.limits()
    # A: ±50% of 1 000 = [500, 1 500], widened to steps of 300: [300, 1 500]; C spends nothing
    assert defaulted == {"A"}
    assert (specs["A"].min, specs["A"].max) == (300.0, 1500.0)
    assert specs["B"] == ChannelInputs(max=900.0) and specs["C"] == ChannelInputs()
    assert SplitRequest(current={"A": 1.0}, budget=1.0, max_change=0).limits() == (
        {"A": ChannelInputs()},
        set(),
    )


def test_propose_worked_by_hand_with_the_default_limits() -> None:
    # A 1 000 and B 1 000 a day now, 2 000 to split. Without limits A would go to its cap
    # 3 000; within ±50% A gets 1 500 (its default max) and B the other 500 (its default min).
    request = SplitRequest(current={"A": 1000.0, "B": 1000.0}, budget=2000.0)
    proposal = propose(request, FITS, history="by hand")
    a, b = proposal.channels
    assert (a.proposed, b.proposed) == (1500.0, 500.0)
    assert (a.expected, b.expected) == (15.0, 2.5) and (a.delta, b.delta_pct) == (500.0, -0.5)
    flag = "default limits ±50% of current (set min/max to change)"
    assert "at max" in a.flags and flag in a.flags and "at min" in b.flags
    t = proposal.totals
    assert isinstance(t, ProposalTotals)
    # now: 10 + 5 = 15; then 15 + 2.5 = 17.5
    assert (t.conversions_now, t.expected_conversions, t.uplift) == (15.0, 17.5, 2.5)
    assert t.cpa == pytest.approx(2000 / 17.5) and math.isnan(t.value)
    out = proposal.to_dict()
    assert out["total"] == asdict(t) and out["history"] == "by hand"
    assert list(out["solver"]) == ["method", "iterations", "multiplier", "success", "message"]
    # max change 0: no default limits, A to its cap 3 000 is more than the 2 000: all to A
    free = propose(
        SplitRequest(current={"A": 1000.0, "B": 1000.0}, budget=2000.0, max_change=0), FITS
    )
    assert [c.proposed for c in free.channels] == [2000.0, 0.0]


def test_a_month_is_split_per_day_and_said_in_the_months_amounts() -> None:
    request = SplitRequest(current={"A": 30_000.0, "B": 30_000.0}, budget=60_000.0, days=30)
    proposal = propose(request, FITS)
    # per day as above: 1 500 and 500, x 30
    assert [c.proposed for c in proposal.channels] == [45_000.0, 15_000.0]
    assert proposal.totals.expected_conversions == pytest.approx(30 * 17.5)


def test_infeasible_default_limits_say_so() -> None:
    request = SplitRequest(current={"A": 1000.0, "B": 1000.0}, budget=4000.0)
    with pytest.raises(InfeasibleError) as err:
        propose(request, FITS)
    assert str(err.value) == (
        "maximum spends add up to 3,000, below the budget 4,000 by 1,000; A, B without min/max "
        "keep within ±50% of current: set their min/max or a larger max change"
    )


def test_a_channel_without_a_curve_keeps_its_spend() -> None:
    request = SplitRequest(current={"A": 1000.0, "C": 400.0}, budget=1400.0, max_change=0)
    proposal = propose(request, FITS)
    a, c = proposal.channels
    assert (a.proposed, c.proposed) == (1000.0, 400.0)
    assert c.flags == ["no history and no plan CPA: kept at its current spend"]
    with pytest.raises(InfeasibleError, match=r"does not cover the 400\.00 kept"):
        propose(SplitRequest(current={"A": 1000.0, "C": 400.0}, budget=300.0), FITS)


def test_the_value_objective_needs_a_value_for_every_channel() -> None:
    inputs = {"A": ChannelInputs(value=10.0)}
    request = SplitRequest(
        current={"A": 1000.0, "B": 1000.0}, budget=2000.0, inputs=inputs, objective="value"
    )
    with pytest.raises(InputError, match="the objective `value` needs one for every channel"):
        propose(request, FITS)
