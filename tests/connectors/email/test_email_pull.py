"""The e-mail connector's pull against a real dovecot, through the real pull job and the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from email_servers import USER, Dovecot
from sqlalchemy import select

from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.mentions.models import Mention, QuarantineItem
from resonanz.sources.actions import do_create_source
from resonanz.sources.models import IngestRun, RunStatus, Source, SourceHealth
from resonanz.sources.pull import pull_source
from resonanz.sources.schemas import SourceCreate

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "email"


def numbered(n: int, *, extra: str = "") -> bytes:
    return (
        f"From: kunde{n}@example.org\r\nTo: {USER}\r\nSubject: Frage {n}\r\n"
        f"Date: Fri, 27 Nov 2026 10:{n % 60:02d}:00 +0000\r\nMessage-ID: <msg-{n}@example.org>\r\n{extra}\r\n"
        f"Frage Nummer {n}\r\n"
    ).encode()


def add_source(db: Database, dovecot: Dovecot, name: str = "mail", **config: Any) -> int:
    base = {"address": USER, "imap_host": "127.0.0.1", "imap_port": dovecot.port, "imap_security": "none"}
    with transaction(db.sessions) as session:
        return do_create_source(session, data=SourceCreate(name=name, kind="email", config={**base, **config})).id


def pull(db: Database, settings: Settings, source_id: int) -> IngestRun:
    return pull_source(db.sessions, source_id=source_id, settings=settings)


def external_ids(db: Database) -> list[str]:
    with db.sessions() as session:
        return sorted(session.scalars(select(Mention.external_id)))


def source(db: Database, source_id: int) -> Source:
    with db.sessions() as session:
        found = session.get(Source, source_id)
        assert found is not None
        return found


def test_first_pull_takes_the_newest_then_uids_go_forward_without_gaps_or_duplicates(
    db: Database, mail_settings: Settings, dovecot: Dovecot
) -> None:
    for n in range(1, 6):
        dovecot.deliver(numbered(n))
    source_id = add_source(db, dovecot, initial_messages=2, max_messages=3)
    first = pull(db, mail_settings, source_id)
    assert (first.status, first.new) == (RunStatus.OK, 2)
    assert external_ids(db) == ["msg-4@example.org", "msg-5@example.org"]
    cursor = source(db, source_id).cursor
    assert cursor["last_uid"] == 5 and cursor["uidvalidity"] > 0 and cursor["mailbox"] == "INBOX"

    for n in range(6, 11):  # five new: more than max_messages
        dovecot.deliver(numbered(n))
    second = pull(db, mail_settings, source_id)  # each pull is a new connector built from the stored cursor
    assert second.new == 3 and any("2 more message(s) wait" in w for w in second.warnings)
    third = pull(db, mail_settings, source_id)
    assert (third.new, third.duplicate) == (2, 0)
    assert external_ids(db) == sorted(f"msg-{n}@example.org" for n in range(4, 11))
    assert pull(db, mail_settings, source_id).new == 0
    # pulling reads with EXAMINE / BODY.PEEK: nothing is marked as read for the people using the mailbox
    conn = dovecot.imap()
    conn.select("INBOX", readonly=True)
    assert conn.search(None, "UNSEEN")[1][0].split() == [str(n).encode() for n in range(1, 11)]
    conn.logout()


def test_threads_and_odd_messages_arrive_through_imap(db: Database, mail_settings: Settings, dovecot: Dovecot) -> None:
    source_id = add_source(db, dovecot)
    assert pull(db, mail_settings, source_id).new == 0  # an empty mailbox: the first pull sets the start
    for name in ("plain_encoded.eml", "reply_html.eml", "multipart_attachment.eml", "odd_charset.eml",
                 "not_an_email.eml"):  # fmt: skip
        dovecot.deliver((PAYLOADS / name).read_bytes())
    run = pull(db, mail_settings, source_id)
    assert (run.new, run.rejected, run.status) == (4, 1, RunStatus.PARTIAL)
    with db.sessions() as session:
        reply = session.scalar(select(Mention).where(Mention.external_id == "reply-2@example.org"))
        assert reply is not None and reply.thread_external_id == "root-1@example.org"
        assert reply.parent_external_id == "resonanz.out-1@radwerk.example"
        (item,) = session.scalars(select(QuarantineItem))
        assert "no RFC 5322 headers" in item.reason and "UID 5" in item.location


def test_a_new_uidvalidity_rereads_since_the_last_day_and_stores_no_duplicates(
    db: Database, mail_settings: Settings, dovecot: Dovecot
) -> None:
    messages = [numbered(n) for n in range(1, 4)]
    source_id = add_source(db, dovecot)
    pull(db, mail_settings, source_id)
    for message in messages:
        dovecot.deliver(message)
    assert pull(db, mail_settings, source_id).new == 3
    before = source(db, source_id).cursor["uidvalidity"]
    dovecot.new_uidvalidity(before + 1000)
    dovecot.deliver(numbered(4))
    run = pull(db, mail_settings, source_id)
    assert source(db, source_id).cursor["uidvalidity"] == before + 1000
    assert (run.new, run.duplicate) == (1, 3) and any("UIDVALIDITY" in w for w in run.warnings)
    assert external_ids(db) == sorted(f"msg-{n}@example.org" for n in range(1, 5))


def test_an_oversized_message_keeps_its_header_in_quarantine(
    db: Database, mail_settings: Settings, dovecot: Dovecot
) -> None:
    source_id = add_source(db, dovecot, max_message_bytes=2048)
    pull(db, mail_settings, source_id)
    dovecot.deliver(numbered(1, extra="X-Pad: " + "p" * 4000 + "\r\n"))
    dovecot.deliver(numbered(2))
    run = pull(db, mail_settings, source_id)
    assert (run.new, run.rejected) == (1, 1)
    with db.sessions() as session:
        (item,) = session.scalars(select(QuarantineItem))
        assert "over max_message_bytes=2,048" in item.reason


def test_a_wrong_password_disables_the_source_with_guidance(
    db: Database, mail_settings: Settings, dovecot: Dovecot, monkeypatch: Any
) -> None:
    monkeypatch.setenv("WRONG_PW", "nope")
    source_id = add_source(db, dovecot, password_env="WRONG_PW")
    run = pull(db, mail_settings, source_id)
    assert run.status == RunStatus.FAILED and "refused the login" in (run.error or "")
    assert source(db, source_id).health == SourceHealth.DISABLED


def test_a_missing_password_and_a_missing_mailbox_are_permanent(
    db: Database, mail_settings: Settings, dovecot: Dovecot
) -> None:
    no_secret = add_source(db, dovecot, "a", password_env="NOT_SET_ANYWHERE")
    assert "set the environment variable NOT_SET_ANYWHERE" in (pull(db, mail_settings, no_secret).error or "")
    no_box = add_source(db, dovecot, "b", mailbox="Kundenservice")
    assert "no mailbox 'Kundenservice'" in (pull(db, mail_settings, no_box).error or "")
    assert source(db, no_box).health == SourceHealth.DISABLED


def test_an_unreachable_server_is_transient(db: Database, mail_settings: Settings, dovecot: Dovecot) -> None:
    from email_servers import free_port

    source_id = add_source(db, dovecot, imap_port=free_port())
    run = pull(db, mail_settings, source_id)
    assert run.status == RunStatus.FAILED and "could not reach the IMAP server" in (run.error or "")
    assert source(db, source_id).health == SourceHealth.FAILING
