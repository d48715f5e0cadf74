"""apply_sla and the periodic SLA check on a real database: policies per team, the team's
calendar, pause/resume while pending, re-timing on a priority change, warnings and breaches
recorded once with an in-app notification and a queued e-mail."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resonanz.cases.routing_actions import do_save_calendar, do_save_sla_policy, do_set_holidays, do_set_team_settings
from resonanz.cases.routing_models import CaseSla, RoutingTeam, SlaEvent
from resonanz.cases.routing_tasks import SLA_CHECK, sla_check_task
from resonanz.cases.sla import CalendarError
from resonanz.cases.sla_service import apply_sla, check_slas
from resonanz.cases.workflow_models import UserNotification
from resonanz.clock import set_clock
from resonanz.db.database import Database
from resonanz.notifications.models import NotificationDelivery
from resonanz.worker.periodic import PERIODIC
from tests.routing.routing_support import make_agent, make_case, make_team

MON_9 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
OFFICE = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


class Clock:
    def __init__(self) -> None:
        self.at = MON_9

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> Iterator[Clock]:
    c = Clock()
    set_clock(c)
    yield c
    set_clock(None)


def _setup(session: Session) -> tuple[int, int]:
    agent = make_agent(session, "Agent")
    team = make_team(session, "Billing", [agent])
    cal = do_save_calendar(session, name="Berlin office", time_zone="Europe/Berlin", hours=OFFICE, actor=None)
    do_set_team_settings(
        session,
        team_id=team.id,
        manager_id=None,
        escalation_team_id=None,
        calendar_id=cal.id,
        default_cap=None,
        actor=None,
    )
    do_save_sla_policy(
        session, team_id=None, priority="normal", first_response_minutes=60, resolution_minutes=600, actor=None
    )
    do_save_sla_policy(session, team_id=team.id, priority="normal", first_response_minutes=120, resolution_minutes=960,
                       warn_before_minutes=30, actor=None)  # fmt: skip
    do_save_sla_policy(
        session, team_id=team.id, priority="urgent", first_response_minutes=30, resolution_minutes=240, actor=None
    )
    return team.id, agent.id


def test_due_times_from_the_team_policy_in_business_hours(session: Session, clock: Clock) -> None:
    team_id, agent_id = _setup(session)
    case = make_case(
        session, at=datetime(2026, 11, 27, 15, 0, tzinfo=UTC), team_id=team_id, assignee_id=agent_id
    )  # Fri 16:00
    apply_sla(session, case=case)
    assert case.first_response_due_at == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # Mon 10:00 Berlin
    assert case.resolution_due_at == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 16 business hours
    other = make_case(session, at=datetime(2026, 11, 27, 15, 0, tzinfo=UTC))  # no team: default policy, 24/7 UTC
    apply_sla(session, case=other)
    assert other.first_response_due_at == datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    case.priority = "urgent"
    apply_sla(session, case=case)
    assert case.first_response_due_at == datetime(2026, 11, 27, 15, 30, tzinfo=UTC)
    case.priority = "low"  # no policy: no due times
    apply_sla(session, case=case)
    assert case.first_response_due_at is None and case.resolution_due_at is None


def test_holidays_of_the_team_calendar_count(session: Session, clock: Clock) -> None:
    team_id, _ = _setup(session)
    cal_id = session.get(RoutingTeam, team_id).calendar_id  # type: ignore[union-attr]
    do_set_holidays(session, calendar_id=cal_id, add=[(datetime(2026, 11, 30).date(), "Test holiday")], actor=None)
    case = make_case(session, at=datetime(2026, 11, 27, 15, 0, tzinfo=UTC), team_id=team_id)
    apply_sla(session, case=case)
    assert case.first_response_due_at == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Monday skipped


def test_pending_pauses_the_clock(session: Session, clock: Clock) -> None:
    team_id, _ = _setup(session)
    case = make_case(session, at=MON_9, team_id=team_id)
    apply_sla(session, case=case)
    assert case.resolution_due_at == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)  # Tue 17:00 Berlin
    clock.at = MON_9 + timedelta(hours=1)
    case.status = "pending"
    apply_sla(session, case=case)
    sla = session.get(CaseSla, case.id)
    assert sla is not None and sla.paused_at == clock.at
    clock.at = MON_9 + timedelta(days=1, hours=2)  # Tue 11:00: paused Mon 10-17 + Tue 9-11 = 9 business hours
    case.status = "open"
    apply_sla(session, case=case)
    assert sla.paused_at is None and sla.paused_minutes == 9 * 60
    # Tue 17:00 + 9 business hours = Wed 9-17 (8 h) + Thu 9-10 (1 h): Thu 10:00 Berlin
    assert case.resolution_due_at == datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    # a second apply with nothing changed changes nothing
    apply_sla(session, case=case)
    assert sla.paused_minutes == 9 * 60


def test_warnings_then_breaches_recorded_once_with_notifications(session: Session, clock: Clock, db: Database) -> None:
    team_id, agent_id = _setup(session)
    case = make_case(session, at=MON_9, team_id=team_id, assignee_id=agent_id, status="open")
    apply_sla(session, case=case)  # first response due Mon 11:00 Berlin, warn from 10:30
    clock.at = MON_9 + timedelta(minutes=60)
    assert check_slas(session).warnings == 0
    clock.at = MON_9 + timedelta(minutes=95)
    settings = db.settings.model_copy(update={"smtp_host": "127.0.0.1"})
    result = check_slas(session, settings=settings)
    assert (result.warnings, result.breaches, result.notified) == (1, 0, 1)
    assert check_slas(session, settings=settings).warnings == 0  # idempotent
    clock.at = MON_9 + timedelta(minutes=121)
    assert check_slas(session).breaches == 1
    assert check_slas(session).breaches == 0
    kinds = set(session.execute(select(SlaEvent.target, SlaEvent.kind)).tuples())
    assert kinds == {("first_response", "warning"), ("first_response", "breach")}
    notes = session.scalars(select(UserNotification.kind).where(UserNotification.user_id == agent_id)).all()
    assert sorted(notes) == ["sla_breach", "sla_warning"]
    assert session.scalar(select(func.count()).select_from(NotificationDelivery)) == 1
    case.first_responded_at = clock.at
    clock.at = MON_9 + timedelta(days=3)
    assert check_slas(session).breaches == 1  # the resolution target now
    case.status = "pending"
    apply_sla(session, case=case)
    clock.at += timedelta(days=3)
    assert check_slas(session).breaches == 0  # paused: nothing new


def test_a_calendar_without_working_hours_is_refused_at_save(session: Session) -> None:
    with pytest.raises(CalendarError, match="no working hours"):
        do_save_calendar(session, name="never", time_zone="Europe/Berlin", hours={"mon": []}, actor=None)


def test_sla_check_is_a_periodic_job(db: Database, clock: Clock) -> None:
    assert PERIODIC[SLA_CHECK].every == timedelta(minutes=1)
    with db.sessions() as session:
        team_id, agent_id = _setup(session)
        case = make_case(session, at=MON_9, team_id=team_id, assignee_id=agent_id, status="open")
        apply_sla(session, case=case)
        session.commit()
    clock.at = MON_9 + timedelta(hours=5)
    assert sla_check_task(db, {}) == {"warnings": 0, "breaches": 1, "notified": 0}
    assert sla_check_task(db, {}) == {"warnings": 0, "breaches": 0, "notified": 0}
