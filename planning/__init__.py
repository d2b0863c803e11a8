"""Pure numbers for plan/fact work: funnel maths, run-rate forecasts.

Nothing here touches files, the network or a spreadsheet library; a test enforces it.
"""
