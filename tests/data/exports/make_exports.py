"""Writes the small messy export samples in this folder (run it to regenerate them).

Each file is written by hand, as the platform would: its encoding, delimiter, number and date
style, report lines above the header, a totals row, one or two bad rows and a duplicate. The
expected numbers in tests/sheets_sync/test_*_export.py are worked out from these lines.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
NBSP = "\u00a0"
NNBSP = "\u202f"

FILES: dict[str, tuple[str, str]] = {
    # Yandex Direct: cp1251, ';', NBSP thousands, decimal comma, report lines, Итого
    "yandex_direct_ru.csv": (
        "cp1251",
        "«Статистика по кампаниям» (01.11.2026 - 03.11.2026)\r\n"
        "Логин: demo-client\r\n"
        "\r\n"
        "Дата;Кампания;Показы;Клики;Расход (руб.);Конверсии\r\n"
        f"01.11.2026;Поиск | Бренд;1{NBSP}200;60;2{NBSP}400,00;3\r\n"
        f"01.11.2026;РСЯ | Ретаргетинг;10{NBSP}500;45;1{NBSP}350,50;--\r\n"
        f"02.11.2026;Поиск | Бренд;1{NBSP}100;55;2{NBSP}200,00;2\r\n"
        f"02.11.2026;РСЯ | Ретаргетинг;9{NBSP}800;40;abc;1\r\n"
        f"03.11.2026;Поиск | Бренд;1{NBSP}300;70;2{NBSP}800,00;4\r\n"
        "31.11.2026;Поиск | Бренд;100;5;200,00;0\r\n"
        f"03.11.2026;Поиск | Бренд;1{NBSP}300;70;2{NBSP}800,00;4\r\n"
        f"Итого;;25{NBSP}300;345;11{NBSP}750,50;14\r\n",
    ),
    # Google Ads: UTF-8, ',', quoted "1,234.56", '--', two report lines, two Total rows
    "google_ads_en.csv": (
        "utf-8",
        "Campaign performance report\n"
        '"November 1, 2026 - November 3, 2026"\n'
        "Day,Campaign,Currency code,Cost,Impr.,Clicks,Conversions\n"
        '2026-11-01,Search | Brand,RUB,"1,234.56","2,000",100,5.00\n'
        '2026-11-01,Search | Generic,RUB,987.44,"1,500",80,--\n'
        '2026-11-02,Search | Brand,RUB,"1,100.00","1,800",90,4.50\n'
        "2026-11-02,Search | Generic,RUB,-5.00,100,1,0.00\n"
        '2026-11-03,Search | Brand,RUB,"1,300.00","2,100",110,6.00\n'
        '2026-11-03,Search | Brand,RUB,"1,300.00","2,100",110,6.00\n'
        'Total: Account,,,"5,917.00","9,600",491,21.50\n'
        'Total: Search,,,"5,917.00","9,600",491,21.50\n',
    ),
    # Google Ads "Excel" flavour: UTF-16 with BOM, tab-separated, no quotes
    "google_ads_utf16.csv": (
        "utf-16",
        "Campaign report\n"
        "Day\tCampaign\tCost\tImpr.\tClicks\tConversions\n"
        "2026-11-01\tPMax | All\t1,000.00\t10,000\t200\t10.00\n"
        "2026-11-02\tPMax | All\t500.50\t5,000\t100\t5.00\n",
    ),
    # VK Ads: UTF-8 with BOM, ',', quoted decimal commas, narrow-NBSP thousands, ₽, Всего
    "vk_ads_ru.csv": (
        "utf-8-sig",
        "Статистика рекламного кабинета VK Реклама за период 01.11.2026–02.11.2026\n"
        "Дата,Кампания,Потрачено,Показы,Клики,Результаты\n"
        f'01.11.2026,ВК | Лиды,"1{NNBSP}500,25 ₽","12{NNBSP}000",150,6\n'
        f'01.11.2026,ВК | Охват,"499,75 ₽","30{NNBSP}000",90,\n'
        f'02.11.2026,ВК | Лиды,"1{NNBSP}600,00 ₽","13{NNBSP}000",160,7\n'
        f'02.11.2026,,"100,00 ₽","1{NNBSP}000",10,0\n'
        f'02.11.2026,ВК | Охват,"500,00 ₽","31{NNBSP}000",95,1\n'
        f'Всего,,"4{NNBSP}200,00 ₽","87{NNBSP}000",505,14\n',
    ),
    # Meta Ads: English, US dates (11/13 proves mm/dd), $ amounts in USD, a Total row
    "meta_ads_en.csv": (
        "utf-8",
        "Day,Campaign name,Amount spent (USD),Impressions,Link clicks,Results\n"
        '11/01/2026,Meta | Prospecting,$120.50,"5,000",60,3\n'
        '11/02/2026,Meta | Prospecting,$130.00,"5,200",65,\n'
        '11/13/2026,Meta | Retargeting,$80.25,"2,000",40,2\n'
        '11/14/2026,Meta | Retargeting,"$1,019.25","20,000",400,20\n'
        "11/15/2026,Meta | Retargeting,$10.00,abc,1,0\n"
        'Total,,"$1,360.00","32,200",566,25\n',
    ),
    # Call tracking: UTF-8 with BOM, ';', datetimes, mm:ss durations, Да/Нет
    "calls_ru.csv": (
        "utf-8-sig",
        "Отчёт по звонкам за 01.11.2026 - 02.11.2026\n"
        "ID звонка;Дата и время;Источник;Канал;Кампания;Длительность;Целевой\n"
        "c-001;01.11.2026 09:15:00;yandex;cpc;Поиск | Бренд;2:05;Да\n"
        "c-002;01.11.2026 10:40:12;yandex;cpc;Поиск | Бренд;0:20;Нет\n"
        "c-003;01.11.2026 18:02:00;google;cpc;Search | Brand;5:10;Да\n"
        "c-004;02.11.2026 11:00:00;yandex;cpc;Поиск | Бренд;1:30;да\n"
        "c-004;02.11.2026 11:00:00;yandex;cpc;Поиск | Бренд;1:30;да\n"
        "c-005;32.11.2026 12:00:00;google;cpc;Search | Brand;0:45;Да\n"
        "c-006;02.11.2026 23:59:59;;;;0:10;возможно\n"
        "c-007;02.11.2026 14:30:00;vk;social;ВК | Лиды;3:00;\n"
        "Итого;;;;;;4\n",
    ),
    "calls_en.csv": (
        "utf-8",
        "Call ID,Date time,utm_source,utm_medium,utm_campaign,Duration,Target\n"
        "1001,2026-11-01T09:00:00,google,cpc,Search | Brand,65,Yes\n"
        "1002,2026-11-01T12:30:00,google,cpc,Search | Brand,12,No\n"
        "1003,2026-11-02T08:15:00,facebook,paid_social,Meta | Prospecting,130,yes\n",
    ),
    # CRM (amoCRM-like): cp1251, ';', Russian stages and statuses, stage dates, amounts
    "crm_ru.csv": (
        "cp1251",
        "Выгрузка сделок 04.11.2026\n"
        "ID;Дата создания;utm_source;utm_medium;utm_campaign;Этап;Дата КП;Дата переговоров;"
        "Дата покупки;Сумма;Статус\n"
        "101;01.11.2026 10:00;yandex;cpc;Поиск | Бренд;Лид;;;;;В работе\n"
        "102;01.11.2026 11:30;yandex;cpc;Поиск | Бренд;КП;02.11.2026;;;;В работе\n"
        "103;01.11.2026 12:00;google;cpc;Search | Brand;Переговоры;02.11.2026;03.11.2026;;;"
        "В работе\n"
        f"104;02.11.2026 09:00;yandex;cpc;Поиск | Бренд;Сделка;;03.11.2026;04.11.2026;"
        f"12{NBSP}500,00 руб.;Успешно\n"
        "105;02.11.2026 10:00;vk;social;ВК | Лиды;Переговоры;03.11.2026;04.11.2026;;;Проиграна\n"
        "102;01.11.2026 11:30;yandex;cpc;Поиск | Бренд;Переговоры;02.11.2026;04.11.2026;;;"
        "В работе\n"
        "106;03.11.2026 15:00;google;cpc;Search | Brand;Оплата;03.11.2026;03.11.2026;04.11.2026;"
        "abc;Успешно\n"
        "107;03.11.2026 16:00;yandex;cpc;Поиск | Бренд;Непонятно;;;;;В работе\n"
        "108;04.11.2026 09:30;yandex;cpc;Поиск | Бренд;Лид;;;;;\n",
    ),
    "crm_en.csv": (
        "utf-8",
        "ID,Created,utm_source,utm_medium,utm_campaign,Stage,PP date,Negotiations date,"
        "Purchase date,Amount,Status\n"
        "A-1,2026-11-01,google,cpc,Search | Brand,lead,,,,,open\n"
        "A-2,2026-11-01,google,cpc,Search | Brand,negotiations,2026-11-02,2026-11-03,,,open\n"
        'A-3,2026-11-02,facebook,paid_social,Meta | Prospecting,lead,,,2026-11-05,"1,200.00",'
        "won\n"
        ",2026-11-03,google,cpc,Search | Brand,pp,2026-11-03,,,,open\n"
        "A-5,,google,cpc,Search | Brand,lead,,,,,open\n",
    ),
}


def main() -> None:
    for name, (encoding, text) in FILES.items():
        (HERE / name).write_bytes(text.encode(encoding))


if __name__ == "__main__":
    main()
