"""The sample month written as the sample team's real exports: ad platforms, call tracking, CRM.

`write_sample_exports` turns the facts of `sheets_sync.samples.data.generate_sample` (the whole
history through `as_of`) into the files the team would download, in their usual formats:

================  ==========================================================================
source            file
================  ==========================================================================
``google_ads``    Google Search: Google Ads campaign report, CSV, English, UTF-8, ``,``, two
                  report lines above the header, ISO days, a ``Total: Account`` row
``yandex_direct`` Yandex Direct + Yandex RSYa: one Direct report, CSV, Russian, cp1251, ``;``,
                  ``dd.mm.yyyy``, decimal commas, NBSP thousands, report lines, ``Итого`` row;
                  spend includes 20 % VAT
``meta_ads``      Meta Ads: XLSX, English, the account billed in USD (``rate`` RUB per USD;
                  the cells keep full precision, shown with 2 decimals)
``vk_ads``        VK Ads: CSV, Russian, UTF-8 with BOM, ``,``
``agency``        Programmatic + Telegram Ads: the media agency's tab-separated report in its
                  own columns (a configured column map), ``dd/mm/yyyy``, decimal commas
``calls``         call tracking: one row per call, Russian headers, ``;``, target flag Да/Нет
``crm``           CRM: one row per lead with UTM, stage reached, stage dates, amount, status
================  ==========================================================================

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
unmapped test campaign (`TEST_CAMPAIGN`); the Yandex report a repeated row and a row with an
impossible date; VK an unreadable spend; the agency a negative spend (a refund line); call
tracking a repeated call; the CRM a stale copy of a lead before its current row (the reader keeps
the last) and a lead with an impossible creation date.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from sheets_sync.samples.data import CHANNELS, SampleMonth

__all__ = [
    "CONFIG_FILE",
    "SAMPLE_CAMPAIGNS",
    "TEST_CAMPAIGN",
    "SampleCampaign",
    "sample_config",
    "sample_config_text",
    "write_sample_config",
    "write_sample_exports",
]

Ints = npt.NDArray[np.int64]

CONFIG_FILE = "sync.toml"
"""The bundled sync config (package data of `sheets_sync`)."""

YANDEX_VAT = 0.2
META_RATE = 92.5
"""RUB per USD: the Meta Ads export is in USD; the config's ``rate`` turns it back."""
TEST_CAMPAIGN = "GS_Test_Experiment"
"""A Google Ads campaign no mapping rule matches (small spend, a few days)."""


@dataclass(frozen=True)
class SampleCampaign:
    """One plan line as the exports name it.

    `source`: the ad export it is in; `export_name`: its campaign name there; `utm_source`,
    `utm_medium` and `utm_campaign` (the lower-cased `export_name`): the UTM tags its calls
    and CRM leads carry.
    """

    channel: str
    campaign: str
    source: str
    export_name: str
    utm_source: str
    utm_medium: str

    @property
    def utm_campaign(self) -> str:
        return self.export_name.lower()


# channel: (ad source, utm_source, utm_medium, CTR, platform leads / CRM leads)
_CHANNEL_INFO: dict[str, tuple[str, str, str, float, float]] = {
    "Google Search": ("google_ads", "google", "cpc", 0.07, 1.0),
    "Yandex Direct": ("yandex_direct", "yandex", "cpc", 0.06, 1.03),
    "Yandex RSYa": ("yandex_direct", "yandex", "cpc", 0.008, 1.1),
    "Programmatic": ("agency", "dsp", "display", 0.004, 0.9),
    "Meta Ads": ("meta_ads", "facebook", "cpc", 0.012, 1.2),
    "VK Ads": ("vk_ads", "vk", "cpc", 0.009, 1.0),
    "Telegram Ads": ("agency", "telegram", "cpc", 0.015, 0.95),
}
_EXPORT_NAMES: dict[str, tuple[str, ...]] = {
    "Google Search": (
        "GS_Brand", "GS_Generic_MSK", "GS_Generic_Regions", "GS_Competitors", "GS_DSA_AllPages",
    ),
    "Yandex Direct": (
        "YD_Search_Brand_RF", "YD_Search_Generic_MSK", "YD_Search_Generic_SPB",
        "YD_Search_Generic_Regions", "YD_Search_Competitors",
    ),
    "Yandex RSYa": (
        "YD_RSYa_Retargeting", "YD_RSYa_Interests_SMB", "YD_RSYa_LAL3", "YD_RSYa_SmartBanners",
    ),
    "Programmatic": ("PG_Retargeting", "PG_Segments_B2B", "PG_Video_Awareness"),
    "Meta Ads": ("FB_LAL3_RU", "FB_LeadForm_Interests", "FB_RT_SiteVisitors", "FB_AdvPlus_Intl"),
    "VK Ads": ("VK_LeadForms_SMB", "VK_LAL3", "VK_Retargeting", "VK_Communities_Business"),
    "Telegram Ads": ("TG_Channels_Business", "TG_Channels_Marketing", "TG_RT_Bot"),
}  # fmt: skip

SAMPLE_CAMPAIGNS: tuple[SampleCampaign, ...] = tuple(
    SampleCampaign(spec.name, campaign, info[0], name, info[1], info[2])
    for spec in CHANNELS
    for info in [_CHANNEL_INFO[spec.name]]
    for campaign, name in zip(spec.campaigns, _EXPORT_NAMES[spec.name], strict=True)
)
"""Every plan line of `CHANNELS`, in the same order."""

_FILES: dict[str, str] = {
    "google_ads": "google_ads_{}.csv",
    "yandex_direct": "yandex_direct_{}.csv",
    "meta_ads": "meta_ads_{}.xlsx",
    "vk_ads": "vk_ads_{}.csv",
    "agency": "agency_report_{}.csv",
    "calls": "calltracking_{}.csv",
    "crm": "crm_leads_{}.csv",
}
_NO = -(10**6)
"""No date: a stage the lead has not reached (day numbers are relative to the first day)."""
_STAGES = ("lead", "pp", "negotiations", "purchase")
_CRM_COUNTS = ("leads", "pp", "negotiations", "purchases")
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


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


# --------------------------------------------------------------------------- exports


def write_sample_exports(sample: SampleMonth, folder: Path, seed: int = 7) -> dict[str, Path]:
    """Write the sample's history and month-to-date as the team's exports into `folder`.

    Returns ``{source name: path}`` for the sources of ``samples/sync.toml``: ``google_ads``,
    ``yandex_direct``, ``meta_ads``, ``vk_ads``, ``agency``, ``calls``, ``crm``. File names carry
    the date range (``google_ads_2026-09-02_2026-11-17.csv``). The same sample and `seed` give
    byte-identical files (the XLSX up to its zip timestamps).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([int(seed), 4])
    daily = sample.daily
    first: dt.date = daily["date"].iloc[0]
    last: dt.date = daily["date"].iloc[-1]
    span = f"{first:%Y-%m-%d}_{last:%Y-%m-%d}"
    paths = {key: folder / name.format(span) for key, name in _FILES.items()}

    ads = _ad_rows(daily, rng)
    _write_google(ads[ads["source"] == "google_ads"], paths["google_ads"], first, last, rng)
    _write_yandex(ads[ads["source"] == "yandex_direct"], paths["yandex_direct"], first, last, rng)
    _write_meta(ads[ads["source"] == "meta_ads"], paths["meta_ads"])
    _write_vk(ads[ads["source"] == "vk_ads"], paths["vk_ads"], rng)
    _write_agency(ads[ads["source"] == "agency"], paths["agency"], rng)
    grid = _line_grid(daily)
    _write_calls(grid, first, paths["calls"], rng)
    _write_crm(grid, first, paths["crm"], rng)
    return paths


@dataclass(frozen=True)
class _Grid:
    """The daily facts as arrays ``(n_days, n_lines)`` per metric, lines in `SAMPLE_CAMPAIGNS`
    order; day 0 is `first`."""

    first: dt.date
    n_days: int
    metrics: dict[str, npt.NDArray[Any]]


def _line_grid(daily: pd.DataFrame) -> _Grid:
    n_lines = len(SAMPLE_CAMPAIGNS)
    n_days = len(daily) // n_lines
    expected = [(c.channel, c.campaign) for c in SAMPLE_CAMPAIGNS] * n_days
    if len(daily) != n_days * n_lines or (
        list(zip(daily["channel"], daily["campaign"], strict=True)) != expected
    ):
        raise ValueError("the sample's daily facts are not one row per day per sample line")
    metrics = {
        m: daily[m].to_numpy().reshape(n_days, n_lines)
        for m in ("leads", "calls", "pp", "negotiations", "purchases", "revenue")
    }
    return _Grid(daily["date"].iloc[0], n_days, metrics)


def _ad_rows(daily: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One row per day and campaign with delivery: date, source, name, spend (RUB, no VAT),
    impressions, clicks, conversions (the platform's)."""
    by_line = {(c.channel, c.campaign): c for c in SAMPLE_CAMPAIGNS}
    lines = [by_line[key] for key in zip(daily["channel"], daily["campaign"], strict=True)]
    ctr = np.array([_CHANNEL_INFO[c.channel][3] for c in lines])
    factor = np.array([_CHANNEL_INFO[c.channel][4] for c in lines])
    clicks = daily["traffic"].to_numpy(dtype=np.int64)
    shown = np.rint(clicks / (ctr * rng.lognormal(0.0, 0.15, len(ctr))))
    impressions = np.where(clicks > 0, np.maximum(shown, clicks), 0).astype(np.int64)
    conversions = rng.poisson(daily["leads"].to_numpy() * factor).astype(np.int64)
    rows = pd.DataFrame(
        {
            "date": pd.to_datetime(daily["date"]),
            "source": [c.source for c in lines],
            "name": [c.export_name for c in lines],
            "spend": daily["spend"].to_numpy(dtype=np.float64),
            "impressions": impressions,
            "clicks": clicks,
            "conversions": conversions,
        }
    )
    delivered = (rows["spend"] > 0) | (rows["clicks"] > 0)
    return rows[delivered].reset_index(drop=True)


def _ru_number(values: npt.ArrayLike, decimals: int) -> list[str]:
    """``12 345,67``: NBSP thousands, decimal comma."""
    return [
        f"{v:,.{decimals}f}".replace(",", "\xa0").replace(".", ",")
        for v in np.asarray(values, dtype=np.float64)
    ]


def _insert(table: pd.DataFrame, at: int, rows: pd.DataFrame) -> pd.DataFrame:
    """`table` with `rows` inserted before its row `at`."""
    return pd.concat([table.iloc[:at], rows, table.iloc[at:]])


def _to_csv(frame: pd.DataFrame, sep: str) -> str:
    out = io.StringIO()
    frame.to_csv(out, sep=sep, index=False, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    return out.getvalue()


def _long_date(day: dt.date) -> str:
    return f"{_MONTHS_EN[day.month - 1]} {day.day}, {day.year}"


def _write_google(
    ads: pd.DataFrame, path: Path, first: dt.date, last: dt.date, rng: np.random.Generator
) -> None:
    ads = _with_test_campaign(ads, last, rng)
    table = pd.DataFrame(
        {
            "Day": ads["date"].dt.strftime("%Y-%m-%d"),
            "Campaign": ads["name"],
            "Currency code": "RUB",
            "Cost": [f"{v:.2f}" for v in ads["spend"]],
            "Impr.": ads["impressions"].astype(str),
            "Clicks": ads["clicks"].astype(str),
            "Conversions": [f"{v:.2f}" for v in ads["conversions"]],
        }
    )
    total = pd.DataFrame(
        [
            {
                "Day": "Total: Account",
                "Campaign": "",
                "Currency code": "RUB",
                "Cost": f"{ads['spend'].sum():.2f}",
                "Impr.": str(ads["impressions"].sum()),
                "Clicks": str(ads["clicks"].sum()),
                "Conversions": f"{ads['conversions'].sum():.2f}",
            }
        ]
    )
    head = f'Campaign report\r\n"{_long_date(first)} - {_long_date(last)}"\r\n'
    text = head + _to_csv(pd.concat([table, total], ignore_index=True), ",")
    path.write_text(text, encoding="utf-8", newline="")


def _with_test_campaign(ads: pd.DataFrame, last: dt.date, rng: np.random.Generator) -> pd.DataFrame:
    """`ads` plus the unmapped test campaign on the last five days (a few hundred RUB a day)."""
    days = pd.to_datetime([last - dt.timedelta(days=i) for i in range(4, -1, -1)])
    clicks = rng.integers(2, 9, len(days))
    test = pd.DataFrame(
        {
            "date": days,
            "source": "google_ads",
            "name": TEST_CAMPAIGN,
            "spend": np.round(clicks * rng.uniform(35.0, 60.0, len(days)), 2),
            "impressions": clicks * rng.integers(15, 30, len(days)),
            "clicks": clicks,
            "conversions": np.zeros(len(days), dtype=np.int64),
        }
    )
    both = pd.concat([ads, test], ignore_index=True)
    return both.sort_values(["date"], kind="stable").reset_index(drop=True)


def _write_yandex(
    ads: pd.DataFrame, path: Path, first: dt.date, last: dt.date, rng: np.random.Generator
) -> None:
    spend = np.round(ads["spend"].to_numpy() * (1 + YANDEX_VAT), 2)
    table = pd.DataFrame(
        {
            "Дата": ads["date"].dt.strftime("%d.%m.%Y"),
            "Кампания": ads["name"],
            "Показы": _ru_number(ads["impressions"], 0),
            "Клики": _ru_number(ads["clicks"], 0),
            "Расход (руб.)": _ru_number(spend, 2),
            "Конверсии": _ru_number(ads["conversions"], 0),
        }
    )
    total = pd.DataFrame(
        {
            "Дата": ["Итого"],
            "Кампания": [""],
            "Показы": _ru_number([ads["impressions"].sum()], 0),
            "Клики": _ru_number([ads["clicks"].sum()], 0),
            "Расход (руб.)": _ru_number([spend.sum()], 2),
            "Конверсии": _ru_number([ads["conversions"].sum()], 0),
        }
    )
    # A row exported twice, and a row with an impossible date (quarantined).
    at = int(rng.integers(len(table) // 3, 2 * len(table) // 3))
    bad = table.iloc[[at]].assign(**{"Дата": f"32.{last:%m.%Y}"})
    table = pd.concat([_insert(table, at, table.iloc[[at]]), bad, total])
    head = (
        f'"Статистика по дням: {first:%d.%m.%Y} - {last:%d.%m.%Y}"\r\n'
        "Логин: romashka-direct;;;;;\r\n"
    )
    text = head + _to_csv(table, ";")
    path.write_text(text, encoding="cp1251", newline="")


def _write_meta(ads: pd.DataFrame, path: Path) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Raw Data Report")
    sheet.append(
        [
            "Day",
            "Campaign name",
            "Amount spent (USD)",
            "Impressions",
            "Link clicks",
            "Results",
            "Result indicator",
        ]
    )
    usd = ads["spend"].to_numpy() / META_RATE  # full precision: x rate gives the kopecks back
    days = [d.to_pydatetime() for d in ads["date"]]
    for day, name, spent, impressions, clicks, results in zip(
        days,
        ads["name"],
        usd.tolist(),
        ads["impressions"].tolist(),
        ads["clicks"].tolist(),
        ads["conversions"].tolist(),
        strict=True,
    ):
        day_cell = WriteOnlyCell(sheet, value=day)
        day_cell.number_format = "yyyy-mm-dd"
        spent_cell = WriteOnlyCell(sheet, value=spent)
        spent_cell.number_format = "#,##0.00"
        # Meta leaves zero cells blank.
        sheet.append(
            [
                day_cell,
                name,
                spent_cell,
                impressions,
                clicks or None,
                results or None,
                "actions:lead",
            ]
        )
    book.save(path)


def _write_vk(ads: pd.DataFrame, path: Path, rng: np.random.Generator) -> None:
    table = pd.DataFrame(
        {
            "Дата": ads["date"].dt.strftime("%Y-%m-%d"),
            "Кампания": ads["name"],
            "Показы": ads["impressions"].astype(str),
            "Клики": ads["clicks"].astype(str),
            "Потрачено": [f"{v:.2f}" for v in ads["spend"]],
            "Результаты": ads["conversions"].astype(str),
        }
    )
    # A row whose spend cannot be read (quarantined): a copy of a campaign's row.
    at = int(rng.integers(0, len(table)))
    extra = table.iloc[[at]].assign(
        **{"Кампания": f"{table['Кампания'].iloc[at]}_copy", "Потрачено": "1O5.20"}
    )
    text = _to_csv(_insert(table, at, extra), ",")
    path.write_text(text, encoding="utf-8-sig", newline="")


def _write_agency(ads: pd.DataFrame, path: Path, rng: np.random.Generator) -> None:
    table = pd.DataFrame(
        {
            "Report date": ads["date"].dt.strftime("%d/%m/%Y"),
            "Placement": ads["name"],
            "Platform": np.where(ads["name"].str.startswith("TG_"), "Telegram Ads", "DSP"),
            "Impressions": ads["impressions"].astype(str),
            "Clicks": ads["clicks"].astype(str),
            "Media cost, RUB": [f"{v:.2f}".replace(".", ",") for v in ads["spend"]],
            "Conversions": ads["conversions"].astype(str),
        }
    )
    # A refund line with a negative cost (quarantined).
    at = int(rng.integers(0, len(table)))
    refund = table.iloc[[at]].assign(
        **{"Placement": "PG_Retargeting_Refund", "Platform": "DSP", "Media cost, RUB": "-1250,00"}
    )
    refund = refund.assign(Impressions="0", Clicks="0", Conversions="0")
    text = _to_csv(_insert(table, at + 1, refund), "\t")
    path.write_text(text, encoding="utf-8", newline="")


# --------------------------------------------------------------------------- calls


_PAD = np.array([f"{i:02d}" for i in range(60)], dtype=object)
_PHONES = np.array(
    [f"+7 (9{n:02d}) ***-**-{n * 7 % 100:02d}" for n in range(len(SAMPLE_CAMPAIGNS))], dtype=object
)


def _utm_columns(line: Ints) -> dict[str, npt.NDArray[np.object_]]:
    """The UTM columns of calls or leads of the `SAMPLE_CAMPAIGNS` numbered `line`."""
    return {
        key: np.array([getattr(c, key) for c in SAMPLE_CAMPAIGNS], dtype=object)[line]
        for key in ("utm_source", "utm_medium", "utm_campaign")
    }


def _day_strings(
    first: dt.date, days: Ints, seconds: Ints, day_format: str, with_seconds: bool = False
) -> npt.NDArray[np.object_]:
    """Timestamps ``first + days`` at `seconds` after midnight: the day in `day_format`, then
    ``HH:MM`` (``HH:MM:SS`` `with_seconds`); ``""`` where `days` is `_NO`."""
    unique, inverse = np.unique(days, return_inverse=True)
    day_text = np.array(
        ["" if d == _NO else f"{first + dt.timedelta(days=int(d)):{day_format}}" for d in unique],
        dtype=object,
    )
    hours, rest = np.divmod(seconds, 3600)
    text = day_text[inverse] + " " + _PAD[hours] + ":" + _PAD[rest // 60]
    if with_seconds:
        text = text + ":" + _PAD[rest % 60]
    return np.asarray(np.where(days == _NO, "", text), dtype=object)


def _write_calls(grid: _Grid, first: dt.date, path: Path, rng: np.random.Generator) -> None:
    target = grid.metrics["calls"].astype(np.int64)  # (days, lines)
    other = rng.poisson(0.35 * target + 0.15).astype(np.int64)
    per_cell = (target + other).ravel()
    cell = np.repeat(np.arange(per_cell.size), per_cell)
    rank = np.arange(cell.size) - np.repeat(np.cumsum(per_cell) - per_cell, per_cell)
    is_target = rank < target.ravel()[cell]
    day, line = np.divmod(cell, len(SAMPLE_CAMPAIGNS))
    seconds = rng.integers(9 * 3600, 21 * 3600, cell.size)
    order = np.lexsort((seconds, day))
    day, line, seconds, is_target = day[order], line[order], seconds[order], is_target[order]
    duration = np.where(
        is_target, rng.integers(75, 900, cell.size), rng.integers(4, 45, cell.size)
    ).astype(np.int64)
    table = pd.DataFrame(
        {
            "ID звонка": (5_300_000 + np.arange(cell.size) * 7).astype(str),
            "Дата и время": _day_strings(first, day, seconds, "%d.%m.%Y", with_seconds=True),
            "Номер абонента": _PHONES[line],
            "Длительность": _PAD[duration // 60] + ":" + _PAD[duration % 60],
            "Целевой": np.where(is_target, "Да", "Нет"),
            **_utm_columns(line),
        }
    )
    # One call exported twice.
    at = int(rng.integers(0, len(table)))
    table = _insert(table, at, table.iloc[[at]])
    path.write_text(_to_csv(table, ";"), encoding="utf-8", newline="")


# --------------------------------------------------------------------------- CRM


def _match(pred_days: Ints, event_days: Ints, lags: Ints) -> Ints:
    """For sorted `event_days`, distinct indices into sorted `pred_days`, increasing, each
    predecessor dated on or before its event and about `lags` days before it where the
    predecessors allow; negative (a prefix) where no predecessor is left."""
    latest = np.searchsorted(pred_days, event_days - lags, side="right") - 1
    k = np.arange(event_days.size)
    return np.asarray(k + np.minimum.accumulate((latest - k)[::-1])[::-1], dtype=np.int64)


def _line_leads(
    counts: dict[str, Ints], lags: tuple[float, float, float], rng: np.random.Generator
) -> Ints:
    """The leads of one line, ``(n, 4)`` day numbers of created, PP, negotiations and purchase
    (`_NO` when not reached), so that the events per day are `counts` (``leads``, ``pp``,
    ``negotiations``, ``purchases``, each ``(n_days,)``)."""
    days = np.arange(counts["leads"].size)
    stages = np.full((int(counts["leads"].sum()), 4), _NO, dtype=np.int64)
    stages[:, 0] = np.repeat(days, counts["leads"])
    for s, metric in enumerate(("pp", "negotiations", "purchases"), start=1):
        events = np.repeat(days, counts[metric])
        lag = np.rint(rng.gamma(2.0, lags[s - 1] / 2.0, events.size)).astype(np.int64)
        has = np.flatnonzero(stages[:, s - 1] != _NO)
        order = has[np.argsort(stages[has, s - 1], kind="stable")]
        j = _match(stages[order, s - 1], events, lag)
        ok = j >= 0
        stages[order[j[ok]], s] = events[ok]
        if not ok.all():  # leads created before the history: every earlier stage before day 0
            carried = np.full((int((~ok).sum()), 4), _NO, dtype=np.int64)
            carried[:, s] = events[~ok]
            carried[:, s - 1] = np.minimum(events[~ok] - lag[~ok], -1)
            for t in range(s - 2, -1, -1):
                back = np.rint(rng.gamma(2.0, lags[t] / 2.0, len(carried)))
                carried[:, t] = carried[:, t + 1] - back.astype(np.int64)
            stages = np.concatenate([carried, stages])
    return stages


def _split_revenue(
    pur_days: Ints, revenue: npt.NDArray[np.float64], rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """Deal amounts for purchases on `pur_days` (sorted) summing to `revenue[day]` per day."""
    amounts = np.zeros(pur_days.size)
    if pur_days.size == 0:
        return amounts
    weights = rng.gamma(6.0, 1.0, pur_days.size)
    totals = np.bincount(pur_days, weights, minlength=revenue.size)
    amounts = np.round(revenue[pur_days] * weights / totals[pur_days], 2)
    # Put each day's rounding remainder on its last deal.
    last = np.flatnonzero(np.r_[pur_days[1:] != pur_days[:-1], True])
    paid = np.bincount(pur_days, amounts, minlength=revenue.size)
    amounts[last] = np.round(amounts[last] + revenue[pur_days[last]] - paid[pur_days[last]], 2)
    return amounts


def _write_crm(grid: _Grid, first: dt.date, path: Path, rng: np.random.Generator) -> None:
    specs = {spec.name: spec for spec in CHANNELS}
    parts: list[Ints] = []
    amounts: list[npt.NDArray[np.float64]] = []
    owners: list[Ints] = []
    for i, line in enumerate(SAMPLE_CAMPAIGNS):
        spec = specs[line.channel]
        counts = {m: grid.metrics[m][:, i].astype(np.int64) for m in _CRM_COUNTS}
        stages = _line_leads(counts, (spec.pp_lag, spec.negotiation_lag, spec.purchase_lag), rng)
        stages = stages[np.argsort(stages[:, 3], kind="stable")]  # purchases (dated) last
        bought = stages[:, 3] != _NO
        amount = np.full(len(stages), np.nan)
        amount[bought] = _split_revenue(
            stages[bought, 3], grid.metrics["revenue"][:, i].astype(np.float64), rng
        )
        parts.append(stages)
        amounts.append(amount)
        owners.append(np.full(len(stages), i, dtype=np.int64))
    stages = np.concatenate(parts)
    amount = np.concatenate(amounts)
    owner = np.concatenate(owners)
    n = len(stages)
    # Times of day keep the stages in order on a shared day.
    seconds = np.stack(
        [rng.integers(lo * 3600, (lo + 2) * 3600 - 60, n) for lo in (8, 14, 16, 18)], axis=1
    )
    seconds[:, 0] = rng.integers(8 * 3600, 14 * 3600, n)
    order = np.lexsort((seconds[:, 0], stages[:, 0]))
    stages, seconds, amount, owner = stages[order], seconds[order], amount[order], owner[order]

    reached = (stages != _NO).sum(axis=1) - 1
    latest = stages.max(axis=1)
    old = latest < grid.n_days - 21
    status = np.where(old & (rng.random(n) < 0.7), "lost", "open")
    status = np.where(reached == 3, "won", status)
    estimate = np.round(rng.uniform(80, 260, n)) * 1000.0  # open deals in negotiation: a budget
    amount = np.where((reached == 2) & (status == "open"), estimate, amount)
    fmt = "%Y-%m-%d"
    table = pd.DataFrame(
        {
            "ID": (104_000 + np.arange(n)).astype(str),
            "Created": _day_strings(first, stages[:, 0], seconds[:, 0], fmt),
            **_utm_columns(owner),
            "Stage": np.array(_STAGES)[reached],
            "PP date": _day_strings(first, stages[:, 1], seconds[:, 1], fmt),
            "Negotiations date": _day_strings(first, stages[:, 2], seconds[:, 2], fmt),
            "Purchase date": _day_strings(first, stages[:, 3], seconds[:, 3], fmt),
            "Amount": ["" if np.isnan(a) else f"{a:.2f}" for a in amount],
            "Status": status,
        }
    )
    # A stale copy of a deal before its current row (the reader keeps the last), and a lead
    # whose creation date cannot be read (quarantined).
    deals = np.flatnonzero(reached >= 2)
    at = int(deals[rng.integers(0, deals.size)]) if deals.size else n // 2
    stale = table.iloc[[at]].assign(Stage="lead", Status="open", Amount="")
    broken = table.iloc[[-1]].assign(ID=str(104_000 + n), Created="2026-02-30 11:00")
    broken = broken.assign(Stage="lead", Status="open", Amount="")
    for frame in (stale, broken):
        frame[["PP date", "Negotiations date", "Purchase date"]] = ""
    table = pd.concat([_insert(table, at, stale), broken])
    path.write_text(_to_csv(table, ","), encoding="utf-8", newline="")
