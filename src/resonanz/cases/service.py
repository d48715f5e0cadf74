"""Reading cases: one case, the queue with its filters and counts, a case's conversation, notes,
timeline, who is looking at it, and the author's history.

Who sees which cases (:class:`Scope`): people whose role may assign cases (managers, admins) see
every case; everyone else (agents) sees the cases of their teams, the cases assigned to them and the
cases no team holds yet (the shared triage queue). A case outside someone's scope is "not found" to
them, so its existence does not leak. The same scope applies on pages, in the API and in the CLI
(which acts as the system and sees everything).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, and_, case, cast, false, func, or_, select, true
from sqlalchemy.orm import Session

from resonanz.accounts.models import TeamMember, User
from resonanz.accounts.permissions import Permission, has_permission
from resonanz.cases.models import Case, CaseMention, CasePriority, CaseStatus
from resonanz.cases.states import ACTIVE
from resonanz.cases.workflow_models import CaseEvent, CaseNote, CasePresence, UserNotification
from resonanz.clock import now
from resonanz.errors import InputError, NotFoundError
from resonanz.mentions.models import Author, Mention

PRIORITY_RANK = {CasePriority.urgent: 3, CasePriority.high: 2, CasePriority.normal: 1, CasePriority.low: 0}


@dataclass(frozen=True)
class Scope:
    """Which cases a person may see: ``everything`` or those of ``team_ids``, assigned to
    ``user_id``, or held by no team."""

    everything: bool
    user_id: int | None = None
    team_ids: tuple[int, ...] = ()

    def condition(self) -> ColumnElement[bool]:
        if self.everything:
            return true()
        parts: list[ColumnElement[bool]] = [Case.team_id.is_(None)]
        if self.user_id is not None:
            parts.append(Case.assignee_id == self.user_id)
        if self.team_ids:
            parts.append(Case.team_id.in_(self.team_ids))
        return or_(*parts)

    def allows(self, c: Case) -> bool:
        return (
            self.everything
            or c.team_id is None
            or (self.user_id is not None and c.assignee_id == self.user_id)
            or c.team_id in self.team_ids
        )


SYSTEM_SCOPE = Scope(everything=True)


def scope_for(session: Session, *, user_id: int, role: Any) -> Scope:
    if has_permission(role, Permission.cases_assign):
        return Scope(everything=True, user_id=user_id)
    teams = tuple(session.scalars(select(TeamMember.team_id).where(TeamMember.user_id == user_id)))
    return Scope(everything=False, user_id=user_id, team_ids=teams)


def get_case(session: Session, *, id: int, scope: Scope = SYSTEM_SCOPE) -> Case:
    """The case, or NotFoundError (also when it exists but lies outside ``scope``)."""
    found = session.get(Case, id) if 0 < id < 2**63 else None
    if found is None or not scope.allows(found):
        raise NotFoundError(f"no case with id {id}")
    return found


@dataclass
class CaseFilter:
    """The queue's filters; every field narrows (``None``/empty: no narrowing)."""

    mine_user_id: int | None = None  # assigned to this person
    team_id: int | None = None
    unassigned: bool = False
    statuses: list[str] = field(default_factory=list)  # empty: the active ones (new, open, pending)
    priorities: list[str] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)
    tag: str | None = None
    q: str | None = None
    include_snoozed: bool = True
    include_merged: bool = False

    def check(self) -> None:
        for value in self.statuses:
            if value not in CaseStatus.__members__:
                raise InputError(f"unknown status {value!r}", location="status")
        for value in self.priorities:
            if value not in CasePriority.__members__:
                raise InputError(f"unknown priority {value!r}", location="priority")
        if self.q is not None and len(self.q) > 200:
            raise InputError("the search has at most 200 characters", location="q")


def _filtered(stmt: Select[Any], flt: CaseFilter, scope: Scope, *, by_bucket: bool = False) -> Select[Any]:
    """``stmt`` narrowed by ``flt`` and ``scope``; ``by_bucket`` leaves status and priority to the
    caller (:func:`list_cases` reads one (priority, status) pair at a time)."""
    flt.check()
    stmt = stmt.where(scope.condition())
    if not by_bucket:
        stmt = stmt.where(Case.status.in_(flt.statuses or [s.value for s in ACTIVE]))
    if not flt.include_merged:
        stmt = stmt.where(Case.merged_into_id.is_(None))
    if flt.mine_user_id is not None:
        stmt = stmt.where(Case.assignee_id == flt.mine_user_id)
    if flt.team_id is not None:
        stmt = stmt.where(Case.team_id == flt.team_id)
    if flt.unassigned:
        stmt = stmt.where(Case.assignee_id.is_(None))
    if flt.priorities and not by_bucket:
        stmt = stmt.where(Case.priority.in_(flt.priorities))
    if flt.platforms:
        stmt = stmt.where(Case.platform.in_(flt.platforms))
    if flt.langs:
        stmt = stmt.where(Case.lang.in_(flt.langs))
    if not flt.include_snoozed:
        stmt = stmt.where(or_(Case.snoozed_until.is_(None), Case.snoozed_until <= now()))
    if flt.tag:
        # tags are a short JSON list; a LIKE on its text is portable and exact enough with the quotes
        stmt = stmt.where(func.lower(cast(Case.tags, Text)).like(f'%"{_like(flt.tag.lower())}"%', "\\"))
    if flt.q:
        term = flt.q.strip()
        if term.isdigit():
            stmt = stmt.where(or_(Case.id == int(term[:18]), Case.subject.ilike(f"%{_like(term)}%", "\\")))
        else:
            stmt = stmt.where(Case.subject.ilike(f"%{_like(term)}%", "\\"))
    return stmt


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass
class CasePage:
    items: list[Case]
    next_cursor: str | None


def _encode(rank: int, id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([rank, id]).encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[int, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        rank, id_ = json.loads(raw)
        if not isinstance(rank, int) or not isinstance(id_, int):
            raise ValueError
        return rank, id_
    except (ValueError, TypeError) as exc:
        raise InputError("this page cursor is not valid; start from the first page", location="cursor") from exc


def list_cases(
    session: Session, *, filters: CaseFilter, scope: Scope = SYSTEM_SCOPE, after: str | None = None, limit: int = 50
) -> CasePage:
    """One keyset page of the queue: most urgent first, then oldest first (who waited longest).

    Read bucket by bucket, one (priority, status) pair at a time in rank order, each ``ORDER BY id
    LIMIT`` on an index that ends in ``(status, priority, id)`` (``ix_case_team_queue``,
    ``ix_case_assignee_queue``, ``ix_case_status_priority``): a page reads about ``limit`` rows
    however long the queue is, where one ``ORDER BY rank, id`` sorted the whole queue per page
    (~20,000 rows for a team of the inbox benchmark). Priorities outside the enum do not occur
    (the column holds :class:`CasePriority` values only)."""
    limit = max(1, min(limit, 200))
    filters.check()
    cursor_rank, last_id = _decode(after) if after else (None, 0)
    statuses = list(dict.fromkeys(filters.statuses)) or [s.value for s in ACTIVE]
    wanted = set(filters.priorities) if filters.priorities else None
    base = _filtered(select(Case.id), filters, scope, by_bucket=True)
    found: list[tuple[int, int]] = []  # (rank, id) in page order; rows are loaded once at the end
    for priority, rank in sorted(PRIORITY_RANK.items(), key=lambda item: -item[1]):
        if (wanted is not None and priority.value not in wanted) or (cursor_rank is not None and rank > cursor_rank):
            continue
        need = limit + 1 - len(found)
        bucket: list[int] = []
        for status in statuses:
            stmt = base.where(Case.status == status, Case.priority == priority.value)
            if cursor_rank is not None and rank == cursor_rank:
                stmt = stmt.where(Case.id > last_id)
            bucket.extend(session.scalars(stmt.order_by(Case.id).limit(need)))
        found.extend((rank, case_id) for case_id in sorted(bucket)[:need])
        if len(found) > limit:
            break
    ids = [case_id for _, case_id in found[:limit]]
    rows = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(ids)))} if ids else {}
    items = [rows[case_id] for case_id in ids]
    next_cursor = _encode(found[limit - 1][0], ids[-1]) if len(found) > limit else None
    return CasePage(items=items, next_cursor=next_cursor)


def count_cases(session: Session, *, filters: CaseFilter, scope: Scope = SYSTEM_SCOPE) -> int:
    return int(session.scalar(_filtered(select(func.count(Case.id)), filters, scope)) or 0)


#: Above this many matching cases the API's queue ``total`` stops counting (``total_exact`` false):
#: counting a long queue on every page costs more than the page itself.
COUNT_CAP = 1000


def count_cases_upto(
    session: Session, *, filters: CaseFilter, scope: Scope = SYSTEM_SCOPE, cap: int | None = None
) -> tuple[int, bool]:
    """``(n, True)`` with the exact count when at most ``cap`` (default :data:`COUNT_CAP`) cases
    match, else ``(cap, False)``: reads at most ``cap + 1`` index entries."""
    cap = COUNT_CAP if cap is None else cap
    inner = _filtered(select(Case.id), filters, scope).limit(cap + 1).subquery()
    n = int(session.scalar(select(func.count()).select_from(inner)) or 0)
    return (n, True) if n <= cap else (cap, False)


def queue_counts(session: Session, *, scope: Scope, user_id: int | None) -> dict[str, int]:
    """Counts for the queue's quick filters in one query: all active, mine, unassigned, per status
    and the urgent ones."""
    active = Case.status.in_([s.value for s in ACTIVE])
    mine = and_(active, Case.assignee_id == user_id) if user_id is not None else false()
    cols = {
        "all": func.count(case((active, 1))),
        "mine": func.count(case((mine, 1))),
        "unassigned": func.count(case((and_(active, Case.assignee_id.is_(None)), 1))),
        "urgent": func.count(case((and_(active, Case.priority == CasePriority.urgent.value), 1))),
        **{s.value: func.count(case((Case.status == s.value, 1))) for s in CaseStatus},
    }
    stmt = select(*[c.label(k) for k, c in cols.items()]).where(scope.condition(), Case.merged_into_id.is_(None))
    row = session.execute(stmt).one()
    return {k: int(v or 0) for k, v in row._mapping.items()}


def conversation(session: Session, *, case_id: int, limit: int = 500) -> Sequence[Mention]:
    """The case's mentions in the order they were written."""
    stmt = (
        select(Mention)
        .join(CaseMention, CaseMention.mention_id == Mention.id)
        .where(CaseMention.case_id == case_id)
        .order_by(Mention.published_at, Mention.id)
        .limit(limit)
    )
    return session.scalars(stmt).all()


def case_of_mention(session: Session, *, mention_id: int) -> int | None:
    return session.scalar(select(CaseMention.case_id).where(CaseMention.mention_id == mention_id))


def list_notes(session: Session, *, case_id: int) -> Sequence[CaseNote]:
    return session.scalars(select(CaseNote).where(CaseNote.case_id == case_id).order_by(CaseNote.id)).all()


def timeline(session: Session, *, case_id: int, limit: int = 500) -> Sequence[CaseEvent]:
    stmt = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id.desc()).limit(limit)
    return session.scalars(stmt).all()


@dataclass(frozen=True)
class PresenceRead:
    user_id: int
    display_name: str
    kind: str  # viewing | typing
    expires_at: datetime


def presence(session: Session, *, case_id: int, exclude_user_id: int | None = None) -> list[PresenceRead]:
    """Who is viewing or typing in the case right now (unexpired rows). H6's composer calls this
    before a send: anyone else ``typing`` means a colleague may be answering too."""
    stmt = (
        select(CasePresence, User.display_name)
        .join(User, User.id == CasePresence.user_id)
        .where(CasePresence.case_id == case_id, CasePresence.expires_at > now())
        .order_by(User.display_name, CasePresence.kind)
    )
    if exclude_user_id is not None:
        stmt = stmt.where(CasePresence.user_id != exclude_user_id)
    return [PresenceRead(p.user_id, name, p.kind, p.expires_at) for p, name in session.execute(stmt)]


def others_typing(session: Session, *, case_id: int, user_id: int) -> list[PresenceRead]:
    """Colleagues other than ``user_id`` writing a reply in this case now (for the send guard)."""
    return [p for p in presence(session, case_id=case_id, exclude_user_id=user_id) if p.kind == "typing"]


@dataclass
class AuthorHistory:
    author: Author | None
    other_cases: list[Case]
    recent_mentions: list[Mention]
    other_accounts: list[Author]


def author_history(session: Session, *, case: Case, scope: Scope = SYSTEM_SCOPE, limit: int = 10) -> AuthorHistory:
    """The author's other cases and recent mentions, and accounts with the same handle or name on
    other platforms (the same person across channels, as far as the data can tell)."""
    if case.author_id is None:
        return AuthorHistory(None, [], [], [])
    author = session.get(Author, case.author_id)
    others: list[Author] = []
    if author is not None:
        same = [func.lower(Author.handle) == author.handle.lower()]
        if author.name:
            same.append(func.lower(Author.name) == author.name.lower())
        others = list(
            session.scalars(select(Author).where(or_(*same), Author.id != author.id).order_by(Author.id).limit(limit))
        )
    author_ids = [case.author_id, *(a.id for a in others)]
    cases = session.scalars(
        select(Case)
        .where(Case.author_id.in_(author_ids), Case.id != case.id, scope.condition())
        .order_by(Case.id.desc())
        .limit(limit)
    ).all()
    mentions = session.scalars(
        select(Mention).where(Mention.author_id.in_(author_ids)).order_by(Mention.published_at.desc()).limit(limit)
    ).all()
    return AuthorHistory(author, list(cases), list(mentions), others)


def list_notifications(
    session: Session, *, user_id: int, unread_only: bool = False, limit: int = 50
) -> Sequence[UserNotification]:
    stmt = select(UserNotification).where(UserNotification.user_id == user_id)
    if unread_only:
        stmt = stmt.where(UserNotification.read_at.is_(None))
    return session.scalars(stmt.order_by(UserNotification.id.desc()).limit(limit)).all()


def count_unread_notifications(session: Session, *, user_id: int) -> int:
    stmt = select(func.count()).where(UserNotification.user_id == user_id, UserNotification.read_at.is_(None))
    return int(session.scalar(stmt) or 0)


def user_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(ids)))}
