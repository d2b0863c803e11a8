"""What every journeys reader returns, and what the three shapes share.

A journeys source (``kind = "paths"``) gives two long frames, one row per event:

touches (`TOUCH_COLUMNS`)
    ``journey`` (str), ``visitor`` (str: the restatement key, see below), ``ts``
    (``datetime64[ns]``), ``utm_source``, ``utm_medium``, ``utm_campaign`` (str, ``""`` when
    none) and ``channel`` (str, ``""`` when the input names no channel: a touch with UTMs leaves
    the channel to the Mapping rules; a direct visit is ``"Direct"``);
outcomes (`OUTCOME_COLUMNS`)
    ``journey``, ``visitor``, ``ts``, ``kind`` (``"lead"`` or ``"purchase"``), ``value``
    (float64, 0 when none, times the source's ``rate``) and ``lead_id`` (str, the CRM's id of
    the lead or deal when the input has one, else ``""``).

``visitor`` is what a newer export restates (`PathsReadResult.window`): the visitor id of a
visits export, whose visits split into journeys at each conversion (``clientid``,
``clientid#2`` …), and the journey itself for a CRM history or a SQL query.

The readers keep every row they can read, odd ones included (journeys without a conversion,
single touches, touches after a conversion, touches naming no channel, times out of order or
in the future, repeated touches, very long journeys): the attribution module filters them.
They are counted (`journey_counts`, `PathsReadResult.counts`) and said in each file's warnings.
Only rows that cannot be read at all (no id, no readable time) go to the quarantine.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from sheets_sync.facts import FileInfo
from sheets_sync.sources.cell_values import parse_dates
from sheets_sync.sources.fact_frames import expected_suffix, quarantine_cells, text_column
from sheets_sync.sources.textfile import BLANK_MARKERS, Bools, Grid, _objects

__all__ = [
    "COUNT_LABELS",
    "OUTCOME_COLUMNS",
    "OUTCOME_KINDS",
    "SHAPES",
    "TOUCH_COLUMNS",
    "PathsReadResult",
    "Times",
    "channel_of",
    "count_warnings",
    "empty_outcomes",
    "empty_touches",
    "fill_info",
    "first_lines",
    "is_direct",
    "journey_counts",
    "normalise_utm",
    "parse_times",
    "sort_touches",
    "span",
    "split_journeys",
    "tidy_outcomes",
    "tidy_touches",
]

TOUCH_COLUMNS: tuple[str, ...] = (
    "journey",
    "visitor",
    "ts",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "channel",
)
OUTCOME_COLUMNS: tuple[str, ...] = ("journey", "visitor", "ts", "kind", "value", "lead_id")
OUTCOME_KINDS: tuple[str, str] = ("lead", "purchase")
SHAPES: tuple[str, ...] = ("visits", "crm_history", "sql")
"""The three inputs: a web-analytics visits export, a CRM export with each deal's touch history
in one cell, a SQL query."""

LONG_JOURNEY = 20
"""Journeys with more touches than this are counted as long (kept as they are)."""

COUNT_LABELS: dict[str, str] = {
    "non_converting": "journey(s) without a conversion (kept: the paths that did not convert)",
    "single_touch": "journey(s) with a single touch",
    "no_touches": "converting journey(s) with no touch",
    "after_conversion": "touch(es) after their journey's first conversion",
    "no_channel": "touch(es) naming no channel and no UTM",
    "out_of_order": "touch(es) listed before an earlier one of their journey (sorted by time)",
    "future": "touch(es) or conversion(s) dated in the future",
    "duplicate_touches": "repeated touch(es) (same journey, time and source; kept)",
    "long": f"journey(s) of more than {LONG_JOURNEY} touches",
}
"""The odd inputs counted, as a file's warnings word them."""


@dataclass(frozen=True)
class PathsReadResult:
    """One journeys input, read (one file, or one SQL query)."""

    source: str
    touches: pd.DataFrame
    """`TOUCH_COLUMNS`, sorted by journey and time (input order kept among equal times)."""
    outcomes: pd.DataFrame
    """`OUTCOME_COLUMNS`, sorted by journey and time."""
    quarantine: pd.DataFrame
    """`sheets_sync.facts.QUARANTINE_COLUMNS`: the rows that could not be read at all."""
    files: list[FileInfo]
    """How each input was read (kind ``"paths"``, platform = the shape); totals ``touches``,
    ``journeys``, ``leads``, ``purchases``, ``revenue``."""
    shape: str = "visits"
    """One of `SHAPES`."""
    counts: dict[str, int] = field(default_factory=dict)
    """`journey_counts`: touches, outcomes, journeys, converting and the odd inputs."""
    window: tuple[dt.datetime, dt.datetime] | None = None
    """What a load restates: the source's rows of the read's visitors from ``window[0]`` to
    ``window[1]`` (inclusive); None: every row of the read's visitors. A visits export
    restates its time span (an older export may hold earlier visits of the same visitors), a
    CRM history whole deals, a SQL query whole journeys or, asked for a date range, that
    range."""


def empty_touches() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=str) for c in TOUCH_COLUMNS})
    frame["ts"] = pd.Series(dtype="datetime64[ns]")
    return frame


def empty_outcomes() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=str) for c in OUTCOME_COLUMNS})
    frame["ts"] = pd.Series(dtype="datetime64[ns]")
    frame["value"] = pd.Series(dtype="float64")
    return frame


def _texts(values: Any, n: int) -> npt.NDArray[np.object_]:
    if np.isscalar(values) or values is None:
        return np.full(n, "" if values is None else str(values), dtype=object)
    return np.asarray(values, dtype=object)


def tidy_touches(data: Mapping[str, Any], n: int, sort: bool = True) -> pd.DataFrame:
    """A touches frame (`TOUCH_COLUMNS`) from columns (arrays or scalars), sorted by journey
    and time (`sort_touches`) unless `sort` is False (the input's order, for
    `journey_counts`)."""
    if not n:
        return empty_touches()
    columns = {c: _texts(data.get(c, ""), n) for c in TOUCH_COLUMNS if c != "ts"}
    frame = pd.DataFrame({**columns, "ts": np.asarray(data["ts"], dtype="datetime64[ns]")})
    frame = frame[list(TOUCH_COLUMNS)].astype({c: str for c in columns})
    return sort_touches(frame) if sort else frame


def sort_touches(touches: pd.DataFrame) -> pd.DataFrame:
    """Touches by journey and time, the input's order kept among equal times."""
    return touches.sort_values(["journey", "ts"], kind="stable", ignore_index=True)


def tidy_outcomes(data: Mapping[str, Any], n: int) -> pd.DataFrame:
    """An outcomes frame (`OUTCOME_COLUMNS`), sorted by journey, time and kind (lead first)."""
    if not n:
        return empty_outcomes()
    columns = {c: _texts(data.get(c, ""), n) for c in ("journey", "visitor", "kind", "lead_id")}
    frame = pd.DataFrame(
        {
            **columns,
            "ts": np.asarray(data["ts"], dtype="datetime64[ns]"),
            "value": np.asarray(data.get("value", np.zeros(n)), dtype=np.float64),
        }
    )
    frame = frame[list(OUTCOME_COLUMNS)].astype({c: str for c in columns})
    return frame.sort_values(["journey", "ts", "kind"], kind="stable", ignore_index=True)


# --------------------------------------------------------------------------- times


@dataclass
class Times:
    """Parsed time cells: ``datetime64[ns]`` (NaT where blank or bad), masks, the format."""

    values: npt.NDArray[np.datetime64]
    bad: Bools
    blank: Bools
    format: str
    warnings: list[str] = field(default_factory=list)


@dataclass
class KeyedRows:
    """A journeys file's row keys: the id column's texts and the time column parsed, the rows
    that lack either (quarantined, in `quarantine`)."""

    ids: npt.NDArray[np.object_]
    times: Times
    unreadable: Bools
    quarantine: list[pd.DataFrame]


def key_and_time(
    grid: Grid,
    info: FileInfo,
    source: str,
    id_col: str,
    time_col: str,
    labels: tuple[str, str, str],
) -> KeyedRows:
    """Read the id and time columns every journeys reader starts from; rows with a blank id,
    a blank time or a time that does not parse are quarantined with the cell and the reason.
    `labels`: what the id and the time are called in the reasons, and the time's kind (``"deal
    id"``, ``"created date"``, ``"date"``). The time's format and warnings go to `info`."""
    id_label, time_label, kind = labels
    frame = grid.frame
    ids = text_column(frame, id_col, len(frame))
    no_id = ids == ""
    parts = [quarantine_cells(grid, source, no_id, id_col, f"{id_label} is blank")]
    times = parse_times(frame[time_col], what=time_col)
    info.date_format = times.format
    info.warnings.extend(times.warnings)
    parts.append(
        quarantine_cells(grid, source, times.blank & ~no_id, time_col, f"{time_label} is blank")
    )
    reason = f"is not a {kind}{expected_suffix(times.format)}"
    parts.append(quarantine_cells(grid, source, times.bad & ~no_id, time_col, reason))
    return KeyedRows(ids, times, no_id | times.blank | times.bad, parts)


_DIGITS = re.compile(r"^\d{8,19}$")
_EPOCH_UNITS = (
    (18, 1, "unix nanoseconds"),
    (15, 1_000, "unix microseconds"),
    (12, 1_000_000, "unix milliseconds"),
)
"""(digits from, nanoseconds per unit, name) of a column of whole numbers; below: seconds."""


def parse_times(values: pd.Series | npt.NDArray[Any], what: str = "time") -> Times:
    """Date-time cells: the text formats of `parse_dates` (``dd.mm.yyyy hh:mm:ss``, ISO …), or
    a column of whole numbers: ``yyyymmdd`` (GA4's ``event_date``), unix seconds, milliseconds
    or microseconds (GA4's ``event_timestamp``: UTC, kept as naive UTC)."""
    cells = pd.Series(_objects(values), dtype=object).str.strip()
    blank = cells.isin(BLANK_MARKERS).to_numpy(dtype=bool)
    filled = cells[~blank]
    digits = filled.str.fullmatch(_DIGITS)
    if len(filled) and digits.mean() > 0.5:  # stray texts in a number column are bad cells
        return _number_times(cells, blank, filled[digits])
    parsed = parse_dates(cells, what=what)
    return Times(parsed.values, parsed.bad, parsed.blank, parsed.format, parsed.warnings)


def _number_times(cells: pd.Series, blank: Bools, filled: pd.Series) -> Times:
    width = int(filled.str.len().max())
    text = cells.where(~blank & cells.str.fullmatch(_DIGITS), "")
    if width == 8:
        stamps = pd.to_datetime(text, format="%Y%m%d", errors="coerce")
        out = np.asarray(stamps.to_numpy(dtype="datetime64[ns]"), dtype="datetime64[ns]")
        human = "yyyymmdd"
    else:
        scale, human = next(((f, h) for w, f, h in _EPOCH_UNITS if width >= w), (10**9, "unix"))
        numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        ok = np.isfinite(numbers)
        out = np.full(len(cells), np.datetime64("NaT"), dtype="datetime64[ns]")
        out[ok] = (np.rint(numbers[ok]).astype(np.int64) * scale).astype("datetime64[ns]")
    bad = np.isnat(out) & ~blank
    return Times(out, bad, blank, human)


# --------------------------------------------------------------------------- sources


_NO_VALUE = frozenset(
    {"(not set)", "(none)", "(not provided)", "not set", "не определено", "не указано", "none"}
)
_DIRECT = frozenset(
    {"(direct)", "direct", "прямые заходы", "прямой заход", "прямые", "direct traffic"}
)


def normalise_utm(values: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """UTM cells trimmed, with the analytics' "no value" words (``(not set)``, ``(none)`` …)
    as ``""``."""
    out = np.array([str(v).strip() for v in values], dtype=object)
    if len(out):
        low = np.char.lower(out.astype(str))
        out[np.isin(low, list(_NO_VALUE | BLANK_MARKERS))] = ""
    return out


def is_direct(source: npt.NDArray[np.object_], medium: npt.NDArray[np.object_]) -> Bools:
    """GA's ``(direct) / (none)`` (also written ``direct / none``, ``Прямые заходы``)."""
    low = np.char.lower(np.asarray(source, dtype=str))
    med = np.char.lower(np.asarray(medium, dtype=str))
    return np.isin(low, list(_DIRECT)) & np.isin(med, ["", "(none)", "none", "(not set)"])


_TRAFFIC: dict[str, str] = {
    **dict.fromkeys(("прямые заходы", "direct traffic", "direct", "(direct)"), "Direct"),
    **dict.fromkeys(
        ("переходы из поисковых систем", "search engine traffic", "organic", "organic search"),
        "Organic Search",
    ),
    **dict.fromkeys(
        ("переходы по ссылкам на сайтах", "link traffic", "referral", "referrals"), "Referral"
    ),
    **dict.fromkeys(
        ("переходы из социальных сетей", "social network traffic", "social", "organic social"),
        "Social",
    ),
    **dict.fromkeys(("внутренние переходы", "internal traffic", "internal"), "Internal"),
    **dict.fromkeys(
        ("переходы из рекомендательных систем", "recommendation system traffic", "recommend"),
        "Recommendations",
    ),
    **dict.fromkeys(("переходы из мессенджеров", "messenger traffic", "messenger"), "Messengers"),
    **dict.fromkeys(
        ("переходы из почтовых рассылок", "mailing traffic", "email", "e-mail"), "Email"
    ),
    **dict.fromkeys(
        ("переходы с сохранённых страниц", "переходы с сохраненных страниц", "saved"),
        "Saved pages",
    ),
    **dict.fromkeys(
        ("рекламные переходы", "переходы по рекламе", "ad traffic", "ad"), "Ad (no UTM)"
    ),
    **dict.fromkeys(("unassigned", "undefined", "не определено", "(other)"), ""),
}
"""Metrica's traffic sources (report names in Russian and English, Logs API codes) and GA4's
default channel groups as channels; a name not listed is kept as written."""


def channel_of(traffic: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """The channel a traffic-source cell names (see `_TRAFFIC`); ``""`` for blank."""
    out = np.empty(len(traffic), dtype=object)
    for i, value in enumerate(traffic):
        text = str(value).strip()
        out[i] = _TRAFFIC.get(text.casefold(), text)
    return out


# --------------------------------------------------------------------------- journeys


def split_journeys(
    visitor: npt.NDArray[np.object_],
    ts: npt.NDArray[np.datetime64],
    converts: Bools,
) -> npt.NDArray[np.object_]:
    """Journey ids of visits: a visitor's visits up to and including a converting visit are
    one journey; the visits after it start the next (``clientid``, ``clientid#2`` …). A visit
    belongs to journey 1 + the number of the visitor's distinct conversion times before it, so
    every visit at a conversion's time (the converting visit, a repeat of it) stays in that
    conversion's journey."""
    n = len(visitor)
    if not n:
        return np.zeros(0, dtype=object)
    frame = pd.DataFrame({"v": np.asarray(visitor, dtype=object), "ts": ts, "i": np.arange(n)})
    frame = frame.sort_values("ts", kind="stable")
    conv = frame.loc[np.asarray(converts, dtype=bool)[frame["i"].to_numpy()], ["v", "ts"]]
    conv = conv.drop_duplicates().sort_values(["v", "ts"], kind="stable")
    number = np.ones(n, dtype=np.int64)
    if len(conv):
        conv = conv.assign(k=conv.groupby("v").cumcount() + 1).sort_values("ts", kind="stable")
        merged = pd.merge_asof(
            frame,
            conv.rename(columns={"ts": "cts"}),
            left_on="ts",
            right_on="cts",
            by="v",
            allow_exact_matches=False,
        )
        number[merged["i"].to_numpy()] = merged["k"].fillna(0).to_numpy(dtype=np.int64) + 1
    base = np.asarray(visitor, dtype=object)
    suffix = np.where(number > 1, np.char.add("#", number.astype(str)), "")
    return np.asarray(base + suffix.astype(object), dtype=object)


def journey_counts(
    touches: pd.DataFrame, outcomes: pd.DataFrame, now: dt.datetime
) -> dict[str, int]:
    """The counts a read reports: ``touches``, ``outcomes``, ``journeys``, ``converting`` and
    the odd inputs of `COUNT_LABELS` (plus ``longest``, the most touches in a journey).
    `touches` in the input's order (``out_of_order`` is a touch earlier than one listed before
    it in its journey)."""
    journeys = _journey_ids(touches, outcomes)
    per = touches.groupby("journey", sort=False).size()
    first_conv = outcomes.groupby("journey")["ts"].min()
    conv_of_touch = touches["journey"].map(first_conv)
    no_utm = (touches[["utm_source", "utm_medium", "utm_campaign", "channel"]] == "").all(axis=1)
    earlier = touches.groupby("journey", sort=False)["ts"].cummax()
    previous = earlier.groupby(touches["journey"], sort=False).shift()
    future = np.datetime64(now.replace(tzinfo=None), "ns")
    keys = ["journey", "ts", "utm_source", "utm_medium", "utm_campaign", "channel"]
    return {
        "touches": len(touches),
        "outcomes": len(outcomes),
        "journeys": len(journeys),
        "converting": int(first_conv.size),
        "non_converting": int(len(journeys) - first_conv.size),
        "single_touch": int((per == 1).sum()),
        "no_touches": int((~first_conv.index.isin(per.index)).sum()),
        "after_conversion": int((touches["ts"] > conv_of_touch).sum()),
        "no_channel": int(no_utm.sum()),
        "out_of_order": int((touches["ts"] < previous).sum()),
        "future": int((touches["ts"] > future).sum() + (outcomes["ts"] > future).sum()),
        "duplicate_touches": int(touches.duplicated(keys).sum()),
        "long": int((per > LONG_JOURNEY).sum()),
        "longest": int(per.max()) if len(per) else 0,
    }


def _journey_ids(touches: pd.DataFrame, outcomes: pd.DataFrame) -> pd.Index:
    both = pd.concat([touches["journey"], outcomes["journey"]], ignore_index=True)
    return pd.Index(both.unique())


def count_warnings(counts: Mapping[str, int]) -> list[str]:
    """The odd inputs of `counts` as warning sentences (zero counts left out)."""
    out = [f"{counts[k]} {label}" for k, label in COUNT_LABELS.items() if counts.get(k)]
    if counts.get("long"):
        out[-1] += f" (the longest has {counts.get('longest', 0)})"
    return out


def fill_info(info: FileInfo, touches: pd.DataFrame, outcomes: pd.DataFrame) -> None:
    """A journeys read's `FileInfo` totals, dates and newest point."""
    kinds = outcomes["kind"]
    info.totals = {
        "touches": float(len(touches)),
        "journeys": float(len(_journey_ids(touches, outcomes))),
        "leads": float((kinds == "lead").sum()),
        "purchases": float((kinds == "purchase").sum()),
        "revenue": float(outcomes.loc[kinds == "purchase", "value"].sum()),
    }
    stamps = pd.concat([touches["ts"], outcomes["ts"]], ignore_index=True).dropna()
    if len(stamps):
        info.date_from = stamps.min().date()
        info.date_to = stamps.max().date()
        info.latest = stamps.max().to_pydatetime()


def span(touches: pd.DataFrame, outcomes: pd.DataFrame) -> tuple[dt.datetime, dt.datetime] | None:
    """The first and last time of a read (None when it has no row)."""
    stamps = pd.concat([touches["ts"], outcomes["ts"]], ignore_index=True).dropna()
    if not len(stamps):
        return None
    return stamps.min().to_pydatetime(), stamps.max().to_pydatetime()


def first_lines(lines: Sequence[int] | npt.NDArray[np.int64], limit: int = 5) -> str:
    """``"lines 4, 9, 12"`` (the first `limit`, then ``…``)."""
    shown = [str(int(x)) for x in list(lines)[:limit]]
    more = " …" if len(lines) > limit else ""
    return ("line " if len(lines) == 1 else "lines ") + ", ".join(shown) + more
