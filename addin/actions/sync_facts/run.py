"""Sync Facts: from the team's exports (ad platforms, call tracking, CRM, SQL) into the fact
store and the plan's fact columns, written once against the workbook interface.

`sync(wb, config, store, now)`:

1. checks the workbook (Plan, Settings, Daily; the Mapping sheet, seeded with the config's
   ``[[mapping]]`` when it is missing or holds no rule) and reads the Mapping rules;
2. reads every configured source (`read_sources`; a file's hash covers its bytes and the
   source's reading options) and loads each read into the store in order of its window
   (`FactStore.load`: a file already loaded changes nothing; a newer export replaces the days
   it covers, so restated days are not double counted);
3. takes the configured sources' facts from the store (each on the config's `basis`; sources
   without cohort rows on the event basis), maps them (`sheets_sync.mapping.map_facts`) and
   matches them to the Plan's lines (channel and campaign, ignoring case and surrounding spaces;
   a facts line with no such plan line goes to a line of its channel with a blank campaign, if
   there is one);
4. sums the plan month up to as-of per line and writes, in one block per contiguous run of
   cells: the Plan's ``"<metric> f"`` columns of the metrics some source provides (a line with
   no facts is left blank and listed), the Daily sheet (owned whole: one row per day and line),
   the Data Quality and Unmapped sheets; refreshes the run-rate (Refresh Run-Rate) and
   saves once for both (the xlsx adapter writes a temp file and renames it).

Nothing else in the workbook changes. As-of is the latest day with facts in the plan month,
but never today or later while today is in the month (today's data is partial); `as_of`
overrides it.

`run_sync(config)` is the file-level entry (the CLI's): it refuses a workbook Excel has open
(its ``~$name.xlsx`` lock file) or a read-only one before anything is read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from addin.actions.base import Action, ActionContext, ActionError
from addin.actions.refresh_runrate import RefreshResult, refresh
from planning.errors import InputError
from planning.runrate import month_end as _month_end
from sheets_sync.facts import MONEY, ReadResult
from sheets_sync.quality import (
    QualityReport,
    ReportFacts,
    ReportTerms,
    SourceRead,
    build_report,
    classify,
    in_windows,
)
from sheets_sync.store import FactStore
from sheets_sync.sync_config import FILE_KINDS, SourceConfig, SyncConfig, load_config
from sheets_sync.workbooks.interface import WorkbookError, WorkbookTarget
from sheets_sync.workbooks.xlsx import XlsxWorkbook
from workbook_templates import layout as L
from workbook_templates.sync_sheets import quality_block, unmapped_block
from workbook_templates.workbook_io import line_name, read_funnel, read_plan, read_settings

__all__ = [
    "PROVIDES",
    "FileLoad",
    "SyncResult",
    "channel_history",
    "check_writable",
    "plan_inputs",
    "read_rules",
    "read_sources",
    "run_sync",
    "sweep_temp_files",
    "sync",
    "sync_with_store",
]

Progress = Callable[[str, int, int], None]
"""``progress(message, done, total)``: what the sync is doing, for a progress bar."""

PROVIDES: dict[str, tuple[str, ...]] = {
    "ad": ("spend", "impressions", "traffic", "platform_leads"),
    "calls": ("calls", "calls_all"),
    "crm": ("leads", "pp", "negotiations", "purchases", "revenue"),
}
"""The metrics a source of each kind provides (SQL and Google Sheets sources: what they hold).
The Plan's ``f`` column of a provided metric is owned by the sync: 0 on a line with other
facts but none of this metric, blank on a line with no facts at all."""

REQUIRED_SHEETS = (L.PLAN, L.SETTINGS, L.DAILY)
MAPPING_CHUNK = 50
HASH_VERSION = "sync-1"


def _no_progress(message: str, done: int, total: int) -> None:
    return None


@dataclass
class FileLoad:
    """One input as read and loaded."""

    source: str
    kind: str
    file: str
    rows_read: int
    rows_ok: int
    quarantined: int
    duplicates: int
    skipped: bool
    """Already in the store (same file, same options): nothing changed."""
    rows_loaded: int
    replaced: int
    date_from: dt.date | None
    date_to: dt.date | None

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        for key in ("date_from", "date_to"):
            out[key] = None if out[key] is None else out[key].isoformat()
        return out


@dataclass
class SyncResult:
    """What Sync Facts did."""

    workbook: str
    month: dt.date
    as_of: dt.date | None
    loads: list[FileLoad]
    metrics: list[str]
    """The Plan ``f`` columns written (metric names)."""
    lines: int
    lines_filled: int
    lines_without_facts: list[str]
    unplanned: pd.DataFrame
    """The Unmapped sheet's rows (`layout.UNMAPPED_HEADERS`)."""
    quality: QualityReport
    filled: dict[str, float] = field(default_factory=dict)
    """Per metric written, the sum of the Plan's ``f`` cells."""
    daily_rows: int = 0
    mapping_created: bool = False
    refresh: RefreshResult | None = None

    def to_dict(self) -> dict[str, Any]:
        un = self.unplanned
        spend = un.groupby("status")["spend"].sum().to_dict() if len(un) and "spend" in un else {}
        return {
            "workbook": self.workbook,
            "month": f"{self.month:%Y-%m}",
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "loads": [f.to_dict() for f in self.loads],
            "metrics": list(self.metrics),
            "lines": self.lines,
            "lines_filled": self.lines_filled,
            "lines_without_facts": list(self.lines_without_facts),
            "filled": dict(self.filled),
            "daily_rows": self.daily_rows,
            "unmapped_spend": float(spend.get("unmapped", 0.0)),
            "unplanned_spend": float(spend.get("unplanned", 0.0)),
            "unmapped": [{k: _plain(v) for k, v in rec.items()} for rec in un.to_dict("records")],
            "mapping_created": self.mapping_created,
            "runrate_lines": None if self.refresh is None else self.refresh.lines_forecast,
            "quality": self.quality.to_dict(),
        }


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# --- the workbook ----------------------------------------------------------------------------


def require_sheets(wb: WorkbookTarget) -> None:
    """The sheets a sync needs, or a message that says the workbook is not a planning one."""
    names = wb.sheet_names()
    for sheet in REQUIRED_SHEETS:
        if sheet not in names:
            shown = ", ".join(names[:8]) + (" …" if len(names) > 8 else "")
            raise WorkbookError(
                f"workbook {wb.name} has no sheet `{sheet}`: is it a funnelplan planning "
                f"workbook? (its sheets: {shown})"
            )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def read_rules(wb: WorkbookTarget) -> list[Any]:
    """The Mapping sheet's rules (`sheets_sync.mapping.Rule`), in order.

    The header row must read `layout.MAPPING_HEADERS`; rules are read down to the last
    non-blank row (blank rows in between are skipped)."""
    from sheets_sync.mapping import rules_from_records

    width = len(L.MAPPING_HEADERS)
    # values, not formulas: a rule cell holding a formula means its result (and a Google
    # Sheet then needs no second read)
    header = wb.read_cells(L.MAPPING, L.MAPPING_HEADER_ROW, 1, 1, width, formulas=False)[0]
    found = [str(h).strip().lower() if not _blank(h) else "" for h in header]
    if found != list(L.MAPPING_HEADERS):
        raise WorkbookError(
            f"sheet `{L.MAPPING}` row {L.MAPPING_HEADER_ROW} must read "
            f"{' | '.join(L.MAPPING_HEADERS)}; found {' | '.join(h or '(blank)' for h in found)}"
        )
    rows: list[list[Any]] = []
    row = L.MAPPING_HEADER_ROW + 1
    while True:
        chunk = wb.read_cells(L.MAPPING, row, 1, MAPPING_CHUNK, width, formulas=False)
        if all(_blank(v) for line in chunk for v in line):
            break
        rows.extend(chunk)
        row += MAPPING_CHUNK
    while rows and all(_blank(v) for v in rows[-1]):
        rows.pop()
    records = [dict(zip(L.MAPPING_HEADERS, line, strict=True)) for line in rows]
    return rules_from_records(records, first_row=L.MAPPING_HEADER_ROW + 1)


def _table_extent(wb: WorkbookTarget, sheet: str, header_row: int = 1) -> tuple[int, int]:
    """(rows from `header_row` through the last row with a key, header width) of an owned
    sheet; (0, 0) when it is empty."""
    try:
        table = wb.read_table(sheet, header_row=header_row)
    except WorkbookError:
        return 0, 0
    return 1 + len(table.rows), len(table.headers)


def _padded(block: list[list[Any]], rows: int, cols: int) -> list[list[Any]]:
    """`block` padded with blanks to at least `rows` x `cols` (clearing what was there)."""
    width = max([cols, *(len(r) for r in block)]) if block else cols
    out = [list(r) + [None] * (width - len(r)) for r in block]
    out += [[None] * width for _ in range(max(0, rows - len(out)))]
    return out


def _runs(columns: Sequence[int]) -> list[list[int]]:
    """Sorted sheet columns grouped into contiguous runs."""
    runs: list[list[int]] = []
    for c in sorted(set(columns)):
        if runs and c == runs[-1][-1] + 1:
            runs[-1].append(c)
        else:
            runs.append([c])
    return runs


# --- reading the sources ---------------------------------------------------------------------


def plan_inputs(config: SyncConfig) -> list[tuple[SourceConfig, Path | None]]:
    """Every input a sync reads: (source, file) for file sources (globs expanded; a pattern
    matching nothing is an error naming its key), (source, None) for SQL and Google Sheets."""
    inputs: list[tuple[SourceConfig, Path | None]] = []
    for src in config.sources:
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
    return json.dumps(options, sort_keys=True, ensure_ascii=False)


def file_hash(path: Path, src: SourceConfig) -> str:
    """SHA-256 of the file's bytes and the source's reading options (a changed rate or
    column map reloads the same file)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    digest.update(_options_key(src).encode())
    return digest.hexdigest()


def _frame_hash(result: ReadResult, src: SourceConfig) -> str:
    facts = result.facts.sort_values(list(result.facts.columns), ignore_index=True)
    digest = hashlib.sha256(facts.to_csv(index=False).encode())
    digest.update(_options_key(src).encode())
    digest.update(f"{src.query}\n{src.url}".encode())
    return digest.hexdigest()


def read_input(
    src: SourceConfig, path: Path | None, start: dt.date | None = None, end: dt.date | None = None
) -> SourceRead | None:
    """Read one input with its reader; None for a source kind with no reader."""
    options = src.options()
    if src.kind in FILE_KINDS:
        from sheets_sync.sources.inspect_file import inspect  # the reader of the kind

        assert path is not None
        result = inspect(path, options, kind=src.kind)
        return SourceRead(src.name, src.kind, str(path), result, file_hash(path, src))
    if src.kind == "sql":
        from sheets_sync.sources.sql import read_sql, redact

        result = read_sql(src.query, src.url, options, start=start, end=end, base=src.base)
        return SourceRead(
            src.name, src.kind, f"sql: {redact(src.url)}", result, _frame_hash(result, src)
        )
    if src.kind == "gsheet":
        from sheets_sync.sources.google_sheet import read_gsheet

        result = read_gsheet(src.spreadsheet, src.tab, options, src.credentials_file())
        return SourceRead(src.name, src.kind, result.info.path, result, _frame_hash(result, src))
    return None


def read_sources(
    config: SyncConfig,
    start: dt.date | None = None,
    end: dt.date | None = None,
    progress: Progress = _no_progress,
    inputs: list[tuple[SourceConfig, Path | None]] | None = None,
    total: int | None = None,
) -> tuple[list[SourceRead], dict[str, list[str]]]:
    """Read every input; also the warnings per source (e.g. a kind with no reader yet)."""
    inputs = plan_inputs(config) if inputs is None else inputs
    total = len(inputs) if total is None else total
    reads: list[SourceRead] = []
    warnings: dict[str, list[str]] = {}
    for i, (src, path) in enumerate(inputs):
        label = path.name if path is not None else src.kind
        progress(f"Reading {src.name}: {label}", i, total)
        read = read_input(src, path, start, end)
        if read is None:
            warnings.setdefault(src.name, []).append(
                f"`{src.kind}` sources have no reader: skipped"
            )
            continue
        reads.append(read)
    return reads, warnings


def _source_basis(config: SyncConfig, src: SourceConfig) -> str:
    """The basis a source's facts are taken on from the store: ``"cohort"`` for a CRM source
    when the config asks for it, else ``"event"``."""
    return "cohort" if config.basis == "cohort" and src.kind == "crm" else "event"


def _by_basis(basis_of: dict[str, str]) -> list[tuple[str, list[str]]]:
    """(basis, source names on it) for the event then the cohort basis, bases with no source
    left out: one store query per basis."""
    groups = [(b, [n for n, nb in basis_of.items() if nb == b]) for b in ("event", "cohort")]
    return [(b, names) for b, names in groups if names]


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


# --- matching plan lines -----------------------------------------------------------------------


def _norm(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str).str.strip().str.casefold()


def _norm_codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes and normalised names (case and surrounding spaces ignored), normalising each
    distinct value once."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    names = _norm(pd.Series(np.asarray(uniques, dtype=object), dtype=object)).tolist()
    return np.asarray(codes, dtype=np.int64), names


def match_lines(mapped: pd.DataFrame, plan: pd.DataFrame) -> np.ndarray:
    """Per mapped fact, the Plan row index (0-based) of its line, -1 when the Plan has none.

    Exact (channel, campaign) first, ignoring case and surrounding spaces; else a line of the
    channel with a blank campaign. The first of repeated plan lines takes the facts."""
    if mapped.empty:
        return np.zeros(0, dtype=np.int64)
    keys: dict[tuple[str, str], int] = {}
    for i, (ch, camp) in enumerate(
        zip(_norm(plan["channel"]), _norm(plan["campaign"]), strict=True)
    ):
        keys.setdefault((ch, camp), i)
    ch_codes, ch_names = _norm_codes(mapped["channel"])
    camp_codes, camp_names = _norm_codes(mapped["campaign"])
    combo, codes = np.unique(ch_codes * (len(camp_names) + 1) + camp_codes, return_inverse=True)
    found = np.empty(combo.size, dtype=np.int64)
    for j, c in enumerate(combo.tolist()):
        ch, camp = ch_names[c // (len(camp_names) + 1)], camp_names[c % (len(camp_names) + 1)]
        found[j] = keys.get((ch, camp), keys.get((ch, ""), -1)) if ch else -1
    out = found[codes.reshape(-1)]
    out[mapped["rule"].to_numpy() == 0] = -1
    return out


# --- the action ----------------------------------------------------------------------------


def _default_as_of(days: pd.Series, month: dt.date, now: dt.datetime) -> dt.date | None:
    if days.empty:
        return None
    latest: dt.date = pd.Timestamp(days.max()).date()
    today = now.date()
    if month <= today <= _month_end(month) and latest >= today:
        latest = today - dt.timedelta(days=1)
    return latest if latest >= month else None


def _ensure_mapping(wb: WorkbookTarget, config: SyncConfig) -> tuple[bool, list[Any]]:
    """Seed the Mapping sheet with the config's rules when the workbook has none, or has the
    sheet with no rule at all (e.g. a new month's workbook): (True when it did, the rules the
    sync maps with). The sheet is read once."""
    from sheets_sync.mapping import rule_row, rules_from_records

    if L.MAPPING in wb.sheet_names():
        rules = read_rules(wb)
        if not config.mapping or rules:
            return False, rules
        what = "filled"
    else:
        wb.add_sheet(L.MAPPING)
        what = "added"
    block: list[list[Any]] = [list(L.MAPPING_HEADERS)]
    block += [rule_row(rule) for rule in config.mapping]
    wb.write_block(L.MAPPING, L.MAPPING_HEADER_ROW, 1, block)
    wb.notify(f"Mapping sheet {what} with the config's {len(config.mapping)} rules")
    records = [dict(r) for r in config.mapping]
    return True, rules_from_records(records, first_row=L.MAPPING_HEADER_ROW + 1)


def _rounded(metric: str, value: float) -> float:
    return round(value, 2) if metric in MONEY else round(value, 6)


def sync(
    wb: WorkbookTarget,
    config: SyncConfig,
    store: FactStore,
    now: dt.datetime | None = None,
    as_of: dt.date | None = None,
    reads: list[SourceRead] | None = None,
    progress: Progress = _no_progress,
    refresh_after: bool = True,
) -> SyncResult:
    """Sync Facts on `wb` (see the module docstring). `reads`: inputs already read (tests, or
    a caller that read them itself); None reads the config's sources."""
    now = now or dt.datetime.now()
    require_sheets(wb)
    settings = read_settings(wb)
    funnel = read_funnel(wb)
    table, plan = read_plan(wb, funnel)
    month = settings.month
    month_end = _month_end(month)
    mapping_created, rules = _ensure_mapping(wb, config)

    warnings: dict[str, list[str]] = {}
    if reads is None:
        inputs = plan_inputs(config)
        total = 2 * len(inputs) + 2
        reads, warnings = read_sources(
            config, month, month_end, progress, inputs=inputs, total=total
        )
    else:
        total = 2 * len(reads) + 2
    configured = {s.name: s for s in config.sources}
    for r in reads:
        if r.source not in configured:
            raise InputError(f"input {r.label} is from source `{r.source}`, not in the config")
        r.basis = _basis(r, config.basis)

    # Load, older windows first (the newest export's restated days win).
    reads = _load_order(reads)
    loads: list[FileLoad] = []
    done = len(reads)
    for i, r in enumerate(reads):
        progress(f"Loading {r.source}: {Path(r.label).name}", done + i, total)
        r.outcome = store.load(r.result, r.file_hash)
        info = r.result.info
        loads.append(
            FileLoad(
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
        )
    progress("Filling the workbook", 2 * len(reads), total)

    # The configured sources' facts from the store: the plan month and this sync's windows.
    windows: dict[str, list[tuple[dt.date, dt.date]]] = {}
    for r in reads:
        w = r.window()
        if w is not None:
            windows.setdefault(r.source, []).append(w)
    basis_of = {
        name: next((r.basis for r in reads if r.source == name), None) or _source_basis(config, src)
        for name, src in configured.items()
    }
    frames = []
    for b, names in _by_basis(basis_of):
        # the month day by day; the rest of this sync's windows only summed (reconciliation)
        frames.append(store.source_facts(start=month, end=month_end, basis=b, sources=names))
        outside = {k: windows[k] for k in names if k in windows}
        frames.append(store.source_facts_outside(month, month_end, outside, basis=b))
    facts = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    from sheets_sync.mapping import map_facts

    mapped = map_facts(facts, rules) if len(facts) else _empty_mapped()
    mapped["line"] = match_lines(mapped, plan)
    dates = pd.to_datetime(mapped["date"])
    in_month = (dates >= pd.Timestamp(month)) & (dates <= pd.Timestamp(month_end))
    if as_of is None:
        as_of = _default_as_of(dates[in_month], month, now)
    elif not month <= as_of <= month_end:
        raise InputError(
            f"as-of {as_of} is not a day of the plan month {month:%Y-%m}",
            value=as_of,
            has_value=False,
        )
    mapped["status"] = classify(dates, mapped["rule"], mapped["line"], month, as_of)

    # Which metrics the sync owns: what the configured sources provide.
    provided: set[str] = set(mapped["metric"].unique()) if len(mapped) else set()
    for src in config.sources:
        provided.update(PROVIDES.get(src.kind, ()))
    for r in reads:
        provided.update(r.result.facts["metric"].unique())
    written = [m for m in funnel.metrics if m in provided and table.has(L.abs_header(m, "f"))]

    filled = mapped[mapped["status"] == "filled"]
    per_line = (
        filled.groupby(["line", "metric"])["value"].sum().unstack("metric")
        if len(filled)
        else pd.DataFrame()
    )
    lines_with = set(per_line.index.tolist())
    n = len(plan)
    missing = [
        line_name(plan["channel"].iloc[i], plan["campaign"].iloc[i])
        for i in range(n)
        if i not in lines_with
    ]
    columns: dict[int, list[Any]] = {}
    sums: dict[str, float] = {}
    for m in written:
        values: list[Any] = []
        for i in range(n):
            if i not in lines_with:
                values.append(None)
                continue
            v = float(per_line.at[i, m]) if m in per_line.columns else math.nan  # type: ignore[arg-type]
            values.append(_rounded(m, 0.0 if math.isnan(v) else v))
        columns[table.column(L.abs_header(m, "f"))] = values
        sums[m] = float(sum(v for v in values if v is not None))
    if n:
        for run in _runs(list(columns)):
            block = [[columns[c][i] for c in run] for i in range(n)]
            wb.write_block(L.PLAN, table.first_row, run[0], block)

    daily_rows = _write_daily(wb, filled, plan, written)
    report = build_report(
        ReportFacts(
            reads,
            {name: src.kind for name, src in configured.items()},
            _stored(mapped, windows),
            _earlier(mapped, windows),
            mapped[mapped["status"] != "outside"],
            warnings=warnings,
        ),
        ReportTerms(now, month, as_of, config.fresh_hours, config.lead_mismatch),
    )
    unplanned = _unplanned(mapped)
    for sheet in (L.DATA_QUALITY, L.UNMAPPED):
        if sheet not in wb.sheet_names():
            wb.add_sheet(sheet)
    old_rows, _ = _table_extent(wb, L.DATA_QUALITY)
    wb.write_block(
        L.DATA_QUALITY, 1, 1, _padded(quality_block(report, wb.name), old_rows, L.DQ_WIDTH)
    )
    old_rows, old_cols = _table_extent(wb, L.UNMAPPED, L.UNMAPPED_HEADER_ROW)
    block = [list(L.UNMAPPED_HEADERS), *unmapped_block(unplanned)]
    wb.write_block(L.UNMAPPED, L.UNMAPPED_HEADER_ROW, 1, _padded(block, old_rows, old_cols))

    filled_lines = n - len(missing)
    wb.notify(
        f"Facts synced into {wb.name} for {month:%Y-%m}"
        + (f" up to {as_of:%Y-%m-%d}" if as_of else "")
        + f": {filled_lines} of {n} lines, {len(written)} fact columns"
    )
    if missing:
        wb.notify(
            f"{len(missing)} plan lines have no facts: {', '.join(missing[:5])}"
            + (" …" if len(missing) > 5 else "")
        )
    if len(unplanned):
        spend = float(unplanned["spend"].fillna(0).sum()) if "spend" in unplanned else 0.0
        wb.notify(
            f"{len(unplanned)} source lines reach no plan line ({spend:,.2f} spend): "
            "see the Unmapped sheet"
        )
    for flag in report.flags:
        wb.notify(f"Data quality: {flag}")

    refreshed: RefreshResult | None = None
    if refresh_after and as_of is not None and daily_rows:
        progress("Refreshing the run-rate", total - 1, total)
        refreshed = refresh(wb, as_of=as_of, save=False)
    wb.save()  # once, for the facts and the run-rate together
    progress("Done", total, total)
    return SyncResult(
        workbook=wb.name,
        month=month,
        as_of=as_of,
        loads=loads,
        metrics=written,
        lines=n,
        lines_filled=filled_lines,
        lines_without_facts=missing,
        unplanned=unplanned,
        quality=report,
        filled=sums,
        daily_rows=daily_rows,
        mapping_created=mapping_created,
        refresh=refreshed,
    )


def _empty_mapped() -> pd.DataFrame:
    from sheets_sync.facts import empty_facts

    frame = empty_facts()
    frame["channel"] = pd.Series(dtype=object)
    frame["campaign"] = pd.Series(dtype=object)
    frame["rule"] = pd.Series(dtype="int64")
    return frame


def _stored(
    mapped: pd.DataFrame, windows: dict[str, list[tuple[dt.date, dt.date]]]
) -> pd.DataFrame:
    """The store's facts inside this sync's files' windows (per source), classified."""
    parts = []
    for source, ws in windows.items():
        mine = mapped[mapped["source"] == source]
        parts.append(mine[in_windows(pd.to_datetime(mine["date"]), ws)])
    if not parts:
        return pd.DataFrame(columns=["source", "metric", "value", "status"])
    return pd.concat(parts)[["source", "metric", "value", "status"]]


def _earlier(
    mapped: pd.DataFrame, windows: dict[str, list[tuple[dt.date, dt.date]]]
) -> pd.DataFrame:
    """Filled facts of days no file of this sync covers (from earlier loads)."""
    filled = mapped[mapped["status"] == "filled"]
    parts = []
    for source, mine in filled.groupby("source", sort=False):
        ws = windows.get(str(source), [])
        if ws:
            mine = mine[~in_windows(pd.to_datetime(mine["date"]), ws)]
        parts.append(mine)
    if not parts:
        return pd.DataFrame(columns=["source", "metric", "value"])
    return pd.concat(parts)[["source", "metric", "value"]]


def _write_daily(
    wb: WorkbookTarget, filled: pd.DataFrame, plan: pd.DataFrame, metrics: list[str]
) -> int:
    """The Daily sheet: one row per day and plan line with facts, the written metrics (0 where
    a line has no fact of a metric that day). One block, clearing the old rows."""
    headers = ["date", *L.KEYS, *metrics]
    rows: list[list[Any]] = []
    if len(filled) and metrics:
        grouped = (
            filled[filled["metric"].isin(metrics)]
            .groupby(["date", "line", "metric"])["value"]
            .sum()
            .unstack("metric")
            .reindex(columns=metrics)
            .fillna(0.0)
            .sort_index()
        )
        channels = plan["channel"].tolist()
        campaigns = plan["campaign"].tolist()
        for (day, line), values in zip(grouped.index, grouped.to_numpy(), strict=True):
            rows.append(
                [
                    pd.Timestamp(day).date(),
                    channels[int(line)],
                    campaigns[int(line)],
                    *(_rounded(m, float(v)) for m, v in zip(metrics, values, strict=True)),
                ]
            )
    old_rows, old_cols = _table_extent(wb, L.DAILY)
    wb.write_block(L.DAILY, 1, 1, _padded([headers, *rows], old_rows, old_cols))
    return len(rows)


def _unplanned(mapped: pd.DataFrame) -> pd.DataFrame:
    """The month's facts (up to as-of) that reach no plan line, one row per source and keys."""
    rest = mapped[mapped["status"].isin(["unmapped", "unplanned"])]
    columns = list(L.UNMAPPED_HEADERS)
    if rest.empty:
        return pd.DataFrame(columns=columns)
    keys = ["status", "source", "utm_source", "utm_medium", "utm_campaign", "channel", "campaign"]
    rest = rest.assign(**{k: rest[k].fillna("").astype(str) for k in keys[1:]})
    values = rest.pivot_table(index=keys, columns="metric", values="value", aggfunc="sum")
    span = rest.groupby(keys)["date"].agg(["min", "max"])
    out = values.join(span).reset_index()
    out = out.rename(columns={"source": "data source", "min": "from", "max": "to"})
    out["from"] = pd.to_datetime(out["from"]).dt.date
    out["to"] = pd.to_datetime(out["to"]).dt.date
    out = out.reindex(columns=columns)
    order = out["spend"].fillna(0.0) if "spend" in out else pd.Series(0.0, index=out.index)
    out = out.assign(_order=-order).sort_values(["status", "_order", "data source", "utm_campaign"])
    return out.drop(columns="_order").reset_index(drop=True)


# --- history for Optimize Split ------------------------------------------------------------------


def channel_history(
    store: FactStore,
    config: SyncConfig,
    rules: Sequence[Any],
    end: dt.date,
    start: dt.date | None = None,
) -> pd.DataFrame:
    """Channel-level days up to `end` (``date, channel, spend, leads``) from the store, mapped
    with `rules`: what the Daily History sheet holds for Optimize Split's curves. Each channel
    starts on its first day with spend (a channel with none is left out)."""
    from sheets_sync.mapping import map_facts

    columns = list(L.DAILY_HISTORY_HEADERS)
    basis_of = {s.name: _source_basis(config, s) for s in config.sources}
    frames = [
        store.source_facts(start=start, end=end, basis=b, sources=names, metrics=columns[2:])
        for b, names in _by_basis(basis_of)
    ]
    facts = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if facts.empty:
        return pd.DataFrame(columns=columns)
    mapped = map_facts(facts, rules)
    mapped = mapped[mapped["rule"] > 0]
    wide = (
        mapped.groupby([mapped["date"].dt.date, "channel", "metric"])["value"]
        .sum()
        .unstack("metric")
        .reindex(columns=columns[2:])
        .fillna(0.0)
        .reset_index()
    )
    wide = wide.rename(columns={wide.columns[0]: "date"})
    # A channel's history starts on its first day with spend: CRM events of leads created
    # before the ad exports begin are not days the curves can use.
    first = wide[wide["spend"] > 0].groupby("channel")["date"].min()
    wide = wide[wide["date"] >= wide["channel"].map(first)]
    return wide[columns].sort_values(["date", "channel"], ignore_index=True)


# --- the file ------------------------------------------------------------------------------


def lock_file(path: Path) -> Path:
    """Excel's lock file of `path` while it is open there: ``~$name.xlsx`` beside it."""
    return path.with_name("~$" + path.name)


def check_writable(path: Path) -> None:
    """Refuse a workbook that is missing, open in Excel or read-only (before anything runs)."""
    if not path.exists():
        raise WorkbookError(f"workbook {path} does not exist")
    if not path.is_file():
        raise WorkbookError(f"workbook {path} is not a file")
    lock = lock_file(path)
    if lock.exists():
        raise WorkbookError(
            f"workbook {path.name} is open in Excel (its lock file {lock.name} is there): "
            "close it in Excel, then sync again"
        )
    mode = path.stat().st_mode
    if not mode & 0o222 or not _can_write(path):
        raise WorkbookError(
            f"workbook {path} is read-only: make it writable (or copy it), then sync again"
        )
    import os

    if not os.access(path.parent, os.W_OK):
        raise WorkbookError(
            f"cannot write in {path.parent}: the sync saves the workbook through a temporary "
            "file beside it"
        )


def _can_write(path: Path) -> bool:
    import os

    return os.access(path, os.W_OK)


STALE_TEMP = dt.timedelta(minutes=10)
"""A save's temp file older than this is a leftover of a killed sync (a save takes seconds)."""


def sweep_temp_files(path: Path, now: dt.datetime | None = None) -> list[Path]:
    """Remove the temp files a killed save of `path` left beside it (``.<stem>-XXXXXXXX.xlsx``
    older than `STALE_TEMP`); a SIGKILL cannot clean up after itself. Returns those removed."""
    import re

    pattern = re.compile(rf"^\.{re.escape(path.stem)}-[a-z0-9_]{{8}}\.xlsx$")
    limit = (now or dt.datetime.now()).timestamp() - STALE_TEMP.total_seconds()
    removed = []
    for p in path.parent.glob(f".{path.stem}-*.xlsx"):
        if pattern.match(p.name) and p.stat().st_mtime < limit:
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed


def run_sync(
    config: SyncConfig,
    now: dt.datetime | None = None,
    as_of: dt.date | None = None,
    progress: Progress = _no_progress,
    notify: Callable[[str], None] | None = None,
) -> SyncResult:
    """Sync the config's workbook (a file, or a Google Sheet) from its sources through its
    store."""
    options: dict[str, Any] = {"now": now, "as_of": as_of, "progress": progress}
    if config.spreadsheet:
        from sheets_sync.workbooks.google_sheets import GoogleSheetsWorkbook

        spreadsheet, credentials = config.spreadsheet, config.credentials
        return sync_with_store(
            lambda: GoogleSheetsWorkbook(spreadsheet, credentials_file=credentials, notify=notify),
            config,
            **options,
        )
    path = config.workbook
    if not path.exists():
        raise WorkbookError(
            f"workbook {path} does not exist (`workbook` in {config.origin}; create one "
            "with funnelplan template)"
        )
    return sync_with_store(lambda: XlsxWorkbook(path, notify=notify), config, file=path, **options)


def sync_with_store(
    wb: WorkbookTarget | Callable[[], WorkbookTarget],
    config: SyncConfig,
    *,
    file: Path | None = None,
    **kwargs: Any,
) -> SyncResult:
    """`sync` through the config's store (its folder created if missing), after the checks
    that stop a sync before anything changes: the workbook `file`, when given, must be
    writable (`check_writable`; a killed save's temp files beside it are swept) and every
    source file must exist (`plan_inputs`). `wb` may be a function opening the workbook,
    called after the checks. `kwargs` go to `sync` (now, as_of, progress, ...)."""
    if file is not None:
        check_writable(file)
        sweep_temp_files(file)
    plan_inputs(config)  # a missing source file stops the sync before anything changes
    target = wb() if callable(wb) else wb
    config.store.parent.mkdir(parents=True, exist_ok=True)
    with FactStore(config.store) as store:
        return sync(target, config, store, **kwargs)


# --- the button -----------------------------------------------------------------------------


def _config_beside(wb: WorkbookTarget, book: Path) -> Path:
    """The sync config of a workbook file: the Settings row ``sync config`` (relative to the
    workbook's folder), else ``sync.toml`` beside the workbook."""
    configured = None
    if L.SETTINGS in wb.sheet_names():
        table = wb.read_table(L.SETTINGS, header_row=L.SETTINGS_HEADER_ROW)
        if table.has("setting") and table.has("value"):
            for key, value in zip(table.values("setting"), table.values("value"), strict=True):
                if str(key).strip().lower() == "sync config" and value not in (None, ""):
                    configured = Path(str(value).strip())
    path = book.parent / (configured or "sync.toml")
    if not path.is_file():
        where = f"the Settings row `sync config` names {configured}" if configured else ""
        raise ActionError(
            f"Sync Facts needs its config {path.name} in {path.parent}"
            + (f" ({where})" if where else "")
            + ": copy your sync.toml next to the workbook (or name it in Settings, `sync config`)."
        )
    return path


def _button_config(ctx: ActionContext) -> SyncConfig:
    """The config the button syncs with, checked to sync this very workbook."""
    if ctx.spreadsheet_id:  # a Google Sheet: the function server names the config it found
        if ctx.sync_config is None:
            raise ActionError(
                "Sync Facts on a Google Sheet runs on the function server (Funnel Plan menu), "
                "which reads the sheet's sync config from its sync folder; from a command line "
                "run: funnelplan sync CONFIG."
            )
        config = load_config(ctx.sync_config)
        if config.spreadsheet != ctx.spreadsheet_id:
            raise ActionError(
                f"{config.origin} syncs {config.target}, not this Google Sheet "
                f"({ctx.spreadsheet_id}): fix its `workbook` line."
            )
        return config
    book = ctx.file("Sync Facts reads sync.toml from the workbook's folder")
    config = load_config(ctx.sync_config or _config_beside(ctx.workbook, book))
    if config.spreadsheet or config.workbook.resolve() != book.resolve():
        raise ActionError(
            f"{config.origin} syncs {config.target}, not this workbook ({book.name}): "
            "fix its `workbook` line."
        )
    return config


def run_button(ctx: ActionContext) -> str:
    """The Sync Facts button: sync, refresh, and say what was filled."""
    config = _button_config(ctx)
    # a file is checked writable and a killed save's temp files swept; a live workbook is open
    # in Excel by design
    file = ctx.path if isinstance(ctx.workbook, XlsxWorkbook) else None
    result = sync_with_store(ctx.workbook, config, file=file, now=ctx.now)
    as_of = "no facts yet" if result.as_of is None else f"as of {result.as_of:%Y-%m-%d}"
    flags = result.quality.flags
    quality = "Data Quality: OK" if not flags else f"Data Quality: {len(flags)} flags"
    return (
        f"Sync Facts: {result.lines_filled} of {result.lines} plan lines filled ({as_of}) from "
        f"{len(result.loads)} files; {quality}."
    )


ACTION = Action(
    "sync_facts",
    "Sync Facts",
    "Load the exports named in sync.toml and fill the Plan's facts, then refresh.",
    run_button,
)
