"""Writing routing and SLA settings: rules, team settings, agent availability, SLA policies,
business calendars and holidays. Each ``do_*`` validates (clear errors with field paths), writes
one audit row in the caller's transaction, and never commits.

Loops are refused when saved: a rule whose forwards lead back to itself, a team whose escalation
chain leads back to itself. A calendar without working hours is refused when saved
(:class:`resonanz.cases.sla.CalendarError`), so no SLA computation can run into it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resonanz.accounts.models import Team, User
from resonanz.audit.actions import Actor, do_record
from resonanz.cases.models import CasePriority
from resonanz.cases.routing import compiled_rule, forward_cycle
from resonanz.cases.routing_models import (
    AgentStatus,
    Availability,
    BusinessCalendar,
    CalendarHoliday,
    RoutingRule,
    RoutingTeam,
    SlaPolicy,
)
from resonanz.cases.sla import Calendar, hours_to_json, parse_hours
from resonanz.clock import ensure_utc, now
from resonanz.errors import ConflictError, InputError, NotFoundError


def _rule_snapshot(rule: RoutingRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "filter": rule.filter_text,
        "team_id": rule.target_team_id,
        "forward_rule_id": rule.forward_rule_id,
        "enabled": rule.enabled,
        "position": rule.position,
    }


def get_rule(session: Session, *, id: int) -> RoutingRule:
    rule = session.get(RoutingRule, id)
    if rule is None:
        raise NotFoundError(f"no routing rule {id}")
    return rule


def _team(session: Session, team_id: int | None, location: str) -> int | None:
    if team_id is not None and session.get(Team, team_id) is None:
        raise InputError(f"no team {team_id}", location=location)
    return team_id


def do_save_rule(
    session: Session,
    *,
    id: int | None = None,
    name: str,
    filter_text: str,
    target_team_id: int | None,
    forward_rule_id: int | None = None,
    enabled: bool = True,
    position: int | None = None,
    actor: Actor | None,
) -> RoutingRule:
    """Create (``id`` None) or update a rule; the filter must compile, exactly one of team and
    forward is set, and a forward must not loop."""
    label = name.strip()
    if not label or len(label) > 100:
        raise InputError("a rule name has 1 to 100 characters", location="name")
    compiled_rule(filter_text)  # QuerySyntaxError is an InputError with the column
    if (target_team_id is None) == (forward_rule_id is None):
        raise InputError("choose a team or a rule to forward to (one of them)", location="target_team_id")
    _team(session, target_team_id, "target_team_id")
    if forward_rule_id is not None and session.get(RoutingRule, forward_rule_id) is None:
        raise InputError(f"no routing rule {forward_rule_id}", location="forward_rule_id")
    clash = session.scalar(select(RoutingRule.id).where(RoutingRule.name == label))
    if clash is not None and clash != id:
        raise ConflictError(f"a routing rule named {label!r} exists already")
    rule = get_rule(session, id=id) if id is not None else None
    before = _rule_snapshot(rule) if rule is not None else None
    if rule is None:
        top = session.scalar(select(func.max(RoutingRule.position))) or 0
        rule = RoutingRule(name=label, filter_text=filter_text, created_by_id=actor.user_id if actor else None,
                           created_at=now(), position=top + 10)  # fmt: skip
        session.add(rule)
    rule.name, rule.filter_text, rule.enabled = label, filter_text, enabled
    rule.target_team_id, rule.forward_rule_id = target_team_id, forward_rule_id
    if position is not None:
        rule.position = position
    rule.updated_at = now()
    session.flush()
    rules = {r.id: r for r in session.scalars(select(RoutingRule))}
    loop = forward_cycle(rules, rule.id)
    if loop is not None:
        names = " -> ".join(rules[i].name for i in loop)
        raise InputError(f"the forwards loop: {names}", location="forward_rule_id")
    do_record(session, actor=actor, action="routing_rule.update" if before else "routing_rule.create",
              object_type="routing_rule", object_id=rule.id, before=before, after=_rule_snapshot(rule))  # fmt: skip
    return rule


def do_delete_rule(session: Session, *, id: int, actor: Actor | None) -> None:
    rule = get_rule(session, id=id)
    before = _rule_snapshot(rule)
    session.delete(rule)
    session.flush()
    do_record(
        session, actor=actor, action="routing_rule.delete", object_type="routing_rule", object_id=id, before=before
    )


def do_set_team_settings(
    session: Session,
    *,
    team_id: int,
    manager_id: int | None,
    escalation_team_id: int | None,
    calendar_id: int | None,
    default_cap: int | None,
    actor: Actor | None,
) -> RoutingTeam:
    _team(session, team_id, "team_id")
    _team(session, escalation_team_id, "escalation_team_id")
    if manager_id is not None and session.get(User, manager_id) is None:
        raise InputError(f"no user {manager_id}", location="manager_id")
    if calendar_id is not None and session.get(BusinessCalendar, calendar_id) is None:
        raise InputError(f"no calendar {calendar_id}", location="calendar_id")
    if default_cap is not None and not 1 <= default_cap <= 10_000:
        raise InputError("a cap is 1 to 10,000 open cases", location="default_cap")
    chain, current = [team_id], escalation_team_id
    while current is not None:
        if current in chain:
            raise InputError("the escalation teams loop back to this team", location="escalation_team_id")
        chain.append(current)
        nxt = session.get(RoutingTeam, current)
        current = nxt.escalation_team_id if nxt else None
    row = session.get(RoutingTeam, team_id)
    before = None
    if row is None:
        row = RoutingTeam(team_id=team_id)
        session.add(row)
    else:
        before = {"manager_id": row.manager_id, "escalation_team_id": row.escalation_team_id,
                  "calendar_id": row.calendar_id, "default_cap": row.default_cap}  # fmt: skip
    row.manager_id, row.escalation_team_id = manager_id, escalation_team_id
    row.calendar_id, row.default_cap = calendar_id, default_cap
    session.flush()
    after = {"manager_id": manager_id, "escalation_team_id": escalation_team_id,
             "calendar_id": calendar_id, "default_cap": default_cap}  # fmt: skip
    do_record(
        session,
        actor=actor,
        action="routing_team.update",
        object_type="team",
        object_id=team_id,
        before=before,
        after=after,
    )
    return row


def do_set_availability(
    session: Session,
    *,
    user_id: int,
    availability: str,
    until: datetime | None = None,
    cap: int | None = None,
    actor: Actor | None,
) -> AgentStatus:
    """An agent's availability (until a time, optionally) and cap of open cases."""
    if session.get(User, user_id) is None:
        raise NotFoundError(f"no user {user_id}")
    try:
        value = Availability(availability)
    except ValueError as exc:
        raise InputError("availability is online, away or out_of_office", location="availability") from exc
    if cap is not None and not 0 <= cap <= 10_000:
        raise InputError("a cap is 0 to 10,000 open cases", location="cap")
    if until is not None:
        until = ensure_utc(until)
    row = session.get(AgentStatus, user_id)
    before = None if row is None else {"availability": row.availability, "cap": row.cap}
    if row is None:
        row = AgentStatus(user_id=user_id)
        session.add(row)
    row.availability, row.until, row.cap, row.updated_at = value.value, until, cap, now()
    session.flush()
    after = {"availability": value.value, "until": until.isoformat() if until else None, "cap": cap}
    do_record(
        session,
        actor=actor,
        action="agent.availability",
        object_type="user",
        object_id=user_id,
        before=before,
        after=after,
    )
    return row


def do_save_sla_policy(
    session: Session,
    *,
    id: int | None = None,
    team_id: int | None,
    priority: str,
    first_response_minutes: int,
    resolution_minutes: int,
    warn_before_minutes: int = 30,
    enabled: bool = True,
    actor: Actor | None,
) -> SlaPolicy:
    _team(session, team_id, "team_id")
    if priority not in set(CasePriority):
        raise InputError("priority is low, normal, high or urgent", location="priority")
    for field, value in (
        ("first_response_minutes", first_response_minutes),
        ("resolution_minutes", resolution_minutes),
    ):
        if not 1 <= value <= 525_600:
            raise InputError("a target is 1 minute to 1 year (525,600 minutes)", location=field)
    if resolution_minutes < first_response_minutes:
        raise InputError("resolution cannot be due before the first response", location="resolution_minutes")
    if not 0 <= warn_before_minutes <= 2880:
        raise InputError("warn 0 to 2,880 minutes (two days) before", location="warn_before_minutes")
    same = select(SlaPolicy.id).where(
        SlaPolicy.priority == priority, SlaPolicy.team_id.is_(None) if team_id is None else SlaPolicy.team_id == team_id
    )
    clash = session.scalar(same)
    if clash is not None and clash != id:
        raise ConflictError("a policy for this team and priority exists already")
    policy = session.get(SlaPolicy, id) if id is not None else SlaPolicy()
    if policy is None:
        raise NotFoundError(f"no SLA policy {id}")
    policy.team_id, policy.priority, policy.enabled = team_id, priority, enabled
    policy.first_response_minutes, policy.resolution_minutes = first_response_minutes, resolution_minutes
    policy.warn_before_minutes = warn_before_minutes
    session.add(policy)
    session.flush()
    do_record(session, actor=actor, action="sla_policy.save", object_type="sla_policy", object_id=policy.id,
              after={"team_id": team_id, "priority": priority, "first_response_minutes": first_response_minutes,
                     "resolution_minutes": resolution_minutes, "warn_before_minutes": warn_before_minutes})  # fmt: skip
    return policy


def do_delete_sla_policy(session: Session, *, id: int, actor: Actor | None) -> None:
    policy = session.get(SlaPolicy, id)
    if policy is None:
        raise NotFoundError(f"no SLA policy {id}")
    session.delete(policy)
    session.flush()
    do_record(session, actor=actor, action="sla_policy.delete", object_type="sla_policy", object_id=id)


def do_save_calendar(
    session: Session,
    *,
    id: int | None = None,
    name: str,
    time_zone: str,
    hours: dict[str, Any],
    actor: Actor | None,
) -> BusinessCalendar:
    """Create or update a calendar; refused (CalendarError, an InputError) without working hours."""
    label = name.strip()
    if not label or len(label) > 100:
        raise InputError("a calendar name has 1 to 100 characters", location="name")
    parsed = parse_hours(hours)
    Calendar(time_zone, parsed)  # raises on an unknown zone or no working hours
    clash = session.scalar(select(BusinessCalendar.id).where(BusinessCalendar.name == label))
    if clash is not None and clash != id:
        raise ConflictError(f"a calendar named {label!r} exists already")
    row = session.get(BusinessCalendar, id) if id is not None else BusinessCalendar(created_at=now())
    if row is None:
        raise NotFoundError(f"no calendar {id}")
    row.name, row.time_zone, row.hours = label, time_zone, hours_to_json(parsed)
    session.add(row)
    session.flush()
    do_record(session, actor=actor, action="calendar.save", object_type="business_calendar", object_id=row.id,
              after={"name": label, "time_zone": time_zone, "hours": row.hours})  # fmt: skip
    return row


def do_delete_calendar(session: Session, *, id: int, actor: Actor | None) -> None:
    row = session.get(BusinessCalendar, id)
    if row is None:
        raise NotFoundError(f"no calendar {id}")
    session.delete(row)
    session.flush()
    do_record(session, actor=actor, action="calendar.delete", object_type="business_calendar", object_id=id)


def do_set_holidays(
    session: Session,
    *,
    calendar_id: int,
    add: Sequence[tuple[date, str]] = (),
    remove: Sequence[date] = (),
    actor: Actor | None,
) -> int:
    """Add (or rename) and remove holidays of a calendar; returns how many it now has."""
    if session.get(BusinessCalendar, calendar_id) is None:
        raise NotFoundError(f"no calendar {calendar_id}")
    for day in remove:
        row = session.get(CalendarHoliday, (calendar_id, day))
        if row is not None:
            session.delete(row)
    for day, name in add:
        label = name.strip()[:100] or day.isoformat()
        row = session.get(CalendarHoliday, (calendar_id, day))
        if row is None:
            session.add(CalendarHoliday(calendar_id=calendar_id, day=day, name=label))
        else:
            row.name = label
    session.flush()
    do_record(session, actor=actor, action="calendar.holidays", object_type="business_calendar", object_id=calendar_id,
              after={"added": [d.isoformat() for d, _ in add], "removed": [d.isoformat() for d in remove]})  # fmt: skip
    return session.scalar(select(func.count()).where(CalendarHoliday.calendar_id == calendar_id)) or 0
