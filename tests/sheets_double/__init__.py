"""A local Google Sheets API v4 test double over real HTTP (see `server`)."""

from sheets_double.server import Fault, SheetsDouble, double_session, gspread_client

__all__ = ["Fault", "SheetsDouble", "double_session", "gspread_client"]
