"""The endpoints, one router per group: `health`, `functions` (the spreadsheet functions),
`actions` (a button on an uploaded .xlsx) and `sheet_actions` (a button on a Google Sheet)."""
