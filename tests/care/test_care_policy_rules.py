"""The pure policy checks and reply templates: each finding and each template error, tabled."""

from __future__ import annotations

import pytest

from resonanz.cases.policy import (
    BLOCK,
    INFO,
    REVIEW,
    Phrase,
    ReplyContext,
    check_reply,
    graphemes,
    sms_segments,
)
from resonanz.cases.templates_text import check_template, render_template, variables_in
from resonanz.errors import InputError


def codes(text: str, **ctx: object) -> dict[str, str]:
    context = ReplyContext(platform=str(ctx.pop("platform", "portal")), **ctx)  # type: ignore[arg-type]
    return {f.code: f.severity for f in check_reply(text, context=context)}


def test_phone_number_not_shared_by_the_customer_needs_review() -> None:
    found = check_reply("Rufen Sie uns an: 0171 2345678", context=ReplyContext(platform="portal", customer_lang="de"))
    pd = [f for f in found if f.code == "personal_data"]
    assert pd and pd[0].severity == REVIEW and "2345678" not in pd[0].message
    assert pd[0].start is not None and "0171" in "Rufen Sie uns an: 0171 2345678"[pd[0].start : pd[0].end]


def test_personal_data_the_customer_posted_in_public_is_theirs_to_repeat() -> None:
    ctx = ReplyContext(platform="portal", public_customer_texts=["Bitte ruft mich an: 0171 2345678"])
    assert not [
        f for f in check_reply("Wir rufen Sie unter 0171-2345678 an.", context=ctx) if f.code == "personal_data"
    ]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Das ist garantiert bis Freitag erledigt.", "guarantee"),
        ("We guarantee a refund.", "guarantee"),
        ("Wir übernehmen den Schadensersatz.", "legal"),
    ],
)
def test_blocked_phrases(text: str, kind: str) -> None:
    found = [f for f in check_reply(text, context=ReplyContext(platform="portal")) if f.code == "blocked_phrase"]
    assert found and found[0].detail["kind"] == kind and found[0].severity == REVIEW


def test_competitor_names_and_custom_phrases() -> None:
    ctx = ReplyContext(platform="portal", competitors=["Brandung"], phrases=[Phrase("Freiflug", "custom", "no promo")])
    found = check_reply("Anders als Brandung schenken wir Ihnen einen Freiflug.", context=ctx)
    kinds = sorted(f.detail["kind"] for f in found if f.code == "blocked_phrase")
    assert kinds == ["competitor", "custom"]


@pytest.mark.parametrize(
    ("platform", "text", "blocked"),
    [
        ("x", "a" * 280, False),
        ("x", "a" * 281, True),
        ("bluesky", "👍🏽" * 300, False),  # 300 graphemes, 600 code points
        ("bluesky", "e" * 301, True),
        ("mastodon", "a" * 501, True),
        ("sms", "a" * 160 * 10, True),
    ],
)
def test_channel_length_limits(platform: str, text: str, blocked: bool) -> None:
    found = [f for f in check_reply(text, context=ReplyContext(platform=platform), models=False) if f.code == "length"]
    assert bool(found and found[0].severity == BLOCK) is blocked


def test_graphemes_and_sms_segments() -> None:
    assert graphemes("👍🏽🇩🇪e\u0301👨‍👩‍👧") == 4
    assert sms_segments("a" * 160) == (1, "GSM-7")
    assert sms_segments("a" * 161) == (2, "GSM-7")
    assert sms_segments("ü" * 70) == (1, "GSM-7")  # ü is in the GSM alphabet
    assert sms_segments("ł" * 71) == (2, "UCS-2")
    multi = [
        f for f in check_reply("a" * 400, context=ReplyContext(platform="sms"), models=False) if f.code == "length"
    ]
    assert multi[0].severity == INFO and multi[0].detail["segments"] == 3


def test_profanity_tone_and_language_mismatch() -> None:
    found = codes("This is a shitty fucking product, you idiot.", customer_lang="de")
    assert found["profanity"] == REVIEW and found["tone"] == REVIEW and found["language"] == INFO
    assert codes("Vielen Dank für Ihre Nachricht, wir kümmern uns sofort darum.", customer_lang="de") == {}


def test_empty_reply_is_blocked() -> None:
    assert codes("   ") == {"empty": BLOCK}


# --- templates ------------------------------------------------------------------------------------


def test_template_renders_known_variables_and_literal_braces() -> None:
    text = render_template("Hallo {author_name}, Fall {case_id} {{ok}}", {"author_name": "Anna", "case_id": 7})
    assert text == "Hallo Anna, Fall 7 {ok}"


def test_unknown_variables_are_named_all_at_once() -> None:
    with pytest.raises(InputError) as err:
        check_template("Hallo {autor_name}, Ihr {ticket} – {case_id}")
    assert "{autor_name}" in str(err.value) and "{ticket}" in str(err.value) and "{author_name}" in str(err.value)
    assert variables_in("{a} {b} {a}") == ["a", "b"]


@pytest.mark.parametrize("template", ["Hallo {author_name", "Preis } hoch", "{0}", "{x.__class__}"])
def test_lone_braces_and_python_format_fields_are_refused(template: str) -> None:
    with pytest.raises(InputError):
        check_template(template)
