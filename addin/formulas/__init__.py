"""The spreadsheet formulas' Python side, by topic; `addin.functions` lists them.

Each function takes its arguments already coerced by `SheetFunction.call` (see
`addin.sheet_function`: ``numbers``/``dates`` arrive as `Cells`, a list of floats/dates, ``None``
for a blank and error values) and returns a value, a column (a list) or a table (a list of rows);
bad rows get error values, whole-call problems raise `CellError`. Units are the planning core's:
spend in the account currency, counts in units of their stage, CRs as fractions (0.05 is 5 %),
the response curves and OPTIMIZE_SPLIT per day.
"""
