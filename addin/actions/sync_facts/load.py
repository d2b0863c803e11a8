"""Step 2, load: each read into the fact store in order of its window (`FactStore.load`: a file
already loaded changes nothing; a newer export replaces the days it covers, so restated days
are not double counted)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from addin.actions.sync_facts.read import Inputs
from addin.actions.sync_facts.result import FileLoad, Progress
from planning.errors import InputError
from sheets_sync.quality import SourceRead
from sheets_sync.store import FactStore
from sheets_sync.sync_config import SyncConfig


@dataclass
class Loaded:
    """The reads in load order, each with its basis and the store's outcome, and what each
    load did."""

    reads: list[SourceRead]
    loads: list[FileLoad]


def _basis(read: SourceRead, basis: str) -> str:
    if basis == "cohort" and (read.result.facts["basis"] == "cohort").any():
        return "cohort"
    return "event"


def _load_order(reads: list[SourceRead]) -> list[SourceRead]:
    """Per source, older windows first, so the newest export's restatement wins."""
    far = (dt.date.max, dt.date.max)

    def key(r: SourceRead) -> tuple[dt.date, dt.date, str]:
        w = r.window() or far
        return w[1], w[0], r.label

    names = list(dict.fromkeys(r.source for r in reads))
    return [r for n in names for r in sorted((x for x in reads if x.source == n), key=key)]


def _file_load(r: SourceRead) -> FileLoad:
    info = r.result.info
    return FileLoad(
        source=r.source,
        kind=r.kind,
        file=r.label,
        rows_read=info.rows_read,
        rows_ok=info.rows_ok,
        quarantined=info.rows_quarantined,
        duplicates=info.duplicates,
        skipped=bool(r.outcome.skipped),
        rows_loaded=int(r.outcome.rows),
        replaced=int(r.outcome.replaced),
        date_from=r.outcome.date_from,
        date_to=r.outcome.date_to,
    )


def load_inputs(store: FactStore, config: SyncConfig, inputs: Inputs, progress: Progress) -> Loaded:
    """The load step: every read from a configured source (an input of another source is an
    error), on the config's basis, older windows first (the newest export's restated days
    win)."""
    configured = {s.name for s in config.sources}
    for r in inputs.reads:
        if r.source not in configured:
            raise InputError(f"input {r.label} is from source `{r.source}`, not in the config")
        r.basis = _basis(r, config.basis)
    reads = _load_order(inputs.reads)
    loads: list[FileLoad] = []
    for i, r in enumerate(reads):
        progress(f"Loading {r.source}: {Path(r.label).name}", len(reads) + i, inputs.total)
        r.outcome = store.load(r.result, r.file_hash)
        loads.append(_file_load(r))
    return Loaded(reads, loads)
