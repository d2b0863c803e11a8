"""The sample's ad groups: an ad export's day-and-campaign rows broken down by ad group.

Google Ads, Yandex Direct, Meta Ads (ad sets) and VK Ads write one row per day, campaign and ad
group (issue 15's Drill by segment); the groups are named as the CRM tags its leads' ``utm_term``
(`sheets_sync.samples.lead_exports.SEGMENTS`: brand, generic, retarget), so the segment rows of
the Drill sheet have spend from the ad exports and leads from the CRM.

Decisions:

* each campaign splits its delivery by fixed shares, the same every day, drawn once per
  campaign (`ad_group_shares`) from a random stream of their own (``[seed, 15]``): the demo's
  other numbers (the other files, the rows' totals, the deliberate mess) stay exactly as they
  were;
* a day's spend is split in whole kopecks, clicks, impressions and platform conversions in
  whole units (`split_whole`): every part but the last is rounded down, the last takes the
  rest, so the parts add up exactly to the row and none is negative;
* impressions are split as the clicks plus a split of the impressions without a click, so no
  ad group has more clicks than impressions;
* a part with no spend, impressions, clicks or conversions is left out, as the platforms leave
  out an ad group without delivery that day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from sheets_sync.samples.lead_exports import SEGMENTS

__all__ = ["GROUP_MIX", "ad_group_shares", "by_ad_group", "split_whole"]

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

GROUP_MIX: tuple[float, ...] = (0.4, 0.45, 0.15)
"""The ad groups' expected shares of a campaign's delivery, in `SEGMENTS` order (about the
CRM's utm_term mix); each campaign's own shares scatter around them."""
_CONCENTRATION = 12.0
"""How tightly a campaign's shares keep to `GROUP_MIX` (Dirichlet concentration)."""


def ad_group_shares(names: Sequence[str], seed: int) -> dict[str, Floats]:
    """Per campaign name, its ad groups' shares (summing to 1, in `SEGMENTS` order), drawn
    from the stream ``[seed, 15]`` in the order of `names`."""
    rng = np.random.default_rng([int(seed), 15])
    alpha = _CONCENTRATION * np.asarray(GROUP_MIX, dtype=np.float64)
    drawn = rng.dirichlet(alpha, size=len(names))
    return {name: drawn[i] for i, name in enumerate(names)}


def split_whole(totals: npt.ArrayLike, shares: npt.ArrayLike) -> Ints:
    """``(n, k)`` non-negative whole parts of the ``(n,)`` whole `totals` by ``(n, k)``
    `shares` (each row summing to 1): ``floor(total * share)`` for every part but the last,
    the rest on the last, so each row adds up exactly to its total."""
    whole = np.asarray(totals, dtype=np.int64)
    weights = np.asarray(shares, dtype=np.float64)
    parts = np.floor(whole[:, None] * weights[:, :-1]).astype(np.int64)
    parts = np.minimum(parts, whole[:, None])  # a share a hair over 1 cannot overdraw
    last = whole - parts.sum(axis=1)
    return np.concatenate([parts, last[:, None]], axis=1)


def by_ad_group(rows: pd.DataFrame, shares: Mapping[str, Floats]) -> pd.DataFrame:
    """`rows` (one per day and campaign: ``date``, ``name``, ``spend`` in kopeck-rounded money,
    ``impressions``, ``clicks``, ``conversions``, and any other columns, copied) as one row per
    day, campaign and ad group: a ``group`` column after ``name`` and ``row``, the position in
    `rows` each came from. The groups of a row follow it in `SEGMENTS` order."""
    n, k = len(rows), len(SEGMENTS)
    weights = np.array([shares[name] for name in rows["name"]], dtype=np.float64)
    weights = weights.reshape(n, k)
    kopecks = np.rint(rows["spend"].to_numpy(dtype=np.float64) * 100).astype(np.int64)
    clicks = split_whole(rows["clicks"].to_numpy(dtype=np.int64), weights)
    unclicked = rows["impressions"].to_numpy(dtype=np.int64) - rows["clicks"].to_numpy()
    parts = {
        "spend": split_whole(kopecks, weights) / 100.0,
        "impressions": clicks + split_whole(np.maximum(unclicked, 0), weights),
        "clicks": clicks,
        "conversions": split_whole(rows["conversions"].to_numpy(dtype=np.int64), weights),
    }
    origin = np.repeat(np.arange(n, dtype=np.int64), k)
    out = rows.reset_index(drop=True).iloc[origin].reset_index(drop=True)
    for metric, values in parts.items():
        out[metric] = values.ravel()
    at = list(out.columns).index("name") + 1
    out.insert(at, "group", np.tile(np.asarray(SEGMENTS, dtype=object), n))
    out["row"] = origin
    delivered = np.column_stack([values.ravel() > 0 for values in parts.values()]).any(axis=1)
    return pd.DataFrame(out[delivered]).reset_index(drop=True)
