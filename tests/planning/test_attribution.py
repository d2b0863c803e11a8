"""Attribution: the rule models worked by hand, credits that add up for every model, assists.

The hand-worked journeys (`JOURNEYS`, ages in days before the conversion):

    J1  Display (8), Search (4), Direct (0)          1 conversion, value 100
    J2  Social (4), Direct (0)                       1 conversion, value 50
    J3  Search (0)                                   2 conversions, value 30
    J4  Display (3), Search (1)                      no conversion
    J5  Direct (0)                                   1 conversion, value 0
    J6  Video (3), Display (2), Social (1), Search (0)  1 conversion, value 20

6 conversions and 200 of value in all; J4 is credited to nobody.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.attribution import (
    MODELS,
    NO_TOUCH,
    Paths,
    assists,
    attribute,
    build_paths,
    removal_effects,
    shapley,
)
from planning.errors import InputError

CHANNELS = ("Direct", "Display", "Search", "Social", "Video")
JOURNEYS: list[tuple[list[tuple[str, float]], float, float]] = [
    ([("Display", 8), ("Search", 4), ("Direct", 0)], 1, 100),
    ([("Social", 4), ("Direct", 0)], 1, 50),
    ([("Search", 0)], 2, 30),
    ([("Display", 3), ("Search", 1)], 0, 0),
    ([("Direct", 0)], 1, 0),
    ([("Video", 3), ("Display", 2), ("Social", 1), ("Search", 0)], 1, 20),
]


def make_paths(
    journeys: list[tuple[list[tuple[str, float]], float, float]],
    channels: tuple[str, ...] = CHANNELS,
    direct: tuple[str, ...] = ("Direct",),
) -> Paths:
    """Paths straight from (touches, conversions, value) journeys."""
    code = {c: i for i, c in enumerate(channels)}
    touch_channel = [code[c] for touches, _, _ in journeys for c, _ in touches]
    ages = [a for touches, _, _ in journeys for _, a in touches]
    offsets = np.cumsum([0] + [len(t) for t, _, _ in journeys])
    return Paths(
        channels,
        np.array(touch_channel),
        np.array(ages, dtype=float),
        offsets,
        np.array([c for _, c, _ in journeys], dtype=float),
        np.array([v for _, _, v in journeys], dtype=float),
        direct,
    )


def credit(model: str, **options: float) -> tuple[dict[str, float], dict[str, float]]:
    result = attribute(make_paths(JOURNEYS), model, **options)  # type: ignore[arg-type]
    assert result.channels == CHANNELS and result.model == model
    return (
        dict(zip(result.channels, result.conversions.tolist(), strict=True)),
        dict(zip(result.channels, result.value.tolist(), strict=True)),
    )


def assert_credit(got: dict[str, float], expected: dict[str, float]) -> None:
    full = {c: expected.get(c, 0.0) for c in CHANNELS}
    assert got == pytest.approx(full, rel=1e-12, abs=1e-12)


def test_first_touch() -> None:
    conversions, value = credit("first_touch")
    # J1 Display, J2 Social, J3 Search (2 conversions), J5 Direct, J6 Video
    assert_credit(conversions, {"Direct": 1, "Display": 1, "Search": 2, "Social": 1, "Video": 1})
    assert_credit(value, {"Display": 100, "Search": 30, "Social": 50, "Video": 20})


def test_last_touch() -> None:
    conversions, value = credit("last_touch")
    # J1, J2, J5 end on Direct; J3 (2) and J6 on Search
    assert_credit(conversions, {"Direct": 3, "Search": 3})
    assert_credit(value, {"Direct": 100 + 50, "Search": 30 + 20})


def test_last_non_direct_skips_direct_unless_it_is_all_there_is() -> None:
    conversions, value = credit("last_non_direct")
    # J1 -> Search (Direct skipped), J2 -> Social, J3 -> Search x2, J5 only Direct -> Direct,
    # J6 -> Search
    assert_credit(conversions, {"Search": 1 + 2 + 1, "Social": 1, "Direct": 1})
    assert_credit(value, {"Search": 100 + 30 + 20, "Social": 50})


def test_last_non_direct_with_several_direct_channels() -> None:
    journeys = [([("Search", 3), ("Direct", 1), ("Brand", 0)], 1.0, 0.0)]
    paths = make_paths(journeys, ("Brand", "Direct", "Search"), direct=("Direct", "Brand"))
    assert attribute(paths, "last_non_direct").conversions.tolist() == [0, 0, 1]


def test_linear() -> None:
    conversions, value = credit("linear")
    # J1 1/3 each, J2 1/2 each, J3 Search 2, J5 Direct 1, J6 1/4 each
    assert_credit(
        conversions,
        {
            "Direct": 1 / 3 + 1 / 2 + 1,  # 11/6
            "Display": 1 / 3 + 1 / 4,  # 7/12
            "Search": 1 / 3 + 2 + 1 / 4,  # 31/12
            "Social": 1 / 2 + 1 / 4,  # 3/4
            "Video": 1 / 4,
        },
    )
    assert_credit(
        value,
        {
            "Direct": 100 / 3 + 25,
            "Display": 100 / 3 + 5,
            "Search": 100 / 3 + 30 + 5,
            "Social": 25 + 5,
            "Video": 5,
        },
    )


def test_time_decay_with_a_half_life_of_4_days() -> None:
    conversions, value = credit("time_decay", half_life_days=4.0)
    # J1 ages 8, 4, 0 -> weights 1/4, 1/2, 1 (sum 7/4) -> 1/7, 2/7, 4/7
    # J2 ages 4, 0 -> 1/2, 1 -> 1/3, 2/3
    # J6 ages 3, 2, 1, 0 -> r^3, r^2, r, 1 with r = 2^(-1/4), over their sum
    r = 2 ** (-1 / 4)
    j6 = np.array([r**3, r**2, r, 1.0]) / (1 + r + r**2 + r**3)
    assert_credit(
        conversions,
        {
            "Direct": 4 / 7 + 2 / 3 + 1,
            "Display": 1 / 7 + j6[1],
            "Search": 2 / 7 + 2 + j6[3],
            "Social": 1 / 3 + j6[2],
            "Video": j6[0],
        },
    )
    assert_credit(
        value,
        {
            "Direct": 400 / 7 + 100 / 3,
            "Display": 100 / 7 + 20 * j6[1],
            "Search": 200 / 7 + 30 + 20 * j6[3],
            "Social": 50 / 3 + 20 * j6[2],
            "Video": 20 * j6[0],
        },
    )


def test_time_decay_halves_per_half_life_and_ignores_how_old_the_journey_is() -> None:
    old = [([("Display", 1000 + 7), ("Search", 1000)], 1.0, 0.0)]
    result = attribute(make_paths(old), "time_decay", half_life_days=7.0)
    # 7 days apart with a 7-day half-life: 1/2 and 1 -> 1/3 and 2/3, even 1,000 days back
    assert result.conversions[[1, 2]].tolist() == pytest.approx([1 / 3, 2 / 3], rel=1e-12)


def test_position_40_20_40() -> None:
    conversions, value = credit("position")
    # J1 (3 touches) .4 / .2 / .4; J2 (2) .5 / .5; J3, J5 (1) 1; J6 (4) .4 / .1 / .1 / .4
    assert_credit(
        conversions,
        {
            "Direct": 0.4 + 0.5 + 1,
            "Display": 0.4 + 0.1,
            "Search": 0.2 + 2 + 0.4,
            "Social": 0.5 + 0.1,
            "Video": 0.4,
        },
    )
    assert_credit(
        value,
        {"Direct": 40 + 25, "Display": 40 + 2, "Search": 20 + 30 + 8, "Social": 27, "Video": 8},
    )


def test_lookback_from_timestamps() -> None:
    now = pd.Timestamp("2026-03-31 12:00")
    conversion = pd.Timestamp("2026-03-20 12:00")
    touches = pd.DataFrame(
        {
            "journey": ["a", "a", "a"],
            "ts": [conversion - pd.Timedelta(days=d) for d in (40, 10, 1)],
            "channel": ["Display", "Search", "Direct"],
        }
    )
    outcomes = pd.DataFrame({"journey": ["a"], "ts": [conversion], "value": [90.0]})
    shares = {}
    for lookback in (None, 30.0, 5.0):
        paths, issues = build_paths(touches, outcomes, lookback_days=lookback, now=now)
        result = attribute(paths, "linear")
        shares[lookback] = dict(zip(result.channels, result.conversions.tolist(), strict=True))
        assert issues.out_of_lookback == {None: 0, 30.0: 1, 5.0: 2}[lookback]
    assert shares[None] == pytest.approx({"Direct": 1 / 3, "Display": 1 / 3, "Search": 1 / 3})
    # 30 days: Display (40 days before) is out, Search and Direct split it
    assert shares[30.0] == pytest.approx({"Direct": 0.5, "Display": 0, "Search": 0.5})
    assert shares[5.0] == pytest.approx({"Direct": 1, "Display": 0, "Search": 0})


def test_time_decay_from_timestamps() -> None:
    conversion = pd.Timestamp("2026-03-20 12:00")
    touches = pd.DataFrame(
        {
            "journey": [7, 7],
            "ts": [conversion - pd.Timedelta(hours=36), conversion - pd.Timedelta(hours=12)],
            "channel": ["Social", "Search"],
        }
    )
    outcomes = pd.DataFrame({"journey": [7], "ts": [conversion]})
    paths, _ = build_paths(touches, outcomes)
    assert paths.touch_age_days.tolist() == [1.5, 0.5]
    # 1 day apart, half-life 2 days: 2^(-1/2) and 1
    result = attribute(paths, "time_decay", half_life_days=2.0)
    low = 2**-0.5 / (1 + 2**-0.5)
    assert result.conversions.tolist() == pytest.approx([1 - low, low], rel=1e-12)


def test_models_and_options_are_checked() -> None:
    paths = make_paths(JOURNEYS)
    with pytest.raises(InputError, match=r"'U-shaped' is not an attribution model \(first_touch"):
        attribute(paths, "U-shaped")
    with pytest.raises(InputError, match="`half_life_days` must be a positive number, got 0"):
        attribute(paths, "time_decay", half_life_days=0.0)
    with pytest.raises(InputError, match=r"`order` must be 1\.\.3, got 4"):
        attribute(paths, "markov", order=4)
    with pytest.raises(InputError, match=r"`order` must be a whole number 1\.\.3, got 1\.5"):
        removal_effects(paths, order=1.5)  # type: ignore[arg-type]
    assert MODELS == (
        "first_touch",
        "last_touch",
        "last_non_direct",
        "linear",
        "time_decay",
        "position",
        "markov",
        "shapley",
    )


def test_paths_are_checked_on_construction() -> None:
    good = make_paths(JOURNEYS)
    with pytest.raises(InputError, match="every journey needs at least one touch"):
        Paths(CHANNELS, [0, 1], [0.0, 0.0], [0, 0, 2], [1.0, 0.0], [0.0, 0.0])
    with pytest.raises(InputError, match=r"`conversions` has 1 values for 2 journeys"):
        Paths(CHANNELS, [0, 1], [0.0, 0.0], [0, 1, 2], [1.0], [0.0, 0.0])
    with pytest.raises(InputError, match=r"`touch_channel` codes must be 0..4"):
        Paths(CHANNELS, [0, 5], [0.0, 0.0], [0, 1, 2], [1.0, 0], [0.0, 0.0])
    with pytest.raises(InputError, match="`value` must be finite and not negative"):
        Paths(CHANNELS, [0, 1], [0.0, 0.0], [0, 1, 2], [1.0, 0], [-1.0, 0.0])
    with pytest.raises(InputError, match="`touch_age_days` must be finite and not negative"):
        Paths(CHANNELS, [0, 1], [0.0, np.nan], [0, 1, 2], [1.0, 0], [0.0, 0.0])
    assert good.touch_channel.dtype == np.int32 and good.offsets.dtype == np.int64


def test_no_converting_journey_credits_nothing() -> None:
    paths = make_paths([([("Search", 1), ("Direct", 0)], 0.0, 0.0)])
    for model in MODELS:
        result = attribute(paths, model)
        assert result.conversions.tolist() == [0.0] * 5 and result.value.tolist() == [0.0] * 5
    effects = removal_effects(paths)
    assert effects.conversion_rate == 0 and effects.effect.tolist() == [0.0] * 5


def test_a_converting_journey_with_no_touch_goes_to_the_no_touch_channel() -> None:
    t = pd.Timestamp("2026-03-01")
    touches = pd.DataFrame({"journey": [1, 2], "ts": [t, t], "channel": ["Search", " "]})
    outcomes = pd.DataFrame({"journey": [1, 2, 3], "ts": [t, t, t], "value": [10.0, 20.0, 5.0]})
    paths, issues = build_paths(touches, outcomes)
    assert paths.channels == ("Search", NO_TOUCH) and issues.empty_after_filters == 2
    for model in MODELS:
        result = attribute(paths, model)
        # journeys 2 (blank channel only) and 3 (no touch at all) are "(no touch)"
        assert result.conversions.tolist() == pytest.approx([1, 2]), model
        assert result.value.tolist() == pytest.approx([10, 25]), model


def test_assists_close_versus_assist() -> None:
    table = assists(make_paths(JOURNEYS))
    got = {
        c: (last, assisted)
        for c, last, assisted in zip(table.channels, table.last_touch, table.assisted, strict=True)
    }
    # last touches: Direct J1, J2, J5 = 3; Search J3 (2 conversions), J6 = 3.
    # assisted (in a converting journey, not its last touch; once per journey, by conversions):
    # Display J1, J6 = 2; Search J1 = 1; Social J2, J6 = 2; Video J6 = 1; Direct none.
    assert got == {
        "Direct": (3, 0),
        "Display": (0, 2),
        "Search": (3, 1),
        "Social": (0, 2),
        "Video": (0, 1),
    }
    assert table.ratio[2] == pytest.approx(1 / 3)
    assert math.isinf(table.ratio[1]) and table.ratio[0] == 0


def test_assists_count_a_channel_once_per_journey_and_not_when_it_closes() -> None:
    journeys = [
        ([("Search", 3), ("Search", 2), ("Social", 1), ("Search", 0)], 1.0, 0.0),
        ([("Social", 2), ("Social", 1), ("Direct", 0)], 3.0, 0.0),
    ]
    table = assists(make_paths(journeys))
    # Search closes journey 1 (not an assist there); Social assists both, once each, 1 + 3
    assert table.assisted.tolist() == [0, 0, 0, 4, 0]
    assert table.last_touch.tolist() == [3, 0, 1, 0, 0]
    assert np.isnan(table.ratio[1]) and table.ratio[2] == 0 and math.isinf(table.ratio[3])


@st.composite
def random_paths(draw: st.DrawFn, max_channels: int = 6) -> Paths:
    n_channels = draw(st.integers(1, max_channels))
    n_journeys = draw(st.integers(1, 25))
    lengths = draw(st.lists(st.integers(1, 7), min_size=n_journeys, max_size=n_journeys))
    touches = sum(lengths)
    channel = draw(st.lists(st.integers(0, n_channels - 1), min_size=touches, max_size=touches))
    ages = draw(st.lists(st.floats(0, 90, allow_nan=False), min_size=touches, max_size=touches))
    conversions = draw(
        st.lists(
            st.sampled_from([0.0, 0.0, 1.0, 1.0, 2.0, 0.37]),
            min_size=n_journeys,
            max_size=n_journeys,
        )
    )
    amounts = st.one_of(st.just(0.0), st.floats(0.01, 1e6))
    value = draw(st.lists(amounts, min_size=n_journeys, max_size=n_journeys))
    names = tuple(f"ch{i}" for i in range(n_channels))
    return Paths(
        names,
        np.array(channel),
        np.array(ages),
        np.cumsum([0, *lengths]),
        np.array(conversions),
        np.array(value),
        direct=names[:1],
    )


@settings(max_examples=150, deadline=None)
@given(random_paths(), st.floats(0.5, 60))
def test_every_model_credits_exactly_the_conversions_and_value(
    paths: Paths, half_life: float
) -> None:
    total_conversions, total_value = paths.conversions.sum(), paths.value.sum()
    for model in MODELS:
        for order in (1, 2, 3) if model == "markov" else (1,):
            result = attribute(paths, model, half_life_days=half_life, order=order)
            assert result.conversions.sum() == pytest.approx(total_conversions, rel=1e-12, abs=0)
            assert result.value.sum() == pytest.approx(total_value, rel=1e-12, abs=0)
            assert (result.conversions >= 0).all() and (result.value >= 0).all()
            assert result.channels == paths.channels


@settings(max_examples=60, deadline=None)
@given(random_paths())
def test_shapley_of_this_game_is_the_even_split_over_distinct_channels(paths: Paths) -> None:
    # each journey's conversions split evenly among its distinct channels
    expected = np.zeros(len(paths.channels))
    for j in range(paths.journeys):
        distinct = np.unique(paths.touch_channel[paths.offsets[j] : paths.offsets[j + 1]])
        expected[distinct] += paths.conversions[j] / len(distinct)
    np.testing.assert_allclose(shapley(paths).conversions, expected, rtol=1e-12, atol=1e-12)
