"""Changing cases. Every ``do_*`` here runs inside the caller's transaction (the request, the job
or the hook commits it), checks the case's version, writes an audit row (:func:`do_record`, with
before and after) and a timeline event that live pages hear after commit (:mod:`.events`).

Optimistic concurrency: every write that a person makes from something they saw takes
``expected_version`` (the version the page or client read). When it is not the case's current
version, :class:`StaleCaseError` says who changed what meanwhile; and when two writers read the
same version at the same moment, the ORM's version column makes the second UPDATE match no row
(``StaleDataError``), which becomes the same error. Exactly one of two racing writers wins, on
SQLite (writers queue on the lock, the second reads the new version) and on PostgreSQL (the second
UPDATE waits for the first and then finds the version changed). ``expected_version=None`` means
"whatever is current" (the system: intake, snooze wake-ups).

Notes, presence and notifications live in :mod:`.collab`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from resonanz.accounts.models import Team, User
from resonanz.audit.actions import Actor, do_record
from resonanz.cases import sla_service
from resonanz.cases.events import record_event
from resonanz.cases.models import Case, CaseMention, CasePriority, CaseStatus
from resonanz.cases.routing import route_case
from resonanz.cases.states import check_transition
from resonanz.cases.workflow_models import CaseEvent, CaseEventKind, UserNotification
from resonanz.clock import ensure_utc, now
from resonanz.db.engine import READ_ONLY
from resonanz.errors import ConflictError, InputError, NotFoundError
from resonanz.mentions.models import Mention

MAX_TAGS = 20
MAX_TAG_LEN = 40


class StaleCaseError(ConflictError):
    """The case changed since the client read it; the message names who changed what, when."""

    def __init__(
        self,
        *,
        case_id: int,
        expected: int | None,
        current: int | None,
        changed_by: str | None = None,
        change: str | None = None,
        changed_at: datetime | None = None,
    ) -> None:
        self.case_id = case_id
        self.expected_version = expected
        self.current_version = current
        self.changed_by = changed_by
        self.change = change
        self.changed_at = changed_at
        who = f" by {changed_by}" if changed_by else ""
        what = f" ({change})" if change else ""
        when = f" at {changed_at:%Y-%m-%d %H:%M:%S} UTC" if changed_at else ""
        versions = f" (you saw version {expected}, it is now {current})" if current is not None else ""
        super().__init__(
            f"case {case_id} was changed{who}{when}{what} after you loaded it{versions}; "
            "reload it and apply your change again"
        )


def describe_event(kind: str, data: dict[str, Any]) -> str:
    """One line for a timeline event ("status: open -> pending"), in English for errors and logs."""
    if "before" in data or "after" in data:
        return f"{kind}: {data.get('before')} -> {data.get('after')}"
    return kind


def _actor_id(actor: Actor | None) -> int | None:
    return actor.user_id if actor is not None else None


def _last_change(conn: Any, case_id: int) -> tuple[int | None, Any]:
    current = conn.execute(select(Case.version).where(Case.id == case_id)).scalar()
    last = conn.execute(
        select(CaseEvent.kind, CaseEvent.data, CaseEvent.at, User.display_name)
        .outerjoin(User, User.id == CaseEvent.actor_id)
        .where(CaseEvent.case_id == case_id)
        .order_by(CaseEvent.id.desc())
        .limit(1)
    ).first()
    return current, last


def stale_error(
    session: Session, *, case_id: int, expected: int | None, fresh_connection: bool = False
) -> StaleCaseError:
    """Build the error from the latest committed change. After a failed flush the caller's
    transaction is unusable, so ``fresh_connection`` reads on a read-only connection of its own."""
    try:
        if fresh_connection:
            bind = session.get_bind()
            engine: Engine = bind.engine if isinstance(bind, Connection) else bind
            with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
                current, last = _last_change(conn, case_id)
        else:
            current, last = _last_change(session, case_id)
    except Exception:  # the message is a courtesy; the conflict itself must still be reported
        return StaleCaseError(case_id=case_id, expected=expected, current=None)
    if last is None:
        return StaleCaseError(case_id=case_id, expected=expected, current=current)
    kind, data, at, name = last
    return StaleCaseError(
        case_id=case_id,
        expected=expected,
        current=current,
        changed_by=name or "the system",
        change=describe_event(kind, data or {}),
        changed_at=ensure_utc(at) if at else None,
    )


def check_version(session: Session, case: Case, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != case.version:
        raise stale_error(session, case_id=case.id, expected=expected_version)


def _save(session: Session, case: Case, expected_version: int | None, *, sla: bool = False) -> None:
    """Flush the case's changes as ONE update (one new version): due times are recomputed (``sla``)
    with autoflush off, so the SLA service's reads do not flush a half-done change first."""
    case_id = case.id  # read now: after a failed flush the object cannot be loaded any more
    case.updated_at = now()
    try:
        if sla:
            with session.no_autoflush:
                apply_sla(session, case)
        session.flush()
    except StaleDataError as exc:
        raise stale_error(session, case_id=case_id, expected=expected_version, fresh_connection=True) from exc


def _log(
    session: Session,
    case: Case,
    *,
    kind: CaseEventKind,
    actor: Actor | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    do_record(
        session,
        actor=actor,
        action=f"case.{kind.value}",
        object_type="case",
        object_id=case.id,
        before=before,
        after=after,
    )
    payload = dict(data or {})
    if before is not None and after is not None and len(before) == 1 and len(after) == 1:
        payload.update(before=next(iter(before.values())), after=next(iter(after.values())))
    elif before is not None or after is not None:
        payload.update(before=before, after=after)
    record_event(session, case_id=case.id, kind=kind.value, actor_id=_actor_id(actor), data=payload)


# --- routing and SLA ------------------------------------------------------------------------------


def apply_routing(session: Session, case: Case) -> list[dict[str, Any]]:
    """Let routing choose a team and agent; returns its reasons as language-free facts (the case
    page words them in the reader's language: :mod:`resonanz.cases.routing_wording`)."""
    decision = route_case(session, case=case)
    if decision.team_id is not None:
        case.team_id = decision.team_id
    if decision.assignee_id is not None:
        case.assignee_id = decision.assignee_id
    return list(decision.reason_facts)


def apply_sla(session: Session, case: Case) -> None:
    """Recompute the case's due times from its team's SLA policy and calendar."""
    case_id = case.id
    try:
        sla_service.apply_sla(session, case=case)
    except StaleDataError as exc:  # its flush may be the first to meet a racing writer's change
        raise stale_error(session, case_id=case_id, expected=None, fresh_connection=True) from exc


# --- creating and growing cases -------------------------------------------------------------------


def do_create_case(
    session: Session,
    *,
    mentions: Sequence[Mention],
    subject: str | None = None,
    priority: CasePriority | str = CasePriority.normal,
    priority_reasons: Sequence[dict[str, Any]] = (),
    thread_key: str | None = None,
    brand_id: int | None = None,
    team_id: int | None = None,
    assignee_id: int | None = None,
    tags: Iterable[str] = (),
    follow_up_of: int | None = None,
    route: bool = True,
    actor: Actor | None,
) -> Case:
    """A new case holding ``mentions`` (at least one, none in a case yet), routed and given due
    times when routing/SLA are installed."""
    if not mentions:
        raise InputError("a case needs at least one mention", location="mentions")
    taken = session.scalars(select(CaseMention.mention_id).where(CaseMention.mention_id.in_([m.id for m in mentions])))
    if (first_taken := next(iter(taken), None)) is not None:
        raise ConflictError(f"mention {first_taken} belongs to a case already")
    first = min(mentions, key=lambda m: (m.published_at, m.id))
    stamp = now()
    case = Case(
        status=CaseStatus.new.value,
        priority=CasePriority(priority).value,
        priority_reasons=list(priority_reasons),
        subject=(subject or first.title or first.text or f"{first.platform} mention {first.id}").strip()[:300]
        or f"mention {first.id}",
        lang=first.lang,
        platform=first.platform,
        thread_key=thread_key,
        author_id=first.author_id,
        source_id=first.source_id,
        brand_id=brand_id,
        team_id=team_id,
        assignee_id=assignee_id,
        tags=_clean_tags(tags),
        created_at=stamp,
        updated_at=stamp,
        last_customer_at=max(m.published_at for m in mentions),
        # set, so that routing/SLA writing the same values later is no change (and no new version)
        first_response_due_at=None,
        resolution_due_at=None,
        snoozed_until=None,
    )
    session.add(case)
    session.flush()
    session.add_all(CaseMention(case_id=case.id, mention_id=m.id, added_at=stamp) for m in mentions)
    routing_reasons = apply_routing(session, case) if route and team_id is None and assignee_id is None else []
    with session.no_autoflush:
        apply_sla(session, case)
    session.flush()
    after = {"status": case.status, "priority": case.priority, "team_id": case.team_id,
             "assignee_id": case.assignee_id, "mention_ids": [m.id for m in mentions]}  # fmt: skip
    data: dict[str, Any] = {"routing": routing_reasons, "priority_reasons": case.priority_reasons}
    if follow_up_of is not None:
        data["follow_up_of"] = follow_up_of
    _log(session, case, kind=CaseEventKind.created, actor=actor, after=after, data=data)
    if follow_up_of is not None and session.get(Case, follow_up_of) is not None:
        record_event(session, case_id=follow_up_of, kind=CaseEventKind.follow_up.value, actor_id=_actor_id(actor),
                     data={"case_id": case.id})  # fmt: skip
    if case.assignee_id is not None:
        _notify_assignee(session, case, actor)
    return case


def do_add_mentions(session: Session, *, case: Case, mentions: Sequence[Mention], actor: Actor | None) -> int:
    """Join the customer's new messages to ``case``; a resolved case reopens (closed ones never:
    intake opens a follow-up case instead). Returns how many were added."""
    if case.status == CaseStatus.closed:
        raise ConflictError(f"case {case.id} is closed; a new message starts a follow-up case")
    have = set(
        session.scalars(select(CaseMention.mention_id).where(CaseMention.mention_id.in_([m.id for m in mentions])))
    )
    fresh = [m for m in mentions if m.id not in have]
    if not fresh:
        return 0
    stamp = now()
    session.add_all(CaseMention(case_id=case.id, mention_id=m.id, added_at=stamp) for m in fresh)
    latest = max(m.published_at for m in fresh)
    if case.last_customer_at is None or latest > case.last_customer_at:
        case.last_customer_at = latest
    reopened = case.status in (CaseStatus.resolved, CaseStatus.pending)
    before_status = case.status
    if reopened:
        case.status = CaseStatus.open.value
        case.resolved_at = None
    case.snoozed_until = None
    _save(session, case, None, sla=reopened)
    for m in fresh:
        record_event(session, case_id=case.id, kind=CaseEventKind.mention_added.value, actor_id=_actor_id(actor),
                     data={"mention_id": m.id})  # fmt: skip
    if reopened:
        _log(session, case, kind=CaseEventKind.status, actor=actor, before={"status": before_status},
             after={"status": case.status}, data={"reason": "customer wrote again"})  # fmt: skip
    return len(fresh)


# --- the workflow ----------------------------------------------------------------------------------


def do_change_status(
    session: Session, *, case: Case, status: CaseStatus | str, expected_version: int | None, actor: Actor | None
) -> Case:
    """Move the case along the transition table (:mod:`.states`); a forbidden move raises
    :class:`~resonanz.cases.states.InvalidTransitionError` naming the allowed ones."""
    check_version(session, case, expected_version)
    target = CaseStatus(status)
    current = CaseStatus(case.status)
    check_transition(current, target)
    stamp = now()
    case.status = target.value
    if target == CaseStatus.resolved:
        case.resolved_at = stamp
    elif target == CaseStatus.closed:
        case.closed_at = stamp
        case.resolved_at = case.resolved_at or stamp
        case.snoozed_until = None
    elif target == CaseStatus.open:
        case.resolved_at = None
    _save(session, case, expected_version, sla=True)
    _log(session, case, kind=CaseEventKind.status, actor=actor, before={"status": current.value},
         after={"status": target.value})  # fmt: skip
    if target == CaseStatus.resolved:  # the CSAT link, when switched on (a job in this transaction)
        from resonanz.cases.csat import on_resolved

        on_resolved(session, case=case)
    return case


def _notify_assignee(session: Session, case: Case, actor: Actor | None) -> None:
    if case.assignee_id is None or case.assignee_id == _actor_id(actor):
        return
    session.add(
        UserNotification(user_id=case.assignee_id, kind="assigned", case_id=case.id, actor_id=_actor_id(actor),
                         text=f"Case {case.id} was assigned to you: {case.subject[:200]}", created_at=now())
    )  # fmt: skip


def do_assign(
    session: Session, *, case: Case, assignee_id: int | None, expected_version: int | None, actor: Actor | None
) -> Case:
    """Give the case to a colleague (``None``: unassign). The team stays; a new assignee is told."""
    check_version(session, case, expected_version)
    if assignee_id is not None:
        user = session.get(User, assignee_id)
        if user is None or not user.active:
            raise NotFoundError(f"no active user with id {assignee_id}")
    before = case.assignee_id
    if before == assignee_id:
        return case
    case.assignee_id = assignee_id
    _save(session, case, expected_version)
    _log(session, case, kind=CaseEventKind.assigned, actor=actor, before={"assignee_id": before},
         after={"assignee_id": assignee_id})  # fmt: skip
    _notify_assignee(session, case, actor)
    return case


def do_transfer(
    session: Session,
    *,
    case: Case,
    team_id: int | None,
    assignee_id: int | None = None,
    expected_version: int | None,
    actor: Actor | None,
) -> Case:
    """Hand the case to another team (and optionally a person in it); the old assignee lets go."""
    check_version(session, case, expected_version)
    if team_id is not None and session.get(Team, team_id) is None:
        raise NotFoundError(f"no team with id {team_id}")
    if assignee_id is not None:
        user = session.get(User, assignee_id)
        if user is None or not user.active:
            raise NotFoundError(f"no active user with id {assignee_id}")
    before = {"team_id": case.team_id, "assignee_id": case.assignee_id}
    case.team_id, case.assignee_id = team_id, assignee_id
    after = {"team_id": team_id, "assignee_id": assignee_id}
    if before == after:
        return case
    _save(session, case, expected_version, sla=True)
    _log(session, case, kind=CaseEventKind.assigned, actor=actor, before=before, after=after)
    _notify_assignee(session, case, actor)
    return case


def do_snooze(
    session: Session, *, case: Case, until: datetime | None, expected_version: int | None, actor: Actor | None
) -> Case:
    """Hide the case from the queue until ``until`` (``None`` wakes it now). A customer's new
    message wakes it early; the periodic job wakes due ones."""
    check_version(session, case, expected_version)
    if until is not None:
        until = ensure_utc(until)
        if until <= now():
            raise InputError("snooze until a time in the future", location="until")
        if case.status in (CaseStatus.resolved, CaseStatus.closed):
            raise ConflictError(f"a {case.status} case cannot be snoozed")
    before = case.snoozed_until
    case.snoozed_until = until
    _save(session, case, expected_version)
    _log(session, case, kind=CaseEventKind.snoozed, actor=actor,
         before={"snoozed_until": before.isoformat() if before else None},
         after={"snoozed_until": until.isoformat() if until else None})  # fmt: skip
    return case


def do_wake_due(session: Session, *, at: datetime | None = None) -> int:
    """Wake every snoozed case whose time has come (the periodic job); returns how many."""
    stamp = at or now()
    due = session.scalars(select(Case).where(Case.snoozed_until.is_not(None), Case.snoozed_until <= stamp)).all()
    for case in due:
        until = case.snoozed_until
        case.snoozed_until = None
        _save(session, case, None)
        record_event(session, case_id=case.id, kind=CaseEventKind.woke.value, actor_id=None,
                     data={"snoozed_until": until.isoformat() if until else None})  # fmt: skip
    return len(due)


def do_merge(session: Session, *, case: Case, into: Case, expected_version: int | None, actor: Actor | None) -> Case:
    """Merge ``case`` into ``into``: its mentions and tags move, it is closed and points at the target."""
    check_version(session, case, expected_version)
    if case.id == into.id:
        raise InputError("a case cannot be merged into itself", location="into")
    if case.merged_into_id is not None:
        raise ConflictError(f"case {case.id} was merged into case {case.merged_into_id} already")
    if into.merged_into_id is not None or into.status == CaseStatus.closed:
        raise ConflictError(f"case {into.id} is closed or merged; merge into an open case")
    if case.status == CaseStatus.closed:
        raise ConflictError(f"case {case.id} is closed; closed cases are not merged")
    moved = list(session.scalars(select(CaseMention.mention_id).where(CaseMention.case_id == case.id)))
    session.execute(update(CaseMention).where(CaseMention.case_id == case.id).values(case_id=into.id))
    into.tags = _clean_tags([*into.tags, *case.tags])
    if case.last_customer_at and (into.last_customer_at is None or case.last_customer_at > into.last_customer_at):
        into.last_customer_at = case.last_customer_at
    before_status = case.status
    case.merged_into_id = into.id
    case.status = CaseStatus.closed.value
    case.closed_at = now()
    case.snoozed_until = None
    _save(session, case, expected_version)
    _save(session, into, None)
    _log(session, case, kind=CaseEventKind.merged, actor=actor,
         before={"status": before_status, "merged_into_id": None},
         after={"status": CaseStatus.closed.value, "merged_into_id": into.id},
         data={"into": into.id, "mention_ids": moved})  # fmt: skip
    record_event(session, case_id=into.id, kind=CaseEventKind.merged.value, actor_id=_actor_id(actor),
                 data={"from": case.id, "mention_ids": moved})  # fmt: skip
    return into


def _clean_tags(values: Iterable[str]) -> list[str]:
    tags = sorted({v.strip().lower() for v in values if v and v.strip()})
    for tag in tags:
        if len(tag) > MAX_TAG_LEN:
            raise InputError(f"a tag has at most {MAX_TAG_LEN} characters: {tag[:20]!r}…", location="tags")
    if len(tags) > MAX_TAGS:
        raise InputError(f"a case has at most {MAX_TAGS} tags", location="tags")
    return tags


def do_tag(
    session: Session,
    *,
    case: Case,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    expected_version: int | None,
    actor: Actor | None,
) -> Case:
    check_version(session, case, expected_version)
    gone = {t.strip().lower() for t in remove}
    new = _clean_tags([*(t for t in case.tags if t not in gone), *add])
    before = list(case.tags)
    if new == before:
        return case
    case.tags = new
    _save(session, case, expected_version)
    _log(session, case, kind=CaseEventKind.tagged, actor=actor, before={"tags": before}, after={"tags": new})
    return case


def do_set_priority(
    session: Session,
    *,
    case: Case,
    priority: CasePriority | str,
    reasons: Sequence[dict[str, Any]] | None = None,
    expected_version: int | None,
    actor: Actor | None,
) -> Case:
    """Set the priority; a person's choice is recorded as a reason of its own."""
    check_version(session, case, expected_version)
    target = CasePriority(priority).value
    if target == case.priority and reasons is None:
        return case
    before = case.priority
    case.priority = target
    if reasons is not None:
        case.priority_reasons = list(reasons)
    elif actor is not None:
        case.priority_reasons = [*case.priority_reasons, {"factor": "manual", "value": target, "points": 0}]
    _save(session, case, expected_version, sla=True)
    _log(
        session, case, kind=CaseEventKind.priority, actor=actor, before={"priority": before}, after={"priority": target}
    )
    return case


def do_mark_first_response(session: Session, *, case: Case, at: datetime | None = None, actor: Actor | None) -> Case:
    """Record the first answer to the customer (H6 calls it when a reply is sent); a new case opens.
    Idempotent: a later reply does not move the first-response time."""
    changed = False
    if case.first_responded_at is None:
        case.first_responded_at = ensure_utc(at) if at else now()
        changed = True
    if case.status == CaseStatus.new:
        case.status = CaseStatus.open.value
        changed = True
    if changed:
        _save(session, case, None, sla=True)
        _log(session, case, kind=CaseEventKind.reply, actor=actor,
             after={"first_responded_at": case.first_responded_at.isoformat(), "status": case.status})  # fmt: skip
    return case
