"""The client report (issue 15): `funnelplan report WORKBOOK --out report.pdf|.html`.

`content` gathers the month's numbers from the workbook (the Executive KPIs, plan vs fact by
channel, the total waterfall, performers, recommendations) as dataclasses; `charts` draws the
charts with matplotlib; `render` fills the Jinja2 page template (`template`) and prints it to PDF
with WeasyPrint. A surface-level package: it reads the workbook through `sheets_sync.workbooks`
and the Review Month action's computation (in memory, the workbook is not saved).
"""
