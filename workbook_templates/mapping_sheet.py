"""The Mapping sheet: the rules that take source rows to plan lines.

For the user: one rule per row under the header (`layout.MAPPING_HEADERS`, row
`layout.MAPPING_HEADER_ROW`), first match wins (`sheets_sync.mapping` says what each column
means). Marketers edit it.

Written by the template (`write_mapping_template`: the starting rules, the sync config's
``[[mapping]]``, drop-down lists for `field` and `match`, a help note) and, at run time, by
Sync Facts only to seed a missing or rule-less sheet with the config's rules (`write_rules`).
Read by Sync Facts and New Month through `read_rules`.

The "CRM stages" block (columns `STAGES_COL` on, header `STAGE_HEADERS` in the rules' header
row): a CRM export's stage name, what it counts as (lead, pp, negotiations, won, lost) and the
data source it is for (blank: every CRM source). amoCRM's and Bitrix24's default pipelines are
known without it (`sheets_sync.sources.crm_stages`); its rows add names or override the built-in
and sync.toml ones. Read by Sync Facts through `read_stage_rules`; a workbook without the block
has no sheet stage rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from sheets_sync.mapping import Rule, rule_row, rules_from_records
from sheets_sync.sources.crm_stages import OUTCOMES, StageRule, stage_rules_from_records
from sheets_sync.workbooks.interface import WorkbookError, WorkbookTarget
from sheets_sync.workbooks.roles import canonical_label
from workbook_templates import layout as L
from workbook_templates.styles import FILL_INPUT, FONT_NOTE, header_row

MAPPING_NOTE = (
    "One rule per row, first match wins. data source: a source name from the sync config, or "
    "blank for any. field: utm_source, utm_medium or utm_campaign (ad exports put the campaign "
    "name there). match: exact, contains or regex (case and surrounding spaces ignored). "
    "channel / campaign: the Plan line; campaign blank = the row's own utm_campaign. Rows no "
    "rule maps are listed on the Unmapped sheet with their spend. CRM stages (right): a stage "
    "name of your CRM export and what it counts as (lead, pp, negotiations, won, lost); "
    "amoCRM's and Bitrix24's default stages are known without a row. A lost deal counts as a "
    "lead plus the stages its dates show."
)
STAGE_HEADERS: tuple[str, ...] = ("crm stage", "counts as", "data source")
"""The CRM stages block's header (its keys for `stage_rules_from_records`: stage, counts as,
data source)."""
STAGES_COL = len(L.MAPPING_HEADERS) + 4
"""The block's first column (J: the rules, a gap, the note, a gap)."""
_STAGE_KEYS = ("stage", "counts as", "data source")
MAPPING_ROWS = 200  # rows below the header with the drop-down lists and the input fill
READ_CHUNK = 50
"""Rows `read_rules` reads at a time, down to the first all-blank chunk."""


def write_mapping_template(
    wb: Workbook, rules: Sequence[Mapping[str, Any]] = (), stages: Sequence[StageRule] = ()
) -> None:
    """Add the Mapping sheet with `rules` (dicts keyed by `layout.MAPPING_HEADERS`, as
    `sheets_sync.sync_config` and New Month's `mapping_records` give them) and the CRM stages
    block with `stages` (New Month carries the month's rows over)."""
    ws = wb.create_sheet(L.MAPPING)
    header_row(ws, L.MAPPING_HEADER_ROW, L.MAPPING_HEADERS)
    for r, rule in enumerate(rules, start=L.MAPPING_HEADER_ROW + 1):
        for c, value in enumerate(rule_row(rule), start=1):
            ws.cell(row=r, column=c, value=value)
    last = L.MAPPING_HEADER_ROW + max(MAPPING_ROWS, len(rules))
    for col in range(1, len(L.MAPPING_HEADERS) + 1):
        for r in range(L.MAPPING_HEADER_ROW + 1, last + 1):
            ws.cell(row=r, column=col).fill = FILL_INPUT
    for header, options in (("field", L.MAPPING_FIELDS), ("match", L.MAPPING_MATCHES)):
        letter = get_column_letter(L.MAPPING_HEADERS.index(header) + 1)
        dv = DataValidation(
            type="list",
            formula1='"' + ",".join(options) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=f"Mapping {header}",
            error=f"{header} must be one of {', '.join(options)}",
        )
        dv.add(f"{letter}{L.MAPPING_HEADER_ROW + 1}:{letter}{last}")
        ws.add_data_validation(dv)
    note_col = len(L.MAPPING_HEADERS) + 2
    note = ws.cell(row=1, column=note_col, value=MAPPING_NOTE)
    note.font = FONT_NOTE
    note.alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions[get_column_letter(note_col)].width = 60
    for letter, width in zip("ABCDEF", (16, 14, 10, 30, 18, 28), strict=True):
        ws.column_dimensions[letter].width = width
    _stage_block_template(ws, last)
    for r, row in enumerate(stages, start=L.MAPPING_HEADER_ROW + 1):
        for c, value in enumerate((row.stage, row.outcome, row.source), start=STAGES_COL):
            ws.cell(row=r, column=c, value=value or None)
    ws.freeze_panes = "A2"


def _stage_block_template(ws: Worksheet, last: int) -> None:
    """The CRM stages block: its header, input fill and the `counts as` drop-down."""
    header_row(ws, L.MAPPING_HEADER_ROW, STAGE_HEADERS, first_col=STAGES_COL)
    for col in range(STAGES_COL, STAGES_COL + len(STAGE_HEADERS)):
        ws.column_dimensions[get_column_letter(col)].width = (28, 14, 16)[col - STAGES_COL]
        for r in range(L.MAPPING_HEADER_ROW + 1, last + 1):
            ws.cell(row=r, column=col).fill = FILL_INPUT
    letter = get_column_letter(STAGES_COL + 1)
    dv = DataValidation(
        type="list",
        formula1='"' + ",".join(OUTCOMES) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="CRM stage counts as",
        error=f"counts as must be one of {', '.join(OUTCOMES)}",
    )
    dv.add(f"{letter}{L.MAPPING_HEADER_ROW + 1}:{letter}{last}")
    ws.add_data_validation(dv)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _code(value: Any) -> Any:
    """A code cell read back in English when it shows a catalog translation."""
    return canonical_label(value) if isinstance(value, str) else value


def read_rules(wb: WorkbookTarget) -> list[Rule]:
    """The Mapping sheet's rules, in order.

    The header row must read `layout.MAPPING_HEADERS`; rules are read down to the last
    non-blank row (blank rows in between are skipped)."""
    width = len(L.MAPPING_HEADERS)
    # values, not formulas: a rule cell holding a formula means its result (and a Google
    # Sheet then needs no second read)
    header = wb.read_cells(L.MAPPING, L.MAPPING_HEADER_ROW, 1, 1, width, formulas=False)[0]
    found = [canonical_label(str(h)).lower() if not _blank(h) else "" for h in header]
    if found != list(L.MAPPING_HEADERS):
        raise WorkbookError(
            f"sheet `{L.MAPPING}` row {L.MAPPING_HEADER_ROW} must read "
            f"{' | '.join(L.MAPPING_HEADERS)}; found {' | '.join(h or '(blank)' for h in found)}"
        )
    rows: list[list[Any]] = []
    row = L.MAPPING_HEADER_ROW + 1
    while True:
        chunk = wb.read_cells(L.MAPPING, row, 1, READ_CHUNK, width, formulas=False)
        if all(_blank(v) for line in chunk for v in line):
            break
        rows.extend(chunk)
        row += READ_CHUNK
    while rows and all(_blank(v) for v in rows[-1]):
        rows.pop()
    records = [dict(zip(L.MAPPING_HEADERS, line, strict=True)) for line in rows]
    return rules_from_records(records, first_row=L.MAPPING_HEADER_ROW + 1)


def write_rules(wb: WorkbookTarget, records: Sequence[Mapping[str, Any]]) -> None:
    """Write the header and `records` (keyed by `layout.MAPPING_HEADERS`) from the header row
    of the existing Mapping sheet."""
    block: list[list[Any]] = [list(L.MAPPING_HEADERS)]
    block += [rule_row(record) for record in records]
    wb.write_block(L.MAPPING, L.MAPPING_HEADER_ROW, 1, block)


def read_stage_rules(wb: WorkbookTarget) -> tuple[StageRule, ...]:
    """The CRM stages block's rows, in order (none when the workbook has no Mapping sheet or
    no block: a workbook made before it). A row naming a stage with an unknown `counts as` is
    an `InputError` naming its cell."""
    if L.MAPPING not in wb.sheet_names():
        return ()
    width = len(STAGE_HEADERS)
    header = wb.read_cells(L.MAPPING, L.MAPPING_HEADER_ROW, STAGES_COL, 1, width, formulas=False)
    found = tuple(canonical_label(str(h)).lower() if not _blank(h) else "" for h in header[0])
    if found != STAGE_HEADERS:
        return ()
    rows: list[list[Any]] = []
    row = L.MAPPING_HEADER_ROW + 1
    while True:
        chunk = wb.read_cells(L.MAPPING, row, STAGES_COL, READ_CHUNK, width, formulas=False)
        if all(_blank(v) for line in chunk for v in line):
            break
        rows.extend(chunk)
        row += READ_CHUNK
    # the stage is the CRM's own name (data); what it counts as is a code a Russian
    # workbook may show translated ("ПП"), read back as its id
    records = [
        dict(zip(_STAGE_KEYS, [line[0], _code(line[1]), *line[2:]], strict=True)) for line in rows
    ]
    column = get_column_letter(STAGES_COL + 1)
    rules = stage_rules_from_records(
        records, L.MAPPING_HEADER_ROW + 1, sheet=L.MAPPING, column=column
    )
    return tuple(rules)
