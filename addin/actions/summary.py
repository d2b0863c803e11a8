"""Plan vs fact vs run-rate per channel and in total, read back from the workbook.

Not a button: the CLI's `refresh` and `demo` print it; ratios are recomputed from the summed
absolutes.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from planning.funnel import rollup
from planning.runrate import month_progress
from sheets_sync.cells import finite_number
from sheets_sync.workbooks.interface import WorkbookTarget
from workbook_templates import layout as L
from workbook_templates.plan_sheet import read_plan
from workbook_templates.settings_sheet import read_funnel, read_settings

SUMMARY_METRICS = ("spend", "leads", "purchases")


def plan_summary(wb: WorkbookTarget) -> dict[str, Any]:
    """Plan vs fact vs run-rate per channel and in total, recomputed from summed absolutes."""
    settings = read_settings(wb)
    funnel = read_funnel(wb)
    _, plan = read_plan(wb, funnel)
    progress = month_progress(settings.month, settings.as_of or settings.month)
    kinds: dict[str, pd.DataFrame] = {}
    for kind in ("p", "f", "rr"):
        frame = pd.DataFrame({"channel": plan["channel"]})
        for m in funnel.metrics:
            h = L.abs_header(m, kind)
            frame[m] = plan.get(h, math.nan)
        kinds[kind] = frame
    per_kind = {k: rollup(f, ["channel"], funnel) for k, f in kinds.items()}
    totals = {k: rollup(f, [], funnel) for k, f in kinds.items()}
    last = funnel.names[-1]
    first_cpa = f"cpa_{funnel.names[1]}" if len(funnel.names) > 1 else "cpc"

    def block(rows: dict[str, pd.Series]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for m in (*[x for x in SUMMARY_METRICS if x in funnel.metrics and x != "purchases"], last):
            p, f, rr = (finite_number(rows[k].get(m)) for k in ("p", "f", "rr"))
            out[m] = {
                "plan": p,
                "fact": f,
                "runrate": rr,
                "fact_pct": _div(f, p),
                "runrate_pct": _div(rr, p),
            }
        for ratio in (first_cpa, f"cpa_{last}"):
            out[ratio] = {
                "plan": finite_number(rows["p"].get(ratio)),
                "fact": finite_number(rows["f"].get(ratio)),
                "runrate": finite_number(rows["rr"].get(ratio)),
            }
        return out

    channels = []
    for i in range(len(per_kind["p"])):
        name = per_kind["p"].iloc[i]["channel"]
        rows = {k: per_kind[k].iloc[i] for k in per_kind}
        channels.append({"channel": name, **block(rows)})
    total = block({k: totals[k].iloc[0] for k in totals})
    return {
        "month": f"{settings.month:%Y-%m}",
        "as_of": settings.as_of.isoformat() if settings.as_of else None,
        "days_elapsed": progress.days_elapsed,
        "days_left": progress.days_left,
        "currency": settings.currency,
        "channels": channels,
        "total": total,
    }


def _div(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b
