"""SLA clocks of cases: due times, pauses, warnings and breaches.

:func:`apply_sla` is what the case core calls when a case is created or changes priority, team or
status. It recomputes the due times from scratch — start + target + paused business minutes, in
the team's calendar — so it is idempotent and a priority change simply re-times the case:

- the policy: enabled, the case's priority, the case's team (else the policy without a team);
  none: no due times;
- pending (waiting on the customer) pauses the clocks: ``case_sla.paused_at`` is set; leaving
  pending adds the business minutes spent paused to ``paused_minutes`` and moves the due times by
  as much;
- a resolved/closed case keeps its due times (metrics compare them with what happened).

:func:`check_slas` is the periodic job's body: for open, unpaused cases it records a warning
``warn_before_minutes`` (wall clock) before a due time and a breach once it passed — one
``sla_event`` row per (case, target, kind), so a repeated run records nothing twice — and queues
an e-mail to the assignee (or the team's manager) through the notifications outbox when SMTP is
configured. Never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from resonanz.accounts.models import User
from resonanz.cases.models import Case, CaseStatus
from resonanz.cases.routing_models import (
    BusinessCalendar,
    CalendarHoliday,
    CaseSla,
    RoutingTeam,
    SlaEvent,
    SlaEventKind,
    SlaPolicy,
    SlaTarget,
)
from resonanz.cases.sla import Calendar, CalendarError, add_business_minutes, business_minutes_between, parse_hours
from resonanz.clock import now


def calendar_from_row(session: Session, row: BusinessCalendar) -> Calendar:
    holidays = frozenset(session.scalars(select(CalendarHoliday.day).where(CalendarHoliday.calendar_id == row.id)))
    return Calendar(row.time_zone, parse_hours(row.hours or {}), holidays)


def team_calendar(session: Session, *, team_id: int | None) -> tuple[Calendar, int | None]:
    """The team's business calendar (round the clock in UTC when it has none or it is unusable)."""
    settings = session.get(RoutingTeam, team_id) if team_id is not None else None
    if settings is not None and settings.calendar_id is not None:
        row = session.get(BusinessCalendar, settings.calendar_id)
        if row is not None:
            try:
                return calendar_from_row(session, row), row.id
            except CalendarError:
                pass  # refused at save time; a row edited behind our back falls back
    return Calendar.always(), None


def policy_for(session: Session, *, team_id: int | None, priority: str) -> SlaPolicy | None:
    rows = list(
        session.scalars(
            select(SlaPolicy).where(
                SlaPolicy.enabled.is_(True),
                SlaPolicy.priority == priority,
                or_(SlaPolicy.team_id == team_id, SlaPolicy.team_id.is_(None)),
            )
        )
    )
    own = [r for r in rows if r.team_id is not None and r.team_id == team_id]
    chosen = own or rows
    return chosen[0] if chosen else None


def apply_sla(session: Session, *, case: Case) -> None:
    """Set ``first_response_due_at``/``resolution_due_at`` of ``case`` (see the module docstring)."""
    at = now()
    policy = policy_for(session, team_id=case.team_id, priority=case.priority)
    clock = session.get(CaseSla, case.id) if case.id is not None else None
    if policy is None:
        case.first_response_due_at = None
        case.resolution_due_at = None
        if clock is not None:
            clock.policy_id = None
        return
    calendar, calendar_id = team_calendar(session, team_id=case.team_id)
    if case.id is None:  # not flushed yet: due times from the start, no clock row to keep
        start = case.created_at or at
        case.first_response_due_at = add_business_minutes(calendar, start, policy.first_response_minutes)
        case.resolution_due_at = add_business_minutes(calendar, start, policy.resolution_minutes)
        return
    if clock is None:
        clock = CaseSla(case_id=case.id, started_at=case.created_at or at, paused_minutes=0)
        session.add(clock)
    clock.policy_id, clock.calendar_id = policy.id, calendar_id
    if case.status == CaseStatus.pending:
        if clock.paused_at is None:
            clock.paused_at = at
    elif clock.paused_at is not None:
        clock.paused_minutes += round(business_minutes_between(calendar, clock.paused_at, at))
        clock.paused_at = None
    extra = clock.paused_minutes
    case.first_response_due_at = add_business_minutes(calendar, clock.started_at, policy.first_response_minutes + extra)
    case.resolution_due_at = add_business_minutes(calendar, clock.started_at, policy.resolution_minutes + extra)
    session.flush()


@dataclass(frozen=True)
class SlaCheck:
    warnings: int
    breaches: int
    notified: int


_ACTIVE = (CaseStatus.new.value, CaseStatus.open.value)


def _due_events(case: Case, warn: timedelta, at: datetime) -> list[tuple[str, str, datetime]]:
    out: list[tuple[str, str, datetime]] = []
    targets = [(SlaTarget.first_response, case.first_response_due_at, case.first_responded_at)]
    targets.append((SlaTarget.resolution, case.resolution_due_at, case.resolved_at))
    for target, due, done in targets:
        if due is None or done is not None:
            continue
        if at >= due:
            out.append((target.value, SlaEventKind.breach.value, due))
        elif at >= due - warn:
            out.append((target.value, SlaEventKind.warning.value, due))
    return out


def check_slas(session: Session, *, at: datetime | None = None, settings: Any = None) -> SlaCheck:
    """Record due warnings and breaches (idempotent); queue e-mails when ``settings`` has SMTP."""
    at = at or now()
    horizon = at + timedelta(days=2)  # no policy warns more than two days ahead
    rows = session.execute(
        select(Case, CaseSla, SlaPolicy)
        .join(CaseSla, CaseSla.case_id == Case.id)
        .join(SlaPolicy, SlaPolicy.id == CaseSla.policy_id)
        .where(
            Case.status.in_(_ACTIVE),
            CaseSla.paused_at.is_(None),
            or_(
                (Case.first_responded_at.is_(None)) & (Case.first_response_due_at <= horizon),
                (Case.resolved_at.is_(None)) & (Case.resolution_due_at <= horizon),
            ),
        )
    ).all()
    if not rows:
        return SlaCheck(0, 0, 0)
    ids = [case.id for case, _, _ in rows]
    existing = {
        (cid, target, kind)
        for cid, target, kind in session.execute(
            select(SlaEvent.case_id, SlaEvent.target, SlaEvent.kind).where(SlaEvent.case_id.in_(ids))
        )
    }
    new: list[SlaEvent] = []
    for case, _clock, policy in rows:
        for target, kind, due in _due_events(case, timedelta(minutes=policy.warn_before_minutes), at):
            if (case.id, target, kind) in existing:
                continue
            if kind == SlaEventKind.warning and (case.id, target, SlaEventKind.breach.value) in existing:
                continue
            event = SlaEvent(
                case_id=case.id, target=target, kind=kind, due_at=due, at=at,
                team_id=case.team_id, assignee_id=case.assignee_id, notified=False,
            )  # fmt: skip
            session.add(event)
            new.append(event)
    session.flush()
    _in_app(session, new)
    notified = _notify(session, new, settings) if new and settings is not None else 0
    warnings = sum(1 for e in new if e.kind == SlaEventKind.warning)
    return SlaCheck(warnings=warnings, breaches=len(new) - warnings, notified=notified)


def _recipient_user(session: Session, event: SlaEvent) -> User | None:
    """The assignee, else the team's manager."""
    user_id = event.assignee_id
    if user_id is None and event.team_id is not None:
        team = session.get(RoutingTeam, event.team_id)
        user_id = team.manager_id if team else None
    user = session.get(User, user_id) if user_id is not None else None
    return user if user is not None and user.active else None


def _recipient(session: Session, event: SlaEvent) -> str | None:
    user = _recipient_user(session, event)
    return user.email if user is not None else None


def _describe(event: SlaEvent) -> str:
    what = "breached" if event.kind == SlaEventKind.breach else "is about to breach"
    return f"Case #{event.case_id}: {event.target.replace('_', ' ')} SLA {what}"


def _in_app(session: Session, events: list[SlaEvent]) -> None:
    """An in-app notification per event (the case core's notification table, when present)."""
    try:
        from resonanz.cases.workflow_models import UserNotification
    except ImportError:  # pragma: no cover - the case core is optional for this module
        return
    for event in events:
        user = _recipient_user(session, event)
        if user is not None:
            session.add(
                UserNotification(
                    user_id=user.id, kind=f"sla_{event.kind}", case_id=event.case_id,
                    text=_describe(event)[:500], created_at=event.at,
                )
            )  # fmt: skip
    session.flush()


def _notify(session: Session, events: list[SlaEvent], settings: Any) -> int:
    if not getattr(settings, "smtp_host", None):
        return 0
    try:
        from resonanz.notifications.actions import do_queue_delivery
        from resonanz.notifications.base import Notification
    except ImportError:  # the notifications area is optional
        return 0
    count = 0
    for event in events:
        to = _recipient(session, event)
        if to is None:
            continue
        subject = _describe(event)
        text = f"{subject}. Due at {event.due_at:%Y-%m-%d %H:%M} UTC."
        do_queue_delivery(
            session,
            message=Notification(
                subject=subject, text=text, to=[to], event="sla." + event.kind, link=f"/inbox/{event.case_id}"
            ),
            kind="email",
            ref_type="sla_event",
            ref_id=event.id,
        )
        event.notified = True
        count += 1
    return count
