"""The care inbox's "done when", end to end on the demo workspace in a real browser.

An English complaint arrives by e-mail in the demo's customer-service mailbox (a real IMAP server,
dovecot, pulled by the e-mail connector, then analysis and intake exactly as the worker runs them)
-> routing gives it to Customer service's colleague who speaks English *and* handles complaints,
with the reasons on the case page -> that agent signs in, finds it in /inbox, brings in a Billing
expert through the expert finder (note; the expert gets a notification), uses the suggested
knowledge answer, the policy check flags the phone number inline, the approval rule sends the draft
to the approver queue -> the manager signs in and approves on /approvals -> the outbox sends the
reply over SMTP (aiosmtpd on loopback), threaded under the customer's message, exactly once even
when the approval is posted again and the send job runs again -> the case page shows the reply in
the conversation, the SLA clock and the audit trail.

The browser workspace's server runs without worker threads, so the jobs a worker would run (pull
analysis, intake, the outbox send) are run here with :func:`drain`, the worker's own loop.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from resonanz.accounts.models import User
from resonanz.analysis.jobs import ANALYSIS_KIND
from resonanz.cases import outbox
from resonanz.cases.intake_plugin import INTAKE_KIND
from resonanz.cases.models import Case, CaseMention
from resonanz.cases.reply_models import OutboxEntry, Reply, ReplyStatus
from resonanz.cases.workflow_models import UserNotification
from resonanz.clock import now
from resonanz.config import Settings
from resonanz.db.database import Database, open_database
from resonanz.db.engine import transaction
from resonanz.demo.mail import MAIL_ADDRESS, MAIL_SOURCE
from resonanz.demo.routing import EMAIL_RULE
from resonanz.mentions.models import Mention
from resonanz.sources.actions import do_update_source
from resonanz.sources.models import Source
from resonanz.sources.pull import pull_source
from resonanz.sources.schemas import SourceUpdate
from resonanz.worker.runner import drain
from tests.browser.conftest import PEOPLE, Workspace, sign_in

pytestmark = pytest.mark.skipif(shutil.which("dovecot") is None, reason="dovecot is not installed")

CUSTOMER = "oliver.brown@mail.example"
COMPLAINT = (
    "Hello, this month you charged my card twice for the WelleAbo 49 subscription. This is unacceptable "
    "and I want a refund of the double payment now. The invoice shows the same amount two times. Oliver"
)
PHONE = "0171 2345678"


def _servers() -> ModuleType:
    """The e-mail connector tests' real-server helpers (their folder is not a package)."""
    if "email_servers" in sys.modules:
        return sys.modules["email_servers"]
    path = Path(__file__).resolve().parents[1] / "connectors" / "email" / "email_servers.py"
    spec = importlib.util.spec_from_file_location("email_servers", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["email_servers"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def mail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    """dovecot (the demo mailbox) and aiosmtpd (the outgoing server) on loopback."""
    servers = _servers()
    monkeypatch.setenv("RESONANZ_EMAIL_PASSWORD", servers.PASSWORD)
    dovecot_gen = servers.start_dovecot(tmp_path)
    dovecot = next(dovecot_gen)
    smtp_gen = servers.start_smtp(dovecot)
    smtp = next(smtp_gen)
    try:
        yield dovecot, smtp
    finally:
        for gen in (smtp_gen, dovecot_gen):
            gen.close()


@pytest.fixture
def database(workspace: Workspace) -> Iterator[Database]:
    db = open_database(Settings(database_url=workspace.database_url), migrate=False)
    yield db
    db.dispose()


def complaint(message_id: str, subject: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Oliver Brown <{CUSTOMER}>"
    msg["To"] = MAIL_ADDRESS
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now())
    msg["Message-ID"] = f"<{message_id}>"
    msg.set_content(COMPLAINT)
    return msg.as_bytes()


def receive_complaint(db: Database, mail: tuple[Any, Any], message_id: str, subject: str) -> int:
    """The operator points the demo mailbox at this machine's servers; the complaint lands in it and
    is pulled, analysed and taken in; returns the case's id."""
    dovecot, smtp = mail
    with transaction(db.sessions) as session:
        source = session.scalars(select(Source).where(Source.name == MAIL_SOURCE)).one()
        config = {"imap_port": dovecot.port, "username": _servers().USER, "smtp_port": smtp.port}
        do_update_source(session, source=source, data=SourceUpdate(config=config))
        source_id = source.id
    dovecot.deliver(complaint(message_id, subject))
    run = pull_source(db.sessions, source_id=source_id, settings=db.settings)
    assert run.new == 1, run.error
    drain(db, kinds=[ANALYSIS_KIND])
    drain(db, kinds=[INTAKE_KIND])
    with db.sessions() as session:
        case_id = session.scalar(
            select(CaseMention.case_id)
            .join(Mention, Mention.id == CaseMention.mention_id)
            .where(Mention.platform == "email", Mention.external_id == message_id)
        )
    assert case_id is not None, "intake opened no case for the complaint"
    return int(case_id)


def send_queued(db: Database) -> None:
    """What the worker does with the outbox: run the send jobs that are due."""
    drain(db, kinds=[outbox.SEND_KIND])


def test_a_complaint_by_email_is_routed_answered_approved_and_sent_once(
    new_context: Callable[..., Any], database: Database, mail: tuple[Any, Any]
) -> None:
    db = database
    _, smtp = mail
    message_id = f"complaint-{uuid.uuid4().hex[:10]}@mail.example"
    subject = f"Charged twice for my WelleAbo 49 ({uuid.uuid4().hex[:6]})"
    case_id = receive_complaint(db, mail, message_id, subject)

    # -- the agent signs in on the login page and finds the case in the inbox ----------------------
    agent: Page = new_context().new_page()
    sign_in(agent, PEOPLE["agent"])
    agent.goto(f"/inbox?view=mine&q={subject.split('(')[1].rstrip(')')}")
    agent.locator(f'[data-case-row][data-case-id="{case_id}"] [data-case-link]').click()
    expect(agent).to_have_url(re.compile(rf"/inbox/cases/{case_id}$"))
    expect(agent.locator("#case-heading")).to_contain_text(subject)
    # routed by language and skill, with the reasons
    expect(agent.locator("[data-assignee]")).to_contain_text("Jonas Weber")
    expect(agent.locator("[data-team]")).to_have_text("Customer service")
    reasons = agent.locator("[data-routing-reasons]")
    expect(reasons).to_contain_text(EMAIL_RULE)
    # Jonas reads German (the demo's agent): routing's reasons are worded in the reader's language
    expect(reasons).to_contain_text("zugewiesen an Jonas Weber (Demo): Kenntnisse complaint; spricht en")
    expect(agent.locator('[data-sla-first="open"]')).to_be_visible()

    # -- the expert finder: a Billing colleague, brought in with a note, is notified ---------------
    agent.locator("[data-experts-panel] a").click()
    expert = agent.locator("[data-expert]").filter(has_text="Tom Hughes")
    expect(expert).to_contain_text("Billing")
    expect(expert).to_contain_text("refund")
    expert.locator("[data-expert-note]").fill("Please check the double charge on the card")
    expert.locator("[data-bring-in]").click()
    expect(agent).to_have_url(re.compile(rf"/inbox/cases/{case_id}\?done=expert$"))
    expect(agent.locator("[data-notes]")).to_contain_text(
        "@demo-billing-en brought in as an expert: Please check the double charge on the card"
    )
    with db.sessions() as session:
        tom = session.scalars(select(User).where(User.email.startswith("demo-billing-en@"))).one()
        told = session.scalars(
            select(UserNotification).where(UserNotification.user_id == tom.id, UserNotification.case_id == case_id)
        ).all()
        assert len(told) == 1 and told[0].read_at is None

    # -- a suggested knowledge answer, the policy check flags the phone number inline -------------
    composer = agent.locator("[data-care-panel] [data-care-composer]")
    expect(composer).to_be_visible(timeout=15_000)
    suggestion = composer.locator('[data-suggestion-kind="article"]').first
    expect(suggestion).to_contain_text("Charged twice: refunds of double payments")
    expect(suggestion.locator("[data-reasons]")).to_contain_text("shares words: charged, double, twice")
    suggestion.locator("[data-use-suggestion]").click()
    text = agent.locator("[data-care-text]")
    expect(text).to_have_value(re.compile("refunded automatically within 5 working days"))
    text.press("End")
    text.press_sequentially(f" Or call our billing team: {PHONE}", delay=5)
    agent.locator('[data-care-form] button[value="check"]').click(timeout=60_000)  # loads the classifiers
    expect(agent.locator('[data-findings] [data-finding="personal_data"]')).to_be_visible()
    agent.locator("[data-care-submit]").click(timeout=60_000)
    waiting = agent.locator('[data-reply-status="pending_approval"]')
    expect(waiting).to_be_visible()
    expect(waiting).to_contain_text("personal_data")
    expect(waiting).to_contain_text("joined less than 14 days ago")  # the demo's approval rule for new colleagues
    send_queued(db)
    assert smtp.received == [], "nothing may leave before the approval"

    # -- a different person, the approver, signs in and approves ----------------------------------
    approver: Page = new_context().new_page()
    sign_in(approver, PEOPLE["manager"])
    approver.goto("/approvals")
    card = approver.locator("[data-approval]").filter(has_text=subject)
    expect(card.locator('[data-finding="personal_data"]')).to_be_visible()
    expect(card.locator('[data-approval-reason="new_agent"]')).to_be_visible()
    card.locator('input[name="comment"]').fill("The billing hotline is public, fine")
    form = card.locator("form")
    action = str(form.get_attribute("action"))
    fields = {
        "csrf_token": str(form.locator('input[name="csrf_token"]').input_value()),
        "text": form.locator("textarea").input_value(),
        "comment": "again",
        "action": "approve",
    }
    card.locator('button[value="approve"]').click(timeout=30_000)
    expect(approver.locator('[data-done="queued"]')).to_be_visible()
    # the approval posted a second time (a double click, a resubmitted form) is refused
    again = approver.request.post(action, form=fields, max_redirects=0)
    assert again.status == 409, again.status
    # the worker sends; a second run and a second try of the same entry send nothing more
    send_queued(db)
    send_queued(db)
    with db.sessions() as session:
        reply = session.scalars(select(Reply).where(Reply.case_id == case_id)).one()
        entry = session.scalars(select(OutboxEntry).where(OutboxEntry.reply_id == reply.id)).one()
        assert reply.status == ReplyStatus.sent and entry.status == "sent"
        reply_id, entry_id = reply.id, entry.id
    assert outbox.send_entry(db.sessions, outbox_id=entry_id, settings=db.settings).status == "skipped"

    # -- the e-mail, once, threaded under the complaint ------------------------------------------
    to_customer = [message for rcpts, message in smtp.received if CUSTOMER in rcpts]
    assert len(to_customer) == 1, [m["To"] for _, m in smtp.received]
    sent = to_customer[0]
    assert sent["To"] == CUSTOMER
    assert sent["In-Reply-To"] == f"<{message_id}>"
    assert f"<{message_id}>" in str(sent["References"]).split()
    assert sent["Subject"] == f"Re: {subject}"
    assert MAIL_ADDRESS in str(sent["From"])
    body = sent.get_body(("plain",)).get_content()
    assert "refunded automatically within 5 working days" in body and PHONE in body

    # -- the case page: the reply in the conversation, the SLA clock, the audit trail ------------
    agent.goto(f"/inbox/cases/{case_id}")
    ours = agent.locator(f'[data-sent-reply="{reply_id}"]')
    expect(ours).to_contain_text("refunded automatically within 5 working days")
    expect(ours).to_contain_text(PHONE)
    first = agent.locator('[data-sla-first="met"]')
    expect(first).to_be_visible()
    expect(first.locator("[data-sla-first-due]")).to_contain_text(re.compile(r"\d"))
    expect(first.locator("[data-sla-first-done]")).to_contain_text(re.compile(r"\d"))
    with db.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.first_responded_at is not None and case.first_response_due_at is not None
        assert case.first_responded_at <= case.first_response_due_at
    audit = agent.locator("[data-audit]")
    expect(audit.locator('[data-audit-action="case.created"]')).to_contain_text("Jonas Weber")  # routed on intake
    expect(audit.locator('[data-audit-action="case.expert_added"]')).to_contain_text("Tom Hughes")
    expect(audit.locator('[data-audit-action="reply.approve"]')).to_contain_text("Maria Becker")
    expect(audit.locator('[data-audit-action="reply.sent"]')).to_have_count(1)
