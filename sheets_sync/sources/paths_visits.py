"""Web-analytics visits exports (Yandex Metrica reports and Logs API, GA4) -> journeys.

One row per visit. Columns (English | Russian, case-insensitive; `VISITS_MAP`):

* the visitor: ClientID | ID посетителя | Идентификатор посетителя | ``ym:s:clientID`` |
  ``user_pseudo_id`` | ``client_id`` (required);
* the visit's time: Дата и время визита | Дата визита | ``ym:s:dateTime`` | ``event_timestamp``
  (unix microseconds, UTC) | Date … (required; a date alone is midnight, ties keep file order);
* UTM Source | utm_source | Источник (UTM) | ``ym:s:UTMSource`` | Session source, and the
  medium and campaign alike; Источник трафика | Traffic source | ``ym:s:lastTrafficSource`` |
  Session default channel group: the channel of a visit without UTMs (Прямые заходы, Direct,
  ``(direct) / (none)`` -> ``"Direct"``; Переходы из поисковых систем -> ``"Organic Search"``;
  see `paths_common._TRAFFIC`); a visit with UTMs leaves the channel blank (the Mapping rules
  name it);
* conversions: every goal column (Достижения цели, Конверсии, Conversions, Key events,
  ``ym:s:goalsID`` lists, "Цель: Заявка" …: a number above 0, Да/Yes, or a non-empty list),
  a lead id (ID лида | Lead ID | CRM ID …: filled = a lead) and revenue (Доход | Revenue |
  ``purchase_revenue`` | ``ym:s:purchaseRevenue``: above 0 = a purchase of that value, times
  the source's rate);
* ID визита | Visit ID | ``ym:s:visitID``: when present, a repeated visit id is what counts as
  a repeated touch.

Decisions:

* a visit that reaches a goal (or carries a lead id) is one ``lead`` outcome at the visit's time,
  however many goals it reached; revenue adds a ``purchase`` outcome at the same time;
* a journey is a visitor's visits up to and including a converting visit; the visits after it
  start the next journey: ``clientid``, ``clientid#2``, ``clientid#3`` … (`split_journeys`);
  the last journey of a visitor may not convert (kept: a non-converting path);
* quarantined (the row is not a touch): a blank visitor id, a blank or unreadable time. A goal
  or revenue cell that cannot be read leaves the visit a touch without that conversion (counted
  in a warning with its lines); repeated visits are kept and counted.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from sheets_sync.sources.cell_values import parse_flags, parse_numbers
from sheets_sync.sources.column_map import ColumnMap, SourceOptions, normalise_header
from sheets_sync.sources.fact_frames import (
    concat_quarantine,
    field_columns,
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
    sort_touches,
    span,
    split_journeys,
    tidy_outcomes,
    tidy_touches,
)
from sheets_sync.sources.textfile import Bools, Floats, Grid

__all__ = ["GOAL_ALIASES", "VISITS_MAP", "goal_columns", "looks_like_visits", "read_visits"]

VISITS_MAP = ColumnMap(
    "visits",
    {
        "visitor": (
            "ClientID",
            "Client ID",
            "ID посетителя",
            "Идентификатор посетителя",
            "ym:s:clientID",
            "user_pseudo_id",
            "client_id",
            "Visitor ID",
            "visitor_id",
        ),
        "time": (
            "event_timestamp",
            "ym:s:dateTime",
            "Дата и время визита",
            "Время визита",
            "Visit time",
            "Visit date and time",
            "Дата и время",
            "Date time",
            "Datetime",
            "Timestamp",
            "Дата визита",
            "Visit date",
            "ym:s:date",
            "event_date",
            "Date",
            "Дата",
        ),
        "visit_id": ("ID визита", "Visit ID", "VisitID", "ym:s:visitID", "ga_session_id"),
        "utm_source": (
            "UTM Source",
            "utm_source",
            "Источник (UTM)",
            "UTM-источник",
            "ym:s:UTMSource",
            "Session source",
            "session_source",
            "traffic_source.source",
            "collected_traffic_source.manual_source",
            "Source",
            "Источник",
        ),
        "utm_medium": (
            "UTM Medium",
            "utm_medium",
            "Канал (UTM)",
            "UTM-канал",
            "ym:s:UTMMedium",
            "Session medium",
            "session_medium",
            "traffic_source.medium",
            "collected_traffic_source.manual_medium",
            "Medium",
            "Канал",
        ),
        "utm_campaign": (
            "UTM Campaign",
            "utm_campaign",
            "Кампания (UTM)",
            "UTM-кампания",
            "ym:s:UTMCampaign",
            "Session campaign",
            "session_campaign",
            "traffic_source.name",
            "collected_traffic_source.manual_campaign_name",
            "Campaign",
            "Кампания",
        ),
        "traffic": (
            "Источник трафика",
            "Последний источник трафика",
            "Traffic source",
            "Last traffic source",
            "ym:s:lastTrafficSource",
            "ym:s:trafficSource",
            "Session default channel group",
            "session_default_channel_group",
            "Default channel group",
            "Группа каналов",
        ),
        "revenue": (
            "Доход",
            "Revenue",
            "purchase_revenue",
            "Purchase revenue",
            "ecommerce.purchase_revenue",
            "ym:s:purchaseRevenue",
            "Доход от покупок",
            "Выручка",
        ),
        "lead_id": (
            "ID лида",
            "Lead ID",
            "lead_id",
            "ID заявки",
            "CRM ID",
            "ID сделки",
            "Deal ID",
        ),
    },
    required=("visitor", "time"),
)
"""The visits columns (goal columns, any number of them, are `GOAL_ALIASES`)."""

GOAL_ALIASES: tuple[str, ...] = (
    "Достижения цели",
    "Достижения целей",
    "Достижение цели",
    "Конверсии",
    "Conversions",
    "Goal completions",
    "Goal reaches",
    "Key events",
    "key_events",
    "ym:s:goalsID",
    "Целевые визиты",
    "Цель",
    "Goal",
    r"re:(цель|goal)\s*[:«\"].*",
    r"re:достижени[ея] цел[иейь].*",
)
_GOAL_MAP = ColumnMap("goals", {"goal": GOAL_ALIASES}, required=("goal",))


def goal_columns(headers: list[str]) -> list[str]:
    """Every header that is a goal column (in order)."""
    return [h for h in headers if "goal" in _GOAL_MAP.resolve([h])]


def looks_like_visits(headers: list[str]) -> bool:
    """A visits header: a visitor id and a visit time."""
    found = VISITS_MAP.resolve(headers)
    return "visitor" in found and "time" in found


_LIST = re.compile(r"^\[(.*)\]$", re.DOTALL)


def conversion_numbers(cells: pd.Series, decimal: str, lists: str) -> tuple[Floats, Bools]:
    """Goal or revenue cells as numbers (0 where blank) and the cells that cannot be read.

    Numbers in either decimal style, Да/Нет, Yes/No, and the Logs API's lists (``[]``,
    ``[123,456]``): `lists` ``"count"`` counts a list's items (goal ids), ``"sum"`` adds them
    (revenues)."""
    text = pd.Series(cells.to_numpy(dtype=object, na_value=""), dtype=object).astype(str)
    text = text.str.strip()
    listed = text.str.match(_LIST).to_numpy(dtype=bool)
    plain = text.where(~listed, "")
    values, bad, _ = parse_numbers(plain, decimal)
    if bad.any():
        flag, unknown, _ = parse_flags(plain[bad])
        values[bad] = np.where(flag, 1.0, np.where(unknown, np.nan, 0.0))
        bad[np.flatnonzero(bad)[~unknown]] = False
    cells_text = text.to_numpy(dtype=object)
    for i in np.flatnonzero(listed):
        items = [x.strip() for x in str(cells_text[i])[1:-1].split(",") if x.strip()]
        if lists == "count":
            values[i] = float(len(items))
            continue
        numbers, wrong, _ = parse_numbers(pd.Series(items, dtype=object), ".")
        values[i] = float(np.nansum(numbers))
        bad[i] = bool(wrong.any())
    return np.nan_to_num(values, nan=0.0), bad


def read_visits(
    grid: Grid, options: SourceOptions, now: dt.datetime | None = None
) -> PathsReadResult:
    """Read a visits export's `Grid` (found by `looks_like_visits`) into journeys."""
    source = options.source
    columns = field_columns(grid, VISITS_MAP)
    frame = grid.frame
    n = len(frame)
    info = grid.info(source, "paths", "visits")
    keyed = key_and_time(
        grid,
        info,
        source,
        columns["visitor"],
        columns["time"],
        ("visitor id", "visit time", "date-time"),
    )
    visitor, times, parts = keyed.ids, keyed.times, keyed.quarantine
    keep = ~keyed.unreadable
    if keep.any() and "hh" not in times.format and "unix" not in times.format:
        info.warnings.append("visit times are dates only: visits of a day keep the file's order")

    utm, channel = _sources(frame, columns, n)
    lead, purchase, revenue = _conversions(grid, columns, options, info.warnings)
    lead_id = text_column(frame, columns.get("lead_id"), n)

    k = np.flatnonzero(keep)
    journey = split_journeys(visitor[k], times.values[k], (lead | purchase)[k])
    touches = tidy_touches(
        {
            "journey": journey,
            "visitor": visitor[k],
            "ts": times.values[k],
            **{key: values[k] for key, values in utm.items()},
            "channel": channel[k],
        },
        len(k),
        sort=False,
    )
    conv = {"lead": lead[k], "purchase": purchase[k], "revenue": revenue[k], "lead_id": lead_id[k]}
    outcomes = _outcomes(journey, visitor[k], times.values[k], conv)
    counts = journey_counts(touches, outcomes, dt.datetime.now() if now is None else now)
    touches = sort_touches(touches)
    if "visit_id" in columns:
        ids = text_column(frame, columns["visit_id"], n)[k]
        counts["duplicate_touches"] = int(pd.Series(ids[ids != ""]).duplicated().sum())
    info.rows_quarantined = int((~keep).sum())
    info.rows_ok = len(k)
    fill_info(info, touches, outcomes)
    info.warnings.extend(count_warnings(counts))
    return PathsReadResult(
        source=source,
        touches=touches,
        outcomes=outcomes,
        quarantine=concat_quarantine(parts),
        files=[info],
        shape="visits",
        counts=counts,
        window=span(touches, outcomes),
    )


def _sources(
    frame: pd.DataFrame, columns: dict[str, str], n: int
) -> tuple[dict[str, npt.NDArray[np.object_]], npt.NDArray[np.object_]]:
    """The UTM columns (``(not set)`` and the like blank) and each visit's channel: blank when
    it has UTMs, ``"Direct"`` for ``(direct) / (none)``, else its traffic source's channel."""
    utm = {
        key: normalise_utm(text_column(frame, columns.get(key), n))
        for key in ("utm_source", "utm_medium", "utm_campaign")
    }
    direct = is_direct(text_column(frame, columns.get("utm_source"), n), utm["utm_medium"])
    for values in utm.values():
        values[direct] = ""
    untagged = (utm["utm_source"] == "") & (utm["utm_medium"] == "") & (utm["utm_campaign"] == "")
    traffic = channel_of(text_column(frame, columns.get("traffic"), n))
    channel = np.where(untagged, traffic, "").astype(object)
    channel[direct] = "Direct"
    return utm, channel


def _conversions(
    grid: Grid, columns: dict[str, str], options: SourceOptions, warnings: list[str]
) -> tuple[Bools, Bools, Floats]:
    """Per visit: a lead (a goal reached or a lead id), a purchase (revenue above 0) and the
    revenue (times the rate); unreadable cells warned with their lines."""
    frame = grid.frame
    n = len(frame)
    lead = np.zeros(n, dtype=bool)
    names = {normalise_header(h): c for h, c in zip(grid.headers, frame.columns, strict=False)}
    for header in goal_columns(grid.headers):
        column = names[normalise_header(header)]
        values, bad = conversion_numbers(frame[column], grid.decimal, "count")
        lead |= values > 0
        if bad.any():
            where = first_lines(grid.lines[bad])
            warnings.append(
                f"{int(bad.sum())} goal cell(s) of {header!r} not a number or yes/no ({where}): "
                "those visits are kept as touches without a goal"
            )
    if "lead_id" in columns:
        lead |= text_column(frame, columns["lead_id"], n) != ""
    revenue = np.zeros(n, dtype=np.float64)
    if "revenue" in columns:
        values, bad = conversion_numbers(frame[columns["revenue"]], grid.decimal, "sum")
        negative = values < 0
        if (bad | negative).any():
            where = first_lines(grid.lines[bad | negative])
            warnings.append(
                f"{int((bad | negative).sum())} revenue cell(s) not a number or negative "
                f"({where}): no purchase taken from them"
            )
        revenue = np.where(bad | negative, 0.0, values) * options.money_factor("revenue")
    return lead, revenue > 0, revenue


def _outcomes(
    journey: npt.NDArray[np.object_],
    visitor: npt.NDArray[np.object_],
    ts: npt.NDArray[np.datetime64],
    conv: dict[str, npt.NDArray[Any]],
) -> pd.DataFrame:
    """A lead outcome per converting visit, a purchase per visit with revenue."""
    lead, purchase = conv["lead"], conv["purchase"]
    rows = np.concatenate([np.flatnonzero(lead), np.flatnonzero(purchase)])
    kinds = np.array(["lead"] * int(lead.sum()) + ["purchase"] * int(purchase.sum()), dtype=object)
    values = np.where(kinds == "purchase", conv["revenue"][rows], 0.0)
    data = {
        "journey": journey[rows],
        "visitor": visitor[rows],
        "ts": ts[rows],
        "kind": kinds,
        "value": values,
        "lead_id": conv["lead_id"][rows],
    }
    return tidy_outcomes(data, len(rows))
