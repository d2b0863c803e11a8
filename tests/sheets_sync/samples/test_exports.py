"""The sample exports: read back with the real readers and mapped with the bundled rules, they
reproduce the simulated facts per line and day; the deliberate mess is where it should be."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from planning.funnel import DEFAULT_FUNNEL
from sheets_sync.facts import FACT_COLUMNS, ReadResult
from sheets_sync.mapping import map_facts, rules_from_records
from sheets_sync.samples.ad_exports import TEST_CAMPAIGN
from sheets_sync.samples.campaigns import SAMPLE_CAMPAIGNS
from sheets_sync.samples.data import CHANNELS, SampleMonth, generate_sample
from sheets_sync.samples.exports import (
    sample_config,
    sample_config_text,
    write_sample_config,
    write_sample_exports,
)
from sheets_sync.sources.ad_export import read_ad_export
from sheets_sync.sources.calls_export import read_calls_export
from sheets_sync.sources.crm_export import read_crm_export
from sheets_sync.sync_config import SyncConfig, load_config

METRICS = list(DEFAULT_FUNNEL.metrics)
COUNTS = [m for m in METRICS if m not in ("spend", "revenue")]
READERS = {"ad": read_ad_export, "calls": read_calls_export, "crm": read_crm_export}
SOURCES = ("google_ads", "yandex_direct", "meta_ads", "vk_ads", "agency", "calls", "crm")
JOURNEYS = ("metrica", "crm_journeys")


@pytest.fixture(scope="module")
def sample() -> SampleMonth:
    return generate_sample("2026-11", seed=7)


@pytest.fixture(scope="module")
def demo(sample: SampleMonth, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("demo")
    paths = write_sample_exports(sample, folder / "exports")
    config = load_config(write_sample_config(folder, sample.month))
    results = {s.name: READERS[s.kind](s.files()[0], s.options()) for s in config.fact_sources}
    return {"folder": folder, "paths": paths, "config": config, "results": results}


def mapped(config: SyncConfig, results: dict[str, ReadResult]) -> pd.DataFrame:
    facts = pd.concat([r.facts for r in results.values()], ignore_index=True)
    rules = rules_from_records(list(config.mapping))
    return map_facts(facts, rules)


# --------------------------------------------------------------------------- config and names


def test_config_names_every_export(sample: SampleMonth, demo: dict[str, Any]) -> None:
    config: SyncConfig = demo["config"]
    paths: dict[str, Path] = demo["paths"]
    assert set(paths) == {*SOURCES, *JOURNEYS}
    assert [s.name for s in config.fact_sources] == list(SOURCES)
    assert [s.name for s in config.paths_sources] == list(JOURNEYS)
    for source in config.sources:
        assert source.files() == [paths[source.name]]
    assert config.workbook == demo["folder"] / "plan-2026-11.xlsx"
    assert config.store == demo["folder"] / "facts.duckdb"
    assert config.basis == "event"
    first, last = sample.daily["date"].iloc[0], sample.daily["date"].iloc[-1]
    assert paths["crm"].name == f"crm_leads_{first:%Y-%m-%d}_{last:%Y-%m-%d}.csv"


def test_bundled_config_is_package_data() -> None:
    text = sample_config_text()
    assert text.startswith("# The demo's sync config")
    config = sample_config()
    assert config["workbook"] == "plan-2026-11.xlsx"
    pyproject = Path(__file__).parents[3] / "pyproject.toml"
    assert '"sheets_sync.samples" = ["*.toml"]' in pyproject.read_text(encoding="utf-8")


def test_campaigns_cover_the_plan_lines(sample: SampleMonth) -> None:
    lines = [(c.channel, c.campaign) for c in SAMPLE_CAMPAIGNS]
    assert lines == [line for spec in CHANNELS for line in spec.lines]
    assert lines == list(zip(sample.plan["channel"], sample.plan["campaign"], strict=True))
    names = [c.export_name for c in SAMPLE_CAMPAIGNS]
    assert len(set(n.casefold() for n in names)) == len(names) == 28
    assert TEST_CAMPAIGN.casefold() not in {n.casefold() for n in names}
    yandex = next(c for c in SAMPLE_CAMPAIGNS if c.export_name == "YD_Search_Brand_RF")
    assert (yandex.utm_source, yandex.utm_medium, yandex.utm_campaign) == (
        "yandex",
        "cpc",
        "yd_search_brand_rf",
    )


def test_rules_map_every_name_and_slug_but_the_test_campaign(demo: dict[str, Any]) -> None:
    config: SyncConfig = demo["config"]
    assert {r["match"] for r in config.mapping} == {"exact", "contains", "regex"}
    ad_utm = {"google_ads": "google", "yandex_direct": "yandex", "meta_ads": "facebook"}
    ad_utm |= {"vk_ads": "vk", "agency": "agency"}
    rows = []
    for c in SAMPLE_CAMPAIGNS:  # as the ad export, call tracking and the CRM name the line
        rows.append((c.source, ad_utm[c.source], "cpc", c.export_name, c.channel, c.campaign))
        for source in ("calls", "crm"):
            rows.append((source, c.utm_source, c.utm_medium, c.utm_campaign, c.channel, c.campaign))
    rows.append(("google_ads", "google", "cpc", TEST_CAMPAIGN, "", ""))
    keys = pd.DataFrame(
        rows, columns=["source", "utm_source", "utm_medium", "utm_campaign", "want_ch", "want_c"]
    )
    out = map_facts(keys, rules_from_records(list(config.mapping)))
    assert out["channel"].tolist() == out["want_ch"].tolist()
    assert out["campaign"].tolist() == out["want_c"].tolist()
    assert (out["rule"] == 0).sum() == 1
    assert len(config.mapping) == len(SAMPLE_CAMPAIGNS)  # one rule per line, each used
    assert set(out["rule"]) - {0} == set(range(1, len(SAMPLE_CAMPAIGNS) + 1))


# --------------------------------------------------------------------------- the round trip


def test_round_trip_reproduces_the_simulated_facts(
    sample: SampleMonth, demo: dict[str, Any]
) -> None:
    facts = mapped(demo["config"], demo["results"])
    assert list(facts.columns[: len(FACT_COLUMNS)]) == list(FACT_COLUMNS)
    facts = facts[facts["basis"] == "event"]
    first = pd.Timestamp(sample.daily["date"].iloc[0])
    last = pd.Timestamp(sample.as_of)
    window = facts[(facts["date"] >= first) & (facts["date"] <= last)]
    assert (window["rule"] > 0).any()
    # Only the CRM has facts before the window: leads created before the history whose later
    # stages fall inside it. Nothing after `as_of`.
    assert set(facts.loc[facts["date"] < first, "source"]) <= {"crm"}
    assert (facts["date"] <= last).all()

    got = (
        window[(window["rule"] > 0) & window["metric"].isin(METRICS)]
        .groupby(["date", "channel", "campaign", "metric"])["value"]
        .sum()
        .unstack("metric")
        .reindex(columns=METRICS)
        .fillna(0.0)
    )
    want = sample.daily.assign(date=pd.to_datetime(sample.daily["date"]))
    want = want.set_index(["date", "channel", "campaign"])[METRICS].astype(float)
    got = got.reindex(want.index.union(got.index)).fillna(0.0)
    want = want.reindex(got.index).fillna(0.0)
    assert len(got) == len(sample.daily)  # no line or day the sample does not have
    for metric in COUNTS:
        diff = got[metric] - want[metric]
        assert (diff == 0).all(), (metric, diff[diff != 0].head())
    for metric in ("spend", "revenue"):  # to the kopeck, after VAT and rate
        diff = (got[metric] - want[metric]).abs()
        assert (diff < 0.005).all(), (metric, diff[diff >= 0.005].head())
        assert abs(got[metric].sum() - want[metric].sum()) < 0.01 * len(got) ** 0.5


def test_only_the_test_campaign_is_unmapped(sample: SampleMonth, demo: dict[str, Any]) -> None:
    facts = mapped(demo["config"], demo["results"])
    unmapped = facts[facts["rule"] == 0]
    assert set(unmapped["source"]) == {"google_ads"}
    assert set(unmapped["utm_campaign"]) == {TEST_CAMPAIGN}
    spend = unmapped.loc[unmapped["metric"] == "spend", "value"]
    assert len(spend) == 5
    assert 0 < spend.sum() < 0.001 * sample.daily["spend"].sum()


def test_crm_and_call_metrics(demo: dict[str, Any]) -> None:
    calls = demo["results"]["calls"].facts
    total = calls.groupby("metric")["value"].sum()
    assert total["calls_all"] > total["calls"] > 0
    crm = demo["results"]["crm"].facts
    by_basis = crm.groupby(["basis", "metric"])["value"].sum()
    for metric in ("leads", "pp", "negotiations", "purchases", "revenue"):
        # Every lead in the file counts once on each basis (cohort: on its creation day).
        assert by_basis["cohort", metric] == pytest.approx(by_basis["event", metric], abs=0.01)


# --------------------------------------------------------------------------- deliberate mess


def test_messy_rows_are_quarantined_or_dropped(demo: dict[str, Any]) -> None:
    results: dict[str, ReadResult] = demo["results"]
    quarantined = {name: len(r.quarantine) for name, r in results.items()}
    assert quarantined == {
        "google_ads": 0,
        "yandex_direct": 1,
        "meta_ads": 0,
        "vk_ads": 1,
        "agency": 1,
        "calls": 0,
        "crm": 1,
    }
    duplicates = {name: r.info.duplicates for name, r in results.items()}
    assert duplicates == {
        "google_ads": 0,
        "yandex_direct": 1,
        "meta_ads": 0,
        "vk_ads": 0,
        "agency": 0,
        "calls": 1,
        "crm": 1,
    }
    reasons = {
        name: r.quarantine["value"].iloc[0] for name, r in results.items() if quarantined[name]
    }
    assert reasons["yandex_direct"].startswith("32.")
    assert reasons["vk_ads"] == "1O5.20"
    assert reasons["agency"] == "-1250,00"
    assert reasons["crm"].startswith("2026-02-30")


def test_detected_formats(demo: dict[str, Any]) -> None:
    info = {name: r.info for name, r in demo["results"].items()}
    assert (info["google_ads"].encoding, info["google_ads"].delimiter) == ("utf-8", ",")
    assert info["google_ads"].header_line == 3
    assert (info["yandex_direct"].encoding, info["yandex_direct"].delimiter) == ("cp1251", ";")
    assert info["yandex_direct"].date_format == "dd.mm.yyyy"
    assert info["yandex_direct"].header_line == 3
    assert info["vk_ads"].encoding == "utf-8-sig"
    assert info["agency"].delimiter == "\t"
    assert info["agency"].date_format == "dd/mm/yyyy"
    assert info["meta_ads"].platform == "meta_ads"


def test_file_totals_rows_match_the_rows(demo: dict[str, Any]) -> None:
    for name in ("google_ads", "yandex_direct"):
        info = demo["results"][name].info
        assert info.file_totals_row is not None
        for metric, value in info.file_totals_row.items():
            assert info.totals[metric] == pytest.approx(value, abs=0.01), (name, metric)


# --------------------------------------------------------------------------- determinism, speed


def test_same_seed_same_files(sample: SampleMonth, tmp_path: Path) -> None:
    a = write_sample_exports(sample, tmp_path / "a")
    b = write_sample_exports(sample, tmp_path / "b")
    c = write_sample_exports(sample, tmp_path / "c", seed=8)
    for name in SOURCES:
        if a[name].suffix == ".csv":
            assert a[name].read_bytes() == b[name].read_bytes(), name
    assert a["crm"].read_bytes() != c["crm"].read_bytes()
    # The XLSX differs only in its zip timestamps: compare the cells.
    cells_a = pd.read_excel(a["meta_ads"]).to_numpy()
    cells_b = pd.read_excel(b["meta_ads"]).to_numpy()
    assert (pd.DataFrame(cells_a).fillna(-1) == pd.DataFrame(cells_b).fillna(-1)).all().all()


def test_a_short_history_and_another_month(tmp_path: Path) -> None:
    sample = generate_sample("2027-02", as_of=dt.date(2027, 2, 3), seed=3, history_days=10)
    paths = write_sample_exports(sample, tmp_path / "exports")
    config = load_config(write_sample_config(tmp_path, sample.month))
    assert config.workbook.name == "plan-2027-02.xlsx"
    assert config.source("crm").files() == [paths["crm"]]
    result = read_crm_export(paths["crm"], config.source("crm").options())
    facts = result.facts[result.facts["basis"] == "event"]
    facts = facts[facts["date"] >= pd.Timestamp(sample.daily["date"].iloc[0])]
    totals = facts.groupby("metric")["value"].sum()
    for metric in ("leads", "pp", "negotiations", "purchases", "revenue"):
        assert totals.get(metric, 0.0) == pytest.approx(sample.daily[metric].sum(), abs=0.01)


def test_generation_is_fast(tmp_path: Path) -> None:
    start = time.perf_counter()
    sample = generate_sample("2026-11", as_of=dt.date(2026, 11, 30), seed=11)
    write_sample_exports(sample, tmp_path)
    elapsed = time.perf_counter() - start
    assert len(sample.daily) == 28 * 90
    assert elapsed < 4.0  # about 0.6 s here; generous for shared CI machines
