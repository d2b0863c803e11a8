"""`funnelplan scenarios WORKBOOK`: the Compare Scenarios button from a command line."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click
from rich import box
from rich.console import Console
from rich.table import Table as RichTable

from addin.actions.compare_scenarios import Comparison, compare_scenarios
from addin.cli.common import echo_json, fmt_band, fmt_count, fmt_short, user_errors
from planning.scenario_plan import Outcome
from sheets_sync.cells import finite_number
from sheets_sync.workbooks.xlsx import XlsxWorkbook


def outcome_dict(o: Outcome) -> dict[str, Any]:
    """One channel (or the total) of a scenario as JSON."""
    return {
        "channel": o.channel,
        "spend": o.spend,
        "leads": o.leads,
        "leads_low": o.leads_low,
        "leads_high": o.leads_high,
        "purchases": finite_number(o.purchases),
        "cpa": finite_number(o.cpa),
        "cac": finite_number(o.cac),
        "revenue": finite_number(o.revenue),
        "roas": finite_number(o.roas),
        "romi": finite_number(o.romi),
        "delta_leads": finite_number(o.delta_leads),
        "delta_romi": finite_number(o.delta_romi),
        "flags": list(o.flags),
    }


def comparison_dict(comparison: Comparison) -> dict[str, Any]:
    return {
        "objective": comparison.objective,
        "best": comparison.best,
        "scenarios": [
            {
                "name": r.name,
                "channels": [outcome_dict(o) for o in r.channels],
                "total": outcome_dict(r.total),
            }
            for r in comparison.results
        ],
        "errors": {str(row): message for row, message in comparison.errors.items()},
    }


def _pct(value: float) -> str:
    return "—" if not math.isfinite(value) else f"{value:.0%}"


_COLUMNS = ("scenario", "spend", "leads", "band", "sales", "CAC", "ROMI", "Δ leads")


def print_comparison(comparison: Comparison, console: Console) -> None:
    table = RichTable(title="Scenarios", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column(_COLUMNS[0], max_width=22, overflow="fold")
    for label in _COLUMNS[1:]:
        table.add_column(label, justify="right", no_wrap=True)
    for r in comparison.results:
        t = r.total
        mark = " ★" if r.name == comparison.best else ""
        delta = "—" if not math.isfinite(t.delta_leads) else f"{t.delta_leads:+,.0f}"
        table.add_row(
            r.name + mark,
            fmt_short(t.spend),
            fmt_count(t.leads),
            fmt_band(t.leads, t.leads_low, t.leads_high),
            fmt_count(t.purchases),
            fmt_short(t.cac),
            _pct(t.romi),
            delta.replace(",", "\u00a0"),
        )
    console.print(table)
    if comparison.best is not None:
        console.print(f"Best by {comparison.objective}: {comparison.best}")
    for row, message in comparison.errors.items():
        console.print(f"  • row {row}: {message}")


@click.command("scenarios")
@click.argument("workbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print every scenario as JSON.")
@user_errors
def scenarios_cmd(workbook: Path, as_json: bool) -> None:
    """Compare the scenarios typed on WORKBOOK's Scenarios sheet (the current plan and the
    Optimize Split proposal first) and write the results there."""
    book = XlsxWorkbook(workbook)
    comparison = compare_scenarios(book)
    if as_json:
        echo_json(comparison_dict(comparison))
        return
    for message in book.messages:
        click.echo(message)
    print_comparison(comparison, Console())
