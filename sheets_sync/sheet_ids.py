"""Google Sheets ids: the spreadsheet id in a URL or a ``gsheet:ID`` reference."""

from __future__ import annotations

import re

_SHEET_URL = re.compile(r"docs\.google\.com/spreadsheets/(?:u/\d+/)?d/([A-Za-z0-9_-]{10,})")
_SHEET_ID = re.compile(r"[A-Za-z0-9_-]{10,}")


def spreadsheet_id_of(text: str) -> str | None:
    """The spreadsheet id in a Google Sheets URL or ``gsheet:ID``; None for anything else
    (a file path)."""
    text = text.strip()
    if m := _SHEET_URL.search(text):
        return m[1]
    if text.lower().startswith("gsheet:") and _SHEET_ID.fullmatch(text[7:].strip()):
        return text[7:].strip()
    return None
