"""The `funnelplan` command line: the same actions as the spreadsheet buttons.

The commands live by topic in `plan_commands`, `split_commands` and `sync_commands`; the
Excel add-in's and the function server's come from `addin.excel` and `addin.server`."""

from __future__ import annotations

import sys

import click

from addin.cli import (
    alert_commands,
    attribution_commands,
    plan_commands,
    report_commands,
    review_commands,
    scenario_commands,
    split_commands,
    sync_commands,
)
from addin.cli.common import echo_json, version_text
from addin.clients.commands import clients_cmd
from addin.excel.commands import addin_group, run_action_cmd
from addin.registry import FUNCTIONS
from addin.server.commands import keys_group, serve_cmd


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version_text(), "--version", prog_name="funnelplan")
def main() -> None:
    """funnelplan: plan/fact, run-rate and budget splits for acquisition teams."""


@click.command("functions")
@click.option("--json", "as_json", is_flag=True, help="Print the functions as JSON.")
def functions_cmd(as_json: bool) -> None:
    """List every spreadsheet function with its arguments and help (what Excel's function
    wizard shows for it)."""
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


for command in (
    plan_commands.demo,
    plan_commands.template,
    plan_commands.refresh_cmd,
    plan_commands.new_month_cmd,
    plan_commands.runrate_cmd,
    split_commands.optimize_cmd,
    split_commands.apply_split_cmd,
    split_commands.undo_split_cmd,
    scenario_commands.scenarios_cmd,
    sync_commands.sync_cmd,
    sync_commands.inspect_cmd,
    alert_commands.alerts_cmd,
    alert_commands.digest_cmd,
    alert_commands.morning_cmd,
    attribution_commands.attribution_cmd,
    review_commands.review_cmd,
    report_commands.report_cmd,
    functions_cmd,
    addin_group,  # the Excel ribbon add-in and the UDF module: `addin build|install`
    run_action_cmd,  # a ribbon button, started by xlwings' RunFrozenPython
    serve_cmd,  # the function server
    keys_group,  # its keys: `keys create|list|revoke`
    clients_cmd,  # the Apps Script and Office.js clients generated for it
):
    main.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
