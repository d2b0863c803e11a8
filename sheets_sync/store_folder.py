"""The fact store's folder, checked before a store is opened.

Decision: a folder inside the config's own folder (``store = "facts.duckdb"``, the demo's, or
``store = "store/facts.duckdb"``) is funnelplan's, and is created when missing; any other folder
(an absolute path, one outside the config's folder) must exist already. A mistyped path or an
unmounted network drive would otherwise get a new, empty store that silently forgets every
earlier load; the message names the config's `store` line and the missing folder."""

from __future__ import annotations

from pathlib import Path

from planning.errors import InputError
from sheets_sync.sync_config import SyncConfig


def _inside(folder: Path, base: Path) -> bool:
    return folder.resolve().is_relative_to(base.resolve())


def store_folder(config: SyncConfig) -> Path:
    """The folder of `config.store`, created if it is the config's own (see the module); an
    `InputError` naming the `store` line when it is missing elsewhere or is not a folder. A
    PostgreSQL store (`SyncConfig.store_url`) has no folder: the config's own is returned."""
    if config.store_url is not None:
        return config.base
    folder = config.store.parent
    where = f"{config.origin}: `store = {str(config.store)!r}`"
    if folder.is_dir():
        return folder
    if folder.exists():
        raise InputError(f"{where}: {folder} is not a folder")
    if not _inside(folder, config.base):
        raise InputError(
            f"{where}: the folder {folder} does not exist (create it, or point `store` at an "
            "existing folder; only folders inside the config's own folder are created)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    return folder
