"""CRM exports (one row per lead or deal) -> leads, pp, negotiations, purchases, revenue.

Columns (English | Russian, case-insensitive): ID, Created | Дата создания, utm_source,
utm_medium, utm_campaign (also Источник / Канал / Кампания / UTM Source …), Stage | Этап |
Стадия сделки (the stage reached, a name of the source's `crm_stages.StageVocabulary`: the
generic lead / КП / переговоры / покупка words and amoCRM's and Bitrix24's default pipelines
with no configuration), the stage dates PP date | Дата КП, Negotiations date | Дата
переговоров, Purchase date | Дата покупки, Closed date | Дата закрытия (a won deal's purchase
day when it has no purchase date), Amount | Сумма | Бюджет, Status | Статус (open | won | lost,
В работе | Успешно | Проиграна).

Every metric comes in both bases: ``"cohort"`` dated by the lead's creation day and ``"event"``
dated by the day the stage was reached. ``revenue`` is the amount of purchased deals (times the
source's rate), dated like ``purchases``.

Decisions:

* the stage reached is the furthest of: the Stage cell, a filled stage date, a "won" status
  (won = purchased); reaching a stage implies the earlier ones; a blank Stage is a lead;
* a reached stage without its date is dated (event basis) by the nearest later stage date that
  is filled (it happened no later than that), else by the creation date; the number of such
  fallbacks is reported in the warnings;
* a lost stage or status (amoCRM's "Закрыто и не реализовано", Bitrix24's "Сделка провалена")
  is a deal closed at whatever stage it reached: a lead plus the stages its dates show, never a
  purchase (a purchase date or won status beside it is warned and counted as negotiations);
* quarantined (every bad cell listed with its line): a blank or unreadable created date, an
  unreadable stage date, an unknown Stage (its reason and a warning per name say where to name
  it: the source's ``stages`` in sync.toml or the Mapping sheet's CRM stages block) or Status,
  and for purchases an unreadable or negative amount; a purchase with a blank amount counts
  with revenue 0 (warned);
* the positive amounts of quarantined rows are the file's quarantined revenue
  (``FileInfo.quarantined_totals``): Data Quality shows the money at stake;
* ID is the natural key: the LAST row of a repeated ID is kept (a later export line restates
  the deal); rows with a blank ID are all kept (warned); quarantined rows take no part in
  de-duplication;
* the kept rows also come back one per deal (``ReadResult.deals``, `DEAL_COLUMNS`): the
  created day and each reached stage's event day (the same fallbacks as the event basis; NaT
  for a stage not reached), the revenue as counted in the facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from sheets_sync.facts import (
    DEAL_COLUMNS,
    DEAL_STAGES,
    DIMENSIONS,
    FileInfo,
    ReadResult,
    empty_facts,
)
from sheets_sync.sources.cell_values import parse_dates, parse_numbers
from sheets_sync.sources.column_map import (
    DIMENSION_ALIASES,
    UTM_ALIASES,
    ColumnMap,
    SourceOptions,
)
from sheets_sync.sources.crm_stages import StageVocabulary, normalise_stage, vocabulary
from sheets_sync.sources.fact_frames import (
    concat_quarantine,
    date_window,
    dimension_keys,
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
from sheets_sync.sources.textfile import Bools, Floats, Grid, Ints, SheetRows, read_grid

__all__ = ["CRM_MAP", "STAGES", "looks_like_crm", "read_crm_export"]

Dates = npt.NDArray[np.datetime64]

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
        **{key: (*aliases, key.replace("_", " ")) for key, aliases in UTM_ALIASES.items()},
        "stage": ("Stage", "Этап", "Стадия", "Этап сделки", "Стадия сделки"),
        "pp_date": ("PP date", "Proposal date", "Дата КП", "Дата предложения"),
        "negotiations_date": ("Negotiations date", "Negotiation date", "Дата переговоров"),
        "purchase_date": (
            "Purchase date",
            "Won date",
            "Дата покупки",
            "Дата оплаты",
            "Дата сделки",
        ),
        "closed_date": ("Closed date", "Close date", "Дата закрытия"),
        "amount": ("Amount", "Revenue", "Сумма", "Бюджет", "Выручка"),
        "status": ("Status", "Статус"),
        **DIMENSION_ALIASES,
    },
    required=("id", "created"),
)

STAGES: tuple[str, ...] = ("leads", "pp", "negotiations", "purchases")
"""Funnel stages in order; rank 1..4."""
_STAGE_NAMES: dict[str, int] = vocabulary().ranks()
"""The built-in stage names (`crm_stages`, ``crm = "auto"``) and their ranks (0 lost, 1..4),
for the readers of a CRM's touch history (`paths_history`)."""
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


@dataclass
class _Rows:
    """A CRM export being read: its grid, the columns the map picked, and the cells set aside
    so far (`parts` of the quarantine, `bad` rows)."""

    grid: Grid
    columns: dict[str, str]
    source: str
    info: FileInfo
    bad: Bools
    parts: list[pd.DataFrame] = field(default_factory=list)

    def cells(self, fieldname: str) -> pd.Series:
        return self.grid.frame[self.columns[fieldname]]

    def flag(self, mask: Bools, fieldname: str, reason: str) -> None:
        """Quarantine the cells of `fieldname` where `mask`, and their rows."""
        cells = quarantine_cells(self.grid, self.source, mask, self.columns[fieldname], reason)
        self.parts.append(cells)
        self.bad = self.bad | mask


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
    source = options.source
    info = grid.info(source, "crm", cmap.name)
    rows = _Rows(grid, field_columns(grid, cmap), source, info, np.zeros(len(grid.frame), bool))
    created, undated = flag_dates(
        grid, source, rows.columns["created"], info, rows.parts, "created date is blank"
    )
    rows.bad |= undated
    names = options.stages or vocabulary()
    rank, stage_dates = _stages_reached(rows, names)
    purchased = rank >= 4
    amount = _amounts(rows, purchased)
    duplicate, keep = _deduplicate(rows)

    metrics: dict[str, Floats] = {
        name: (rank >= stage).astype(np.float64) for stage, name in enumerate(STAGES, start=1)
    }
    if "amount" in rows.columns:
        metrics["revenue"] = np.where(purchased, amount, 0.0) * options.money_factor("revenue")
    event = _event_dates(rows, created.values, stage_dates, rank, keep)
    facts = _facts(rows, metrics, created.values, event, keep)

    tally(info, metrics, rows.bad, duplicate)
    _quarantined_money(rows, amount, options.money_factor("revenue"))
    date_window(info, facts)
    if keep.any():
        stamps = [created.values[keep], *(d[keep] for d in stage_dates.values())]
        newest = np.concatenate(stamps)
        newest = newest[~np.isnat(newest)]
        if len(newest):
            info.latest = pd.Timestamp(newest.max()).to_pydatetime()
    deals = _deals(rows, metrics.get("revenue"), created.values, event, rank, keep)
    return ReadResult(facts=facts, quarantine=concat_quarantine(rows.parts), info=info, deals=deals)


def _stages_reached(rows: _Rows, names: StageVocabulary) -> tuple[Ints, dict[int, Dates]]:
    """The furthest stage (rank 1..4) each row reached by its Stage, Status and stage dates, and
    the stage dates read; unknown stages or statuses and unreadable dates quarantined. A lost
    stage or status adds no stage and caps the rank below a purchase (`_close_lost`)."""
    rank = np.ones(len(rows.grid.frame), dtype=np.int64)
    lost = np.zeros(len(rank), dtype=bool)
    if "stage" in rows.columns:
        stage_rank = _lookup(rows.cells("stage"), names.ranks())
        _flag_unknown_stages(rows, stage_rank < 0, names)
        lost |= stage_rank == 0
        rank = np.maximum(rank, stage_rank)
    if "status" in rows.columns:
        won = {k: {"won": 4, "lost": 0}.get(v, 1) for k, v in _STATUS_NAMES.items()}
        status = _lookup(rows.cells("status"), won)
        rows.flag(status < 0, "status", "unknown status (expected open, won, lost)")
        lost |= status == 0
        rank = np.maximum(rank, status)
    stage_dates: dict[int, Dates] = {}
    for fieldname, stage in _STAGE_DATES:
        if fieldname not in rows.columns:
            continue
        parsed = parse_dates(rows.cells(fieldname), what=rows.columns[fieldname])
        rows.flag(parsed.bad, fieldname, f"is not a date{expected_suffix(parsed.format)}")
        rows.info.warnings.extend(parsed.warnings)
        stage_dates[stage] = parsed.values
        rank = np.maximum(rank, np.where(np.isnat(parsed.values), 1, stage))
    rank = _close_lost(rows, rank, lost)
    _closed_dates(rows, rank, stage_dates)
    return rank, stage_dates


def _flag_unknown_stages(rows: _Rows, unknown: Bools, names: StageVocabulary) -> None:
    """Quarantine the rows whose Stage is no known name; one warning per unknown name (the
    first three) with its rows, its first line and where to name it."""
    hint = names.hint(rows.source)
    rows.flag(unknown, "stage", f"unknown stage: {hint}")
    if not unknown.any():
        return
    column = rows.columns["stage"]
    cells = rows.cells("stage").astype(str).str.strip()[unknown]
    lines = rows.grid.lines[unknown]
    counts = cells.value_counts(sort=True)
    for value, count in list(counts.items())[:3]:
        first = int(lines[(cells == value).to_numpy()][0])
        rows.info.warnings.append(
            f"{rows.info.path}: unknown stage {value!r} in {count} row(s) (column {column}, "
            f"first at line {first}): {hint}"
        )
    if len(counts) > 3:
        rows.info.warnings.append(f"{len(counts) - 3} more unknown stage name(s): see Data Quality")


def _close_lost(rows: _Rows, rank: Ints, lost: Bools) -> Ints:
    """A lost deal keeps the stages it reached but is never a purchase: a purchase date or a won
    status beside a lost stage is counted as negotiations reached (warned)."""
    contradicting = lost & (rank >= 4) & ~rows.bad
    if contradicting.any():
        rows.info.warnings.append(
            f"{int(contradicting.sum())} lost deal(s) with a purchase date or won status: "
            "counted as lost (negotiations reached), no revenue"
        )
    return np.where(lost, np.minimum(rank, 3), rank)


def _closed_dates(rows: _Rows, rank: Ints, stage_dates: dict[int, Dates]) -> None:
    """A won deal without a purchase date is dated by its closing date (amoCRM's and Bitrix24's
    "Дата закрытия") when the export has one; an unreadable one of a won deal quarantined."""
    if "closed_date" not in rows.columns:
        return
    parsed = parse_dates(rows.cells("closed_date"), what=rows.columns["closed_date"])
    won = rank >= 4
    rows.flag(parsed.bad & won, "closed_date", f"is not a date{expected_suffix(parsed.format)}")
    own = stage_dates.get(4)
    if own is None:
        own = np.full(len(rank), np.datetime64("NaT"), dtype="datetime64[ns]")
    closed = np.where(won, parsed.values, np.datetime64("NaT")).astype("datetime64[ns]")
    stage_dates[4] = np.where(np.isnat(own), closed, own)


def _amounts(rows: _Rows, purchased: Bools) -> Floats:
    """The Amount column as numbers (0 where blank or absent); a purchase's unreadable or
    negative amount quarantined, a blank one warned."""
    if "amount" not in rows.columns:
        if purchased.any():
            rows.info.warnings.append("no Amount column: revenue is not counted")
        return np.zeros(len(rows.grid.frame), dtype=np.float64)
    values, wrong, blank = parse_numbers(rows.cells("amount"), rows.grid.decimal)
    rows.flag(wrong & purchased, "amount", "is not a number")
    rows.flag((np.nan_to_num(values, nan=0.0) < 0) & purchased, "amount", "amount is negative")
    missing = int((blank & purchased & ~rows.bad).sum())
    if missing:
        rows.info.warnings.append(f"{missing} purchase(s) with a blank amount: revenue 0")
    return np.where(blank, 0.0, values)


def _quarantined_money(rows: _Rows, amount: Floats, factor: float) -> None:
    """The positive amounts of quarantined rows are the file's quarantined revenue
    (``FileInfo.quarantined_totals``): a row set aside for an unknown stage may well be a won
    deal, and Data Quality shows the money at stake, not 0."""
    if "amount" not in rows.columns:
        return
    carried = np.where(rows.bad & (np.nan_to_num(amount, nan=0.0) > 0), amount, 0.0)
    total = float(carried.sum()) * factor
    if total > 0:
        rows.info.quarantined_totals["revenue"] = total
    else:
        rows.info.quarantined_totals.pop("revenue", None)


def _deduplicate(rows: _Rows) -> tuple[Bools, Bools]:
    """Rows repeating an ID (the last one kept) and the rows kept; blank IDs are all kept."""
    codes = np.asarray(stripped_codes(rows.cells("id")).codes)
    duplicate = last_duplicates(codes, rows.bad)
    blank_ids = int((~rows.bad & (codes < 0)).sum())
    if blank_ids:
        rows.info.warnings.append(f"{blank_ids} row(s) without an ID kept as they are")
    return duplicate, ~rows.bad & ~duplicate


def _event_dates(
    rows: _Rows, created: Dates, stage_dates: dict[int, Dates], rank: Ints, keep: Bools
) -> dict[int, Dates]:
    """Each stage's event date: its own date, else the nearest later filled stage date, else
    the created date (the fallbacks counted in a warning)."""
    n = len(created)
    event: dict[int, Dates] = {1: created}
    later: Dates = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    fallbacks = 0
    for stage in (4, 3, 2):
        own = stage_dates.get(stage)
        if own is None:
            own = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        missing_date = np.isnat(own) & (rank >= stage) & keep
        fallbacks += int(missing_date.sum())
        dated = np.where(np.isnat(own), later, own)
        dated = np.where(np.isnat(dated), created, dated)
        event[stage] = dated
        later = np.where(np.isnat(own), later, own)
    if fallbacks and stage_dates:
        rows.info.warnings.append(
            f"{fallbacks} reached stage(s) without a stage date: dated by the next stage's "
            "date, else by the created date"
        )
    return event


def _facts(
    rows: _Rows,
    metrics: dict[str, Floats],
    created: Dates,
    event: dict[int, Dates],
    keep: Bools,
) -> pd.DataFrame:
    """The kept rows' metrics as facts on both bases: cohort (created) and event dates."""
    frame = rows.grid.frame
    keys = {
        k: text_column(frame, rows.columns.get(k), len(frame))
        for k in ("utm_source", "utm_medium", "utm_campaign")
    }
    keys.update(dimension_keys(frame, rows.columns, len(frame)))  # city, product, utm_term ...
    pieces: list[pd.DataFrame] = []
    for name, values in metrics.items():
        stage = STAGES.index(name) + 1 if name in STAGES else 4
        chosen_rows = keep & (values != 0)
        if not chosen_rows.any():
            continue
        chosen = {k: v[chosen_rows] for k, v in keys.items()}
        value = {name: values[chosen_rows]}
        for basis, dates in (("cohort", created), ("event", event[stage])):
            pieces.append(
                long_facts(dates[chosen_rows], rows.source, chosen, value, basis, aggregate=True)
            )
    return _concat(pieces)


def _deals(
    rows: _Rows,
    revenue: Floats | None,
    created: Dates,
    event: dict[int, Dates],
    rank: Ints,
    keep: Bools,
) -> pd.DataFrame:
    """The kept rows one per deal (`DEAL_COLUMNS`): days at midnight, NaT for a stage the
    deal has not reached."""
    frame, n = rows.grid.frame, len(rows.grid.frame)
    data: dict[str, object] = {"source": np.full(int(keep.sum()), rows.source, dtype=object)}
    for key in ("id", "utm_source", "utm_medium", "utm_campaign"):
        data[key] = text_column(frame, rows.columns.get(key), n)[keep]
    nat = np.datetime64("NaT")
    data["created"] = _day(created)[keep]
    for stage, name in enumerate(DEAL_STAGES, start=2):
        data[name] = np.where(rank >= stage, _day(event[stage]), nat)[keep]
    data["revenue"] = (np.zeros(n) if revenue is None else revenue)[keep]
    return pd.DataFrame(data, columns=list(DEAL_COLUMNS))


def _day(values: Dates) -> Dates:
    """Timestamps as their day (``datetime64[ns]`` at midnight; NaT stays)."""
    days = np.asarray(values, dtype="datetime64[ns]").astype("datetime64[D]")
    return days.astype("datetime64[ns]")


def _lookup(values: pd.Series, table: dict[str, int]) -> npt.NDArray[np.int64]:
    """Rank per cell from ``table`` (`normalise_stage`: case, spaces, ё); 1 for blank, -1 for
    unknown."""
    cells = stripped_codes(values)
    normal = {normalise_stage(k): v for k, v in table.items()}
    labels = [normalise_stage(c) for c in cells.categories]
    ranks = np.array([normal.get(label, -1) for label in labels] + [1], dtype=np.int64)
    return ranks[np.asarray(cells.codes)]  # code -1 (blank) -> the appended 1


def _concat(pieces: list[pd.DataFrame]) -> pd.DataFrame:
    if not pieces:
        return empty_facts()
    out = pd.concat(pieces, ignore_index=True)
    for column in ("source", "utm_source", "utm_medium", "utm_campaign", "metric", "basis"):
        out[column] = out[column].astype(str).astype("category")
    for column in DIMENSIONS:
        if column in out.columns:
            out[column] = out[column].astype(str).astype("category")
    return out
