"""Markov removal effects: worked by hand, against a brute-force chain solved by power iteration
(orders 1-3, to 1e-9) and against a Monte Carlo simulation of the same chain (4 standard errors).

The brute force here is written independently of `planning.markov`: the chain is counted with
dictionaries from lists of channel names, laid out as a dense matrix and iterated
``x <- r + Q x`` from 0 until it stops moving.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.attribution import Paths, attribute, removal_effects

Journey = tuple[list[str], float, float]  # channels oldest first, conversions, value


def to_paths(journeys: list[Journey]) -> Paths:
    channels = tuple(sorted({c for names, _, _ in journeys for c in names}))
    code = {c: i for i, c in enumerate(channels)}
    return Paths(
        channels,
        np.array([code[c] for names, _, _ in journeys for c in names]),
        np.zeros(sum(len(n) for n, _, _ in journeys)),
        np.cumsum([0] + [len(n) for n, _, _ in journeys]),
        np.array([c for _, c, _ in journeys], dtype=float),
        np.array([v for _, _, v in journeys], dtype=float),
    )


class BruteChain:
    """The order-k chain counted with dictionaries; dense Q, r over states (start first)."""

    def __init__(self, journeys: list[Journey], order: int) -> None:
        moves: dict[object, Counter[object]] = defaultdict(Counter)
        leaving: Counter[object] = Counter()
        absorbed: dict[object, float] = defaultdict(float)
        for names, conversions, _ in journeys:
            state: object = "start"
            for i in range(len(names)):
                following = tuple(names[max(0, i - order + 1) : i + 1])
                moves[state][following] += 1
                leaving[state] += 1
                state = following
            leaving[state] += 1
            absorbed[state] += conversions
        others = sorted({s for s in leaving if s != "start"}, key=repr)
        self.states: list[object] = ["start", *others]
        index = {s: i for i, s in enumerate(self.states)}
        n = len(self.states)
        self.q = np.zeros((n, n))
        self.r = np.zeros(n)
        for s, counter in moves.items():
            for t, count in counter.items():
                self.q[index[s], index[t]] = count / leaving[s]
        for s, amount in absorbed.items():
            self.r[index[s]] = amount / leaving[s]

    def kept(self, removed: str | None) -> np.ndarray:
        return np.array(
            [s == "start" or removed is None or removed not in s for s in self.states]  # type: ignore[operator]
        )

    def conversions(self, removed: str | None = None) -> float:
        """Expected conversions from start, by power iteration; states holding `removed` go
        to null."""
        keep = self.kept(removed)
        q = self.q * keep[None, :] * keep[:, None]
        r = self.r * keep
        x = np.zeros(len(r))
        for _ in range(200_000):
            following = r + q @ x
            if np.max(np.abs(following - x)) < 1e-16:
                break
            x = following
        return float(following[0])

    def simulate(self, walks: int, removed: str | None, rng: np.random.Generator) -> float:
        """The share of `walks` random walks from start that convert (conversions 0 or 1)."""
        keep = self.kept(removed)
        n = len(self.states)
        # columns: the transient states, then conversion (n), then null (n + 1)
        step = np.zeros((n, n + 2))
        step[:, :n] = self.q * keep[None, :]
        step[:, n] = self.r
        step[:, n + 1] = 1 - step[:, : n + 1].sum(axis=1)
        cumulative = np.cumsum(step, axis=1)
        state = np.zeros(walks, dtype=np.int64)
        for _ in range(10_000):
            alive = state < n
            if not alive.any():
                break
            u = rng.random(int(alive.sum()))
            state[alive] = (u[:, None] > cumulative[state[alive]]).sum(axis=1)
        return float((state == n).mean())


def random_journeys(seed: int, channels: str = "ABCD", journeys: int = 40) -> list[Journey]:
    rng = np.random.default_rng(seed)
    out: list[Journey] = []
    for _ in range(journeys):
        length = int(rng.integers(1, 7))
        names = [str(c) for c in rng.choice(list(channels), size=length)]
        converts = float(rng.random() < 0.4 + 0.1 * names.count("A"))
        out.append((names, converts, converts * float(rng.integers(1, 100))))
    return out


def test_hand_worked_order_1() -> None:
    # J1 A -> B -> conversion; J2 A -> null; J3 B -> conversion
    # start -> A 2/3, start -> B 1/3; A -> B 1/2, A -> null 1/2; B -> conversion 1
    # P = 2/3 * 1/2 + 1/3 = 2/3; without A: 1/3 (effect 1/2); without B: 0 (effect 1)
    paths = to_paths([(["A", "B"], 1, 30), (["A"], 0, 0), (["B"], 1, 10)])
    effects = removal_effects(paths, order=1)
    assert effects.conversion_rate == pytest.approx(2 / 3, rel=1e-12)
    assert effects.effect.tolist() == pytest.approx([1 / 2, 1], rel=1e-12)
    # value: from start 2/3 * 1/2 * 30 ... B leaves twice with 30 + 10: r = 20 per walk;
    # x = 2/3 * 1/2 * 20 + 1/3 * 20 = 40/3; without A: 20/3 (1/2); without B: 0 (1)
    assert effects.value_effect.tolist() == pytest.approx([1 / 2, 1], rel=1e-12)
    credit = attribute(paths, "markov")
    # 2 conversions split 1/2 : 1 -> 2/3 and 4/3; value 40 -> 40/3 and 80/3
    assert credit.conversions.tolist() == pytest.approx([2 / 3, 4 / 3], rel=1e-12)
    assert credit.value.tolist() == pytest.approx([40 / 3, 80 / 3], rel=1e-12)


def test_hand_worked_order_2_sees_what_order_1_mixes() -> None:
    # J1 A -> C -> conversion; J2 B -> C -> null
    paths = to_paths([(["A", "C"], 1, 0), (["B", "C"], 0, 0)])
    first = removal_effects(paths, order=1)
    # order 1: C -> conversion 1/2 whichever way it was reached: P = 1/2;
    # without A: 1/2 * 1/2 = 1/4 (effect 1/2), likewise B; without C: 0 (effect 1)
    assert first.conversion_rate == pytest.approx(0.5)
    assert first.effect.tolist() == pytest.approx([0.5, 0.5, 1.0])
    second = removal_effects(paths, order=2)
    # order 2: states (A), (B), (A, C) -> conversion 1, (B, C) -> null 1: P = 1/2;
    # without A: 0 (effect 1); without B: 1/2 (effect 0); without C: 0 (effect 1)
    assert second.conversion_rate == pytest.approx(0.5)
    assert second.effect.tolist() == pytest.approx([1.0, 0.0, 1.0])
    assert second.states == 5  # start and 4 channel states
    assert attribute(paths, "markov", order=2).conversions.tolist() == pytest.approx([0.5, 0, 0.5])


def test_repeated_touches_change_nothing_in_order_1() -> None:
    plain = [(["A", "B"], 1.0, 0.0), (["A"], 0.0, 0.0), (["B", "A"], 1.0, 0.0)]
    repeated = [(["A", "A", "B", "B"], 1.0, 0.0), (["A", "A"], 0.0, 0.0), (["B", "A"], 1.0, 0.0)]
    a, b = removal_effects(to_paths(plain)), removal_effects(to_paths(repeated))
    np.testing.assert_allclose(a.effect, b.effect, rtol=1e-12)
    assert a.conversion_rate == pytest.approx(b.conversion_rate, rel=1e-12)


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_removal_effects_equal_the_brute_force_chain(order: int, seed: int) -> None:
    journeys = random_journeys(seed)
    # conversions of 2 and fractions too: r is then expected conversions, not a probability
    journeys[0] = (journeys[0][0], 2.0, 5.0)
    journeys[1] = (journeys[1][0], 0.5, 1.0)
    paths = to_paths(journeys)
    effects = removal_effects(paths, order=order)
    brute = BruteChain(journeys, order)
    full = brute.conversions()
    assert effects.conversion_rate == pytest.approx(full, rel=1e-9, abs=1e-12)
    assert effects.states == len(brute.states)
    for channel, effect in zip(paths.channels, effects.effect, strict=True):
        expected = 1 - brute.conversions(channel) / full
        assert effect == pytest.approx(expected, rel=1e-9, abs=1e-9), channel


@pytest.mark.parametrize("order", [1, 2, 3])
def test_removal_effects_agree_with_a_monte_carlo_of_the_chain(order: int) -> None:
    journeys = random_journeys(10 + order, channels="ABC", journeys=60)
    paths = to_paths(journeys)
    effects = removal_effects(paths, order=order)
    brute = BruteChain(journeys, order)
    rng = np.random.default_rng(order)
    walks = 40_000
    for removed, exact in [
        (None, effects.conversion_rate),
        *(
            (c, effects.conversion_rate * (1 - e))
            for c, e in zip(paths.channels, effects.effect, strict=True)
        ),
    ]:
        share = brute.simulate(walks, removed, rng)
        standard_error = max(np.sqrt(exact * (1 - exact) / walks), 1 / walks)
        assert abs(share - exact) < 4 * standard_error, (removed, share, exact)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from("ABCD"), min_size=1, max_size=3),
            st.sampled_from([0.0, 1.0, 1.0, 3.0]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_an_order_as_long_as_the_journeys_reproduces_them_exactly(
    rows: list[tuple[list[str], float]],
) -> None:
    # with order 3 and journeys of at most 3 touches, every journey is its own walk through the
    # chain: P = conversions per journey, and the effect of c = the conversions of the journeys
    # holding c over all conversions
    journeys = [(names, conversions, 0.0) for names, conversions in rows]
    paths = to_paths(journeys)
    effects = removal_effects(paths, order=3)
    total = sum(c for _, c, _ in journeys)
    assert effects.conversion_rate == pytest.approx(total / len(journeys), rel=1e-12)
    for channel, effect in zip(paths.channels, effects.effect, strict=True):
        held = sum(c for names, c, _ in journeys if channel in names)
        assert effect == pytest.approx(held / total if total else 0.0, rel=1e-9, abs=1e-12)
