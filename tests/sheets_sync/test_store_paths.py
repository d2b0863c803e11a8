"""Journeys in the fact store: loads are idempotent, a newer export restates what it holds (also
when its window slides past a conversion), `paths` gives back what was read, and
`load_paths_sources` reads and loads a config's `paths` sources; on DuckDB and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from pg_store import BACKENDS, store_location

from planning.errors import InputError
from sheets_sync.paths_sync import load_paths_sources
from sheets_sync.sources.column_map import SourceOptions
from sheets_sync.sources.paths_export import PathsReadResult, read_paths_export
from sheets_sync.store import FactStore
from sheets_sync.sync_config import parse_config

DATA = Path(__file__).resolve().parents[1] / "data" / "exports" / "journeys"
NOW = dt.datetime(2026, 12, 1)
HEAD = "ClientID;Дата и время визита;Источник трафика;UTM Source;UTM Medium;UTM Campaign;Цель\n"


def visits(tmp_path: Path, name: str, rows: list[str]) -> PathsReadResult:
    path = tmp_path / name
    path.write_text(HEAD + "".join(r + "\n" for r in rows), encoding="utf-8")
    return read_paths_export(path, SourceOptions("web"), shape="visits", now=NOW)


OCTOBER = [  # export 1: 1-31 October
    "v1;03.10.2026 10:00;Рекламные переходы;yandex;cpc;yd_search_brand_rf;0",
    "v1;20.10.2026 10:00;Прямые заходы;;;;1",
    "v1;25.10.2026 10:00;Рекламные переходы;vk;cpc;vk_lal3;0",
    "v2;10.10.2026 10:00;Прямые заходы;;;;0",
]
SLIDING = [  # export 2: 21 October - 20 November, after v1's first conversion
    "v1;25.10.2026 10:00;Рекламные переходы;vk;cpc;vk_lal3;0",
    "v1;02.11.2026 10:00;Рекламные переходы;google;cpc;gs_brand;1",
    "v3;05.11.2026 10:00;Переходы из поисковых систем;;;;0",
]
EXPECTED = [
    ("v1", "10-03", "yd_search_brand_rf"),
    ("v1", "10-20", "Direct"),
    ("v1#2", "10-25", "vk_lal3"),
    ("v1#2", "11-02", "gs_brand"),
    ("v2", "10-10", "Direct"),
    ("v3", "11-05", "Organic Search"),
]


def rows(touches: pd.DataFrame) -> list[tuple[str, str, str]]:
    return [
        (j, f"{ts:%m-%d}", c or ch)
        for j, ts, c, ch in zip(
            touches["journey"],
            touches["ts"],
            touches["utm_campaign"],
            touches["channel"],
            strict=True,
        )
    ]


def counts(store: FactStore) -> tuple[int, int]:
    t, o = store.paths()
    return len(t), len(o)


@pytest.mark.parametrize("backend", BACKENDS)
def test_round_trip_and_idempotent_load(backend: str) -> None:
    read = read_paths_export(DATA / "metrica_visits_ru.csv", SourceOptions("web"), now=NOW)
    with FactStore(store_location(backend)) as store:
        first = store.load_paths(read, "h1")
        assert (first.skipped, first.touches, first.outcomes, first.journeys) == (
            False,
            52,
            4,
            8,
        )
        assert first.quarantined == 3
        again = store.load_paths(read, "h1")
        assert again.skipped and (again.touches, again.outcomes) == (0, 0)
        touches, outcomes = store.paths()
        assert touches.columns[0] == "source" and set(touches["source"]) == {"web"}
        pd.testing.assert_frame_equal(touches.drop(columns="source"), read.touches)
        pd.testing.assert_frame_equal(outcomes.drop(columns="source"), read.outcomes)
        log = store.paths_log()
        assert len(log) == 1 and log["shape"].tolist() == ["visits"]
        assert log["file"].iloc[0].endswith("metrica_visits_ru.csv")
        quarantine = store.quarantine(sources=["web"])
        assert quarantine["line"].tolist() == [12, 13, 14]


@pytest.mark.parametrize("backend", BACKENDS)
def test_crm_history_round_trip(backend: str) -> None:
    read = read_paths_export(DATA / "crm_history_ru.xlsx", SourceOptions("crm_j"), now=NOW)
    with FactStore(store_location(backend)) as store:
        store.load_paths(read, "h")
        touches, outcomes = store.paths()
    pd.testing.assert_frame_equal(touches.drop(columns="source"), read.touches)
    pd.testing.assert_frame_equal(outcomes.drop(columns="source"), read.outcomes)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("order", ["older first", "newer first"])
def test_sliding_exports_restate_visitors_without_double_counting(
    tmp_path: Path, order: str, backend: str
) -> None:
    october = visits(tmp_path, "oct.csv", OCTOBER)
    sliding = visits(tmp_path, "nov.csv", SLIDING)
    # each file alone numbers v1's journeys from its own first visit
    assert sliding.touches["journey"].tolist()[:2] == ["v1", "v1"]
    loads = [(october, "a"), (sliding, "b")]
    with FactStore(store_location(backend)) as store:
        for read, digest in loads if order == "older first" else loads[::-1]:
            store.load_paths(read, digest)
        touches, outcomes = store.paths()
        assert rows(touches) == EXPECTED
        assert [(j, f"{ts:%m-%d}") for j, ts in zip(outcomes["journey"], outcomes["ts"],
                                                    strict=True)] == [
            ("v1", "10-20"),
            ("v1#2", "11-02"),
        ]  # fmt: skip
        log = store.paths_log()
        assert log["replaced_touches"].tolist() == [0, 1]  # the 25.10 visit, restated once


@pytest.mark.parametrize("backend", BACKENDS)
def test_newer_crm_export_restates_whole_deals(tmp_path: Path, backend: str) -> None:
    head = "ID сделки;Дата создания;Статус;Бюджет;Путь клиента\n"
    old = tmp_path / "crm_1.csv"
    old.write_text(
        head + "D1;05.11.2026 12:00;В работе;;vk / cpc > (direct) / (none)\n"
        "D2;06.11.2026 12:00;В работе;;google / cpc\n",
        encoding="utf-8",
    )
    new = tmp_path / "crm_2.csv"
    new.write_text(
        head + "D1;05.11.2026 12:00;Успешно;90000;yandex / cpc > vk / cpc > (direct) / (none)\n",
        encoding="utf-8",
    )
    with FactStore(store_location(backend)) as store:
        for i, path in enumerate((old, new)):
            store.load_paths(read_paths_export(path, SourceOptions("crm_j"), now=NOW), f"h{i}")
        touches, outcomes = store.paths()
    assert touches.groupby("journey").size().to_dict() == {"D1": 3, "D2": 1}
    d1 = outcomes[outcomes["journey"] == "D1"]
    assert d1["kind"].tolist() == ["lead", "purchase"] and d1["value"].tolist() == [0.0, 90000.0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_paths_window_selects_converting_journeys_with_their_whole_path(
    tmp_path: Path, backend: str
) -> None:
    with FactStore(store_location(backend)) as store:
        store.load_paths(visits(tmp_path, "oct.csv", OCTOBER), "a")
        store.load_paths(visits(tmp_path, "nov.csv", SLIDING), "b")
        touches, outcomes = store.paths(start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30))
        assert rows(touches) == [EXPECTED[2], EXPECTED[3], EXPECTED[5]]  # v1#2 from 25.10
        assert outcomes["journey"].tolist() == ["v1#2"]
        touches, outcomes = store.paths(end=dt.date(2026, 10, 31))
        assert rows(touches) == [EXPECTED[0], EXPECTED[1], EXPECTED[4]]
        assert store.paths(sources=["other"])[0].empty
        with pytest.raises(InputError, match="`start` must be a date"):
            store.paths(start="2026-11-01")  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_bad_read_changes_nothing(tmp_path: Path, backend: str) -> None:
    read = visits(tmp_path, "oct.csv", OCTOBER)
    with FactStore(store_location(backend)) as store:
        store.load_paths(read, "a")
        before = store.paths()
        broken = dataclasses.replace(read, touches=read.touches.drop(columns="channel"))
        with pytest.raises(InputError, match="missing the columns: channel"):
            store.load_paths(broken, "b")
        bad_kind = dataclasses.replace(read, outcomes=read.outcomes.assign(kind="signup"))
        with pytest.raises(InputError, match="lead or purchase"):
            store.load_paths(bad_kind, "c")
        with pytest.raises(InputError, match="file_hash"):
            store.load_paths(read, "")
        after = store.paths()
        pd.testing.assert_frame_equal(before[0], after[0])
        assert len(store.paths_log()) == 1


def test_tables_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "facts.duckdb"
    with FactStore(path) as store:
        store.load_paths(visits(tmp_path, "oct.csv", OCTOBER), "a")
    with FactStore(path) as store:
        assert counts(store) == (4, 1)
        assert store.load_paths(visits(tmp_path, "oct.csv", OCTOBER), "a").skipped


def test_load_paths_sources(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "visits_2026-10.csv").write_text(HEAD + "\n".join(OCTOBER) + "\n", "utf-8")
    (exports / "visits_2026-11.csv").write_text(HEAD + "\n".join(SLIDING) + "\n", "utf-8")
    shutil.copy(DATA / "crm_history_ru.xlsx", exports / "crm_history.xlsx")
    with duckdb.connect(str(tmp_path / "dwh.duckdb")) as con:
        con.execute(
            "CREATE TABLE t AS SELECT 'w1' AS journey, TIMESTAMP '2026-11-03 10:00' AS ts, "
            "'vk' AS utm_source, 'lead' AS conversion"
        )
    config = parse_config(
        """
        workbook = "plan.xlsx"
        [[sources]]
        name = "crm"
        kind = "crm"
        path = "exports/crm_leads_*.csv"
        [[sources]]
        name = "web"
        kind = "paths"
        path = "exports/visits_*.csv"
        [[sources]]
        name = "deals"
        kind = "paths"
        path = "exports/crm_history.xlsx"
        shape = "crm_history"
        [[sources]]
        name = "dwh"
        kind = "paths"
        query = "SELECT * FROM t"
        url = "duckdb:///dwh.duckdb"
        """,
        base=tmp_path,
    )
    with FactStore(tmp_path / "facts.duckdb") as store:
        loads = load_paths_sources(config, store, now=NOW)
        assert [(x.source, Path(x.file).name) for x in loads] == [
            ("web", "visits_2026-10.csv"),
            ("web", "visits_2026-11.csv"),
            ("deals", "crm_history.xlsx"),
            ("dwh", "dwh.duckdb"),
        ]
        assert not any(x.outcome.skipped for x in loads)
        assert rows(store.paths(sources=["web"])[0]) == EXPECTED
        again = load_paths_sources(config, store, now=NOW)
        assert all(x.outcome.skipped for x in again)
        assert counts(store) == (6 + 11 + 1, 2 + 7 + 1)
        only = load_paths_sources(config, store, sources=["dwh"], now=NOW)
        assert [x.source for x in only] == ["dwh"]
        with pytest.raises(InputError, match="no `paths` source named crm"):
            load_paths_sources(config, store, sources=["crm"])
    (exports / "crm_history.xlsx").unlink()
    with FactStore(tmp_path / "other.duckdb") as store:
        with pytest.raises(InputError, match=r"`sources\[2\]\.path` of source `deals`"):
            load_paths_sources(config, store, now=NOW)
        assert counts(store) == (0, 0)  # nothing loaded before the missing file was found
