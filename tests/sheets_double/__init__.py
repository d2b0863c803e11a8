"""A local Google Sheets API v4 test double over real HTTP (see `server`)."""

from sheets_double.server import (
    Fault,
    SheetsDouble,
    Snapshot,
    changed_cells,
    double_session,
    gspread_client,
)

__all__ = [
    "Fault",
    "SheetsDouble",
    "Snapshot",
    "changed_cells",
    "double_session",
    "gspread_client",
]
