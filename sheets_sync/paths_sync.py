"""Reading a sync config's journeys sources (``kind = "paths"``) into the fact store.

`load_paths_sources(config, store)` is what the Attribution button runs before it reads
`FactStore.paths`: every `paths` source's files (globs expanded; a pattern matching nothing is
an error naming its key, before anything is loaded) or query read, then each input loaded
(`FactStore.load_paths`: a file already loaded changes nothing, a newer export restates the
visitors or journeys it holds), per source older inputs first so the newest restatement wins.
Sync Facts does not read these sources (`SyncConfig.fact_sources`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from planning.errors import InputError
from sheets_sync.digests import file_digest
from sheets_sync.sources.paths_common import PathsReadResult
from sheets_sync.sources.paths_export import read_paths_export
from sheets_sync.sources.paths_sql import read_paths_sql
from sheets_sync.sources.sql import redact
from sheets_sync.store import FactStore
from sheets_sync.store_paths import PathsLoadOutcome
from sheets_sync.sync_config import SourceConfig, SyncConfig

__all__ = ["HASH_VERSION", "PathsLoad", "load_paths_sources", "read_paths_input"]

HASH_VERSION = "paths-1"
"""Part of every input's hash: a new reader version reloads files already loaded."""


@dataclass(frozen=True)
class PathsLoad:
    """One journeys input read and loaded."""

    source: str
    file: str
    """The file's path, or ``sql: <url>`` (password hidden) for a query."""
    result: PathsReadResult
    """What was read: the frames, the quarantine, the `FileInfo`, the odd inputs counted."""
    file_hash: str
    outcome: PathsLoadOutcome


def _options_key(src: SourceConfig) -> str:
    options = {"kind": src.kind, "shape": src.shape, "rate": src.rate, "version": HASH_VERSION}
    return json.dumps(options, sort_keys=True)


def _file_hash(path: Path, src: SourceConfig) -> str:
    return file_digest(path, _options_key(src))


def _read_hash(result: PathsReadResult, src: SourceConfig) -> str:
    digest = hashlib.sha256()
    for frame in (result.touches, result.outcomes, result.quarantine):
        digest.update(frame.to_csv(index=False).encode())
    digest.update(f"{_options_key(src)}\n{src.query}\n{src.url}\n{result.window}".encode())
    return digest.hexdigest()


def read_paths_input(
    src: SourceConfig,
    path: Path | None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    now: dt.datetime | None = None,
) -> tuple[str, PathsReadResult, str]:
    """Read one input of a `paths` source: ``(label, read, hash)``; a file's hash covers its
    bytes and the source's options, a query's the rows it gave. `start` / `end` filter a
    query (files are read whole)."""
    if src.kind != "paths":
        raise InputError(f"source `{src.name}` is a `{src.kind}` source, not a `paths` one")
    options = src.options()
    if src.shape == "sql":
        result = read_paths_sql(src.query, src.url, options, start, end, base=src.base, now=now)
        return f"sql: {redact(src.url)}", result, _read_hash(result, src)
    if path is None:
        raise InputError(f"source `{src.name}`: a file is needed")
    result = read_paths_export(path, options, shape=src.shape or "auto", now=now)
    return str(path), result, _file_hash(path, src)


def _order_key(item: tuple[str, PathsReadResult, str]) -> tuple[dt.date, dt.date, str]:
    info = item[1].files[0] if item[1].files else None
    far = dt.date.max
    if info is None or info.date_to is None or info.date_from is None:
        return far, far, item[0]
    return info.date_to, info.date_from, item[0]


def load_paths_sources(
    config: SyncConfig,
    store: FactStore,
    start: dt.date | None = None,
    end: dt.date | None = None,
    sources: Sequence[str] | None = None,
    now: dt.datetime | None = None,
) -> list[PathsLoad]:
    """Read every `paths` source of `config` (or the ones named in `sources`) and load each
    input into `store`; what each load did, source by source in the config's order, older
    inputs first within a source. Every input is read before the first load: a missing file
    or a failing query changes nothing."""
    chosen = config.paths_sources
    if sources is not None:
        unknown = sorted(set(sources) - {s.name for s in chosen})
        if unknown:
            raise InputError(
                f"{config.origin}: no `paths` source named {', '.join(unknown)} "
                f"(there are: {', '.join(s.name for s in chosen) or 'none'})"
            )
        chosen = tuple(s for s in chosen if s.name in set(sources))
    planned: list[tuple[SourceConfig, list[Path | None]]] = [
        (src, [None] if src.shape == "sql" else list(src.files())) for src in chosen
    ]
    reads = [
        (src, sorted((read_paths_input(src, p, start, end, now) for p in files), key=_order_key))
        for src, files in planned
    ]
    loads: list[PathsLoad] = []
    for src, items in reads:
        for label, result, digest in items:
            outcome = store.load_paths(result, digest)
            loads.append(PathsLoad(src.name, label, result, digest, outcome))
    return loads
