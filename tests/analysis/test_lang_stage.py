"""The language stage: its contract on bad input, the hint as a prior, the configured languages."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from resonanz.analysis.classifiers.language import UND, Identifier, identifier, normalise, parse_hint
from resonanz.analysis.runner import analyze_pending, run_stages
from resonanz.analysis.stages.base import Doc
from resonanz.analysis.stages.language import LanguageStage
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.errors import ConfigError
from resonanz.mentions.ingest import store_batch
from resonanz.mentions.models import Mention
from resonanz.mentions.schemas import MentionIn

MIXED = "Das Meeting war heute wirklich gut und lang, but the coffee was terrible and I hate it"
GERMAN = "Der Kundenservice hat mir heute sehr schnell geholfen, vielen Dank dafür!"
ENGLISH = "I have been waiting for my refund for three weeks and nobody answers my emails."
FRENCH = "Je suis très content de ce produit, merci beaucoup pour la livraison rapide !"

#: (name, text, what the result must be: a code, "und", or "und:<reason prefix>")
BAD_INPUT = [
    ("empty", "", "und:empty"),
    ("whitespace", " \n\t ", "und:empty"),
    ("only emojis", "😀🔥👍🏽❤️", "und:empty"),
    ("only urls", "https://example.org/a?b=c www.example.com http", "und:empty"),
    ("only handles", "@user @brand_de RT", "und:empty"),
    ("too short", "ok 👍", "und:too short"),
    ("100 KB", (GERMAN + " ") * 1400, "de"),
    (
        "mixed de/en",
        "Das Meeting war heute wirklich gut und lang, but the coffee was terrible and I hate it",
        "und:mixed",
    ),
    ("unsupported, other script", "Привет, как у тебя дела сегодня вечером?", "und:other language"),
    ("unsupported, Latin script", "Det här är en svensk mening om vädret i morgon.", "und:other language"),
    ("invalid surrogate", "Der Service war \ud800 wirklich schlecht und \udfff langsam heute", "de"),
    ("only a surrogate", "\ud800", "und:empty"),
    ("zero-width", "Der\u200b Kunden\u200dservice hat\ufeff mir heute sehr schnell geholfen", "de"),
    ("homoglyphs", "Тhе dеlivеry wаs lаtе аgаin аnd thе pаckаgе wаs brоkеn", "en"),
    ("math letters", "𝐃𝐞𝐫 𝐒𝐞𝐫𝐯𝐢𝐜𝐞 𝐰𝐚𝐫 𝐰𝐢𝐫𝐤𝐥𝐢𝐜𝐡 𝐬𝐮𝐩𝐞𝐫", "de"),
    ("control characters", "\x00\x01\x1b[31m", "und"),
    ("only hashtags", "#Rückruf #Datenleck #Kundenservice", "de"),
]


@pytest.fixture
def stage(settings: Settings) -> LanguageStage:
    return LanguageStage(settings)


def _check_shape(result: dict[str, object], languages: tuple[str, ...]) -> None:
    assert set(result) == {"lang", "confidence", "candidates", "reason"}
    assert result["lang"] in (*languages, UND)
    confidence = result["confidence"]
    assert isinstance(confidence, float) and 0.0 <= confidence <= 1.0
    assert isinstance(result["candidates"], list) and len(result["candidates"]) <= 3
    json.dumps(result)  # JSON-able, no lone surrogates leak out


@pytest.mark.parametrize(("name", "text", "expected"), BAD_INPUT, ids=[b[0] for b in BAD_INPUT])
def test_every_bad_input_gets_a_defined_result(stage: LanguageStage, name: str, text: str, expected: str) -> None:
    (result,) = stage.run([Doc(1, text)], [{}])
    _check_shape(result, stage.languages)
    code, _, reason = expected.partition(":")
    assert result["lang"] == code, result
    assert str(result["reason"]).startswith(reason)
    assert stage.columns(result) == {"lang": code, "lang_confidence": result["confidence"]}


def test_a_batch_gives_the_same_answers_as_one_text_at_a_time(stage: LanguageStage) -> None:
    texts = [b[1] for b in BAD_INPUT] + [GERMAN, ENGLISH, FRENCH]
    together = stage.run([Doc(i, t) for i, t in enumerate(texts)], [{}] * len(texts))
    alone = [stage.run([Doc(i, t)], [{}])[0] for i, t in enumerate(texts)]
    assert together == alone
    assert [r["lang"] for r in together[-3:]] == ["de", "en", "fr"]


def test_title_counts_and_the_runner_projects_lang(stage: LanguageStage) -> None:
    (results,) = run_stages([stage], [Doc(1, "ok", title="Rückrufaktion für Kinderwagen gestartet")])
    assert results["language"]["lang"] == "de"


def test_confidence_is_the_top_candidate_and_candidates_are_sorted(stage: LanguageStage) -> None:
    (result,) = stage.run([Doc(1, GERMAN)], [{}])
    probs = [p for _, p in result["candidates"]]
    assert result["candidates"][0][0] == "de" and result["confidence"] == probs[0] > 0.9
    assert probs == sorted(probs, reverse=True) and sum(probs) <= 1.0001


# -- the source's language hint is a prior ------------------------------------------------------


def test_a_hint_decides_a_close_call() -> None:
    text = "hola amigo"  # Spanish/Portuguese/Italian: the model alone is unsure
    (alone,) = identifier().identify([text])
    assert alone.confidence < 0.6
    second = alone.candidates[1][0]
    (hinted,) = identifier().identify([text], [second])
    assert (hinted.lang, hinted.reason) == (second, "hint decided")
    assert hinted.confidence > dict(alone.candidates)[second]


def test_a_wrong_hint_is_overruled_and_a_right_one_agrees() -> None:
    wrong, right = identifier().identify([ENGLISH, ENGLISH], ["de", "en"])
    assert (wrong.lang, wrong.reason) == ("en", "hint overruled")
    assert (right.lang, right.reason) == ("en", "hint agreed")


@pytest.mark.parametrize(
    ("hint", "parsed"),
    [("de-DE", "de"), ("pt_BR", "pt"), (" EN ", "en"), ("deu", None), ("", None), (None, None), ("??", None)],
)
def test_hints_are_parsed_leniently(hint: str | None, parsed: str | None) -> None:
    assert parse_hint(hint) == parsed


def test_a_hint_outside_the_configured_languages_is_ignored() -> None:
    (guess,) = identifier().identify([GERMAN], ["sv"])
    assert (guess.lang, guess.reason) == ("de", "model (hint not configured)")
    (garbage,) = identifier().identify([GERMAN], ["\ud800x"])
    assert (garbage.lang, garbage.reason) == ("de", "model")


def test_hint_as_stage_input(stage: LanguageStage) -> None:
    (result,) = stage.run([Doc(1, ENGLISH, language_hint="de")], [{}])
    assert (result["lang"], result["reason"]) == ("en", "hint overruled")


# -- restricted to settings.analysis_languages ---------------------------------------------------


def test_only_configured_languages_come_out(settings: Settings) -> None:
    narrow = LanguageStage(settings.model_copy(update={"analysis_languages": ["de", "en"]}))
    results = narrow.run([Doc(i, t) for i, t in enumerate([GERMAN, ENGLISH, FRENCH])], [{}] * 3)
    assert [r["lang"] for r in results] == ["de", "en", UND]
    assert results[2]["reason"] == "other language (fr)"
    wide = LanguageStage(settings).run([Doc(3, FRENCH)], [{}])
    assert wide[0]["lang"] == "fr"


def test_a_language_can_be_added(settings: Settings) -> None:
    swedish = "Det här är en svensk mening om vädret i morgon."
    stage = LanguageStage(settings.model_copy(update={"analysis_languages": ["de", "en", "sv"]}))
    assert stage.run([Doc(1, swedish)], [{}])[0]["lang"] == "sv"


@pytest.mark.parametrize("languages", [["deu"], [], ["d1"]])
def test_malformed_language_settings_are_refused(settings: Settings, languages: list[str]) -> None:
    with pytest.raises(ConfigError):
        LanguageStage(settings.model_copy(update={"analysis_languages": languages}))


def test_a_language_the_model_lacks_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="does not know xx"):
        Identifier(("de", "xx"))


def test_normalise_strips_what_carries_no_language() -> None:
    text, letters = normalise("RT @user: Schöner Tag 😀 #sonne https://t.co/x &amp; mehr")
    assert text == ": Schöner Tag & mehr" and letters == 14
    assert normalise("GROSSARTIGER SERVICE HEUTE")[0] == "grossartiger service heute"


def test_analyze_stores_lang_on_the_mention(db: Database, settings: Settings) -> None:
    items = [
        MentionIn(platform="t", external_id=str(i), text=t, language_hint=h,
                  published_at=datetime(2026, 1, 1, tzinfo=UTC))
        for i, (t, h) in enumerate([(GERMAN, "de"), (ENGLISH, None), ("👍", None)])
    ]  # fmt: skip
    with transaction(db.sessions) as s:
        ids = store_batch(s, items, source_id=None, now=datetime(2026, 1, 2, tzinfo=UTC)).ids
    analyze_pending(db.sessions, [LanguageStage(settings)])
    with db.sessions() as s:
        rows = [s.get(Mention, i) for i in ids]
        assert [(m.lang, m.lang_confidence is not None) for m in rows if m] == [("de", True), ("en", True), (UND, True)]
