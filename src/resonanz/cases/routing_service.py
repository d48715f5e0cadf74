"""Reading routing and SLA settings (the admin pages, the API and the CLI share these)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.accounts.models import Team, TeamMember, User, UserLanguage, UserSkill
from resonanz.cases.routing_models import (
    AgentStatus,
    Availability,
    BusinessCalendar,
    CalendarHoliday,
    RoutingRule,
    RoutingTeam,
    SlaEvent,
    SlaPolicy,
)
from resonanz.cases.routing_wording import Translate, english, reason_texts
from resonanz.clock import now
from resonanz.errors import NotFoundError


def list_rules(session: Session) -> Sequence[RoutingRule]:
    return session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)).all()


def list_policies(session: Session) -> Sequence[SlaPolicy]:
    order = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
    rows = session.scalars(select(SlaPolicy)).all()
    return sorted(rows, key=lambda p: (p.team_id is not None, p.team_id or 0, order.get(p.priority, 9)))


def list_calendars(session: Session) -> Sequence[BusinessCalendar]:
    return session.scalars(select(BusinessCalendar).order_by(BusinessCalendar.name)).all()


def get_calendar(session: Session, *, id: int) -> BusinessCalendar:
    row = session.get(BusinessCalendar, id)
    if row is None:
        raise NotFoundError(f"no calendar {id}")
    return row


def holidays_of(session: Session, *, calendar_id: int) -> list[tuple[date, str]]:
    rows = session.execute(
        select(CalendarHoliday.day, CalendarHoliday.name)
        .where(CalendarHoliday.calendar_id == calendar_id)
        .order_by(CalendarHoliday.day)
    )
    return [(d, n) for d, n in rows]


@dataclass
class AgentRow:
    user_id: int
    display_name: str
    email: str
    teams: list[str]
    skills: list[str]
    languages: list[str]
    availability: str
    until: datetime | None
    cap: int | None
    effective: str  # the availability now (an expired "away until" reads online)


def list_agents(session: Session, *, team_id: int | None = None) -> list[AgentRow]:
    """Active users who are in a team (or in ``team_id``), with their routing facts."""
    stmt = select(User).where(User.active.is_(True)).order_by(User.display_name, User.id)
    member_ids = select(TeamMember.user_id)
    if team_id is not None:
        member_ids = member_ids.where(TeamMember.team_id == team_id)
    users = session.scalars(stmt.where(User.id.in_(member_ids))).all()
    ids = [u.id for u in users]
    teams: dict[int, list[str]] = {}
    for uid, name in session.execute(
        select(TeamMember.user_id, Team.name)
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.user_id.in_(ids))
    ):
        teams.setdefault(uid, []).append(name)
    skills: dict[int, list[str]] = {}
    for uid, skill in session.execute(select(UserSkill.user_id, UserSkill.skill).where(UserSkill.user_id.in_(ids))):
        skills.setdefault(uid, []).append(skill)
    langs: dict[int, list[str]] = {}
    for uid, lang in session.execute(
        select(UserLanguage.user_id, UserLanguage.lang).where(UserLanguage.user_id.in_(ids))
    ):
        langs.setdefault(uid, []).append(lang)
    statuses = {s.user_id: s for s in session.scalars(select(AgentStatus).where(AgentStatus.user_id.in_(ids)))}
    at = now()
    out: list[AgentRow] = []
    for user in users:
        status = statuses.get(user.id)
        value = status.availability if status else Availability.online.value
        until = status.until if status else None
        effective = value if value == Availability.online or until is None or until > at else Availability.online.value
        out.append(
            AgentRow(
                user.id, user.display_name, user.email, sorted(teams.get(user.id, [])),
                sorted(skills.get(user.id, [])), sorted(langs.get(user.id, [])),
                value, until, status.cap if status else None, effective,
            )
        )  # fmt: skip
    return out


def team_settings(session: Session, *, team_id: int) -> RoutingTeam:
    """The team's routing settings (defaults when none were saved; not added to the session)."""
    if session.get(Team, team_id) is None:
        raise NotFoundError(f"no team {team_id}")
    return session.get(RoutingTeam, team_id) or RoutingTeam(team_id=team_id)


def sla_events_of(session: Session, *, case_id: int) -> Sequence[SlaEvent]:
    return session.scalars(select(SlaEvent).where(SlaEvent.case_id == case_id).order_by(SlaEvent.at, SlaEvent.id)).all()


def recent_sla_events(session: Session, *, limit: int = 50) -> Sequence[SlaEvent]:
    return session.scalars(select(SlaEvent).order_by(SlaEvent.at.desc(), SlaEvent.id.desc()).limit(limit)).all()


@dataclass
class CaseSlaView:
    """A case's SLA clock as the case view shows it."""

    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    first_responded_at: datetime | None
    resolved_at: datetime | None
    paused_at: datetime | None
    paused_minutes: int
    policy_id: int | None
    events: list[SlaEvent]
    #: the last decision's reasons as stored: fact dicts (old rows: English strings); see
    #: :func:`routing_reasons` for them in words
    routing_reason_facts: list[Any]

    def routing_reasons(self, translate: Translate = english) -> list[str]:
        """The reasons worded with ``translate`` (the reader's gettext; English by default)."""
        return reason_texts(self.routing_reason_facts, translate)


def case_sla(session: Session, *, case: Any) -> CaseSlaView:
    """Due times, pause state, warnings/breaches and the last routing decision's reasons."""
    from resonanz.cases.routing import last_decision
    from resonanz.cases.routing_models import CaseSla

    clock = session.get(CaseSla, case.id)
    decision = last_decision(session, case_id=case.id)
    return CaseSlaView(
        first_response_due_at=case.first_response_due_at,
        resolution_due_at=case.resolution_due_at,
        first_responded_at=case.first_responded_at,
        resolved_at=case.resolved_at,
        paused_at=clock.paused_at if clock else None,
        paused_minutes=clock.paused_minutes if clock else 0,
        policy_id=clock.policy_id if clock else None,
        events=list(sla_events_of(session, case_id=case.id)),
        routing_reason_facts=list(decision.reason_facts) if decision else [],
    )
