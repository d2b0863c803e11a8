"""The Sync Facts button (`ACTION`): the sync config found beside the workbook (or named by
the function server for a Google Sheet), checked to sync this very workbook
(`addin.actions.button_config`), then `sync_with_store`."""

from __future__ import annotations

from addin.actions.base import Action, ActionContext
from addin.actions.button_config import button_config
from addin.actions.sync_facts.run import sync_with_store
from addin.actions.texts import day, texts_of
from sheets_sync.workbooks.xlsx import XlsxWorkbook

__all__ = ["ACTION", "button_config", "run_button"]


def run_button(ctx: ActionContext) -> str:
    """The Sync Facts button: sync, refresh, and say what was filled."""
    config = button_config(ctx)
    # a file is checked writable and a killed save's temp files swept; a live workbook is open
    # in Excel by design
    file = ctx.path if isinstance(ctx.workbook, XlsxWorkbook) else None
    result = sync_with_store(ctx.workbook, config, file=file, now=ctx.now)
    t = texts_of(ctx.workbook)
    as_of = (
        t("no facts yet") if result.as_of is None else t("as of {day}", day=day(result.as_of, t))
    )
    flags = result.quality.flags
    quality = t("Data Quality: OK") if not flags else t("Data Quality: {n} flags", n=len(flags))
    return t(
        "Sync Facts: {filled} of {lines} plan lines filled ({as_of}) from {files} files; "
        "{quality}.",
        filled=result.lines_filled,
        lines=result.lines,
        as_of=as_of,
        files=len(result.loads),
        quality=quality,
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
