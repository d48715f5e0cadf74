"""Reading channels and deliveries, and turning a stored delivery back into a message."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resonanz.errors import NotFoundError
from resonanz.notifications.base import Notification
from resonanz.notifications.models import NotificationChannel, NotificationDelivery


def get_channel(session: Session, *, id: int) -> NotificationChannel:
    channel = session.get(NotificationChannel, id)
    if channel is None:
        raise NotFoundError(f"notification channel {id} does not exist")
    return channel


def list_channels(session: Session, *, enabled: bool | None = None) -> list[NotificationChannel]:
    stmt = select(NotificationChannel).order_by(NotificationChannel.name)
    if enabled is not None:
        stmt = stmt.where(NotificationChannel.enabled.is_(enabled))
    return list(session.scalars(stmt))


def get_delivery(session: Session, *, id: int) -> NotificationDelivery:
    delivery = session.get(NotificationDelivery, id)
    if delivery is None:
        raise NotFoundError(f"notification delivery {id} does not exist")
    return delivery


def list_deliveries(
    session: Session,
    *,
    ref_type: str | None = None,
    ref_id: int | None = None,
    state: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[NotificationDelivery]:
    stmt = select(NotificationDelivery).order_by(NotificationDelivery.id.desc()).limit(limit).offset(offset)
    if ref_type is not None:
        stmt = stmt.where(NotificationDelivery.ref_type == ref_type)
    if ref_id is not None:
        stmt = stmt.where(NotificationDelivery.ref_id == ref_id)
    if state is not None:
        stmt = stmt.where(NotificationDelivery.state == state)
    return list(session.scalars(stmt))


def count_deliveries(session: Session, *, state: str | None = None) -> int:
    stmt = select(func.count()).select_from(NotificationDelivery)
    if state is not None:
        stmt = stmt.where(NotificationDelivery.state == state)
    return int(session.scalar(stmt) or 0)


def message_to_dict(message: Notification) -> dict[str, Any]:
    """The JSON form stored on a delivery (attachments are not stored: alerts carry none, and
    reports send theirs directly through :func:`~resonanz.notifications.email.send_email`)."""
    return {
        "subject": message.subject,
        "text": message.text,
        "html": message.html,
        "to": list(message.to),
        "link": message.link,
        "event": message.event,
        "data": message.data,
        "language": message.language,
    }


def message_from_dict(doc: dict[str, Any]) -> Notification:
    return Notification(
        subject=str(doc.get("subject", "")),
        text=str(doc.get("text", "")),
        html=doc.get("html"),
        to=[str(a) for a in doc.get("to") or []],
        link=doc.get("link"),
        event=str(doc.get("event") or "notification"),
        data=dict(doc.get("data") or {}),
        language=str(doc.get("language") or "en"),
    )
