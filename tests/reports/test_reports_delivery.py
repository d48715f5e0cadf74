"""Scheduled reports end to end: two ticks make one run, the e-mail reaches a real SMTP server
(aiosmtpd, started here) with the PDF attached; failures are recorded and retried or not."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import undefer

from resonanz import clock
from resonanz.audit.models import AuditEvent
from resonanz.db.database import Database
from resonanz.listening import rollups
from resonanz.reports.actions import do_create_report, do_send_again
from resonanz.reports.models import ReportRun, RunStatus, RunTrigger
from resonanz.reports.schemas import ReportCreate
from resonanz.reports.tasks import run_due, send_run
from tests.reports.reports_data import build
from tests.support.accounts_factory import make_user


@dataclass
class Mailbox:
    port: int = 0
    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    data_answer: str | None = None
    #: an answer to a message for one of these recipients (the others are accepted)
    refuse: dict[str, str] = field(default_factory=dict)

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        if self.data_answer:
            return self.data_answer
        for address in envelope.rcpt_tos:
            if address in self.refuse:
                return self.refuse[address]
        msg = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), msg))
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    box = Mailbox(port=_free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def frozen() -> Iterator[list[datetime]]:
    at = [datetime(2026, 3, 16, 7, 0, tzinfo=UTC)]  # Monday morning after the week of Mar 9
    clock.set_clock(lambda: at[0])
    yield at
    clock.set_clock(None)


def _setup(db: Database, smtp: Mailbox | None, *, english_reader: bool = False) -> None:
    db.settings = db.settings.model_copy(
        update={
            "smtp_host": "127.0.0.1" if smtp else None,
            "smtp_port": smtp.port if smtp else 25,
            "smtp_starttls": False,
        }
    )
    with db.sessions() as s:
        user = make_user(s, email="leiterin@example.org", language="de")
        readers = [user.id]
        if english_reader:
            readers.append(make_user(s, email="Analyst@Example.org", language="en", time_zone="America/New_York").id)
    with db.sessions() as s, s.begin():
        ws = build(s, days=14)
        rollups.rebuild(s)
        data = ReportCreate(
            name="Nordwelle weekly",
            brand_ids=[ws.brands["Nordwelle"]],
            period="weekly",
            recipient_user_ids=readers,
            recipient_emails=["Team@Example.org"],
            language="de",
            tz="Europe/Berlin",
        )
        report = do_create_report(s, data=data, actor=None)
        report.created_at = datetime(2026, 3, 9, 12, tzinfo=UTC)  # created during the week it will report


def _runs(db: Database) -> list[ReportRun]:
    with db.sessions() as s:
        return list(s.scalars(select(ReportRun).order_by(ReportRun.id)))


def test_two_ticks_send_one_report_with_the_pdf(db: Database, smtp: Mailbox, frozen: list[datetime]) -> None:
    _setup(db, smtp)
    first = run_due(db, {})
    second = run_due(db, {})
    assert first is not None and second is not None
    assert len(first["created"]) == 1 and second["created"] == [] and second["runs"] == {}
    (run,) = _runs(db)
    assert (run.status, run.trigger, run.attempts) == (RunStatus.sent, RunTrigger.schedule, 1)
    assert run.period_start == datetime(2026, 3, 8, 23, tzinfo=UTC)  # Monday Mar 9, 00:00 in Berlin
    assert run.sent_to == ["leiterin@example.org", "team@example.org"]
    assert run.summary["total"] == 21 and run.pdf_size and run.pdf_size > 1000
    assert len(smtp.received) == 1
    rcpts, msg = smtp.received[0]
    assert sorted(rcpts) == ["leiterin@example.org", "team@example.org"]
    assert msg["Subject"] == "Wochenbericht: Nordwelle weekly (9.–15. März 2026)"
    html = msg.get_body(("html",))
    assert html is not None
    body = html.get_content()
    assert "&lt;script&gt;" in body or "script" not in body  # snippets escaped
    assert "<script>" not in body
    (attachment,) = list(msg.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "Nordwelle-weekly-2026-03-09.pdf"
    pdf = attachment.get_content()
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Nordwelle weekly" in text and "21" in text
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "report.sent")) == 1

    frozen[0] += timedelta(days=7)  # the next Monday: the next week's report, once
    run_due(db, {})
    run_due(db, {})
    assert [r.status for r in _runs(db)] == [RunStatus.sent, RunStatus.sent] and len(smtp.received) == 2


def test_smtp_refusal_is_retried_then_given_up(db: Database, smtp: Mailbox, frozen: list[datetime]) -> None:
    _setup(db, smtp)
    smtp.data_answer = "451 4.3.0 try again later"
    run_due(db, {})
    (run,) = _runs(db)
    assert run.status == RunStatus.pending and "451" in (run.error or "") and run.attempts == 1
    smtp.data_answer = "554 5.7.1 rejected"
    run_due(db, {})
    (run,) = _runs(db)
    assert run.status == RunStatus.failed and "554" in (run.error or "") and run.attempts == 2
    assert run.pdf_size  # the PDF is kept and can be downloaded all the same
    smtp.data_answer = None
    with db.sessions() as s, s.begin():
        do_send_again(s, run=s.get_one(ReportRun, run.id), actor=None)
    result: Any = send_run(db, {"run_id": run.id})
    assert result["status"] == "sent" and len(smtp.received) == 1
    assert send_run(db, {"run_id": run.id}) == {"run_id": run.id, "status": "skipped"}


def test_without_smtp_the_run_fails_with_a_reason(db: Database, frozen: list[datetime]) -> None:
    _setup(db, None)
    run_due(db, {})
    (run,) = _runs(db)
    assert run.status == RunStatus.failed and "not configured" in (run.error or "")


def test_a_run_left_sending_is_marked_failed_not_resent(db: Database, smtp: Mailbox, frozen: list[datetime]) -> None:
    _setup(db, smtp)
    run_due(db, {})
    with db.sessions() as s, s.begin():
        run = s.scalars(select(ReportRun)).one()
        run.status, run.claimed_at = RunStatus.sending, frozen[0]
    frozen[0] += timedelta(minutes=31)
    result: Any = run_due(db, {})
    assert result["stale"] == 1 and len(smtp.received) == 1
    assert _runs(db)[0].status == RunStatus.failed


def _pdf_text(msg: EmailMessage) -> str:
    (attachment,) = list(msg.iter_attachments())
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(attachment.get_content())).pages)


def test_each_language_among_the_recipients_gets_its_own_email(
    db: Database, smtp: Mailbox, frozen: list[datetime]
) -> None:
    """A German report with an English-reading user: one e-mail in English (digest and PDF) to
    them, one in German to the German user and the extra address; the same numbers, the
    report's zone for both (its week and days are cut in Berlin)."""
    _setup(db, smtp, english_reader=True)
    run_due(db, {})
    (run,) = _runs(db)
    assert run.status == RunStatus.sent
    assert sorted(run.sent_to) == ["analyst@example.org", "leiterin@example.org", "team@example.org"]
    by_first = {sorted(rcpts)[0]: msg for rcpts, msg in smtp.received}
    assert sorted(sorted(rcpts) for rcpts, _ in smtp.received) == [
        ["analyst@example.org"],
        ["leiterin@example.org", "team@example.org"],
    ]
    english, german = by_first["analyst@example.org"], by_first["leiterin@example.org"]
    assert english["Subject"] == "Weekly report: Nordwelle weekly (Mar 9 – 15, 2026)"
    assert german["Subject"] == "Wochenbericht: Nordwelle weekly (9.–15. März 2026)"
    english_pdf, german_pdf = _pdf_text(english), _pdf_text(german)
    assert "Mentions" in english_pdf and "Erwähnungen" not in english_pdf
    assert "Erwähnungen" in german_pdf and "21" in english_pdf and "21" in german_pdf
    with db.sessions() as s:  # the stored PDF (for download) is the report's language
        stored = s.get_one(ReportRun, run.id, options=[undefer(ReportRun.pdf)]).pdf
    assert stored is not None
    assert "Erwähnungen" in "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(stored)).pages)


def test_a_retry_sends_only_to_the_language_not_reached(db: Database, smtp: Mailbox, frozen: list[datetime]) -> None:
    """The English e-mail is refused for a while: the German readers get theirs once, the
    English reader theirs on the retry; "send again" goes to everyone."""
    _setup(db, smtp, english_reader=True)
    smtp.refuse = {"analyst@example.org": "451 4.3.0 mailbox busy"}
    run_due(db, {})
    (run,) = _runs(db)
    assert run.status == RunStatus.pending and "451" in (run.error or "")
    assert run.sent_to == ["leiterin@example.org", "team@example.org"] and len(smtp.received) == 1
    smtp.refuse = {}
    run_due(db, {})
    (run,) = _runs(db)
    assert run.status == RunStatus.sent and run.attempts == 2
    assert [sorted(rcpts) for rcpts, _ in smtp.received] == [
        ["leiterin@example.org", "team@example.org"],
        ["analyst@example.org"],
    ]
    assert sorted(run.sent_to) == ["analyst@example.org", "leiterin@example.org", "team@example.org"]
    with db.sessions() as s, s.begin():
        do_send_again(s, run=s.get_one(ReportRun, run.id), actor=None)
    send_run(db, {"run_id": run.id})
    assert len(smtp.received) == 4  # both languages again
