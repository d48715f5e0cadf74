"""Tables of the notifications feature: configured channels and the record of every delivery.

A channel stores a notifier ``kind`` and its config (addresses, URL, the *name* of a secret —
never a secret). A delivery is one message to one channel (or one e-mail to chosen people),
kept with its status, attempts and last error so a person can see why a mail did not arrive,
and so the delivery job (retried with backoff) decides from the row, not from memory.
``ref_type``/``ref_id`` say what it was about (``alert`` 12, ``report`` 3) without this feature
depending on those.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from resonanz.db.base import Base
from resonanz.db.types import UTCDateTime, json_type


class DeliveryState(StrEnum):
    pending = "pending"  # waiting for its (next) attempt
    sent = "sent"
    failed = "failed"  # permanent failure, or attempts used up


class NotificationChannel(Base):
    __tablename__ = "notification_channel"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    config: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NotificationDelivery(Base):
    __tablename__ = "notification_delivery"
    __table_args__ = (
        Index("ix_notification_delivery_ref", "ref_type", "ref_id"),
        Index("ix_notification_delivery_state", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_channel.id", ondelete="SET NULL"), index=True
    )
    #: notifier kind, kept so a delivery without a channel (e-mail to chosen people) still sends
    kind: Mapped[str] = mapped_column(String(40))
    #: where it goes, for people reading the log (addresses; a webhook's host, never its secret)
    target: Mapped[str] = mapped_column(Text, default="")
    ref_type: Mapped[str | None] = mapped_column(String(40))
    ref_id: Mapped[int | None] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(Text)
    #: the message: text, html, to, link, event, data (attachments are not stored)
    message: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    state: Mapped[str] = mapped_column(String(20), default=DeliveryState.pending)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
