"""`funnelplan clients --url URL --out DIR` (registered in `addin.cli.main`)."""

from __future__ import annotations

from pathlib import Path

import click

from addin.clients import write_clients


@click.command("clients")
@click.option("--url", required=True, help="The function server's HTTPS address.")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write apps-script/ and office-js/ into.",
)
@click.option(
    "--addin-url",
    default=None,
    help="Where the Office add-in's files are served (default: URL/addin).",
)
def clients_cmd(url: str, out_dir: Path, addin_url: str | None) -> None:
    """Generate the Google Sheets (Apps Script) and Excel on the web (Office.js) clients from
    the function registry."""
    try:
        written = write_clients(url, out_dir, addin_url)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--url") from None
    click.echo(f"wrote {len(written)} files under {out_dir}")
    click.echo(f"  Google Sheets: {out_dir / 'apps-script' / 'SETUP.md'}")
    click.echo(f"  Excel on the web: {out_dir / 'office-js' / 'SETUP.md'}")
