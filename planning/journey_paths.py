"""Journeys encoded for the attribution models: `Paths` (CSR arrays) built by `build_paths`.

A journey is one visitor's (or one lead's) touches, oldest first, and whether it ended in a
conversion. `build_paths` turns a touches frame and an outcomes frame into `Paths`, the compact
layout every model in `planning.attribution` reads: the touches of all journeys end to end
(``touch_channel``, ``touch_age_days``) and ``offsets`` so that journey ``j`` is
``offsets[j]:offsets[j + 1]``. It also returns `PathIssues`, what it found and did, counted, so the
Data Quality sheet can show it: nothing is dropped without being counted.

The rules, in the order they are applied (a touch is counted under the first rule that drops it):

1. **Out of order** (journeys): a journey whose touches are not in time order in the input is
   sorted (by time, then channel); counted once per journey, nothing dropped.
2. **Duplicates**: the same journey, time and channel again is kept once; each extra row counted.
3. **Unknown channel**: a blank channel (empty, spaces, NaN/None) is not a channel; not counted
   as a touch. Channel names are stripped of surrounding spaces.
4. **Future**: with ``now`` given, a touch or an outcome row after ``now`` is not counted (an
   outcome after ``now`` has not happened: its journey is not converting). Without ``now``,
   nothing is in the future.
5. **After conversion**: a touch after its journey's conversion time is not counted (a touch at
   the very conversion time is).
6. **Out of lookback**: a touch more than ``lookback_days`` before the conversion (for a
   non-converting journey: before its last remaining touch) is not counted. ``None``: no limit.
7. **Long journeys**: over ``max_touches`` touches left, only the last ``max_touches`` are kept
   (the journey is counted once).

Outcomes: one row per converting journey (several rows of one journey are summed, at the first
time). ``conversions`` (optional, default 1) and ``value`` (optional, default 0; a blank value
is 0) must be finite and not negative. A journey with an outcome row (not in the future) is
*converting*; its conversion time defines rules 5 and 6 and the touch ages.

**A converting journey with no touch left** (all its touches blank, filtered, or an outcome with
no touches at all) gets one pseudo-touch of the channel ``NO_TOUCH`` ("(no touch)", age 0), so
every model's credits still add up to the conversions and value exactly, and the sheet shows how
much came with no known touch; counted as ``empty_after_filters``. A non-converting journey with
no touch left carries no information for any model and is left out of `Paths`; counted as
``empty_no_conversion`` (its touches are already counted under the rule that dropped them).

Ages: ``touch_age_days`` is the time from the touch to the conversion, in days (for a
non-converting journey: to its last kept touch). Times are compared in UTC when time-zone aware;
touches and outcomes must then both be aware (or both naive).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planning.errors import InputError

NO_TOUCH = "(no touch)"
"""The pseudo-channel of converting journeys with no touch left after the filters."""

DAY_NS = 86_400 * 10**9
_MAX_NS = np.iinfo(np.int64).max


@dataclass(frozen=True, eq=False)
class Paths:
    """Journeys encoded for the models (CSR layout), one conversion kind (lead or purchase).

    Journey ``j``'s touches are ``touch_channel[offsets[j]:offsets[j + 1]]``, oldest first; every
    journey has at least one touch. Arrays are coerced to the dtypes below and checked on
    construction (`InputError` naming the field).
    """

    channels: tuple[str, ...]  # code -> channel name
    touch_channel: np.ndarray  # int32, every kept touch, journey by journey, oldest first
    touch_age_days: np.ndarray  # float64, days from the touch to the conversion (or last touch)
    offsets: np.ndarray  # int64, len = journeys + 1
    conversions: np.ndarray  # float64 per journey (0 = did not convert)
    value: np.ndarray  # float64 per journey (revenue; 0 when none)
    direct: tuple[str, ...] = ("Direct",)  # channels last_non_direct skips when another exists

    def __post_init__(self) -> None:
        coerce = {
            "touch_channel": np.int32,
            "touch_age_days": np.float64,
            "offsets": np.int64,
            "conversions": np.float64,
            "value": np.float64,
        }
        for name, dtype in coerce.items():
            array = np.ascontiguousarray(getattr(self, name), dtype=dtype)
            if array.ndim != 1:
                raise InputError(f"`{name}` must be one-dimensional, got shape {array.shape}")
            object.__setattr__(self, name, array)
        object.__setattr__(self, "channels", tuple(str(c) for c in self.channels))
        object.__setattr__(self, "direct", tuple(str(c) for c in self.direct))
        _check_paths(self)

    @property
    def journeys(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        """Touches per journey (int64)."""
        return np.diff(self.offsets)

    def journey_of_touch(self) -> np.ndarray:
        """The journey index of every touch (int64, len = touches)."""
        return np.repeat(np.arange(self.journeys, dtype=np.int64), self.lengths)

    def subset(self, keep: np.ndarray) -> Paths:
        """The journeys where the boolean mask `keep` is true (same channels)."""
        lengths = self.lengths[keep]
        touches = np.repeat(keep, self.lengths)
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return Paths(
            self.channels,
            self.touch_channel[touches],
            self.touch_age_days[touches],
            offsets,
            self.conversions[keep],
            self.value[keep],
            self.direct,
        )


def _check_paths(paths: Paths) -> None:
    offsets = paths.offsets
    touches = len(paths.touch_channel)
    if len(offsets) < 1 or offsets[0] != 0 or offsets[-1] != touches:
        raise InputError(
            f"`offsets` must start at 0 and end at the number of touches ({touches})",
            value=None,
            has_value=False,
        )
    if np.any(np.diff(offsets) < 1):
        raise InputError("`offsets` must increase: every journey needs at least one touch")
    if len(paths.touch_age_days) != touches:
        raise InputError(
            f"`touch_age_days` has {len(paths.touch_age_days)} values for {touches} touches"
        )
    for name in ("conversions", "value"):
        array = getattr(paths, name)
        if len(array) != paths.journeys:
            raise InputError(f"`{name}` has {len(array)} values for {paths.journeys} journeys")
        if not np.all(np.isfinite(array)) or np.any(array < 0):
            raise InputError(f"`{name}` must be finite and not negative")
    if touches and (
        paths.touch_channel.min() < 0 or paths.touch_channel.max() >= len(paths.channels)
    ):
        raise InputError(f"`touch_channel` codes must be 0..{len(paths.channels) - 1}")
    ages = paths.touch_age_days
    if not np.all(np.isfinite(ages)) or np.any(ages < 0):
        raise InputError("`touch_age_days` must be finite and not negative")


@dataclass(frozen=True)
class PathIssues:
    """What build_paths found and did, counted (Data Quality shows these; nothing is dropped
    silently). Touch counters count touches (rows); the others count journeys."""

    journeys: int  # distinct journeys in touches or outcomes (= converting + no_conversion)
    converting: int  # with an outcome row (not in the future)
    no_conversion: int  # with touches but no outcome
    single_touch: int  # journeys in the paths with exactly one kept touch
    after_conversion: int  # touches after the conversion: not counted
    out_of_lookback: int  # touches older than lookback_days before the conversion: not counted
    unknown_channel: int  # touches with a blank channel: not counted
    out_of_order: int  # journeys whose touches were not in time order: sorted
    future: int  # touches or outcome rows after `now`: not counted
    duplicates: int  # the same journey, time and channel again: counted once
    long_journeys: int  # over `max_touches` touches: only the last max_touches kept
    empty_after_filters: int  # converting journeys left with no touch: credited to NO_TOUCH
    empty_no_conversion: int = 0  # non-converting journeys left with no touch: not in the paths


def build_paths(
    touches: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    lookback_days: float | None = 30.0,
    now: pd.Timestamp | None = None,
    direct: Sequence[str] = ("Direct",),
    max_touches: int = 30,
) -> tuple[Paths, PathIssues]:
    """Journeys from `touches` (journey, ts, channel) and `outcomes` (journey, ts[, conversions,
    value]) as `Paths`, with what was found counted in `PathIssues` (rules: the module's doc)."""
    _check_options(lookback_days, max_touches)
    _require(touches, ("journey", "ts", "channel"), "touches")
    _require(outcomes, ("journey", "ts"), "outcomes")
    aware = _tz_aware(touches["ts"]) if len(touches) else _tz_aware(outcomes["ts"])
    if len(touches) and len(outcomes) and _tz_aware(outcomes["ts"]) != aware:
        raise InputError("`ts` of touches and outcomes must both have a time zone or neither")
    now_ns = _now_ns(now, aware)
    journey_codes, n_journeys = _journey_codes(touches["journey"], outcomes["journey"])
    t_journey, o_journey = journey_codes[: len(touches)], journey_codes[len(touches) :]
    channel_code, names = _channel_codes(touches["channel"])
    t_ns = _ns(touches["ts"], "touches")
    conv_ns, conv, value, future_outcomes = _outcomes(outcomes, o_journey, n_journeys, now_ns)
    converting = conv_ns != _MAX_NS

    order, out_of_order = _sort_touches(t_journey, t_ns, channel_code)
    j, t, ch = t_journey[order], t_ns[order], channel_code[order]
    counts: dict[str, int] = {}
    same = (j[1:] == j[:-1]) & (t[1:] == t[:-1]) & (ch[1:] == ch[:-1])
    dup = np.zeros(len(j), dtype=bool)
    dup[1:] = same
    counts["duplicates"] = int(dup.sum())
    drop = dup.copy()
    for name, bad in (
        ("unknown_channel", ch < 0),
        ("future", t > now_ns),
        ("after_conversion", converting[j] & (t > conv_ns[j])),
    ):
        counts[name] = int((bad & ~drop).sum())
        drop |= bad
    j, t, ch = j[~drop], t[~drop], ch[~drop]
    reference = _reference(j, t, conv_ns, converting, n_journeys)
    stale = _out_of_lookback(t, reference[j], lookback_days)
    counts["out_of_lookback"] = int(stale.sum())
    j, t, ch = j[~stale], t[~stale], ch[~stale]
    keep, counts["long_journeys"] = _last_touches(j, n_journeys, max_touches)
    j, t, ch = j[keep], t[keep], ch[keep]
    paths, found = _assemble(j, t, ch, names, reference, conv, value, converting, direct)
    return paths, PathIssues(
        journeys=n_journeys,
        converting=int(converting.sum()),
        no_conversion=int(n_journeys - converting.sum()),
        single_touch=found["single_touch"],
        after_conversion=counts["after_conversion"],
        out_of_lookback=counts["out_of_lookback"],
        unknown_channel=counts["unknown_channel"],
        out_of_order=out_of_order,
        future=counts["future"] + future_outcomes,
        duplicates=counts["duplicates"],
        long_journeys=counts["long_journeys"],
        empty_after_filters=found["empty_after_filters"],
        empty_no_conversion=found["empty_no_conversion"],
    )


def _check_options(lookback_days: float | None, max_touches: int) -> None:
    if lookback_days is not None and not (np.isfinite(lookback_days) and lookback_days > 0):
        raise InputError(
            f"`lookback_days` must be a positive number of days or None, got {lookback_days!r}"
        )
    if isinstance(max_touches, bool) or not isinstance(max_touches, int | np.integer):
        raise InputError(f"`max_touches` must be a whole number, got {max_touches!r}")
    if max_touches < 1:
        raise InputError(f"`max_touches` must be at least 1, got {max_touches!r}")


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"`{name}` must be a DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"`{name}` lacks the column(s) {', '.join(missing)}"
            f" (has: {', '.join(map(str, frame.columns)) or 'none'})"
        )


def _tz_aware(ts: pd.Series) -> bool:
    return isinstance(ts.dtype, pd.DatetimeTZDtype)


def _ns(ts: pd.Series, name: str) -> np.ndarray:
    """`ts` as int64 nanoseconds (UTC when time-zone aware); a blank or unreadable time is an
    `InputError` naming the frame and row."""
    series = ts
    if not (pd.api.types.is_datetime64_any_dtype(series.dtype)):
        try:
            series = pd.to_datetime(series)
        except (ValueError, TypeError) as exc:
            raise InputError(
                f"`{name}` column `ts` must hold dates and times: {exc}", has_value=False
            ) from exc
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    values = series.to_numpy(dtype="datetime64[ns]")
    blank = np.isnat(values)
    if blank.any():
        row = ts.index[int(np.argmax(blank))]
        raise InputError(
            "is blank: every row needs a time",
            line=f"{name} row {row}",
            column="ts",
            has_value=False,
        )
    return values.view(np.int64)


def _now_ns(now: pd.Timestamp | None, aware: bool) -> int:
    if now is None:
        return int(_MAX_NS)
    stamp = pd.Timestamp(now)
    if (stamp.tzinfo is not None) != aware:
        raise InputError(
            f"`now` ({stamp}) and the touches' `ts` must both have a time zone or neither"
        )
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return int(stamp.as_unit("ns").value)


def _journey_codes(touch_ids: pd.Series, outcome_ids: pd.Series) -> tuple[np.ndarray, int]:
    ids = pd.concat([touch_ids, outcome_ids], ignore_index=True)
    codes, uniques = pd.factorize(ids)
    if len(codes) and codes.min() < 0:
        at = int(np.argmax(codes < 0))
        where = (
            f"touches row {touch_ids.index[at]}"
            if at < len(touch_ids)
            else f"outcomes row {outcome_ids.index[at - len(touch_ids)]}"
        )
        raise InputError("is blank: every row needs a journey", line=where, column="journey")
    return codes.astype(np.int64), len(uniques)


def _channel_codes(channel: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes into the sorted distinct channel names (stripped); -1 for a blank channel."""
    codes, uniques = pd.factorize(channel)
    stripped = [str(u).strip() for u in uniques]
    names = sorted({n for n in stripped if n})
    index: dict[str, int] = {n: i for i, n in enumerate(names)}
    lookup = np.array([index.get(n, -1) if n else -1 for n in stripped] + [-1], dtype=np.int64)
    return lookup[codes], names


def _number_column(
    outcomes: pd.DataFrame, column: str, default: float, blank_is_default: bool
) -> np.ndarray:
    if column not in outcomes.columns:
        return np.full(len(outcomes), default)
    raw = outcomes[column]
    numbers = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    blank = raw.isna().to_numpy()
    if blank_is_default:
        numbers = np.where(blank, default, numbers)
    bad = ~np.isfinite(numbers) | (numbers < 0)
    if bad.any():
        at = int(np.argmax(bad))
        shown = raw.iloc[at]
        raise InputError(
            "must be a finite number, not negative",
            line=f"outcomes row {outcomes.index[at]}",
            column=column,
            value=shown.item() if isinstance(shown, np.generic) else shown,
            has_value=True,
        )
    return numbers


def _outcomes(
    outcomes: pd.DataFrame, journey: np.ndarray, n_journeys: int, now_ns: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Per journey: conversion time (int64 ns; int64 max when none), conversions, value; and
    the outcome rows after `now`."""
    ts = _ns(outcomes["ts"], "outcomes")
    conversions = _number_column(outcomes, "conversions", 1.0, blank_is_default=False)
    value = _number_column(outcomes, "value", 0.0, blank_is_default=True)
    future = ts > now_ns
    ts, journey = ts[~future], journey[~future]
    conversions, value = conversions[~future], value[~future]
    conv_ns = np.full(n_journeys, _MAX_NS, dtype=np.int64)
    np.minimum.at(conv_ns, journey, ts)
    return (
        conv_ns,
        np.bincount(journey, weights=conversions, minlength=n_journeys),
        np.bincount(journey, weights=value, minlength=n_journeys),
        int(future.sum()),
    )


def _sort_touches(
    journey: np.ndarray, ts: np.ndarray, channel: np.ndarray
) -> tuple[np.ndarray, int]:
    """The order by journey, time, channel; and how many journeys were not in time order.

    Rows are grouped by journey (a stable sort) and only the journeys not already in
    (time, channel) order are sorted further: an export in time order needs one sort."""
    order = np.argsort(journey, kind="stable")
    j, t, ch = journey[order], ts[order], channel[order]
    same = j[1:] == j[:-1]
    back = same & (t[1:] < t[:-1])
    tie = same & (t[1:] == t[:-1]) & (ch[1:] < ch[:-1])
    out_of_order = len(np.unique(j[1:][back]))
    unsorted = np.unique(j[1:][back | tie])
    if len(unsorted):
        rows = np.flatnonzero(np.isin(j, unsorted))  # whole journeys, contiguous blocks
        inner = np.lexsort((ch[rows], t[rows], j[rows]))
        order[rows] = order[rows][inner]
    return order, out_of_order


def _reference(
    j: np.ndarray, t: np.ndarray, conv_ns: np.ndarray, converting: np.ndarray, n: int
) -> np.ndarray:
    """Per journey: the conversion time, or (non-converting) its last touch's time."""
    last = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    if len(j):
        ends = np.flatnonzero(np.append(j[1:] != j[:-1], True))
        last[j[ends]] = t[ends]
    return np.where(converting, conv_ns, last)


def _out_of_lookback(t: np.ndarray, reference: np.ndarray, lookback: float | None) -> np.ndarray:
    if lookback is None:
        return np.zeros(len(t), dtype=bool)
    return t < reference - round(lookback * DAY_NS)


def _last_touches(j: np.ndarray, n: int, max_touches: int) -> tuple[np.ndarray, int]:
    """Keep the last `max_touches` touches of each journey (`j` sorted); journeys cut."""
    counts = np.bincount(j, minlength=n)
    end = np.cumsum(counts)[j] if len(j) else np.zeros(0, dtype=np.int64)
    from_end = end - np.arange(len(j)) - 1
    return from_end < max_touches, int((counts > max_touches).sum())


def _assemble(
    j: np.ndarray,
    t: np.ndarray,
    ch: np.ndarray,
    names: list[str],
    reference: np.ndarray,
    conv: np.ndarray,
    value: np.ndarray,
    converting: np.ndarray,
    direct: Sequence[str],
) -> tuple[Paths, dict[str, int]]:
    """The Paths: journeys with touches in journey order, then the converting journeys with none
    (one NO_TOUCH touch each, age 0)."""
    counts = np.bincount(j, minlength=len(converting))
    with_touches = counts > 0
    empty = converting & ~with_touches
    channels = list(names)
    pseudo = np.zeros(int(empty.sum()), dtype=np.int64)
    if len(pseudo):
        if NO_TOUCH not in channels:
            channels.append(NO_TOUCH)
        pseudo[:] = channels.index(NO_TOUCH)
    lengths = np.concatenate((counts[with_touches], np.ones(len(pseudo), dtype=np.int64)))
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    ages = (reference[j] - t) / DAY_NS
    paths = Paths(
        channels=tuple(channels),
        touch_channel=np.concatenate((ch, pseudo)).astype(np.int32),
        touch_age_days=np.concatenate((ages, np.zeros(len(pseudo)))),
        offsets=offsets,
        conversions=np.concatenate((conv[with_touches], conv[empty])),
        value=np.concatenate((value[with_touches], value[empty])),
        direct=tuple(str(d) for d in direct),
    )
    found = {
        "single_touch": int((counts == 1).sum()),
        "empty_after_filters": int(empty.sum()),
        "empty_no_conversion": int((~converting & ~with_touches).sum()),
    }
    return paths, found
