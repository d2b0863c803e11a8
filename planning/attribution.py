"""Attribution: which channels really bring the leads (issue 12).

One entry point, `attribute(paths, model)`, over journeys encoded by `build_paths`
(`planning.journey_paths`). The models:

- rules (`planning.credits`): ``first_touch``, ``last_touch``, ``last_non_direct``, ``linear``,
  ``time_decay`` (half-life ``half_life_days``), ``position`` (40/20/40);
- ``markov`` (`planning.markov`): conversions split by the channels' removal effects in an
  absorbing Markov chain of order ``order`` (1..3), solved exactly;
- ``shapley`` (`planning.shapley`): exact Shapley values of "the conversions of the journeys
  whose channels lie within the coalition".

Every model's credits add up to the journeys' conversions and value (a converting journey with
no touch left is credited to the ``"(no touch)"`` pseudo-channel, `NO_TOUCH`). `removal_effects`
gives the share of conversions lost without each channel; `assists` how often a channel closes
versus assists.
"""

from __future__ import annotations

from planning.credits import RULE_MODELS, Assists, Attribution, assists, rule_attribution
from planning.errors import InputError
from planning.journey_paths import NO_TOUCH, PathIssues, Paths, build_paths
from planning.markov import RemovalEffects, markov_attribution, removal_effects
from planning.shapley import shapley

__all__ = [
    "MODELS",
    "NO_TOUCH",
    "Assists",
    "Attribution",
    "PathIssues",
    "Paths",
    "RemovalEffects",
    "assists",
    "attribute",
    "build_paths",
    "removal_effects",
    "shapley",
]

MODELS = (*RULE_MODELS, "markov", "shapley")


def attribute(
    paths: Paths, model: str, *, half_life_days: float = 7.0, order: int = 1
) -> Attribution:
    """Conversions and value credited per channel by `model` (one of `MODELS`).

    `half_life_days` is used by ``time_decay`` only, `order` (1..3) by ``markov`` only.
    """
    if model == "markov":
        return markov_attribution(paths, order)
    if model == "shapley":
        return shapley(paths)
    if model not in RULE_MODELS:
        raise InputError(f"is not an attribution model ({', '.join(MODELS)})", value=model)
    return rule_attribution(paths, model, half_life_days)
