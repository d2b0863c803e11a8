"""What Sync Facts reports: a `FileLoad` per input and the `SyncResult` (the CLI prints it,
``--json`` and the demo take its `to_dict`), and the `Progress` callback the steps report to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from addin.actions.refresh_cohorts import CohortsOutcome
from addin.actions.refresh_runrate import RefreshResult
from sheets_sync.cells import json_value
from sheets_sync.quality import QualityReport

Progress = Callable[[str, int, int], None]
"""``progress(message, done, total)``: what the sync is doing, for a progress bar."""


def no_progress(message: str, done: int, total: int) -> None:
    return None


@dataclass
class FileLoad:
    """One input as read and loaded."""

    source: str
    kind: str
    file: str
    rows_read: int
    rows_ok: int
    quarantined: int
    duplicates: int
    skipped: bool
    """Already in the store (same file, same options): nothing changed."""
    rows_loaded: int
    replaced: int
    date_from: dt.date | None
    date_to: dt.date | None

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        for key in ("date_from", "date_to"):
            out[key] = None if out[key] is None else out[key].isoformat()
        return out


@dataclass
class SyncResult:
    """What Sync Facts did."""

    workbook: str
    month: dt.date
    as_of: dt.date | None
    loads: list[FileLoad]
    metrics: list[str]
    """The Plan ``f`` columns written (metric names)."""
    lines: int
    lines_filled: int
    lines_without_facts: list[str]
    unplanned: pd.DataFrame
    """The Unmapped sheet's rows (`layout.UNMAPPED_HEADERS`)."""
    quality: QualityReport
    filled: dict[str, float] = field(default_factory=dict)
    """Per metric written, the sum of the Plan's ``f`` cells."""
    daily_rows: int = 0
    mapping_created: bool = False
    refresh: RefreshResult | None = None
    cohorts: CohortsOutcome | None = None
    """The Cohorts sheet's update (the deals, the report written)."""

    @property
    def unmapped_spend(self) -> float:
        """Spend of the source lines no Mapping rule matched (on the Unmapped sheet)."""
        return float(self._spend_by_status().get("unmapped", 0.0))

    @property
    def unplanned_spend(self) -> float:
        """Spend mapped to a line the Plan does not have (on the Unmapped sheet)."""
        return float(self._spend_by_status().get("unplanned", 0.0))

    def _spend_by_status(self) -> dict[str, float]:
        un = self.unplanned
        if not len(un) or "spend" not in un:
            return {}
        return {str(k): float(v) for k, v in un.groupby("status")["spend"].sum().items()}

    def to_dict(self) -> dict[str, Any]:
        un = self.unplanned
        return {
            "workbook": self.workbook,
            "month": f"{self.month:%Y-%m}",
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "loads": [f.to_dict() for f in self.loads],
            "metrics": list(self.metrics),
            "lines": self.lines,
            "lines_filled": self.lines_filled,
            "lines_without_facts": list(self.lines_without_facts),
            "filled": dict(self.filled),
            "daily_rows": self.daily_rows,
            "unmapped_spend": self.unmapped_spend,
            "unplanned_spend": self.unplanned_spend,
            "unmapped": [
                {k: json_value(v) for k, v in rec.items()} for rec in un.to_dict("records")
            ],
            "mapping_created": self.mapping_created,
            "runrate_lines": None if self.refresh is None else self.refresh.lines_forecast,
            "quality": self.quality.to_dict(),
        }
