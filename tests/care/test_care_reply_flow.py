"""Drafts, submit, approval rules, approve/reject, and the one-answer-per-message rule, on the real
database (SQLite by default, PostgreSQL with RESONANZ_TEST_DATABASE_URL)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.cases import approvals, replies
from resonanz.cases.reply_models import OutboxEntry, Reply, ReplyStatus
from resonanz.clock import now
from resonanz.db.database import Database
from resonanz.errors import ConflictError, InputError, PermissionDeniedError
from resonanz.mentions.models import Mention
from tests.care.care_factory import make_case, make_source
from tests.support.accounts_factory import make_user


@dataclass(frozen=True)
class Who:
    user_id: int


@pytest.fixture
def hook(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESONANZ_OUTBOUND_WEBHOOK_SECRET", "s3cret")
    make_source(session, kind="outbound_webhook", config={"url": "http://127.0.0.1:9/replies"})
    session.commit()


def agent(session: Session, role: str = "agent") -> Who:
    return Who(make_user(session, role=role).id)


def test_a_plain_reply_goes_straight_to_the_outbox(session: Session, hook: None) -> None:
    case = make_case(session)
    me = agent(session)
    draft = replies.do_save_draft(session, case=case, text="Hallo, wir kümmern uns darum.", actor=me)
    replies.do_submit(session, reply=draft, actor=me)
    session.commit()
    assert draft.status == ReplyStatus.queued and draft.approval_reasons == []
    entry = session.scalar(select(OutboxEntry).where(OutboxEntry.reply_id == draft.id))
    assert entry is not None and entry.idempotency_key == f"rz-outbox-{entry.id}"
    assert entry.request["in_reply_to"].startswith("post-") and entry.request["text"] == draft.text


def test_autosave_keeps_the_newest_text_and_refuses_a_stale_save(session: Session, hook: None) -> None:
    case = make_case(session)
    me = agent(session)
    draft = replies.do_save_draft(session, case=case, text="Hal", actor=me)
    seen = draft.version
    replies.do_save_draft(session, case=case, reply=draft, text="Hallo Anna", expected_version=seen, actor=me)
    session.commit()
    with pytest.raises(ConflictError):
        replies.do_save_draft(session, case=case, reply=draft, text="old tab", expected_version=seen, actor=me)
    assert replies.current_draft(session, case_id=case.id, author_id=me.user_id).text == "Hallo Anna"  # type: ignore[union-attr]
    with pytest.raises(PermissionDeniedError):
        replies.do_save_draft(session, case=case, reply=draft, text="not mine", actor=agent(session))


def test_phone_number_routes_to_approval_and_the_author_cannot_approve(session: Session, hook: None) -> None:
    case = make_case(session)
    author, approver = agent(session), agent(session, "manager")
    draft = replies.do_save_draft(session, case=case, text="Rufen Sie uns an: 0171 2345678", actor=author)
    replies.do_submit(session, reply=draft, actor=author)
    session.commit()
    assert draft.status == ReplyStatus.pending_approval
    assert [r["kind"] for r in draft.approval_reasons] == ["policy"]
    assert replies.list_pending_approval(session) == [draft]
    with pytest.raises(PermissionDeniedError, match="another colleague"):
        replies.do_approve(session, reply=draft, actor=author)
    replies.do_approve(session, reply=draft, actor=approver, comment="ok, Hotline ist öffentlich")
    session.commit()
    assert draft.status == ReplyStatus.queued and draft.approver_id == approver.user_id


def test_reject_needs_a_comment_and_returns_the_draft(session: Session, hook: None) -> None:
    case = make_case(session, priority="urgent")
    approvals.do_save_rule(session, name="risky", kind="high_risk", params={"priority": "high"}, actor=None)
    author, approver = agent(session), agent(session, "manager")
    draft = replies.do_save_draft(session, case=case, text="Wir prüfen das.", actor=author)
    replies.do_submit(session, reply=draft, actor=author)
    assert draft.status == ReplyStatus.pending_approval and "urgent" in draft.approval_reasons[0]["reason"]
    with pytest.raises(InputError):
        replies.do_reject(session, reply=draft, actor=approver, comment="  ")
    replies.do_reject(session, reply=draft, actor=approver, comment="Bitte konkreter")
    assert draft.status == ReplyStatus.rejected
    replies.do_save_draft(session, case=case, reply=draft, text="Wir prüfen das bis Freitag.", actor=author)
    assert draft.status == ReplyStatus.draft


def test_rules_new_agent_crisis_and_brand(session: Session, hook: None) -> None:
    approvals.do_save_rule(session, name="new", kind="new_agent", params={"days": 30}, actor=None)
    approvals.do_save_rule(session, name="crisis", kind="crisis", params={}, actor=None)
    case = make_case(session)
    me = agent(session)  # created just now: younger than 30 days
    draft = replies.do_save_draft(session, case=case, text="Danke für den Hinweis.", actor=me)
    approvals.do_set_setting(session, key=approvals.CRISIS_MODE, value=True, actor=None)
    kinds = {r["kind"] for r in approvals.approval_reasons(session, reply=draft, case=case)}
    assert kinds == {"new_agent", "crisis"}
    with pytest.raises(InputError):
        approvals.do_save_rule(session, name="b", kind="brand", params={"brand_ids": []}, actor=None)


def test_a_blocking_finding_stops_the_submit(session: Session, hook: None) -> None:
    case = make_case(session, platform="x")
    me = agent(session)
    draft = replies.do_save_draft(session, case=case, text="x" * 300, actor=me)
    with pytest.raises(InputError, match="x allows 280"):
        replies.do_submit(session, reply=draft, actor=me)


def test_no_publisher_is_a_clear_conflict(session: Session) -> None:
    case = make_case(session, platform="somewhere")
    me = agent(session)
    draft = replies.do_save_draft(session, case=case, text="Hallo", actor=me)
    with pytest.raises(ConflictError, match="no way to send replies on somewhere"):
        replies.do_submit(session, reply=draft, actor=me)


def test_an_edited_or_deleted_post_is_pointed_out_before_sending(session: Session, hook: None) -> None:
    case = make_case(session)
    me = agent(session)
    draft = replies.do_save_draft(session, case=case, text="Danke, wir schauen nach.", actor=me)
    mention = session.get(Mention, draft.in_reply_to_mention_id)
    assert mention is not None
    mention.revision = 2
    session.flush()
    with pytest.raises(ConflictError, match="edited the post"):
        replies.do_submit(session, reply=draft, actor=me)
    replies.do_submit(session, reply=draft, actor=me, confirm=True)
    assert draft.status == ReplyStatus.queued

    other = make_case(session)
    draft2 = replies.do_save_draft(session, case=other, text="Danke!", actor=me)
    session.delete(session.get(Mention, draft2.in_reply_to_mention_id))
    session.flush()
    session.refresh(draft2)
    with pytest.raises(ConflictError, match="deleted"):
        replies.do_submit(session, reply=draft2, actor=me)


def test_a_second_answer_to_the_same_message_is_a_conflict_unless_confirmed(session: Session, hook: None) -> None:
    case = make_case(session)
    anna, ben = agent(session), agent(session)
    first = replies.do_save_draft(session, case=case, text="Antwort von Anna", actor=anna)
    second = replies.do_save_draft(session, case=case, text="Antwort von Ben", actor=ben)
    replies.do_submit(session, reply=first, actor=anna)
    session.commit()
    with pytest.raises(ConflictError, match="already queued a reply"):
        replies.do_submit(session, reply=second, actor=ben)
    session.rollback()
    session.refresh(second)
    assert second.status == ReplyStatus.draft
    replies.do_submit(session, reply=second, actor=ben, confirm=True)
    assert second.status == ReplyStatus.queued


def test_two_agents_sending_at_the_same_moment_send_exactly_one(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESONANZ_OUTBOUND_WEBHOOK_SECRET", "s3cret")
    with db.sessions() as session:
        make_source(session, kind="outbound_webhook", config={"url": "http://127.0.0.1:9/replies"})
        case = make_case(session)
        people = [agent(session) for _ in range(4)]
        ids = [replies.do_save_draft(session, case=case, text=f"Antwort {i}", actor=p).id for i, p in enumerate(people)]
        session.commit()
    barrier = threading.Barrier(len(ids))
    outcomes: list[str] = []

    def send(reply_id: int, who: Who) -> None:
        with db.sessions() as s:
            reply = replies.get_reply(s, id=reply_id)
            s.commit()  # end the read (SQLite: BEGIN IMMEDIATE holds the write lock) before the race
            barrier.wait(timeout=30)
            try:
                replies.do_submit(s, reply=reply, actor=who)
                s.commit()
                outcomes.append("sent")
            except ConflictError as exc:
                s.rollback()
                outcomes.append(f"conflict: {exc}")

    threads = [threading.Thread(target=send, args=(i, p)) for i, p in zip(ids, people, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("sent") == 1, outcomes
    assert all("already queued a reply" in o for o in outcomes if o != "sent")
    with db.sessions() as session:
        assert session.query(OutboxEntry).count() == 1
        statuses = sorted(r.status for r in session.scalars(select(Reply)))
        assert statuses == ["draft", "draft", "draft", "queued"]


def test_knowledge_review_dates_move_on(session: Session) -> None:
    from resonanz.cases import knowledge

    a = knowledge.do_create_article(session, title="Lieferzeiten", body="Meist 3 Tage.", lang="de", actor=None)
    a.review_at = now() - timedelta(days=1)
    session.flush()
    assert knowledge.count_due_for_review(session) == 1
    knowledge.do_review_article(session, article=a, actor=None)
    assert knowledge.count_due_for_review(session) == 0
