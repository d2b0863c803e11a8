"""The Alerts sheet: the team's alert rules, and the incidents they raised.

For the user: one rule per row under the header in row `RULES_HEADER_ROW`, columns A–L (rule,
metric, over, window, level, condition, threshold, days, severity, owner, send to, on; what
each means is in `planning.alert_rules` and in the note above the table), with drop-down lists
and number checks on the inputs. Marketers edit the rules; a new workbook gets
`planning.alert_rules.default_rules()`. To the right, from column `INCIDENTS_COL`, the open and
recent incidents (status, rule, where, value, threshold, since, opened, closed, message).

Written by the template (`write_alerts_template`) and by the Alerts button
(`write_incidents`; `write_rules` only to add the sheet to an older workbook that has none).
Read by the Alerts button and the digest through `read_rules`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from planning.alert_rules import (
    BASES,
    CONDITIONS,
    LEVELS,
    MAX_DAYS,
    SEVERITIES,
    Rule,
    default_rules,
    metric_names,
)
from planning.errors import InputError
from planning.funnel import DEFAULT_FUNNEL, Funnel
from sheets_sync.cells import is_blank
from sheets_sync.i18n import translator
from sheets_sync.workbooks.interface import WorkbookError, WorkbookTarget, column_letter
from sheets_sync.workbooks.roles import canonical_label, language_of
from workbook_templates import input_checks as checks
from workbook_templates.fact_blocks import padded
from workbook_templates.styles import (
    FILL_INPUT,
    FMT_DATE,
    FONT_NOTE,
    FONT_TITLE,
    header_row,
)

ALERTS = "Alerts"
RULES_HEADER_ROW = 4
RULE_HEADERS = (
    "rule",
    "metric",
    "over",
    "window",
    "level",
    "condition",
    "threshold",
    "days",
    "severity",
    "owner",
    "send to",
    "on",
)
INCIDENTS_COL = len(RULE_HEADERS) + 2  # N: one blank column between the two tables
INCIDENT_HEADERS = (
    "status",
    "rule",
    "where",
    "metric",
    "value",
    "threshold",
    "since",
    "opened",
    "closed",
    "severity",
    "owner",
    "message",
)
RULE_ROWS = 100  # rows with drop-downs and the input fill
LISTS_COL = 40  # AN: the metric list the drop-down reads (hidden)
NOTE = (
    "One rule per row. metric: a Plan metric (spend, leads, …), a ratio (cpa leads, cr calls, "
    "roas) or a data check (freshness, crm mismatch, sync). over: day = the last `window` days "
    "of the Daily sheet; month = month to date; run-rate = the month-end forecast; pace = needed "
    "per day ÷ the last `window` days' average; anomaly = the day (and the last `window` days' "
    "total) vs its usual band. condition "
    "`> plan ×` 1.2 = above the plan's value by 20%+. days: consecutive days it must hold. "
    "send to: destination names from the digest config, blank = all. on: no = switched off."
)


def _rule_row(rule: Rule) -> list[Any]:
    return [
        rule.name,
        rule.metric.replace("_", " "),
        rule.over,
        rule.window,
        rule.level,
        rule.condition,
        rule.threshold,
        rule.days,
        rule.severity,
        rule.owner or None,
        ", ".join(rule.send_to) or None,
        "yes" if rule.enabled else "no",
    ]


def write_alerts_template(
    wb: Workbook, rules: Sequence[Rule] | None = None, funnel: Funnel = DEFAULT_FUNNEL
) -> None:
    """Add the Alerts sheet with `rules` (the defaults when None), drop-downs and checks."""
    ws = wb.create_sheet(ALERTS)
    ws["A1"] = "Alerts"
    ws["A1"].font = FONT_TITLE
    ws["A2"] = NOTE
    ws["A2"].font = FONT_NOTE
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(RULE_HEADERS))
    ws.row_dimensions[2].height = 64
    header_row(ws, RULES_HEADER_ROW, RULE_HEADERS)
    header_row(ws, RULES_HEADER_ROW, INCIDENT_HEADERS, first_col=INCIDENTS_COL)
    for r, rule in enumerate(rules if rules is not None else default_rules(), RULES_HEADER_ROW + 1):
        for c, value in enumerate(_rule_row(rule), start=1):
            ws.cell(row=r, column=c, value=value)
    last = RULES_HEADER_ROW + RULE_ROWS
    for col in range(1, len(RULE_HEADERS) + 1):
        for r in range(RULES_HEADER_ROW + 1, last + 1):
            ws.cell(row=r, column=col).fill = FILL_INPUT
    lists = get_column_letter(LISTS_COL)
    names = [m.replace("_", " ") for m in metric_names(funnel)]
    for i, name in enumerate(names, start=1):
        ws.cell(row=i, column=LISTS_COL, value=name)
    ws.column_dimensions[lists].hidden = True
    first = RULES_HEADER_ROW + 1
    metric = checks.choice(
        f"B{first}:B{last}",
        f"${lists}$1:${lists}${len(names)}",
        "Alert metric",
        "metric must be one from the list (a Plan metric, a ratio or a data check)",
    )
    days = checks.whole(
        f"D{first}:D{last} H{first}:H{last}",
        1,
        MAX_DAYS,
        "Alert days",
        f"a whole number of days from 1 to {MAX_DAYS}",
    )
    number = checks.decimal(
        f"G{first}:G{last}",
        -1e15,
        1e15,
        "Alert threshold",
        "the threshold is a number (1.2 = 120% with `plan ×`; 0.05 = 5%)",
    )
    lists_of = (
        ("C", BASES, "over"),
        ("E", LEVELS, "level"),
        ("F", CONDITIONS, "condition"),
        ("I", SEVERITIES, "severity"),
        ("L", ("yes", "no"), "on"),
    )
    for dv in (
        metric,
        days,
        number,
        *(
            checks.choice(
                f"{c}{first}:{c}{last}",
                options,
                f"Alert {what}",
                f"{what} must be one of: {', '.join(options)}",
            )
            for c, options, what in lists_of
        ),
    ):
        ws.add_data_validation(dv)
    widths = (20, 14, 10, 8, 9, 11, 10, 6, 9, 14, 16, 5)
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    inc_widths = (8, 20, 24, 13, 12, 12, 11, 17, 17, 9, 14, 60)
    for col, width in enumerate(inc_widths, start=INCIDENTS_COL):
        ws.column_dimensions[get_column_letter(col)].width = width
    for r in range(RULES_HEADER_ROW + 1, last + 1):
        ws.cell(row=r, column=INCIDENTS_COL + 6).number_format = FMT_DATE
        for c in (7, 8):
            ws.cell(row=r, column=INCIDENTS_COL + c).number_format = "yyyy-mm-dd hh:mm"
    ws.freeze_panes = ws.cell(row=RULES_HEADER_ROW + 1, column=2)


# --------------------------------------------------------------------------- reading


def _text(value: Any) -> str:
    return "" if is_blank(value) else str(value).strip()


def _code(value: Any) -> str:
    """A drop-down cell's code: a catalog word read back in English ("канал" -> "channel"),
    since a Russian workbook may show the codes the catalog translates."""
    return canonical_label(_text(value))


def _whole(value: Any, default: int, where: str, column: str) -> int:
    if is_blank(value):
        return default
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
        return int(value)
    raise InputError(
        f"must be a whole number of days from 1 to {MAX_DAYS}",
        line=where,
        column=column,
        value=value,
    )


def _threshold(value: Any, where: str) -> float:
    if is_blank(value):
        return 0.0
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    try:
        return float(str(value).replace(",", ".").replace("\u00a0", "").replace(" ", ""))
    except ValueError:
        raise InputError("must be a number", line=where, column="threshold", value=value) from None


def _rule(record: dict[str, Any], row: int, funnel: Funnel) -> Rule:
    on = _text(record.get("on")).lower()  # "нет" is taken as is: another id may share it
    on = on if on in ("да", "нет") else _code(record.get("on")).lower()
    if on not in ("", "yes", "no", "да", "нет", "true", "false", "1", "0"):
        raise InputError("must be yes or no", line=f"{ALERTS}!L{row}", column="on", value=on)
    send_to = tuple(p.strip() for p in _text(record.get("send to")).split(",") if p.strip())
    try:
        rule = Rule(
            name=_text(record.get("rule")),
            metric=_code(record.get("metric")),
            over=_code(record.get("over")).lower() or "day",
            window=_whole(record.get("window"), 1, f"{ALERTS}!D{row}", "window"),
            level=_code(record.get("level")).lower() or "channel",
            condition=_code(record.get("condition")) or ">",
            threshold=_threshold(record.get("threshold"), f"{ALERTS}!G{row}"),
            days=_whole(record.get("days"), 1, f"{ALERTS}!H{row}", "days"),
            severity=_code(record.get("severity")).lower() or "warning",
            owner=_text(record.get("owner")),
            send_to=send_to,
            enabled=on not in ("no", "нет", "false", "0"),
        )
        rule.check_metric(funnel)
    except InputError as err:
        if err.line is not None:
            raise
        column = err.column or "rule"
        letter = column_letter(RULE_HEADERS.index(column) + 1) if column in RULE_HEADERS else "A"
        raise InputError(
            err.reason, line=f"{ALERTS}!{letter}{row}", column=column, value=err.value
        ) from None
    return rule


def read_rules(wb: WorkbookTarget, funnel: Funnel = DEFAULT_FUNNEL) -> list[Rule] | None:
    """The Alerts sheet's rules, checked (an `InputError` names the cell); None when the
    workbook has no Alerts sheet (an older workbook: the caller uses the defaults)."""
    if ALERTS not in wb.sheet_names():
        return None
    width = len(RULE_HEADERS)
    header = wb.read_cells(ALERTS, RULES_HEADER_ROW, 1, 1, width, formulas=False)[0]
    found = [_code(h).lower() for h in header]
    if found != list(RULE_HEADERS):
        shown = " | ".join(h or "(blank)" for h in found)
        raise InputError(
            f"must read {' | '.join(RULE_HEADERS)}; found {shown}",
            line=f"{ALERTS}!A{RULES_HEADER_ROW}",
        )
    cells: list[list[Any]] = []
    row = RULES_HEADER_ROW + 1
    while True:  # down to the first all-blank chunk past the drop-down rows
        chunk = wb.read_cells(ALERTS, row, 1, RULE_ROWS, width, formulas=False)
        cells.extend(chunk)
        row += RULE_ROWS
        if all(is_blank(v) for line in chunk for v in line):
            break
    rules: list[Rule] = []
    names: dict[str, int] = {}
    for i, line in enumerate(cells):
        if all(is_blank(v) for v in line):
            continue
        row = RULES_HEADER_ROW + 1 + i
        rule = _rule(dict(zip(RULE_HEADERS, line, strict=True)), row, funnel)
        if rule.name in names:
            raise InputError(
                f"is already the name of the rule in row {names[rule.name]}; names must differ",
                line=f"{ALERTS}!A{row}",
                column="rule",
                value=rule.name,
            )
        names[rule.name] = row
        rules.append(rule)
    return rules


# --------------------------------------------------------------------------- writing


def write_rules(wb: WorkbookTarget, rules: Sequence[Rule]) -> None:
    """Add the Alerts sheet to a workbook that has none, with `rules` (values only: the
    drop-downs come with a workbook built from the template)."""
    wb.add_sheet(ALERTS)
    wb.write_block(ALERTS, 1, 1, [["Alerts"], [NOTE]])
    block = [list(RULE_HEADERS), *(_rule_row(r) for r in rules)]
    wb.write_block(ALERTS, RULES_HEADER_ROW, 1, block)


def write_incidents(wb: WorkbookTarget, rows: Sequence[Sequence[Any]]) -> None:
    """The incidents block (`INCIDENT_HEADERS` and `rows`) at `INCIDENTS_COL`, clearing the
    rows the last run wrote below it."""
    try:
        old = wb.read_table(ALERTS, header_row=RULES_HEADER_ROW, first_col=INCIDENTS_COL)
        old_rows = 1 + len(old.rows)
    except WorkbookError:  # no block yet: nothing to clear
        old_rows = 0
    t = translator(language_of(wb))
    block = [[t(h) for h in INCIDENT_HEADERS], *(list(r) for r in rows)]
    wb.write_block(
        ALERTS,
        RULES_HEADER_ROW,
        INCIDENTS_COL,
        padded(block, old_rows, len(INCIDENT_HEADERS)),
    )
