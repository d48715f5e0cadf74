"""The demo's care set-up answers an e-mail complaint: the mailbox source is there (disabled, a local
mail server by default, the configured SMTP server when set), an English complaint that arrives in
it goes through the real ingest, analysis and intake to the English-speaking complaint handler of
Customer service, a Billing expert is found, and the knowledge base suggests the double-charge
article."""

from __future__ import annotations

from datetime import date
from email.message import EmailMessage
from email.utils import format_datetime

import pytest
from sqlalchemy import select

from resonanz.accounts.models import Team, TeamMember, User
from resonanz.analysis.jobs import ANALYSIS_KIND
from resonanz.cases import approvals, outbox
from resonanz.cases.experts import find_experts
from resonanz.cases.intake_plugin import INTAKE_KIND
from resonanz.cases.models import Case
from resonanz.cases.reply_models import Reply
from resonanz.cases.routing import last_decision
from resonanz.cases.suggestions import suggest
from resonanz.clock import now
from resonanz.config import Settings
from resonanz.connectors.base import RawItem
from resonanz.connectors.email.connector import EmailConnector
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.demo.knowledge import load_knowledge
from resonanz.demo.listening import load_listening
from resonanz.demo.mail import LOCAL_SMTP_PORT, MAIL_ADDRESS, MAIL_SOURCE, load_mail, mail_config
from resonanz.demo.routing import EMAIL_RULE, load_routing
from resonanz.demo.users import DEMO_USERS
from resonanz.sources.models import RunKind, Source
from resonanz.sources.pipeline import finish_run, ingest_items, start_run
from resonanz.worker.runner import drain

COMPLAINT = (
    "Hello, this month you charged my card twice for the WelleAbo 49 subscription. This is unacceptable "
    "and I want a refund of the double payment now. The invoice shows the same amount two times. Oliver"
)


def complaint_message(message_id: str = "complaint-1@mail.example") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Oliver Brown <oliver.brown@mail.example>"
    msg["To"] = MAIL_ADDRESS
    msg["Subject"] = "Charged twice for my WelleAbo 49"
    msg["Date"] = format_datetime(now())
    msg["Message-ID"] = f"<{message_id}>"
    msg["Content-Language"] = "en"
    msg.set_content(COMPLAINT)
    return msg.as_bytes()


def test_the_mailbox_uses_a_local_catcher_offline_and_the_configured_smtp_server_when_set() -> None:
    offline = mail_config(Settings())
    assert (offline["smtp_host"], offline["smtp_port"], offline["smtp_security"]) == ("127.0.0.1", LOCAL_SMTP_PORT,
                                                                                       "none")  # fmt: skip
    assert offline["smtp_auth"] is False and offline["address"] == MAIL_ADDRESS
    relay = mail_config(Settings(smtp_host="mail.nordwelle.example", smtp_port=2525, smtp_user="bot"))
    assert (relay["smtp_host"], relay["smtp_port"], relay["smtp_security"]) == ("mail.nordwelle.example", 2525,
                                                                                 "starttls")  # fmt: skip
    assert relay["smtp_auth"] is True and relay["smtp_username"] == "bot"
    assert relay["smtp_password_env"] == "RESONANZ_SMTP_PASSWORD"


@pytest.fixture
def care_demo(db: Database) -> Database:
    load_listening(db)
    load_routing(db, anchor=date(2026, 11, 20))
    load_knowledge(db)
    load_mail(db)
    load_mail(db)  # idempotent
    return db


def test_an_english_email_complaint_reaches_the_english_complaint_handler(care_demo: Database) -> None:
    db = care_demo
    with transaction(db.sessions) as session:
        source = session.scalars(select(Source).where(Source.name == MAIL_SOURCE)).one()
        assert source.enabled is False and source.kind == "email"  # nothing pulls it while offline
        run = start_run(session, kind=RunKind.PULL, source_id=source.id)
        item = RawItem(payload=complaint_message(), location="INBOX UID 1", content_type="message/rfc822",
                       context={"mailbox": "INBOX", "uidvalidity": 1, "uid": 1})  # fmt: skip
        counts = ingest_items(session, cls=EmailConnector, items=[item], run=run, max_item_bytes=10**6)
        finish_run(run, counts, warnings=[])
        assert run.new == 1
    drain(db, kinds=[ANALYSIS_KIND])
    drain(db, kinds=[INTAKE_KIND])
    with db.sessions() as session:
        case = session.scalars(select(Case).where(Case.platform == "email")).one()
        agent = session.scalars(select(User).where(User.email == DEMO_USERS[2].email)).one()
        team = session.scalars(select(Team).where(Team.name == "Customer service")).one()
        assert (case.team_id, case.assignee_id, case.lang) == (team.id, agent.id, "en")
        decision = last_decision(session, case_id=case.id)
        assert decision is not None
        reasons = " | ".join(decision.reasons)
        assert EMAIL_RULE in reasons
        assert "skills complaint; speaks en" in reasons, reasons
        # the team has a German-only complaint handler and an English colleague for questions
        members = session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team.id)).all()
        assert len(members) == 3
        assert case.first_response_due_at is not None

        experts = find_experts(session, case=case)
        billing = [e for e in experts if "Billing" in e.teams]
        assert billing and billing[0].display_name.startswith("Tom Hughes"), [e.display_name for e in experts]
        assert "refund" in billing[0].reasons[-1]

        top = suggest(session, case=case)[0]
        assert top.kind == "article" and top.title.startswith("Charged twice"), top
        # a new colleague's reply goes to the approver queue (the demo's approval rule)
        reply = Reply(case_id=case.id, author_id=agent.id, text="Hi", findings=[], created_at=now(),
                      updated_at=now())  # fmt: skip
        reasons_for = approvals.approval_reasons(session, reply=reply, case=case)
        assert any(r["kind"] == "new_agent" for r in reasons_for)
        assert outbox.resolve_publisher(session, case=case).name == MAIL_SOURCE
