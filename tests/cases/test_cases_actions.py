"""The workflow actions: status changes along the table, assign/transfer, snooze and wake-up,
merge, tags, audit rows and timeline events, and optimistic concurrency (a stale version is
refused with who changed what; two sessions racing: exactly one wins)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resonanz.audit.models import AuditEvent
from resonanz.cases import actions, service
from resonanz.cases.models import Case, CaseMention
from resonanz.cases.states import InvalidTransitionError
from resonanz.cases.workflow_models import CaseEvent, UserNotification
from resonanz.clock import now, set_clock
from resonanz.db.database import Database
from resonanz.errors import ConflictError, InputError, NotFoundError
from tests.cases.cases_support import actor, make_mention, make_team
from tests.support.accounts_factory import make_user


def new_case(session: Session, **kw: object) -> Case:
    m = make_mention(session)
    c = actions.do_create_case(session, mentions=[m], route=False, actor=None, **kw)  # type: ignore[arg-type]
    session.commit()
    return c


def test_create_writes_audit_and_timeline(session: Session) -> None:
    c = new_case(session, subject="Lieferung fehlt")
    assert c.status == "new" and c.version == 1 and c.subject == "Lieferung fehlt"
    assert session.scalar(select(func.count()).where(CaseMention.case_id == c.id)) == 1
    kinds = [e.kind for e in service.timeline(session, case_id=c.id)]
    assert kinds == ["created"]
    audit = session.scalars(select(AuditEvent).where(AuditEvent.object_type == "case")).all()
    assert [a.action for a in audit] == ["case.created"]


def test_a_mention_joins_one_case_only(session: Session) -> None:
    m = make_mention(session)
    actions.do_create_case(session, mentions=[m], route=False, actor=None)
    with pytest.raises(ConflictError, match="belongs to a case"):
        actions.do_create_case(session, mentions=[m], route=False, actor=None)


def test_status_changes_follow_the_table(session: Session) -> None:
    agent = make_user(session)
    c = new_case(session)
    actions.do_change_status(session, case=c, status="open", expected_version=1, actor=actor(agent))
    actions.do_change_status(session, case=c, status="resolved", expected_version=2, actor=actor(agent))
    session.commit()
    assert c.resolved_at is not None and c.version == 3
    with pytest.raises(InvalidTransitionError, match="may go to: open, closed"):
        actions.do_change_status(session, case=c, status="pending", expected_version=3, actor=actor(agent))
    session.rollback()
    actions.do_change_status(session, case=c, status="open", expected_version=3, actor=actor(agent))
    assert c.resolved_at is None
    events = service.timeline(session, case_id=c.id)
    assert events[0].kind == "status" and events[0].data["before"] == "resolved" and events[0].data["after"] == "open"
    before_after = session.scalars(select(AuditEvent).where(AuditEvent.action == "case.status")).all()[-1]
    assert before_after.before == {"status": "resolved"} and before_after.after == {"status": "open"}


def test_stale_version_names_who_changed_what(session: Session) -> None:
    anna = make_user(session, display_name="Anna Agent")
    bert = make_user(session, display_name="Bert Agent")
    c = new_case(session)
    actions.do_change_status(session, case=c, status="open", expected_version=1, actor=actor(anna))
    session.commit()
    with pytest.raises(actions.StaleCaseError) as info:
        actions.do_assign(session, case=c, assignee_id=bert.id, expected_version=1, actor=actor(bert))
    err = info.value
    assert err.changed_by == "Anna Agent" and err.current_version == 2 and err.expected_version == 1
    assert "status: new -> open" in str(err) and "reload" in str(err)


@pytest.mark.parametrize("same_transaction", [False, True])
def test_two_sessions_racing_exactly_one_wins(db: Database, is_pg: bool, same_transaction: bool) -> None:
    """Two clients that both saw version 1 write at once. ``same_transaction``: each reads the case
    in the transaction it writes in, both reads before either write (PostgreSQL only: SQLite's
    writers hold the lock from BEGIN, so there the second read simply waits and sees version 2)."""
    if same_transaction and not is_pg:
        pytest.skip("SQLite serialises writers from BEGIN; covered by the other variant")
    with db.sessions() as s:
        c = new_case(s)
        case_id = c.id
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def work(target: str) -> None:
        with db.sessions() as s:
            try:
                if not same_transaction:
                    barrier.wait(timeout=10)
                with s.begin():
                    case = service.get_case(s, id=case_id)
                    if same_transaction:
                        barrier.wait(timeout=10)
                    actions.do_change_status(s, case=case, status=target, expected_version=1, actor=None)
                outcomes.append("won")
            except actions.StaleCaseError as exc:
                outcomes.append("stale")
                assert "reload" in str(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in ("open", "pending")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["stale", "won"]
    with db.sessions() as s:
        assert s.get(Case, case_id).version == 2  # type: ignore[union-attr]


def test_assign_notifies_and_transfer_moves_team(session: Session) -> None:
    lead = make_user(session, role="manager")
    agent = make_user(session)
    billing = make_team(session, "Billing", agent)
    c = new_case(session)
    actions.do_assign(session, case=c, assignee_id=agent.id, expected_version=1, actor=actor(lead))
    note = session.scalars(select(UserNotification).where(UserNotification.user_id == agent.id)).one()
    assert note.kind == "assigned" and note.case_id == c.id
    actions.do_transfer(session, case=c, team_id=billing.id, expected_version=2, actor=actor(lead))
    assert c.team_id == billing.id and c.assignee_id is None
    with pytest.raises(NotFoundError):
        actions.do_assign(session, case=c, assignee_id=999_999, expected_version=None, actor=None)
    with pytest.raises(NotFoundError):
        actions.do_transfer(session, case=c, team_id=999_999, expected_version=None, actor=None)


def test_snooze_and_periodic_wake_up(session: Session) -> None:
    c = new_case(session)
    with pytest.raises(InputError, match="future"):
        actions.do_snooze(session, case=c, until=now() - timedelta(minutes=1), expected_version=1, actor=None)
    until = now() + timedelta(hours=2)
    actions.do_snooze(session, case=c, until=until, expected_version=1, actor=None)
    session.commit()
    visible = service.CaseFilter(include_snoozed=False)
    assert service.count_cases(session, filters=visible) == 0
    assert actions.do_wake_due(session) == 0
    later = now() + timedelta(hours=3)
    set_clock(lambda: later)
    try:
        assert actions.do_wake_due(session) == 1
        session.commit()
        assert c.snoozed_until is None
        assert service.count_cases(session, filters=visible) == 1
        assert service.timeline(session, case_id=c.id)[0].kind == "woke"
    finally:
        set_clock(None)


def test_merge_moves_mentions_and_points_to_target(session: Session) -> None:
    a = new_case(session, tags=["billing"])
    b = new_case(session, tags=["refund"])
    actions.do_merge(session, case=a, into=b, expected_version=1, actor=None)
    session.commit()
    assert a.merged_into_id == b.id and a.status == "closed"
    assert len(service.conversation(session, case_id=b.id)) == 2
    assert b.tags == ["billing", "refund"]
    with pytest.raises(ConflictError, match="merged"):
        actions.do_merge(session, case=a, into=b, expected_version=None, actor=None)
    with pytest.raises(InputError, match="itself"):
        actions.do_merge(session, case=b, into=b, expected_version=None, actor=None)
    kinds = {e.kind for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == b.id))}
    assert "merged" in kinds


def test_tags_are_cleaned_and_limited(session: Session) -> None:
    c = new_case(session)
    actions.do_tag(session, case=c, add=[" Billing ", "billing", "VIP"], expected_version=1, actor=None)
    assert c.tags == ["billing", "vip"]
    actions.do_tag(session, case=c, remove=["VIP"], expected_version=2, actor=None)
    assert c.tags == ["billing"]
    with pytest.raises(InputError, match="at most 40"):
        actions.do_tag(session, case=c, add=["x" * 41], expected_version=None, actor=None)
    with pytest.raises(InputError, match="at most 20 tags"):
        actions.do_tag(session, case=c, add=[f"t{i}" for i in range(21)], expected_version=None, actor=None)


def test_first_response_opens_a_new_case_once(session: Session) -> None:
    c = new_case(session)
    actions.do_mark_first_response(session, case=c, actor=None)
    first = c.first_responded_at
    assert c.status == "open" and first is not None
    actions.do_mark_first_response(session, case=c, actor=None)
    assert c.first_responded_at == first
