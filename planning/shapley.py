"""Exact Shapley values of the channels, from the journeys' channel sets.

The game: the players are the channels; a coalition ``S`` is worth the conversions (and,
separately, the value) of the journeys whose set of channels lies within ``S``:
``v(S) = sum of conversions of journeys j with channels(j) ⊆ S``. A channel's Shapley value is
its marginal worth averaged over every order the channels can join in:
``phi_i = sum over S without i of |S|! (n - |S| - 1)! / n! * (v(S ∪ {i}) - v(S))``.

Computed exactly over bitmasks: each journey's channel set is a mask; the conversions per mask
are summed into ``v`` over all ``2 ** n`` coalitions by a subset-sum (zeta) transform, ``n``
passes of numpy; then each channel's marginal gains are weighted by coalition size. Memory and
time grow as ``2 ** n``, hence ``max_channels``: only the channels that appear in a converting
journey play (any other is a null player with value 0), and more than ``max_channels`` of them
is an `InputError` naming the limit and the count.

What this game gives: ``v`` is a sum of unanimity games, one per journey, so its Shapley value
is each journey's conversions split evenly among its *distinct* channels (a channel touched
three times in a journey counts once). The tests check the bitmask result against that and
against the definition by permutations; it is the "simplified Shapley value" of
Zhao et al. (2018). A different worth (a conversion rate per coalition, say) would use the same
machinery with another ``v``.
"""

from __future__ import annotations

import math

import numpy as np

from planning.credits import Attribution, credited
from planning.errors import InputError
from planning.journey_paths import Paths

MAX_CHANNELS = 15


def shapley(paths: Paths, max_channels: int = MAX_CHANNELS) -> Attribution:
    """Exact Shapley values of conversions and value per channel (module doc)."""
    if isinstance(max_channels, bool) or not isinstance(max_channels, int | np.integer):
        raise InputError(f"`max_channels` must be a whole number, got {max_channels!r}")
    if not 1 <= max_channels <= 30:
        raise InputError(f"`max_channels` must be 1..30, got {max_channels!r}")
    sub = credited(paths)
    size = len(sub.channels)
    players = np.unique(sub.touch_channel)
    n = len(players)
    if n > max_channels:
        raise InputError(
            f"{n} channels appear in converting journeys, more than `max_channels` = "
            f"{max_channels} (exact Shapley values need 2 ** channels coalitions)"
        )
    conversions, value = np.zeros(size), np.zeros(size)
    if n == 0:
        return Attribution("shapley", sub.channels, conversions, value)
    local = np.zeros(size, dtype=np.int64)
    local[players] = np.arange(n)
    bits = np.left_shift(np.int64(1), local[sub.touch_channel])
    masks = np.bitwise_or.reduceat(bits, sub.offsets[:-1])
    worth = np.column_stack(
        (
            np.bincount(masks, weights=sub.conversions, minlength=1 << n),
            np.bincount(masks, weights=sub.value, minlength=1 << n),
        )
    )
    phi = marginal_values(subset_sums(worth, n), n)
    conversions[players], value[players] = phi[:, 0], phi[:, 1]
    return Attribution("shapley", sub.channels, conversions, value)


def subset_sums(worth: np.ndarray, n: int) -> np.ndarray:
    """``v(S) = sum of worth(T) for T ⊆ S`` for every mask ``S`` (rows; columns kept apart)."""
    v = worth.astype(np.float64, copy=True)
    for i in range(n):
        view = v.reshape(-1, 2, 1 << i, v.shape[1])
        view[:, 1] += view[:, 0]
    return v


def marginal_values(v: np.ndarray, n: int) -> np.ndarray:
    """Shapley values (n, columns) of the game `v` given on all ``2 ** n`` masks."""
    sizes = np.zeros(1 << n, dtype=np.int64)
    for i in range(n):
        sizes[1 << i : 1 << (i + 1)] = sizes[: 1 << i] + 1
    # |S|! (n - |S| - 1)! / n! = 1 / (n * C(n - 1, |S|))
    coefficient = np.array([1.0 / (n * math.comb(n - 1, s)) for s in range(n)])
    phi = np.zeros((n, v.shape[1]))
    for i in range(n):
        view = v.reshape(-1, 2, 1 << i, v.shape[1])
        gain = view[:, 1] - view[:, 0]
        weight = coefficient[sizes.reshape(-1, 2, 1 << i)[:, 0]]
        phi[i] = np.einsum("ab,abc->c", weight, gain)
    return phi
