"""The entities stage: hashtags, handles, URLs and domains, emojis, brands and key phrases."""

from __future__ import annotations

import pytest

from resonanz.analysis.stages.base import Doc
from resonanz.analysis.stages.entities import MAX_ITEMS, EntitiesStage, emojis, registered_domain
from resonanz.analysis.stopwords import STOPWORDS
from resonanz.analysis.terms import keyphrases
from resonanz.config import Settings

BRANDS = {"Nordwelle": ["NordwelleGo", "Nordwele", "Nordwelle Mobil"], "Rheinkurve": ["Rheinkurve Bahn"]}


@pytest.fixture
def stage() -> EntitiesStage:
    return EntitiesStage(Settings(brands=BRANDS))


def one(stage: EntitiesStage, text: str) -> dict[str, list[str]]:
    [result] = stage.run([Doc(1, text)], [{}])
    return result


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Super 👍🏽 danke", ["👍🏽"]),  # skin tone
        ("👩‍💻 arbeitet", ["👩‍💻"]),  # ZWJ
        ("👨‍👩‍👧‍👦", ["👨‍👩‍👧‍👦"]),  # family of four
        ("🏳️‍🌈 Pride", ["🏳️‍🌈"]),  # VS16 + ZWJ
        ("🇩🇪🇫🇷", ["🇩🇪", "🇫🇷"]),  # two flags
        ("1️⃣ erstens", ["1️⃣"]),  # keycap
        ("❤️ und ❤️‍🔥", ["❤️", "❤️‍🔥"]),
        ("🏴󠁧󠁢󠁳󠁣󠁴󠁿 Scotland", ["🏴󠁧󠁢󠁳󠁣󠁴󠁿"]),  # tag sequence
        ("😡😡😡 🙄", ["😡", "🙄"]),  # repeated once
        ("©️ ja, © und ™ nein", ["©️"]),  # text symbols need VS16
        ("Grüße → Köln", []),
        ("plain ascii :-)", []),
    ],
)
def test_emoji_sequences(text: str, expected: list[str]) -> None:
    assert emojis(text) == expected


@pytest.mark.parametrize(
    ("text", "urls", "domains"),
    [
        ("siehe https://www.example.com/x?a=1.", ["https://www.example.com/x?a=1"], ["example.com"]),
        ("http://shop.example.co.uk/a, toll", ["http://shop.example.co.uk/a"], ["example.co.uk"]),
        ("www.nordwelle.example/hilfe!", ["www.nordwelle.example/hilfe"], ["nordwelle.example"]),
        (
            "(https://de.wikipedia.org/wiki/Foo_(Bar))",
            ["https://de.wikipedia.org/wiki/Foo_(Bar)"],
            ["wikipedia.org"],
        ),
        ("HTTPS://News.Example.ORG/a", ["HTTPS://News.Example.ORG/a"], ["example.org"]),
        ("http://192.168.0.1:8080/x", ["http://192.168.0.1:8080/x"], ["192.168.0.1"]),
        ("http://[broken/x", ["http://[broken/x"], []),
        (
            "https://a.example/1 https://b.example/2 https://a.example/1",
            ["https://a.example/1", "https://b.example/2"],
            ["a.example", "b.example"],
        ),
    ],
)
def test_urls_and_registered_domains(stage: EntitiesStage, text: str, urls: list[str], domains: list[str]) -> None:
    result = one(stage, text)
    assert result["urls"] == urls
    assert result["domains"] == domains


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("example.com", "example.com"),
        ("a.b.c.example.com", "example.com"),
        ("www.bbc.co.uk", "bbc.co.uk"),
        ("user.github.io", "user.github.io"),
        ("localhost", "localhost"),
        ("10.0.0.1", "10.0.0.1"),
    ],
)
def test_registered_domain(host: str, domain: str) -> None:
    assert registered_domain(host) == domain


def test_hashtags_and_handles(stage: EntitiesStage) -> None:
    text = (
        "#Nordwelle #1 #NordwelleDown #nordwelle https://x.example/#top @anna @bob@social.example "
        "mail max@example.com, @alice.bsky.social. C#-Code"
    )
    result = one(stage, text)
    assert result["hashtags"] == ["#Nordwelle", "#NordwelleDown"]
    assert result["handles"] == ["@anna", "@bob@social.example", "@alice.bsky.social"]


@pytest.mark.parametrize(
    ("text", "brands"),
    [
        ("Die nordwele App", ["Nordwelle"]),  # misspelling
        ("NORDWELLEGO stürzt ab", ["Nordwelle"]),
        ("Nordwelles Service", ["Nordwelle"]),  # genitive
        ("N\u043erdwelle betrügt", ["Nordwelle"]),  # Cyrillic о
        ("#Nordwelle vs. Rheinkurve  Bahn", ["Nordwelle", "Rheinkurve"]),
        ("@nordwelle_service hilft", ["Nordwelle"]),
        ("Nordwellenbrecher am Strand", []),  # not a compound match for names
        ("nichts davon", []),
    ],
)
def test_brands_with_aliases(stage: EntitiesStage, text: str, brands: list[str]) -> None:
    assert one(stage, text)["brands"] == brands


def test_no_brands_configured(settings: Settings) -> None:
    assert one(EntitiesStage(settings), "Nordwelle")["brands"] == []


def test_keyphrases_skip_stopwords_links_and_tags() -> None:
    text = "Die NordwelleGo App stürzt beim Bezahlen ab. App stürzt schon wieder! https://x.example/app #AppFail"
    phrases = keyphrases(text.replace("https://x.example/app", " ").replace("#AppFail", " "))
    assert phrases[0] == "app stürzt"  # twice in the text
    assert all(p == p.lower() for p in phrases)
    assert all(w not in STOPWORDS and len(w) >= 3 for p in phrases for w in p.split())
    assert len(phrases) <= 5 and len(set(phrases)) == len(phrases)


def test_stage_keyphrases_ignore_urls_handles_hashtags(stage: EntitiesStage) -> None:
    result = one(stage, "Erstattung fehlt @nordwelle_service #Erstattungsfrust https://erstattung.example/form")
    assert result["keyphrases"] == ["erstattung fehlt"]


def test_keyphrases_of_stopwords_only_is_empty() -> None:
    assert keyphrases("und oder aber the and of 123 ...") == []


def test_lists_are_capped(stage: EntitiesStage) -> None:
    result = one(stage, " ".join(f"#tag{i}x @user{i} https://s{i}.example/" for i in range(100)))
    assert len(result["hashtags"]) == len(result["handles"]) == len(result["urls"]) == MAX_ITEMS


def test_result_shape_for_empty_text(stage: EntitiesStage) -> None:
    assert one(stage, "") == {
        "hashtags": [], "handles": [], "urls": [], "domains": [], "emojis": [], "brands": [], "keyphrases": [],
    }  # fmt: skip
