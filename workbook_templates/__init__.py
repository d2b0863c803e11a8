"""The planning workbook, generated reproducibly by code (never a hand-edited binary)."""
