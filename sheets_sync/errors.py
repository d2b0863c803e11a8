"""The exception `sheets_sync`'s packages share.

`WorkbookError` is defined here, below both the workbook adapters (`sheets_sync.workbooks`)
and the Google session (`sheets_sync.google_http`), so that the session's errors are workbook
errors without the two packages importing each other; `sheets_sync.workbooks.interface`
imports it from here, where actions have always found it.
"""

from __future__ import annotations

__all__ = ["WorkbookError"]


class WorkbookError(Exception):
    """A workbook is not shaped as an action expects (missing sheet, column, bad cell)."""
