"""Markov-chain removal effects: what share of the conversions is lost without a channel.

The chain
---------
Every journey is a walk ``start -> c1 -> c2 -> ... -> cn -> conversion | null``. In a chain of
order ``k`` a state is the last ``k`` channels touched (the first states of a journey hold the
fewer channels seen so far, so ``(Search)`` at the start differs from ``(Display, Search)``).
Transition probabilities are counted from the paths: ``P(s -> s')`` = the walks leaving ``s`` for
``s'`` over all walks leaving ``s``. Leaving the last state, a journey is absorbed: its
conversions go to ``conversion`` (the expected conversions of a state, ``r(s)``, are the
conversions of the journeys ending there over the walks leaving it; with one conversion per
converting journey this is the probability of converting from there), everything else is ``null``.

Repeated touches of one channel stay in the walk (``Search -> Search``): in order 1 such a self
loop changes no absorption probability; in orders 2 and 3 it is a state of its own.

Solving, exactly
----------------
With ``Q`` the transitions among the transient states (``start`` and the channel states) and
``r`` the conversions on leaving, the expected conversions from each state solve
``(I - Q) x = r`` (a sparse linear solve, `scipy.sparse.linalg.spsolve`; no simulation).
``conversion_rate`` is ``x[start]``. ``(I - Q)`` is invertible because every state was seen on a
path that ended, so absorption is reachable from every state.

Removal effect
--------------
Removing channel ``c`` sends every state that holds ``c`` to ``null``: the same solve on the
other states. ``effect[c] = 1 - x_without_c[start] / x[start]``, the share of conversions lost.
Effects do not add up to 1 (a conversion through two channels is lost without either), so the
``markov`` model splits the conversions by the effects' shares: ``conversions * effect[c] /
sum(effect)``. Value is solved the same way with the journeys' value on leaving (``value_effect``)
and split by its own shares, so a channel on the high-value paths gets more of the value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from planning.credits import Attribution
from planning.errors import InputError
from planning.journey_paths import Paths

MAX_ORDER = 3
_DENSE_STATES = 1 << 24
"""Up to this many possible state codes they are numbered through a lookup table, not a sort."""


@dataclass(frozen=True, eq=False)
class RemovalEffects:
    """Per channel, the share of conversions lost when the channel is removed from the chain."""

    channels: tuple[str, ...]
    effect: np.ndarray  # share of conversions lost without the channel (0..1)
    conversion_rate: float  # expected conversions per journey from start (P(conversion) at 1 each)
    order: int
    value_effect: np.ndarray = field(default_factory=lambda: np.zeros(0))  # the same for value
    states: int = 0  # transient states of the chain (start included)


@dataclass(frozen=True, eq=False)
class Chain:
    """The absorbing chain of one order: ``(I - Q)`` over the transient states (0 = start) and,
    per state, the expected conversions and value on leaving it, and the channels it holds."""

    system: sp.csc_matrix  # I - Q
    leaving: np.ndarray  # (states, 2): conversions and value absorbed on leaving, per walk
    holds: np.ndarray  # (states, channels) bool: the state holds the channel


def _check_order(order: int) -> None:
    if isinstance(order, bool) or not isinstance(order, int | np.integer):
        raise InputError(f"`order` must be a whole number 1..{MAX_ORDER}, got {order!r}")
    if not 1 <= order <= MAX_ORDER:
        raise InputError(f"`order` must be 1..{MAX_ORDER}, got {order!r}")


def state_codes(paths: Paths, order: int) -> np.ndarray:
    """Per touch, its state as a number: the last `order` channels (code + 1, 0 before the
    journey's start) as digits in base ``channels + 1``, the newest lowest."""
    base = len(paths.channels) + 1
    if base**order >= 2**62:
        raise InputError(f"too many channels ({base - 1}) for a chain of order {order}")
    lengths = paths.lengths
    position = np.arange(len(paths.touch_channel)) - np.repeat(paths.offsets[:-1], lengths)
    digit = paths.touch_channel.astype(np.int64) + 1
    code = digit.copy()
    for back in range(1, order):
        earlier = np.zeros_like(digit)
        earlier[back:] = digit[:-back]
        earlier[position < back] = 0
        code += earlier * base**back
    return code


def _number_states(code: np.ndarray, possible: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct codes (sorted) and each touch's index among them."""
    if possible <= _DENSE_STATES:
        seen = np.zeros(possible, dtype=bool)
        seen[code] = True
        distinct = np.flatnonzero(seen)
        index = np.cumsum(seen) - 1
        return distinct, index[code]
    distinct, inverse = np.unique(code, return_inverse=True)
    return distinct, inverse


def build_chain(paths: Paths, order: int = 1) -> Chain:
    """The transient part of the order-`order` chain counted from `paths`."""
    _check_order(order)
    base = len(paths.channels) + 1
    distinct, index = _number_states(state_codes(paths, order), base**order)
    n = len(distinct) + 1
    state = index + 1  # 0 is start
    first = paths.offsets[:-1]
    source = np.empty_like(state)
    source[1:] = state[:-1]
    source[first] = 0
    end_state = state[paths.offsets[1:] - 1]
    leaving = np.bincount(source, minlength=n) + np.bincount(end_state, minlength=n)
    weights = 1.0 / leaving[source]
    q = sp.coo_matrix((weights, (source, state)), shape=(n, n)).tocsc()
    system = (sp.identity(n, format="csc") - q).tocsc()
    absorbed = (
        np.column_stack(
            (
                np.bincount(end_state, weights=paths.conversions, minlength=n),
                np.bincount(end_state, weights=paths.value, minlength=n),
            )
        )
        / leaving[:, None]
    )
    holds = np.zeros((n, len(paths.channels)), dtype=bool)
    rest = distinct.copy()
    rows = np.arange(1, n)
    for _ in range(order):
        digit = rest % base
        held = digit > 0
        holds[rows[held], digit[held] - 1] = True
        rest //= base
    return Chain(system, absorbed, holds)


def _from_start(system: sp.csc_matrix, leaving: np.ndarray) -> np.ndarray:
    """Expected conversions and value from start (state 0)."""
    if system.shape[0] == 1:
        return leaving[0]
    solution = spsolve(system, leaving)
    return np.asarray(solution).reshape(system.shape[0], -1)[0]


def removal_effects(paths: Paths, order: int = 1) -> RemovalEffects:
    """Each channel's removal effect in the order-`order` chain (module doc), solved exactly."""
    _check_order(order)
    size = len(paths.channels)
    if paths.journeys == 0:
        return RemovalEffects(paths.channels, np.zeros(size), 0.0, order, np.zeros(size), 1)
    chain = build_chain(paths, order)
    full = _from_start(chain.system, chain.leaving)
    without = np.zeros((size, 2))
    for channel in range(size):
        keep = np.flatnonzero(~chain.holds[:, channel])
        if len(keep) == len(chain.holds):
            without[channel] = full
            continue
        sub = chain.system[keep][:, keep].tocsc()
        without[channel] = _from_start(sub, chain.leaving[keep])
    with np.errstate(divide="ignore", invalid="ignore"):
        effect = np.where(full > 0, 1.0 - without / full, 0.0)
    effect = np.clip(effect, 0.0, 1.0)
    return RemovalEffects(
        channels=paths.channels,
        effect=effect[:, 0],
        conversion_rate=float(full[0]),
        order=order,
        value_effect=effect[:, 1],
        states=len(chain.holds),
    )


def split_by_effect(total: float, effect: np.ndarray) -> np.ndarray:
    """`total` split in proportion to `effect` (zeros when the effects are all 0)."""
    weight = float(effect.sum())
    if weight <= 0:
        return np.zeros(len(effect))
    return total * effect / weight


def markov_attribution(paths: Paths, order: int = 1) -> Attribution:
    """Conversions and value split by the removal effects' shares."""
    return split_by_effects(paths, removal_effects(paths, order))


def split_by_effects(paths: Paths, effects: RemovalEffects) -> Attribution:
    """The Markov credits of `paths` from its removal effects (solved once, used twice)."""
    return Attribution(
        "markov",
        paths.channels,
        split_by_effect(float(paths.conversions.sum()), effects.effect),
        split_by_effect(float(paths.value.sum()), effects.value_effect),
    )
