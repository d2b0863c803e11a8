"""`funnelplan serve` and `funnelplan keys create|list|revoke` (registered in `addin.cli.main`)."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import click

from addin.server.keys import KeyBackend, KeyStoreError
from addin.server.settings import DEFAULT_KEYS_DIR, DEFAULT_SYNC_DIR
from addin.server.shared_state.backends import key_backend
from addin.server.shared_state.postgres import is_postgres_url, redacted
from addin.server.shared_state.protocols import StateUnavailable

_KEYS_DIR = click.option(
    "--keys-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="FUNNELPLAN_KEYS_DIR",
    default=DEFAULT_KEYS_DIR,
    show_default=True,
    help="Folder of the API keys file (keys.json) and the replay cache.",
)
_STATE = click.option(
    "--state",
    "state_url",
    metavar="postgresql://...",
    envvar="FUNNELPLAN_STATE",
    help="Keep the keys, the replay cache, the sheet locks and the Google Sheets budget in "
    "this PostgreSQL database, shared by every server started with it (default: the keys "
    "folder, one host).",
)


def _keys(keys_dir: Path, state_url: str | None) -> KeyBackend:
    """The key backend `keys` and `serve` work on; a database out of reach is a clear error."""
    if state_url and not is_postgres_url(state_url):
        raise click.BadParameter("give a postgresql:// URL", param_hint="--state")
    try:
        return key_backend(keys_dir, state_url)
    except StateUnavailable as down:
        raise click.ClickException(f"cannot reach the shared state: {down.cause}") from None


def _where(keys_dir: Path, state_url: str | None) -> str:
    return redacted(state_url) if state_url else str(keys_dir)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=int, help="Worker processes.")
@_KEYS_DIR
@_STATE
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
    state_url: str | None,
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

    _warn_without_keys(keys_dir, state_url)
    os.environ["FUNNELPLAN_KEYS_DIR"] = str(keys_dir)  # read by the workers' app factory
    if state_url:
        os.environ["FUNNELPLAN_STATE"] = state_url
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


def _warn_without_keys(keys_dir: Path, state_url: str | None) -> None:
    """A warning when no key is active (the shared state is migrated here, before any worker
    starts); a database out of reach stops `serve`."""
    keys = _keys(keys_dir, state_url)
    try:
        active = [k for k in keys.list() if k.active]
    except (KeyStoreError, StateUnavailable) as error:
        raise click.ClickException(str(error)) from error
    if not active:
        where = f"--state {_where(keys_dir, state_url)}" if state_url else f"--keys-dir {keys_dir}"
        click.echo(
            f"warning: no active API keys in {_where(keys_dir, state_url)}; create one with "
            f"`funnelplan keys create NAME {where}`",
            err=True,
        )


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
@_STATE
def keys_create(name: str, sheet: str | None, keys_dir: Path, state_url: str | None) -> None:
    """Create a key; its id and secret are printed once and never stored in clear."""
    try:
        key = _keys(keys_dir, state_url).create(name, spreadsheet=sheet)
    except (KeyStoreError, StateUnavailable) as error:
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
@_STATE
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def keys_list(keys_dir: Path, state_url: str | None, as_json: bool) -> None:
    """List the keys (ids, names, dates; never secrets)."""
    try:
        keys = _keys(keys_dir, state_url).list()
    except (KeyStoreError, StateUnavailable) as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        click.echo(json.dumps([k.public() for k in keys], indent=2))
        return
    if not keys:
        click.echo(f"no keys in {_where(keys_dir, state_url)}")
    for k in keys:
        state = f"revoked {k.revoked}" if k.revoked else "active"
        where = f"  sheet {k.spreadsheet}" if k.spreadsheet else ""
        click.echo(f"{k.id}  {k.name}{where}  created {k.created}  {state}")


@keys_group.command("revoke")
@click.argument("key_id")
@_KEYS_DIR
@_STATE
def keys_revoke(key_id: str, keys_dir: Path, state_url: str | None) -> None:
    """Revoke a key: requests signed with it are refused from then on (every worker; with
    --state, every host)."""
    try:
        key = _keys(keys_dir, state_url).revoke(key_id)
    except (KeyStoreError, StateUnavailable) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"revoked {key.id} ({key.name}) at {key.revoked}")
