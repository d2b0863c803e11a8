"""The Plan after a split (`planning.split_counts`): known numbers by hand, then invariants.

keep ratios: every count of a line scales with its spend, so its CPA and CRs stay; curves: the
leads are the curves' expected conversions shared by new spend, the CRs below kept.
"""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planning.split_counts import (
    CURVES,
    KEEP_RATIOS,
    ChannelTarget,
    PlanLines,
    distribute,
    split_counts,
)

NAN = math.nan


def _two_lines() -> PlanLines:
    """Search 30 000 for 300 leads, 30 calls, 600 000 revenue; Meta 10 000 for 50 leads."""
    return PlanLines(
        channels=["Search", "Meta"],
        spend=[30_000.0, 10_000.0],
        counts={
            "traffic": [6_000.0, NAN],
            "leads": [300.0, 50.0],
            "calls": [30.0, 5.0],
            "revenue": [600_000.0, 40_000.0],
        },
    )


def test_keep_ratios_worked_by_hand() -> None:
    # Search 30 000 -> 45 000 (x 1.5): traffic 9 000, leads 450, calls 45, revenue 900 000;
    # Meta 10 000 -> 5 000 (x 0.5): 25 leads, 2.5 calls, 20 000; its blank traffic stays blank.
    # CPA Search 45 000 / 450 = 100 = 30 000 / 300; Meta 5 000 / 25 = 200 = 10 000 / 50.
    # Total leads after: 450 + 25 = 475.
    done = split_counts(
        _two_lines(),
        [ChannelTarget("Search", 45_000, 470), ChannelTarget("Meta", 5_000, 40)],
        KEEP_RATIOS,
    )
    search, meta = done.changes
    assert (search.index, search.spend) == (0, 45_000)
    assert search.counts == {"traffic": 9_000, "leads": 450, "calls": 45, "revenue": 900_000}
    assert (meta.index, meta.spend) == (1, 5_000)
    assert meta.counts == {"leads": 25, "calls": 2.5, "revenue": 20_000}
    assert done.totals["leads"] == 475 and done.totals["traffic"] == 9_000
    assert done.kept == []


def test_curves_worked_by_hand() -> None:
    # Search 45 000 expected 470 leads: leads 470 (x 470/300), calls 30 x 470/300 = 47,
    # revenue 600 000 x 470/300 = 940 000, traffic with spend 6 000 x 1.5 = 9 000.
    # Meta 5 000 expected 40: calls 5 x 40/50 = 4, revenue 40 000 x 0.8 = 32 000.
    # Total leads 470 + 40 = 510 = the proposal's expected conversions.
    done = split_counts(
        _two_lines(),
        [ChannelTarget("Search", 45_000, 470), ChannelTarget("Meta", 5_000, 40)],
        CURVES,
    )
    search, meta = done.changes
    assert search.counts == pytest.approx(
        {"traffic": 9_000, "leads": 470, "calls": 47, "revenue": 940_000}
    )
    assert meta.counts == pytest.approx({"leads": 40, "calls": 4, "revenue": 32_000})
    assert done.totals["leads"] == pytest.approx(510)


def test_a_line_with_no_spend_keeps_its_counts_and_is_named() -> None:
    # Meta's one line had no spend: 8 000 equally (one line), nothing to scale 50 leads by.
    lines = PlanLines(["Meta"], [NAN], {"leads": [50.0], "revenue": [NAN]})
    done = split_counts(lines, [ChannelTarget("Meta", 8_000)], KEEP_RATIOS)
    assert [(c.index, c.spend, c.counts) for c in done.changes] == [(0, 8_000, {})]
    assert done.kept == [(0, "its spend p was blank or 0: nothing to scale its counts from")]
    assert done.totals["leads"] == 50


def test_an_unchanged_channel_is_left_alone_and_a_bad_mode_refused() -> None:
    done = split_counts(_two_lines(), [ChannelTarget("Search", 30_000)], KEEP_RATIOS)
    assert done.changes == [] and done.totals["leads"] == 350
    with pytest.raises(ValueError, match="counts mode"):
        split_counts(_two_lines(), [], "sideways")


_SPEND = st.one_of(st.just(NAN), st.floats(0, 1e6).map(lambda x: round(x, 2)))
_COUNT = st.one_of(st.just(NAN), st.floats(0, 1e5).map(lambda x: round(x, 1)))


@st.composite
def _plans(draw: st.DrawFn) -> tuple[PlanLines, list[ChannelTarget]]:
    n = draw(st.integers(1, 8))
    channels = draw(st.lists(st.sampled_from(["A", "B", "C"]), min_size=n, max_size=n))
    spend = draw(st.lists(_SPEND, min_size=n, max_size=n))
    counts = {
        m: draw(st.lists(_COUNT, min_size=n, max_size=n))
        for m in ("traffic", "leads", "calls", "purchases", "revenue")
    }
    targets = [
        ChannelTarget(c, draw(st.integers(0, 2_000_000)), draw(st.floats(0, 1e5)))
        for c in sorted(set(channels))
    ]
    return PlanLines(channels, spend, counts), targets


def _after(lines: PlanLines, mode: str, targets: list[ChannelTarget]) -> tuple[list, dict]:
    done = split_counts(lines, targets, mode)
    spend = list(lines.spend)
    counts = {m: list(v) for m, v in lines.counts.items()}
    for c in done.changes:
        spend[c.index] = c.spend
        for m, v in c.counts.items():
            counts[m][c.index] = v
    return spend, counts


@given(_plans())
def test_keep_ratios_keeps_every_lines_cpa_and_crs(plan: tuple) -> None:
    lines, targets = plan
    spend, counts = _after(lines, KEEP_RATIOS, targets)
    metrics = list(counts)
    for i, (old_s, new_s) in enumerate(zip(lines.spend, spend, strict=True)):
        if not (old_s > 0 and new_s > 0):
            continue
        for m in metrics:  # CPA (spend / count) unchanged
            old, new = lines.counts[m][i], counts[m][i]
            assert math.isnan(old) == math.isnan(new)
            if old > 0:
                assert new_s / new == pytest.approx(old_s / old, rel=1e-9)
        for a, b in itertools.pairwise(metrics):  # CR (stage / stage above)
            if lines.counts[a][i] > 0 and not math.isnan(lines.counts[b][i]):
                old_cr = lines.counts[b][i] / lines.counts[a][i]
                assert counts[b][i] / counts[a][i] == pytest.approx(old_cr, rel=1e-9)


@given(_plans(), st.sampled_from([KEEP_RATIOS, CURVES]))
def test_totals_are_the_lines_after_and_spend_meets_the_proposal(plan: tuple, mode: str) -> None:
    lines, targets = plan
    done = split_counts(lines, targets, mode)
    spend, counts = _after(lines, mode, targets)
    for m, values in counts.items():
        total = sum(0.0 if math.isnan(v) else v for v in values)
        assert done.totals[m] == pytest.approx(total, rel=1e-14)  # to 15 digits, as cells keep
    for t in targets:
        got = sum(
            0 if math.isnan(s) else s
            for s, c in zip(spend, lines.channels, strict=True)
            if c == t.channel
        )
        assert got == pytest.approx(t.proposed, abs=0.005)
    if mode == CURVES:  # leads are the curves' expected conversions, channel by channel
        for t in targets:
            leads = [counts["leads"][i] for i, c in enumerate(lines.channels) if c == t.channel]
            assert sum(leads) == pytest.approx(t.expected, rel=1e-9, abs=1e-9)


def test_distribute_worked_by_hand() -> None:
    # 150 000 in proportion 30 000 : 60 000; 100 over three equal lines: 34 + 33 + 33
    assert distribute(150_000, [30_000, 60_000]) == [50_000, 100_000]
    assert distribute(100, [1, 1, 1]) == [34, 33, 33]
