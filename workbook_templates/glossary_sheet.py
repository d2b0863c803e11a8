"""The Glossary sheet: what the workbook's short words mean, in Russian and English side by side.

For the user: one row per term (the column kinds p, f, rr, %f, %rr, pace; the ratios CR, CPA,
CPL, CPC, ROAS, ROMI; the run-rate window and method; Total; then every stage of the funnel),
its explanation in Russian and in English. Both languages are shown whatever the workbook's
language, so a team can share one vocabulary: the English texts are the catalog's msgids and
the Russian column is their ``ru`` translation (``workbook.po``). The translating post-pass
leaves the table's cells as written (`localize.LABEL_HEADERS` has none of its headers).

Written by the template only (`write_glossary_template`, the last visible sheet); no button
reads or writes it.
"""

from __future__ import annotations

import math

from openpyxl import Workbook
from openpyxl.styles import Alignment

from planning.funnel import Funnel
from sheets_sync.i18n import translator
from workbook_templates.styles import FONT_BOLD, FONT_TITLE, header_row

GLOSSARY = "Glossary"
_TEXT_WIDTH = 60  # characters, the explanation columns
_CHARS_PER_LINE = _TEXT_WIDTH - 6  # what fits in a line of it (proportional font, margins)
_LINE_HEIGHT = 15.0  # points, one line of the default 11-point font
GLOSSARY_HEADER_ROW = 3
GLOSSARY_HEADERS = ("term", "Русский", "English")
TITLE = "Glossary: the workbook's words"
NOTE = "Each term in Russian and in English; the Plan's headers are «<metric> <kind>»."

#: (term, English explanation): the explanation is the msgid of its Russian text.
TERMS: tuple[tuple[str, str], ...] = (
    ("p", "plan: the number planned for the month (you type it)"),
    ("f", "fact: what happened from the 1st up to the as-of date (Sync Facts fills it)"),
    (
        "rr",
        "run-rate: the month-end forecast if the recent daily pace holds (Refresh Run-Rate)",
    ),
    ("%f", "fact as a share of the month's plan"),
    ("%rr", "run-rate as a share of the month's plan: below 100% the plan will be missed"),
    ("pace", "needed per day for the rest of the month to reach the plan"),
    ("CR", "conversion rate: a stage's count divided by the previous stage's count"),
    ("CPA", "cost per action: spend divided by a stage's count (CPA of purchases = cost of one)"),
    ("CPL", "cost per lead: the CPA of leads"),
    ("CPC", "cost per click: spend divided by the first stage (traffic)"),
    ("ROAS", "return on ad spend: revenue divided by spend"),
    ("ROMI", "return on marketing investment: (revenue − spend) / spend"),
    (
        "run-rate window",
        "how many last complete days the run-rate averages (Settings)",
    ),
    (
        "run-rate method",
        "how the run-rate extrapolates: last_n (average of the window), last_n_dow (by day of "
        "week), linear (trend) or auto (weekday factors and change points)",
    ),
    ("as of", "the last complete day of facts; f and rr are as of this day"),
    ("Total", "sums of the lines; ratios on it are recomputed from the sums, never averaged"),
)
#: The default stages' explanations (a stage of another name gets `STAGE_PATTERN`).
STAGES: dict[str, str] = {
    "traffic": "clicks or visits bought from the channel",
    "leads": "requests left by people: forms, calls, chats",
    "calls": "leads the sales team reached by phone",
    "pp": "partner offers (commercial proposals) sent",
    "negotiations": "deals in negotiation",
    "purchases": "paid deals",
}
STAGE_PATTERN = "funnel stage «{title}»; its CR is measured from «{source}»"
FIRST_STAGE_PATTERN = "funnel stage «{title}», the first one (bought)"


def _stage_rows(funnel: Funnel) -> list[tuple[str, str, str]]:
    """(term, Russian, English) of every stage."""
    ru = translator("ru")
    rows = []
    for stage in funnel.stages:
        if stage.name in STAGES:
            msgid, args = STAGES[stage.name], {}
        else:
            source = funnel.source_of(stage.name)
            msgid = FIRST_STAGE_PATTERN if source is None else STAGE_PATTERN
            args = {"title": stage.title, "source": source or ""}
        rows.append((stage.name, ru(msgid, **args), msgid.format(**args)))
    return rows


def write_glossary_template(wb: Workbook, funnel: Funnel) -> None:
    """Add the Glossary sheet (terms, then the funnel's stages) at the end of `wb`."""
    ru = translator("ru")
    ws = wb.create_sheet(GLOSSARY)
    ws["A1"] = TITLE
    ws["A1"].font = FONT_TITLE
    ws["A2"] = NOTE
    header_row(ws, GLOSSARY_HEADER_ROW, GLOSSARY_HEADERS)
    rows = [(term, ru(text), text) for term, text in TERMS] + _stage_rows(funnel)
    wrap = Alignment(wrap_text=True, vertical="top")
    for r, (term, russian, english) in enumerate(rows, start=GLOSSARY_HEADER_ROW + 1):
        ws.cell(row=r, column=1, value=term).font = FONT_BOLD
        ws.cell(row=r, column=1).alignment = wrap
        ws.cell(row=r, column=2, value=russian).alignment = wrap
        ws.cell(row=r, column=3, value=english).alignment = wrap
        # rows sized for their wrapped text (LibreOffice does not grow a row on opening)
        lines = max(math.ceil(len(text) / _CHARS_PER_LINE) for text in (russian, english))
        ws.row_dimensions[r].height = _LINE_HEIGHT * max(1, lines)
    for letter, width in zip("ABC", (18, _TEXT_WIDTH, _TEXT_WIDTH), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = f"A{GLOSSARY_HEADER_ROW + 1}"
    ws.page_setup.orientation = "landscape"  # printed: the three columns on one page's width
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    fit = ws.sheet_properties.pageSetUpPr
    assert fit is not None  # a new worksheet has one
    fit.fitToPage = True
