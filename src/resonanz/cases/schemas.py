"""What the API (and the CLI's JSON output) shows of cases: ``CaseRead``, ``CasePage``,
``NoteRead``, ``EventRead``, ``PresenceItem`` and the request bodies that change a case.

Every request body that changes the case carries the ``version`` the client saw (or the API's
``If-Match`` header does), so a change based on a stale copy is refused rather than lost.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from resonanz.cases.models import Case, CasePriority, CaseStatus
from resonanz.cases.states import allowed_transitions
from resonanz.cases.workflow_models import CaseEvent, CaseNote


class CaseRead(BaseModel):
    id: int
    version: int = Field(description="send it back (If-Match or `version`) with a change")
    status: CaseStatus
    allowed_transitions: list[CaseStatus]
    priority: CasePriority
    priority_reasons: list[dict[str, Any]]
    subject: str
    lang: str | None
    platform: str
    author_id: int | None
    source_id: int | None
    brand_id: int | None
    team_id: int | None
    assignee_id: int | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    last_customer_at: datetime | None
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    first_responded_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    snoozed_until: datetime | None
    merged_into_id: int | None

    @classmethod
    def of(cls, c: Case) -> CaseRead:
        fields = {name: getattr(c, name) for name in cls.model_fields if name != "allowed_transitions"}
        fields["priority_reasons"] = list(c.priority_reasons or [])
        fields["tags"] = list(c.tags or [])
        return cls(**fields, allowed_transitions=list(allowed_transitions(c.status)))


class CasePage(BaseModel):
    items: list[CaseRead]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")
    limit: int
    total: int = Field(description="the cases matching; counted up to 1,000 (see `total_exact`)")
    total_exact: bool = Field(
        default=True, description="false when more than `total` cases match (the count stops at 1,000)"
    )
    counts: dict[str, int] | None = Field(
        default=None, description="with `with_counts=true`: all, mine, unassigned, urgent and per status"
    )


class NoteRead(BaseModel):
    id: int
    case_id: int
    author_id: int | None
    body: str
    mentioned_user_ids: list[int]
    created_at: datetime

    @classmethod
    def of(cls, n: CaseNote) -> NoteRead:
        return cls(id=n.id, case_id=n.case_id, author_id=n.author_id, body=n.body,
                   mentioned_user_ids=list(n.mentioned_user_ids or []), created_at=n.created_at)  # fmt: skip


class EventRead(BaseModel):
    id: int
    case_id: int
    at: datetime
    actor_id: int | None
    kind: str
    data: dict[str, Any]

    @classmethod
    def of(cls, e: CaseEvent) -> EventRead:
        return cls(id=e.id, case_id=e.case_id, at=e.at, actor_id=e.actor_id, kind=e.kind, data=dict(e.data or {}))


class PresenceItem(BaseModel):
    user_id: int
    display_name: str
    kind: str
    expires_at: datetime


class VersionedChange(BaseModel):
    version: int | None = Field(default=None, ge=1, description="the version you saw (or send If-Match)")


class TransitionIn(VersionedChange):
    status: CaseStatus


class AssignIn(VersionedChange):
    assignee_id: int | None = Field(default=None, ge=1, description="a user; null unassigns")
    team_id: int | None = Field(default=None, ge=1, description="hand over to this team (a transfer)")
    transfer: bool = Field(default=False, description="true: set the team too (null team: no team)")


class SnoozeIn(VersionedChange):
    until: datetime | None = Field(description="aware time in the future; null wakes the case now")


class TagsIn(VersionedChange):
    add: list[str] = Field(default_factory=list, max_length=20)
    remove: list[str] = Field(default_factory=list, max_length=20)


class MergeIn(VersionedChange):
    into: int = Field(ge=1, description="the case that receives this case's mentions")


class NoteIn(BaseModel):
    body: str = Field(min_length=1, max_length=10_000, description="@handle notifies a colleague")


class PresenceIn(BaseModel):
    kind: str = Field(pattern="^(viewing|typing)$")


class CaseUpdate(VersionedChange):
    """PATCH: any of these; each is applied through its action in one transaction."""

    status: CaseStatus | None = None
    priority: CasePriority | None = None
    assignee_id: int | None = Field(default=None, ge=1)
    unassign: bool = False
    tags: list[str] | None = Field(default=None, max_length=20, description="the full new tag list")
    snoozed_until: datetime | None = None
