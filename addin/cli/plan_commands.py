"""The plan's commands: `demo`, `template`, `refresh`, `new-month` and `runrate` (CSV)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from addin.actions.attribution import summary as attribution_summary
from addin.actions.new_month import default_next_path, new_month, next_month
from addin.actions.refresh_runrate import refresh
from addin.actions.summary import Figures, PlanSummary, plan_summary
from addin.cli.common import echo_json, fmt_value, parse_date, user_errors
from addin.cli.demo import run_demo
from addin.cli.runrate_csv import forecast_csv
from addin.cli.scenario_commands import print_comparison
from addin.cli.split_commands import print_split
from planning.runrate import METHODS, parse_month
from sheets_sync.i18n import LANGUAGES, resolve_language
from sheets_sync.workbooks.xlsx import XlsxWorkbook, save_atomic
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook
from workbook_templates.settings_sheet import read_settings


def print_summary(summary: PlanSummary, console: Console) -> None:
    """One small table per metric: per channel and total, plan, fact, run-rate, % of plan and,
    for counts, the cost per unit (plan, fact, run-rate)."""
    total = summary.total
    console.print(
        f"[bold]Plan vs fact vs run-rate — {summary.month:%Y-%m}, as of {summary.as_of}[/] "
        f"({summary.days_elapsed} days in, {summary.days_left} left; {summary.currency})"
    )
    for m in total.metrics:
        kind = "money" if m in ("spend", "revenue") else "count"
        table = RichTable(title=m.capitalize(), title_justify="left", min_width=60)
        table.add_column("channel", style="bold")
        for label in ("plan", "fact", "run-rate", "rr % plan"):
            table.add_column(label, justify="right")
        has_cost = total.cost_of(m) is not None
        if has_cost:
            for label in ("cost p", "cost f", "cost rr"):
                table.add_column(label, justify="right")
        for ch in summary.channels:
            table.add_row(str(ch.channel), *_summary_cells(ch.figures, m, kind))
        table.add_row("Total", *_summary_cells(total, m, kind), style="bold")
        console.print(table)


def _summary_cells(figures: Figures, m: str, kind: str) -> list[str]:
    """One row of `print_summary`'s table of metric `m`: plan, fact, run-rate, run-rate % of plan
    (green from 100%, yellow from 90%, red below) and the cost per unit, if it has one."""
    b = figures.metrics[m]
    pct = b.runrate_pct
    style = "" if pct is None else ("green" if pct >= 1 else "red" if pct < 0.9 else "yellow")
    out = [
        fmt_value(b.plan, kind),
        fmt_value(b.fact, kind),
        fmt_value(b.runrate, kind),
        f"[{style}]{fmt_value(pct, 'pct')}[/]" if style else fmt_value(pct, "pct"),
    ]
    cost = figures.cost_of(m)
    if cost is not None:
        out += [fmt_value(v, "money") for v in (cost.plan, cost.fact, cost.runrate)]
    return out


#: `--lang` of the commands that write a new workbook (default: the system's language).
lang_option = click.option(
    "--lang",
    type=click.Choice(LANGUAGES, case_sensitive=False),
    default=None,
    help="Workbook language, ru or en (default: the system's).",
)


@click.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("funnelplan-demo"),
    show_default=True,
    help="Folder for the workbook, the fact store and the exports.",
)
@click.option("--month", default="2026-11", show_default=True, help="Sample month, YYYY-MM.")
@click.option("--as-of", callback=parse_date, help="Last complete day of facts (default: day 17).")
@click.option("--seed", default=7, show_default=True, help="Seed of the sample generator.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@lang_option
@user_errors
def demo(
    out_dir: Path, month: str, as_of: dt.date | None, seed: int, as_json: bool, lang: str | None
) -> None:
    """Run the whole loop on bundled sample data and print plan vs fact vs run-rate."""
    console = Console(stderr=True)
    steps = 9
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

        result = run_demo(out_dir, month=month, as_of=as_of, seed=seed, step=step, lang=lang)
        progress.update(task, completed=steps, description="Done")
    if as_json:
        echo_json(result.to_dict())
        return
    out = Console()
    print_summary(result.summary, out)
    print_split(result.split, out, flags=False)
    print_comparison(result.scenarios, out)
    sync = result.sync
    flags = sync.flags
    out.print(
        f"Synced {sync.files} exports: {sync.lines_filled} of {sync.lines} lines "
        f"filled; unmapped spend {fmt_value(sync.unmapped_spend, 'money')}; "
        f"{sync.quarantined} rows quarantined, {sync.duplicates} duplicates dropped; "
        + ("Data Quality OK" if not flags else f"Data Quality: {len(flags)} flags")
    )
    for flag in flags:
        out.print(f"  • {flag}")
    out.print(f"Workbook: [bold]{result.workbook}[/]  ·  fact store: {result.store}")
    out.print(f"Sync again: funnelplan sync {result.config}")
    out.print(attribution_summary(result.attribution))
    firing = result.alerts.evaluation.firings
    out.print(
        f"Alerts: {len(firing)} firing (see the Alerts sheet); the morning digest: "
        f"funnelplan digest {result.config} --dry-run"
    )


@click.command()
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
@lang_option
@user_errors
def template(
    month: str,
    out: Path,
    lines_csv: Path | None,
    blank_rows: int,
    window: int,
    lang: str | None,
) -> None:
    """Write an empty planning workbook for MONTH."""
    lines = pd.read_csv(lines_csv) if lines_csv else pd.DataFrame(columns=["channel", "campaign"])
    spec = PlanWorkbookSpec(
        month=parse_month(month),
        lines=lines,
        blank_rows=blank_rows,
        window=window,
        lang=resolve_language(lang),
    )
    save_atomic(build_plan_workbook(spec), out)
    click.echo(f"Wrote {out} ({len(lines)} lines, {blank_rows} blank rows)")


@click.command("refresh")
@click.argument("workbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--as-of", callback=parse_date, help="Last complete day of facts (default: Settings)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@user_errors
def refresh_cmd(workbook: Path, as_of: dt.date | None, as_json: bool) -> None:
    """Recompute run-rate, % of plan and pace in WORKBOOK from its Daily sheet."""
    book = XlsxWorkbook(workbook)
    result = refresh(book, as_of=as_of)
    summary = plan_summary(XlsxWorkbook(workbook))
    if as_json:
        echo_json({**summary.to_dict(), "lines_without_facts": result.lines_without_facts})
        return
    for message in book.messages:
        click.echo(message)
    print_summary(summary, Console())


@click.command("new-month")
@click.argument("workbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out", type=click.Path(path_type=Path), help="Where to write next month's workbook."
)
@click.option("--overwrite", is_flag=True, help="Replace --out if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Print what was planned from facts as JSON.")
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES, case_sensitive=False),
    default=None,
    help="Language of the new workbook, ru or en (default: WORKBOOK's).",
)
@user_errors
def new_month_cmd(
    workbook: Path, out: Path | None, overwrite: bool, as_json: bool, lang: str | None
) -> None:
    """Write next month's plan from WORKBOOK: same lines, CPC/CRs learned from facts."""
    book = XlsxWorkbook(workbook)
    month = read_settings(book).month
    target = out or default_next_path(workbook, month, next_month(month))
    result = new_month(book, target, overwrite=overwrite, lang=lang)
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


@click.command("runrate")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--as-of", callback=parse_date, help="Last complete day (default: latest date in the file)."
)
@click.option("--month", help="YYYY-MM (default: the as-of month).")
@click.option("--window", default=5, show_default=True, help="Days averaged for the daily rate.")
@click.option(
    "--method",
    type=click.Choice(list(METHODS)),
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
    result = forecast_csv(
        csv_file,
        as_of=as_of,
        month=month,
        window=window,
        method=method,
        keys=[k.strip() for k in keys.split(",") if k.strip()],
    )
    if as_json:
        echo_json(result.to_dict())
        return
    table = RichTable(
        title=f"Run-rate {result.month:%Y-%m} as of {result.as_of} ({method}, {window} days)"
    )
    for k in result.keys:
        table.add_column(k)
    for m in result.metrics:
        table.add_column(f"{m} mtd", justify="right")
        table.add_column(f"{m} rr", justify="right")
    total_key = {result.keys[0]: "Total"} if result.keys else {}
    for key, forecasts in [
        *((line.key, line.metrics) for line in result.lines),
        (total_key, result.total),
    ]:
        row = [str(key.get(k, "")) for k in result.keys]
        for m in result.metrics:
            f = forecasts[m]
            row += [fmt_value(f.mtd, "count"), fmt_value(f.runrate, "count")]
        table.add_row(*row)
    Console().print(table)
    if result.ignored_rows:
        click.echo(f"{result.ignored_rows} rows outside {result.month:%Y-%m} ignored", err=True)
