"""Intake: which mentions need a response (each rule), conversation joining (thread, parent,
author + topic within the window), reopening a resolved case, follow-ups of closed ones, priority
with its reasons, idempotence, and the hook -> job path."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.analysis.models import AnalysisResult
from resonanz.cases import actions, service
from resonanz.cases.intake import IntakeResult, run_intake
from resonanz.cases.intake_plugin import INTAKE_KIND, mentions_matched
from resonanz.cases.intake_rules import IntakeRules, MentionFacts, priority_of, response_reasons
from resonanz.cases.models import Case, CasePriority
from resonanz.cases.tasks import intake_task
from resonanz.clock import now
from resonanz.db.database import Database
from resonanz.listening.models import Brand, Query, QueryMatch
from resonanz.sources.models import Source
from resonanz.worker.models import Job
from tests.cases.cases_support import T0, make_author, make_mention

RULES = IntakeRules(own_handles=frozenset({"nordwelle"}), query_ids=frozenset({7}))


def facts(**kw: object) -> MentionFacts:
    kw.setdefault("mention_id", 1)
    kw.setdefault("platform", "mastodon")
    return MentionFacts(**kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"intent": "question"}, ["intent:question"]),
        ({"intent": "complaint"}, ["intent:complaint"]),
        ({"intent": "praise"}, []),
        ({"needs_response": True}, ["needs_response"]),
        ({"sentiment": "negative", "followers": 50_000}, ["influential"]),
        ({"sentiment": "negative", "followers": 50}, []),
        ({"sentiment": "positive", "followers": 50_000}, []),
        ({"to_own_account": True}, ["own_account"]),
        ({"query_ids": [7]}, ["query"]),
        ({"query_ids": [8]}, []),
        ({"crisis_terms": ["Rückruf"]}, ["crisis"]),
        ({"intent": "question", "author_handle": "Nordwelle"}, []),  # our own post
        ({"intent": "question", "is_repost": True}, []),
    ],
)
def test_response_rules(kw: dict[str, object], expected: list[str]) -> None:
    assert response_reasons(facts(**kw), RULES) == expected


def test_priority_reasons_add_up() -> None:
    priority, reasons = priority_of(
        facts(intent="complaint", sentiment="negative", followers=120_000, risk_score=0.7, crisis_terms=["Datenleck"])
    )
    assert priority is CasePriority.urgent
    assert [(r["factor"], r["points"]) for r in reasons] == [
        ("intent", 20), ("sentiment", 15), ("reach", 30), ("risk", 20), ("crisis", 40),
    ]  # fmt: skip
    assert priority_of(facts(intent="question"))[0] is CasePriority.normal
    assert priority_of(facts(intent="complaint", sentiment="negative"))[0] is CasePriority.high
    assert priority_of(facts(needs_response=True))[0] is CasePriority.low


def run(session: Session, *ids: int, rules: IntakeRules = RULES) -> IntakeResult:
    result = run_intake(session, mention_ids=list(ids), rules=rules)
    session.flush()
    return result


def test_a_question_becomes_a_case_with_reasons(session: Session) -> None:
    m = make_mention(session, intent="complaint", sentiment="negative", text="Paket kaputt!")
    result = run(session, m.id)
    assert len(result.created) == 1
    case = session.get(Case, result.created[0])
    assert case is not None and case.priority == "high" and case.subject == "Paket kaputt!"
    factors = [r["factor"] for r in case.priority_reasons]
    assert factors[:2] == ["intent", "sentiment"] and factors[-1] == "rules"
    assert run(session, m.id).skipped == 1  # idempotent


def test_praise_does_not(session: Session) -> None:
    m = make_mention(session, intent="praise", needs_response=False, sentiment="positive")
    assert run(session, m.id).created == []


def test_crisis_term_from_the_analysis(session: Session) -> None:
    m = make_mention(session, intent="other", needs_response=False, sentiment="neutral", risk_score=0.5)
    session.add(AnalysisResult(mention_id=m.id, stage="crisis", version="2", revision=1,
                               result={"terms": ["Rückruf"]}, created_at=now()))  # fmt: skip
    result = run(session, m.id)
    case = session.get(Case, result.created[0])
    assert case is not None and {"factor": "crisis", "value": "Rückruf", "points": 40} in case.priority_reasons


def test_own_account_source_and_reply_to_our_post(session: Session) -> None:
    inbox = Source(name="Postfach", kind="email", config={"own_account": True}, created_at=now())
    session.add(inbox)
    session.flush()
    mail = make_mention(session, intent="other", needs_response=False, source_id=inbox.id, platform="email")
    ours = make_mention(session, author=make_author(session, handle="nordwelle"), intent="other", external_id="our1")
    reply = make_mention(session, intent="other", needs_response=False, parent="our1", minutes=1)
    reply.parent_id = ours.id
    session.flush()
    result = run(session, mail.id, ours.id, reply.id)
    assert len(result.created) == 2  # the mail and the reply; our own post is not a case


def test_thread_joins_and_the_author_thanks_without_new_case(session: Session) -> None:
    author = make_author(session)
    root = make_mention(session, author=author, external_id="root", intent="question")
    first = run(session, root.id).created[0]
    other = make_mention(session, thread="root", parent="root", intent="question", minutes=5)
    thanks = make_mention(session, author=author, thread="root", parent="root", intent="praise",
                          needs_response=False, minutes=10)  # fmt: skip
    bystander = make_mention(session, thread="root", parent="root", intent="praise", needs_response=False, minutes=11)
    result = run(session, other.id, thanks.id, bystander.id)
    assert result.created == [] and result.joined == {other.id: first, thanks.id: first}
    assert len(service.conversation(session, case_id=first)) == 3


def test_same_author_same_topic_within_window(session: Session) -> None:
    author = make_author(session)
    brand = Brand(name="Nordwelle", kind="own", created_at=now())
    session.add(brand)
    session.flush()
    q = Query(name="nw", brand_id=brand.id, text="nordwelle", created_at=now(), updated_at=now())
    session.add(q)
    session.flush()

    def matched(m_id: int, at_minutes: int) -> None:
        session.add(QueryMatch(query_id=q.id, mention_id=m_id, published_at=T0 + timedelta(minutes=at_minutes),
                               query_version=1))  # fmt: skip

    a = make_mention(session, author=author, intent="question")
    matched(a.id, 0)
    first = run(session, a.id).created[0]
    b = make_mention(session, author=author, intent="complaint", minutes=60 * 24)
    matched(b.id, 60 * 24)
    assert run(session, b.id).joined == {b.id: first}
    unrelated = make_mention(session, author=author, intent="question", minutes=60 * 25)  # no brand: other topic
    assert len(run(session, unrelated.id).created) == 1
    late = make_mention(session, author=author, intent="question", minutes=60 * 24 * 5)
    matched(late.id, 60 * 24 * 5)
    assert len(run(session, late.id).created) == 1  # outside the 72 h window


def test_resolved_reopens_closed_gets_a_follow_up(session: Session) -> None:
    author = make_author(session)
    root = make_mention(session, author=author, external_id="r1", intent="question")
    case = session.get(Case, run(session, root.id).created[0])
    assert case is not None
    actions.do_change_status(session, case=case, status="resolved", expected_version=None, actor=None)
    again = make_mention(session, author=author, thread="r1", parent="r1", intent="question", minutes=30)
    result = run(session, again.id)
    assert result.reopened == [case.id] and case.status == "open" and case.resolved_at is None
    actions.do_change_status(session, case=case, status="closed", expected_version=None, actor=None)
    third = make_mention(session, author=author, thread="r1", parent="r1", intent="complaint", minutes=60)
    result = run(session, third.id)
    assert len(result.created) == 1 and result.follow_ups == {result.created[0]: case.id}
    kinds = [e.kind for e in service.timeline(session, case_id=case.id)]
    assert "follow_up" in kinds


def test_joining_raises_priority_never_lowers(session: Session) -> None:
    author = make_author(session, followers=200_000)
    root = make_mention(session, author=author, external_id="p1", intent="question", sentiment="neutral")
    case = session.get(Case, run(session, root.id).created[0])
    assert case is not None and case.priority == "high"  # question 10 + reach 30
    angry = make_mention(session, author=author, thread="p1", intent="complaint", sentiment="negative", minutes=1)
    run(session, angry.id)
    assert case.priority == "urgent"
    calm = make_mention(session, author=author, thread="p1", intent="praise", sentiment="positive", minutes=2)
    run(session, calm.id)
    assert case.priority == "urgent"


def test_hook_enqueues_and_job_creates(db: Database) -> None:
    with db.sessions() as session:
        m = make_mention(session, intent="question")
        mentions_matched(session=session, mention_ids=[m.id, m.id])
        session.commit()
        job = session.scalars(select(Job).where(Job.kind == INTAKE_KIND)).one()
        assert job.payload == {"mention_ids": [m.id]}
    summary = intake_task(db, job.payload)
    assert summary is not None and summary["created"] == 1
    assert intake_task(db, job.payload)["created"] == 0  # type: ignore[index]
