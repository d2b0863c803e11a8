"""The facts' commands: `sync` (Sync Facts from a sync config) and `inspect` (how a file reads)."""

from __future__ import annotations

import datetime as dt
import signal
from pathlib import Path
from typing import Any

import click
import pandas as pd
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from addin.actions.sync_facts import SyncResult, run_sync
from addin.cli.common import echo_json, fmt_value, parse_date, parse_datetime, user_errors
from sheets_sync.sources.column_map import SourceOptions
from sheets_sync.sources.inspect_file import inspect, render
from sheets_sync.sync_config import load_config


class _Terminated(SystemExit):
    """SIGTERM during a sync: unwinds like Ctrl-C, so a half-written temp file is removed."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated(128 + signum)


def print_sync(result: SyncResult, console: Console) -> None:
    """What a sync did: the inputs, the fill, what reached no line, the Data Quality flags."""
    table = RichTable(
        title="Inputs",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("source", no_wrap=True, min_width=10)
    table.add_column("file", overflow="ellipsis", no_wrap=True, max_width=20)
    for label, width in (("rows", 6), ("quar.", 5), ("dup.", 4)):
        table.add_column(label, justify="right", no_wrap=True, min_width=width)
    table.add_column("days", no_wrap=True, min_width=11)
    table.add_column("store", no_wrap=True, min_width=6)
    for f in result.loads:
        days = f"{f.date_from:%m-%d}–{f.date_to:%m-%d}" if f.date_from and f.date_to else "—"
        store = "same" if f.skipped else f"+{f.rows_loaded}"
        if f.replaced and not f.skipped:
            store += f" −{f.replaced}"
        table.add_row(
            f.source,
            Path(f.file).name,
            str(f.rows_read),
            str(f.quarantined),
            str(f.duplicates),
            days,
            store,
        )
    console.print(table)
    as_of = f" up to {result.as_of:%Y-%m-%d}" if result.as_of else " (no facts in the month)"
    console.print(
        f"[bold]{result.workbook}[/]: {result.month:%Y-%m}{as_of}; "
        f"{result.lines_filled} of {result.lines} plan lines filled "
        f"({', '.join(m + ' f' for m in result.metrics) or 'no fact columns'}); "
        f"{result.daily_rows} Daily rows"
    )
    for m, v in result.filled.items():
        console.print(
            f"  {m} f total: {fmt_value(v, 'money' if m in ('spend', 'revenue') else 'n')}"
        )
    if result.lines_without_facts:
        names = ", ".join(result.lines_without_facts[:8])
        more = " …" if len(result.lines_without_facts) > 8 else ""
        console.print(
            f"[yellow]{len(result.lines_without_facts)} lines without facts[/] (left blank): "
            f"{names}{more}"
        )
    un = result.unplanned
    if len(un):
        spend = un["spend"].fillna(0.0) if "spend" in un else pd.Series(0.0, index=un.index)
        console.print(
            f"[yellow]{len(un)} source lines reach no plan line[/] "
            f"({fmt_value(float(spend.sum()), 'money')} spend; Unmapped sheet):"
        )
        for rec, sp in list(zip(un.to_dict("records"), spend, strict=True))[:5]:
            target = f" → {rec['channel']} / {rec['campaign']}" if rec["channel"] else ""
            console.print(
                f"  {rec['status']}: {rec['data source']} {rec['utm_campaign'] or '—'}{target}"
                f" ({fmt_value(float(sp), 'money')} spend)"
            )
    flags = result.quality.flags
    console.print(
        "[green]Data Quality: OK[/]"
        if not flags
        else f"[red]Data Quality: {len(flags)} flags[/] (Data Quality sheet)"
    )
    for flag in flags:
        console.print(f"  • {escape(flag)}")  # a flag may echo a file's text: "[/]" is not markup


@click.command("sync")
@click.argument("config", required=False, type=click.Path(path_type=Path), default="sync.toml")
@click.option(
    "--as-of", callback=parse_date, help="Last complete day (default: the latest in facts)."
)
@click.option(
    "--now",
    callback=parse_datetime,
    help="Time freshness is judged against, e.g. 2026-11-18T09:00 (default: now).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the sync summary as JSON.")
@user_errors
def sync_cmd(config: Path, as_of: dt.date | None, now: dt.datetime | None, as_json: bool) -> None:
    """Sync facts from the sources in CONFIG (default sync.toml) into its workbook.

    Reads every export (progress bar), loads it into the fact store (a file already loaded
    changes nothing), maps the rows with the workbook's Mapping sheet and fills the Plan's
    `f` columns, the Daily, Data Quality and Unmapped sheets; then refreshes the run-rate.
    """
    cfg = load_config(config)
    console = Console(stderr=True)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        ) as progress:
            task = progress.add_task("Syncing", total=None)

            def step(message: str, done: int, total: int) -> None:
                progress.update(task, description=message, completed=done, total=total)

            result = run_sync(cfg, now=now, as_of=as_of, progress=step)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if as_json:
        echo_json(result.to_dict())
        return
    print_sync(result, Console())


@click.command("inspect")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--kind",
    type=click.Choice(["ad", "calls", "crm"]),
    help="What the file is (default: detected from its header).",
)
@click.option("--platform", help="Force an ad column map (google_ads, yandex_direct, …).")
@click.option("--rate", type=float, default=1.0, show_default=True, help="Money x rate.")
@click.option("--vat", type=float, default=0.0, show_default=True, help="VAT share, e.g. 0.2.")
@click.option("--vat-included", is_flag=True, help="Spend includes --vat: divide it out.")
@click.option("--json", "as_json", is_flag=True, help="Print what was read as JSON.")
@user_errors
def inspect_cmd(
    file: Path,
    kind: str | None,
    platform: str | None,
    rate: float,
    vat: float,
    vat_included: bool,
    as_json: bool,
) -> None:
    """Show how FILE would be read before anyone syncs it: platform, encoding, delimiter,
    date format, rows read, rows quarantined (with line numbers) and totals per metric."""
    options = SourceOptions(
        source=file.stem, rate=rate, vat=vat, vat_included=vat_included, platform=platform
    )
    result = inspect(file, options, kind=kind)
    if as_json:
        q = result.quarantine
        echo_json(
            {
                **result.info.to_dict(),
                "quarantined": q.head(20).to_dict("records"),
                "facts": len(result.facts),
            }
        )
        return
    click.echo(render(result))
