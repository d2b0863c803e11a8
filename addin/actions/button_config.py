"""The sync config a button works with: the one the surface names (the function server finds a
Google Sheet's in its sync folder), else the one beside the workbook file (the Settings row
``sync config``, else ``sync.toml``), checked to sync this very workbook. Sync Facts,
Attribution, Alerts and Refresh Cohorts need it (`button_config`); Refresh Run-Rate uses it when
there is one (`known_config`)."""

from __future__ import annotations

from pathlib import Path

from addin.actions.base import ActionContext, ActionError
from sheets_sync.sync_config import SyncConfig, load_config
from sheets_sync.workbooks.interface import WorkbookTarget
from sheets_sync.workbooks.roles import canonical_label
from workbook_templates import layout as L

__all__ = ["button_config", "known_config"]


def config_beside(wb: WorkbookTarget, book: Path) -> Path:
    """The sync config of a workbook file: the Settings row ``sync config`` (relative to the
    workbook's folder), else ``sync.toml`` beside the workbook."""
    configured = None
    if L.SETTINGS in wb.sheet_names():
        table = wb.read_table(L.SETTINGS, header_row=L.SETTINGS_HEADER_ROW)
        if table.has("setting") and table.has("value"):
            for key, value in zip(table.values("setting"), table.values("value"), strict=True):
                if canonical_label(str(key)).lower() == "sync config" and value not in (None, ""):
                    configured = Path(str(value).strip())
    path = book.parent / (configured or "sync.toml")
    if not path.is_file():
        where = f"the Settings row `sync config` names {configured}" if configured else ""
        raise ActionError(
            f"Sync Facts needs its config {path.name} in {path.parent}"
            + (f" ({where})" if where else "")
            + ": copy your sync.toml next to the workbook (or name it in Settings, `sync config`)."
        )
    return path


def button_config(ctx: ActionContext) -> SyncConfig:
    """The config the button syncs with, checked to sync this very workbook."""
    if ctx.spreadsheet_id:  # a Google Sheet: the function server names the config it found
        if ctx.sync_config is None:
            raise ActionError(
                "Sync Facts on a Google Sheet runs on the function server (Funnel Plan menu), "
                "which reads the sheet's sync config from its sync folder; from a command line "
                "run: funnelplan sync CONFIG."
            )
        config = load_config(ctx.sync_config)
        if config.spreadsheet != ctx.spreadsheet_id:
            raise ActionError(
                f"{config.origin} syncs {config.target}, not this Google Sheet "
                f"({ctx.spreadsheet_id}): fix its `workbook` line."
            )
        return config
    book = ctx.file("Sync Facts reads sync.toml from the workbook's folder")
    config = load_config(ctx.sync_config or config_beside(ctx.workbook, book))
    if config.spreadsheet or config.workbook.resolve() != book.resolve():
        raise ActionError(
            f"{config.origin} syncs {config.target}, not this workbook ({book.name}): "
            "fix its `workbook` line."
        )
    return config


def known_config(ctx: ActionContext) -> SyncConfig | None:
    """`button_config`, or None when the workbook has none that syncs it (no error: a
    workbook without a sync setup is fine for the buttons that only use one when present)."""
    try:
        return button_config(ctx)
    except (ActionError, OSError, ValueError):
        return None
