"""CRM exports listing each deal's touch history in one cell -> journeys.

One row per deal. Columns (English | Russian, case-insensitive; `HISTORY_MAP`): the deal id (ID |
ID сделки | Deal ID …) and its created date (Дата создания | Created …), both required; the
path (Путь клиента | Customer journey | Touchpoints | Цепочка касаний …, required); optionally
Stage | Этап and Status | Статус (the CRM reader's words: a won deal is one whose stage is a
purchase or whose status is won), Amount | Бюджет | Сумма, the purchase date (Дата покупки |
Дата оплаты | Дата закрытия …) and the first touch's date (Дата первого касания | First touch).

The path cell lists the touches in order, separated by ``>``, ``→``, ``->``, ``»`` or
``⇒``: a touch is a channel name ("Yandex Direct", "Прямые заходы") or ``source / medium``
(``/ campaign`` optional), e.g. ``yandex / cpc > vk / cpc > (direct) / (none)``. A
``source / medium`` touch gives the UTMs (channel blank: the Mapping rules name it), a name
gives the channel (traffic-source words as in visits exports: ``(direct) / (none)``, Direct,
Прямые заходы -> ``"Direct"``).

Decisions:

* each deal is one converting journey, its id the deal id: a ``lead`` outcome at the created
  time; a won deal also a ``purchase`` of the amount (times the source's rate) at its purchase
  date, else at the created time. An open or lost deal is a lead only;
* the touches' times are not in the file. The last touch is at the deal's creation (the
  converting touch); with a first-touch date the touches are spread evenly from it to the
  creation, else they are `TOUCH_STEP` (an hour) apart before it. Their order is the cell's;
  time-decay weights then follow that order (nearly evenly, an hour apart);
* quarantined: a blank deal id, a blank or unreadable created date. A blank path is a
  converting journey with no touch (counted); an empty step (``a > > b``) is skipped
  (counted); an unknown stage or status, an unreadable or negative amount, an unreadable date
  are warned (the deal stays a lead, the purchase a purchase of 0);
* the deal id is the natural key: the LAST row of a repeated id is kept (the earlier counted as
  duplicates).
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import numpy.typing as npt
import pandas as pd

from sheets_sync.sources.cell_values import parse_numbers
from sheets_sync.sources.column_map import ColumnMap, SourceOptions
from sheets_sync.sources.crm_export import _STAGE_NAMES, _STATUS_NAMES, CRM_MAP
from sheets_sync.sources.fact_frames import (
    concat_quarantine,
    field_columns,
    last_duplicates,
    stripped_codes,
    text_column,
)
from sheets_sync.sources.paths_common import (
    PathsReadResult,
    channel_of,
    count_warnings,
    fill_info,
    first_lines,
    is_direct,
    journey_counts,
    key_and_time,
    normalise_utm,
    parse_times,
    sort_touches,
    tidy_outcomes,
    tidy_touches,
)
from sheets_sync.sources.textfile import Bools, Grid

__all__ = ["HISTORY_MAP", "TOUCH_STEP", "looks_like_history", "parse_path", "read_history"]

TOUCH_STEP = np.timedelta64(1, "h")
"""How far apart a deal's touches are put when the file gives no first-touch date."""

HISTORY_MAP = ColumnMap(
    "crm_history",
    {
        "id": CRM_MAP.columns["id"],
        "created": CRM_MAP.columns["created"],
        "path": (
            "Путь клиента",
            "Путь покупателя",
            "Customer journey",
            "Touchpoints",
            "Touch points",
            "Touch path",
            "Цепочка касаний",
            "Касания",
            "Источники касаний",
            "Путь конверсии",
            "Conversion path",
            "Путь",
            "Path",
            "Journey",
        ),
        "first_touch": (
            "Дата первого касания",
            "Первое касание",
            "Дата первого визита",
            "First touch",
            "First touch date",
            "First visit",
        ),
        "stage": CRM_MAP.columns["stage"],
        "status": CRM_MAP.columns["status"],
        "amount": ("Бюджет", "Сумма", "Amount", "Revenue", "Выручка", "Сумма сделки"),
        "purchase_date": (
            *CRM_MAP.columns["purchase_date"],
            "Дата закрытия",
            "Closed",
            "Close date",
        ),
    },
    required=("id", "created", "path"),
)

_SEPARATOR = re.compile(r"\s*(?:->|=>|→|⇒|»|>)\s*")
_PAIR = re.compile(r"\s*/\s*")


def looks_like_history(headers: list[str]) -> bool:
    """A CRM history header: a deal id, a created date and a path column."""
    found = HISTORY_MAP.resolve(headers)
    return all(f in found for f in HISTORY_MAP.required)


def parse_path(cell: str) -> tuple[list[tuple[str, str, str, str]], int]:
    """A path cell's touches in order, each ``(utm_source, utm_medium, utm_campaign,
    channel)``, and the number of empty steps skipped."""
    touches: list[tuple[str, str, str, str]] = []
    empty = 0
    text = str(cell).strip()
    if not text:
        return touches, 0
    for step in _SEPARATOR.split(text):
        step = step.strip()
        if not step:
            empty += 1
            continue
        parts = _PAIR.split(step, maxsplit=2)
        if len(parts) == 1:
            touches.append(("", "", "", str(channel_of(np.array([step], dtype=object))[0])))
            continue
        raw = np.array(parts + [""] * (3 - len(parts)), dtype=object)
        utm = normalise_utm(raw)
        if is_direct(raw[:1], utm[1:2])[0]:
            touches.append(("", "", "", "Direct"))
        else:
            touches.append((str(utm[0]), str(utm[1]), str(utm[2]), ""))
    return touches, empty


def read_history(
    grid: Grid, options: SourceOptions, now: dt.datetime | None = None
) -> PathsReadResult:
    """Read a CRM history export's `Grid` (found by `looks_like_history`) into journeys."""
    source = options.source
    columns = field_columns(grid, HISTORY_MAP)
    frame = grid.frame
    info = grid.info(source, "paths", "crm_history")
    keyed = key_and_time(
        grid, info, source, columns["id"], columns["created"], ("deal id", "created date", "date")
    )
    deal, created, bad, parts = keyed.ids, keyed.times, keyed.unreadable, keyed.quarantine
    duplicate = last_duplicates(np.asarray(stripped_codes(deal).codes), bad)
    keep = np.flatnonzero(~bad & ~duplicate)
    info.duplicates = int(duplicate.sum())
    if info.duplicates:
        info.warnings.append(
            f"{info.duplicates} earlier row(s) of a repeated deal id dropped (the last kept)"
        )

    won = _won(grid, columns, info.warnings)
    amount = _amounts(grid, columns, won, info.warnings) * options.money_factor("revenue")
    first = _optional_times(grid, columns, "first_touch", info.warnings)
    bought = _optional_times(grid, columns, "purchase_date", info.warnings)

    touches, empty = _touches(frame[columns["path"]], deal, created.values, first, keep)
    ts = created.values[keep]
    wins = keep[won[keep]]
    paid = np.where(np.isnat(bought[wins]), created.values[wins], bought[wins])
    outcomes = tidy_outcomes(
        {
            "journey": np.concatenate([deal[keep], deal[wins]]),
            "visitor": np.concatenate([deal[keep], deal[wins]]),
            "ts": np.concatenate([ts, paid]),
            "kind": np.array(["lead"] * len(keep) + ["purchase"] * len(wins), dtype=object),
            "value": np.concatenate([np.zeros(len(keep)), amount[wins]]),
            "lead_id": np.concatenate([deal[keep], deal[wins]]),
        },
        len(keep) + len(wins),
    )
    counts = journey_counts(touches, outcomes, dt.datetime.now() if now is None else now)
    touches = sort_touches(touches)
    info.rows_quarantined = int(bad.sum())
    info.rows_ok = len(keep)
    fill_info(info, touches, outcomes)
    info.warnings.append(
        "touch times are not in the file: each deal's touches end at its creation, "
        + ("spread from the first-touch date" if "first_touch" in columns else "an hour apart")
    )
    if empty:
        info.warnings.append(f"{empty} empty step(s) in paths skipped")
    info.warnings.extend(count_warnings(counts))
    return PathsReadResult(
        source=source,
        touches=touches,
        outcomes=outcomes,
        quarantine=concat_quarantine(parts),
        files=[info],
        shape="crm_history",
        counts=counts,
    )


def _touches(
    cells: pd.Series,
    deal: npt.NDArray[np.object_],
    created: npt.NDArray[np.datetime64],
    first: npt.NDArray[np.datetime64],
    keep: npt.NDArray[np.int64],
) -> tuple[pd.DataFrame, int]:
    """The kept deals' touches (input order), timed before each deal's creation."""
    texts = text_column(cells.to_frame(), str(cells.name), len(cells))[keep]
    codes, uniques = pd.factorize(texts)
    parsed = [parse_path(u) for u in uniques]
    per_unique = np.array([len(p[0]) for p in parsed], dtype=np.int64)
    empty = int(sum(parsed[c][1] for c in codes))
    lengths = per_unique[codes] if len(codes) else np.zeros(0, dtype=np.int64)
    owner = np.repeat(np.arange(len(keep)), lengths)
    rank = np.arange(owner.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    steps = [t for c in codes for t in parsed[c][0]]
    n = len(steps)
    cols = list(zip(*steps, strict=True)) if n else [(), (), (), ()]
    end = created[keep][owner]
    behind = (lengths[owner] - 1 - rank).astype(np.int64)
    start = first[keep][owner]
    spread = ~np.isnat(start) & (start < end) & (lengths[owner] > 1)
    gap = np.where(spread, (end - start) / np.maximum(lengths[owner] - 1, 1), TOUCH_STEP)
    ts = end - gap.astype("timedelta64[ns]") * behind
    data = {
        "journey": deal[keep][owner],
        "visitor": deal[keep][owner],
        "ts": ts,
        "utm_source": np.array(cols[0], dtype=object),
        "utm_medium": np.array(cols[1], dtype=object),
        "utm_campaign": np.array(cols[2], dtype=object),
        "channel": np.array(cols[3], dtype=object),
    }
    return tidy_touches(data, n, sort=False), empty


def _won(grid: Grid, columns: dict[str, str], warnings: list[str]) -> Bools:
    """Deals whose stage is a purchase or whose status is won; unknown words warned."""
    n = len(grid.frame)
    won = np.zeros(n, dtype=bool)
    for fieldname, table in (
        ("stage", {k: v == 4 for k, v in _STAGE_NAMES.items()}),
        ("status", {k: v == "won" for k, v in _STATUS_NAMES.items()}),
    ):
        if fieldname not in columns:
            continue
        cells = text_column(grid.frame, columns[fieldname], n)
        words = np.char.lower(cells.astype(str))
        known = np.isin(words, [*table, ""])
        won |= np.isin(words, [k for k, v in table.items() if v])
        if not known.all():
            warnings.append(
                f"{int((~known).sum())} unknown {fieldname} word(s) "
                f"({first_lines(grid.lines[~known])}): those deals are taken as not won"
            )
    return won


def _amounts(
    grid: Grid, columns: dict[str, str], won: Bools, warnings: list[str]
) -> npt.NDArray[np.float64]:
    """The amount of each deal (0 where blank, unreadable or negative: warned for won deals)."""
    n = len(grid.frame)
    if "amount" not in columns:
        if won.any():
            warnings.append("no amount column: won deals are purchases of 0")
        return np.zeros(n)
    values, wrong, blank = parse_numbers(grid.frame[columns["amount"]], grid.decimal)
    values = np.nan_to_num(values, nan=0.0)
    odd = won & (wrong | blank | (values < 0))
    if odd.any():
        warnings.append(
            f"{int(odd.sum())} won deal(s) with a blank, unreadable or negative amount "
            f"({first_lines(grid.lines[odd])}): purchases of 0"
        )
    return np.where(wrong | (values < 0), 0.0, values)


def _optional_times(
    grid: Grid, columns: dict[str, str], fieldname: str, warnings: list[str]
) -> npt.NDArray[np.datetime64]:
    """An optional date column (NaT where blank, absent or unreadable: unreadable warned)."""
    n = len(grid.frame)
    if fieldname not in columns:
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    parsed = parse_times(grid.frame[columns[fieldname]], what=columns[fieldname])
    if parsed.bad.any():
        warnings.append(
            f"{int(parsed.bad.sum())} {columns[fieldname]!r} cell(s) not a date "
            f"({first_lines(grid.lines[parsed.bad])}): left out"
        )
    return parsed.values
