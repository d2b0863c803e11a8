"""The variance decomposition's notes in the workbook's (or the report's) language.

`planning.variance` keeps its notes as data (`Note`: a code and its parameters) because the
planning layer knows no language. Here each note becomes a sentence: its English sentence
(`planning.variance.NOTES`) is the msgid (Russian in ``review.po``), the metric names in it are
translated as the Plan's headers name them (``leads`` → ``лиды``; a user's own stage as typed)
and the side (``in plan`` / ``in fact`` / ``in plan and fact``) by its own msgid, so Russian can
say ``в плане`` / ``по факту``. A note about one channel of a total is prefixed with the
channel's name as written.
"""

from __future__ import annotations

from collections.abc import Iterable

from planning.variance import NOTES, Note
from sheets_sync.i18n import Translator

__all__ = ["LEFT_OUT", "note_text", "notes_text"]

#: A total's note on a channel it left out (the channel's gap undefined).
LEFT_OUT = "{channel} left out: {note}"


def note_text(note: Note, t: Translator) -> str:
    """One note as a sentence in `t`'s language (English: exactly ``note.text``)."""
    params = {}
    for key, value in note.params:
        params[key] = t(value) if value else value
    template = NOTES.get(note.code)
    sentence = t(template, **params) if template else note.sentence
    if not note.channel:
        return sentence
    if note.left_out:
        return t(LEFT_OUT, channel=note.channel, note=sentence)
    return f"{note.channel}: {sentence}"


def notes_text(notes: Iterable[Note], t: Translator, sep: str = "; ") -> str:
    """The notes joined as one cell's text."""
    return sep.join(note_text(n, t) for n in notes)
