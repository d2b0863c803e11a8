"""CRM deals in the fact store: the ``deals`` table (created by `sheets_sync.store_schema`), in
the same database as the daily facts (DuckDB or PostgreSQL), one row per deal
(`sheets_sync.facts.DEAL_COLUMNS` with the file and load time).

`FactStore.load` calls `replace_deals` inside the transaction that loads the same input's facts,
and `FactStore.deals` reads them back (`deals`). The decisions:

* a CRM export is a snapshot of its deals: loading one replaces the source's deals that share
  an id with it (the last export of a deal id wins, wherever the deal was created) and the
  source's deals created inside the export's window (`sheets_sync.facts.input_window`, the days
  its facts are restated over), so a deal the CRM no longer exports disappears from the deals
  exactly as its facts disappear from the facts, and a deal only an older export of another
  window held stays;
* deals without an id (the export's blank IDs) cannot be matched by id: they are replaced by
  the window only;
* an id repeated in one input keeps its last row (the reader has already done so for a file);
* the same input again (its file hash already logged) changes nothing: `FactStore.load` skips
  the whole load before it gets here;
* a bad deals frame (a missing column, a deal without its created day, a revenue that is not a
  number) is an `InputError` before anything changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from planning.errors import InputError
from sheets_sync.facts import DEAL_COLUMNS, DEAL_STAGES, empty_deals, require_columns
from sheets_sync.store_backend import StoreConnection

__all__ = ["deals", "normalise_deals", "replace_deals"]

_TEXT = ("source", "id", "utm_source", "utm_medium", "utm_campaign")
_DAYS = ("created", *DEAL_STAGES)


def normalise_deals(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """A reader's deals checked and typed for the insert: texts (blank for missing), days at
    midnight, revenue a number (0 when missing); an id repeated keeps its last row."""
    require_columns(frame, DEAL_COLUMNS, "deals", "are")
    table = frame[list(DEAL_COLUMNS)].reset_index(drop=True)
    out = pd.DataFrame(index=table.index)
    for column in _TEXT:
        out[column] = table[column].fillna("").astype(str).str.strip().to_numpy(dtype=object)
    out["source"] = source
    for column in _DAYS:
        days = pd.to_datetime(table[column], errors="coerce")
        wrong = days.isna() & table[column].notna()
        if column == "created":
            wrong = days.isna()
        if wrong.any():
            pos = int(np.flatnonzero(wrong.to_numpy())[0])
            raise InputError(
                "is not a date" if column != "created" else "a deal needs its created day",
                line=pos,
                column=column,
                value=table[column].iloc[pos],
                has_value=not pd.isna(table[column].iloc[pos]),
            )
        out[column] = days.dt.tz_localize(None) if days.dt.tz is not None else days
        out[column] = out[column].dt.normalize().astype("datetime64[ns]")
    revenue = pd.to_numeric(table["revenue"], errors="coerce")
    bad = (~np.isfinite(revenue.fillna(0.0).to_numpy(dtype=np.float64))) | (
        revenue.isna() & table["revenue"].notna()
    ).to_numpy()
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise InputError(
            "is not a number", line=pos, column="revenue", value=table["revenue"].iloc[pos]
        )
    out["revenue"] = revenue.fillna(0.0).astype(np.float64)
    named = out["id"] != ""
    repeated = named & out["id"].duplicated(keep="last")
    return out[~repeated].reset_index(drop=True)


def replace_deals(
    con: StoreConnection,
    deals_frame: pd.DataFrame,
    source: str,
    window: tuple[dt.date, dt.date] | None,
    file: str,
    loaded_at: dt.datetime,
) -> tuple[int, int]:
    """Inside the caller's transaction: the source's deals sharing an id with `deals_frame`
    (normalised) or created in `window` deleted, `deals_frame` inserted; (inserted, deleted)."""
    where = ["id <> '' AND id IN (SELECT id FROM incoming_deal_ids)"]
    params: list[Any] = [source]
    if window is not None:
        where.append("created BETWEEN ? AND ?")
        params += list(window)
    ids = pd.DataFrame({"id": deals_frame["id"][deals_frame["id"] != ""].to_numpy(dtype=object)})
    con.register("incoming_deal_ids", ids)
    try:
        deleted = con.execute(
            f"DELETE FROM deals WHERE source = ? AND (({') OR ('.join(where)}))", params
        ).fetchall()
    finally:
        con.unregister("incoming_deal_ids")
    if deals_frame.empty:
        return 0, int(deleted[0][0]) if deleted else 0
    rows = deals_frame.assign(file=file, loaded_at=pd.Timestamp(loaded_at))
    columns = ", ".join(rows.columns)
    con.register("incoming_deals", rows)
    try:
        con.execute(f"INSERT INTO deals ({columns}) SELECT {columns} FROM incoming_deals")
    finally:
        con.unregister("incoming_deals")
    return len(rows), int(deleted[0][0]) if deleted else 0


def deals(
    con: StoreConnection,
    sources: Sequence[str] | None = None,
    created_from: dt.date | None = None,
    created_to: dt.date | None = None,
) -> pd.DataFrame:
    """The stored deals (`DEAL_COLUMNS`) of `sources` (None: all), created from
    `created_from` to `created_to` (inclusive; either may be None), sorted by source,
    created and id; days are ``datetime64[ns]`` (NaT: the stage not reached)."""
    where, params = ["TRUE"], list[Any]()
    if sources is not None:
        names = [sources] if isinstance(sources, str) else list(sources)
        if not names:
            return empty_deals()
        where.append(f"source IN ({', '.join('?' for _ in names)})")
        params += [str(n) for n in names]
    for bound, op in ((created_from, ">="), (created_to, "<=")):
        if bound is not None:
            if not isinstance(bound, dt.date):
                raise InputError(f"a deals bound must be a date, got {bound!r}")
            where.append(f"created {op} ?")
            params.append(bound.date() if isinstance(bound, dt.datetime) else bound)
    frame = con.execute(
        f"SELECT {', '.join(DEAL_COLUMNS)} FROM deals WHERE {' AND '.join(where)} "
        "ORDER BY source, created, id",
        params,
    ).df()
    if frame.empty:
        return empty_deals()
    out = pd.DataFrame({c: frame[c].astype(str).to_numpy(dtype=object) for c in _TEXT})
    for column in _DAYS:
        out[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]").to_numpy()
    out["revenue"] = frame["revenue"].astype(np.float64).to_numpy()
    return out[list(DEAL_COLUMNS)]
