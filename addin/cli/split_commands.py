"""The budget split's commands: `optimize` (on a workbook or CSVs), `apply-split`, `undo-split`."""

from __future__ import annotations

import math
from pathlib import Path

import click
from rich import box
from rich.console import Console
from rich.table import Table as RichTable

from addin.actions.apply_split import apply_split
from addin.actions.optimize_split import optimize_split
from addin.actions.undo_split import undo_split
from addin.cli.common import (
    echo_json,
    fmt_band,
    fmt_count,
    fmt_money,
    fmt_pct,
    fmt_short,
    user_errors,
)
from addin.cli.optimize_csv import optimize_csv
from planning.split import Proposal
from sheets_sync.workbooks.xlsx import XlsxWorkbook


def print_split(proposal: Proposal, console: Console, flags: bool = True) -> None:
    """The proposal per channel and in total: current and proposed spend, change, expected
    conversions now and at the proposal, the band around it (low and high, in % of the
    expected), marginal CPA; then the flags."""
    days = f"{proposal.days} day{'s' if proposal.days != 1 else ''}"
    table = RichTable(
        title=f"Optimize Split ({proposal.objective}): {fmt_money(proposal.budget)} over {days}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("channel", style="bold", min_width=10)
    for label in ("current", "proposed", "Δ%", "conv now", "conv new", "band", "mCPA"):
        table.add_column(label, justify="right", no_wrap=True)
    for c in proposal.channels:
        table.add_row(
            str(c.channel),
            fmt_short(c.current),
            fmt_short(c.proposed),
            fmt_pct(c.delta_pct),
            fmt_count(c.conversions_now),
            fmt_count(c.expected),
            fmt_band(c.expected, c.low, c.high),
            fmt_short(c.marginal_cpa),
        )
    t = proposal.totals
    table.add_row(
        "Total",
        fmt_short(t.current),
        fmt_short(t.proposed),
        fmt_pct(t.delta / t.current if t.current else None),
        fmt_count(t.conversions_now),
        fmt_count(t.expected_conversions),
        fmt_band(t.expected_conversions, t.low, t.high),
        "",
        style="bold",
    )
    console.print(table)
    s = proposal.result
    expected, now = fmt_count(t.expected_conversions), fmt_count(t.conversions_now)
    gain = f"{expected} conversions vs {now} now"
    gain += f" ({fmt_pct(t.uplift_pct)})"
    if proposal.objective == "value" and math.isfinite(t.value):
        change = (t.value - t.value_now) / t.value_now if t.value_now else None
        gain = (
            f"value {fmt_money(t.value)} vs {fmt_money(t.value_now)} now ({fmt_pct(change)}); "
            + gain
        )
    console.print(
        f"Expected {gain}; solver: {s.method}, {s.iterations} iterations. "
        f"History: {proposal.history}."
    )
    if flags:
        for c in proposal.channels:
            if c.flags:
                console.print(f"  {c.channel} ({c.confidence}): {'; '.join(c.flags)}")


def _from_csv(
    history: Path,
    budget: float | None,
    days: int | None,
    bounds: Path | None,
    objective: str | None,
    step: float | None,
    max_change: float | None,
) -> Proposal:
    """`optimize --history`: the proposal from plain CSVs."""
    if budget is None:
        raise click.UsageError("--history needs --budget AMOUNT (the budget over --days)")
    if days is not None and days < 1:
        raise click.BadParameter(f"{days} is not a number of days >= 1", param_hint="--days")
    return optimize_csv(
        history,
        budget,
        days=days or 1,
        bounds_path=bounds,
        objective=objective,
        step=step,
        max_change=max_change,
    )


@click.command("optimize")
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
    type=click.Choice(["leads", "value", "attributed"]),
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
        proposal = _from_csv(history, budget, days, bounds, objective, step, max_change)
    else:
        if days is not None or bounds is not None:
            raise click.UsageError("--days and --bounds are for --history (CSV) mode")
        assert workbook is not None
        book = XlsxWorkbook(workbook)
        proposal = optimize_split(
            book, objective=objective, budget=budget, step=step, max_change=max_change
        )
        messages = book.messages
    if as_json:
        echo_json(proposal.to_dict())
        return
    for message in messages:
        click.echo(message)
    print_split(proposal, Console())


@click.command("apply-split")
@click.argument("workbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the changed cells as JSON.")
@user_errors
def apply_split_cmd(workbook: Path, as_json: bool) -> None:
    """Copy the Optimize Split proposal into the Plan's `spend p` (undo-split restores it)."""
    book = XlsxWorkbook(workbook)
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


@click.command("undo-split")
@click.argument("workbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Restore even cells changed since apply-split.")
@click.option("--json", "as_json", is_flag=True, help="Print the restored cells as JSON.")
@user_errors
def undo_split_cmd(workbook: Path, force: bool, as_json: bool) -> None:
    """Restore the Plan's `spend p` cells the last apply-split replaced, exactly."""
    book = XlsxWorkbook(workbook)
    records = undo_split(book, force=force)
    if as_json:
        echo_json({"cells": [{"cell": r.ref, "restored": r.old} for r in records]})
        return
    for message in book.messages:
        click.echo(message)
