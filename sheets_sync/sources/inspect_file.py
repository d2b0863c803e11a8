"""`funnelplan inspect FILE`: read one export the way sync would, and show how it was read.

`inspect` detects what the file is (ad-platform export, call tracking, CRM, or a journeys export
for attribution: a visits export or a CRM touch history, kind ``"paths"``) from its header
when not told, reads it with the matching reader and returns the `ReadResult`; `render` turns
that into text: platform, encoding, delimiter, date format, header line, rows read, the
quarantined rows with their lines (first 20), the totals per metric and, when the file has its
own totals row, that row against the rows' sum (accepted + quarantined + duplicates). A
journeys file's result has no facts: its platform is the shape (``visits``, ``crm_history``)
and `render` shows its journeys, touches and odd inputs counted (`PATHS_TOTALS`).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from planning.errors import InputError
from sheets_sync.facts import METRICS, ReadResult, empty_facts
from sheets_sync.sources.ad_export import detect_platform, read_ad_export, resolve_map
from sheets_sync.sources.calls_export import looks_like_calls, read_calls_export
from sheets_sync.sources.column_map import SourceOptions
from sheets_sync.sources.crm_export import looks_like_crm, read_crm_export
from sheets_sync.sources.paths_common import COUNT_LABELS
from sheets_sync.sources.paths_export import read_paths_export, shape_of
from sheets_sync.sources.textfile import SheetRows, find_header, head_rows, seen_cells

__all__ = [
    "KINDS",
    "PATHS_TOTALS",
    "READERS",
    "detect_kind",
    "inspect",
    "kind_of_rows",
    "read_kind",
    "render",
]

READERS: dict[str, Callable[[Path | str | SheetRows, SourceOptions], ReadResult]] = {
    "ad": read_ad_export,
    "calls": read_calls_export,
    "crm": read_crm_export,
}
"""The reader of each kind of export (a file, or a sheet tab's `SheetRows`)."""
KINDS: tuple[str, ...] = tuple(READERS)
QUARANTINE_SHOWN = 20
PATHS_TOTALS: tuple[str, ...] = ("journeys", "converting", "touches", "outcomes", "longest")
"""What `render` shows of a journeys file first (then the odd inputs of `COUNT_LABELS`)."""


def detect_kind(path: Path | str, options: SourceOptions | None = None) -> str:
    """``"paths"`` (a journeys export: visits or CRM touch history), ``"crm"``, ``"calls"`` or
    ``"ad"`` from the file's header; `InputError` when none fits."""
    rows = head_rows(path)
    if find_header(rows, lambda cells: shape_of(cells) is not None) is not None:
        return "paths"
    return kind_of_rows(rows, options, str(path))


def kind_of_rows(
    rows: list[list[str]], options: SourceOptions | None = None, where: str = "input"
) -> str:
    """``"crm"``, ``"calls"`` or ``"ad"`` from the first header-like row among ``rows`` (cell
    texts); `InputError` naming ``where`` when none fits."""
    forced = resolve_map(options) if options is not None else None

    def kind(cells: list[str]) -> str | None:
        if looks_like_crm(cells):
            return "crm"
        if looks_like_calls(cells):
            return "calls"
        if detect_platform(cells) is not None or (forced is not None and forced.matches(cells)):
            return "ad"
        return None

    found = find_header(rows, lambda cells: kind(cells) is not None)
    if found is not None:
        return kind(rows[found]) or ""
    raise InputError(
        f"{where}: not a recognised ad-platform, call-tracking or CRM export; "
        f"saw {seen_cells(rows)}"
    )


def inspect(
    path: Path | str, options: SourceOptions | None = None, kind: str | None = None
) -> ReadResult:
    """Read ``path`` as ``kind`` (detected from the header when None); a journeys file
    (``"paths"``) as `paths_result` gives it."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"file not found: {path}")
    options = options or SourceOptions(source=path.stem)
    kind = kind or detect_kind(path, options)
    if kind == "paths":
        return paths_result(path, options)
    return read_kind(kind, path, options)


def paths_result(path: Path | str, options: SourceOptions) -> ReadResult:
    """A journeys file read (`read_paths_export`, shape by its header) as a `ReadResult`: no
    facts, its quarantine, its `FileInfo` with the counts of `PATHS_TOTALS` and `COUNT_LABELS`
    added to the totals (``leads``, ``purchases``, ``revenue`` are the outcomes')."""
    read = read_paths_export(path, options)
    info = read.files[0]
    info.totals.update({k: float(v) for k, v in read.counts.items()})
    return ReadResult(facts=empty_facts(), quarantine=read.quarantine, info=info)


def read_kind(kind: str, path: Path | str | SheetRows, options: SourceOptions) -> ReadResult:
    """Read ``path`` with the reader of ``kind`` (`READERS`); `InputError` for another kind."""
    reader = READERS.get(kind)
    if reader is None:
        raise InputError(f"unknown kind (expected {', '.join(KINDS)})", value=kind)
    return reader(path, options)


def _number(value: float | None) -> str:
    if value is None:
        return ""
    if float(value).is_integer():
        return f"{value:,.0f}".replace(",", " ")
    return f"{value:,.2f}".replace(",", " ")


def _paths_table(totals: dict[str, float]) -> Table:
    table = Table(title="journeys (kept as read; the attribution filters them)")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key in PATHS_TOTALS:
        table.add_row(key.replace("_", " "), _number(totals.get(key, 0.0)))
    for key, label in COUNT_LABELS.items():
        if totals.get(key):
            table.add_row(label, _number(totals[key]))
    return table


def render(result: ReadResult, width: int = 110) -> str:
    """The result as plain text (rich tables), for the terminal or a log."""
    info = result.info
    console = Console(file=io.StringIO(), width=width, record=True, color_system=None)
    about = Table(title=f"{info.path}", show_header=False, box=None)
    about.add_column("what", style="bold")
    about.add_column("value")
    delimiter = {"\t": "tab", "": "(xlsx)"}.get(info.delimiter, info.delimiter)
    span = f"{info.date_from} .. {info.date_to}" if info.date_from else "no dated rows"
    for label, value in (
        ("kind", info.kind),
        ("source", info.source),
        ("platform / map", info.platform or "-"),
        ("encoding", info.encoding or "-"),
        ("delimiter", delimiter),
        ("date format", info.date_format or "-"),
        ("header line", str(info.header_line)),
        ("rows read", str(info.rows_read)),
        ("rows ok", str(info.rows_ok)),
        ("rows quarantined", str(info.rows_quarantined)),
        ("duplicates dropped", str(info.duplicates)),
        ("dates", span),
        ("latest", info.latest.isoformat(sep=" ") if info.latest else "-"),
    ):
        about.add_row(label, value)
    console.print(about)
    if info.kind == "paths":
        console.print(_paths_table(info.totals))

    metrics = [m for m in METRICS if m in info.totals]
    totals = Table(title="totals per metric (event basis)")
    for column in ("metric", "accepted", "quarantined", "duplicates", "file totals row", "diff"):
        totals.add_column(column, justify="left" if column == "metric" else "right")
    for metric in metrics:
        accepted = info.totals.get(metric, 0.0)
        quarantined = info.quarantined_totals.get(metric, 0.0)
        duplicates = info.duplicate_totals.get(metric, 0.0)
        own = None if info.file_totals_row is None else info.file_totals_row.get(metric)
        diff = "" if own is None else _number(own - (accepted + quarantined + duplicates))
        totals.add_row(
            metric,
            _number(accepted),
            _number(quarantined),
            _number(duplicates),
            _number(own),
            diff,
        )
    console.print(totals)

    if len(result.quarantine):
        shown = result.quarantine.head(QUARANTINE_SHOWN)
        table = Table(title=f"quarantined cells ({len(result.quarantine)}; first {len(shown)})")
        for column in ("line", "column", "value", "reason"):
            table.add_column(column)
        for row in shown.itertuples(index=False):
            table.add_row(str(row.line), str(row.column), repr(row.value), str(row.reason))
        console.print(table)
    for warning in info.warnings:
        console.print(f"warning: {warning}", markup=False, highlight=False)
    return console.export_text()
