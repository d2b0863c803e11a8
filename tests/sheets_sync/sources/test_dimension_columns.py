"""The readers give the facts' dimensions from each export kind (issue 15): an ad platform's
ad group and ad (segment, creative), a CRM's city, product, utm_term and utm_content, a call
tracker's UTM term and content; an export without them leaves the columns out."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sheets_sync.facts import DIMENSIONS
from sheets_sync.sources.ad_export import read_ad_export
from sheets_sync.sources.calls_export import read_calls_export
from sheets_sync.sources.column_map import SourceOptions
from sheets_sync.sources.crm_export import read_crm_export


def _by(facts: pd.DataFrame, keys: list[str], metric: str) -> dict[tuple[str, ...], float]:
    rows = facts[facts["metric"].astype(str) == metric]
    sums = rows.groupby(keys, observed=True)["value"].sum()
    return {
        tuple(str(k) for k in (i if isinstance(i, tuple) else (i,))): v for i, v in sums.items()
    }


@pytest.mark.parametrize(
    ("platform", "header", "row1", "row2"),
    [
        (
            "yandex_direct",
            "Дата;Кампания;Группа объявлений;Объявление;Расход (руб.);Клики",
            "01.11.2026;Brand;Диваны;ad-1;100,00;10",
            "01.11.2026;Brand;Кресла;ad-2;40,00;4",
        ),
        (
            "vk_ads",
            "Дата;Кампания;Группа;Объявление;Потрачено;Клики",
            "01.11.2026;Brand;Диваны;ad-1;100,00;10",
            "01.11.2026;Brand;Кресла;ad-2;40,00;4",
        ),
        (
            "meta_ads",
            "Day;Campaign name;Ad set name;Ad name;Amount spent (RUB);Link clicks",
            "2026-11-01;Brand;Диваны;ad-1;100.00;10",
            "2026-11-01;Brand;Кресла;ad-2;40.00;4",
        ),
    ],
)
def test_ad_exports_give_segment_and_creative(
    tmp_path: Path, platform: str, header: str, row1: str, row2: str
) -> None:
    path = tmp_path / f"{platform}.csv"
    path.write_text(f"{header}\n{row1}\n{row2}\n", encoding="utf-8")
    result = read_ad_export(path, SourceOptions("ads"))
    assert result.info.platform == platform
    assert result.info.duplicates == 0  # two ad groups of one day and campaign: not repeats
    # 100 on Диваны / ad-1, 40 on Кресла / ad-2: 140 in all, as without the breakdown
    assert _by(result.facts, ["segment", "creative"], "spend") == {
        ("Диваны", "ad-1"): 100.0,
        ("Кресла", "ad-2"): 40.0,
    }
    assert "city" not in result.facts.columns  # an ad report has no city


def test_ad_export_without_groups_has_no_dimension_columns(tmp_path: Path) -> None:
    path = tmp_path / "y.csv"
    path.write_text("Дата;Кампания;Расход;Клики\n01.11.2026;A;10;1\n", encoding="utf-8")
    facts = read_ad_export(path, SourceOptions("ads")).facts
    assert not set(DIMENSIONS) & set(facts.columns)


def test_crm_export_gives_city_product_segment_creative(tmp_path: Path) -> None:
    path = tmp_path / "crm.csv"
    path.write_text(
        "ID;Дата создания;utm_source;utm_medium;utm_campaign;utm_term;utm_content;"
        "Город;Продукт;Этап;Сумма\n"
        "1;2026-11-01;yandex;cpc;Brand;Диваны;ad-1;Москва;Диван;Лид;\n"
        "2;2026-11-01;yandex;cpc;Brand;Диваны;ad-1;Москва;Диван;Лид;\n"
        "3;2026-11-02;yandex;cpc;Brand;Кресла;ad-2;Казань;Кресло;Лид;\n"
        "4;2026-11-02;yandex;cpc;Brand;;;;;Лид;\n",
        encoding="utf-8",
    )
    facts = read_crm_export(path, SourceOptions("crm")).facts
    facts = facts[facts["basis"].astype(str) == "event"]
    # 2 leads in Москва (Диван, Диваны, ad-1), 1 in Казань, 1 with no breakdown: 4 in all
    assert _by(facts, list(DIMENSIONS), "leads") == {
        ("Москва", "Диван", "Диваны", "ad-1"): 2.0,
        ("Казань", "Кресло", "Кресла", "ad-2"): 1.0,
        ("", "", "", ""): 1.0,
    }


def test_calls_export_gives_utm_term_and_content(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(
        "Call ID;Date;utm_source;utm_medium;utm_campaign;utm_term;utm_content;Target\n"
        "1;2026-11-01 10:00;yandex;cpc;Brand;Диваны;ad-1;1\n"
        "2;2026-11-01 11:00;yandex;cpc;Brand;Кресла;ad-2;0\n",
        encoding="utf-8",
    )
    facts = read_calls_export(path, SourceOptions("calls")).facts
    # every call counts in calls_all: one per segment
    assert _by(facts, ["segment", "creative"], "calls_all") == {
        ("Диваны", "ad-1"): 1.0,
        ("Кресла", "ad-2"): 1.0,
    }
