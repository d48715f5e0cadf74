"""Tables of the reply side of the care inbox: knowledge, templates, replies, outbox, approvals,
policy settings and customer satisfaction.

Why these shapes:

* A :class:`Reply` walks ``draft -> pending_approval -> approved -> queued -> sent | failed`` (or
  ``rejected`` back to its author). ``version`` is SQLAlchemy's optimistic counter, so an autosave
  based on a stale read is refused instead of overwriting a newer text.
* ``answer_slot`` makes "two agents send at the same moment -> exactly one goes out" a database
  rule: a reply that is queued claims the slot of the customer message it answers, and the unique
  index on ``(case_id, answer_slot)`` refuses the second claim on SQLite and PostgreSQL alike
  (``NULL`` slots - drafts, failures - never collide).
* An :class:`OutboxEntry` is the one send of one reply (``reply_id`` unique): its
  ``idempotency_key`` is derived from its own id and never changes, so every try of the same
  entry is the same request to the platform, and an unknown outcome is checked, not repeated.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from resonanz.db.base import Base
from resonanz.db.types import UTCDateTime, json_type


class ArticleStatus(StrEnum):
    draft = "draft"  # written, not yet approved for use
    published = "published"  # approved answer: suggested to agents
    archived = "archived"  # kept for history, never suggested


class ReplyStatus(StrEnum):
    draft = "draft"
    pending_approval = "pending_approval"
    approved = "approved"
    queued = "queued"
    sent = "sent"
    failed = "failed"
    rejected = "rejected"


class OutboxStatus(StrEnum):
    pending = "pending"  # due at next_attempt_at
    sending = "sending"  # claimed by a worker until lease_until
    unknown = "unknown"  # the last try may have reached the platform: check before anything else
    sent = "sent"
    failed = "failed"  # permanent: a person must act (shown on the case and the reply)


class ApprovalRuleKind(StrEnum):
    new_agent = "new_agent"  # params {"days": 30}: authors whose account is younger
    high_risk = "high_risk"  # params {"priority": "high"} and/or {"risk": 0.5}: risky cases
    crisis = "crisis"  # every reply while crisis mode is on
    brand = "brand"  # params {"brand_ids": [..]}: cases of these brands


class PhraseKind(StrEnum):
    legal = "legal"  # legal promises ("we accept liability")
    guarantee = "guarantee"  # "garantiert", "guarantee"
    competitor = "competitor"  # competitor names (besides the listening brands of kind competitor)
    custom = "custom"


class Article(Base):
    """A knowledge-base answer: approved text per language with tags, an owner and a review date."""

    __tablename__ = "kb_article"
    __table_args__ = (Index("ix_kb_article_status_lang", "status", "lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8))
    tags: Mapped[list[str]] = mapped_column(json_type(), default=list)
    status: Mapped[str] = mapped_column(String(20), default=ArticleStatus.draft)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    review_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: the sent reply this article was made from ("turn this reply into an article"); a plain id,
    #: not a foreign key, because replies already point at articles (no cycle between the tables)
    from_reply_id: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ReplyTemplate(Base):
    """A reply template with ``{variables}`` (see :mod:`resonanz.cases.templates_text`)."""

    __tablename__ = "reply_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    lang: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(json_type(), default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Reply(Base):
    """One outgoing answer on a case, from draft to sent (see the module docstring)."""

    __tablename__ = "case_reply"
    __table_args__ = (
        UniqueConstraint("case_id", "answer_slot", name="uq_case_reply_slot"),
        Index("ix_case_reply_case", "case_id", "id"),
        Index("ix_case_reply_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    #: the customer's mention this reply answers (the newest one when the draft was started)
    in_reply_to_mention_id: Mapped[int | None] = mapped_column(ForeignKey("mention.id", ondelete="SET NULL"))
    #: the revision of that mention the author saw: a later edit by the customer is pointed out
    answered_revision: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10), default="reply")  # connectors.base.ReplyKind
    text: Mapped[str] = mapped_column(Text, default="")
    lang: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(20), default=ReplyStatus.draft)
    #: the policy findings of the last check: [{"code", "severity", "message", "start", "end"}]
    findings: Mapped[list[dict[str, Any]]] = mapped_column(json_type(), default=list)
    #: why it needs approval: [{"rule_id", "kind", "reason"}]
    approval_reasons: Mapped[list[dict[str, Any]]] = mapped_column(json_type(), default=list)
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decision_comment: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    template_id: Mapped[int | None] = mapped_column(ForeignKey("reply_template.id", ondelete="SET NULL"))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("kb_article.id", ondelete="SET NULL"))
    #: set while queued/sent: the customer message this reply claims (unique per case)
    answer_slot: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(500))
    url: Mapped[str | None] = mapped_column(Text)
    #: the mention row of our own published reply, when the connector's id matches one
    sent_mention_id: Mapped[int | None] = mapped_column(ForeignKey("mention.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class OutboxEntry(Base):
    """The send of one reply through one connector, retried with backoff, never repeated blindly."""

    __tablename__ = "reply_outbox"
    __table_args__ = (Index("ix_reply_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reply_id: Mapped[int] = mapped_column(ForeignKey("case_reply.id", ondelete="CASCADE"), unique=True)
    #: ``rz-outbox-<id>``: the same on every try (connectors derive their platform keys from it)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id", ondelete="SET NULL"))
    connector_kind: Mapped[str] = mapped_column(String(40))
    #: the OutgoingReply as JSON, frozen when queued: every try sends exactly this
    request: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    status: Mapped[str] = mapped_column(String(20), default=OutboxStatus.pending)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: every try: [{"at", "outcome", "error", "retry_in_s"}], shown on the reply ("visible failures")
    log: Mapped[list[dict[str, Any]]] = mapped_column(json_type(), default=list)
    last_error: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApprovalRule(Base):
    """When a reply must be approved before it is sent (see :mod:`resonanz.cases.approvals`)."""

    __tablename__ = "approval_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    params: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BlockedPhrase(Base):
    """A phrase no reply may contain without a finding (legal promises, guarantees, competitors)."""

    __tablename__ = "blocked_phrase"
    __table_args__ = (UniqueConstraint("phrase", "kind", name="uq_blocked_phrase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phrase: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default=PhraseKind.custom)
    reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CareSetting(Base):
    """Small switches of the reply side (``crisis_mode``, channel limits overrides), audited."""

    __tablename__ = "care_setting"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[Any] = mapped_column(json_type(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))


class CsatSurvey(Base):
    """A satisfaction question after resolution: reached by an unguessable token (only its hash
    is stored), answered once."""

    __tablename__ = "csat_survey"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    score: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
