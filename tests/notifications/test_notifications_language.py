"""Alert messages in their reader's language (issue 5): e-mails through a real SMTP server
(aiosmtpd) in each recipient's language and zone with Babel's number formats, chat messages and
webhook texts in the channel's language, and the webhook's data still machine-readable."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from resonanz.accounts.actions import do_create_user
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.errors import InputError
from resonanz.listening.alerts.actions import do_create_rule, evaluate_rule
from resonanz.listening.alerts.schemas import AlertRuleCreate
from resonanz.notifications.actions import do_create_channel
from resonanz.worker.runner import drain
from tests.alerts.alerts_factory import SPIKE, add_mentions, make_author, spike_history

from .smtp_receiver import SMTPReceiver
from .test_notifications_email import smtp_settings
from .webhook_receiver import WebhookReceiver

PASSWORD = "a long enough passphrase 42"


def _spike_with_big_author(session: Session) -> int:
    """The spike, plus one post by an author with 12,345 followers (a number Babel groups)."""
    query = spike_history(session)
    author = make_author(session, handle="grossfluss", followers=12345)
    add_mentions(session, query, [SPIKE + timedelta(minutes=30)], text="nordwelle zugausfall", author_id=author,
                 sentiment="negative")  # fmt: skip
    return query.id


def test_each_recipient_reads_the_alert_email_in_their_language_and_zone(
    db: Database, session: Session, settings: Settings
) -> None:
    query_id = _spike_with_big_author(session)
    anna = do_create_user(session, email="anna@example.test", display_name="Anna", password=PASSWORD, language="de",
                          time_zone="Europe/Berlin", actor=None)  # fmt: skip
    bob = do_create_user(session, email="bob@example.test", display_name="Bob", password=PASSWORD, language="en",
                         time_zone="America/New_York", actor=None)  # fmt: skip
    rule = do_create_rule(
        session,
        data=AlertRuleCreate(name="Spitze", kind="volume_spike", query_id=query_id,
                             recipient_user_ids=[anna.id, bob.id], recipient_emails=["ops@example.test"]),
        actor=None,
    )  # fmt: skip
    rule.evaluated_until = SPIKE
    with SMTPReceiver() as smtp:
        db.settings = smtp_settings(settings, smtp.port)
        evaluate_rule(session, rule=rule, at=SPIKE + timedelta(hours=1), settings=db.settings)
        session.commit()
        assert [o.state for o in drain(db, kinds=["notifications.deliver"])] == ["done"] * 3
        by_rcpt = {tuple(rcpt): msg for rcpt, msg in smtp.messages}
    # one mail per language and zone: Anna's German, Bob's English in New York time, and the extra
    # address in the settings' default (English, UTC)
    assert set(by_rcpt) == {("anna@example.test",), ("bob@example.test",), ("ops@example.test",)}
    german = by_rcpt[("anna@example.test",)]
    english = by_rcpt[("bob@example.test",)]
    ops_text = by_rcpt[("ops@example.test",)].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Mar 30, 2026, 2:00:00\u202fPM (UTC)" in ops_text and "Rule: Spitze" in ops_text

    assert german["Subject"] == "[Resonanz] Volumenspitze: Nordwelle (Spitze)"
    de_text = german.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    de_html = german.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "Erwähnungen in einer Stunde gegenüber üblichen 2 in dieser Wochenstunde" in de_text
    assert "Regel: Spitze" in de_text and "Treibende Wörter:" in de_text and "im Alarmfenster gegenüber" in de_text
    assert "Beispiel-Erwähnungen:" in de_text and "Rule:" not in de_text
    assert "12.345 Follower" in de_text and "12.345 Follower" in de_html  # German grouping
    assert "12,345" not in de_text
    # SPIKE is 14:00 UTC on 30 March 2026: 16:00 summer time in Berlin
    assert "30.03.2026, 16:00:00 (Europe/Berlin)" in de_text
    assert 'lang="de"' in de_html and "Alarm in Resonanz öffnen" in de_html
    assert "&lt;script&gt;" in de_html and "<script>" not in de_html

    assert english["Subject"] == "[Resonanz] Volume spike: Nordwelle (Spitze)"
    en_text = english.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "mentions in one hour against a usual 2 for this hour of the week" in en_text
    assert "Rule: Spitze" in en_text and "12,345 followers" in en_text
    assert "Mar 30, 2026, 10:00:00" in en_text and "(America/New_York)" in en_text
    assert "Erwähnungen" not in en_text


def test_chat_and_webhook_messages_speak_the_channels_language(
    db: Database, session: Session, settings: Settings
) -> None:
    query_id = _spike_with_big_author(session)
    with WebhookReceiver() as hook:
        slack = do_create_channel(session, name="team-de", kind="slack",
                                  config={"url": hook.url("/slack"), "language": "de"}, actor=None)  # fmt: skip
        teams = do_create_channel(session, name="team-en", kind="teams", config={"url": hook.url("/teams")},
                                  actor=None)  # fmt: skip
        webhook = do_create_channel(session, name="hook-de", kind="webhook",
                                    config={"url": hook.url("/hook"), "language": "de",
                                            "time_zone": "Europe/Berlin"}, actor=None)  # fmt: skip
        rule = do_create_rule(
            session,
            data=AlertRuleCreate(name="Spitze", kind="volume_spike", query_id=query_id,
                                 channel_ids=[slack.id, teams.id, webhook.id]),
            actor=None,
        )  # fmt: skip
        rule.evaluated_until = SPIKE
        db.settings = settings
        evaluate_rule(session, rule=rule, at=SPIKE + timedelta(hours=1), settings=settings)
        session.commit()
        assert [o.state for o in drain(db, kinds=["notifications.deliver"])] == ["done"] * 3
        posted = {p.path: json.loads(p.body) for p in hook.posted}
    slack_doc = posted["/slack"]
    assert "Volumenspitze: Nordwelle" in slack_doc["text"] and "12.345 Follower" in slack_doc["text"]
    assert slack_doc["blocks"][-1]["text"]["text"].endswith("|In Resonanz öffnen>")
    assert "Erwähnungen in einer Stunde" in slack_doc["blocks"][1]["text"]["text"]
    teams_doc = posted["/teams"]  # no language on the channel: the settings' default, English
    assert (
        teams_doc["title"].startswith("[Resonanz] Volume spike: Nordwelle") and "12,345 followers" in teams_doc["text"]
    )
    hook_doc = posted["/hook"]
    assert hook_doc["language"] == "de" and "Erwähnungen in einer Stunde" in hook_doc["text"]
    assert "(Europe/Berlin)" in hook_doc["text"]
    # the data stays machine-readable: English keys, numbers as numbers
    data = hook_doc["data"]
    assert data["kind"] == "volume_spike" and data["observed"] == pytest.approx(61.0)
    assert {"alert_id", "rule", "scope", "baseline", "explanation", "link"} <= set(data)
    assert isinstance(data["explanation"]["top_terms"], list)


def test_channel_language_and_zone_are_checked(session: Session) -> None:
    with pytest.raises(InputError, match=r"config\.language"):
        do_create_channel(session, name="x", kind="slack", config={"url": "https://h.example/x", "language": "fr"},
                          actor=None)  # fmt: skip
    with pytest.raises(InputError, match=r"config\.time_zone"):
        do_create_channel(session, name="y", kind="webhook",
                          config={"url": "https://h.example/y", "time_zone": "Mars/Olympus"}, actor=None)  # fmt: skip
