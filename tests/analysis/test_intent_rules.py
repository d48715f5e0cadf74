"""Question, suggestion, cue and address rules in German and English, and the decision list."""

from __future__ import annotations

import pytest

from resonanz.analysis.classifiers.intent import COMPLAINT_THRESHOLD, SURE_COMPLAINT, decide
from resonanz.analysis.classifiers.intent_rules import (
    CLAUSE_QUESTION,
    NO_QUESTION,
    PLAIN_QUESTION,
    STRONG_QUESTION,
    apply_rules,
)


@pytest.mark.parametrize(
    ("text", "strength"),
    [
        ("Weiß jemand, ob die S1 heute fährt", STRONG_QUESTION),
        ("weiss hier jemand wie das geht", STRONG_QUESTION),
        ("Kann mir jemand helfen, mein Passwort geht nicht", STRONG_QUESTION),
        ("Wie kann ich meinen Vertrag kündigen", STRONG_QUESTION),
        ("Wo finde ich die Rechnung", STRONG_QUESTION),
        ("Hat jemand eine Idee, woran das liegt", STRONG_QUESTION),
        ("How do I reset my password", STRONG_QUESTION),
        ("Does anyone know if the store is open today", STRONG_QUESTION),
        ("can someone help me with my order", STRONG_QUESTION),
        ("Is there a way to change the delivery address", STRONG_QUESTION),
        ("@DB_Bahn Warum fällt mein Zug aus?", CLAUSE_QUESTION),
        ("Gibt es das auch in Blau?", CLAUSE_QUESTION),
        ("Habt ihr am Sonntag geöffnet?", CLAUSE_QUESTION),
        ("Toller Laden. Wann macht ihr auf?", CLAUSE_QUESTION),
        ("When will my refund arrive?", CLAUSE_QUESTION),
        ("@Acme do you ship to Austria?", CLAUSE_QUESTION),
        ("Echt jetzt?!", PLAIN_QUESTION),
        ("Paket angekommen, aber beschädigt?", PLAIN_QUESTION),
        ("Wie immer zu spät.", NO_QUESTION),
        ("What a great day", NO_QUESTION),
        ("Der Zug ist pünktlich", NO_QUESTION),
        ("", NO_QUESTION),
    ],
)
def test_question_rules(text: str, strength: int) -> None:
    hits = apply_rules(text)
    assert hits.question == strength
    assert any(r.startswith("question") for r in hits.reasons) is (strength != NO_QUESTION)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Es wäre schön, wenn ihr auch PayPal anbieten würdet", True),
        ("wäre echt toll wenn es einen Dark Mode gäbe", True),
        ("Bitte führt endlich eine Familienkarte ein!", True),
        ("Ich würde mir wünschen, dass die App offline geht", True),
        ("Könntet ihr bitte Apple Pay einführen?", True),
        ("Verbesserungsvorschlag: größere Schrift", True),
        ("Ihr solltet mehr vegane Produkte haben", True),
        ("Please add a dark mode", True),
        ("It would be great if you offered weekend delivery", True),
        ("Feature request: export to CSV", True),
        ("You should add more payment options", True),
        ("I wish there was a family plan", True),
        ("Would love to see this in Germany", True),
        ("Bitte antwortet mir endlich", False),
        ("Ich wünschte, ich hätte das nie gekauft", False),
        ("The app is great", False),
        ("Address: Hauptstraße 5", False),
    ],
)
def test_suggestion_rules(text: str, expected: bool) -> None:
    assert apply_rules(text).suggestion is expected


@pytest.mark.parametrize(
    ("text", "addressed"),
    [
        ("@telekom Internet weg", True),
        ("Warum antwortet ihr nicht", True),
        ("Können Sie mir helfen", True),
        ("Kannst du mir helfen", True),
        ("Why don't you answer", True),
        ("Der Zug ist zu spät", False),
        ("sie hat es gekauft", False),
        ("The train is late again", False),
    ],
)
def test_address_rules(text: str, addressed: bool) -> None:
    assert apply_rules(text).addressed is addressed


@pytest.mark.parametrize(
    ("text", "complaint", "praise"),
    [
        ("Der Zug ist schon wieder zu spät", True, False),
        ("Internet geht seit drei Tagen nicht", True, False),
        ("still waiting for my refund", True, False),
        ("Vielen Dank, super Service", False, True),
        ("thanks, great support", False, True),
        ("Der Zug kommt um acht", False, False),
    ],
)
def test_cue_rules(text: str, complaint: bool, praise: bool) -> None:
    hits = apply_rules(text)
    assert (hits.complaint_cue, hits.praise_cue) == (complaint, praise)


def test_lone_surrogates_in_a_matched_snippet_become_storable() -> None:
    hits = apply_rules("@a\udc00 wie kann ich das ändern")
    for reason in hits.reasons:
        reason.encode("utf-8")  # would raise on a lone surrogate


def _decide(text: str, p_complaint: float, p_praise: float = 0.0) -> str:
    return decide(p_complaint, p_praise, apply_rules(text))[0]


def test_decision_list_orders_rules_and_heads() -> None:
    mild, sure = COMPLAINT_THRESHOLD + 0.05, SURE_COMPLAINT + 0.05
    assert _decide("Please add a dark mode", 0.2) == "suggestion"
    assert _decide("Please add a dark mode, this app is useless", sure) == "complaint"
    assert _decide("How do I change my booking?", mild) == "question"
    assert _decide("How do I change my booking?", sure) == "complaint"
    assert _decide("Warum fällt mein Zug aus?", mild) == "complaint"
    assert _decide("Warum fällt mein Zug aus?", 0.1) == "question"
    assert _decide("Wie toll ist das denn?", 0.0, 0.9) == "praise"
    assert _decide("Ist das so?", 0.0, 0.1) == "question"
    assert _decide("Schöner Tag heute", 0.1, 0.2) == "other"
    assert _decide("Great stuff", mild, mild + 0.1) == "praise"  # praise more likely than complaint
