"""`funnelplan runrate FILE`: run-rate per line and in total from a daily facts CSV."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from planning.errors import InputError
from planning.runrate import Method, forecast_cost, forecast_frame, month_progress, parse_month
from sheets_sync.cells import finite_number

COST_BASE = "spend"


def read_daily_csv(path: Path) -> pd.DataFrame:
    """The CSV with a `date` column parsed; a bad date names the file line and the value."""
    try:
        frame = pd.read_csv(path, sep=None, engine="python", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path.name} as CSV: {exc}") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    if "date" not in frame.columns:
        raise InputError(
            f"{path.name} has no `date` column; columns are: {', '.join(frame.columns)}"
        )
    dates = []
    for i, raw in enumerate(frame["date"]):
        try:
            dates.append(dt.date.fromisoformat(raw.strip()))
        except ValueError:
            raise InputError(
                "is not a date like 2026-11-17",
                line=f"{path.name}:{i + 2}",
                column="date",
                value=raw,
            ) from None
    frame["date"] = dates
    return frame


@dataclass(frozen=True)
class MetricForecast:
    """One metric of a line (or of the total): month to date, month-end run-rate and the daily
    rate it extrapolates."""

    mtd: float | None
    runrate: float | None
    daily_rate: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CostedForecast(MetricForecast):
    """A metric other than spend, when the CSV has spend: also the cost per unit at run-rate."""

    cost_runrate: float | None


@dataclass(frozen=True)
class ForecastLine:
    """One line: its key columns' values (channel, campaign) and a forecast per metric."""

    key: Mapping[str, Any]
    metrics: Mapping[str, MetricForecast]

    def to_dict(self) -> dict[str, Any]:
        return {**self.key, **{m: f.to_dict() for m, f in self.metrics.items()}}


@dataclass(frozen=True)
class CsvForecast:
    """`forecast_csv`: the month, the run-rate per line and in total; ``runrate --json`` prints
    its `to_dict`."""

    file: Path
    month: dt.date
    as_of: dt.date
    method: str
    window: int
    days_elapsed: int
    days_left: int
    keys: tuple[str, ...]
    metrics: tuple[str, ...]
    ignored_rows: int
    """Rows outside the month."""
    lines: tuple[ForecastLine, ...]
    total: Mapping[str, MetricForecast]

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.file),
            "month": f"{self.month:%Y-%m}",
            "as_of": self.as_of.isoformat(),
            "method": self.method,
            "window": self.window,
            "days_elapsed": self.days_elapsed,
            "days_left": self.days_left,
            "keys": list(self.keys),
            "metrics": list(self.metrics),
            "ignored_rows": self.ignored_rows,
            "lines": [line.to_dict() for line in self.lines],
            "total": {m: f.to_dict() for m, f in self.total.items()},
        }


def forecast_csv(
    path: Path,
    as_of: dt.date | None,
    month: str | None,
    window: int,
    method: str,
    keys: Sequence[str],
) -> CsvForecast:
    """Forecast every numeric column of the CSV per line (`keys`) and in total."""
    frame = read_daily_csv(path)
    keys = [k for k in keys if k in frame.columns]
    metrics = [c for c in frame.columns if c != "date" and c not in keys]
    for m in metrics:
        frame[m] = _numbers(frame[m], m, path)
    if frame.empty:
        raise InputError(f"{path.name} has no data rows")
    as_of = as_of or max(frame["date"])
    start = parse_month(month) if month else as_of.replace(day=1)
    progress = month_progress(start, as_of)
    end = start.replace(day=progress.days_in_month)
    in_month = frame["date"].map(lambda d: start <= d <= end)
    ignored = int((~in_month).sum())
    data = frame[in_month]
    meth: Method = method  # type: ignore[assignment]
    if keys:
        fc = forecast_frame(
            data, start, as_of, keys=keys, metrics=metrics, window=window, method=meth
        )
    else:
        fc = pd.DataFrame()
    total_frame = data.assign(_all="all")
    total = (
        forecast_frame(
            total_frame, start, as_of, keys=["_all"], metrics=metrics, window=window, method=meth
        ).iloc[0]
        if len(total_frame)
        else None
    )
    lines = tuple(
        ForecastLine(key={k: rec[k] for k in keys}, metrics=_forecasts(rec, metrics))
        for _, rec in fc.iterrows()
    )
    return CsvForecast(
        file=path,
        month=start,
        as_of=as_of,
        method=method,
        window=window,
        days_elapsed=progress.days_elapsed,
        days_left=progress.days_left,
        keys=tuple(keys),
        metrics=tuple(metrics),
        ignored_rows=ignored,
        lines=lines,
        total=_forecasts(total, metrics),
    )


def _forecasts(rec: pd.Series | None, metrics: Sequence[str]) -> dict[str, MetricForecast]:
    """Per metric, the forecast of one `forecast_frame` row (None: no rows in the month, so
    0 to date and no run-rate); with spend among the metrics, the others get a cost."""
    out: dict[str, MetricForecast] = {}
    for m in metrics:
        if rec is None:
            out[m] = MetricForecast(mtd=0.0, runrate=None, daily_rate=None)
            continue
        mtd = finite_number(rec[f"{m}_mtd"])
        runrate = finite_number(rec[f"{m}_rr"])
        daily_rate = finite_number(rec[f"{m}_rate"])
        if COST_BASE in metrics and m != COST_BASE:
            cost = finite_number(forecast_cost(rec[f"{COST_BASE}_rr"], rec[f"{m}_rr"]))
            out[m] = CostedForecast(mtd, runrate, daily_rate, cost_runrate=cost)
        else:
            out[m] = MetricForecast(mtd, runrate, daily_rate)
    return out


def _numbers(cells: pd.Series, column: str, path: Path) -> list[float]:
    """A metric column's CSV cells as numbers: blank is 0, a decimal comma and spaces are read;
    an error names the file's line (the header is line 1) for a non-number or a negative spend."""
    values = []
    for i, raw in enumerate(cells):
        text = raw.strip().replace("\u00a0", "").replace(" ", "")
        if text == "":
            values.append(0.0)
            continue
        try:
            v = float(text.replace(",", "."))
        except ValueError:
            raise InputError(
                "is not a number", line=f"{path.name}:{i + 2}", column=column, value=raw
            ) from None
        if column == COST_BASE and v < 0:
            raise InputError(
                "must not be negative", line=f"{path.name}:{i + 2}", column=column, value=raw
            )
        values.append(v)
    return values
