"""Tables of the alerts feature: rules and the alerts they fired.

A rule watches one query or one brand (all of the brand's queries) with one detector
(``kind``) and its parameters; ``evaluated_until`` is the end of the last closed bucket it has
judged, which makes the periodic evaluation idempotent: a repeated or late tick only judges the
buckets after it. An alert is one *episode*: while the condition goes on, the open alert is
updated (``episode_end``, ``peak``, the explanation) instead of firing again; ``explanation``
holds what a person needs to judge it (observed vs baseline, top terms, sample mentions).

An alert stores facts, never one language's sentence: ``title`` is the name of the watched
query or brand when it fired; each reader gets the words in their own language at read time
(``wording.py``: the page, the e-mail, the chat message, the report digest).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from resonanz.db.base import Base
from resonanz.db.types import UTCDateTime, json_type


class RuleKind(StrEnum):
    volume_spike = "volume_spike"
    negative_surge = "negative_surge"
    influencer = "influencer"
    keyword = "keyword"
    crisis = "crisis"


class AlertStatus(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    resolved = "resolved"


class AlertRule(Base):
    __tablename__ = "alert_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    query_id: Mapped[int | None] = mapped_column(ForeignKey("listening_query.id", ondelete="CASCADE"), index=True)
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brand.id", ondelete="CASCADE"), index=True)
    #: detector parameters (sensitivity, floors, thresholds, the keyword query …), see rules.py
    params: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    cooldown_minutes: Mapped[int] = mapped_column(Integer, default=180)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: notification channel ids, user ids and extra e-mail addresses to tell
    channel_ids: Mapped[list[int]] = mapped_column(json_type(), default=list)
    recipient_user_ids: Mapped[list[int]] = mapped_column(json_type(), default=list)
    recipient_emails: Mapped[list[str]] = mapped_column(json_type(), default=list)
    evaluated_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Alert(Base):
    __tablename__ = "alert"
    __table_args__ = (
        Index("ix_alert_rule_episode", "rule_id", "episode_end"),
        Index("ix_alert_status_fired", "status", "fired_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rule.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default=AlertStatus.open)
    #: the watched scope's name when it fired (language-free; see the module docstring)
    title: Mapped[str] = mapped_column(Text)
    #: the first and the latest bucket (start) in which the condition held
    episode_start: Mapped[datetime] = mapped_column(UTCDateTime())
    episode_end: Mapped[datetime] = mapped_column(UTCDateTime())
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    observed: Mapped[float] = mapped_column(Float)
    baseline: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    #: buckets of this episode in which the condition held (1 when it fired)
    buckets: Mapped[int] = mapped_column(Integer, default=1)
    explanation: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)
