"""The Excel desktop surface: xlwings formulas and the "Funnel Plan" ribbon.

- `addin.excel.udfs`: writes the xlwings UDF module generated from `addin.registry.FUNCTIONS`.
- `addin.excel.dispatcher`: what the ribbon's buttons call (``RunPython``): the active workbook
  through `sheets_sync.workbooks.live_excel.XlwingsWorkbook`, then `addin.registry.dispatch`.
- `addin.excel.commands`: ``funnelplan addin build`` / ``funnelplan addin install``.

The ``.xlam`` itself (ribbon XML, VBA callback, ``vbaProject.bin``) is built by
``build/excel/build_xlam.py`` from sources committed as text.

Only the open-source (BSD) parts of xlwings are used: ``RunPython``, ``@xw.func`` UDFs and the
COM object model on Windows desktop Excel. Mac and Excel on the web get the formulas through the
function server instead.
"""
