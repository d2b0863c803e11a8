"""Fact sync of a large ad export: our path against a plain pandas read_csv + groupby.

    python benchmarks/bench_sync.py [--rows 1000000] [--lines 1000] [--keep DIR]

Writes one Yandex Direct daily campaign report (cp1251, ``;``, dd.mm.yyyy, decimal commas, NBSP
thousands, report lines above the header, an ``Итого`` row, spend including 20 % VAT) with
`--rows` rows over `--lines` campaigns (one day per `--lines` rows, ending on the as-of day),
then times, in the same run:

(a) our path: `read_ad_export` (format detection, number and date parsing, quarantine,
    dedup, VAT) → `FactStore.load` (DuckDB, one transaction) → `store.source_facts` of the plan
    month → `map_facts` with one exact Mapping rule per line → sums per plan line; then, when
    H4's sync action is importable, a whole ``sync`` of a `--lines`-line plan workbook from a
    sync config (read, store, map, fill the Plan and Daily sheets, save) in a fresh folder;
(b) plain pandas: ``read_csv`` with the file's encoding, separator and header line set by hand
    (no detection, no checks), drop the totals row, drop the NBSP thousands and turn decimal
    commas into points (``read_csv``'s ``thousands`` takes one byte and NBSP is two in UTF-8),
    parse the dates with the known format, keep the plan month, divide out VAT, map campaign →
    line with a dict, ``groupby`` + sum.

Both give the same per-line sums (checked). The figure that matters is the ratio; machines here
are shared and noisy, so absolute seconds are only indicative.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from sheets_sync.mapping import map_facts, rules_from_records
from sheets_sync.sources.ad_export import read_ad_export
from sheets_sync.sources.column_map import SourceOptions
from sheets_sync.store import FactStore

MONTH = dt.date(2026, 11, 1)
AS_OF = dt.date(2026, 11, 17)
VAT = 0.2
CHANNELS = 10
SOURCE = "yandex_direct"
T = TypeVar("T")


# --------------------------------------------------------------------------- the export


def campaign_names(lines: int) -> list[str]:
    return [f"YD_Bench_C{i % CHANNELS}_{i:04d}" for i in range(lines)]


def line_of(i: int) -> tuple[str, str]:
    return f"Channel {i % CHANNELS}", f"Campaign {i:04d}"


def _ru(values: np.ndarray, decimals: int) -> list[str]:
    return [f"{v:,.{decimals}f}".replace(",", "\xa0").replace(".", ",") for v in values.tolist()]


def write_export(path: Path, rows: int, lines: int, seed: int = 1) -> None:
    """The Yandex Direct report: `rows` rows (rounded down to whole days of `lines`)."""
    rng = np.random.default_rng(seed)
    days = max(rows // lines, 1)
    first = AS_OF - dt.timedelta(days=days - 1)
    n = days * lines
    day_text = [f"{first + dt.timedelta(days=d):%d.%m.%Y}" for d in range(days)]
    dates = np.repeat(np.array(day_text, dtype=object), lines)
    names = np.tile(np.array(campaign_names(lines), dtype=object), days)
    scale = rng.gamma(2.0, 3000.0, lines)  # each campaign's typical daily spend, RUB
    spend = np.round(np.tile(scale, days) * rng.lognormal(0.0, 0.3, n) * (1 + VAT), 2)
    clicks = rng.poisson(spend / 40.0)
    impressions = clicks * rng.integers(15, 60, n)
    conversions = rng.binomial(clicks, 0.03)
    body = "\r\n".join(
        map(
            ";".join,
            zip(
                dates.tolist(),
                names.tolist(),
                _ru(impressions, 0),
                _ru(clicks, 0),
                _ru(spend, 2),
                _ru(conversions, 0),
                strict=True,
            ),
        )
    )
    total = ";".join(
        [
            "Итого",
            "",
            *_ru(np.array([impressions.sum(), clicks.sum()]), 0),
            *_ru(np.array([spend.sum()]), 2),
            *_ru(np.array([conversions.sum()]), 0),
        ]
    )
    text = (
        f'"Статистика по дням: {first:%d.%m.%Y} - {AS_OF:%d.%m.%Y}"\r\n'
        "Логин: bench-direct;;;;;\r\n"
        "Дата;Кампания;Показы;Клики;Расход (руб.);Конверсии\r\n"
        f"{body}\r\n{total}\r\n"
    )
    path.write_bytes(text.encode("cp1251"))


def mapping_records(lines: int) -> list[dict[str, str]]:
    """One exact rule per line, as the Mapping sheet would hold them."""
    return [
        {
            "data source": "",
            "field": "utm_campaign",
            "match": "exact",
            "pattern": name.lower(),
            "channel": line_of(i)[0],
            "campaign": line_of(i)[1],
        }
        for i, name in enumerate(campaign_names(lines))
    ]


# --------------------------------------------------------------------------- the two paths


def timed(func: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    out = func()
    return time.perf_counter() - start, out


def our_path(path: Path, lines: int, folder: Path) -> tuple[dict[str, float], pd.DataFrame]:
    folder.mkdir(parents=True, exist_ok=True)
    options = SourceOptions(source=SOURCE, vat=VAT, vat_included=True, platform="yandex_direct")
    seconds: dict[str, float] = {}
    seconds["read"], result = timed(lambda: read_ad_export(path, options))
    if len(result.quarantine) or result.info.duplicates:
        raise SystemExit(f"unexpected quarantine/duplicates: {result.info.to_dict()}")

    def load() -> Any:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        with FactStore(folder / "facts.duckdb") as store:
            return store.load(result, digest)

    seconds["store"], _ = timed(load)

    def aggregate() -> pd.DataFrame:
        with FactStore(folder / "facts.duckdb") as store:
            facts = store.source_facts(start=MONTH, end=AS_OF, metrics=["spend", "traffic"])
        facts = map_facts(facts, rules_from_records(mapping_records(lines)))
        facts = facts[facts["rule"] > 0]
        sums = facts.pivot_table(
            index=["channel", "campaign"], columns="metric", values="value", aggfunc="sum"
        )
        sums.columns = sums.columns.astype(str)  # the store's keys come back categorical
        return sums[["spend", "traffic"]]

    seconds["map + aggregate"], sums = timed(aggregate)
    return seconds, sums


def pandas_path(path: Path, lines: int) -> pd.DataFrame:
    frame = pd.read_csv(
        path,
        sep=";",
        encoding="cp1251",
        skiprows=2,
        usecols=["Дата", "Кампания", "Клики", "Расход (руб.)"],
        dtype=str,
    )
    frame = frame[frame["Дата"] != "Итого"]
    for column in ("Клики", "Расход (руб.)"):  # the C parser's `thousands` takes one byte only
        text = frame[column].str.replace("\xa0", "", regex=False)
        frame[column] = text.str.replace(",", ".", regex=False).astype(np.float64)
    frame["date"] = pd.to_datetime(frame["Дата"], format="%d.%m.%Y")
    frame = frame[(frame["date"] >= pd.Timestamp(MONTH)) & (frame["date"] <= pd.Timestamp(AS_OF))]
    lookup = {name.lower(): line_of(i) for i, name in enumerate(campaign_names(lines))}
    keys = frame["Кампания"].str.lower().map(lookup)
    frame = frame.assign(
        channel=keys.str[0],
        campaign=keys.str[1],
        spend=frame["Расход (руб.)"] / (1 + VAT),
        traffic=frame["Клики"].astype(np.float64),
    )
    return frame.groupby(["channel", "campaign"])[["spend", "traffic"]].sum()


def sync_path(export: Path, lines: int, folder: Path) -> tuple[float, float] | None:
    """A whole `run_sync` of a fresh `lines`-line plan workbook (its Mapping sheet holding the
    exact rules) from a config naming `export`: ``(build seconds, sync seconds)``, None when
    H4's sync action is not importable."""
    try:
        from addin.actions.sync_facts import run_sync
        from sheets_sync.sync_config import load_config
        from sheets_sync.workbooks.xlsx import save_atomic
        from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook
    except ImportError:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    plan = pd.DataFrame([line_of(i) for i in range(lines)], columns=["channel", "campaign"])
    plan["spend p"] = 100_000.0
    plan["traffic p"] = 2_500.0
    spec = PlanWorkbookSpec(month=MONTH, lines=plan, as_of=AS_OF, mapping=mapping_records(lines))
    book = folder / f"plan-{MONTH:%Y-%m}.xlsx"
    save_atomic(build_plan_workbook(spec), book)
    config = folder / "sync.toml"
    config.write_text(
        f'workbook = "{book.name}"\nstore = "facts.duckdb"\nbasis = "event"\n\n'
        f'[[sources]]\nname = "{SOURCE}"\nkind = "ad"\npath = "{export.resolve()}"\n'
        'platform = "yandex_direct"\nvat = 0.2\nvat_included = true\n',
        encoding="utf-8",
    )
    built = time.perf_counter() - start
    start = time.perf_counter()
    result = run_sync(load_config(config), now=dt.datetime(2026, 11, 18, 9, 0), as_of=AS_OF)
    seconds = time.perf_counter() - start
    if result.lines_filled != lines:
        raise SystemExit(f"the sync filled {result.lines_filled} of {lines} lines")
    return built, seconds


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--keep", type=Path, default=None, help="write the files here and keep")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        export = folder / "yandex_direct_bench.csv"
        t_write, _ = timed(lambda: write_export(export, args.rows, args.lines))
        rows = (args.rows // args.lines) * args.lines
        size = export.stat().st_size / 1e6
        print(
            f"{rows:,} rows x {args.lines:,} campaigns ({rows // args.lines} days, {size:.0f} MB, "
            f"Yandex Direct format, written in {t_write:.1f} s)\n"
        )
        ours, our_sums = our_path(export, args.lines, folder / "ours")
        t_pandas, pandas_sums = timed(lambda: pandas_path(export, args.lines))
        pd.testing.assert_frame_equal(
            our_sums.sort_index(), pandas_sums.sort_index(), check_names=False, rtol=1e-9
        )
        synced = sync_path(export, args.lines, folder / "sync")

    t_ours = sum(ours.values())
    table = [("plain pandas read_csv + groupby", t_pandas)]
    table += [(f"ours: {step}", t) for step, t in ours.items()]
    table.append(("ours: read + store + map + aggregate", t_ours))
    if synced is not None:
        table.append(("ours: whole `run_sync` into the plan workbook", synced[1]))
    print("| path | seconds | rows/s | x pandas |")
    print("|---|---:|---:|---:|")
    for name, seconds in table:
        print(f"| {name} | {seconds:.2f} | {rows / seconds:,.0f} | {seconds / t_pandas:.1f} |")
    if synced is None:
        print("\n(H4's sync action is not importable: the workbook fill is not timed.)")
    else:
        print(
            f"\n(`run_sync`: read, store, map, fill Plan + Daily + Data Quality + Unmapped, save,"
            f" refresh run-rate, in a fresh store; building the {args.lines:,}-line workbook"
            f" first took {synced[0]:.1f} s, not counted.)"
        )


if __name__ == "__main__":
    main()
