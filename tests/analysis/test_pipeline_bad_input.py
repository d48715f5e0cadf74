"""Bad input through every registered stage: each returns a defined, storable result for texts that
are empty, huge, broken or adversarial, and one poisoned mention never stops its batch.

The stage list is whatever is registered when the tests run (``stage_classes()``), so a stage
added later is held to the same bar without touching this file.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from sqlalchemy import select

from resonanz.analysis.models import AnalysisResult
from resonanz.analysis.registry import stage_classes
from resonanz.analysis.runner import analyze_pending, build_stages, run_stages
from resonanz.analysis.stages.base import Doc, Result, Stage
from resonanz.analysis.stages.crisis import CrisisStage
from resonanz.analysis.stages.entities import EntitiesStage
from resonanz.analysis.stages.privacy import PrivacyStage
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.mentions.ingest import store_batch
from resonanz.mentions.schemas import AuthorIn, MentionIn

HUGE = ("Die NordwelleGo App stürzt ab 😡 #fail https://x.example/a Tel 0171 1234567 recall. " * 1300)[:100_000]

BAD_TEXTS: dict[str, str] = {
    "empty": "",
    "whitespace_only": "   \n\t \u00a0 ",
    "only_emojis": "😡😡😡 👩🏽‍💻🇩🇪❤️‍🔥",
    "only_urls": "https://example.com/a http://www.example.co.uk/b?c=d www.x.example",
    "huge_100kb": HUGE,
    "mixed_de_en": "Der Zug ist again late, so annoying – echt jetzt, Nordwelle? Worst service ever.",
    "unsupported_language": "这是一个测试，火车又晚点了。ขอบคุณครับ Ευχαριστώ πολύ",
    "invalid_surrogates": "Hallo \ud800 Welt \udfff #tag\ud800 https://x.example/\ud800 @a\udc00",
    "zero_width": "Daten\u200bleck \u200d\u200c\ufeff bei Nord\u2060welle\u00ad",
    "homoglyphs": "Die B\u0430hn (kyrillisches а) ist zu sp\u0430t, D\u0430tenleck!",
    "html_remains": "<p>Hallo <b>Welt</b></p><script>alert(1)</script>&amp; &lt;br&gt; <a href='x'>",
    "control_chars": "\x00\x01\x1b[31m rot \x7f\x0b\x0c",
    "bidi_override": "\u202eevil\u202c \u2066x\u2069",
    "combining_zalgo": "Z̷̢̛a̴l̸g̷o̶ " * 200,
    "digits_only": "0" * 5_000,
    "punctuation_only": "?!.,;:-–—…" * 50,
    "long_word": "a" * 50_000,
    "long_url": "https://x.example/" + "a" * 10_000,
}
NORMAL = [
    "Der RE 7 hat schon wieder 40 Minuten Verspätung, danke für nichts.",
    "Love the new NordwelleGo app, great job! 👍",
    "Wie kann ich mein WelleAbo kündigen?",
]
STAGE_NAMES = sorted(stage_classes())
MY_STAGES = ("privacy", "crisis", "entities")


def _docs() -> list[Doc]:
    docs = [Doc(i, text, platform="test") for i, text in enumerate(BAD_TEXTS.values(), start=1)]
    n = len(docs)
    docs += [
        Doc(n + 1, "", title="Nur ein Titel: Datenleck"),
        Doc(n + 2, "Hallo", language_hint="xx-INVALID", followers=10**12),
        Doc(n + 3, "Hallo", language_hint="", followers=0),
    ]
    return docs


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Doc], list[dict[str, Result]], dict[str, float]]:
    """All registered stages over the bad docs, once for the module; with each stage's time on HUGE."""
    settings = Settings(data_dir=Path(tmp_path_factory.mktemp("bad-input")))
    stages = build_stages(settings)
    docs = _docs()
    results = run_stages(stages, docs)
    huge = [d for d in docs if d.text == HUGE]
    timings: dict[str, float] = {}
    upstream = run_stages(stages, huge)[0]
    for stage in stages:
        start = time.perf_counter()
        stage.run(huge, [{r: upstream[r] for r in stage.requires}])
        timings[stage.name] = time.perf_counter() - start
    return docs, results, timings


def test_the_stages_under_test_are_registered() -> None:
    assert set(MY_STAGES) <= set(STAGE_NAMES)


@pytest.mark.parametrize("stage_name", STAGE_NAMES)
@pytest.mark.parametrize("case", [*BAD_TEXTS, "title_only", "bogus_language_hint", "zero_followers"])
def test_every_stage_gives_a_defined_storable_result(
    analysed: tuple[list[Doc], list[dict[str, Result]], dict[str, float]], stage_name: str, case: str
) -> None:
    _, results, _ = analysed
    index = [*BAD_TEXTS, "title_only", "bogus_language_hint", "zero_followers"].index(case)
    result = results[index][stage_name]
    assert isinstance(result, dict)
    assert "error" not in result, f"stage {stage_name} failed on {case}: {result}"
    orjson.dumps(result)  # storable as JSON: no lone surrogates, no odd types
    assert "\x00" not in orjson.dumps(result).decode()  # PostgreSQL's JSONB refuses NUL


@pytest.mark.parametrize("stage_name", STAGE_NAMES)
def test_100kb_text_stays_cheap(
    analysed: tuple[list[Doc], list[dict[str, Result]], dict[str, float]], stage_name: str
) -> None:
    _, _, timings = analysed
    # Generous for a loaded CI machine; a regex that backtracks on 100 KB takes minutes, not seconds.
    assert timings[stage_name] < 5.0


def test_a_poisoned_mention_never_stops_its_batch() -> None:
    """Normal posts interleaved with every bad text: all get results; my stages give each post the
    same result as in a batch of its own (they are per-text pure)."""
    settings = Settings()
    stages = build_stages(settings)
    bad = list(BAD_TEXTS.values())
    texts = [t for pair in zip(NORMAL * 6, bad, strict=False) for t in pair]
    docs = [Doc(i, t) for i, t in enumerate(texts)]
    mixed = run_stages(stages, docs)
    assert len(mixed) == len(docs)
    for per_doc in mixed:
        assert all("error" not in r for r in per_doc.values())
    for doc, per_doc in zip(docs, mixed, strict=True):
        if doc.text in NORMAL:
            [alone] = run_stages(stages, [doc])
            for name in MY_STAGES:
                assert per_doc[name] == alone[name]


def test_bad_mentions_stored_and_analysed_in_the_database(db: Database) -> None:
    """Through ingest and ``analyze_pending``: every stored bad text gets a current result per stage.

    Lone surrogates cannot be stored by ingest at all (they are not UTF-8), so that case stops at
    :func:`run_stages` above.
    """
    texts = {k: v for k, v in BAD_TEXTS.items() if k != "invalid_surrogates"}
    items = [
        MentionIn(
            platform="test", external_id=name, text=text.replace("\x00", ""),
            published_at=datetime(2026, 1, 1, tzinfo=UTC), author=AuthorIn(handle=f"a{i}", followers=i * 1000),
        )
        for i, (name, text) in enumerate(texts.items())
    ] + [MentionIn(platform="test", external_id=f"n{i}", text=t, published_at=datetime(2026, 1, 1, tzinfo=UTC))
         for i, t in enumerate(NORMAL)]  # fmt: skip
    with transaction(db.sessions) as s:
        ids = store_batch(s, items, source_id=None, now=datetime(2026, 1, 2, tzinfo=UTC)).ids
    stages = build_stages(db.settings)
    report = analyze_pending(db.sessions, stages, batch=7)
    assert report.analysed == len(ids)
    with db.sessions() as s:
        rows = s.execute(select(AnalysisResult.mention_id, AnalysisResult.stage, AnalysisResult.result)).all()
    assert {(r.mention_id, r.stage) for r in rows} == {(i, st.name) for i in ids for st in stages}
    assert all("error" not in r.result for r in rows)


_RULE_STAGES: list[Stage] = [
    PrivacyStage(Settings()),
    CrisisStage(Settings()),
    EntitiesStage(Settings(brands={"Nordwelle": ["NordwelleGo", "Nordwele"]})),
]
# Text made of the characters the rules care about, so random input reaches the interesting paths.
_ALPHABET = st.sampled_from(list("0123456789 +-/().,:@#_\nDEabcxyzßäÖ€%*\u200b\u0430\ufe0f\u200d😡🇩🇪\ud800"))
_TEXTS = st.one_of(st.text(), st.text(alphabet=_ALPHABET, max_size=120))


@hyp_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXTS, followers=st.one_of(st.none(), st.integers(min_value=0, max_value=10**12)))
def test_rule_stages_on_random_text(text: str, followers: int | None) -> None:
    """The rule-based stages never raise, and give JSON-storable results with valid offsets."""
    doc = Doc(1, text, followers=followers)
    privacy = _RULE_STAGES[0].run([doc], [{}])[0]
    for finding in privacy["found"]:
        assert 0 <= finding["start"] < finding["end"] <= len(doc.full_text)
    crisis = _RULE_STAGES[1].run([doc], [{"privacy": privacy}])[0]
    assert 0.0 <= crisis["risk_score"] <= 1.0
    entities = _RULE_STAGES[2].run([doc], [{}])[0]
    for result in (privacy, crisis, entities):
        orjson.dumps(result)
