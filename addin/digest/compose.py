"""The morning digest's messages, in the team's language (`addin.digest.texts`).

1. **volumes** (10:00 in the seed): the last day's target leads and target calls against the
   pace needed per day to make the plan (👍, or 🔦 go and investigate), and the month so far
   with its forecast; the optional chart (plan vs fact vs run-rate) goes with it.
2. **channels** (10:10): per channel the day's CPA of target leads and CPA2 of target calls
   against the channel's KPI (the plan's CPA), marked ✅ / ⚠️ / 🔴.
3. **alerts**: the incidents that are new or worse since they were last sent (others stay open
   on the Alerts sheet without being repeated every morning); sent only when there are some.

Text uses Telegram's HTML subset (<b>, <i>); names from the workbook are escaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

from addin.actions.check_alerts import AlertsOutcome
from addin.digest.delivery import Outgoing
from addin.digest.markup import plain_text
from addin.digest.texts import SEVERITY_ICONS, Texts
from planning.alerts import TOTAL, AlertInputs
from planning.morning import ChannelDay, Volume, channel_days, volumes
from sheets_sync.incident_log import Incident

KPI_RED = 1.2  # 🔴 from 20% above the KPI, as the seeds' CPA alert


def _esc(text: object) -> str:
    return html.escape(str(text), quote=False)


def _stages(inputs: AlertInputs) -> tuple[str, str]:
    """The target leads and target calls: the funnel's stages after traffic."""
    names = [s.name for s in inputs.funnel.stages]
    first = "leads" if "leads" in names else names[1]
    second = "calls" if "calls" in names else names[min(2, len(names) - 1)]
    return first, second


def _label(t: Texts, inputs: AlertInputs, metric: str) -> str:
    labels = {s.name: s.label for s in inputs.funnel.stages}
    return t.metric(metric, labels)


def volumes_text(t: Texts, inputs: AlertInputs, items: Sequence[Volume]) -> str:
    lines = [t("volumes.title", day=t.date(inputs.as_of))]
    for v in items:
        label = t("target", label=_label(t, inputs, v.metric))
        if v.ok is None:
            verdict = t("volumes.no_plan")
        elif v.ok:
            verdict = t("volumes.ok")
        else:
            verdict = t("volumes.short", gap=t.signed_share(v.gap))
        lines.append(
            t(
                "volumes.line",
                label=label,
                fact=t.number(v.fact),
                needed=t.number(v.needed),
                verdict=verdict,
            )
        )
    for v in items:
        lines.append(
            t(
                "volumes.month",
                label_lower=_label(t, inputs, v.metric),
                mtd=t.number(v.mtd),
                plan=t.number(v.plan),
                mtd_share=t.share(v.mtd / v.plan if v.plan else math.nan),
                rr=t.number(v.rr),
                rr_share=t.share(v.rr / v.plan if v.plan else math.nan),
            )
        )
    return "\n".join(lines)


def _mark(value: float, kpi: float) -> str:
    if math.isnan(value) or math.isnan(kpi):
        return "—"
    if value > kpi * KPI_RED:
        return "🔴"
    return "⚠️" if value > kpi else "✅"


def channels_text(t: Texts, inputs: AlertInputs, rows: Sequence[ChannelDay]) -> str:
    first, second = _stages(inputs)
    lines = [t("channels.title", day=t.date(inputs.as_of))]
    shown = [r for r in rows if not (math.isnan(r.spend) and math.isnan(r.leads))]
    if not shown:
        lines.append(t("channels.none"))
    for r in shown:
        marks = [_mark(r.cpa, r.cpa_kpi), _mark(r.cpa2, r.cpa2_kpi)]
        worst = "🔴" if "🔴" in marks else "⚠️" if "⚠️" in marks else "✅" if "✅" in marks else "—"
        lines.append(
            t(
                "channels.line",
                mark=worst,
                channel=_esc(r.channel),
                first=_label(t, inputs, first),
                leads=t.number(r.leads),
                cpa=t.money(r.cpa),
                cpa_kpi=t.money(r.cpa_kpi),
                second=_label(t, inputs, second),
                calls=t.number(r.calls),
                cpa2=t.money(r.cpa2),
                cpa2_kpi=t.money(r.cpa2_kpi),
            )
        )
    lines.append(f"<i>{t('channels.legend')}</i>")
    return "\n".join(lines)


def _value(t: Texts, metric: str, value: float | None) -> str:
    if value is None:
        return "—"
    if metric in ("spend", "revenue") or metric.startswith(("cpa", "cpc")):
        return t.money(value)
    if metric in ("roas", "romi") or metric.startswith("cr_") or metric == "crm_mismatch":
        return t.share(value, 1 if abs(value) < 0.1 else 0)
    if metric == "freshness":
        return t.number(value, 1)
    return t.number(value, 2 if metric == "pace" else 0)


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def alert_line(t: Texts, inputs: AlertInputs, i: Incident, outcome: AlertsOutcome) -> str:
    rules = {r.name: r for r in outcome.rules}
    rule = rules.get(i.rule)
    icon = SEVERITY_ICONS.get(i.severity, "•")
    where = t("total") if i.place == TOTAL else _esc(i.place)
    if i.metric in ("freshness", "crm_mismatch", "sync"):
        crm, _, platform = (i.note or "").partition("/")
        return t(
            f"alert.check.{i.metric}",
            icon=icon,
            where=where,
            value=_value(t, i.metric, i.value),
            limit=_value(t, i.metric, i.threshold),
            note=_esc(i.note or ""),
            crm=t.number(_float(crm)),
            platform=t.number(_float(platform)),
        )
    what = _label(t, inputs, i.metric)
    what = what[:1].upper() + what[1:]
    over = rule.over if rule is not None else "day"
    firing = {f.key: f for f in outcome.evaluation.firings}.get(i.key)
    if over == "anomaly":
        low, _, high = (i.note or "").partition("–")
        band = "—"
        if low and high:
            band = f"{_value(t, i.metric, float(low))}–{_value(t, i.metric, float(high))}"
        return t(
            "alert.anomaly",
            icon=icon,
            what=t("anomaly", metric=what),
            where=where,
            value=_value(t, i.metric, i.value),
            expected=_value(t, i.metric, firing.plan if firing is not None else None),
            band=band,
        )
    span = t.over(over, rule.window if rule is not None else 1)
    plan = ""
    if firing is not None and not math.isnan(firing.plan) and rule and "plan" in rule.condition:
        plan = t("alert.plan", plan=_value(t, i.metric, firing.plan))
    metric_value = "pace" if over == "pace" else i.metric
    return t(
        "alert.line",
        icon=icon,
        what=f"{what} ({span})",
        where=where,
        value=_value(t, metric_value, i.value),
        limit=_value(t, metric_value, i.threshold),
        plan=plan,
        since=t("alert.since", since=t.short_date(i.since)) if i.since else "",
    )


def alerts_text(t: Texts, outcome: AlertsOutcome, due: Sequence[Incident]) -> str | None:
    """The alerts message, or None when nothing is new or worse."""
    if not due:
        return None
    worse = sum(1 for i in due if i.notified_at is not None)
    open_ = sum(1 for i in outcome.incidents if i.status == "open")
    order = {"critical": 0, "warning": 1, "info": 2}
    lines = [t("alerts.title", new=len(due) - worse, worse=worse, open=open_)]
    owners = {r.name: r.owner for r in outcome.rules}
    for i in sorted(due, key=lambda i: (order.get(i.severity, 3), i.rule, i.place)):
        line = alert_line(t, outcome.inputs, i, outcome)
        if owners.get(i.rule):
            line += t("alert.owner", owner=_esc(owners[i.rule]))
        lines.append(line)
    return "\n".join(lines)


def compose(
    outcome: AlertsOutcome,
    lang: str = "ru",
    currency: str = "RUB",
    chart: bytes | None = None,
) -> list[Outgoing]:
    """The digest's messages for the outcome of the morning's alert check."""
    t = Texts(lang, currency)
    inputs = outcome.inputs
    first, second = _stages(inputs)
    day = t.date(inputs.as_of)
    items = volumes(inputs, (first, second))
    out = [
        Outgoing(
            "volumes",
            plain_text(t("volumes.title", day=day)),
            volumes_text(t, inputs, items),
            chart,
        ),
        Outgoing(
            "channels",
            plain_text(t("channels.title", day=day)),
            channels_text(t, inputs, channel_days(inputs, first, second)),
        ),
    ]
    alerts = alerts_text(t, outcome, outcome.due)
    if alerts is not None:
        out.append(Outgoing("alerts", plain_text(alerts.splitlines()[0]), alerts))
    return out
