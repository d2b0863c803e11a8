"""The workbook a sync config names, opened with the adapter it needs: a Google Sheet
(``workbook = "gsheet:ID"``, with the config's service-account key) or an .xlsx file."""

from __future__ import annotations

from collections.abc import Callable

from sheets_sync.sync_config import SyncConfig
from sheets_sync.workbooks.google_sheets import GoogleSheetsWorkbook
from sheets_sync.workbooks.interface import WorkbookTarget
from sheets_sync.workbooks.xlsx import XlsxWorkbook


def open_config_workbook(
    config: SyncConfig, notify: Callable[[str], None] | None = None
) -> WorkbookTarget:
    """`config`'s workbook through its adapter (`notify`: where its messages go)."""
    if config.spreadsheet:
        return GoogleSheetsWorkbook(
            config.spreadsheet, credentials_file=config.credentials, notify=notify
        )
    return XlsxWorkbook(config.workbook, notify=notify)
