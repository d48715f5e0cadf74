"""The intent model's explanation names words a reader takes for a reason: not "in", "on", "!" or
numbers, though they carry weight in the model; negations and "leider" stay."""

from __future__ import annotations

from resonanz.analysis.classifiers.intent import classify, load_model
from resonanz.analysis.classifiers.intent_model import _informative


def test_function_words_punctuation_and_numbers_are_not_reasons() -> None:
    assert not _informative("in") and not _informative("on the") and not _informative("!")
    assert not _informative("49") and not _informative("@user")
    assert _informative("nicht") and _informative("nicht mehr") and _informative("leider")
    assert _informative("charged") and _informative("in berlin")


def test_explanations_skip_them_and_still_give_words() -> None:
    texts = [
        "The company said the changes take effect on Tuesday. The WelleAbo 49 remains at 58 euros a month.",
        "I was charged twice this month and nobody answers. Not happy",
        "Die App stürzt schon wieder ab, das ist echt nicht mehr normal!",
    ]
    informative = load_model().informative
    assert informative.any() and not informative.all()
    for intent in classify(texts, ["en", "en", "de"]):
        words = [r.removeprefix("word: ") for r in intent.reasons if r.startswith("word: ")]
        assert words, intent
        assert all(_informative(w) for w in words), words
        assert not {"in", "on", "the", "a", "!", "49", "58"} & set(words), words
