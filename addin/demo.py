"""`funnelplan demo`: the whole loop on bundled sample data.

sample exports (CSV) → DuckDB fact store → planning workbook (.xlsx) with plan and facts (and
the days before the month, channel by channel, on the Daily History sheet) → Refresh Run-Rate
on the workbook → Optimize Split (the proposal sheet and the response curves) → a
plan/fact/run-rate summary read back from it, with the proposed split under ``"split"``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from addin.actions import plan_summary, refresh
from addin.split_action import optimize_split
from planning.funnel import DEFAULT_FUNNEL
from planning.runrate import parse_month
from sheets_sync.sample_data import generate_sample, read_exports, write_exports
from sheets_sync.store import FactStore
from sheets_sync.xlsx_workbook import XlsxWorkbook, save_atomic
from workbook_templates import layout as L
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook

DEMO_MONTH = "2026-11"
DEMO_DAY = 17


@dataclass
class DemoResult:
    workbook: Path
    store: Path
    exports: dict[str, Path]
    summary: dict[str, Any]
    split: dict[str, Any] | None = None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def lines_with_facts(plan: pd.DataFrame, month_daily: pd.DataFrame) -> pd.DataFrame:
    """Plan lines with `m p` from the plan and `m f` = month-to-date sums of the daily facts."""
    metrics = [m for m in DEFAULT_FUNNEL.metrics if m in plan.columns]
    lines = plan[list(L.KEYS)].copy()
    for m in metrics:
        lines[L.abs_header(m, "p")] = plan[m].to_numpy()
    if not month_daily.empty:
        facts = month_daily.groupby(list(L.KEYS), sort=False)[metrics].sum().reset_index()
        facts = facts.rename(columns={m: L.abs_header(m, "f") for m in metrics})
        lines = lines.merge(facts, on=list(L.KEYS), how="left")
    return lines


def channel_days(daily: pd.DataFrame, before: dt.date) -> pd.DataFrame:
    """Channel-level days before `before` (``date, channel, spend, leads``, summed over the
    campaigns): the Daily History sheet Optimize Split fits its curves on."""
    days = daily[daily["date"] < before]
    columns = list(L.DAILY_HISTORY_HEADERS)
    if days.empty:
        return pd.DataFrame(columns=columns)
    return days.groupby(["date", "channel"], sort=False)[columns[2:]].sum().reset_index()


def run_demo(
    out_dir: Path,
    month: str = DEMO_MONTH,
    as_of: dt.date | None = None,
    seed: int = 7,
    step: Callable[[str], None] = lambda message: None,
) -> DemoResult:
    """Run the demo into `out_dir` and return the paths and the summary."""
    start = parse_month(month)
    as_of = as_of or start.replace(day=DEMO_DAY)
    out_dir.mkdir(parents=True, exist_ok=True)

    step("Generating the sample month")
    sample = generate_sample(start, as_of=as_of, seed=seed)
    exports = write_exports(sample, out_dir / "exports")

    step("Loading exports into the DuckDB fact store")
    plan, daily = read_exports(out_dir / "exports")
    store_path = out_dir / "facts.duckdb"
    with FactStore(store_path) as store:
        store.load_daily(daily, source="sample", file_hash=_sha256(exports["daily"]))
        month_daily = store.daily(start=start, end=as_of)
        before = store.daily(end=start - dt.timedelta(days=1))

    step("Writing the planning workbook")
    book_path = out_dir / f"plan-{start:%Y-%m}.xlsx"
    spec = PlanWorkbookSpec(
        month=start,
        lines=lines_with_facts(plan, month_daily),
        daily=month_daily,
        daily_history=channel_days(before, start),
        as_of=as_of,
    )
    save_atomic(build_plan_workbook(spec), book_path)

    step("Refreshing the run-rate")
    refresh(XlsxWorkbook(book_path), as_of=as_of)

    step("Optimizing the split")
    split = optimize_split(XlsxWorkbook(book_path)).to_dict()

    step("Summarising plan vs fact vs run-rate")
    summary = plan_summary(XlsxWorkbook(book_path))
    summary["workbook"] = str(book_path)
    summary["store"] = str(store_path)
    summary["split"] = split
    return DemoResult(
        workbook=book_path, store=store_path, exports=exports, summary=summary, split=split
    )
