"""Writes the journeys export samples in this folder (run it to regenerate them).

Each file is written by hand as the tool would export it, with the odd rows the reader must
keep and count and the rows it must quarantine; tests/sheets_sync/sources/test_paths.py works
its expected numbers out from these lines (line numbers are the file's, 1-based).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
NBSP = "\u00a0"

_METRICA_HEAD = (
    "Отчёт «Посещения» за 01.11.2026 — 30.11.2026\n"
    "ID визита;ClientID;Дата и время визита;Источник трафика;UTM Source;UTM Medium;UTM Campaign;"
    "Цель: Заявка;Доход\n"
)
_METRICA_ROWS = (
    # line 3.. : visitor 100 converts twice, then comes back
    "1;100;01.11.2026 10:00:00;Рекламные переходы;yandex;cpc;yd_search_brand_rf;0;\n"
    "2;100;02.11.2026 11:30:00;Переходы из поисковых систем;;;;0;\n"
    "3;100;03.11.2026 12:00:00;Прямые заходы;;;;1;\n"
    "4;100;05.11.2026 09:00:00;Рекламные переходы;vk;cpc;vk_retargeting;0;\n"
    f"5;100;07.11.2026 18:00:00;Рекламные переходы;vk;cpc;vk_retargeting;1;1{NBSP}500,50\n"
    "6;100;09.11.2026 10:00:00;Прямые заходы;;;;0;\n"
    # line 9.. : visitor 200: a visit exported twice, then an earlier one listed after them
    "7;200;04.11.2026 15:00:00;Рекламные переходы;google;cpc;gs_brand;0;\n"
    "7;200;04.11.2026 15:00:00;Рекламные переходы;google;cpc;gs_brand;0;\n"
    "8;200;03.11.2026 08:00:00;Рекламные переходы;dsp;display;pg_video_awareness;0;\n"
    # line 12.. : unreadable rows (quarantined)
    "9;;04.11.2026 16:00:00;Прямые заходы;;;;1;\n"
    "10;300;31.11.2026 10:00:00;Рекламные переходы;yandex;cpc;x;0;\n"
    "11;300;;Прямые заходы;;;;0;\n"
    # line 15: no source at all, an unreadable goal; line 16: a visit in the future
    "12;400;05.11.2026 10:00:00;;(not set);(not set);(not set);abc;\n"
    "13;500;01.03.2027 10:00:00;Рекламные переходы;vk;cpc;vk_lal3;0;\n"
)


def _long_visitor() -> str:
    """Lines 17-56: visitor 600's 40 visits an hour apart, the last one reaching the goal."""
    start = dt.datetime(2026, 11, 6)
    campaigns = (("yandex", "cpc", "yd_rsya_retargeting"), ("vk", "cpc", "vk_lal3"))
    rows = []
    for i in range(40):
        source, medium, campaign = campaigns[i % 2]
        goal = 1 if i == 39 else 0
        when = start + dt.timedelta(hours=i)
        rows.append(
            f"{100 + i};600;{when:%d.%m.%Y %H:%M:%S};Рекламные переходы;{source};{medium};"
            f"{campaign};{goal};\n"
        )
    return "".join(rows)


METRICA = (
    _METRICA_HEAD
    + _METRICA_ROWS
    + _long_visitor()
    + "200;700;10.11.2026 20:00:00;Переходы из социальных сетей;;;;0;\n"  # line 57
)

GA4 = (
    "user_pseudo_id,event_timestamp,session_source,session_medium,session_campaign,"
    "session_default_channel_group,conversions,purchase_revenue\n"
    # 1793527200 s = 2026-11-01 10:00 UTC; the next days at the same time
    "u1.1700,1793527200000000,google,cpc,gs_brand,Paid Search,0,0\n"
    "u1.1700,1793613600000000,(direct),(none),(not set),Direct,1,0\n"
    'u1.1700,1793700000123456,facebook,cpc,fb_rt_sitevisitors,Paid Social,0,"1,234.56"\n'
    "u2.1800,1793527200000000,(direct),(none),,Direct,0,0\n"
    ",1793527200000000,google,cpc,gs_brand,Paid Search,1,0\n"
    "u3.1900,not-a-time,google,cpc,gs_brand,Paid Search,0,0\n"
    "u4.2000,1793786400000000,,,,Organic Search,0,0\n"
)

LOGS_API = (
    "ym:s:visitID\tym:s:clientID\tym:s:dateTime\tym:s:lastTrafficSource\tym:s:UTMSource\t"
    "ym:s:UTMMedium\tym:s:UTMCampaign\tym:s:goalsID\tym:s:purchaseRevenue\n"
    "1\tc1\t2026-11-01 10:00:00\tad\tyandex\tcpc\tyd_rsya_retargeting\t[]\t[]\n"
    "2\tc1\t2026-11-02 10:00:00\tdirect\t\t\t\t[123,456]\t[]\n"
    "3\tc2\t2026-11-02 11:00:00\torganic\t\t\t\t[]\t[2500.5,100]\n"
    "4\tc3\t2026-11-02 12:00:00\tmessenger\t\t\t\t[]\tabc\n"
)

CRM_EN = (
    "Deal ID,Created,Stage,Amount,First touch,Customer journey\n"
    'A-1,2026-11-10 12:00,won,"85,000.00",2026-11-01,'
    "google / cpc > meta / cpc > (direct) / (none)\n"
    "A-2,2026-11-11 09:00,lead,,,Direct\n"
)


def write_crm_xlsx(path: Path) -> None:
    """The CRM's deals with their paths (sheet rows: title 1, header 3, deals 4-11, Итого 12)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Сделки"
    sheet.append(["Сделки за ноябрь 2026"])
    sheet.append([])
    sheet.append(
        ["ID сделки", "Дата создания", "Этап", "Статус", "Бюджет", "Дата оплаты", "Путь клиента"]
    )
    rows = [
        [5001, dt.datetime(2026, 11, 5, 12), "Лид", "В работе", None, None,
         "yandex / cpc / yd_search_brand_rf > vk / cpc > (direct) / (none)"],
        [5002, dt.datetime(2026, 11, 6, 13, 30), "Покупка", "Успешно", 120000,
         dt.datetime(2026, 11, 20, 10), "Yandex Direct → VK Ads → Прямые заходы"],
        [5003, "07.11.2026", "Переговоры", "В работе", 50000, None, None],
        [None, dt.datetime(2026, 11, 7), "Лид", "В работе", None, None, "vk / cpc"],
        [5004, "31.11.2026", "Лид", "В работе", None, None, "vk / cpc"],
        [5005, dt.datetime(2026, 11, 8, 9), "странный", None, None, None,
         "google / cpc / gs_brand >> yandex/cpc -> facebook / cpc"],
        [5001, dt.datetime(2026, 11, 5, 12), "КП", "В работе", None, None,
         "yandex / cpc / yd_search_brand_rf > vk / cpc > google / cpc > (direct) / (none)"],
        [5006, dt.datetime(2026, 11, 9, 10), "Сделка", "Успешно", None, None,
         "Переходы из поисковых систем"],
        ["Итого: 7 сделок", None, None, None, 170000, None, None],
    ]  # fmt: skip
    for row in rows:
        sheet.append(row)
    book.save(path)


def main() -> None:
    (HERE / "metrica_visits_ru.csv").write_bytes(METRICA.encode("utf-8-sig"))
    (HERE / "ga4_sessions_en.csv").write_bytes(GA4.encode("utf-8"))
    (HERE / "metrica_logs_api.tsv").write_bytes(LOGS_API.encode("utf-8"))
    (HERE / "crm_history_en.csv").write_bytes(CRM_EN.encode("utf-8"))
    write_crm_xlsx(HERE / "crm_history_ru.xlsx")


if __name__ == "__main__":
    main()
