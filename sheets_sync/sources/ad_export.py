"""Ad-platform exports (Google Ads, Yandex Direct, Meta Ads, VK Ads, configured maps) -> facts.

An export is one row per day and campaign (optionally per ad group) with spend, impressions,
clicks and the platform's own conversions, in either language and the platform's usual CSV or
XLSX shape. `read_ad_export` finds the header (`detect_platform` over `BUILTIN_MAPS`, or the
source's configured `ColumnMap`), reads every row vectorised and returns `ReadResult` facts:
``spend`` (times the source's rate, without VAT when the export includes it), ``impressions``,
``traffic`` (clicks) and ``platform_leads`` (conversions), basis ``"event"``, with the platform's
UTM source and ``"cpc"`` as ``utm_source`` / ``utm_medium`` and the campaign as ``utm_campaign``.

Decisions:

* a blank or ``--`` count cell (impressions, clicks, conversions) is 0: platforms write that for
  "none"; a blank spend cell is not guessed, the row is quarantined;
* a row is quarantined (each bad cell listed with its line) when its date is blank, not a
  date or after the sync's clock (`SourceOptions.today`: "date in the future"), its campaign
  is blank, a metric is not a number, or a metric is negative;
* a row covering a period (Meta without a daily breakdown: "Reporting starts" ..
  "Reporting ends") is refused unless the source spreads periods (`ad_periods` says why);
* a file with too much dated after the plan month (`SourceOptions.month`), or nothing in
  it, is flagged (`ad_periods.outside_flags`);
* the natural key is date + campaign (+ ad group when the export has that column, in which case
  the rows are summed per date and campaign): a repeated key is a duplicate, the LAST row is
  kept (a re-appended export restates the day), the dropped rows are counted with their values;
  quarantined rows take no part in de-duplication;
* totals rows ("Итого", "Total: Account" …, and a summary row written as data: Meta's first
  row with a blank campaign that sums the rows; `ad_totals.split_summary`) are not data: they
  are parsed into `FileInfo.file_totals_row` (normalised like the rows) and checked against
  ``totals + quarantined_totals + duplicate_totals``; a disagreement beyond rounding is a flag
  (`FileInfo.flags`) that makes the sync not ok (`ad_totals.total_flags`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from planning.errors import InputError
from sheets_sync.facts import FileInfo, ReadResult
from sheets_sync.quality_text import DUPLICATE_ROWS
from sheets_sync.sources.ad_periods import (
    future_rows,
    outside_flags,
    period_days,
    refuse_periods,
    spread,
)
from sheets_sync.sources.ad_totals import split_summary, total_flags, totals_row
from sheets_sync.sources.cell_values import DateParse, parse_numbers
from sheets_sync.sources.column_map import AD_ALIASES, GROUP_ALIASES, ColumnMap, SourceOptions
from sheets_sync.sources.fact_frames import (
    concat_quarantine,
    date_window,
    dimension_keys,
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

__all__ = [
    "AD_METRICS",
    "BUILTIN_MAPS",
    "ColumnMap",
    "SourceOptions",
    "detect_platform",
    "read_ad_export",
    "resolve_map",
]

AD_METRICS: dict[str, str] = {
    "spend": "spend",
    "impressions": "impressions",
    "clicks": "traffic",
    "conversions": "platform_leads",
}
"""Ad-export field -> fact metric."""

_GROUP = GROUP_ALIASES
_AD = AD_ALIASES

BUILTIN_MAPS: dict[str, ColumnMap] = {
    "google_ads": ColumnMap(
        "google_ads",
        {
            "date": ("Day", "День"),
            "campaign": ("Campaign", "Кампания"),
            "spend": ("Cost", "Стоимость", "Расходы"),
            "impressions": ("Impr.", "Impressions", "Показы"),
            "clicks": ("Clicks", "Клики"),
            "conversions": ("Conversions", "Конверсии"),
            "currency": ("Currency code", "Currency", "Код валюты", "Валюта"),
            "group": _GROUP,
            "ad": _AD,
        },
        utm_source="google",
        required=("date", "campaign", "spend"),
    ),
    "yandex_direct": ColumnMap(
        "yandex_direct",
        {
            "date": ("Дата", "Date"),
            "campaign": ("Кампания", "Название кампании", "Campaign"),
            "spend": ("Расход (руб.)", "Расход", "Cost (RUB)", "Cost"),
            "impressions": ("Показы", "Impressions"),
            "clicks": ("Клики", "Clicks"),
            "conversions": ("Конверсии", "Conversions"),
            "group": _GROUP,
            "ad": _AD,
        },
        utm_source="yandex",
        required=("date", "campaign", "spend"),
    ),
    "meta_ads": ColumnMap(
        "meta_ads",
        {
            "date": ("Day", "День", "Reporting starts", "Начало отчетности"),
            "date_end": ("Reporting ends", "Окончание отчетности", "Окончание отчётности"),
            "campaign": ("Campaign name", "Название кампании"),
            "spend": (
                r"re:amount spent(\s*\(.*\))?",
                r"re:потраченная сумма(\s*\(.*\))?",
            ),
            "impressions": ("Impressions", "Показы"),
            "clicks": ("Link clicks", "Клики по ссылке"),
            "conversions": ("Results", "Результаты"),
            "currency": ("Currency", "Валюта"),
            "group": _GROUP,
            "ad": _AD,
        },
        utm_source="facebook",
        required=("date", "campaign", "spend"),
    ),
    "vk_ads": ColumnMap(
        "vk_ads",
        {
            "date": ("Дата", "Date"),
            "campaign": ("Кампания", "Campaign"),
            "spend": ("Потрачено", "Spent"),
            "impressions": ("Показы", "Impressions"),
            "clicks": ("Клики", "Clicks"),
            "conversions": ("Результаты", "Results"),
            "group": _GROUP,
            "ad": _AD,
        },
        utm_source="vk",
        required=("date", "campaign", "spend"),
    ),
}
"""The built-in column maps, in detection order (ties go to the earlier one)."""


def detect_platform(headers: Sequence[str]) -> str | None:
    """The built-in map whose required fields the headers hold, with the most fields matched."""
    best: tuple[int, str] | None = None
    for name, cmap in BUILTIN_MAPS.items():
        found = cmap.resolve(headers)
        if all(f in found for f in cmap.required) and (best is None or len(found) > best[0]):
            best = (len(found), name)
    return None if best is None else best[1]


def resolve_map(options: SourceOptions) -> ColumnMap | None:
    """The map ``options`` force (configured, or a built-in by name); None = detect."""
    if options.column_map is not None:
        return options.column_map
    if options.platform:
        try:
            return BUILTIN_MAPS[options.platform]
        except KeyError:
            known = ", ".join(BUILTIN_MAPS)
            raise InputError(
                f"unknown platform for source {options.source!r} (known: {known})",
                value=options.platform,
            ) from None
    return None


def read_ad_export(path: Path | str | SheetRows, options: SourceOptions) -> ReadResult:
    """Read one ad-platform export (CSV/TSV or XLSX, or a sheet's `SheetRows`) into daily
    facts; see the module notes."""
    forced = resolve_map(options)

    def is_header(cells: list[str]) -> bool:
        if forced is not None:
            found = forced.resolve(cells)
            return all(f in found for f in forced.required) and any(f in found for f in AD_METRICS)
        return detect_platform(cells) is not None

    def pick(headers: list[str]) -> ColumnMap:
        if forced is not None:
            return forced
        name = detect_platform(headers)
        assert name is not None  # the header test found it
        return BUILTIN_MAPS[name]

    def numeric(headers: list[str]) -> list[str]:
        found = pick(headers).resolve(headers)
        return [found[f] for f in AD_METRICS if f in found]

    grid = read_grid(path, is_header, what="ad export", numeric=numeric)
    return _read(grid, pick(grid.headers), options)


def _read(grid: Grid, cmap: ColumnMap, options: SourceOptions) -> ReadResult:
    columns = field_columns(grid, cmap)
    grid = split_summary(grid, columns)
    frame = grid.frame
    n = len(frame)
    source = options.source
    info = grid.info(source, "ad", cmap.name)
    parts: list[pd.DataFrame] = []
    bad: Bools = np.zeros(n, dtype=bool)

    dates, undated = flag_dates(grid, source, columns["date"], info, parts)
    bad |= undated | future_rows(grid, source, columns["date"], dates, options.today, parts)
    days = _period_rows(grid, columns, dates, info, options, parts)
    bad |= days < 1

    campaign_column = columns["campaign"]
    campaign = stripped_codes(frame[campaign_column])
    no_campaign = campaign.codes < 0
    parts.append(quarantine_cells(grid, source, no_campaign, campaign_column, "campaign is blank"))
    bad |= no_campaign

    raw, unreadable = _metric_values(grid, columns, options, parts)
    bad |= unreadable

    day_codes = pd.factorize(dates.values)[0].astype(np.int64)
    key = day_codes * np.int64(len(campaign.categories) + 1) + (campaign.codes + 1)
    levels = [f for f in ("group", "ad") if f in columns]
    aggregate = bool(levels)
    for fieldname in levels:  # a row per ad group or ad: summed, not duplicates
        group = stripped_codes(frame[columns[fieldname]])
        key = key * np.int64(len(group.categories) + 1) + (group.codes + 1)
    duplicate = last_duplicates(key, bad)  # rows kept have a date and campaign: key >= 0
    keep = ~bad & ~duplicate
    if duplicate.any():
        lines = ", ".join(str(x) for x in grid.lines[duplicate][:10])
        info.warnings.append(
            DUPLICATE_ROWS[tuple(levels)].format(n=int(duplicate.sum()), lines=lines)
        )
    if "currency" in columns:
        info.warnings.extend(_currency_warnings(frame[columns["currency"]], options.rate))
    parts_of_facts = _facts(grid, cmap, columns, options, (dates, days, campaign, raw, keep), info)
    spread_any = bool((days[keep] > 1).any())  # spread days may meet a day row: summed
    facts = long_facts(*parts_of_facts, "event", aggregate=aggregate or spread_any)
    quarantine = concat_quarantine(parts)
    tally(info, raw, bad, duplicate)
    info.file_totals_row, total_line = totals_row(grid, columns, AD_METRICS, options, info.warnings)
    info.flags += total_flags(info, total_line, options)
    spend = raw["spend"][keep] if "spend" in raw else None
    info.flags += outside_flags(info, dates.values[keep], spend, options.month)
    date_window(info, facts)
    if info.date_to is not None:
        info.latest = dt.datetime.combine(info.date_to, dt.time(23, 59, 59))
    if n == 0:
        info.warnings.append("no data rows below the header")
    return ReadResult(facts=facts, quarantine=quarantine, info=info)


def _period_rows(
    grid: Grid,
    columns: dict[str, str],
    dates: DateParse,
    info: FileInfo,
    options: SourceOptions,
    parts: list[pd.DataFrame],
) -> Ints:
    """Per row, the days it covers (`ad_periods`): 1 for a day row; 0 for a row refused (a
    period without ``spread_periods``, or one ending before it starts), quarantined in
    `parts`."""
    days: Ints = np.ones(len(grid.frame), dtype=np.int64)
    periods = period_days(grid, columns, dates)
    if periods is None:
        return days
    days, backwards = periods
    reason = "period ends before it starts"
    parts.append(quarantine_cells(grid, options.source, backwards, columns["date_end"], reason))
    days = np.where(backwards, 0, days)
    if not options.spread_periods:
        days = np.where(refuse_periods(grid, options.source, columns, days, info, parts), 0, days)
    return days


def _take(values: Any, rows: Ints) -> Any:
    """``values`` (a Categorical or an array) at ``rows``."""
    if isinstance(values, pd.Categorical):
        return values.take(rows)
    return np.asarray(values, dtype=object)[rows]


_Kept = tuple[DateParse, Ints, pd.Categorical, dict[str, Floats], Bools]


def _facts(
    grid: Grid,
    cmap: ColumnMap,
    columns: dict[str, str],
    options: SourceOptions,
    kept: _Kept,
    info: FileInfo,
) -> tuple[npt.NDArray[np.datetime64], str, dict[str, Any], dict[str, Floats]]:
    """`long_facts`' arguments from the kept rows: dates, keys and metrics, each period row
    spread over its days (`ad_periods.spread`; a day row stays one row)."""
    dates, days, campaign, raw, keep = kept
    frame, n = grid.frame, len(grid.frame)
    utm_source: Any = cmap.utm_source or options.source
    utm_medium: Any = cmap.utm_medium
    if "utm_source" in columns:
        utm_source = text_column(frame, columns["utm_source"], n, str(utm_source))[keep]
    if "utm_medium" in columns:
        utm_medium = text_column(frame, columns["utm_medium"], n, str(utm_medium))[keep]
    keys: dict[str, Any] = {
        "utm_source": utm_source,
        "utm_medium": utm_medium,
        "utm_campaign": campaign[keep],
        **{d: v[keep] for d, v in dimension_keys(frame, columns, n).items()},
    }
    metrics = {m: v[keep] for m, v in raw.items()}
    day_values = dates.values[keep]
    if (days[keep] > 1).any():
        plan = spread(day_values, days[keep], info)
        day_values = plan.dates
        keys = {
            k: v if np.isscalar(v) else np.asarray(v, dtype=object)[plan.rows]
            for k, v in keys.items()
        }
        metrics = {m: v[plan.rows] * plan.share for m, v in metrics.items()}
    return day_values, options.source, keys, metrics


def _metric_values(
    grid: Grid, columns: dict[str, str], options: SourceOptions, parts: list[pd.DataFrame]
) -> tuple[dict[str, Floats], Bools]:
    """Each metric column as numbers (times the source's rate for money; a blank count is 0),
    and the rows with an unreadable, negative or (spend) blank cell, quarantined in `parts`."""
    source = options.source
    raw: dict[str, Floats] = {}
    bad: Bools = np.zeros(len(grid.frame), dtype=bool)
    for fieldname, metric in AD_METRICS.items():
        if fieldname not in columns:
            continue
        column = columns[fieldname]
        values, wrong, blank = parse_numbers(grid.frame[column], grid.decimal)
        negative = np.nan_to_num(values, nan=0.0) < 0
        parts.append(quarantine_cells(grid, source, wrong, column, "is not a number"))
        parts.append(quarantine_cells(grid, source, negative, column, f"{metric} is negative"))
        bad |= wrong | negative
        if metric == "spend":
            parts.append(quarantine_cells(grid, source, blank, column, "spend is blank"))
            bad |= blank
        else:
            values = np.where(blank, 0.0, values)
        raw[metric] = values * options.money_factor(metric)
    return raw, bad


def _currency_warnings(cells: pd.Series, rate: float) -> list[str]:
    """What the export's currency column says about the rate applied."""
    codes = sorted(str(c) for c in stripped_codes(cells).categories)
    if len(codes) > 1:
        return [f"several currencies in one export: {', '.join(codes)}"]
    if codes:
        return [f"currency {codes[0]}, converted at rate {rate:g}"]
    return []
