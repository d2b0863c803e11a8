"""The sample's ad platform exports: Google Ads, Yandex Direct, Meta Ads, VK Ads and the media
agency's report, each in its platform's own format (see `sheets_sync.samples.exports`).

`ad_rows` turns the daily facts into one row per day and campaign with delivery (impressions
and platform conversions drawn around the simulated clicks and leads); the `write_*` functions
write one export each, with its deliberate mess. Google Ads, Yandex Direct, Meta Ads and VK Ads
break each row down by ad group (ad set; `sheets_sync.samples.ad_groups`, by the campaign's
`shares`); the agency's report stays one row per day and placement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from sheets_sync.samples.ad_groups import by_ad_group
from sheets_sync.samples.campaigns import CHANNEL_INFO, SAMPLE_CAMPAIGNS, insert_rows, to_csv

__all__ = [
    "META_RATE",
    "TEST_CAMPAIGN",
    "TEST_GROUP",
    "YANDEX_VAT",
    "ad_rows",
    "write_agency",
    "write_google",
    "write_meta",
    "write_vk",
    "write_yandex",
]

YANDEX_VAT = 0.2
META_RATE = 92.5
"""RUB per USD: the Meta Ads export is in USD; the config's ``rate`` turns it back."""
TEST_CAMPAIGN = "GS_Test_Experiment"
"""A Google Ads campaign no mapping rule matches (small spend, a few days)."""
TEST_GROUP = "Ad group 1"
"""The test campaign's one ad group (Google's default name for a new campaign's first)."""
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def ad_rows(daily: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One row per day and campaign with delivery: date, source, name, spend (RUB, no VAT),
    impressions, clicks, conversions (the platform's)."""
    by_line = {(c.channel, c.campaign): c for c in SAMPLE_CAMPAIGNS}
    lines = [by_line[key] for key in zip(daily["channel"], daily["campaign"], strict=True)]
    ctr = np.array([CHANNEL_INFO[c.channel][3] for c in lines])
    factor = np.array([CHANNEL_INFO[c.channel][4] for c in lines])
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


def _long_date(day: dt.date) -> str:
    return f"{_MONTHS_EN[day.month - 1]} {day.day}, {day.year}"


def write_google(
    ads: pd.DataFrame,
    path: Path,
    first: dt.date,
    last: dt.date,
    rng: np.random.Generator,
    shares: Mapping[str, npt.NDArray[np.float64]],
) -> None:
    """The Google Ads report: one row per day, campaign and ad group (`shares`)."""
    ads = _with_test_campaign(by_ad_group(ads, shares), last, rng)
    table = pd.DataFrame(
        {
            "Day": ads["date"].dt.strftime("%Y-%m-%d"),
            "Campaign": ads["name"],
            "Ad group": ads["group"],
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
                "Ad group": "",
                "Currency code": "RUB",
                "Cost": f"{ads['spend'].sum():.2f}",
                "Impr.": str(ads["impressions"].sum()),
                "Clicks": str(ads["clicks"].sum()),
                "Conversions": f"{ads['conversions'].sum():.2f}",
            }
        ]
    )
    head = f'Campaign report\r\n"{_long_date(first)} - {_long_date(last)}"\r\n'
    text = head + to_csv(pd.concat([table, total], ignore_index=True), ",")
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
            "group": TEST_GROUP,
            "spend": np.round(clicks * rng.uniform(35.0, 60.0, len(days)), 2),
            "impressions": clicks * rng.integers(15, 30, len(days)),
            "clicks": clicks,
            "conversions": np.zeros(len(days), dtype=np.int64),
        }
    )
    both = pd.concat([ads, test], ignore_index=True)
    return both.sort_values(["date"], kind="stable").reset_index(drop=True)


def write_yandex(
    ads: pd.DataFrame,
    path: Path,
    first: dt.date,
    last: dt.date,
    rng: np.random.Generator,
    shares: Mapping[str, npt.NDArray[np.float64]],
) -> None:
    """The Direct report: one row per day, campaign and ad group (`shares`), the spend with VAT
    (added to each day's campaign row, then split, so the groups add up to it to the kopeck)."""
    vat = ads.assign(spend=np.round(ads["spend"].to_numpy() * (1 + YANDEX_VAT), 2))
    groups = by_ad_group(vat, shares)
    table = pd.DataFrame(
        {
            "Дата": groups["date"].dt.strftime("%d.%m.%Y"),
            "Кампания": groups["name"],
            "Группа": groups["group"],
            "Показы": _ru_number(groups["impressions"], 0),
            "Клики": _ru_number(groups["clicks"], 0),
            "Расход (руб.)": _ru_number(groups["spend"], 2),
            "Конверсии": _ru_number(groups["conversions"], 0),
        }
    )
    total = pd.DataFrame(
        {
            "Дата": ["Итого"],
            "Кампания": [""],
            "Группа": [""],
            "Показы": _ru_number([groups["impressions"].sum()], 0),
            "Клики": _ru_number([groups["clicks"].sum()], 0),
            "Расход (руб.)": _ru_number([vat["spend"].sum()], 2),
            "Конверсии": _ru_number([groups["conversions"].sum()], 0),
        }
    )
    # A row exported twice, and a row with an impossible date (quarantined): the first ad
    # group of the day and campaign drawn as before the breakdown (the same draw).
    row = int(rng.integers(len(vat) // 3, 2 * len(vat) // 3))
    at = int(np.searchsorted(groups["row"].to_numpy(), row))
    bad = table.iloc[[at]].assign(**{"Дата": f"32.{last:%m.%Y}"})
    table = pd.concat([insert_rows(table, at, table.iloc[[at]]), bad, total])
    head = (
        f'"Статистика по дням: {first:%d.%m.%Y} - {last:%d.%m.%Y}"\r\n'
        "Логин: romashka-direct;;;;;;\r\n"
    )
    text = head + to_csv(table, ";")
    path.write_text(text, encoding="cp1251", newline="")


def write_meta(
    ads: pd.DataFrame, path: Path, shares: Mapping[str, npt.NDArray[np.float64]]
) -> None:
    """The Meta Ads report in USD: one row per day, campaign and ad set (`shares`), the RUB
    spend split in kopecks before the conversion."""
    ads = by_ad_group(ads, shares)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Raw Data Report")
    sheet.append(
        [
            "Day",
            "Campaign name",
            "Ad set name",
            "Amount spent (USD)",
            "Impressions",
            "Link clicks",
            "Results",
            "Result indicator",
        ]
    )
    usd = ads["spend"].to_numpy() / META_RATE  # full precision: x rate gives the kopecks back
    days = [d.to_pydatetime() for d in ads["date"]]
    for day, name, group, spent, impressions, clicks, results in zip(
        days,
        ads["name"],
        ads["group"],
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
                group,
                spent_cell,
                impressions,
                clicks or None,
                results or None,
                "actions:lead",
            ]
        )
    book.save(path)


def write_vk(
    ads: pd.DataFrame,
    path: Path,
    rng: np.random.Generator,
    shares: Mapping[str, npt.NDArray[np.float64]],
) -> None:
    """The VK Ads report: one row per day, campaign and ad group (`shares`)."""
    groups = by_ad_group(ads, shares)
    table = pd.DataFrame(
        {
            "Дата": groups["date"].dt.strftime("%Y-%m-%d"),
            "Кампания": groups["name"],
            "Группа объявлений": groups["group"],
            "Показы": groups["impressions"].astype(str),
            "Клики": groups["clicks"].astype(str),
            "Потрачено": [f"{v:.2f}" for v in groups["spend"]],
            "Результаты": groups["conversions"].astype(str),
        }
    )
    # A row whose spend cannot be read (quarantined): a copy of an ad group's row, drawn as
    # before the breakdown (the same draw, the first group of that day and campaign).
    row = int(rng.integers(0, len(ads)))
    at = int(np.searchsorted(groups["row"].to_numpy(), row))
    extra = table.iloc[[at]].assign(
        **{"Кампания": f"{table['Кампания'].iloc[at]}_copy", "Потрачено": "1O5.20"}
    )
    text = to_csv(insert_rows(table, at, extra), ",")
    path.write_text(text, encoding="utf-8-sig", newline="")


def write_agency(ads: pd.DataFrame, path: Path, rng: np.random.Generator) -> None:
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
    text = to_csv(insert_rows(table, at + 1, refund), "\t")
    path.write_text(text, encoding="utf-8", newline="")
