"""build_paths: every PathIssues counter on one crafted input, the rules' order, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.attribution import NO_TOUCH, PathIssues, Paths, attribute, build_paths
from planning.errors import InputError

T0 = pd.Timestamp("2026-03-01 00:00")
NOW = pd.Timestamp("2026-03-20 00:00")
H = pd.Timedelta(hours=1)
CYCLE = ("Search", "Display", "Social", "Video")


def crafted() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows: list[tuple[str, pd.Timestamp, object]] = []
    # long: 40 hourly touches, converting after them: only the last 30 are kept
    rows += [("long", T0 + h * H, CYCLE[h % 4]) for h in range(40)]
    # dup: the same time and channel twice
    rows += [("dup", T0, "Search"), ("dup", T0, "Search"), ("dup", T0 + H, "Direct")]
    # unordered: given out of time order
    rows += [("unordered", T0 + 5 * H, "Direct"), ("unordered", T0 + H, "Search")]
    rows += [("unordered", T0 + 3 * H, "Social")]
    # after: a touch after the conversion (at T0 + 2h)
    rows += [("after", T0, "Search"), ("after", T0 + 5 * H, "Display")]
    # blank: three blank channels ("", None, spaces), one real
    rows += [("blank", T0, ""), ("blank", T0 + H, None), ("blank", T0 + 2 * H, "  ")]
    rows += [("blank", T0 + 3 * H, "Search")]
    # future: a touch after `now`, no outcome
    rows += [("future", T0, "Search"), ("future", NOW + H, "Display")]
    # later: its outcome is after `now`, so it is not converting (yet)
    rows += [("later", T0, "Social")]
    # stale: a touch 40 days before the conversion
    rows += [("stale", T0 - pd.Timedelta(days=40), "Display"), ("stale", T0, "Search")]
    rows += [("single", T0, "Video")]
    rows += [("none", T0, "Search"), ("none", T0 + H, "Direct")]
    # empty: converting, its only touch has no channel; orphan: an outcome with no touch
    rows += [("empty", T0, np.nan)]
    # gone: not converting, its only touch is in the future
    rows += [("gone", NOW + 2 * H, "Search")]
    touches = pd.DataFrame(rows, columns=["journey", "ts", "channel"])
    outcomes = pd.DataFrame(
        [
            ("long", T0 + 40 * H),
            ("dup", T0 + 2 * H),
            ("unordered", T0 + 6 * H),
            ("after", T0 + 2 * H),
            ("blank", T0 + 4 * H),
            ("later", NOW + pd.Timedelta(days=1)),
            ("stale", T0 + H),
            ("single", T0),
            ("empty", T0 + H),
            ("orphan", T0),
        ],
        columns=["journey", "ts"],
    )
    return touches, outcomes


def test_every_counter_on_a_crafted_input() -> None:
    touches, outcomes = crafted()
    paths, issues = build_paths(touches, outcomes, now=NOW, lookback_days=30.0, max_touches=30)
    assert issues == PathIssues(
        journeys=13,
        converting=9,  # long dup unordered after blank stale single empty orphan
        no_conversion=4,  # future later none gone
        single_touch=6,  # after blank future later stale single
        after_conversion=1,
        out_of_lookback=1,
        unknown_channel=4,  # 3 in blank, 1 in empty
        out_of_order=1,
        future=3,  # 2 touches (future, gone) + 1 outcome (later)
        duplicates=1,
        long_journeys=1,
        empty_after_filters=2,  # empty, orphan
        empty_no_conversion=1,  # gone
    )
    # every input touch is kept or counted: 62 = 43 kept + 1 + 4 + 2 + 1 + 1 + 10 cut from long
    assert len(touches) == 62
    assert len(paths.touch_channel) - 2 == 43
    assert paths.journeys == 12 and paths.conversions.sum() == 9
    assert paths.channels == ("Direct", "Display", "Search", "Social", "Video", NO_TOUCH)
    # journeys in order of first appearance; the two "(no touch)" journeys last
    lengths = paths.lengths.tolist()
    assert lengths == [30, 2, 3, 1, 1, 1, 1, 1, 1, 2, 1, 1]
    assert paths.touch_channel[-2:].tolist() == [5, 5]
    long_ages = paths.touch_age_days[:30]
    assert long_ages.tolist() == pytest.approx([(40 - h) / 24 for h in range(10, 40)])
    unordered = slice(32, 35)
    assert [paths.channels[c] for c in paths.touch_channel[unordered]] == [
        "Search",
        "Social",
        "Direct",
    ]
    assert paths.touch_age_days[unordered].tolist() == pytest.approx([5 / 24, 3 / 24, 1 / 24])


def test_non_converting_ages_run_to_the_last_touch_and_lookback_from_it() -> None:
    touches = pd.DataFrame(
        {
            "journey": [1, 1, 1],
            "ts": [T0 - pd.Timedelta(days=45), T0 - pd.Timedelta(days=2), T0],
            "channel": ["Display", "Search", "Direct"],
        }
    )
    paths, issues = build_paths(touches, touches.iloc[:0][["journey", "ts"]], lookback_days=30)
    assert paths.touch_age_days.tolist() == [2.0, 0.0]
    assert issues.out_of_lookback == 1 and issues.no_conversion == 1
    assert paths.conversions.tolist() == [0.0]


def test_several_outcome_rows_are_summed_at_the_first_time() -> None:
    touches = pd.DataFrame(
        {
            "journey": ["x", "x", "x"],
            "ts": [T0, T0 + 1.5 * H, T0 + 1.2 * H],
            "channel": ["Search", "Social", "Display"],
        }
    )
    outcomes = pd.DataFrame(
        {
            "journey": ["x", "x"],
            "ts": [T0 + 2 * H, T0 + H],
            "conversions": [1.0, 1.0],
            "value": [10.0, np.nan],
        }
    )
    paths, issues = build_paths(touches, outcomes)
    # the conversion is at T0 + 1h: the touches at 1.2h and 1.5h are after it
    assert issues.after_conversion == 2 and issues.out_of_order == 1
    assert paths.conversions.tolist() == [2.0] and paths.value.tolist() == [10.0]
    assert paths.touch_age_days.tolist() == [1 / 24]


def test_a_touch_at_the_conversion_time_counts_and_same_time_touches_sort_by_channel() -> None:
    touches = pd.DataFrame({"journey": [1, 1], "ts": [T0, T0], "channel": ["Search", "Direct"]})
    outcomes = pd.DataFrame({"journey": [1], "ts": [T0]})
    paths, issues = build_paths(touches, outcomes)
    assert issues.after_conversion == 0 and issues.out_of_order == 0
    assert [paths.channels[c] for c in paths.touch_channel] == ["Direct", "Search"]


def test_time_zones_are_compared_in_utc() -> None:
    moscow = pd.Timestamp("2026-03-01 12:00", tz="Europe/Moscow")  # 09:00 UTC
    touches = pd.DataFrame({"journey": [1], "ts": [moscow], "channel": ["Search"]})
    outcomes = pd.DataFrame({"journey": [1], "ts": [pd.Timestamp("2026-03-01 10:00", tz="UTC")]})
    paths, issues = build_paths(
        touches, outcomes, now=pd.Timestamp("2026-03-02", tz="Europe/Moscow")
    )
    assert issues.after_conversion == 0
    assert paths.touch_age_days.tolist() == pytest.approx([1 / 24])
    naive = outcomes.assign(ts=outcomes["ts"].dt.tz_localize(None))
    with pytest.raises(InputError, match="must both have a time zone or neither"):
        build_paths(touches, naive)
    with pytest.raises(InputError, match=r"`now` \(2026-03-02 00:00:00\) and the touches"):
        build_paths(touches, outcomes, now=pd.Timestamp("2026-03-02"))


def test_direct_channels_are_carried_to_the_paths() -> None:
    touches = pd.DataFrame({"journey": [1, 1], "ts": [T0, T0 + H], "channel": ["Search", "(none)"]})
    outcomes = pd.DataFrame({"journey": [1], "ts": [T0 + H]})
    paths, _ = build_paths(touches, outcomes, direct=["(none)"])
    assert paths.direct == ("(none)",)
    assert attribute(paths, "last_non_direct").conversions.tolist() == [0, 1]


def test_bad_inputs_are_named() -> None:
    touches, outcomes = crafted()
    with pytest.raises(InputError, match=r"^`touches` lacks the column\(s\) channel"):
        build_paths(touches.drop(columns="channel"), outcomes)
    with pytest.raises(InputError, match=r"^`outcomes` lacks the column\(s\) ts"):
        build_paths(touches, outcomes.drop(columns="ts"))
    blank_time = touches.copy()
    blank_time.loc[3, "ts"] = pd.NaT
    with pytest.raises(
        InputError, match=r"^line 'touches row 3', column `ts`: is blank: every row needs a time"
    ):
        build_paths(blank_time, outcomes)
    blank_journey = outcomes.copy()
    blank_journey.loc[2, "journey"] = None
    with pytest.raises(InputError, match=r"^line 'outcomes row 2', column `journey`: is blank"):
        build_paths(touches, blank_journey)
    with pytest.raises(
        InputError,
        match=r"^line 'outcomes row 1', column `conversions`: value -1.0 must be a finite number",
    ):
        build_paths(touches, outcomes.assign(conversions=[1.0, -1.0] + [1.0] * 8))
    with pytest.raises(InputError, match=r"column `value`: value 'lots' must be a finite"):
        build_paths(touches, outcomes.assign(value=["lots"] + [1.0] * 9))
    with pytest.raises(InputError, match=r"`ts` must hold dates and times"):
        build_paths(touches.assign(ts="yesterday"), outcomes)
    with pytest.raises(InputError, match="`lookback_days` must be a positive number of days"):
        build_paths(touches, outcomes, lookback_days=0)
    with pytest.raises(InputError, match="`max_touches` must be at least 1, got 0"):
        build_paths(touches, outcomes, max_touches=0)


def test_empty_inputs_give_empty_paths() -> None:
    touches = pd.DataFrame({"journey": [], "ts": pd.to_datetime([]), "channel": []})
    outcomes = pd.DataFrame({"journey": [], "ts": pd.to_datetime([])})
    paths, issues = build_paths(touches, outcomes)
    assert paths.journeys == 0 and issues.journeys == 0
    for model in ("last_touch", "markov", "shapley"):
        assert attribute(paths, model).conversions.tolist() == []


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 6),  # journey
            st.integers(-50 * 24, 10 * 24),  # hours from T0
            st.sampled_from(["Search", "Direct", "Social", "", None]),
        ),
        max_size=60,
    ),
    st.lists(st.tuples(st.integers(0, 8), st.integers(-30 * 24, 10 * 24)), max_size=8),
    st.sampled_from([None, 7.0, 30.0]),
)
def test_every_touch_is_kept_or_counted(
    rows: list[tuple[int, int, str | None]],
    outs: list[tuple[int, int]],
    lookback: float | None,
) -> None:
    touches = pd.DataFrame(
        {
            "journey": [r[0] for r in rows],
            "ts": pd.to_datetime([T0 + r[1] * H for r in rows]),
            "channel": pd.Series([r[2] for r in rows], dtype=object),
        }
    )
    outcomes = pd.DataFrame(
        {"journey": [o[0] for o in outs], "ts": pd.to_datetime([T0 + o[1] * H for o in outs])}
    )
    now = T0 + 5 * 24 * H
    paths, issues = build_paths(touches, outcomes, now=now, lookback_days=lookback, max_touches=999)
    real = len(paths.touch_channel) - issues.empty_after_filters
    future_outcomes = int((outcomes["ts"] > now).sum())
    dropped = (
        issues.duplicates
        + issues.unknown_channel
        + (issues.future - future_outcomes)
        + issues.after_conversion
        + issues.out_of_lookback
    )
    assert real + dropped == len(touches)
    assert issues.journeys == issues.converting + issues.no_conversion
    assert paths.journeys == issues.journeys - issues.empty_no_conversion
    assert paths.conversions.sum() == len(outcomes) - future_outcomes
    assert (paths.touch_age_days >= 0).all()
    if lookback is not None:
        assert (paths.touch_age_days <= lookback).all()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_order_of_the_rows_does_not_matter(seed: int) -> None:
    touches, outcomes = crafted()
    # same-time touches of different channels, given in both orders
    extra = pd.DataFrame(
        {"journey": ["tie"] * 3, "ts": [T0, T0, T0 - H], "channel": ["Social", "Email", "Video"]}
    )
    touches = pd.concat([touches, extra], ignore_index=True)
    outcomes = pd.concat([outcomes, pd.DataFrame({"journey": ["tie"], "ts": [T0]})])
    base, base_issues = build_paths(touches, outcomes, now=NOW)
    shuffled = touches.sample(frac=1.0, random_state=seed)
    paths, issues = build_paths(shuffled, outcomes, now=NOW)
    # journeys come in the order of first appearance: compare them as sets of journeys
    assert base.channels == paths.channels

    def journeys(p: Paths) -> list[tuple[tuple[int, ...], tuple[float, ...]]]:
        return sorted(
            (
                tuple(p.touch_channel[a:b].tolist()),
                tuple(p.touch_age_days[a:b].tolist()),
            )
            for a, b in zip(p.offsets[:-1], p.offsets[1:], strict=True)
        )

    assert journeys(paths) == journeys(base)
    assert issues.out_of_order > base_issues.out_of_order
    assert {**vars(issues), "out_of_order": 0} == {**vars(base_issues), "out_of_order": 0}
    tie = [base.channels[c] for c in base.touch_channel[base.offsets[-4] : base.offsets[-3]]]
    assert tie == ["Video", "Email", "Social"]
