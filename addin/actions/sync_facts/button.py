"""The Sync Facts button (`ACTION`): the sync config found beside the workbook (or named by
the function server for a Google Sheet), checked to sync this very workbook, then
`sync_with_store`."""

from __future__ import annotations

from pathlib import Path

from addin.actions.base import Action, ActionContext, ActionError
from addin.actions.sync_facts.run import sync_with_store
from sheets_sync.sync_config import SyncConfig, load_config
from sheets_sync.workbooks.interface import WorkbookTarget
from sheets_sync.workbooks.xlsx import XlsxWorkbook
from workbook_templates import layout as L


def _config_beside(wb: WorkbookTarget, book: Path) -> Path:
    """The sync config of a workbook file: the Settings row ``sync config`` (relative to the
    workbook's folder), else ``sync.toml`` beside the workbook."""
    configured = None
    if L.SETTINGS in wb.sheet_names():
        table = wb.read_table(L.SETTINGS, header_row=L.SETTINGS_HEADER_ROW)
        if table.has("setting") and table.has("value"):
            for key, value in zip(table.values("setting"), table.values("value"), strict=True):
                if str(key).strip().lower() == "sync config" and value not in (None, ""):
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
    config = load_config(ctx.sync_config or _config_beside(ctx.workbook, book))
    if config.spreadsheet or config.workbook.resolve() != book.resolve():
        raise ActionError(
            f"{config.origin} syncs {config.target}, not this workbook ({book.name}): "
            "fix its `workbook` line."
        )
    return config


def run_button(ctx: ActionContext) -> str:
    """The Sync Facts button: sync, refresh, and say what was filled."""
    config = button_config(ctx)
    # a file is checked writable and a killed save's temp files swept; a live workbook is open
    # in Excel by design
    file = ctx.path if isinstance(ctx.workbook, XlsxWorkbook) else None
    result = sync_with_store(ctx.workbook, config, file=file, now=ctx.now)
    as_of = "no facts yet" if result.as_of is None else f"as of {result.as_of:%Y-%m-%d}"
    flags = result.quality.flags
    quality = "Data Quality: OK" if not flags else f"Data Quality: {len(flags)} flags"
    return (
        f"Sync Facts: {result.lines_filled} of {result.lines} plan lines filled ({as_of}) from "
        f"{len(result.loads)} files; {quality}."
    )


ACTION = Action(
    "sync_facts",
    "Sync Facts",
    "Load the exports named in sync.toml and fill the Plan's facts, then refresh.",
    run_button,
    group="Facts",
    icon="RefreshAll",
    tip=(
        "Load the exports named in sync.toml, map them onto the plan lines and fill the fact "
        "columns, then refresh the run-rate."
    ),
)
