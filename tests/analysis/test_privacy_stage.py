"""The privacy stage: what it finds, what it must not find, and that it never keeps a raw value."""

from __future__ import annotations

import orjson
import pytest

from resonanz.analysis.stages.base import Doc
from resonanz.analysis.stages.privacy import PrivacyStage, find_personal_data, iban_valid, luhn_valid
from resonanz.config import Settings


def _iban_with_check(country: str, bban: str) -> str:
    """A valid IBAN built the ISO 13616 way (independent of the code under test)."""
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


VALID_IBANS = [
    "DE89370400440532013000",
    "GB82WEST12345698765432",
    "FR1420041010050500013M02606",
    "NL91ABNA0417164300",
    "AT611904300234573201",
    "CH9300762011623852957",
    _iban_with_check("DE", "500105175407324931"),
    _iban_with_check("ES", "21000418450200051332"),
]


@pytest.mark.parametrize("iban", VALID_IBANS)
def test_valid_ibans_pass_the_checksum(iban: str) -> None:
    assert iban_valid(iban)
    assert iban_valid(iban.lower())


@pytest.mark.parametrize(
    "iban",
    [
        "DE89370400440532013001",  # one digit off
        "DE98370400440532013000",  # check digits swapped
        "DE8937040044053201300",  # one short
        "DE893704004405320130000",  # one long
        "XX89370400440532013000",  # no such country
        "GB82WEST1234569876543!",
    ],
)
def test_invalid_ibans_fail(iban: str) -> None:
    assert not iban_valid(iban)


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("4111111111111111", True),
        ("5500000000000004", True),
        ("378282246310005", True),
        ("6011111111111117", True),
        ("3530111333300000", True),
        ("4012888888881881", True),
        ("4111111111111112", False),
        ("5500000000000005", False),
        ("378282246310006", False),
    ],
)
def test_luhn(number: str, valid: bool) -> None:
    assert luhn_valid(number) is valid


def _kinds(text: str) -> list[tuple[str, str]]:
    return [(f["kind"], text[f["start"] : f["end"]]) for f in find_personal_data(text)]


@pytest.mark.parametrize(
    ("text", "kind", "raw"),
    [
        ("Meine IBAN: DE89 3704 0044 0532 0130 00, bitte erstatten", "iban", "DE89 3704 0044 0532 0130 00"),
        ("IBAN DE89370400440532013000 danke", "iban", "DE89370400440532013000"),
        ("iban de89 3704 0044 0532 0130 00", "iban", "de89 3704 0044 0532 0130 00"),
        ("Konto GB82 WEST 1234 5698 7654 32.", "iban", "GB82 WEST 1234 5698 7654 32"),
        ("Karte 4111 1111 1111 1111 wurde belastet", "card", "4111 1111 1111 1111"),
        ("card 5500-0000-0000-0004 charged twice", "card", "5500-0000-0000-0004"),
        ("Amex 3782 822463 10005", "card", "3782 822463 10005"),
        ("Ruf mich an: 0171 1234567", "phone", "0171 1234567"),
        ("Tel. 030/1234567", "phone", "030/1234567"),
        ("unter +49 30 1234567 erreichbar", "phone", "+49 30 1234567"),
        ("Zentrale +49 (0)30 123456-78", "phone", "+49 (0)30 123456-78"),
        ("(030) 123 4567 anrufen", "phone", "(030) 123 4567"),
        ("London 0044 20 7946 0958", "phone", "0044 20 7946 0958"),
        ("call +1 (555) 123-4567 now", "phone", "+1 (555) 123-4567"),
        ("call (555) 123-4567 now", "phone", "(555) 123-4567"),
        ("Wien +43 1 5056416", "phone", "+43 1 5056416"),
        ("Schreib an max.mustermann@example.com!", "email", "max.mustermann@example.com"),
        ("mail: a+b@mail.example.de", "email", "a+b@mail.example.de"),
        ("Ich wohne in der Musterstraße 12, 12345 Musterstadt", "address", "Musterstraße 12, 12345 Musterstadt"),
        ("Hauptstr. 5a, 10115 Berlin", "address", "Hauptstr. 5a, 10115 Berlin"),
        ("Lieferung an Berliner Straße 12 klappt nie", "address", "Berliner Straße 12"),
        ("Karl-Marx-Allee 90", "address", "Karl-Marx-Allee 90"),
        ("Schlossstrasse 3-5", "address", "Schlossstrasse 3-5"),
        ("Alexanderplatz 1, 10178 Berlin", "address", "Alexanderplatz 1, 10178 Berlin"),
    ],
)
def test_finds_personal_data(text: str, kind: str, raw: str) -> None:
    assert _kinds(text) == [(kind, raw)]


@pytest.mark.parametrize(
    "text",
    [
        "Am 01.03.2024 um 10:30 Uhr",
        "Fahrt am 2024-03-01, Rückfahrt 12.03.24",
        "kostet 1.234,56 € statt 49,90 Euro",
        "Bestellnummer 0123456789 kam nie an",
        "Order #0123456789 missing",
        "Kundennummer: 04455667788",
        "Ticket 2024-123-4567",
        "RE 7 um 08:15, IC 2170 fällt aus",
        "IBAN DE89 3704 0044 0532 0130 01 (Tippfehler)",
        "Karte 4111 1111 1111 1112",
        "Artikelnummer 4006381333931",
        "Parkplatz 3 ist belegt, Heimweg 20 Minuten",
        "die Musterstraße 12 Minuten entfernt",
        "PLZ 10115 Berlin",
        "Bahnsteig 5, Gleis 12",
        "schreib @anna@social.example",
        "user@localhost oder foo@bar",
        "Version 0.9.12 hat 100000 Nutzer",
    ],
)
def test_no_false_positives(text: str) -> None:
    assert _kinds(text) == []


def test_several_kinds_in_text_order_with_offsets() -> None:
    text = "IBAN DE89 3704 0044 0532 0130 00, Tel 0171 1234567, max@example.com, Hauptstr. 5a, 10115 Berlin"
    found = find_personal_data(text)
    assert [f["kind"] for f in found] == ["iban", "phone", "email", "address"]
    assert [f["start"] for f in found] == sorted(f["start"] for f in found)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("DE89 3704 0044 0532 0130 00", "DE89 **** **** **** **** 00"),
        ("DE89370400440532013000", "DE89 **** **** **** **** 00"),
        ("Karte 4111 1111 1111 1111", "**** **** **** 1111"),
        ("Tel 0171 1234567", "**** *****67"),
        ("Tel +49 30 1234567", "+49 ** *****67"),
        ("max.mustermann@example.com", "m***@e***.com"),
        ("Hauptstr. 5a, 10115 Berlin", "Hauptstr. **, ***** Berlin"),
    ],
)
def test_values_are_masked(text: str, masked: str) -> None:
    assert [f["masked"] for f in find_personal_data(text)] == [masked]


def test_the_result_never_holds_a_raw_value(settings: Settings) -> None:
    raws = ["DE89 3704 0044 0532 0130 00", "4111 1111 1111 1111", "0171 1234567", "max@example.com", "10115"]
    text = f"IBAN {raws[0]}, Karte {raws[1]}, Tel {raws[2]}, Mail {raws[3]}, Hauptstr. 5, {raws[4]} Berlin"
    [result] = PrivacyStage(settings).run([Doc(1, text)], [{}])
    assert result["has_pii"] and len(result["found"]) == 5
    dumped = orjson.dumps(result).decode()
    for raw in raws:
        assert raw not in dumped
        assert raw.replace(" ", "") not in dumped


def test_offsets_are_into_full_text_with_title(settings: Settings) -> None:
    doc = Doc(1, "Tel 0171 1234567", title="Hilfe")
    [result] = PrivacyStage(settings).run([doc], [{}])
    [found] = result["found"]
    assert doc.full_text[found["start"] : found["end"]] == "0171 1234567"


def test_nothing_found_is_a_defined_result(settings: Settings) -> None:
    assert PrivacyStage(settings).run([Doc(1, "Der Zug war pünktlich."), Doc(2, "")], [{}, {}]) == [
        {"found": [], "has_pii": False},
        {"found": [], "has_pii": False},
    ]
