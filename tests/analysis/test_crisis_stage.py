"""The crisis stage: folded, compound-aware term matching and the combined risk score."""

from __future__ import annotations

import pytest

from resonanz.analysis.matching import TermMatcher, labelled, trie_pattern
from resonanz.analysis.runner import build_stages, run_stages
from resonanz.analysis.stages.base import Doc
from resonanz.analysis.stages.crisis import CrisisStage, risk_score
from resonanz.config import Settings

DEFAULTS = Settings().crisis_terms


def _terms(text: str, settings: Settings | None = None) -> list[str]:
    stage = CrisisStage(settings or Settings())
    [result] = stage.run([Doc(1, text)], [{}])
    return list(result["terms"])


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("Datenleck bei Nordwelle", ["Datenleck"]),
        ("DATENLECK!!!", ["Datenleck"]),
        ("Kundendatenleck bei Nordwelle", ["Datenleck"]),  # compound head
        ("die Datenlecks häufen sich", ["Datenleck"]),  # inflected compound
        ("Daten\u200bleck", ["Datenleck"]),  # zero-width space
        ("Daten\u00adleck", ["Datenleck"]),  # soft hyphen
        ("D\u0430tenleck", ["Datenleck"]),  # Cyrillic а
        ("Rückrufaktion gestartet", ["Rückrufaktion"]),
        ("Rueckruf angekündigt", ["Rückruf"]),  # ü written out
        ("RÜCKRUF", ["Rückruf"]),
        ("Sammelklage eingereicht", ["Klage"]),
        ("wir verklagen euch", ["Klage"]),
        ("mein Anwalt meldet sich", ["Anwalt"]),
        ("Datenschutzverstoss!", ["Datenschutzverstoß"]),  # ß folded to ss
        ("massive data breaches reported", ["data breach"]),
        ("data\nbreach", ["data breach"]),
        ("they leaked the database", ["leak"]),
        ("#dataleak at the bank", ["leak"]),
        ("Product recall and a class action", ["recall", "class action"]),
        ("we will sue", ["sue"]),
        ("Shitstorm nach Werbung", ["Shitstorm"]),
    ],
)
def test_crisis_terms_found(text: str, terms: list[str]) -> None:
    assert _terms(text) == terms


@pytest.mark.parametrize(
    "text",
    [
        "Klagenfurt ist schön",
        "a bleak outlook",
        "we pursue this",
        "the issue persists",
        "Rückenschmerzen vom Sitzen",
        "databases are fine",
        "Der Zug war pünktlich, danke!",
        "",
    ],
)
def test_no_crisis_terms(text: str) -> None:
    assert _terms(text) == []


def test_configured_terms_replace_defaults_and_brand_terms_are_labelled() -> None:
    settings = Settings(crisis_terms=["Funkloch"], crisis_terms_by_brand={"Nordwelle": ["Tarifchaos"]})
    stage = CrisisStage(settings)
    docs = [Doc(1, "Funklöcher? Nein: Funkloch und Tarifchaos"), Doc(2, "Datenleck")]
    first, second = stage.run(docs, [{}, {}])
    assert first["terms"] == ["Funkloch", "Tarifchaos"]
    assert first["brands"] == {"Nordwelle": ["Tarifchaos"]}
    assert second["terms"] == [] and second["risk_score"] == 0.0


def test_no_terms_configured_is_fine() -> None:
    assert _terms("Datenleck", Settings(crisis_terms=[])) == []


def test_trie_pattern_prefers_the_longest_term() -> None:
    matcher = TermMatcher(labelled(["Rückruf", "Rückrufaktion"]))
    assert [h.term for h in matcher.find("Die Rückrufaktion")] == ["Rückrufaktion"]
    assert trie_pattern(["ab", "abc", "x y"]) == r"(?:ab(?:c)?|x\s+y)"


def test_risk_score_grows_with_each_signal() -> None:
    none, reasons = risk_score()
    assert none == 0.0 and reasons == []
    one, _ = risk_score(crisis_terms=["Datenleck"])
    two, _ = risk_score(crisis_terms=["Datenleck", "Klage"])
    with_pii, _ = risk_score(crisis_terms=["Datenleck", "Klage"], pii_kinds=["iban"])
    with_offensive, _ = risk_score(crisis_terms=["Datenleck", "Klage"], pii_kinds=["iban"], offensive=0.9)
    assert 0 < one < two < with_pii < with_offensive <= 1
    email, _ = risk_score(pii_kinds=["email"])
    card, reasons = risk_score(pii_kinds=["card", "card"])
    assert 0 < email < card
    assert [r["value"] for r in reasons] == ["card"]  # one kind counts once


def test_reach_scales_but_never_creates_risk() -> None:
    scores = [risk_score(crisis_terms=["recall"], followers=f)[0] for f in (None, 0, 100, 10_000, 1_000_000, 10**9)]
    assert scores[0] == scores[1]
    assert scores[1] < scores[2] < scores[3] < scores[4] == scores[5] <= 1
    assert risk_score(followers=10**9) == (0.0, [])


def test_reasons_are_strongest_first_with_reach_last() -> None:
    _, reasons = risk_score(crisis_terms=["Datenleck"], pii_kinds=["email"], followers=5000)
    assert [r["signal"] for r in reasons] == ["crisis_term", "personal_data", "reach"]


def test_stage_uses_privacy_and_followers_and_projects_risk_score() -> None:
    settings = Settings()
    stages = build_stages(settings, ["crisis"])
    assert {"privacy", "offensive"} <= {s.name for s in stages}
    assert stages[-1].name == "crisis"
    text = "Datenleck! Meine IBAN DE89 3704 0044 0532 0130 00 steht im Netz"
    quiet, loud, calm = run_stages(
        stages, [Doc(1, text, followers=10), Doc(2, text, followers=500_000), Doc(3, "Alles gut", followers=10**6)]
    )
    assert 0 < quiet["crisis"]["risk_score"] < loud["crisis"]["risk_score"] <= 1
    signals = {r["signal"]: r["value"] for r in loud["crisis"]["reasons"]}
    assert signals == {"crisis_term": "Datenleck", "personal_data": "iban", "reach": 500_000}
    assert calm["crisis"] == {"terms": [], "brands": {}, "risk_score": 0.0, "reasons": []}
    assert stages[-1].columns(loud["crisis"]) == {"risk_score": loud["crisis"]["risk_score"]}


def test_a_broken_privacy_result_is_tolerated() -> None:
    stage = CrisisStage(Settings())
    [result] = stage.run([Doc(1, "recall")], [{"privacy": {"error": "stage privacy failed on this text"}}])
    assert result["terms"] == ["recall"] and result["risk_score"] > 0


def test_default_terms_include_german_and_english() -> None:
    assert {"Rückruf", "Datenleck", "Shitstorm", "recall", "data breach", "lawsuit"} <= set(DEFAULTS)


@pytest.mark.parametrize(
    ("offensive", "counted"),
    [
        ({"label": "offensive", "score": 0.9}, True),
        ({"label": "other", "score": 0.4}, False),  # below the offensive stage's threshold: no risk
        ({"error": "stage offensive failed on this text"}, False),
        ({"label": "offensive", "score": "high"}, False),
        (None, False),
    ],
)
def test_offensive_result_counts_only_when_offensive(offensive: dict[str, object] | None, counted: bool) -> None:
    stage = CrisisStage(Settings())
    up = {"privacy": {"found": [], "has_pii": False}} | ({"offensive": offensive} if offensive else {})
    [result] = stage.run([Doc(1, "Ihr seid alle unfähig", followers=100)], [up])
    assert (result["risk_score"] > 0) is counted
    assert any(r["signal"] == "offensive" for r in result["reasons"]) is counted
