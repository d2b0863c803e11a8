"""The demo's journeys: the Metrica visits export and the CRM touch history read back with the
journeys readers through the bundled config, with goals per channel close to the CRM's leads."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sheets_sync.mapping import map_facts, rules_from_records
from sheets_sync.paths_sync import load_paths_sources
from sheets_sync.samples import journeys
from sheets_sync.samples.data import SampleMonth, generate_sample
from sheets_sync.samples.exports import write_sample_config, write_sample_exports
from sheets_sync.samples.lead_exports import line_grid
from sheets_sync.store import FactStore
from sheets_sync.sync_config import load_config

NOW = dt.datetime(2026, 11, 18, 1)


@pytest.fixture(scope="module")
def sample() -> SampleMonth:
    return generate_sample("2026-11", seed=7)


@pytest.fixture(scope="module")
def demo(sample: SampleMonth, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("journeys")
    paths = write_sample_exports(sample, folder / "exports")
    config = load_config(write_sample_config(folder, sample.month))
    with FactStore(config.store) as store:
        started = time.perf_counter()
        loads = load_paths_sources(config, store, now=NOW)
        seconds = time.perf_counter() - started
        touches, outcomes = store.paths()
    return {
        "paths": paths,
        "config": config,
        "loads": loads,
        "seconds": seconds,
        "touches": touches,
        "outcomes": outcomes,
    }


def channels(config: Any, touches: pd.DataFrame) -> pd.Series:
    """Each touch's channel: its own, else the bundled Mapping rules' for its UTMs."""
    keys = touches.assign(date=pd.Timestamp("2026-11-01"), metric="leads", basis="event", value=1.0)
    mapped = map_facts(keys, rules_from_records(list(config.mapping)))
    own = touches["channel"].to_numpy(dtype=object)
    return pd.Series(np.where(own != "", own, mapped["channel"].fillna("").to_numpy()))


def test_files_and_sources(demo: dict[str, Any]) -> None:
    paths = demo["paths"]
    assert paths["metrica"].name == "metrica_visits_2026-10-04_2026-11-17.csv"
    assert paths["crm_journeys"].name == "crm_history_2026-11-01_2026-11-17.xlsx"
    head = paths["metrica"].read_bytes()[:200].decode("utf-8-sig")
    assert head.startswith("ID визита;ClientID;Дата и время визита;Источник трафика;UTM Source")
    loads = demo["loads"]
    assert [(x.source, x.result.shape) for x in loads] == [
        ("metrica", "visits"),
        ("crm_journeys", "crm_history"),
    ]
    visits = loads[0].result
    assert [(line, reason) for line, reason in
            zip(visits.quarantine["line"], visits.quarantine["reason"], strict=True)] == [
        (visits.quarantine["line"].iloc[0], "visitor id is blank")
    ]  # fmt: skip
    assert visits.counts["duplicate_touches"] == 1
    assert visits.counts["non_converting"] > 0.8 * visits.counts["converting"]
    assert visits.touches["channel"].isin(["Direct", "Organic Search"]).any()
    history = loads[1].result
    assert history.quarantine.empty and history.counts["journeys"] == 150
    assert (history.outcomes["kind"] == "purchase").sum() > 5
    assert demo["seconds"] < 5


def test_goals_per_channel_close_to_the_crm_leads(
    sample: SampleMonth, demo: dict[str, Any]
) -> None:
    config = demo["config"]
    touches = demo["touches"]
    touches = touches[touches["source"] == "metrica"].reset_index(drop=True)
    outcomes = demo["outcomes"]
    converting = set(outcomes.loc[outcomes["source"] == "metrica", "journey"])
    touches = touches.assign(ch=channels(config, touches))
    mine = touches[touches["journey"].isin(converting) & (touches["ch"] != "Direct")]
    last_non_direct = mine.groupby("journey")["ch"].last().value_counts()
    grid = line_grid(sample.daily)
    lo, _ = journeys.window_days(grid, sample.month)
    daily = sample.daily[sample.daily["date"] >= grid.first + dt.timedelta(days=lo)]
    crm = daily.groupby("channel")["leads"].sum()
    share = (last_non_direct / crm).dropna()
    assert len(share) == 7
    assert share.between(0.8, 1.0).all(), share.to_dict()
    assert abs(float(last_non_direct.sum() / crm.sum()) - journeys.SEEN) < 0.03


def test_assisting_channels_assist(demo: dict[str, Any]) -> None:
    touches = demo["touches"]
    outcomes = demo["outcomes"]
    touches = touches[touches["source"] == "metrica"].reset_index(drop=True)
    touches = touches.assign(ch=channels(demo["config"], touches))
    converting = touches[touches["journey"].isin(set(outcomes["journey"]))]
    last = converting.groupby("journey").tail(1)
    earlier = converting.drop(last.index)
    ratio = earlier["ch"].value_counts() / last["ch"].value_counts()
    assert ratio["Programmatic"] > 2 * ratio["Google Search"]
    assert ratio["Telegram Ads"] > 2 * ratio["Yandex Direct"]


def test_visits_export_is_reproducible_and_fast(sample: SampleMonth, tmp_path: Path) -> None:
    """The journeys draw from a random stream of their own (seed, 5): the same file again."""
    paths = write_sample_exports(sample, tmp_path)
    started = time.perf_counter()
    grid = line_grid(sample.daily)
    rng = np.random.default_rng([7, 5])
    lo, hi = journeys.window_days(grid, sample.month)
    journeys.write_visits(grid, lo, hi, tmp_path / "again.csv", rng)
    assert time.perf_counter() - started < 2
    assert (tmp_path / "again.csv").read_bytes() == paths["metrica"].read_bytes()
