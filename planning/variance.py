"""Variance explained: a line's gap between plan and fact, split exactly into its causes.

The outcome (the funnel's last stage, "purchases" in the demo) is a product along the funnel's
path to it::

    purchases = spend × (traffic / spend) × (leads / traffic) × … × (purchases / negotiations)
    revenue   = purchases-identity × (revenue / purchases)

and the gap ``fact − plan`` is split among those factors by **LMDI-I** (the log-mean Divisia
index, Ang 2004): factor k's part is ``L(Y_fact, Y_plan) × ln(x_k,fact / x_k,plan)`` with
``L(a, b) = (a − b) / (ln a − ln b)`` and ``L(a, a) = a``. Since the logs of the factors add up
to the log of the outcome, the parts add up to the gap exactly: there is no residual. A factor
unchanged between plan and fact gets 0; swapping plan and fact negates every part.

The parts are shown the way the team reads them: spend; CPC (``spend / traffic``: its part is
that of ``traffic / spend``, so a dearer click is a negative part); each stage's CR from its
source stage (``funnel.path``: a stage off the path to the outcome takes no part); revenue per
purchase. CPA (``spend / purchases = CPC / ∏ CR``) is decomposed the same way into the price
effect (CPC) and the conversion effects (each CR), see `decompose_cpa`.

Blanks and zeros (LMDI takes logs, so it is undefined at 0), the decisions:

- **A blank** (``None``, NaN or a missing key) in spend or a stage before the outcome, on
  either side: that node leaves the chain on both sides and its two neighbouring factors merge
  into one (a blank ``calls`` gives one ``cr_leads_pp``: PP per lead; a blank ``spend`` gives a
  ``traffic`` volume factor in place of spend and CPC). A note says so.
- **A zero** in spend or a stage before the outcome while the outcome is positive on both sides
  (purchases from older leads in a month with no leads; an organic line with no spend): its
  factor and the next would be 0 and ∞, so it leaves the chain the same way, with a note.
- **The outcome zero on one side only** (a line not launched, a funnel broken at some stage): the
  LMDI limit (Ang & Liu 2007, the "small value" strategy with the value → 0) gives the whole gap
  to the factor that is zero and nothing to the others; when several factors are zero or 0/0 the
  split among them is not defined. So the **whole gap is reported as ``not_comparable``**, the
  parts are empty and ``zero_at`` names the first node of the chain that is 0 on one side. Zero on
  both sides: a gap of 0, every part 0.
- **The outcome blank** on either side (or revenue blank in plan: no value per conversion): there
  is no gap to explain. The decomposition has ``gap = nan``, no parts and a note saying why; it
  is never a silent NaN and never an exception (a Review sheet shows it per line).

Negative, infinite or non-numeric values are an `InputError`. Totals over channels are in
`planning.variance_total`, the waterfall's bars in `waterfall`, a vectorised form for many lines
at once in `planning.variance_arrays`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from numbers import Real
from typing import Any, Literal

import numpy as np

from planning.errors import InputError
from planning.funnel import DEFAULT_FUNNEL, Funnel

__all__ = [
    "NOTES",
    "Bar",
    "Decomposition",
    "Note",
    "Part",
    "PlanFact",
    "decompose",
    "decompose_cpa",
    "log_mean",
    "waterfall",
]

Side = Literal["plan", "fact"]
Metric = Literal["outcome", "revenue"]


# --------------------------------------------------------------------------- data

#: Every note's English sentence by its code. The placeholders are filled from `Note.params`:
#: ``name``/``outcome`` a metric (``spend``, a stage's name, ``revenue``), ``where`` one of
#: `WHERE`. These sentences are also the msgids the workbook and the report translate.
NOTES = {
    "blank_merged": "{name} is blank {where}: the factors on either side of {name} are taken "
    "as one",
    "blank_spend": "{name} is blank {where}: the line is explained from its first counted stage "
    "on (no spend or CPC part)",
    "zero_merged": "{name} is 0 {where} while {outcome} is not: the factors on either side of "
    "{name} are taken as one",
    "zero_spend": "{name} is 0 {where} while {outcome} is not: the line is explained from its "
    "first counted stage on (no spend or CPC part)",
    "outcome_blank": "{name} is blank {where}: no gap to decompose",
    "no_gap": "{name} is 0 in plan and fact: no gap",
    "stops": "{name} is 0 {where}: the funnel stops there, so the whole gap is not comparable "
    "(LMDI gives it all to the zero factor and cannot split it further)",
    "cpa_blank": "{name} is blank {where}: no CPA to decompose",
    "cpa_zero": "{name} is 0 {where}: the CPA is undefined there, no gap to decompose",
    "cpa_spend_zero": "{name} is 0 {where}: the CPA gap is not comparable",
}
#: The sides a note can name, as the sentence says them (also msgids).
WHERE = ("in plan", "in fact", "in plan and fact")


@dataclass(frozen=True)
class Note:
    """One decision taken on blanks and zeros, as data: a `code` of `NOTES` and its `params`
    (names as codes: ``where`` one of `WHERE`, metrics by their names), so a sheet or a report
    says it in its language. In a total, `channel` is the channel the note is about and
    `left_out` says the channel was left out of the total for it. `text`: the English sentence
    (the CLI, ``--json``, logs)."""

    code: str
    params: tuple[tuple[str, str], ...]
    channel: str = ""
    left_out: bool = False

    @property
    def sentence(self) -> str:
        """The note's own sentence, without the channel."""
        return NOTES[self.code].format(**dict(self.params))

    @property
    def text(self) -> str:
        if not self.channel:
            return self.sentence
        if self.left_out:
            return f"{self.channel} left out: {self.sentence}"
        return f"{self.channel}: {self.sentence}"

    def about(self, channel: str, left_out: bool = False) -> Note:
        """This note as one of a total's, about `channel`."""
        return Note(self.code, self.params, channel, left_out)

    def __str__(self) -> str:
        return self.text


def _note(code: str, name: str, sides: Sequence[str] = (), **more: str) -> Note:
    params = {"name": name, **more}
    if sides:
        params["where"] = "in " + " and ".join(sides)
    return Note(code, tuple(params.items()))


@dataclass(frozen=True)
class PlanFact:
    """One line's absolutes in plan and in fact.

    `plan` and `fact` map ``spend``, stage names and ``revenue`` to numbers (currency for spend
    and revenue, units of the stage for counts); ``None``, NaN or a missing key is a blank.
    `label` names the line (``"Google / Search"``, ``"Total"``).
    """

    label: str
    plan: Mapping[str, float | None]
    fact: Mapping[str, float | None]


@dataclass(frozen=True)
class Part:
    """One factor's contribution to the gap.

    `key`: ``spend``, ``cpc``, ``cpa_<stage>`` (spend to a later stage, when the stages between
    are blank), ``cr_<stage>`` (from its source stage), ``cr_<from>_<to>`` (across blank stages),
    a stage name (a volume, when spend is blank), ``revenue_per_<stage>``, or ``mix`` (totals:
    the budget's split across channels). `node`: the chain node the factor ends at (for ordering).
    `plan`, `fact`: the factor's value as displayed (CPC and CPA as cost per unit); ``None`` where
    it is not one number (a total's mix and merged factors). `effect`: its part of the gap, in the
    outcome's units.
    """

    key: str
    label: str
    node: str
    plan: float | None
    fact: float | None
    effect: float


@dataclass(frozen=True)
class Decomposition:
    """The gap ``fact − plan`` of one metric of one line, split into parts.

    ``sum(p.effect for p in parts) + not_comparable == gap`` to float precision. `metric` is the
    outcome stage, ``revenue`` or ``cpa_<outcome>``. `zero_at`: the first chain node that is 0 on
    one side only, when that made the gap not comparable. `notes`: every decision taken on blanks
    and zeros (`Note`: a code and its parameters; ``note.text`` in English words).
    """

    label: str
    metric: str
    plan: float
    fact: float
    gap: float
    parts: tuple[Part, ...]
    not_comparable: float
    zero_at: str | None = None
    notes: tuple[Note, ...] = ()

    @property
    def explained(self) -> float:
        """The sum of the parts (the gap less what is not comparable)."""
        return math.fsum(p.effect for p in self.parts)

    def part(self, key: str) -> Part:
        """The part called `key`; a `KeyError` naming the parts otherwise."""
        for p in self.parts:
            if p.key == key:
                return p
        raise KeyError(f"no part {key!r}; the parts are: {', '.join(p.key for p in self.parts)}")


@dataclass(frozen=True)
class Bar:
    """One bar of a waterfall: `kind` start (plan), step (a part) or end (fact).

    A bar spans `before` → `after` (start and end bars span 0 → the value); `value` is the plan or
    fact for start and end, the effect for a step.
    """

    key: str
    label: str
    kind: Literal["start", "step", "end"]
    value: float
    before: float
    after: float


# --------------------------------------------------------------------------- numbers


def log_mean(a: float, b: float) -> float:
    """The logarithmic mean ``L(a, b) = (a − b) / (ln a − ln b)``, ``L(a, a) = a``; a, b > 0.

    Near ``a == b`` the quotient loses precision, so it is computed as ``b × d / log1p(d)`` with
    ``d = a / b − 1`` (a the larger, so the result is exactly symmetric), and for ``|d| < 1e-6``
    as the series ``b × (1 + d/2 − d²/12)``.
    """
    if a == b:
        return a
    if a < b:  # symmetric to the last bit: L(a, b) == L(b, a)
        a, b = b, a
    r = a / b
    d = r - 1.0
    if abs(d) < 1e-6:
        return b * (1.0 + d / 2.0 - d * d / 12.0)
    return b * d / math.log1p(d)


def _value(line: str, side: Side, key: str, raw: Any) -> float:
    """A cell as a float >= 0, NaN for a blank; anything else is an InputError."""
    if raw is None:
        return math.nan
    if type(raw) is float and 0 <= raw < math.inf:  # the common case, without the checks below
        return raw
    if isinstance(raw, bool | np.bool_ | str | bytes) or not isinstance(raw, Real):
        raise InputError("is not a number", line=line, column=f"{key} {side}", value=raw)
    x = float(raw)
    if math.isnan(x):
        return x
    if math.isinf(x) or x < 0:
        raise InputError(
            "must be a finite number >= 0", line=line, column=f"{key} {side}", value=raw
        )
    return x


def _side(line: PlanFact, side: Side, names: Sequence[str]) -> dict[str, float]:
    values = line.plan if side == "plan" else line.fact
    if not isinstance(values, Mapping):
        raise InputError(f"the {side} of line {line.label!r} must be a mapping of metric to number")
    return {name: _value(line.label, side, name, values.get(name)) for name in names}


# --------------------------------------------------------------------------- the chain


@dataclass(frozen=True)
class _Chain:
    """The nodes kept (spend, stages, revenue; the last is the outcome) and their values."""

    names: tuple[str, ...]
    plan: tuple[float, ...]
    fact: tuple[float, ...]
    notes: tuple[Note, ...]


@lru_cache(maxsize=256)
def _nodes(funnel: Funnel, outcome: str, revenue: bool) -> tuple[str, ...]:
    path = funnel.path(funnel.stage(outcome).name)
    return ("spend", *path, "revenue") if revenue else ("spend", *path)


def _chain(line: PlanFact, funnel: Funnel, outcome: str, revenue: bool) -> _Chain:
    names = _nodes(funnel, outcome, revenue)
    plan, fact = _side(line, "plan", names), _side(line, "fact", names)
    last = names[-1]
    both_positive = plan[last] > 0 and fact[last] > 0
    kept: list[str] = []
    notes: list[Note] = []
    for name in names[:-1]:
        p, f = plan[name], fact[name]
        blank = [s for s, v in (("plan", p), ("fact", f)) if math.isnan(v)]
        zero = [s for s, v in (("plan", p), ("fact", f)) if v == 0]
        merged = "spend" if name == "spend" else "merged"
        if blank:
            notes.append(_note(f"blank_{merged}", name, blank))
        elif zero and both_positive:
            notes.append(_note(f"zero_{merged}", name, zero, outcome=last))
        else:
            kept.append(name)
    kept.append(last)
    return _Chain(
        tuple(kept),
        tuple(plan[n] for n in kept),
        tuple(fact[n] for n in kept),
        tuple(notes),
    )


@lru_cache(maxsize=256)
def _layout(funnel: Funnel) -> tuple[dict[str, str], dict[str, str | None]]:
    """The funnel's titles (with Spend and Revenue) and CR sources, looked up once per funnel."""
    titles = {s.name: s.title for s in funnel.stages} | {"spend": "Spend", "revenue": "Revenue"}
    return titles, {name: funnel.source_of(name) for name in funnel.names}


@dataclass(frozen=True)
class _Factor:
    """A factor ``value ** exponent`` of the outcome; `value` is the displayed form."""

    key: str
    label: str
    node: str
    plan: float
    fact: float
    exponent: int


def _factors(chain: _Chain, funnel: Funnel) -> list[_Factor]:
    """The chain's factors: the first node itself, then each node over the one before it."""
    n = chain.names
    first = n[0]
    titles, sources = _layout(funnel)
    out = [_Factor(first, titles[first], first, chain.plan[0], chain.fact[0], 1)]
    for i in range(1, len(n)):
        a, b = n[i - 1], n[i]
        pa, pb, fa, fb = chain.plan[i - 1], chain.plan[i], chain.fact[i - 1], chain.fact[i]
        if a == "spend" and b == "revenue":  # every stage blank or zero: revenue per spend
            out.append(_Factor("roas", "ROAS", b, _div(pb, pa), _div(fb, fa), 1))
        elif a == "spend":  # shown as a cost per unit: its exponent is -1
            key = "cpc" if b == funnel.stages[0].name else f"cpa_{b}"
            label = "CPC" if key == "cpc" else f"Cost per {titles[b]}"
            out.append(_Factor(key, label, b, _div(pa, pb), _div(fa, fb), -1))
        elif b == "revenue":
            label = f"Revenue per {titles[a]}"
            out.append(_Factor(f"revenue_per_{a}", label, b, _div(pb, pa), _div(fb, fa), 1))
        else:
            direct = sources[b] == a
            key = f"cr_{b}" if direct else f"cr_{a}_{b}"
            label = f"CR {titles[a]} → {titles[b]}"
            out.append(_Factor(key, label, b, _div(pb, pa), _div(fb, fa), 1))
    return out


def _div(num: float, den: float) -> float:
    return num / den if den != 0 else math.inf if num > 0 else math.nan


def _lmdi(y_plan: float, y_fact: float, factors: Sequence[_Factor], sign: int) -> tuple[Part, ...]:
    """LMDI-I parts of ``Y = ∏ value ** (sign × exponent)``; every value and Y positive."""
    weight = log_mean(y_fact, y_plan)
    return tuple(
        Part(
            f.key,
            f.label,
            f.node,
            f.plan,
            f.fact,
            weight * sign * f.exponent * math.log(f.fact / f.plan),
        )
        for f in factors
    )


def _first_zero(chain: _Chain) -> tuple[str, Side]:
    for name, p, f in zip(chain.names, chain.plan, chain.fact, strict=True):
        if p == 0 or f == 0:
            return name, "plan" if p == 0 else "fact"
    raise AssertionError("no zero in the chain")  # pragma: no cover: called only with one


# --------------------------------------------------------------------------- entry points


def decompose(
    line: PlanFact,
    funnel: Funnel = DEFAULT_FUNNEL,
    *,
    metric: Metric = "outcome",
    outcome: str | None = None,
) -> Decomposition:
    """The gap in the outcome stage (``metric="outcome"``) or in revenue, split by LMDI-I.

    `outcome` is a stage name (default: the funnel's last stage). The parts are spend, CPC, the
    CR of each stage on ``funnel.path(outcome)`` and, for revenue, revenue per outcome unit, in
    chain order; blanks and zeros as in the module docstring.
    """
    stage = funnel.names[-1] if outcome is None else funnel.stage(outcome).name
    revenue = metric == "revenue"
    if metric not in ("outcome", "revenue"):
        raise InputError(f"metric must be 'outcome' or 'revenue', got {metric!r}", value=metric)
    chain = _chain(line, funnel, stage, revenue)
    name = "revenue" if revenue else stage
    y_plan, y_fact = chain.plan[-1], chain.fact[-1]
    blank = _blank_outcome(name, y_plan, y_fact)
    if blank:
        return _undefined(line.label, name, y_plan, y_fact, (*chain.notes, blank))
    gap = y_fact - y_plan
    if y_plan == 0 or y_fact == 0:
        return _not_comparable(line.label, name, y_plan, y_fact, chain)
    parts = _lmdi(y_plan, y_fact, _factors(chain, funnel), 1)
    return Decomposition(line.label, name, y_plan, y_fact, gap, parts, 0.0, None, chain.notes)


def decompose_cpa(
    line: PlanFact, funnel: Funnel = DEFAULT_FUNNEL, *, outcome: str | None = None
) -> Decomposition:
    """The gap in CPA (``spend / outcome``) split into price (CPC) and conversion (each CR).

    ``CPA = CPC / ∏ CR`` along the path, so its LMDI-I parts are ``L(CPA_f, CPA_p) × ln(CPC_f /
    CPC_p)`` for the price and ``−L(CPA_f, CPA_p) × ln(CR_f / CR_p)`` for each CR (a better CR
    lowers the CPA: a negative part). Spend blank on a side, or the outcome 0 or blank on a side,
    leaves the CPA undefined there: ``gap = nan`` and a note. Spend 0 on one side only makes the
    CPA 0 there: the whole gap is not comparable. A blank or zero stage between is merged as in
    `decompose` (a blank traffic turns the price effect into the cost per lead).
    """
    stage = funnel.names[-1] if outcome is None else funnel.stage(outcome).name
    name = f"cpa_{stage}"
    names = _nodes(funnel, stage, False)
    plan, fact = _side(line, "plan", names), _side(line, "fact", names)
    cpa_p, cpa_f = _div(plan["spend"], plan[stage]), _div(fact["spend"], fact[stage])
    why = _cpa_undefined(plan, fact, stage)
    if why:
        return _undefined(line.label, name, _or_nan(cpa_p), _or_nan(cpa_f), (why,))
    gap = cpa_f - cpa_p
    if cpa_p == 0 or cpa_f == 0:
        side = "plan" if cpa_p == 0 else "fact"
        note = _note("cpa_spend_zero", "spend", (side,))
        return Decomposition(line.label, name, cpa_p, cpa_f, gap, (), gap, "spend", (note,))
    # spend is positive on both sides here, so the chain keeps it as its first node
    chain = _chain(line, funnel, stage, False)
    factors = _factors(chain, funnel)[1:]  # CPA = spend / Y: the spend factor cancels
    parts = _lmdi(cpa_p, cpa_f, factors, -1)
    return Decomposition(line.label, name, cpa_p, cpa_f, gap, parts, 0.0, None, chain.notes)


def _or_nan(x: float) -> float:
    return x if math.isfinite(x) else math.nan


def _cpa_undefined(plan: dict[str, float], fact: dict[str, float], stage: str) -> Note | None:
    side: Side
    for side, values in (("plan", plan), ("fact", fact)):
        if math.isnan(values["spend"]):
            return _note("cpa_blank", "spend", (side,))
        if math.isnan(values[stage]):
            return _note("cpa_blank", stage, (side,))
        if values[stage] == 0:
            return _note("cpa_zero", stage, (side,))
    return None


def _blank_outcome(name: str, y_plan: float, y_fact: float) -> Note | None:
    blank = [s for s, v in (("plan", y_plan), ("fact", y_fact)) if math.isnan(v)]
    if not blank:
        return None
    return _note("outcome_blank", name, blank)


def _undefined(
    label: str, name: str, y_plan: float, y_fact: float, notes: tuple[Note, ...]
) -> Decomposition:
    return Decomposition(label, name, y_plan, y_fact, math.nan, (), math.nan, None, notes)


def _not_comparable(
    label: str, name: str, y_plan: float, y_fact: float, chain: _Chain
) -> Decomposition:
    gap = y_fact - y_plan
    if y_plan == 0 and y_fact == 0:
        note = _note("no_gap", name)
        return Decomposition(label, name, 0.0, 0.0, 0.0, (), 0.0, None, (*chain.notes, note))
    where, side = _first_zero(chain)
    note = _note("stops", where, (side,))
    return Decomposition(label, name, y_plan, y_fact, gap, (), gap, where, (*chain.notes, note))


def waterfall(
    decomposition: Decomposition, *, not_comparable_label: str = "Not comparable"
) -> tuple[Bar, ...]:
    """The bars of a waterfall: plan, one step per part (in order), not comparable, fact.

    The not-comparable step is left out when it is 0. An undefined decomposition (``gap`` NaN)
    has no waterfall: the empty tuple. The steps' running total ends at the fact exactly up to
    float rounding (``after`` of the last step is the sum, not the fact, so a chart shows any
    drift; the end bar is the fact itself).
    """
    d = decomposition
    if not math.isfinite(d.gap):
        return ()
    bars = [Bar("plan", "Plan", "start", d.plan, 0.0, d.plan)]
    level = d.plan
    steps = [(p.key, p.label, p.effect) for p in d.parts]
    if d.not_comparable != 0:
        steps.append(("not_comparable", not_comparable_label, d.not_comparable))
    for key, label, effect in steps:
        bars.append(Bar(key, label, "step", effect, level, level + effect))
        level += effect
    bars.append(Bar("fact", "Fact", "end", d.fact, 0.0, d.fact))
    return tuple(bars)
