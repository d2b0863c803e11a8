"""The digest's words, one catalog per language (``ru``, the default, and ``en``), and the
number, money, share and date formats of each (Babel's locale data: a space between
thousands and a decimal comma under ``ru``).

Every sentence the digest sends is a template here, filled with named values; nothing the team
reads is spelled elsewhere. Adding a language is adding a catalog with the same keys (a test
checks they match).
"""

from __future__ import annotations

import datetime as dt
import math

from babel.dates import format_date
from babel.numbers import format_decimal

LANGS = ("ru", "en")
LOCALES = {"ru": "ru_RU", "en": "en_US"}
DATE_FORMATS = {"ru": "dd.MM.yyyy", "en": "MMM d, yyyy"}
SHORT_DATE_FORMATS = {"ru": "dd.MM", "en": "MMM d"}

CATALOGS: dict[str, dict[str, str]] = {
    "ru": {
        "volumes.title": "<b>Объёмы за {day}</b>",
        "volumes.line": "{label}: {fact} при нужных {needed} в день — {verdict}",
        "volumes.ok": "👍",
        "volumes.short": "🔦 идём разбираться ({gap})",
        "volumes.no_plan": "плана нет",
        "volumes.month": (
            "С начала месяца {label_lower}: {mtd} из {plan} по плану ({mtd_share}), "
            "прогноз на месяц {rr} ({rr_share})."
        ),
        "volumes.caption": "План, факт и прогноз: {label_lower}, {month}",
        "channels.title": "<b>Каналы за {day}: CPA и CPA2 против KPI</b>",
        "channels.line": "{mark} <b>{channel}</b>: {first} {leads}, CPA {cpa} (KPI {cpa_kpi}); "
        "{second} {calls}, CPA2 {cpa2} (KPI {cpa2_kpi})",
        "channels.legend": "✅ в KPI · ⚠️ выше KPI · 🔴 выше KPI на 20%+ · — нет данных",
        "channels.none": "За этот день фактов по каналам нет.",
        "alerts.title": "<b>Алерты: новых {new}, хуже прежнего {worse}, открыто всего {open}</b>",
        "alerts.none": "Новых алертов нет; открыто {open}.",
        "alert.line": "{icon} {what}, {where}: {value} (порог {limit}){plan}{since}",
        "alert.plan": ", план {plan}",
        "alert.since": ", с {since}",
        "alert.owner": " → {owner}",
        "alert.anomaly": "{icon} {what}, {where}: {value} при ожидаемых {expected} "
        "(коридор {band})",
        "alert.check.freshness": "{icon} Нет свежих данных, {where}: {value} ч (порог {limit} ч)",
        "alert.check.crm_mismatch": "{icon} Расхождение CRM и площадок, {where}: {value} "
        "(порог {limit}; CRM {crm}, площадки {platform})",
        "alert.check.sync": "{icon} Сбой загрузки: {note}",
        "over.day.1": "за день",
        "over.day.n": "за {n} дн.",
        "over.month": "с начала месяца",
        "over.run-rate": "прогноз на месяц",
        "over.pace": "нужный темп к текущему",
        "over.anomaly": "за день",
        "total": "итого",
        "metric.spend": "расход",
        "metric.traffic": "трафик",
        "metric.leads": "лиды",
        "metric.calls": "звонки",
        "metric.pp": "PP",
        "metric.negotiations": "переговоры",
        "metric.purchases": "покупки",
        "metric.revenue": "выручка",
        "metric.cpc": "CPC",
        "metric.cpa_leads": "CPA лида",
        "metric.cpa_calls": "CPA2 звонка",
        "metric.roas": "ROAS",
        "metric.romi": "ROMI",
        "metric.cr": "CR в {stage}",
        "metric.cpa": "CPA {stage}",
        "anomaly": "необычно: {metric}",
        "target": "Целевые {label}",
    },
    "en": {
        "volumes.title": "<b>Volumes for {day}</b>",
        "volumes.line": "{label}: {fact} against {needed} needed a day — {verdict}",
        "volumes.ok": "👍",
        "volumes.short": "🔦 let's investigate ({gap})",
        "volumes.no_plan": "no plan",
        "volumes.month": (
            "Month to date, {label_lower}: {mtd} of {plan} planned ({mtd_share}), "
            "month-end forecast {rr} ({rr_share})."
        ),
        "volumes.caption": "Plan, fact and forecast: {label_lower}, {month}",
        "channels.title": "<b>Channels for {day}: CPA and CPA2 against KPI</b>",
        "channels.line": "{mark} <b>{channel}</b>: {first} {leads}, CPA {cpa} (KPI {cpa_kpi}); "
        "{second} {calls}, CPA2 {cpa2} (KPI {cpa2_kpi})",
        "channels.legend": "✅ within KPI · ⚠️ above KPI · 🔴 20%+ above KPI · — no data",
        "channels.none": "No channel facts for this day.",
        "alerts.title": "<b>Alerts: {new} new, {worse} worse, {open} open in all</b>",
        "alerts.none": "No new alerts; {open} open.",
        "alert.line": "{icon} {what}, {where}: {value} (threshold {limit}){plan}{since}",
        "alert.plan": ", plan {plan}",
        "alert.since": ", since {since}",
        "alert.owner": " → {owner}",
        "alert.anomaly": "{icon} {what}, {where}: {value} against {expected} expected "
        "(band {band})",
        "alert.check.freshness": "{icon} No fresh data, {where}: {value} h (threshold {limit} h)",
        "alert.check.crm_mismatch": "{icon} CRM vs platforms mismatch, {where}: {value} "
        "(threshold {limit}; CRM {crm}, platforms {platform})",
        "alert.check.sync": "{icon} Load failed: {note}",
        "over.day.1": "for the day",
        "over.day.n": "over {n} days",
        "over.month": "month to date",
        "over.run-rate": "month-end forecast",
        "over.pace": "needed pace vs recent",
        "over.anomaly": "for the day",
        "total": "total",
        "metric.spend": "spend",
        "metric.traffic": "traffic",
        "metric.leads": "leads",
        "metric.calls": "calls",
        "metric.pp": "PP",
        "metric.negotiations": "negotiations",
        "metric.purchases": "purchases",
        "metric.revenue": "revenue",
        "metric.cpc": "CPC",
        "metric.cpa_leads": "CPA of a lead",
        "metric.cpa_calls": "CPA2 of a call",
        "metric.roas": "ROAS",
        "metric.romi": "ROMI",
        "metric.cr": "CR to {stage}",
        "metric.cpa": "CPA of {stage}",
        "anomaly": "unusual {metric}",
        "target": "Target {label}",
    },
}

SEVERITY_ICONS = {"critical": "🔴", "warning": "⚠️", "info": "ℹ️"}
CURRENCY_SIGNS = {"RUB": "₽", "USD": "$", "EUR": "€", "KZT": "₸"}


class Texts:
    """One language's catalog and formats."""

    def __init__(self, lang: str = "ru", currency: str = "RUB") -> None:
        if lang not in LANGS:
            raise ValueError(f"language {lang!r} is not one of: {', '.join(LANGS)}")
        self.lang = lang
        self.locale = LOCALES[lang]
        self.catalog = CATALOGS[lang]
        self.currency = CURRENCY_SIGNS.get(currency.upper(), currency)

    def __call__(self, key: str, **values: object) -> str:
        return self.catalog[key].format(**values)

    def number(self, value: float | None, digits: int = 0) -> str:
        if value is None or not math.isfinite(value):
            return "—"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def money(self, value: float | None) -> str:
        text = self.number(value)
        return text if text == "—" else f"{text}\u00a0{self.currency}"

    def share(self, value: float | None, digits: int = 0) -> str:
        """0.884 as ``88 %`` (ru) / ``88%`` (en)."""
        if value is None or not math.isfinite(value):
            return "—"
        text = self.number(value * 100, digits)
        return f"{text}\u00a0%" if self.lang == "ru" else f"{text}%"

    def signed_share(self, value: float) -> str:
        sign = "+" if value > 0 else "−" if value < 0 else "±"
        return sign + self.share(abs(value))

    def date(self, day: dt.date) -> str:
        return format_date(day, DATE_FORMATS[self.lang], locale=self.locale)

    def short_date(self, day: dt.date) -> str:
        return format_date(day, SHORT_DATE_FORMATS[self.lang], locale=self.locale)

    def month(self, day: dt.date) -> str:
        return format_date(day, "LLLL yyyy", locale=self.locale)

    def metric(self, key: str, stage_labels: dict[str, str] | None = None) -> str:
        """A metric's name: its own entry, else CR/CPA of its stage."""
        if f"metric.{key}" in self.catalog:
            return self(f"metric.{key}")
        for kind in ("cr", "cpa"):
            if key.startswith(kind + "_"):
                stage = key[len(kind) + 1 :]
                label = self.catalog.get(f"metric.{stage}", (stage_labels or {}).get(stage, stage))
                return self(f"metric.{kind}", stage=label)
        return (stage_labels or {}).get(key, key)

    def over(self, over: str, window: int) -> str:
        if over == "day":
            return self("over.day.1") if window == 1 else self("over.day.n", n=window)
        return self(f"over.{over}")
