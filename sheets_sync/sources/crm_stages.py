"""CRM stage vocabularies: which stage name in an export counts as which funnel stage.

A CRM export's Stage cell holds the pipeline's own stage names ("Принимают решение",
"Счёт на предоплату"). A `StageVocabulary` says what each one counts as: a funnel stage
(``lead``, ``pp``, ``negotiations``), ``won`` (a purchase, with its revenue) or ``lost``.

Decisions:

* the built-in names (`GENERIC`: lead / КП / переговоры / покупка …) and the default pipelines
  of amoCRM (`AMOCRM`) and Bitrix24 (`BITRIX24`) are all known with no configuration
  (``crm = "auto"``, the default); ``crm = "amocrm"`` or ``"bitrix24"`` keeps the generic names
  and that CRM's only, ``crm = "none"`` the generic names only;
* a source's ``stages`` table in sync.toml adds or overrides names; the Mapping sheet's
  "CRM stages" block (`StageRule`) adds or overrides them again (the sheet wins: it is what the
  marketers edit); a sheet row with a blank data source applies to every CRM source;
* names are compared case-insensitively, spaces collapsed and ё read as е ("Счёт на
  предоплату" is "Счет на предоплату");
* a ``lost`` stage means the deal closed without a purchase at whatever stage it had reached:
  it counts as a lead, plus the stages its stage dates show (a "Закрыто и не реализовано" deal
  with a Дата КП is a lead and a pp), never as a purchase, and its amount is not revenue;
* Bitrix24's stages after the prepayment invoice ("В работе", "Финальный счёт") are
  negotiations, not purchases: only a won stage brings revenue (the deal may still fail).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from planning.errors import InputError

__all__ = [
    "AMOCRM",
    "BITRIX24",
    "CRM_KINDS",
    "CRM_PRESETS",
    "GENERIC",
    "OUTCOMES",
    "StageRule",
    "StageVocabulary",
    "normalise_stage",
    "parse_outcome",
    "source_stages",
    "stage_rules_from_records",
    "vocabulary",
]

OUTCOMES: tuple[str, ...] = ("lead", "pp", "negotiations", "won", "lost")
"""What a stage name can count as, in funnel order (``won`` = purchase)."""
RANKS: dict[str, int] = {"lead": 1, "pp": 2, "negotiations": 3, "won": 4, "lost": 0}
"""An outcome's rank for the reader: 1..4 the funnel stage reached; 0 a lost deal."""
_OUTCOME_SYNONYMS: dict[str, str] = {
    "lead": "lead",
    "leads": "lead",
    "лид": "lead",
    "pp": "pp",
    "кп": "pp",
    "negotiations": "negotiations",
    "negotiation": "negotiations",
    "переговоры": "negotiations",
    "won": "won",
    "purchase": "won",
    "purchases": "won",
    "покупка": "won",
    "lost": "lost",
    "проигрыш": "lost",
}

GENERIC: dict[str, str] = {
    **dict.fromkeys(("lead", "leads", "лид", "новый", "new", "заявка", "новая"), "lead"),
    **dict.fromkeys(
        ("pp", "кп", "предложение", "proposal", "коммерческое предложение", "offer"), "pp"
    ),
    **dict.fromkeys(("negotiations", "negotiation", "переговоры"), "negotiations"),
    **dict.fromkeys(
        ("purchase", "purchases", "покупка", "сделка", "оплата", "won", "продажа", "оплачено"),
        "won",
    ),
    **dict.fromkeys(("lost", "closed lost", "проиграна", "отказ"), "lost"),
}
"""The names the reader always knew (English and Russian funnel words)."""

AMOCRM: dict[str, str] = {
    "Неразобранное": "lead",
    "Первичный контакт": "lead",
    "Переговоры": "negotiations",
    "Принимают решение": "negotiations",
    "Согласование договора": "negotiations",
    "Успешно реализовано": "won",
    "Закрыто и не реализовано": "lost",
}
"""amoCRM's default pipeline ("Воронка"): its stages in order, then the two closing ones."""

BITRIX24: dict[str, str] = {
    "Новая сделка": "lead",
    "Новая": "lead",
    "Подготовка документов": "pp",
    "Счёт на предоплату": "negotiations",
    "В работе": "negotiations",
    "Финальный счёт": "negotiations",
    "Сделка успешна": "won",
    "Успешно": "won",
    "Сделка провалена": "lost",
    "Провал": "lost",
    "Анализ причины провала": "lost",
}
"""Bitrix24's default deal stages (NEW, PREPARATION, PREPAYMENT_INVOICE, EXECUTING,
FINAL_INVOICE, WON, LOSE, APOLOGY) as its Russian interface names them, older names too."""

CRM_PRESETS: dict[str, tuple[Mapping[str, str], ...]] = {
    "auto": (GENERIC, AMOCRM, BITRIX24),
    "amocrm": (GENERIC, AMOCRM),
    "bitrix24": (GENERIC, BITRIX24),
    "none": (GENERIC,),
}
"""A source's ``crm`` key: which built-in names it knows."""


def normalise_stage(name: object) -> str:
    """A stage name as compared: case-folded, spaces collapsed, ё read as е."""
    text = "" if name is None else str(name)
    text = text.replace("\u00a0", " ").casefold().replace("ё", "е")
    return re.sub(r"\s+", " ", text).strip()


def parse_outcome(value: object) -> str | None:
    """What a configured stage counts as (`OUTCOMES`, or a synonym); None when unknown."""
    return _OUTCOME_SYNONYMS.get(normalise_stage(value))


@dataclass(frozen=True)
class StageVocabulary:
    """Stage name (normalised) -> outcome (`OUTCOMES`); `preset` and `custom` say where the
    names came from (for messages)."""

    names: Mapping[str, str]
    preset: str = "auto"
    custom: int = 0
    """How many names the config or the Mapping sheet added or changed."""

    def outcome(self, stage: object) -> str | None:
        return self.names.get(normalise_stage(stage))

    def ranks(self) -> dict[str, int]:
        """Normalised name -> `RANKS` of its outcome (0 lost, 1..4 the stage reached)."""
        return {name: RANKS[outcome] for name, outcome in self.names.items()}

    def hint(self, source: str) -> str:
        """The end of an unknown stage's message: where to name it."""
        return (
            f"add it to `stages` of source `{source}` in sync.toml or to the Mapping sheet's "
            "CRM stages block (as lead, pp, negotiations, won or lost)"
        )


@dataclass(frozen=True)
class StageRule:
    """One row of the Mapping sheet's "CRM stages" block: `source` blank = every CRM source;
    `cell` where it is, for messages."""

    source: str
    stage: str
    outcome: str
    cell: str = ""


def vocabulary(
    preset: str = "auto",
    stages: Mapping[str, str] | None = None,
    rules: Iterable[StageRule] = (),
    source: str = "",
) -> StageVocabulary:
    """The names a source knows: `preset`'s built-ins, then its configured `stages`, then the
    sheet's `rules` for it (blank source or its name). `stages` outcomes must be checked
    (`parse_outcome`) by the caller; an unknown one is an `InputError`."""
    names: dict[str, str] = {}
    for table in CRM_PRESETS[preset]:
        names.update({normalise_stage(k): v for k, v in table.items()})
    custom: dict[str, str] = {}
    for stage, outcome in (stages or {}).items():
        parsed = parse_outcome(outcome)
        if parsed is None:
            raise InputError(
                f"counts as {outcome!r}: expected one of {', '.join(OUTCOMES)}", value=stage
            )
        custom[normalise_stage(stage)] = parsed
    for rule in rules:
        if not rule.source or rule.source.casefold() == source.casefold():
            custom[normalise_stage(rule.stage)] = rule.outcome
    names.update(custom)
    return StageVocabulary(names=names, preset=preset, custom=len(custom))


def stage_rules_from_records(
    records: Iterable[Mapping[str, object]],
    first_row: int,
    sheet: str = "Mapping",
    column: str = "",
) -> list[StageRule]:
    """The Mapping sheet's CRM stage rows (keys ``data source``, ``stage``, ``counts as``), blank
    rows skipped; a row without a stage or with an unknown outcome is an `InputError` naming its
    row and value."""
    rules: list[StageRule] = []
    for row, record in enumerate(records, start=first_row):
        source = _text(record.get("data source"))
        stage = _text(record.get("stage"))
        counts = _text(record.get("counts as"))
        if not (source or stage or counts):
            continue
        where = f"{sheet}!{column}{row}" if column else f"{sheet} row {row}"
        if not stage:
            raise InputError(f"{where}: a CRM stage row needs a stage name", value=counts)
        outcome = parse_outcome(counts)
        if outcome is None:
            raise InputError(
                f"{where}: stage {stage!r} counts as {counts!r}: expected one of "
                f"{', '.join(OUTCOMES)}"
            )
        rules.append(StageRule(source, stage, outcome, where))
    return rules


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


CRM_KINDS = ("crm", "gsheet")
"""The source kinds that may read a CRM export (a Google Sheet tab may hold one)."""


def source_stages(
    raw: Mapping[str, object], key: str, kind: str, origin: str
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A ``[[sources]]`` entry's ``crm`` preset (`CRM_PRESETS`, default ``auto``) and its
    ``stages`` table (stage name = lead | pp | negotiations | won | lost), checked; both keys are
    only for CRM sources. Errors name the config file and the key."""

    def error(sub: str, reason: str) -> InputError:
        return InputError(f"{origin}: `{key}.{sub}`: {reason}")

    for sub in ("crm", "stages"):
        if sub in raw and kind not in CRM_KINDS:
            raise error(sub, f"is only for a {' or '.join(CRM_KINDS)} source")
    preset = raw.get("crm", "auto")
    if not isinstance(preset, str) or preset.strip().lower() not in CRM_PRESETS:
        raise error("crm", f"value {preset!r} is not one of {', '.join(CRM_PRESETS)}")
    table = raw.get("stages", {})
    if not isinstance(table, Mapping):
        raise error("stages", 'must be a table: { "Stage name" = "negotiations", ... }')
    stages: list[tuple[str, str]] = []
    for name, counts in table.items():
        outcome = parse_outcome(counts) if isinstance(counts, str) else None
        if outcome is None or not str(name).strip():
            raise error(f'stages."{name}"', f"value {counts!r} is not one of {', '.join(OUTCOMES)}")
        stages.append((str(name).strip(), outcome))
    return preset.strip().lower(), tuple(stages)
