"""The analysis's stored reasons ("complaint cue: schon wieder", "word: nicht") on a page: the kind
in the reader's language, the value as the post has it, unknown reasons untouched."""

from __future__ import annotations

from resonanz.i18n import translations
from resonanz.web.templating import formatters, reason_text


def test_kinds_are_worded_in_german_and_values_kept() -> None:
    gettext = translations("de").ugettext
    assert reason_text("complaint cue: schon wieder", gettext) == "Beschwerde-Signal: schon wieder"
    assert reason_text("word: nicht mehr", gettext) == "Wort: nicht mehr"
    assert reason_text("question mark", gettext) == "Fragezeichen"
    assert reason_text("language not modelled: rules only", gettext) == "Sprache nicht modelliert: nur Regeln"
    assert reason_text("something new: x", gettext) == "something new: x"  # a future kind: as stored


def test_english_is_as_stored_and_the_list_is_cut() -> None:
    reasons = ["question: warum", "word: not", "word: charged", "word: month"]
    assert formatters("en", "UTC")["format_reasons"](reasons, 2) == "question: warum; word: not"
    assert formatters("de", "UTC")["format_reasons"](reasons) == "Frage: warum; Wort: not; Wort: charged; Wort: month"
    assert formatters("de", "UTC")["format_reasons"](None) == ""
