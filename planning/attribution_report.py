"""The attribution report: per channel, every model's credit, the true CPA, assists, removal
effects, a plain verdict, and the budget reallocation the removal effects suggest.

- **true CPA** = the channel's spend / the conversions the chosen model credits it with (the
  "true CPL" for leads, CAC for purchases); the last-click CPA beside it for comparison;
- **assist ratio** = conversions it assisted (present, not last) / conversions it closed;
- **removal effect** = the share of all conversions lost without the channel (Markov chain of
  the chosen order);
- **verdict**, in this order: ``no_journeys`` (spend but never in a journey), ``under_credited``
  (the chosen model credits it at least `UNDER` times its last-click share),
  ``cannibalising`` (last click credits it at least `UNDER` times the chosen model's share,
  its share of all removal effects is below its last-click share (raw removal effects add up to
  well over 100%, so they are compared as shares) and at least half of what it closes had
  another channel before it: it takes the credit for conversions others started), ``assist``
  (assists at least `ASSIST` times as often as it closes), else ``as_last_click``;
- **reallocation**: each channel's budget moved toward the share of spend its chosen-model
  conversions would get at equal true CPA, at most `MAX_MOVE` of its budget, total unchanged
  (what the removal effects say, before Optimize Split weighs the response curves).

Pure: `planning.attribution` results and plain mappings in, dataclasses out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from planning.attribution import (
    MODELS,
    NO_TOUCH,
    PathIssues,
    Paths,
    RemovalEffects,
    assists,
    attribute,
    removal_effects,
)
from planning.errors import InputError
from planning.markov import split_by_effects
from planning.runrate import divide

UNDER = 1.2
ASSIST = 1.0
MAX_MOVE = 0.3
SHAPLEY_LIMIT = 15


@dataclass(frozen=True)
class ChannelCredit:
    channel: str
    chosen: str  # the model the true CPA and the verdict use
    spend: float
    conversions: dict[str, float]  # per model
    value: dict[str, float]  # per model
    last_touch: float  # conversions it closed
    assisted: float
    assist_ratio: float
    removal_effect: float
    true_cpa: float  # spend / chosen model's conversions
    last_click_cpa: float
    verdict: str
    proposed_spend: float

    @property
    def factor(self) -> float:
        """Chosen model's conversions / last click's: how much more (or less) the channel
        really brings than last click says (Optimize Split's re-weighting)."""
        last = self.conversions.get("last_touch", math.nan)
        chosen = self.conversions.get(self.chosen, math.nan)
        return chosen / last if last else math.nan


@dataclass(frozen=True)
class AttributionReport:
    kind: str  # "lead" or "purchase"
    chosen: str
    models: tuple[str, ...]
    order: int
    half_life_days: float
    conversions: float
    value: float
    conversion_rate: float  # P(conversion) per journey in the chain
    channels: tuple[ChannelCredit, ...]
    issues: PathIssues
    skipped_models: tuple[str, ...] = ()  # e.g. shapley over its channel limit, with why


def _cost(spend: float, conversions: float) -> float:
    """spend / conversions; NaN without spend (a channel nobody pays for has no CPA)."""
    return divide(spend, conversions) if spend > 0 else math.nan


def closes_after_others(paths: Paths) -> dict[str, float]:
    """Per channel, the share of the conversions it closed (last touch) in journeys where
    another channel came before it."""
    sub = paths.subset(paths.conversions > 0)
    if not sub.journeys:
        return {}
    last = sub.touch_channel[sub.offsets[1:] - 1]
    journey = sub.journey_of_touch()
    other = np.zeros(sub.journeys, dtype=bool)
    np.logical_or.at(other, journey, sub.touch_channel != last[journey])
    size = len(sub.channels)
    closed = np.bincount(last, weights=sub.conversions, minlength=size)
    after = np.bincount(last, weights=sub.conversions * other, minlength=size)
    return {c: float(after[i] / closed[i]) for i, c in enumerate(sub.channels) if closed[i] > 0}


def _verdict(
    channel: str,
    share: float,
    last_share: float,
    effect: float,
    ratio: float,
    journeys: bool,
    after_others: float = 1.0,
) -> str:
    if channel == NO_TOUCH:
        return "no_touch"
    if not journeys:
        return "no_journeys"
    if share >= last_share * UNDER and share > 0:
        return "under_credited"
    if (
        last_share >= share * UNDER
        and last_share > 0
        and effect < last_share
        and after_others >= 0.5
    ):
        return "cannibalising"
    if ratio >= ASSIST:
        return "assist"
    return "as_last_click"


def reallocation(spend: np.ndarray, credited: np.ndarray) -> np.ndarray:
    """Budgets moved toward equal true CPA (spend share = credited share), each by at most
    `MAX_MOVE` of its budget, the total kept (the moves are scaled to balance)."""
    total = float(spend.sum())
    if total <= 0 or float(credited.sum()) <= 0:
        return spend.copy()
    target = total * credited / credited.sum()
    move = np.clip(target - spend, -MAX_MOVE * spend, MAX_MOVE * spend)
    up, down = move[move > 0].sum(), -move[move < 0].sum()
    if up > 0 and down > 0:
        scale = min(up, down)
        move = np.where(move > 0, move * scale / up, move * scale / down)
    else:
        move = np.zeros_like(move)
    return spend + move


def _credits(
    paths: Paths,
    ordered: Sequence[str],
    chosen: str,
    effects: RemovalEffects,
    half_life_days: float,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], list[str]]:
    """Each model's conversions and value per channel of `paths` (in its channel order), and
    the models skipped with why (Shapley over its limit, unless it is the chosen one). Markov
    splits the totals by `effects`, solved once for the report."""
    credits: dict[str, np.ndarray] = {}
    values: dict[str, np.ndarray] = {}
    skipped: list[str] = []
    names = list(paths.channels)
    for model in ordered:
        if model == "shapley" and len(names) > SHAPLEY_LIMIT:
            why = f"{len(names)} channels; exact Shapley handles at most {SHAPLEY_LIMIT}"
            if model == chosen:
                raise InputError(f"cannot be shapley here: {why}", column="model", value=chosen)
            skipped.append(f"shapley: {why}")
            continue
        if model == "markov":
            result = split_by_effects(paths, effects)
        else:
            result = attribute(paths, model, half_life_days=half_life_days)
        index = {c: i for i, c in enumerate(result.channels)}
        credits[model] = np.array(
            [result.conversions[index[c]] if c in index else 0.0 for c in names]
        )
        values[model] = np.array([result.value[index[c]] if c in index else 0.0 for c in names])
    return credits, values, skipped


def attribution_report(
    paths: Paths,
    issues: PathIssues,
    spend: Mapping[str, float],
    *,
    kind: str = "lead",
    chosen: str = "markov",
    order: int = 1,
    half_life_days: float = 7.0,
    models: Sequence[str] = MODELS,
) -> AttributionReport:
    """Every model on `paths`, with `spend` per channel (channels with spend but no journey
    are listed too), the chosen model first."""
    if chosen not in MODELS:
        raise InputError(f"must be one of: {', '.join(MODELS)}", column="model", value=chosen)
    ordered = [chosen, *[m for m in models if m != chosen]]
    names = list(paths.channels)
    effects = removal_effects(paths, order=order)
    credits, values, skipped = _credits(paths, ordered, chosen, effects, half_life_days)
    effect_of = dict(zip(effects.channels, effects.effect, strict=True))
    effect_total = float(effects.effect.sum())
    after_others = closes_after_others(paths)
    help_ = assists(paths)
    assist_of = {
        c: (float(a), float(lt), float(r))
        for c, a, lt, r in zip(
            help_.channels, help_.assisted, help_.last_touch, help_.ratio, strict=True
        )
    }
    all_names = names + [c for c in spend if c not in names]
    n = len(all_names)

    def per_channel(array: np.ndarray) -> np.ndarray:
        return np.concatenate([array, np.zeros(n - len(names))])

    total = float(paths.conversions.sum())
    chosen_c = per_channel(credits[chosen])
    last_c = per_channel(credits.get("last_touch", credits[chosen]))
    spends = np.array([float(spend.get(c, 0.0)) for c in all_names])
    proposed = reallocation(spends, np.where(spends > 0, chosen_c, 0.0))
    rows = []
    for i, c in enumerate(all_names):
        assisted, closed, ratio = assist_of.get(c, (0.0, 0.0, math.nan))
        share = divide(chosen_c[i], total)
        last_share = divide(last_c[i], total)
        effect = float(effect_of.get(c, 0.0))
        effect_share = effect / effect_total if effect_total > 0 else 0.0
        rows.append(
            ChannelCredit(
                channel=c,
                chosen=chosen,
                spend=float(spends[i]),
                conversions={m: float(per_channel(v)[i]) for m, v in credits.items()},
                value={m: float(per_channel(v)[i]) for m, v in values.items()},
                last_touch=closed,
                assisted=assisted,
                assist_ratio=ratio,
                removal_effect=effect,
                true_cpa=_cost(float(spends[i]), float(chosen_c[i])),
                last_click_cpa=_cost(float(spends[i]), float(last_c[i])),
                verdict=_verdict(
                    c, share, last_share, effect_share, ratio, c in names, after_others.get(c, 0.0)
                ),
                proposed_spend=float(proposed[i]),
            )
        )
    return AttributionReport(
        kind=kind,
        chosen=chosen,
        models=tuple(credits),
        order=order,
        half_life_days=half_life_days,
        conversions=total,
        value=float(paths.value.sum()),
        conversion_rate=float(effects.conversion_rate),
        channels=tuple(rows),
        issues=issues,
        skipped_models=tuple(skipped),
    )
