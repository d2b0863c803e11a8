"""Step 1, read: every configured source read with its reader, each input with a hash (a file's
covers its bytes and the source's reading options, a query's or sheet's the facts it gave).

A file its reader refuses (empty, binary garbage, not a workbook: an `InputError`, or an
`OSError` / `UnicodeError` while reading it) does not stop the sync: it is quarantined whole
(`sheets_sync.file_quarantine`), not loaded, and the other files and sources are read."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from addin.actions.sync_facts.book import PlanBook
from addin.actions.sync_facts.result import Progress, no_progress
from planning.errors import InputError
from sheets_sync.digests import file_digest
from sheets_sync.facts import ReadResult
from sheets_sync.file_quarantine import QuarantinedFile, quarantine_file
from sheets_sync.quality import SourceRead
from sheets_sync.sources.google_sheet import read_gsheet
from sheets_sync.sources.inspect_file import inspect
from sheets_sync.sources.sql import read_sql, redact
from sheets_sync.sync_config import FILE_KINDS, SourceConfig, SyncConfig

HASH_VERSION = "sync-1"
DEALS_VERSION = "deals-1"
"""Part of a CRM input's hash since the store keeps its deals: a CRM export a store loaded
before that is read and loaded once more (its facts restated as they were, its deals added)."""
STAGES_VERSION = "stages-1"
"""Part of a CRM input's hash since stage vocabularies (amoCRM's and Bitrix24's default stages
known, lost deals never purchases): a CRM export loaded before is read once more, and a changed
``crm``, ``stages`` or Mapping sheet stage row reloads it."""


@dataclass
class Inputs:
    """What the read step hands on: the reads, the warnings per source (e.g. a kind with no
    reader) and the progress bar's length for the whole sync."""

    reads: list[SourceRead]
    warnings: dict[str, list[str]]
    total: int
    unreadable: list[QuarantinedFile] = field(default_factory=list)
    """The files no reader could read, quarantined whole."""


def plan_inputs(config: SyncConfig) -> list[tuple[SourceConfig, Path | None]]:
    """Every input a sync reads: (source, file) for file sources (globs expanded; a pattern
    matching nothing is an error naming its key), (source, None) for SQL and Google Sheets.
    Journeys sources (`paths`, read for attribution) are not facts: skipped."""
    inputs: list[tuple[SourceConfig, Path | None]] = []
    for src in config.fact_sources:
        if src.kind in FILE_KINDS:
            inputs += [(src, p) for p in src.files()]
        else:
            inputs.append((src, None))
    return inputs


def _options_key(src: SourceConfig) -> str:
    options = {
        "kind": src.kind,
        "platform": src.platform,
        "rate": src.rate,
        "vat": src.vat,
        "vat_included": src.vat_included,
        "utm_source": src.utm_source,
        "utm_medium": src.utm_medium,
        "columns": src.columns,
        "version": HASH_VERSION,
    }
    if src.spread_periods:  # only when set: the hashes of the stores loaded before hold
        options["spread_periods"] = True
    if src.kind in ("crm", "gsheet"):
        options["deals"] = DEALS_VERSION
        stages = [*src.stages, *src.sheet_stage_names()]
        options["stages"] = json.dumps([STAGES_VERSION, src.crm, stages], ensure_ascii=False)
    return json.dumps(options, sort_keys=True, ensure_ascii=False)


def file_hash(path: Path, src: SourceConfig) -> str:
    """SHA-256 of the file's bytes and the source's reading options (a changed rate or
    column map reloads the same file)."""
    return file_digest(path, _options_key(src))


def _frame_hash(result: ReadResult, src: SourceConfig) -> str:
    facts = result.facts.sort_values(list(result.facts.columns), ignore_index=True)
    digest = hashlib.sha256(facts.to_csv(index=False).encode())
    digest.update(_options_key(src).encode())
    digest.update(f"{src.query}\n{src.url}".encode())
    return digest.hexdigest()


def read_input(
    src: SourceConfig,
    path: Path | None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    today: dt.date | None = None,
) -> SourceRead | None:
    """Read one input with its reader; None for a source kind with no reader. `today` (the
    sync's clock) and the month `start`..`end` go to the readers that check dates by them (ad
    exports: future rows quarantined, a file of the wrong month flagged); a file with rows
    after `today` hashes with it, so it is read again once they are no longer in the future."""
    options = src.options()
    if src.kind in FILE_KINDS:
        assert path is not None
        month = (start, end) if start is not None and end is not None else None
        options = replace(options, today=today, month=month)
        result = inspect(path, options, kind=src.kind)  # the reader of the kind
        digest = file_hash(path, src)
        if (result.quarantine["reason"] == "date in the future").any():
            digest = hashlib.sha256(f"{digest}\n{today}".encode()).hexdigest()
        return SourceRead(src.name, src.kind, str(path), result, digest)
    if src.kind == "sql":
        result = read_sql(src.query, src.url, options, start=start, end=end, base=src.base)
        return SourceRead(
            src.name, src.kind, f"sql: {redact(src.url)}", result, _frame_hash(result, src)
        )
    if src.kind == "gsheet":
        result = read_gsheet(src.spreadsheet, src.tab, options, src.credentials_file())
        return SourceRead(src.name, src.kind, result.info.path, result, _frame_hash(result, src))
    return None


UNREADABLE = (InputError, OSError, UnicodeError)
"""What a file's reader raises when the file cannot be read at all (readers turn a bad file
into an `InputError`; the other two are the disk's and the decoder's, caught as a net)."""


def read_sources(
    config: SyncConfig,
    start: dt.date | None = None,
    end: dt.date | None = None,
    progress: Progress = no_progress,
    inputs: list[tuple[SourceConfig, Path | None]] | None = None,
    total: int | None = None,
    unreadable: list[QuarantinedFile] | None = None,
    today: dt.date | None = None,
) -> tuple[list[SourceRead], dict[str, list[str]]]:
    """Read every input; also the warnings per source (e.g. a kind with no reader yet). A file
    its reader refuses is appended to `unreadable` (quarantined whole, with a warning on its
    source) when that list is given, else its error stops the read."""
    inputs = plan_inputs(config) if inputs is None else inputs
    total = len(inputs) if total is None else total
    reads: list[SourceRead] = []
    warnings: dict[str, list[str]] = {}
    for i, (src, path) in enumerate(inputs):
        label = path.name if path is not None else src.kind
        progress(f"Reading {src.name}: {label}", i, total)
        try:
            read = read_input(src, path, start, end, today)
        except UNREADABLE as error:
            if unreadable is None or path is None:
                raise
            bad = quarantine_file(src.name, src.kind, path, error)
            unreadable.append(bad)
            warnings.setdefault(src.name, []).append(f"file {bad.name} quarantined (unreadable)")
            continue
        if read is None:
            warnings.setdefault(src.name, []).append(
                f"`{src.kind}` sources have no reader: skipped"
            )
            continue
        reads.append(read)
    return reads, warnings


def read_inputs(
    config: SyncConfig,
    book: PlanBook,
    progress: Progress = no_progress,
    reads: list[SourceRead] | None = None,
    today: dt.date | None = None,
) -> Inputs:
    """The read step: the config's sources over the plan month, or `reads` when given (read
    already). The progress bar counts a read and a load per input, then the fill and the
    run-rate."""
    if reads is not None:
        return Inputs(reads, {}, 2 * len(reads) + 2)
    config = config.with_sheet_stages(book.stage_rules)  # the Mapping sheet's CRM stage rows
    inputs = plan_inputs(config)
    total = 2 * len(inputs) + 2
    unreadable: list[QuarantinedFile] = []
    read, warnings = read_sources(
        config, book.month, book.month_end, progress, inputs, total, unreadable, today
    )
    return Inputs(read, warnings, total, unreadable)
