"""Replies over SMTP (aiosmtpd) with threading headers, looked up in the IMAP mailbox (dovecot)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from email_servers import USER, Dovecot, Smtp, free_port

from resonanz.config import Settings
from resonanz.connectors.base import OutgoingReply, PublishOutcomeUnknownError, ReplyKind
from resonanz.connectors.email.connector import EmailConfig, EmailConnector
from resonanz.errors import ConnectorPermanentError, ConnectorTransientError

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "email"
CREATED = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def connector(settings: Settings, dovecot: Dovecot, smtp_port: int, **config: Any) -> EmailConnector:
    cfg = EmailConfig.model_validate(
        {
            "address": USER,
            "display_name": "Radwerk Support",
            "imap_host": "127.0.0.1",
            "imap_port": dovecot.port,
            "imap_security": "none",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "smtp_security": "none",
            "smtp_auth": False,
            **config,
        }
    )
    return EmailConnector(cfg, settings=settings)


def reply(key: str = "outbox:41", **fields: Any) -> OutgoingReply:
    values: dict[str, Any] = {"idempotency_key": key, "created_at": CREATED, "text": "Das Ersatzteil ist unterwegs."}
    values.update(fields)
    if "in_reply_to" not in values and values.get("kind", ReplyKind.REPLY) == ReplyKind.REPLY:
        values["in_reply_to"] = "reply-2@example.org"
    return OutgoingReply(**values)


def test_a_reply_carries_the_threading_headers_and_can_be_found_again(
    mail_settings: Settings, dovecot: Dovecot, smtp: Smtp
) -> None:
    dovecot.deliver((PAYLOADS / "reply_html.eml").read_bytes())
    mail = connector(mail_settings, dovecot, smtp.port)
    out = reply()
    assert mail.find_published(out) is None  # nothing sent yet
    result = mail.publish(out)
    assert result.platform == "email" and result.external_id == "resonanz.outbox=41@radwerk.example"
    ((rcpts, sent),) = smtp.received
    assert rcpts == ["anna.private@example.org", USER]  # Reply-To wins over From; a copy to the mailbox
    assert sent["Subject"] == "Re: Ihre Anfrage [#123]"  # already "Re:": not doubled
    assert sent["In-Reply-To"] == "<reply-2@example.org>"
    assert sent["References"].split() == [
        "<root-1@example.org>",
        "<resonanz.out-1@radwerk.example>",
        "<reply-2@example.org>",
    ]
    assert sent["Message-ID"] == "<resonanz.outbox=41@radwerk.example>"
    assert sent["From"] == "Radwerk Support <support@radwerk.example>"
    assert "Das Ersatzteil ist unterwegs." in sent.get_content()
    found = mail.find_published(out)
    assert found is not None and found.external_id == result.external_id
    # the copy pulled back is a mention in the same thread, a reply to the customer's message
    pulled = mail.pull({})
    parsed = {EmailConnector.parse(i).external_id: EmailConnector.parse(i) for i in pulled.items}
    own = parsed[result.external_id]
    assert (own.parent_external_id, own.thread_external_id) == ("reply-2@example.org", "root-1@example.org")


def test_subject_gets_re_and_a_direct_message_uses_the_configured_subject(
    mail_settings: Settings, dovecot: Dovecot, smtp: Smtp
) -> None:
    dovecot.deliver((PAYLOADS / "plain_encoded.eml").read_bytes())
    mail = connector(mail_settings, dovecot, smtp.port, direct_subject="Ihre Nachricht an Radwerk")
    mail.publish(reply("outbox:1", in_reply_to="CAF=4711.juergen@mail.kunde.example"))
    mail.publish(reply("outbox:2", kind=ReplyKind.DIRECT, recipient="ole@example.dk"))
    (to_1, first), (to_2, second) = smtp.received
    assert str(first["Subject"]) == "Re: Bestellung 4711 – Rücksendung dringend"
    assert to_1[0] == "Juergen@Kunde.example" and first["In-Reply-To"] == "<CAF=4711.juergen@mail.kunde.example>"
    assert to_2[0] == "ole@example.dk" and second["Subject"] == "Ihre Nachricht an Radwerk"
    assert second["In-Reply-To"] is None


def test_a_parent_missing_from_the_mailbox_needs_a_recipient(
    mail_settings: Settings, dovecot: Dovecot, smtp: Smtp
) -> None:
    mail = connector(mail_settings, dovecot, smtp.port)
    with pytest.raises(ConnectorPermanentError, match="not in the mailbox"):
        mail.publish(reply(in_reply_to="gone@example.org"))
    mail.publish(reply(in_reply_to="gone@example.org", recipient="anna@example.org"))
    ((rcpts, sent),) = smtp.received
    assert rcpts[0] == "anna@example.org" and sent["References"] == "<gone@example.org>"


def test_a_connection_lost_after_data_is_outcome_unknown_and_the_lookup_settles_it(
    mail_settings: Settings, dovecot: Dovecot, smtp: Smtp
) -> None:
    dovecot.deliver((PAYLOADS / "reply_html.eml").read_bytes())
    smtp.drop_after_data = True
    mail = connector(mail_settings, dovecot, smtp.port)
    with pytest.raises(PublishOutcomeUnknownError, match="may or may not be out"):
        mail.publish(reply())
    found = mail.find_published(reply())  # the outbox asks before sending again
    assert found is not None and found.external_id == "resonanz.outbox=41@radwerk.example"


@pytest.mark.parametrize(
    ("setup", "error", "words"),
    [
        ({"rcpt_answers": {"anna.private@example.org": "550 5.1.1 no such user"}}, ConnectorPermanentError, "550"),
        ({"rcpt_answers": {"anna.private@example.org": "450 4.2.0 mailbox busy"}}, ConnectorTransientError, "450"),
        ({"data_answer": "451 4.3.0 try again later"}, ConnectorTransientError, "451"),
        ({"data_answer": "554 5.7.1 spam"}, ConnectorPermanentError, "554"),
    ],
)
def test_refusals_are_sorted_by_their_smtp_code(
    mail_settings: Settings, dovecot: Dovecot, smtp: Smtp, setup: dict[str, Any], error: type[Exception], words: str
) -> None:
    dovecot.deliver((PAYLOADS / "reply_html.eml").read_bytes())
    for key, value in setup.items():
        setattr(smtp, key, value)
    with pytest.raises(error, match=words) as caught:
        connector(mail_settings, dovecot, smtp.port, bcc_self=False).publish(reply())
    assert not isinstance(caught.value, PublishOutcomeUnknownError)


def test_an_unreachable_smtp_server_is_transient_and_no_smtp_host_is_read_only(
    mail_settings: Settings, dovecot: Dovecot
) -> None:
    dovecot.deliver((PAYLOADS / "reply_html.eml").read_bytes())
    with pytest.raises(ConnectorTransientError, match="could not reach the SMTP server") as caught:
        connector(mail_settings, dovecot, free_port()).publish(reply())
    assert not isinstance(caught.value, PublishOutcomeUnknownError)
    with pytest.raises(ConnectorPermanentError, match="no smtp_host"):
        connector(mail_settings, dovecot, 25, smtp_host=None).publish(reply())


def test_config_refuses_clear_text_to_remote_hosts() -> None:
    with pytest.raises(ValueError, match="only allowed for localhost"):
        EmailConfig(address=USER, imap_host="imap.example.org", imap_security="none")
    assert EmailConfig(address=USER, imap_host="imap.example.org").imap_security == "ssl"
