"""The workbook build's finishing passes, after every sheet's template is written.

`dress_workbook` (before the Russian post-pass, which translates the English headers it finds
columns by): number formats on the columns buttons fill (`column_formats`), red/amber/green
on the share-of-plan and ratio columns (`conditional`), data validation on input cells
(`input_cells`), locked formulas and protected sheets (`protection`). `fit_widths` (`widths`)
comes last, after the translation, so widths fit the texts the user will read.
"""

from __future__ import annotations

from collections.abc import Sequence

from openpyxl import Workbook

from workbook_templates.column_formats import format_filled_columns
from workbook_templates.conditional import colour_plan_sheets
from workbook_templates.input_cells import check_inputs
from workbook_templates.protection import protect_workbook
from workbook_templates.widths import fit_widths

__all__ = ["dress_workbook", "fit_widths"]


def dress_workbook(wb: Workbook, metrics: Sequence[str], lang: str = "en") -> None:
    """Formats (in `lang`'s form), colours, checks and protection on `wb` (`metrics`: the
    funnel's, for the chart-metric drop-down)."""
    format_filled_columns(wb, lang)
    colour_plan_sheets(wb)
    check_inputs(wb, list(metrics))
    protect_workbook(wb)
