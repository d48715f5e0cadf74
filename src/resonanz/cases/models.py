"""The core case tables: a case (a conversation that needs a response) and the mentions it holds.

A case is a conversation, not a ticket per post: mentions of one thread, or of one author on one
topic within a window, join the same case. ``version`` is the optimistic-concurrency counter
(SQLAlchemy's ``version_id_col``): an update based on a stale read fails instead of silently
overwriting a colleague's change.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from resonanz.db.base import Base
from resonanz.db.types import UTCDateTime, json_type


class CaseStatus(StrEnum):
    new = "new"
    open = "open"
    pending = "pending"  # waiting on the customer; SLA clocks pause
    resolved = "resolved"
    closed = "closed"


class CasePriority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class Case(Base):
    __tablename__ = "support_case"
    __table_args__ = (
        Index("ix_case_status_priority", "status", "priority", "id"),
        # the queue reads one (status, priority) bucket at a time in id order (cases.service.list_cases)
        Index("ix_case_team_queue", "team_id", "status", "priority", "id"),
        Index("ix_case_assignee_queue", "assignee_id", "status", "priority", "id"),
        Index("ix_case_thread", "platform", "thread_key"),
        Index("ix_case_author", "author_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default=CaseStatus.new)
    priority: Mapped[str] = mapped_column(String(20), default=CasePriority.normal)
    #: why this priority: [{"factor": "intent", "value": "complaint", "points": 20}, ...]
    priority_reasons: Mapped[list[dict[str, Any]]] = mapped_column(json_type(), default=list)
    subject: Mapped[str] = mapped_column(String(300))
    lang: Mapped[str | None] = mapped_column(String(8))
    platform: Mapped[str] = mapped_column(String(40))
    #: the platform thread this conversation lives in (root external id), for joining replies
    thread_key: Mapped[str | None] = mapped_column(String(500))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("author.id", ondelete="SET NULL"))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id", ondelete="SET NULL"))
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brand.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    tags: Mapped[list[str]] = mapped_column(json_type(), default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_customer_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("support_case.id", ondelete="SET NULL"))
    csat: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class CaseMention(Base):
    """A mention in a case's conversation (a mention belongs to at most one case)."""

    __tablename__ = "case_mention"

    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id", ondelete="CASCADE"), index=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mention.id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
