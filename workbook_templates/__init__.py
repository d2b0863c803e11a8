"""The planning workbook, generated reproducibly by code (never a hand-edited binary).

One module per sheet (``plan_sheet``, ``settings_sheet``, ``optimize_split_sheet`` …: its
template, and how the buttons read and write it); ``plan_workbook`` builds a new workbook from
them; ``layout`` names the sheets, headers and rows; ``styles`` the look; ``cells`` cell values.
"""
