"""The spreadsheet surface: workbook actions and the `funnelplan` command line."""
