"""The pure mapping of RFC 5322 messages (tests/payloads/email/) to mentions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from resonanz.connectors.base import RawItem
from resonanz.connectors.email.connector import EmailConnector
from resonanz.connectors.email.parse import message_ids
from resonanz.errors import ParseError
from resonanz.mentions.schemas import MentionIn

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "email"


def parse(name: str, **context: Any) -> MentionIn:
    return EmailConnector.parse(RawItem(payload=(PAYLOADS / name).read_bytes(), location=name, context=context))


def test_encoded_headers_and_quoted_printable_body_are_decoded() -> None:
    m = parse("plain_encoded.eml")
    assert m.platform == "email" and m.kind == "message"
    assert m.external_id == "CAF=4711.juergen@mail.kunde.example"
    assert m.title == "Bestellung 4711 – Rücksendung dringend"
    assert (m.author.handle, m.author.name) == ("juergen@kunde.example", "Jürgen Müller")
    assert "Bitte um Rücksendung." in m.text and "Grüße\nJürgen" in m.text
    assert m.published_at == datetime(2026, 11, 24, 8, 15, 2, tzinfo=UTC)
    assert m.language_hint == "de-DE" and m.html is None
    # a top-level message is its own thread
    assert (m.parent_external_id, m.thread_external_id) == (None, m.external_id)


def test_reply_threads_by_in_reply_to_and_references_and_html_is_sanitised() -> None:
    m = parse("reply_html.eml")
    assert m.parent_external_id == "resonanz.out-1@radwerk.example"
    assert m.thread_external_id == "root-1@example.org"
    assert m.text.startswith("Danke, aber das Ersatzteil fehlt noch.")
    assert "<script" not in m.html and "javascript:" not in m.html and "<b>Ersatzteil</b>" in m.html
    assert m.raw["headers"]["reply-to"] == "anna.private@example.org"


def test_windows_1252_plain_part_wins_and_attachments_are_noted_not_stored() -> None:
    m = parse("multipart_attachment.eml")
    assert m.text == "Die Rechnung für Bestellung 4712 fehlt. Preis 99 € statt 89 €."
    assert m.media == [
        {"kind": "attachment", "mime": "application/pdf", "filename": "Lieferschein März.pdf", "size": 52}
    ]
    assert "JVBERi" not in str(m.raw)


def test_unknown_charsets_fall_back_instead_of_failing() -> None:
    m = parse("odd_charset.eml")
    assert m.title == "Hallo ä"
    assert m.text.startswith("Grüße aus Kiel")


def test_a_message_without_message_id_gets_a_stable_id_and_internaldate_is_the_fallback_time() -> None:
    first, again = parse("no_message_id.eml"), parse("no_message_id.eml")
    assert first.external_id == again.external_id
    assert first.external_id.endswith("@resonanz.invalid")
    body = (PAYLOADS / "no_message_id.eml").read_bytes().replace(b"Date: Fri, 27 Nov 2026 02:00:00 +0000\n", b"")
    item = RawItem(payload=body, location="x", context={"internaldate": "Sat, 28 Nov 2026 03:00:00 +0000"})
    assert EmailConnector.parse(item).published_at == datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    with pytest.raises(ParseError, match="neither a readable Date"):
        EmailConnector.parse(RawItem(payload=body, location="x"))


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ((PAYLOADS / "not_an_email.eml").read_bytes(), "no RFC 5322 headers"),
        (b"", "empty"),
        (b"From: a@b.example\nDate: Fri, 27 Nov 2026 02:00:00 +0000\nSubject: x\n\n   \n", "no text"),
    ],
)
def test_unusable_messages_raise_parse_errors(payload: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        EmailConnector.parse(RawItem(payload=payload, location="INBOX UID 9"))


@pytest.mark.parametrize(
    ("header", "ids"),
    [
        ("<a@b> <c@d>", ["a@b", "c@d"]),
        ("<a@b>\r\n <c@d>", ["a@b", "c@d"]),
        ("bare@id.example", ["bare@id.example"]),
        ("Your message of Monday <x@y>", ["x@y"]),
        ("", []),
        ("no id here", []),
    ],
)
def test_message_ids(header: str, ids: list[str]) -> None:
    assert message_ids(header) == ids
