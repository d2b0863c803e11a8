"""Shapley values: worked by hand, by permutations, efficiency, symmetry, null player, the limit.

The game: v(S) = the conversions of the journeys whose channel set lies within S.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from planning.attribution import Paths, attribute, shapley
from planning.errors import InputError
from planning.shapley import marginal_values, subset_sums


def to_paths(journeys: list[tuple[str, float, float]], channels: str = "ABC") -> Paths:
    """Journeys as strings of one-letter channels ("ABA"), with conversions and value."""
    code = {c: i for i, c in enumerate(channels)}
    return Paths(
        tuple(channels),
        np.array([code[c] for names, _, _ in journeys for c in names]),
        np.zeros(sum(len(n) for n, _, _ in journeys)),
        np.cumsum([0] + [len(n) for n, _, _ in journeys]),
        np.array([c for _, c, _ in journeys], dtype=float),
        np.array([v for _, _, v in journeys], dtype=float),
    )


def by_permutations(journeys: list[tuple[str, float, float]], channels: str) -> dict[str, float]:
    """The definition: each channel's marginal worth averaged over all joining orders."""

    def v(coalition: set[str]) -> float:
        return sum(c for names, c, _ in journeys if set(names) <= coalition)

    totals = dict.fromkeys(channels, 0.0)
    orders = list(itertools.permutations(channels))
    for order in orders:
        joined: set[str] = set()
        for channel in order:
            before = v(joined)
            joined.add(channel)
            totals[channel] += v(joined) - before
    return {c: t / len(orders) for c, t in totals.items()}


def test_hand_worked_three_channels() -> None:
    # {A}: 1, {A, B}: 1, {B, C}: 2 conversions
    # v(A)=1 v(B)=0 v(C)=0 v(AB)=2 v(AC)=1 v(BC)=2 v(ABC)=4
    # phi_A = 1/3 (1 - 0) + 1/6 (2 - 0) + 1/6 (1 - 0) + 1/3 (4 - 2) = 3/2
    # phi_B = 1/3 (0 - 0) + 1/6 (2 - 1) + 1/6 (2 - 0) + 1/3 (4 - 1) = 3/2
    # phi_C = 1/3 (0 - 0) + 1/6 (1 - 1) + 1/6 (2 - 0) + 1/3 (4 - 2) = 1
    journeys = [("A", 1, 10), ("AB", 1, 20), ("BCB", 2, 0)]
    result = shapley(to_paths(journeys))
    assert result.conversions.tolist() == pytest.approx([1.5, 1.5, 1.0], rel=1e-12)
    # value: {A} 10, {A, B} 20 -> A 10 + 10, B 10
    assert result.value.tolist() == pytest.approx([20, 10, 0], rel=1e-12)
    assert attribute(to_paths(journeys), "shapley").conversions.tolist() == pytest.approx(
        [1.5, 1.5, 1.0]
    )


def test_hand_worked_two_channels() -> None:
    # {A}: 3, {B}: 1, {A, B}: 2 -> v(A)=3 v(B)=1 v(AB)=6
    # phi_A = 1/2 (3 - 0) + 1/2 (6 - 1) = 4; phi_B = 1/2 (1 - 0) + 1/2 (6 - 3) = 2
    result = shapley(to_paths([("A", 3, 0), ("B", 1, 0), ("BA", 2, 0)], channels="AB"))
    assert result.conversions.tolist() == pytest.approx([4, 2], rel=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_equals_the_definition_by_permutations(seed: int) -> None:
    rng = np.random.default_rng(seed)
    channels = "ABCDE"
    journeys = [
        (
            "".join(rng.choice(list(channels), size=int(rng.integers(1, 5)))),
            float(rng.choice([0, 1, 1, 2, 0.5])),
            float(rng.integers(0, 100)),
        )
        for _ in range(15)
    ]
    result = shapley(to_paths(journeys, channels))
    expected = by_permutations(journeys, channels)
    assert result.conversions.tolist() == pytest.approx(
        [expected[c] for c in channels], rel=1e-12, abs=1e-12
    )
    # efficiency: the values add up to v(all channels) = every conversion
    assert result.conversions.sum() == pytest.approx(sum(c for _, c, _ in journeys), rel=1e-12)
    assert result.value.sum() == pytest.approx(sum(v for _, _, v in journeys), rel=1e-12)


def test_symmetry_and_the_null_player() -> None:
    # B and C always come together: equal values; D only in a journey that did not convert
    # and E never touched: 0
    journeys = [("BC", 1, 0), ("ACB", 2, 0), ("A", 1, 0), ("DA", 0, 0)]
    result = shapley(to_paths(journeys, "ABCDE"))
    phi = dict(zip("ABCDE", result.conversions.tolist(), strict=True))
    assert phi["B"] == pytest.approx(phi["C"], rel=1e-12)
    assert phi["D"] == 0 and phi["E"] == 0
    # the even split: BC 1/2 each; ACB 2/3 each; A 1
    assert phi == pytest.approx(
        {"A": 2 / 3 + 1, "B": 1 / 2 + 2 / 3, "C": 1 / 2 + 2 / 3, "D": 0, "E": 0}
    )


def test_subset_sums_and_marginal_values_on_a_game_given_directly() -> None:
    # a game that is not a sum of journeys: v(S) = |S|^2 over 3 players -> symmetric, 9 / 3 each
    n = 3
    v = np.array([[bin(mask).count("1") ** 2] for mask in range(1 << n)], dtype=float)
    assert marginal_values(v, n)[:, 0].tolist() == pytest.approx([3, 3, 3])
    worth = np.zeros((8, 1))
    worth[0b011] = 2.0
    worth[0b100] = 1.0
    sums = subset_sums(worth, n)[:, 0].tolist()
    assert sums == [0, 0, 0, 2, 1, 1, 1, 3]


def test_more_channels_than_the_limit_are_refused_with_both_numbers() -> None:
    names = tuple(f"c{i:02d}" for i in range(16))
    paths = Paths(names, np.arange(16), np.zeros(16), np.arange(17), np.ones(16), np.zeros(16))
    with pytest.raises(
        InputError,
        match=r"^16 channels appear in converting journeys, more than `max_channels` = 15",
    ):
        shapley(paths)
    with pytest.raises(InputError, match="more than `max_channels` = 15"):
        attribute(paths, "shapley")
    result = shapley(paths, max_channels=16)
    assert result.conversions.tolist() == pytest.approx([1.0] * 16)
    # channels that never convert do not count toward the limit
    quiet = Paths(
        names, np.arange(16), np.zeros(16), np.arange(17), np.r_[np.ones(15), 0], np.zeros(16)
    )
    assert shapley(quiet).conversions.sum() == pytest.approx(15)
    with pytest.raises(InputError, match=r"`max_channels` must be 1\.\.30, got 0"):
        shapley(paths, max_channels=0)
