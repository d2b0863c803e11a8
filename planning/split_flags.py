"""The flags of a channel's curve and split line, as data.

A flag is what the user should know about a channel's line ("at max", "extrapolated: x1.25 the
highest daily spend seen (4,000 a day)"). The planning layer knows no language, so a flag keeps
its `code` (a key of `FLAGS`) and its parameters besides its English sentence; the add-in says
it in the workbook's language (``addin/actions/split_flag_texts.py``).

Decisions:

* `Flag` is a ``str`` (its value the English sentence, exactly as before) that also carries
  ``code`` and ``params``: every reader of flags as text (the CLI, ``--json``, the Scenarios
  formula, ``"; ".join``) is unchanged, and a writer that knows the workbook's language asks
  for the code. A flag that went through a sheet comes back as plain text; readers accept
  both languages (`FLAGS` gives the English).
* Parameters are texts already formatted the English way (``4,000``, ``1.25``, ``50%``), so
  the English sentence is ``FLAGS[code].format(**params)``; a translation re-formats the
  numbers (``4 000``, ``1,25``). A parameter may itself be a `Flag` (the reason of a low
  confidence), translated in turn.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FLAGS", "FORM_NAMES", "Flag", "flag"]

#: Every flag's English sentence by its code; the parameters are texts.
FLAGS: dict[str, str] = {
    # curves
    "curve": "curve: {shares}",
    "share": "{share} {form}",
    "cap": (
        "extrapolation capped at {cap}/day ({times} x the highest observed daily spend, {observed})"
    ),
    "low_constant": "low confidence: {why}; constant CPA {cpa} up to {capacity} conversions/day",
    "few_days": "only {days} days with spend (fewer than {min_days})",
    "flat_spend": (
        "daily spend varies too little to fit a curve (coefficient of variation {cv} < {min_cv})"
    ),
    "no_fit": "no curve could be fitted to the history",
    "low_plan_cpa": (
        "low confidence: no history; the Plan's CPA {cpa} up to {capacity} conversions/day"
    ),
    "given": "given {form} curve: no uncertainty band",
    "flat_beyond": "flat beyond {cap}/day",
    # split
    "extrapolated": "extrapolated: x{times} the highest daily spend seen ({observed} a day)",
    "extrapolated_scenario": "extrapolated: x{times} the highest daily spend seen",
    "locked": "locked",
    "at_min": "at min",
    "at_max": "at max",
    "cpa_cap": "at CPA cap {cap}",
    "saturated": "saturated: no more conversions beyond {flat}",
    "default_limits": "default limits ±{pct} of current (set min/max to change)",
    "kept": "no history and no plan CPA: kept at its current spend",
    "locked_no_curve": "locked; no curve: {reason}",
    "no_conversions": (
        "all {days} days have 0 conversions, so no response curve can be fitted; leave the "
        "channel out or give its curve (`given_curves`)"
    ),
    "no_conversions_one": (
        "the only day has 0 conversions, so no response curve can be fitted; leave the channel "
        "out or give its curve (`given_curves`)"
    ),
}

#: The curve families a flag can name (`planning.curves.FIT_FORMS` and the given forms).
FORM_NAMES = ("hill", "saturating", "power", "negexp", "linear")


class Flag(str):
    """A flag: its English sentence as the string, with `code` and `params` (name, value)."""

    code: str
    params: tuple[tuple[str, str], ...]

    def __new__(cls, code: str, params: tuple[tuple[str, str], ...] = ()) -> Flag:
        self = super().__new__(cls, FLAGS[code].format(**dict(params)))
        self.code = code
        self.params = params
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (Flag, (self.code, self.params))

    @property
    def text(self) -> str:
        """The English sentence (the CLI, ``--json``, logs)."""
        return str.__str__(self)


def flag(code: str, **params: str) -> Flag:
    """``flag("at_max")``, ``flag("cpa_cap", cap="40")``: a `Flag` of `FLAGS`."""
    return Flag(code, tuple(params.items()))
