"""CRM exports (one row per lead or deal) -> leads, pp, negotiations, purchases, revenue.

Columns (English | Russian, case-insensitive): ID, Created | Дата создания, utm_source,
utm_medium, utm_campaign (also Источник / Канал / Кампания), Stage | Этап (the furthest stage
reached: lead | Лид, pp | КП | Предложение, negotiations | Переговоры, purchase | Покупка |
Сделка | Оплата), the stage dates PP date | Дата КП, Negotiations date | Дата переговоров,
Purchase date | Дата покупки, Amount | Сумма, Status | Статус (open | won | lost, В работе |
Успешно | Проиграна).

Every metric comes in both bases: ``"cohort"`` dated by the lead's creation day and ``"event"``
dated by the day the stage was reached. ``revenue`` is the amount of purchased deals (times the
source's rate), dated like ``purchases``.

Decisions:

* the stage reached is the furthest of: the Stage cell, a filled stage date, a "won" status
  (won = purchased); reaching a stage implies the earlier ones; a blank Stage is a lead;
* a reached stage without its date is dated (event basis) by the nearest later stage date that
  is filled (it happened no later than that), else by the creation date; the number of such
  fallbacks is reported in the warnings;
* quarantined (every bad cell listed with its line): a blank or unreadable created date, an
  unreadable stage date, an unknown Stage or Status, and for purchases an unreadable or
  negative amount; a purchase with a blank amount counts with revenue 0 (warned);
* ID is the natural key: the LAST row of a repeated ID is kept (a later export line restates
  the deal); rows with a blank ID are all kept (warned); quarantined rows take no part in
  de-duplication.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from sheets_sync.facts import ReadResult, empty_facts
from sheets_sync.sources.cell_values import parse_dates, parse_numbers
from sheets_sync.sources.column_map import UTM_ALIASES, ColumnMap, SourceOptions
from sheets_sync.sources.fact_frames import (
    concat_quarantine,
    date_window,
    expected_suffix,
    field_columns,
    flag_dates,
    last_duplicates,
    long_facts,
    quarantine_cells,
    stripped_codes,
    tally,
    text_column,
)
from sheets_sync.sources.textfile import Bools, Floats, SheetRows, read_grid

__all__ = ["CRM_MAP", "STAGES", "looks_like_crm", "read_crm_export"]

CRM_MAP = ColumnMap(
    "crm",
    {
        "id": ("ID", "Lead ID", "Deal ID", "ID сделки", "ID лида", "ID заявки", "Номер"),
        "created": (
            "Created",
            "Created at",
            "Date created",
            "Creation date",
            "Дата создания",
            "Создана",
            "Создан",
        ),
        **UTM_ALIASES,
        "stage": ("Stage", "Этап", "Стадия", "Этап сделки"),
        "pp_date": ("PP date", "Proposal date", "Дата КП", "Дата предложения"),
        "negotiations_date": ("Negotiations date", "Negotiation date", "Дата переговоров"),
        "purchase_date": (
            "Purchase date",
            "Won date",
            "Дата покупки",
            "Дата оплаты",
            "Дата сделки",
        ),
        "amount": ("Amount", "Revenue", "Сумма", "Бюджет", "Выручка"),
        "status": ("Status", "Статус"),
    },
    required=("id", "created"),
)

STAGES: tuple[str, ...] = ("leads", "pp", "negotiations", "purchases")
"""Funnel stages in order; rank 1..4."""
_STAGE_NAMES: dict[str, int] = {
    **dict.fromkeys(("lead", "leads", "лид", "новый", "new", "заявка", "новая"), 1),
    **dict.fromkeys(
        ("pp", "кп", "предложение", "proposal", "коммерческое предложение", "offer"), 2
    ),
    **dict.fromkeys(("negotiations", "negotiation", "переговоры"), 3),
    **dict.fromkeys(
        ("purchase", "purchases", "покупка", "сделка", "оплата", "won", "продажа", "оплачено"),
        4,
    ),
}
_STATUS_NAMES: dict[str, str] = {
    **dict.fromkeys(("open", "в работе", "new", "открыта", "активна", "in progress"), "open"),
    **dict.fromkeys(("won", "успешно", "успешно реализовано", "выиграна", "оплачена"), "won"),
    **dict.fromkeys(
        ("lost", "проиграна", "закрыто и не реализовано", "отказ", "проигрыш", "closed lost"),
        "lost",
    ),
}
_STAGE_DATES: tuple[tuple[str, int], ...] = (
    ("pp_date", 2),
    ("negotiations_date", 3),
    ("purchase_date", 4),
)


def looks_like_crm(headers: list[str], cmap: ColumnMap = CRM_MAP) -> bool:
    """A CRM header: an id, a created date and a stage, status or stage-date column."""
    found = cmap.resolve(headers)
    return (
        "id" in found
        and "created" in found
        and any(f in found for f in ("stage", "status", *dict(_STAGE_DATES)))
    )


def read_crm_export(path: Path | str | SheetRows, options: SourceOptions) -> ReadResult:
    """Read one CRM export (a file or a sheet's `SheetRows`) into leads / pp / negotiations /
    purchases / revenue facts."""
    cmap = options.column_map or CRM_MAP

    def numeric(headers: list[str]) -> list[str]:
        found = cmap.resolve(headers)
        return [found["amount"]] if "amount" in found else []

    grid = read_grid(
        path, lambda cells: looks_like_crm(cells, cmap), what="CRM export", numeric=numeric
    )
    columns = field_columns(grid, cmap)
    frame = grid.frame
    n = len(frame)
    source = options.source
    info = grid.info(source, "crm", cmap.name)
    parts: list[pd.DataFrame] = []
    bad: Bools = np.zeros(n, dtype=bool)

    def flag(mask: Bools, fieldname: str, reason: str) -> None:
        nonlocal bad
        parts.append(quarantine_cells(grid, source, mask, columns[fieldname], reason))
        bad = bad | mask

    created, undated = flag_dates(
        grid, source, columns["created"], info, parts, "created date is blank"
    )
    bad |= undated

    rank = np.ones(n, dtype=np.int64)
    if "stage" in columns:
        stage_rank = _lookup(frame[columns["stage"]], _STAGE_NAMES)
        flag(stage_rank < 0, "stage", "unknown stage (expected lead, pp, negotiations, purchase)")
        rank = np.maximum(rank, stage_rank)
    if "status" in columns:
        status = _lookup(
            frame[columns["status"]], {k: 4 if v == "won" else 1 for k, v in _STATUS_NAMES.items()}
        )
        flag(status < 0, "status", "unknown status (expected open, won, lost)")
        rank = np.maximum(rank, status)

    stage_dates: dict[int, npt.NDArray[np.datetime64]] = {}
    for fieldname, stage in _STAGE_DATES:
        if fieldname not in columns:
            continue
        parsed = parse_dates(frame[columns[fieldname]], what=columns[fieldname])
        flag(parsed.bad, fieldname, f"is not a date{expected_suffix(parsed.format)}")
        info.warnings.extend(parsed.warnings)
        stage_dates[stage] = parsed.values
        rank = np.maximum(rank, np.where(np.isnat(parsed.values), 1, stage))

    amount: Floats = np.zeros(n, dtype=np.float64)
    purchased = rank >= 4
    if "amount" in columns:
        values, wrong, blank = parse_numbers(frame[columns["amount"]], grid.decimal)
        flag(wrong & purchased, "amount", "is not a number")
        flag((np.nan_to_num(values, nan=0.0) < 0) & purchased, "amount", "amount is negative")
        missing = int((blank & purchased & ~bad).sum())
        if missing:
            info.warnings.append(f"{missing} purchase(s) with a blank amount: revenue 0")
        amount = np.where(blank, 0.0, values)
    elif purchased.any():
        info.warnings.append("no Amount column: revenue is not counted")

    codes = np.asarray(stripped_codes(frame[columns["id"]]).codes)
    duplicate = last_duplicates(codes, bad)
    blank_ids = int((~bad & (codes < 0)).sum())
    if blank_ids:
        info.warnings.append(f"{blank_ids} row(s) without an ID kept as they are")
    keep = ~bad & ~duplicate

    metrics: dict[str, Floats] = {
        name: (rank >= stage).astype(np.float64) for stage, name in enumerate(STAGES, start=1)
    }
    if "amount" in columns:
        metrics["revenue"] = np.where(purchased, amount, 0.0) * options.money_factor("revenue")

    # event dates: own date, else the nearest later filled stage date, else created
    event: dict[int, npt.NDArray[np.datetime64]] = {1: created.values}
    later: npt.NDArray[np.datetime64] = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    fallbacks = 0
    for stage in (4, 3, 2):
        own = stage_dates.get(stage)
        if own is None:
            own = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        missing_date = np.isnat(own) & (rank >= stage) & keep
        fallbacks += int(missing_date.sum())
        dated = np.where(np.isnat(own), later, own)
        dated = np.where(np.isnat(dated), created.values, dated)
        event[stage] = dated
        later = np.where(np.isnat(own), later, own)
    if fallbacks and stage_dates:
        info.warnings.append(
            f"{fallbacks} reached stage(s) without a stage date: dated by the next stage's "
            "date, else by the created date"
        )

    keys = {
        k: text_column(frame, columns.get(k), n)
        for k in ("utm_source", "utm_medium", "utm_campaign")
    }
    pieces: list[pd.DataFrame] = []
    for name, values in metrics.items():
        stage = STAGES.index(name) + 1 if name in STAGES else 4
        rows = keep & (values != 0)
        if not rows.any():
            continue
        chosen = {k: v[rows] for k, v in keys.items()}
        pieces.append(
            long_facts(
                created.values[rows], source, chosen, {name: values[rows]}, "cohort", aggregate=True
            )
        )
        pieces.append(
            long_facts(
                event[stage][rows], source, chosen, {name: values[rows]}, "event", aggregate=True
            )
        )
    facts = _concat(pieces)

    tally(info, metrics, bad, duplicate)
    date_window(info, facts)
    if keep.any():
        stamps = [created.values[keep], *(d[keep] for d in stage_dates.values())]
        newest = np.concatenate(stamps)
        newest = newest[~np.isnat(newest)]
        if len(newest):
            info.latest = pd.Timestamp(newest.max()).to_pydatetime()
    return ReadResult(facts=facts, quarantine=concat_quarantine(parts), info=info)


def _lookup(values: pd.Series, table: dict[str, int]) -> npt.NDArray[np.int64]:
    """Rank per cell from ``table`` (case-insensitive); 1 for blank, -1 for unknown."""
    cells = stripped_codes(values)
    labels = [str(c).casefold() for c in cells.categories]
    ranks = np.array([table.get(label, -1) for label in labels] + [1], dtype=np.int64)
    return ranks[np.asarray(cells.codes)]  # code -1 (blank) -> the appended 1


def _concat(pieces: list[pd.DataFrame]) -> pd.DataFrame:
    if not pieces:
        return empty_facts()
    out = pd.concat(pieces, ignore_index=True)
    for column in ("source", "utm_source", "utm_medium", "utm_campaign", "metric", "basis"):
        out[column] = out[column].astype(str).astype("category")
    return out
