"""`sync`: the steps in order, and the entries that open the store and the workbook around it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from addin.actions.refresh_cohorts import update_cohorts
from addin.actions.refresh_runrate import AlreadyRead, RefreshResult, refresh
from addin.actions.runrate_cohort import basis_from_store
from addin.actions.sync_facts.book import PlanBook, open_book
from addin.actions.sync_facts.files import check_writable, sweep_temp_files
from addin.actions.sync_facts.fill import fill_plan
from addin.actions.sync_facts.load import load_inputs
from addin.actions.sync_facts.map import map_to_plan
from addin.actions.sync_facts.read import plan_inputs, read_inputs
from addin.actions.sync_facts.report import notify_sync, write_report
from addin.actions.sync_facts.result import Progress, SyncResult, no_progress
from sheets_sync.quality import SourceRead
from sheets_sync.store import FactStore
from sheets_sync.store_folder import store_folder
from sheets_sync.sync_config import SyncConfig
from sheets_sync.workbooks.interface import WorkbookError, WorkbookTarget
from sheets_sync.workbooks.of_config import open_config_workbook


def sync(
    wb: WorkbookTarget,
    config: SyncConfig,
    store: FactStore,
    now: dt.datetime | None = None,
    as_of: dt.date | None = None,
    reads: list[SourceRead] | None = None,
    progress: Progress = no_progress,
    refresh_after: bool = True,
) -> SyncResult:
    """Sync Facts on `wb` (see the package docstring): open → read → load → map → fill →
    report, then the run-rate refreshed and one save for both. `reads`: inputs already read
    (tests, or a caller that read them itself); None reads the config's sources."""
    now = now or dt.datetime.now()
    book = open_book(wb, config)
    inputs = read_inputs(config, book, progress, reads, today=now.date())  # the sync's clock
    loaded = load_inputs(store, config, inputs, progress)
    total = inputs.total
    progress("Filling the workbook", 2 * len(loaded.reads), total)
    mapped = map_to_plan(store, config, book, loaded.reads, now, as_of)
    filled = fill_plan(wb, config, book, loaded.reads, mapped)
    reported = write_report(
        wb, config, book, loaded.reads, inputs.warnings, mapped, now, inputs.unreadable
    )
    notify_sync(wb, book, mapped.as_of, filled, reported)
    cohorts = update_cohorts(
        wb, store, config, book.rules, book.plan, _cohort_day(book, mapped.as_of, now)
    )
    refreshed: RefreshResult | None = None
    if refresh_after and mapped.as_of is not None and filled.daily_rows:
        progress("Refreshing the run-rate", total - 1, total)
        basis = basis_from_store(cohorts.inputs, book.month, config.basis, cohorts.report)
        read = AlreadyRead(book.funnel, book.table, book.plan, filled.daily)  # not read again
        refreshed = refresh(wb, as_of=mapped.as_of, save=False, cohort=basis, read=read)
    wb.save()  # once, for the facts, the cohorts and the run-rate together
    progress("Done", total, total)
    return SyncResult(
        workbook=wb.name,
        month=book.month,
        as_of=mapped.as_of,
        loads=loaded.loads,
        metrics=filled.metrics,
        lines=filled.lines,
        lines_filled=filled.lines_filled,
        lines_without_facts=filled.lines_without_facts,
        unplanned=reported.unplanned,
        quality=reported.quality,
        filled=filled.sums,
        daily_rows=filled.daily_rows,
        mapping_created=book.mapping_created,
        refresh=refreshed,
        cohorts=cohorts,
    )


def _cohort_day(book: PlanBook, as_of: dt.date | None, now: dt.datetime) -> dt.date:
    """The Cohorts sheet's as-of: the sync's, else the day before `now` within the plan month
    (the month's last day once it is over, its first before it starts)."""
    if as_of is not None:
        return as_of
    return min(max(now.date() - dt.timedelta(days=1), book.month), book.month_end)


def sync_with_store(
    wb: WorkbookTarget | Callable[[], WorkbookTarget],
    config: SyncConfig,
    *,
    file: Path | None = None,
    now: dt.datetime | None = None,
    as_of: dt.date | None = None,
    progress: Progress = no_progress,
) -> SyncResult:
    """`sync` through the config's store (its folder created if inside the config's own:
    `store_folder`), after the checks
    that stop a sync before anything changes: the workbook `file`, when given, must be
    writable (`check_writable`; a killed save's temp files beside it are swept) and every
    source file must exist (`plan_inputs`). `wb` may be a function opening the workbook,
    called after the checks."""
    if file is not None:
        check_writable(file)
        sweep_temp_files(file)
    plan_inputs(config)  # a missing source file stops the sync before anything changes
    store_folder(config)  # so does a store in a missing folder outside the config's own
    target = wb() if callable(wb) else wb
    with FactStore(config.store_location) as store:
        return sync(target, config, store, now=now, as_of=as_of, progress=progress)


def run_sync(
    config: SyncConfig,
    now: dt.datetime | None = None,
    as_of: dt.date | None = None,
    progress: Progress = no_progress,
    notify: Callable[[str], None] | None = None,
) -> SyncResult:
    """Sync the config's workbook (a file, or a Google Sheet) from its sources through its
    store."""
    if config.spreadsheet:
        return sync_with_store(
            lambda: open_config_workbook(config, notify),
            config,
            now=now,
            as_of=as_of,
            progress=progress,
        )
    path = config.workbook
    if not path.exists():
        raise WorkbookError(
            f"workbook {path} does not exist (`workbook` in {config.origin}; create one "
            "with funnelplan template)"
        )
    return sync_with_store(
        lambda: open_config_workbook(config, notify),
        config,
        file=path,
        now=now,
        as_of=as_of,
        progress=progress,
    )
