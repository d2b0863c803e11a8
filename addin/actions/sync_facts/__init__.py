"""Sync Facts: from the team's exports (ad platforms, call tracking, CRM, SQL, Google Sheets)
into the fact store and the plan's fact columns, written once against the workbook interface.

`sync(wb, config, store, now)` runs named steps, each a module handing a dataclass to the next:

0. `book`: checks the workbook (Plan, Settings, Daily) and reads the plan month, the Plan's
   lines and the Mapping rules (the sheet seeded with the config's ``[[mapping]]`` when it is
   missing or holds no rule) → `PlanBook`;
1. `read`: reads every configured source (a file's hash covers its bytes and the source's
   reading options) → `Inputs`;
2. `load`: loads each read into the store in order of its window (`FactStore.load`: a file
   already loaded changes nothing; a newer export replaces the days it covers, so restated
   days are not double counted) → `Loaded`;
3. `map`: takes the configured sources' facts from the store, maps them with the rules and
   matches them to the Plan's lines; as-of is the latest day with facts in the plan month,
   never today or later while today is in the month (``as_of`` overrides it) → `Mapped`;
4. `fill`: sums the plan month up to as-of per line into the Plan's ``"<metric> f"`` columns
   of the metrics some source provides (a line with no facts is left blank and listed) and
   writes the Daily sheet (owned whole: one row per day and line) → `Filled`;
5. `report`: the Data Quality report and the Unmapped rows, written to their sheets, and the
   notifications → `Reported`;

then updates the Cohorts sheet from the store's CRM deals (Refresh Cohorts; with no deal the
sheet says so), refreshes the run-rate (Refresh Run-Rate, the lower stages on the deals' lag
curves) and saves once for all (the xlsx adapter writes a temp file and renames it). Nothing
else in the workbook changes.

`run_sync(config)` is the file-level entry (the CLI's) and `sync_with_store` the one the
button (`button.ACTION`) uses: they refuse a workbook Excel has open (its ``~$name.xlsx``
lock file) or a read-only one before anything is read (`files`). `history.channel_history`
gives the demo its Daily History days from the store.
"""

from addin.actions.sync_facts.button import ACTION, run_button
from addin.actions.sync_facts.files import check_writable, lock_file, sweep_temp_files
from addin.actions.sync_facts.fill import PROVIDES
from addin.actions.sync_facts.history import channel_history
from addin.actions.sync_facts.read import plan_inputs, read_input, read_sources
from addin.actions.sync_facts.result import FileLoad, Progress, SyncResult
from addin.actions.sync_facts.run import run_sync, sync, sync_with_store

__all__ = [
    "ACTION",
    "PROVIDES",
    "FileLoad",
    "Progress",
    "SyncResult",
    "channel_history",
    "check_writable",
    "lock_file",
    "plan_inputs",
    "read_input",
    "read_sources",
    "run_button",
    "run_sync",
    "sweep_temp_files",
    "sync",
    "sync_with_store",
]
