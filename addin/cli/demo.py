"""`funnelplan demo`: the whole loop on bundled sample data.

sample month → the team's exports (ad platforms, call tracking, CRM; `sheets_sync.samples.exports`)
and the bundled sync config (``sync.toml``, with the Mapping rules) → a planning workbook (.xlsx)
with the plan → Sync Facts (exports → DuckDB fact store → mapped onto plan lines → the Plan's
`f` columns, the Daily, Data Quality and Unmapped sheets, then Refresh Run-Rate) → the days
before the month, channel by channel, from the store onto the Daily History sheet → Optimize
Split (the proposal sheet and the response curves) → Compare Scenarios, Alerts, Attribution →
Drill by channel (so the Drill sheet shows numbers) → a plan/fact/run-rate summary read back from
the workbook (a `DemoResult`; ``--json`` prints its `to_dict`: the summary, with the proposed
split under ``"split"`` and the sync under ``"sync"``).

The demo folder is a working setup afterwards: ``funnelplan sync <out>/sync.toml`` syncs again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from addin.actions.attribution import attribution, journeys
from addin.actions.check_alerts import AlertsOutcome, run_with_config
from addin.actions.compare_scenarios import Comparison, compare_scenarios
from addin.actions.drill import refresh_drill
from addin.actions.optimize_split import optimize_split
from addin.actions.summary import PlanSummary, plan_summary
from addin.actions.sync_facts import SyncResult, channel_history, run_sync
from addin.cli.scenario_commands import comparison_dict
from planning.attribution_report import AttributionReport
from planning.funnel import DEFAULT_FUNNEL
from planning.runrate import parse_month
from planning.split import Proposal
from sheets_sync.i18n import resolve_language
from sheets_sync.samples.data import generate_sample
from sheets_sync.samples.exports import write_sample_config, write_sample_exports
from sheets_sync.store import FactStore
from sheets_sync.sync_config import SyncConfig, load_config
from sheets_sync.workbooks.xlsx import XlsxWorkbook, save_atomic
from workbook_templates import layout as L
from workbook_templates.attribution_sheet import write_sources
from workbook_templates.daily_history_sheet import write_daily_history
from workbook_templates.mapping_sheet import read_rules
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook

DEMO_MONTH = "2026-11"
DEMO_DAY = 17
SYNC_HOUR = 1
"""The demo syncs at 01:00 the night after as-of (a nightly job): freshness is judged then."""


@dataclass(frozen=True)
class DemoSync:
    """What the demo's sync did, as the demo prints it (under ``"sync"`` in its JSON)."""

    config: Path
    files: int
    rows_loaded: int
    lines: int
    lines_filled: int
    lines_without_facts: list[str]
    unmapped_spend: float
    unplanned_spend: float
    quarantined: int
    duplicates: int
    reconciled: bool
    """Every Data Quality reconciliation line adds up."""
    flags: list[str]
    history_rows: int
    """Rows written to the Daily History sheet."""

    @classmethod
    def of(cls, synced: SyncResult, config: Path, history_rows: int) -> DemoSync:
        return cls(
            config=config,
            files=len(synced.loads),
            rows_loaded=sum(f.rows_loaded for f in synced.loads),
            lines=synced.lines,
            lines_filled=synced.lines_filled,
            lines_without_facts=list(synced.lines_without_facts),
            unmapped_spend=synced.unmapped_spend,
            unplanned_spend=synced.unplanned_spend,
            quarantined=sum(f.quarantined for f in synced.loads),
            duplicates=sum(f.duplicates for f in synced.loads),
            reconciled=bool(synced.quality.reconciliation["ok"].all()),
            flags=list(synced.quality.flags),
            history_rows=history_rows,
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "config": str(self.config)}


@dataclass(frozen=True)
class DemoResult:
    workbook: Path
    store: Path
    exports: dict[str, Path]
    summary: PlanSummary
    split: Proposal
    config: Path
    sync: DemoSync
    scenarios: Comparison
    alerts: AlertsOutcome
    attribution: dict[str, AttributionReport | None]

    def to_dict(self) -> dict[str, Any]:
        """``demo --json``: the summary, then where the workbook and the store are, the
        proposed split and the sync."""
        return {
            **self.summary.to_dict(),
            "workbook": str(self.workbook),
            "store": str(self.store),
            "split": self.split.to_dict(),
            "sync": self.sync.to_dict(),
            "scenarios": comparison_dict(self.scenarios),
            "alerts": [
                {
                    "rule": f.rule.name,
                    "where": f.where,
                    "value": f.value,
                    "threshold": f.limit,
                    "since": f.since.isoformat() if f.since else None,
                    "severity": f.rule.severity,
                }
                for f in self.alerts.evaluation.firings
            ],
            "attribution": attribution_dict(self.attribution.get("leads")),
        }


def attribution_dict(report: AttributionReport | None) -> dict[str, Any] | None:
    """The leads attribution in the demo's JSON: per channel the chosen model's and last
    click's credit, the true CPA and the verdict."""
    if report is None:
        return None
    return {
        "model": report.chosen,
        "leads": report.conversions,
        "channels": {
            c.channel: {
                "credited": c.conversions.get(report.chosen),
                "last_click": c.conversions.get("last_touch"),
                "true_cpa": c.true_cpa if c.true_cpa == c.true_cpa else None,
                "verdict": c.verdict,
            }
            for c in report.channels
        },
    }


def plan_lines(plan: pd.DataFrame) -> pd.DataFrame:
    """Plan lines with `m p` from the sample plan (the facts come from Sync Facts)."""
    metrics = [m for m in DEFAULT_FUNNEL.metrics if m in plan.columns]
    lines = plan[list(L.KEYS)].copy()
    for m in metrics:
        lines[L.abs_header(m, "p")] = plan[m].to_numpy()
    return lines


def _clear_old_exports(config: SyncConfig) -> None:
    """Remove exports an earlier demo run left in the folder (other date ranges), so the
    config's globs see this run's files only."""
    for src in config.sources:
        for pattern in src.paths:
            for old in (src.base / pattern).parent.glob(Path(pattern).name):
                old.unlink()


def write_history(book: Path, config: SyncConfig, before: dt.date) -> int:
    """The days before the month, channel by channel (spend, leads) from the fact store, mapped
    with the workbook's Mapping rules, onto the Daily History sheet; rows written."""
    wb = XlsxWorkbook(book)
    rules = read_rules(wb)
    with FactStore(config.store_location) as store:
        history = channel_history(store, config, rules, end=before - dt.timedelta(days=1))
    if history.empty:
        return 0
    rows = write_daily_history(wb, history)
    wb.save()
    return rows


def run_demo(
    out_dir: Path,
    month: str = DEMO_MONTH,
    as_of: dt.date | None = None,
    seed: int = 7,
    step: Callable[[str], None] = lambda message: None,
    lang: str | None = None,
) -> DemoResult:
    """Run the demo into `out_dir` and return the paths and the summary; the workbook is in
    `lang` (None: the system's language)."""
    start = parse_month(month)
    as_of = as_of or start.replace(day=DEMO_DAY)
    out_dir.mkdir(parents=True, exist_ok=True)

    step("Generating the sample month")
    sample = generate_sample(start, as_of=as_of, seed=seed)

    step("Writing the sample exports and sync.toml")
    config_path = write_sample_config(out_dir, start)
    config = load_config(config_path)
    _clear_old_exports(config)
    exports = write_sample_exports(sample, out_dir / "exports", seed=seed)

    step("Writing the planning workbook")
    spec = PlanWorkbookSpec(
        month=start,
        lines=plan_lines(sample.plan),
        as_of=as_of,
        mapping=config.mapping,
        lang=resolve_language(lang),
    )
    save_atomic(build_plan_workbook(spec), config.workbook)

    step("Syncing facts from the exports (and refreshing the run-rate)")
    now = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(SYNC_HOUR))
    synced = run_sync(config, now=now, as_of=as_of)
    history_rows = write_history(config.workbook, config, start)

    step("Optimizing the split")
    split = optimize_split(XlsxWorkbook(config.workbook))

    step("Comparing the scenarios")
    scenarios = compare_scenarios(XlsxWorkbook(config.workbook))

    step("Checking the alerts")
    alerts = run_with_config(XlsxWorkbook(config.workbook), config, now)

    step("Attributing the journeys")
    touches, outcomes, inputs = journeys(config)
    book = XlsxWorkbook(config.workbook)
    attributed = attribution(book, touches, outcomes, save=False)
    write_sources(book, inputs)
    book.save()

    step("Drilling down by channel")
    refresh_drill(XlsxWorkbook(config.workbook), config)  # the template's level: channel

    step("Summarising plan vs fact vs run-rate")
    summary = plan_summary(XlsxWorkbook(config.workbook))
    return DemoResult(
        workbook=config.workbook,
        store=config.store,
        exports=exports,
        summary=summary,
        split=split,
        config=config_path,
        sync=DemoSync.of(synced, config_path, history_rows),
        scenarios=scenarios,
        alerts=alerts,
        attribution=attributed,
    )
