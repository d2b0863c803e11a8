"""The sample plan lines as the sample team's exports name them.

`SAMPLE_CAMPAIGNS`: every plan line of `sheets_sync.samples.channels.CHANNELS`, in the same
order, with the ad export it is in, its campaign name there and the UTM tags its calls and CRM
leads carry; `CHANNEL_INFO` the per-channel numbers the ad exports add (CTR, platform leads per
CRM lead). The export writers (`sheets_sync.samples.ad_exports` and
`sheets_sync.samples.lead_exports`) share these, and the CSV form of `to_csv` and `insert_rows`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import pandas as pd

from sheets_sync.samples.channels import CHANNELS

__all__ = ["CHANNEL_INFO", "SAMPLE_CAMPAIGNS", "SampleCampaign", "insert_rows", "to_csv"]


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
CHANNEL_INFO: dict[str, tuple[str, str, str, float, float]] = {
    "Google Search": ("google_ads", "google", "cpc", 0.07, 1.0),
    "Yandex Direct": ("yandex_direct", "yandex", "cpc", 0.06, 1.03),
    "Yandex RSYa": ("yandex_direct", "yandex", "cpc", 0.008, 1.1),
    "Programmatic": ("agency", "dsp", "display", 0.004, 0.9),
    "Meta Ads": ("meta_ads", "facebook", "cpc", 0.012, 1.2),
    "VK Ads": ("vk_ads", "vk", "cpc", 0.009, 1.0),
    "Telegram Ads": ("agency", "telegram", "cpc", 0.015, 0.95),
}
EXPORT_NAMES: dict[str, tuple[str, ...]] = {
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
    for info in [CHANNEL_INFO[spec.name]]
    for campaign, name in zip(spec.campaigns, EXPORT_NAMES[spec.name], strict=True)
)
"""Every plan line of `CHANNELS`, in the same order."""


def insert_rows(table: pd.DataFrame, at: int, rows: pd.DataFrame) -> pd.DataFrame:
    """`table` with `rows` inserted before its row `at`."""
    return pd.concat([table.iloc[:at], rows, table.iloc[at:]])


def to_csv(frame: pd.DataFrame, sep: str) -> str:
    out = io.StringIO()
    frame.to_csv(out, sep=sep, index=False, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    return out.getvalue()
