"""Alert rules: what an alert watches, where, and when it fires; checked, with the defaults.

A rule is one row of the Alerts sheet. It names a **metric** (a Plan metric such as ``leads``
or ``spend``, a ratio such as ``cpa_leads``, ``cr_calls`` or ``roas``, or one of the data
checks ``freshness``, ``crm_mismatch``, ``sync``), what it is measured **over**:

- ``day``: the last `window` days of the Daily sheet summed (ratios from the sums), per day;
- ``month``: month to date;
- ``run-rate``: the month-end forecast as Refresh Run-Rate computes it;
- ``pace``: the pace still needed per day to make the plan divided by the average of the last
  `window` days (1.25 = the rest of the month needs 25% more per day than lately);
- ``anomaly``: the day against a day-of-week-adjusted band of the last weeks (`planning.anomaly`);
  with `window` 2 or more, also the last `window` days' total against its band (a halving shows
  in a 2-day total sooner than in one day);

at which **level** (``total``, ``channel``, ``line``), the **condition** (``>``, ``<``, or
``> plan ×`` / ``< plan ×``: the threshold times the plan's value of the same metric over the
same span, e.g. CPA above the KPI by 20%+ is ``> plan ×`` 1.2; for ``anomaly`` the condition is
``outside``) and for how many consecutive **days** it must hold. The data checks read the Data
Quality numbers: ``freshness`` is a source's data age in hours, ``crm_mismatch`` the share by
which the ad platforms' conversions differ from the CRM's leads per channel, ``sync`` the count
of failed loads.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from planning.errors import InputError
from planning.funnel import DEFAULT_FUNNEL, Funnel

BASES = ("day", "month", "run-rate", "pace", "anomaly")
LEVELS = ("total", "channel", "line")
CONDITIONS = (">", "<", "> plan ×", "< plan ×", "outside")
SEVERITIES = ("info", "warning", "critical")
CHECKS = ("freshness", "crm_mismatch", "sync")
MAX_DAYS = 31

_CONDITION_ALIASES = {"> plan x": "> plan ×", "< plan x": "< plan ×"}


def metric_key(text: str) -> str:
    """A metric as typed (``"CPA leads"``, ``"cpa_leads"``, ``"CRM mismatch"``) as its key."""
    return "_".join(str(text).strip().lower().replace("-", " ").split())


def metric_names(funnel: Funnel = DEFAULT_FUNNEL) -> tuple[str, ...]:
    """Every metric a rule may name: the funnel's absolutes, its ratios, the data checks."""
    return (*funnel.metrics, *funnel.ratio_names(), *CHECKS)


def is_ratio(metric: str, funnel: Funnel = DEFAULT_FUNNEL) -> bool:
    return metric in funnel.ratio_names()


@dataclass(frozen=True)
class Rule:
    """One alert rule, checked on creation (`InputError` names the field and the value)."""

    name: str
    metric: str
    over: str = "day"
    window: int = 1
    level: str = "channel"
    condition: str = ">"
    threshold: float = 0.0
    days: int = 1
    severity: str = "warning"
    owner: str = ""
    send_to: tuple[str, ...] = field(default=())
    enabled: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "metric", metric_key(self.metric))
        condition = " ".join(str(self.condition).split()).lower()
        object.__setattr__(self, "condition", _CONDITION_ALIASES.get(condition, condition))
        if not str(self.name).strip():
            raise InputError("a rule needs a name", column="rule", value=self.name)
        _one_of("over", self.over, BASES)
        _one_of("level", self.level, LEVELS)
        _one_of("condition", self.condition, CONDITIONS)
        _one_of("severity", self.severity, SEVERITIES)
        for name in ("window", "days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
                raise InputError(
                    f"must be a whole number of days from 1 to {MAX_DAYS}", column=name, value=value
                )
        threshold = self.threshold
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, int | float)
            or not math.isfinite(threshold)
        ):
            raise InputError("must be a number", column="threshold", value=self.threshold)
        if (self.over == "anomaly") != (self.condition == "outside"):
            raise InputError(
                "`outside` goes with `anomaly` and only with it",
                column="condition",
                value=self.condition,
            )
        if self.over == "pace" and "plan" in self.condition:
            raise InputError(
                "pace is already a ratio to the plan: use `>` or `<` (1.1 = 10% more per day)",
                column="condition",
                value=self.condition,
            )

    @property
    def is_check(self) -> bool:
        """A data check (freshness, CRM mismatch, sync) rather than a Plan metric."""
        return self.metric in CHECKS

    def check_metric(self, funnel: Funnel) -> None:
        """Refuse a metric the funnel does not have, naming the ones it has."""
        names = metric_names(funnel)
        if self.metric not in names:
            raise InputError(
                f"is not a metric; use one of: {', '.join(names)}",
                column="metric",
                value=self.metric,
            )
        ratio = is_ratio(self.metric, funnel)
        if ratio and self.over in ("pace", "anomaly"):
            raise InputError(
                f"`{self.over}` works on counts and money, not on a ratio",
                column="over",
                value=self.over,
            )

    def holds(self, value: float, limit: float) -> bool:
        """Whether `value` breaks the (effective) `limit` under this rule's condition."""
        if math.isnan(value) or math.isnan(limit):
            return False
        return value > limit if self.condition.startswith(">") else value < limit


def _one_of(name: str, value: object, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise InputError(f"must be one of: {', '.join(allowed)}", column=name, value=value)


def default_rules() -> tuple[Rule, ...]:
    """The rules a new workbook gets: the seeds' thresholds plus pacing and anomalies.

    From the BI offer (seed 004): CPA above target by 20%+; ROAS below a threshold 3 days; CRM vs
    platforms mismatch above 5%; no fresh data for 6 hours; failed loads. From the morning
    routine (seed 002): the target-lead and target-call CPAs (CPA, CPA2) against each channel's
    KPI. Pacing: run-rate under 90% of plan for leads and purchases, spend over 110%.
    """
    return (
        Rule("cpa-leads", "cpa_leads", "day", 3, "channel", "> plan ×", 1.2, 1, "warning"),
        Rule("cpa-calls", "cpa_calls", "day", 3, "channel", "> plan ×", 1.2, 1, "warning"),
        Rule("roas", "roas", "day", 7, "channel", "<", 1.0, 3, "warning"),
        Rule("leads-pace", "leads", "run-rate", 1, "total", "< plan ×", 0.9, 1, "critical"),
        Rule("leads-pace-channel", "leads", "run-rate", 1, "channel", "< plan ×", 0.9),
        Rule("purchases-pace", "purchases", "run-rate", 1, "total", "< plan ×", 0.9),
        Rule("spend-overpace", "spend", "run-rate", 1, "channel", "> plan ×", 1.1),
        Rule("leads-anomaly", "leads", "anomaly", 2, "channel", "outside", 0.0, 1, "info"),
        Rule("spend-anomaly", "spend", "anomaly", 1, "channel", "outside", 0.0, 1, "info"),
        Rule("crm-mismatch", "crm_mismatch", "day", 1, "channel", ">", 0.05),
        Rule("freshness", "freshness", "day", 1, "total", ">", 6.0, 1, "critical"),
        Rule("failed-loads", "sync", "day", 1, "total", ">", 0.0, 1, "critical"),
    )
