"""The case page's record of what happened: a sent reply without a stored mention is shown in the
conversation (escaped) and one already linked into the thread is not shown twice; the SLA clock
says met / breached / running with the times; the audit trail lists the case's and its replies'
audit rows with the people named."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from resonanz.api.app import create_app
from resonanz.audit.actions import do_record
from resonanz.cases.models import Case, CaseMention
from resonanz.cases.reply_models import Reply, ReplyStatus
from resonanz.clock import now
from resonanz.config import Settings
from resonanz.db.database import Database
from tests.care.care_factory import make_case
from tests.support.accounts_factory import make_user, signed_in_client


@dataclass(frozen=True)
class Who:
    user_id: int


def _reply(case: Case, author_id: int, text: str, *, mention_id: int | None = None) -> Reply:
    stamp = now()
    return Reply(case_id=case.id, author_id=author_id, text=text, status=ReplyStatus.sent, findings=[],
                 approval_reasons=[], created_at=stamp, updated_at=stamp, sent_at=stamp,
                 sent_mention_id=mention_id)  # fmt: skip


@pytest.fixture
def page_of(settings: Settings, db: Database) -> TestClient:
    return signed_in_client(create_app(settings, database=db), db, "manager")


def test_a_sent_reply_without_its_post_is_shown_escaped_with_sla_and_audit(page_of: TestClient, db: Database) -> None:
    with db.sessions() as session:
        author = make_user(session, display_name="Jana Agent")
        approver = make_user(session, display_name="Paul Approver")
        case = make_case(session)
        case.first_response_due_at = now() + timedelta(hours=1)
        case.first_responded_at = now()
        reply = _reply(case, author.id, "Danke! <script>alert(2)</script>\n\nZweiter Absatz")
        session.add(reply)
        session.flush()
        do_record(session, actor=None, action="case.assigned", object_type="case", object_id=case.id,
                  after={"assignee_id": author.id})  # fmt: skip
        do_record(session, actor=Who(approver.id), action="reply.approve", object_type="case_reply", object_id=reply.id)
        do_record(session, actor=None, action="reply.sent", object_type="case_reply", object_id=reply.id)
        do_record(session, actor=None, action="reply.sent", object_type="case_reply", object_id=reply.id + 1000)
        session.commit()
        case_id, reply_id = case.id, reply.id
    html = page_of.get(f"/inbox/cases/{case_id}").text
    assert f'data-sent-reply="{reply_id}"' in html
    assert "<script>alert(2)</script>" not in html and "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "<p>Zweiter Absatz</p>" in html
    assert 'data-sla-first="met"' in html and "data-sla-first-done" in html and "data-sla-first-due" in html
    assert html.count('data-audit-action="reply.sent"') == 1  # another reply's row is not this case's
    assigned = html.split('data-audit-action="case.assigned"', 1)[1].split("</li>", 1)[0]
    assert "Jana Agent" in assigned
    approved = html.split('data-audit-action="reply.approve"', 1)[1].split("</li>", 1)[0]
    assert "Paul Approver" in approved


def test_a_reply_linked_into_the_thread_is_not_shown_twice_and_a_late_answer_is_breached(
    page_of: TestClient, db: Database
) -> None:
    with db.sessions() as session:
        author = make_user(session)
        case = make_case(session)
        mention_id = session.scalars(select(CaseMention.mention_id).where(CaseMention.case_id == case.id)).one()
        session.add(_reply(case, author.id, "Already in the thread", mention_id=mention_id))
        case.first_response_due_at = now() - timedelta(hours=2)
        late = make_case(session)
        late.first_response_due_at = now() - timedelta(hours=2)
        late.first_responded_at = now() - timedelta(hours=1)
        session.commit()
        case_id, late_id = case.id, late.id
    html = page_of.get(f"/inbox/cases/{case_id}").text
    assert "data-sent-reply" not in html
    assert 'data-sla-first="breached"' in html and 'data-sla-resolution="none"' in html
    assert 'data-sla-first="breached"' in page_of.get(f"/inbox/cases/{late_id}").text
