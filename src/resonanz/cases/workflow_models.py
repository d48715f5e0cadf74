"""Tables of the case workflow: the timeline of each case, internal notes, in-app notifications and
who is looking at (or typing in) a case right now.

``case_event`` is both the timeline a case page shows and the feed live pages poll: its id only
grows, so "everything after id N" is the cheapest cross-process change feed there is (every web
process of a cluster polls it; no message broker needed). The audit log (``audit_event``) stays the
company's record of who changed what; the timeline is for people working the case.

``case_presence`` rows expire on their own (``expires_at``): a browser that closes without saying
goodbye simply stops sending heartbeats, so nobody has to clean up after it for the page to be right.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from resonanz.db.base import Base
from resonanz.db.types import UTCDateTime, json_type


class CaseEventKind(StrEnum):
    created = "created"
    status = "status"
    assigned = "assigned"
    snoozed = "snoozed"
    woke = "woke"
    merged = "merged"
    tagged = "tagged"
    note = "note"
    mention_added = "mention_added"
    priority = "priority"
    follow_up = "follow_up"  # a customer wrote again after the case was closed: a new case, linked
    reply = "reply"  # H6: a reply was sent (recorded through do_record_event)


class CaseEvent(Base):
    """One thing that happened to a case, in order. ``data`` holds what the timeline shows (before and
    after values, the note id, the mention id)."""

    __tablename__ = "case_event"
    __table_args__ = (Index("ix_case_event_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(30))
    data: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)


class CaseNote(Base):
    """An internal note (never sent to the customer). ``mentioned_user_ids``: colleagues it @mentions."""

    __tablename__ = "case_note"
    __table_args__ = (Index("ix_case_note_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    mentioned_user_ids: Mapped[list[int]] = mapped_column(json_type(), default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UserNotification(Base):
    """An in-app notification for one person (an @mention in a note, a case assigned to them)."""

    __tablename__ = "user_notification"
    __table_args__ = (Index("ix_user_notification_user", "user_id", "read_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))  # mention | assigned
    case_id: Mapped[int | None] = mapped_column(ForeignKey("support_case.id", ondelete="CASCADE"))
    note_id: Mapped[int | None] = mapped_column(ForeignKey("case_note.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PresenceKind(StrEnum):
    viewing = "viewing"
    typing = "typing"


class CasePresence(Base):
    """Someone has the case open (``viewing``) or is writing a reply (``typing``) until ``expires_at``;
    the page's heartbeat pushes ``expires_at`` forward."""

    __tablename__ = "case_presence"
    __table_args__ = (Index("ix_case_presence_case", "case_id", "expires_at"),)

    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
