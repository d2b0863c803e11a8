"""`funnelplan serve` and `funnelplan keys create|list|revoke` (registered in `addin.cli.main`)."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import click

from addin.server.keys import KeyStore, KeyStoreError
from addin.server.settings import DEFAULT_KEYS_DIR, DEFAULT_SYNC_DIR

_KEYS_DIR = click.option(
    "--keys-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="FUNNELPLAN_KEYS_DIR",
    default=DEFAULT_KEYS_DIR,
    show_default=True,
    help="Folder of the API keys file (keys.json) and the replay cache.",
)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=int, help="Worker processes.")
@_KEYS_DIR
@click.option(
    "--google-credentials",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    envvar="FUNNELPLAN_GOOGLE_CREDENTIALS",
    help="The service account's JSON key for buttons on Google Sheets "
    "(default: GOOGLE_APPLICATION_CREDENTIALS).",
)
@click.option(
    "--sync-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="FUNNELPLAN_SYNC_DIR",
    default=DEFAULT_SYNC_DIR,
    show_default=True,
    help='Folder of the Google Sheets\' sync configs (workbook = "gsheet:ID").',
)
@click.option(
    "--schedule",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A schedule.toml: the morning sync and digest at set times (README, Alerts).",
)
def serve_cmd(
    host: str,
    port: int,
    workers: int,
    keys_dir: Path,
    google_credentials: Path | None,
    sync_dir: Path,
    schedule: Path | None,
) -> None:
    """Run the function server (put HTTPS in front of it: a reverse proxy or a container
    service). Every call needs a key from `funnelplan keys create`."""
    import uvicorn  # the `server` extra: `funnelplan` runs without it until `serve`

    if google_credentials is not None:
        os.environ["FUNNELPLAN_GOOGLE_CREDENTIALS"] = str(google_credentials.resolve())
        try:
            email = json.loads(google_credentials.read_text(encoding="utf-8")).get("client_email")
        except (OSError, ValueError):
            email = None
        if email:
            click.echo(f"Google Sheets: share each sheet with {email} as an editor.", err=True)
    os.environ["FUNNELPLAN_SYNC_DIR"] = str(sync_dir.resolve())

    active = [k for k in KeyStore(keys_dir).list() if k.active]
    if not active:
        click.echo(
            f"warning: no active API keys in {keys_dir}; create one with "
            f"`funnelplan keys create NAME --keys-dir {keys_dir}`",
            err=True,
        )
    os.environ["FUNNELPLAN_KEYS_DIR"] = str(keys_dir)  # read by the workers' app factory
    scheduler = None
    if schedule is not None:  # in this (main) process only, whatever the workers
        from addin.digest.schedule import build_scheduler, load_schedule

        scheduler = build_scheduler(load_schedule(schedule))
        scheduler.start()
        for job in scheduler.get_jobs():
            click.echo(f"Scheduled: {job.name}, next {job.next_run_time:%Y-%m-%d %H:%M}", err=True)
    try:
        uvicorn.run(
            "addin.server.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            log_config=log_config(),
            server_header=False,
        )
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)


def log_config() -> dict[str, Any]:
    """uvicorn's logging, with the ``funnelplan`` loggers (every refused request, one line:
    `addin.server.errors.log_refusal`) on its handler at INFO."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["funnelplan"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


@click.group("keys")
def keys_group() -> None:
    """Create, list and revoke the server's API keys (one per workbook)."""


@keys_group.command("create")
@click.argument("name")
@click.option(
    "--sheet",
    metavar="ID_OR_URL",
    help="The Google Sheet whose buttons this key may run (its id or URL).",
)
@_KEYS_DIR
def keys_create(name: str, sheet: str | None, keys_dir: Path) -> None:
    """Create a key; its id and secret are printed once and never stored in clear."""
    try:
        key = KeyStore(keys_dir).create(name, spreadsheet=sheet)
    except KeyStoreError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"key id:  {key.id}")
    click.echo(f"secret:  {key.secret}")
    click.echo(
        "Store the secret in the client now (Script Properties / the add-in's settings): "
        "it is not shown again.",
        err=True,
    )


@keys_group.command("list")
@_KEYS_DIR
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def keys_list(keys_dir: Path, as_json: bool) -> None:
    """List the keys (ids, names, dates; never secrets)."""
    try:
        keys = KeyStore(keys_dir).list()
    except KeyStoreError as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        click.echo(json.dumps([k.public() for k in keys], indent=2))
        return
    if not keys:
        click.echo(f"no keys in {keys_dir}")
    for k in keys:
        state = f"revoked {k.revoked}" if k.revoked else "active"
        where = f"  sheet {k.spreadsheet}" if k.spreadsheet else ""
        click.echo(f"{k.id}  {k.name}{where}  created {k.created}  {state}")


@keys_group.command("revoke")
@click.argument("key_id")
@_KEYS_DIR
def keys_revoke(key_id: str, keys_dir: Path) -> None:
    """Revoke a key: requests signed with it are refused from then on (every worker)."""
    try:
        key = KeyStore(keys_dir).revoke(key_id)
    except KeyStoreError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"revoked {key.id} ({key.name}) at {key.revoked}")
