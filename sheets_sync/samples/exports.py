"""The sample month written as the sample team's real exports: ad platforms, call tracking, CRM.

`write_sample_exports` turns the facts of `sheets_sync.samples.data.generate_sample` (the whole
history through `as_of`) into the files the team would download, in their usual formats:

================  ==========================================================================
source            file
================  ==========================================================================
``google_ads``    Google Search: Google Ads ad group report, CSV, English, UTF-8, ``,``, two
                  report lines above the header, ISO days, one row per day, campaign and
                  ``Ad group``, a ``Total: Account`` row
``yandex_direct`` Yandex Direct + Yandex RSYa: one Direct report, CSV, Russian, cp1251, ``;``,
                  ``dd.mm.yyyy``, decimal commas, NBSP thousands, report lines, one row per
                  day, campaign and ``Группа`` (ad group), ``Итого`` row; spend includes
                  20 % VAT
``meta_ads``      Meta Ads: XLSX, English, the account billed in USD (``rate`` RUB per USD;
                  the cells keep full precision, shown with 2 decimals), one row per day,
                  campaign and ``Ad set name``
``vk_ads``        VK Ads: CSV, Russian, UTF-8 with BOM, ``,``, one row per day, campaign and
                  ``Группа объявлений`` (ad group)
``agency``        Programmatic + Telegram Ads: the media agency's tab-separated report in its
                  own columns (a configured column map), ``dd/mm/yyyy``, decimal commas
``calls``         call tracking: one row per call, Russian headers, ``;``, target flag Да/Нет
``crm``           CRM: one row per lead with UTM, stage reached, stage dates, amount, status
``metrica``       journeys (a ``paths`` source, for attribution; Sync Facts skips it): Yandex
                  Metrica visits export, one row per visit, Russian headers, ``;``, UTF-8 with
                  BOM, ClientID, visit time, traffic source, UTMs, goal "Цель: Заявка"; the
                  month to date and the four weeks before it
``crm_journeys``  journeys: the CRM's deals of the month with each deal's touches in one cell
                  ("Путь клиента"), stage, status, budget; XLSX
================  ==========================================================================

The ad groups (issue 15's Drill by segment) are named as the CRM tags its leads' ``utm_term``
(`lead_exports.SEGMENTS`: brand, generic, retarget), so a segment has both spend and leads; each
day's campaign row is split by the campaign's fixed shares (`sheets_sync.samples.ad_groups`,
drawn from a random stream of their own, so every other number of the demo is as it was
without the breakdown): spend in whole kopecks (with VAT for Direct), clicks, impressions and
conversions in whole units, the rounding remainder on the last group. The agency's report
(Programmatic and Telegram Ads) stays one row per day and placement (its spend is in the
Drill's "(no value)" segment row).

The writers are `sheets_sync.samples.ad_exports` (the five ad exports),
`sheets_sync.samples.lead_exports` (call tracking and CRM) and `sheets_sync.samples.journeys`
(the two journeys exports, drawn from a random stream of their own: the other files do not
change with them); the names the lines go by in the exports are
`sheets_sync.samples.campaigns.SAMPLE_CAMPAIGNS`.

The headers are those of the built-in column maps of `sheets_sync.sources.ad_export`; the agency's
columns and every source's options are in the bundled ``samples/sync.toml``
(`sample_config_text`), which also holds the mapping rules of the demo's Mapping sheet.

Read back and mapped, the files reproduce the simulated facts per line and day: spend to the
kopeck after VAT and rate normalisation, traffic (clicks), target calls, and the CRM's leads,
PP, negotiations, purchases and revenue on the event basis (each stage counted on its date).
The CRM matches each stage event to an earlier lead of the same line (about the channel's lag
before it); events whose leads were created before the history get leads dated before it.
Ad exports leave out days without delivery (no spend, no clicks), as the platforms do.

Deliberate mess, at most one quarantined row per file: the Google Ads report holds a small
unmapped test campaign (`ad_exports.TEST_CAMPAIGN`, one ad group `ad_exports.TEST_GROUP`); the
Yandex report a repeated row (the same day, campaign and ad group again) and a row with an
impossible date; VK an unreadable spend (a copy of an ad group's row); the agency a negative
spend (a refund line); call tracking a repeated call; the CRM a stale copy of a lead before its
current row (the reader keeps the last) and a lead with an impossible creation date.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from sheets_sync.samples import ad_exports, ad_groups, journeys, lead_exports
from sheets_sync.samples.campaigns import SAMPLE_CAMPAIGNS
from sheets_sync.samples.data import SampleMonth

__all__ = [
    "CONFIG_FILE",
    "sample_config",
    "sample_config_text",
    "write_sample_config",
    "write_sample_exports",
]

CONFIG_FILE = "sync.toml"
"""The bundled sync config (package data of `sheets_sync`)."""

_FILES: dict[str, str] = {
    "google_ads": "google_ads_{}.csv",
    "yandex_direct": "yandex_direct_{}.csv",
    "meta_ads": "meta_ads_{}.xlsx",
    "vk_ads": "vk_ads_{}.csv",
    "agency": "agency_report_{}.csv",
    "calls": "calltracking_{}.csv",
    "crm": "crm_leads_{}.csv",
}


# --------------------------------------------------------------------------- config


def sample_config_text() -> str:
    """The bundled ``samples/sync.toml`` (the demo's sync config), as text."""
    return resources.files("sheets_sync.samples").joinpath(CONFIG_FILE).read_text(encoding="utf-8")


def sample_config() -> dict[str, Any]:
    """The bundled sync config, parsed (``workbook``, ``store``, ``sources``, ``mapping``)."""
    return tomllib.loads(sample_config_text())


def write_sample_config(folder: Path, month: dt.date, name: str = "sync.toml") -> Path:
    """Write the bundled config into `folder` for the workbook ``plan-YYYY-MM.xlsx`` of `month`.

    The config's sources read ``exports/…`` relative to `folder`: write the exports with
    ``write_sample_exports(sample, folder / "exports")``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    text = sample_config_text().replace(
        'workbook = "plan-2026-11.xlsx"', f'workbook = "plan-{month:%Y-%m}.xlsx"', 1
    )
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def write_sample_exports(sample: SampleMonth, folder: Path, seed: int = 7) -> dict[str, Path]:
    """Write the sample's history and month-to-date as the team's exports into `folder`.

    Returns ``{source name: path}`` for the sources of ``samples/sync.toml``: ``google_ads``,
    ``yandex_direct``, ``meta_ads``, ``vk_ads``, ``agency``, ``calls``, ``crm`` and the
    journeys ``metrica``, ``crm_journeys``. File names carry the date range
    (``google_ads_2026-09-02_2026-11-17.csv``). The same sample and `seed` give byte-identical
    files (the XLSX up to its zip timestamps).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([int(seed), 4])
    daily = sample.daily
    first: dt.date = daily["date"].iloc[0]
    last: dt.date = daily["date"].iloc[-1]
    span = f"{first:%Y-%m-%d}_{last:%Y-%m-%d}"
    paths = {key: folder / name.format(span) for key, name in _FILES.items()}

    ads = ad_exports.ad_rows(daily, rng)
    source = ads["source"]
    shares = ad_groups.ad_group_shares([c.export_name for c in SAMPLE_CAMPAIGNS], seed)
    google, yandex = ads[source == "google_ads"], ads[source == "yandex_direct"]
    ad_exports.write_google(google, paths["google_ads"], first, last, rng, shares)
    ad_exports.write_yandex(yandex, paths["yandex_direct"], first, last, rng, shares)
    ad_exports.write_meta(ads[source == "meta_ads"], paths["meta_ads"], shares)
    ad_exports.write_vk(ads[source == "vk_ads"], paths["vk_ads"], rng, shares)
    ad_exports.write_agency(ads[source == "agency"], paths["agency"], rng)
    grid = lead_exports.line_grid(daily)
    lead_exports.write_calls(grid, first, paths["calls"], rng)
    lead_exports.write_crm(grid, first, paths["crm"], rng)
    paths.update(_write_journeys(sample, grid, folder, seed))
    return paths


def _write_journeys(
    sample: SampleMonth, grid: lead_exports.LineGrid, folder: Path, seed: int
) -> dict[str, Path]:
    """The Metrica visits export and the CRM touch history (`sheets_sync.samples.journeys`)."""
    rng = np.random.default_rng([int(seed), 5])
    lo, hi = journeys.window_days(grid, sample.month)
    days = [grid.first + dt.timedelta(days=d) for d in (lo, hi)]
    month_day = (sample.month - grid.first).days
    paths = {
        "metrica": folder / f"metrica_visits_{days[0]:%Y-%m-%d}_{days[1]:%Y-%m-%d}.csv",
        "crm_journeys": folder / f"crm_history_{sample.month:%Y-%m-%d}_{days[1]:%Y-%m-%d}.xlsx",
    }
    visits = journeys.write_visits(grid, lo, hi, paths["metrica"], rng)
    journeys.write_crm_history(visits, grid, month_day, paths["crm_journeys"], rng)
    return paths
