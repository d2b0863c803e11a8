"""The sample's ad-group breakdown (issue 15): Google Ads, Yandex Direct, Meta Ads and VK Ads
write one row per day, campaign and ad group, the groups named as the CRM's utm_term segments;
the parts add up exactly to the day's campaign row, read back they carry the segment, and the
other exports do not change with the shares."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sheets_sync.mapping import map_facts, rules_from_records
from sheets_sync.samples import ad_groups, exports
from sheets_sync.samples.ad_exports import TEST_CAMPAIGN, TEST_GROUP, YANDEX_VAT
from sheets_sync.samples.ad_groups import GROUP_MIX, ad_group_shares, by_ad_group, split_whole
from sheets_sync.samples.campaigns import SAMPLE_CAMPAIGNS
from sheets_sync.samples.data import SampleMonth, generate_sample
from sheets_sync.samples.exports import write_sample_config, write_sample_exports
from sheets_sync.samples.lead_exports import SEGMENTS
from sheets_sync.sources.ad_export import read_ad_export
from sheets_sync.sync_config import load_config

BROKEN_DOWN = ("google_ads", "yandex_direct", "meta_ads", "vk_ads")
KEYS = ["date", "utm_campaign", "metric"]


# --------------------------------------------------------------------------- the split


def test_split_whole_by_hand() -> None:
    # 1001 by (0.4, 0.45, 0.15): floor(400.4) = 400, floor(450.45) = 450, the rest
    # 1001 - 850 = 151 on the last. 12345 kopecks (123.45 RUB) by (0.3, 0.5, 0.2):
    # floor(3703.5) = 3703, floor(6172.5) = 6172, 12345 - 9875 = 2470: 37.03 + 61.72 + 24.70.
    # 0 stays 0 everywhere.
    got = split_whole([1001, 12345, 0], [[0.4, 0.45, 0.15], [0.3, 0.5, 0.2], [0.3, 0.5, 0.2]])
    assert got.tolist() == [[400, 450, 151], [3703, 6172, 2470], [0, 0, 0]]


_shares = st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3).filter(lambda w: sum(w) > 0.01)


@given(
    st.lists(st.tuples(st.integers(0, 10**9), _shares), min_size=1, max_size=30),
)
@settings(max_examples=200, deadline=None)
def test_split_whole_adds_up_exactly(rows: list[tuple[int, list[float]]]) -> None:
    totals = np.array([t for t, _ in rows], dtype=np.int64)
    weights = np.array([w for _, w in rows], dtype=np.float64)
    weights /= weights.sum(axis=1, keepdims=True)
    parts = split_whole(totals, weights)
    assert (parts.sum(axis=1) == totals).all()
    assert (parts >= 0).all()
    # every part but the last is its share rounded down: within one unit of it
    assert (np.abs(parts[:, :-1] - totals[:, None] * weights[:, :-1]) <= 1.0 + 1e-9).all()


def _rows(spend: list[float], impressions: list[int], clicks: list[int]) -> pd.DataFrame:
    n = len(spend)
    return pd.DataFrame(
        {
            "date": pd.to_datetime(["2026-11-01"] * n),
            "source": "google_ads",
            "name": ["GS_Brand", "GS_Competitors"][:n],
            "spend": spend,
            "impressions": impressions,
            "clicks": clicks,
            "conversions": [3] * n,
        }
    )


def test_by_ad_group_by_hand() -> None:
    shares = {"GS_Brand": np.array([0.3, 0.5, 0.2]), "GS_Competitors": np.array([0.0, 0.0, 1.0])}
    out = by_ad_group(_rows([123.45, 10.0], [1000, 50], [40, 2]), shares)
    brand = out[out["name"] == "GS_Brand"]
    assert brand["group"].tolist() == list(SEGMENTS)
    # spend: 12345 kopecks as above; clicks 40: floor(12) = 12, floor(20) = 20, 8;
    # impressions: the clicks plus the 960 without a click split floor(288) = 288,
    # floor(480) = 480, 192: 300, 500, 200; conversions 3: floor(0.9) = 0, floor(1.5) = 1, 2
    assert brand["spend"].tolist() == [37.03, 61.72, 24.70]
    assert brand["clicks"].tolist() == [12, 20, 8]
    assert brand["impressions"].tolist() == [300, 500, 200]
    assert brand["conversions"].tolist() == [0, 1, 2]
    # a group with no delivery at all is left out, as the platforms do
    competitors = out[out["name"] == "GS_Competitors"]
    assert competitors["group"].tolist() == ["retarget"]
    assert competitors["row"].tolist() == [1]
    assert list(out.columns[:4]) == ["date", "source", "name", "group"]


@given(
    st.lists(
        st.tuples(st.integers(0, 10**8), st.integers(0, 10**5), st.integers(0, 10**5)),
        min_size=1,
        max_size=2,
    ),
    _shares,
)
@settings(max_examples=200, deadline=None)
def test_by_ad_group_keeps_each_row(values: list[tuple[int, int, int]], share: list[float]) -> None:
    kopecks = [v[0] for v in values]
    clicks = [v[2] for v in values]
    impressions = [v[1] + v[2] for v in values]  # never fewer than the clicks
    weights = np.asarray(share) / sum(share)
    shares = {"GS_Brand": weights, "GS_Competitors": weights[::-1]}
    rows = _rows([k / 100 for k in kopecks], impressions, clicks)
    out = by_ad_group(rows, shares)
    summed = out.groupby("row")[["spend", "impressions", "clicks", "conversions"]].sum()
    summed = summed.reindex(range(len(rows)), fill_value=0)
    assert (np.rint(summed["spend"] * 100).astype(np.int64) == kopecks).all()
    cents = out["spend"].to_numpy() * 100
    assert np.allclose(cents, np.rint(cents), rtol=0, atol=1e-6)  # whole kopecks
    for metric in ("impressions", "clicks", "conversions"):
        assert (summed[metric].to_numpy() == rows[metric].to_numpy()).all(), metric
    assert (out["impressions"] >= out["clicks"]).all()
    assert (out[["spend", "impressions", "clicks", "conversions"]] >= 0).all().all()


def test_shares_are_fixed_per_campaign() -> None:
    names = [c.export_name for c in SAMPLE_CAMPAIGNS]
    shares = ad_group_shares(names, 7)
    assert shares.keys() == set(names)
    for weights in shares.values():
        assert weights.shape == (len(SEGMENTS),) and weights.sum() == pytest.approx(1.0)
    again = ad_group_shares(names, 7)
    assert all((shares[n] == again[n]).all() for n in names)
    mean = np.mean(list(shares.values()), axis=0)
    assert np.abs(mean - np.asarray(GROUP_MIX)).max() < 0.1  # scattered around the mix


# --------------------------------------------------------------------------- the exports


@pytest.fixture(scope="module")
def sample() -> SampleMonth:
    return generate_sample("2026-11", seed=7)


def _read(folder: Path, sample: SampleMonth) -> dict[str, Any]:
    paths = write_sample_exports(sample, folder / "exports")
    config = load_config(write_sample_config(folder, sample.month))
    results = {
        s.name: read_ad_export(s.files()[0], s.options())
        for s in config.fact_sources
        if s.name in BROKEN_DOWN
    }
    return {"paths": paths, "config": config, "results": results}


@pytest.fixture(scope="module")
def demo(sample: SampleMonth, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _read(tmp_path_factory.mktemp("groups"), sample)


def test_exports_carry_the_segment(demo: dict[str, Any]) -> None:
    for name in BROKEN_DOWN:
        facts = demo["results"][name].facts
        assert "segment" in facts.columns, name
        mapped = facts[facts["utm_campaign"] != TEST_CAMPAIGN]
        assert set(mapped["segment"].astype(str)) == set(SEGMENTS), name
    google = demo["results"]["google_ads"].facts
    test = google[google["utm_campaign"] == TEST_CAMPAIGN]
    assert set(test["segment"].astype(str)) == {TEST_GROUP}


def test_vk_unreadable_spend_is_still_there(demo: dict[str, Any]) -> None:
    result = demo["results"]["vk_ads"]
    assert result.quarantine["value"].tolist() == ["1O5.20"]
    assert result.info.duplicates == 0


def test_yandex_mess_is_still_there(demo: dict[str, Any]) -> None:
    result = demo["results"]["yandex_direct"]
    assert result.info.duplicates == 1  # the repeated row repeats its ad group too
    assert len(result.quarantine) == 1
    assert result.quarantine["value"].iloc[0].startswith("32.")
    assert result.info.file_totals_row is not None
    for metric, value in result.info.file_totals_row.items():
        assert result.info.totals[metric] == pytest.approx(value, abs=0.01), metric


def test_mapped_segments_add_up_to_the_channels(sample: SampleMonth, demo: dict[str, Any]) -> None:
    facts = pd.concat([r.facts for r in demo["results"].values()], ignore_index=True)
    facts = map_facts(facts, rules_from_records(list(demo["config"].mapping)))
    facts = facts[(facts["rule"] > 0) & (facts["metric"] == "spend")]
    by_segment = facts.groupby(["channel", facts["segment"].astype(str)])["value"].sum()
    # Direct's spend is written with VAT, to the kopeck per day and campaign: what the file
    # holds is each day's spend x 1.2 rounded, / 1.2 when read
    daily = sample.daily
    vat = np.where(daily["channel"].str.startswith("Yandex"), 1.0 + YANDEX_VAT, 1.0)
    written = np.round(daily["spend"].to_numpy() * vat, 2) / vat
    want = pd.Series(written).groupby(daily["channel"].to_numpy()).sum()
    for channel in ("Google Search", "Yandex Direct", "Yandex RSYa", "Meta Ads", "VK Ads"):
        parts = by_segment[channel]
        assert set(parts.index) == set(SEGMENTS)
        assert (parts > 0).all()
        assert parts.sum() == pytest.approx(want[channel], abs=1e-4)  # Meta: via USD


def test_other_exports_do_not_change_with_the_shares(
    sample: SampleMonth,
    demo: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drawn = ad_groups.ad_group_shares
    monkeypatch.setattr(exports.ad_groups, "ad_group_shares", lambda n, s: drawn(n, s + 1))
    other = _read(tmp_path, sample)
    for name, path in demo["paths"].items():
        if path.suffix == ".csv" and name not in BROKEN_DOWN:
            assert path.read_bytes() == other["paths"][name].read_bytes(), name
    for name in BROKEN_DOWN:
        a, b = demo["results"][name].facts, other["results"][name].facts
        assert not a["value"].equals(b["value"])  # other shares, other groups' numbers
        per_day = [
            f.assign(utm_campaign=f["utm_campaign"].astype(str), metric=f["metric"].astype(str))
            .groupby(KEYS)["value"]
            .sum()
            for f in (a, b)
        ]
        assert per_day[0].index.equals(per_day[1].index)
        assert np.allclose(per_day[0].to_numpy(), per_day[1].to_numpy(), rtol=0, atol=1e-6)
