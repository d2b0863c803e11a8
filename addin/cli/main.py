"""The `funnelplan` command line: the same actions as the spreadsheet buttons.

Expected errors (bad input, a workbook of the wrong shape) print one readable line and exit
with status 2; anything unexpected is logged with its traceback to a file named in the message.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import math
import sys
import tempfile
import traceback
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypeVar

import click
import pandas as pd
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from planning.errors import PlanningError
from sheets_sync.libreoffice import LibreOfficeError
from sheets_sync.workbooks.interface import WorkbookError

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("funnelplan")


def _version() -> str:
    try:
        return version("funnelplan")
    except PackageNotFoundError:  # running from a source tree
        return "0+unknown"


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-17") from None


def user_errors(func: F) -> F:
    """Turn expected errors into one readable line; log unexpected ones with a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (PlanningError, WorkbookError, LibreOfficeError, FileNotFoundError) as exc:
            raise click.ClickException(str(exc)) from exc
        except (click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            logfile = Path(tempfile.gettempdir()) / "funnelplan-error.log"
            logfile.write_text(traceback.format_exc(), encoding="utf-8")
            raise click.ClickException(
                f"unexpected error: {exc} (details in {logfile}; please report it)"
            ) from exc

    return wrapper  # type: ignore[return-value]


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(type(value))


def _clean_json(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_json(v) for v in value]
    return value


def echo_json(payload: Any) -> None:
    click.echo(
        json.dumps(_clean_json(payload), default=_json_default, ensure_ascii=False, indent=2)
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), "--version", prog_name="funnelplan")
def main() -> None:
    """funnelplan: plan/fact, run-rate and budget splits for acquisition teams."""


def _fmt(v: float | None, kind: str) -> str:
    if v is None:
        return "—"
    if kind == "pct":
        return f"{v:.0%}"
    if kind == "money":
        return f"{v:,.0f}".replace(",", " ")
    return f"{v:,.0f}".replace(",", " ")


def print_summary(summary: dict[str, Any], console: Console) -> None:
    """One small table per metric: per channel and total, plan, fact, run-rate, % of plan and,
    for counts, the cost per unit (plan, fact, run-rate)."""
    total = summary["total"]
    counts = [k for k in total if not k.startswith("cpa_")]
    cost_of = {k.removeprefix("cpa_"): k for k in total if k.startswith("cpa_")}
    console.print(
        f"[bold]Plan vs fact vs run-rate — {summary['month']}, as of {summary['as_of']}[/] "
        f"({summary['days_elapsed']} days in, {summary['days_left']} left; {summary['currency']})"
    )
    for m in counts:
        kind = "money" if m in ("spend", "revenue") else "count"
        table = RichTable(title=m.capitalize(), title_justify="left", min_width=60)
        table.add_column("channel", style="bold")
        for label in ("plan", "fact", "run-rate", "rr % plan"):
            table.add_column(label, justify="right")
        cost = cost_of.get(m)
        if cost:
            for label in ("cost p", "cost f", "cost rr"):
                table.add_column(label, justify="right")

        def cells(
            block: dict[str, Any], m: str = m, kind: str = kind, cost: str | None = cost
        ) -> list[str]:
            b = block[m]
            pct = b["runrate_pct"]
            style = (
                "" if pct is None else ("green" if pct >= 1 else "red" if pct < 0.9 else "yellow")
            )
            out = [
                _fmt(b["plan"], kind),
                _fmt(b["fact"], kind),
                _fmt(b["runrate"], kind),
                f"[{style}]{_fmt(pct, 'pct')}[/]" if style else _fmt(pct, "pct"),
            ]
            if cost:
                c = block[cost]
                out += [
                    _fmt(c["plan"], "money"),
                    _fmt(c["fact"], "money"),
                    _fmt(c["runrate"], "money"),
                ]
            return out

        for ch in summary["channels"]:
            table.add_row(str(ch["channel"]), *cells(ch))
        table.add_row("Total", *cells(total), style="bold")
        console.print(table)


@main.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("funnelplan-demo"),
    show_default=True,
    help="Folder for the workbook, the fact store and the exports.",
)
@click.option("--month", default="2026-11", show_default=True, help="Sample month, YYYY-MM.")
@click.option("--as-of", callback=_date, help="Last complete day of facts (default: day 17).")
@click.option("--seed", default=7, show_default=True, help="Seed of the sample generator.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@user_errors
def demo(out_dir: Path, month: str, as_of: dt.date | None, seed: int, as_json: bool) -> None:
    """Run the whole loop on bundled sample data and print plan vs fact vs run-rate."""
    from addin.cli.demo import run_demo

    console = Console(stderr=True)
    steps = 6
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=as_json,
        disable=not console.is_terminal and as_json,
    ) as progress:
        task = progress.add_task("funnelplan demo", total=steps)

        def step(message: str) -> None:
            progress.update(task, description=message)
            progress.advance(task)

        result = run_demo(out_dir, month=month, as_of=as_of, seed=seed, step=step)
        progress.update(task, completed=steps, description="Done")
    if as_json:
        echo_json(result.summary)
        return
    out = Console()
    print_summary(result.summary, out)
    if result.split is not None:
        print_split(result.split, out, flags=False)
    sync = result.sync
    if sync:
        flags = sync["flags"]
        out.print(
            f"Synced {sync['files']} exports: {sync['lines_filled']} of {sync['lines']} lines "
            f"filled; unmapped spend {_fmt(sync['unmapped_spend'], 'money')}; "
            f"{sync['quarantined']} rows quarantined, {sync['duplicates']} duplicates dropped; "
            + ("Data Quality OK" if not flags else f"Data Quality: {len(flags)} flags")
        )
        for flag in flags:
            out.print(f"  • {flag}")
    out.print(f"Workbook: [bold]{result.workbook}[/]  ·  fact store: {result.store}")
    if result.config is not None:
        out.print(f"Sync again: funnelplan sync {result.config}")


@main.command()
@click.option("--month", required=True, help="Plan month, YYYY-MM.")
@click.option(
    "--out", "out", type=click.Path(path_type=Path), required=True, help="The .xlsx to write."
)
@click.option(
    "--lines",
    "lines_csv",
    type=click.Path(exists=True, path_type=Path),
    help="CSV with channel, campaign and optional plan columns such as 'spend p'.",
)
@click.option(
    "--blank-rows", default=10, show_default=True, help="Empty lines to leave for typing."
)
@click.option("--window", default=5, show_default=True, help="Run-rate window, days.")
@user_errors
def template(month: str, out: Path, lines_csv: Path | None, blank_rows: int, window: int) -> None:
    """Write an empty planning workbook for MONTH."""
    from planning.runrate import parse_month
    from sheets_sync.workbooks.xlsx import save_atomic
    from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook

    lines = pd.read_csv(lines_csv) if lines_csv else pd.DataFrame(columns=["channel", "campaign"])
    spec = PlanWorkbookSpec(
        month=parse_month(month), lines=lines, blank_rows=blank_rows, window=window
    )
    save_atomic(build_plan_workbook(spec), out)
    click.echo(f"Wrote {out} ({len(lines)} lines, {blank_rows} blank rows)")


@main.command("refresh")
@click.argument("workbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as-of", callback=_date, help="Last complete day of facts (default: Settings).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@user_errors
def refresh_cmd(workbook: Path, as_of: dt.date | None, as_json: bool) -> None:
    """Recompute run-rate, % of plan and pace in WORKBOOK from its Daily sheet."""
    from addin.actions.refresh_runrate import refresh
    from addin.actions.summary import plan_summary
    from sheets_sync.workbooks.xlsx import XlsxWorkbook as open_workbook

    book = open_workbook(workbook)
    result = refresh(book, as_of=as_of)
    summary = plan_summary(open_workbook(workbook))
    summary["lines_without_facts"] = result.lines_without_facts
    if as_json:
        echo_json(summary)
        return
    for message in book.messages:
        click.echo(message)
    print_summary(summary, Console())


@main.command("new-month")
@click.argument("workbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out", type=click.Path(path_type=Path), help="Where to write next month's workbook."
)
@click.option("--overwrite", is_flag=True, help="Replace --out if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Print what was planned from facts as JSON.")
@user_errors
def new_month_cmd(workbook: Path, out: Path | None, overwrite: bool, as_json: bool) -> None:
    """Write next month's plan from WORKBOOK: same lines, CPC/CRs learned from facts."""
    from addin.actions.new_month import default_next_path, new_month, next_month
    from sheets_sync.workbooks.xlsx import XlsxWorkbook as open_workbook
    from workbook_templates.workbook_io import read_settings

    book = open_workbook(workbook)
    month = read_settings(book).month
    target = out or default_next_path(workbook, month, next_month(month))
    result = new_month(book, target, overwrite=overwrite)
    if as_json:
        echo_json(
            {
                "workbook": result.path,
                "month": f"{result.month:%Y-%m}",
                "lines": result.lines,
                "basis": result.basis.to_dict("records"),
            }
        )
        return
    for message in book.messages:
        click.echo(message)
    from_facts = int(
        (result.basis.drop(columns=["channel", "campaign"]) == "fact").to_numpy().sum()
    )
    total = int(result.basis.drop(columns=["channel", "campaign"]).size)
    click.echo(
        f"{from_facts} of {total} planned ratios come from this month's facts; the rest kept."
    )


@main.command("runrate")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--as-of", callback=_date, help="Last complete day (default: latest date in the file)."
)
@click.option("--month", help="YYYY-MM (default: the as-of month).")
@click.option("--window", default=5, show_default=True, help="Days averaged for the daily rate.")
@click.option(
    "--method",
    type=click.Choice(["last_n", "last_n_dow", "linear"]),
    default="last_n",
    show_default=True,
)
@click.option(
    "--keys",
    default="channel,campaign",
    show_default=True,
    help="Comma-separated line key columns (those present are used).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the forecast as JSON.")
@user_errors
def runrate_cmd(
    csv_file: Path,
    as_of: dt.date | None,
    month: str | None,
    window: int,
    method: str,
    keys: str,
    as_json: bool,
) -> None:
    """Month-end forecast per line and in total from a daily facts CSV (date, keys, metrics)."""
    from addin.cli.runrate_csv import forecast_csv

    result = forecast_csv(
        csv_file,
        as_of=as_of,
        month=month,
        window=window,
        method=method,
        keys=[k.strip() for k in keys.split(",") if k.strip()],
    )
    if as_json:
        echo_json(result)
        return
    table = RichTable(
        title=f"Run-rate {result['month']} as of {result['as_of']} ({method}, {window} days)"
    )
    metrics = result["metrics"]
    for k in result["keys"]:
        table.add_column(k)
    for m in metrics:
        table.add_column(f"{m} mtd", justify="right")
        table.add_column(f"{m} rr", justify="right")
    for line in [
        *result["lines"],
        {
            **dict.fromkeys(result["keys"], ""),
            **result["total"],
            result["keys"][0] if result["keys"] else "": "Total",
        },
    ]:
        row = [str(line.get(k, "")) for k in result["keys"]]
        for m in metrics:
            row += [_fmt(line[m]["mtd"], "count"), _fmt(line[m]["runrate"], "count")]
        table.add_row(*row)
    Console().print(table)
    if result["ignored_rows"]:
        click.echo(f"{result['ignored_rows']} rows outside {result['month']} ignored", err=True)


def _money(v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return "∞" if v == math.inf else "—"
    return _fmt(v, "money")


def _short(v: float | None) -> str:
    """Money for a narrow table: ``1 535k`` from 100 000 up, else whole units (no-break
    spaces between thousands, so a cell never wraps inside a number)."""
    if v is None or not math.isfinite(v):
        return "∞" if v == math.inf else "—"
    if abs(v) >= 100_000:
        return f"{v / 1000:,.0f}k".replace(",", "\u00a0")
    return f"{v:,.0f}".replace(",", "\u00a0")


def _count(v: float | None) -> str:
    """Conversions: whole from 100 up, else one decimal."""
    if v is None or not math.isfinite(v):
        return "—"
    return (f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.1f}").replace(",", "\u00a0")


def _pct(v: float | None) -> str:
    return "—" if v is None or not math.isfinite(v) else f"{v:+.0%}"


def _band(expected: float | None, low: float | None, high: float | None) -> str:
    """The band around the expected value in %, e.g. ``-4%/+5%``."""
    if expected is None or low is None or high is None or not expected:
        return "—"
    return f"{low / expected - 1:+.0%}/{high / expected - 1:+.0%}"


def print_split(split: dict[str, Any], console: Console, flags: bool = True) -> None:
    """The proposal per channel and in total: current and proposed spend, change, expected
    conversions now and at the proposal, the band around it (low and high, in % of the
    expected), marginal CPA; then the flags."""
    days = f"{split['days']} day{'s' if split['days'] != 1 else ''}"
    table = RichTable(
        title=f"Optimize Split ({split['objective']}): {_money(split['budget'])} over {days}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("channel", style="bold", min_width=10)
    for label in ("current", "proposed", "Δ%", "conv now", "conv new", "band", "mCPA"):
        table.add_column(label, justify="right", no_wrap=True)
    for c in split["channels"]:
        table.add_row(
            str(c["channel"]),
            _short(c["current"]),
            _short(c["proposed"]),
            _pct(c["delta_pct"]),
            _count(c["conversions_now"]),
            _count(c["expected_conversions"]),
            _band(c["expected_conversions"], c["low"], c["high"]),
            _short(c["marginal_cpa"]),
        )
    t = split["total"]
    table.add_row(
        "Total",
        _short(t["current"]),
        _short(t["proposed"]),
        _pct(t["delta"] / t["current"] if t["current"] else None),
        _count(t["conversions_now"]),
        _count(t["expected_conversions"]),
        _band(t["expected_conversions"], t["low"], t["high"]),
        "",
        style="bold",
    )
    console.print(table)
    s = split["solver"]
    gain = f"{_count(t['expected_conversions'])} conversions vs {_count(t['conversions_now'])} now"
    gain += f" ({_pct(t['uplift_pct'])})"
    value, value_now = t.get("value"), t.get("value_now")
    if split["objective"] == "value" and value is not None and math.isfinite(value):
        change = (value - value_now) / value_now if value_now else None
        gain = f"value {_money(value)} vs {_money(value_now)} now ({_pct(change)}); " + gain
    console.print(
        f"Expected {gain}; solver: {s['method']}, {s['iterations']} iterations. "
        f"History: {split['history']}."
    )
    if flags:
        for c in split["channels"]:
            if c["flags"]:
                console.print(f"  {c['channel']} ({c['confidence']}): {'; '.join(c['flags'])}")


@main.command("optimize")
@click.argument(
    "workbook", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--history",
    "history",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV mode: daily history with date, channel, spend, conversions[, value].",
)
@click.option(
    "--budget",
    type=float,
    help="Budget to split: the month's (workbook; default its `spend p` total) or over --days.",
)
@click.option("--days", type=int, help="CSV mode: days AMOUNT covers (default 1: per day).")
@click.option(
    "--bounds",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV mode: channel, min, max, locked[, cpa cap, current, value] over --days.",
)
@click.option(
    "--objective",
    type=click.Choice(["leads", "value"]),
    help="leads: most conversions; value: most conversions x value per conversion.",
)
@click.option("--step", type=float, help="Round each channel to a multiple of this.")
@click.option(
    "--max-change",
    "max_change",
    type=float,
    help="A channel without min/max moves at most this share of its current spend "
    "(default 0.5: ±50%; the workbook's `max change` cell; 0: no such limit).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the proposal as JSON.")
@user_errors
def optimize_cmd(
    workbook: Path | None,
    history: Path | None,
    budget: float | None,
    days: int | None,
    bounds: Path | None,
    objective: str | None,
    step: float | None,
    max_change: float | None,
    as_json: bool,
) -> None:
    """Propose the budget split across channels that brings the most leads (or value).

    With WORKBOOK: writes the proposal to its Optimize Split sheet (the Plan is not changed;
    apply-split copies it). With --history: plain CSV in, the proposal out.
    """
    if (workbook is None) == (history is None):
        raise click.UsageError("give either WORKBOOK or --history FILE (and not both)")
    if max_change is not None and not (math.isfinite(max_change) and max_change >= 0):
        raise click.BadParameter(
            f"{max_change:g} is not a share >= 0 (0.5 = ±50%, 0 = no limit)",
            param_hint="--max-change",
        )
    messages: list[str] = []
    if history is not None:
        from addin.cli.optimize_csv import optimize_csv
        from planning.split import DEFAULT_CHANGE

        if budget is None:
            raise click.UsageError("--history needs --budget AMOUNT (the budget over --days)")
        if days is not None and days < 1:
            raise click.BadParameter(f"{days} is not a number of days >= 1", param_hint="--days")
        proposal = optimize_csv(
            history,
            budget,
            days=days or 1,
            bounds_path=bounds,
            objective=objective or "leads",
            step=step,
            max_change=DEFAULT_CHANGE if max_change is None else max_change,
        )
    else:
        if days is not None or bounds is not None:
            raise click.UsageError("--days and --bounds are for --history (CSV) mode")
        from addin.actions.optimize_split import optimize_split
        from sheets_sync.workbooks.xlsx import XlsxWorkbook as open_workbook

        assert workbook is not None
        book = open_workbook(workbook)
        proposal = optimize_split(
            book, objective=objective, budget=budget, step=step, max_change=max_change
        )
        messages = book.messages
    payload = proposal.to_dict()
    if as_json:
        echo_json(payload)
        return
    for message in messages:
        click.echo(message)
    print_split(payload, Console())


@main.command("apply-split")
@click.argument("workbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the changed cells as JSON.")
@user_errors
def apply_split_cmd(workbook: Path, as_json: bool) -> None:
    """Copy the Optimize Split proposal into the Plan's `spend p` (undo-split restores it)."""
    from addin.actions.apply_split import apply_split
    from sheets_sync.workbooks.xlsx import XlsxWorkbook as open_workbook

    book = open_workbook(workbook)
    result = apply_split(book)
    if as_json:
        echo_json(
            {
                "cells": [{"cell": r.ref, "old": r.old, "new": r.new} for r in result.cells],
                "channels": {c: {"old": o, "new": n} for c, (o, n) in result.channels.items()},
            }
        )
        return
    for message in book.messages:
        click.echo(message)


@main.command("undo-split")
@click.argument("workbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Restore even cells changed since apply-split.")
@click.option("--json", "as_json", is_flag=True, help="Print the restored cells as JSON.")
@user_errors
def undo_split_cmd(workbook: Path, force: bool, as_json: bool) -> None:
    """Restore the Plan's `spend p` cells the last apply-split replaced, exactly."""
    from addin.actions.undo_split import undo_split
    from sheets_sync.workbooks.xlsx import XlsxWorkbook as open_workbook

    book = open_workbook(workbook)
    records = undo_split(book, force=force)
    if as_json:
        echo_json({"cells": [{"cell": r.ref, "restored": r.old} for r in records]})
        return
    for message in book.messages:
        click.echo(message)


def _datetime(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a time like 2026-11-18T09:00") from None


class _Terminated(SystemExit):
    """SIGTERM during a sync: unwinds like Ctrl-C, so a half-written temp file is removed."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated(128 + signum)


def print_sync(result: Any, console: Console) -> None:
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
        console.print(f"  {m} f total: {_fmt(v, 'money' if m in ('spend', 'revenue') else 'n')}")
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
            f"({_fmt(float(spend.sum()), 'money')} spend; Unmapped sheet):"
        )
        for rec, sp in list(zip(un.to_dict("records"), spend, strict=True))[:5]:
            target = f" → {rec['channel']} / {rec['campaign']}" if rec["channel"] else ""
            console.print(
                f"  {rec['status']}: {rec['data source']} {rec['utm_campaign'] or '—'}{target}"
                f" ({_fmt(float(sp), 'money')} spend)"
            )
    flags = result.quality.flags
    console.print(
        "[green]Data Quality: OK[/]"
        if not flags
        else f"[red]Data Quality: {len(flags)} flags[/] (Data Quality sheet)"
    )
    for flag in flags:
        console.print(f"  • {flag}")


@main.command("sync")
@click.argument("config", required=False, type=click.Path(path_type=Path), default="sync.toml")
@click.option("--as-of", callback=_date, help="Last complete day (default: the latest in facts).")
@click.option(
    "--now",
    callback=_datetime,
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
    import signal

    from addin.actions.sync_facts import run_sync
    from sheets_sync.sync_config import load_config

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


@main.command("inspect")
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
    from sheets_sync.sources.column_map import SourceOptions
    from sheets_sync.sources.inspect_file import inspect, render

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


@main.command("functions")
@click.option("--json", "as_json", is_flag=True, help="Print the functions as JSON.")
def functions_cmd(as_json: bool) -> None:
    """List every spreadsheet function with its arguments and help (what Excel's function
    wizard shows for it)."""
    from addin.registry import FUNCTIONS

    if as_json:
        echo_json([f.describe() for f in FUNCTIONS.values()])
        return
    for f in FUNCTIONS.values():
        click.echo(f"{f.signature}  -> {f.result}")
        click.echo(f"  {f.help}")
        for a in f.args:
            extra = ", optional" if a.optional else ""
            if a.default is not None:
                extra += f", default {a.default}"
            click.echo(f"    {a.name} ({a.kind}{extra}): {a.help}")
        click.echo("")


def _register_excel_commands() -> None:
    """`funnelplan addin build|install` (the Excel ribbon add-in and the UDF module) and
    `funnelplan run-action` (a ribbon button, started by xlwings' RunFrozenPython)."""
    from addin.excel.commands import addin_group, run_action_cmd

    main.add_command(addin_group)
    main.add_command(run_action_cmd)


def _register_server_commands() -> None:
    """`funnelplan serve`, `funnelplan keys create|list|revoke` (the function server) and
    `funnelplan clients` (the Apps Script and Office.js clients generated for it)."""
    from addin.clients.commands import clients_cmd
    from addin.server.commands import keys_group, serve_cmd

    main.add_command(serve_cmd)
    main.add_command(keys_group)
    main.add_command(clients_cmd)


_register_excel_commands()
_register_server_commands()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
