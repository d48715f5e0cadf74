"""Changing channels (audited) and queueing deliveries (each one a retried job).

A delivery is written and its job enqueued in the caller's transaction, so an alert and the
e-mail about it are committed together or not at all; the job sends after commit and retries
with the worker's backoff while the notifier says ``retry`` (429, 5xx, timeouts), up to
:data:`MAX_ATTEMPTS`; a permanent failure (4xx, SMTP 5xx, a missing secret) ends it at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.audit.actions import Actor, do_record
from resonanz.clock import now
from resonanz.config import Settings
from resonanz.errors import ConflictError, InputError
from resonanz.notifications.base import (
    DeliveryError,
    DeliveryResult,
    DeliveryStatus,
    Notification,
    build_notifier,
    failed,
    validate_config,
)
from resonanz.notifications.models import DeliveryState, NotificationChannel, NotificationDelivery
from resonanz.notifications.service import get_channel, message_from_dict, message_to_dict
from resonanz.worker.queue import enqueue

DELIVER_KIND = "notifications.deliver"
MAX_ATTEMPTS = 6


def _snapshot(channel: NotificationChannel) -> dict[str, Any]:
    return {"name": channel.name, "kind": channel.kind, "config": channel.config, "enabled": channel.enabled}


def _check_name(session: Session, name: str, *, exclude_id: int | None = None) -> str:
    clean = name.strip()
    if not clean or len(clean) > 120:
        raise InputError("give a name of 1 to 120 characters", location="name")
    stmt = select(NotificationChannel.id).where(NotificationChannel.name == clean)
    found = session.scalar(stmt)
    if found is not None and found != exclude_id:
        raise ConflictError(f"a channel called {clean!r} exists already")
    return clean


def do_create_channel(
    session: Session, *, name: str, kind: str, config: dict[str, Any], enabled: bool = True, actor: Actor | None
) -> NotificationChannel:
    stamp = now()
    channel = NotificationChannel(
        name=_check_name(session, name),
        kind=kind,
        config=validate_config(kind, config),
        enabled=enabled,
        created_by_id=actor.user_id if actor else None,
        created_at=stamp,
        updated_at=stamp,
    )
    session.add(channel)
    session.flush()
    do_record(session, actor=actor, action="notification_channel.create", object_type="notification_channel",
              object_id=channel.id, after=_snapshot(channel))  # fmt: skip
    return channel


def do_update_channel(
    session: Session,
    *,
    id: int,
    name: str | None = None,
    config: dict[str, Any] | None = None,
    enabled: bool | None = None,
    actor: Actor | None,
) -> NotificationChannel:
    channel = get_channel(session, id=id)
    before = _snapshot(channel)
    if name is not None:
        channel.name = _check_name(session, name, exclude_id=id)
    if config is not None:
        channel.config = validate_config(channel.kind, config)
    if enabled is not None:
        channel.enabled = enabled
    channel.updated_at = now()
    session.flush()
    do_record(session, actor=actor, action="notification_channel.update", object_type="notification_channel",
              object_id=id, before=before, after=_snapshot(channel))  # fmt: skip
    return channel


def do_delete_channel(session: Session, *, id: int, actor: Actor | None) -> None:
    channel = get_channel(session, id=id)
    before = _snapshot(channel)
    session.delete(channel)
    session.flush()
    do_record(session, actor=actor, action="notification_channel.delete", object_type="notification_channel",
              object_id=id, before=before)  # fmt: skip


def _target(kind: str, message: Notification, channel: NotificationChannel | None) -> str:
    if kind == "email":
        extra = list((channel.config if channel else {}).get("to") or [])
        return ", ".join(dict.fromkeys([*message.to, *extra]))[:1000]
    url = str((channel.config if channel else {}).get("url") or "")
    return url.split("?", 1)[0][:200] if url else (channel.name if channel else kind)


def do_queue_delivery(
    session: Session,
    *,
    message: Notification,
    channel_id: int | None = None,
    kind: str | None = None,
    ref_type: str | None = None,
    ref_id: int | None = None,
    run_at: datetime | None = None,
) -> NotificationDelivery:
    """Record one delivery (to a channel, or of ``kind`` — e-mail to ``message.to``) and enqueue
    its job in the caller's transaction."""
    channel = get_channel(session, id=channel_id) if channel_id is not None else None
    the_kind = channel.kind if channel is not None else kind
    if not the_kind:
        raise InputError("a delivery needs a channel or a kind", location="channel_id")
    delivery = NotificationDelivery(
        channel_id=channel_id,
        kind=the_kind,
        target=_target(the_kind, message, channel),
        ref_type=ref_type,
        ref_id=ref_id,
        subject=message.subject[:1000],
        message=message_to_dict(message),
        state=DeliveryState.pending,
        attempts=0,
        created_at=now(),
    )
    session.add(delivery)
    session.flush()
    enqueue(session, kind=DELIVER_KIND, payload={"delivery_id": delivery.id}, run_at=run_at,
            dedupe_key=f"delivery:{delivery.id}", max_attempts=MAX_ATTEMPTS + 1)  # fmt: skip
    return delivery


def attempt_delivery(session: Session, *, delivery_id: int, settings: Settings) -> DeliveryResult | None:
    """One attempt at a pending delivery, recorded on its row; ``None`` when it is not pending
    (sent already, given up, deleted). Sends inside the caller's transaction: the row is the
    lock that keeps two workers from sending the same message twice on PostgreSQL."""
    delivery = session.get(NotificationDelivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.state != DeliveryState.pending:
        return None
    channel = session.get(NotificationChannel, delivery.channel_id) if delivery.channel_id else None
    result: DeliveryResult
    if delivery.channel_id is not None and channel is None:
        result = failed("the channel was deleted")
    elif channel is not None and not channel.enabled:
        result = failed(f"channel {channel.name!r} is disabled")
    else:
        try:
            notifier = build_notifier(delivery.kind, channel.config if channel else {}, settings=settings)
            result = notifier.send(message_from_dict(delivery.message))
        except Exception as exc:  # a plugin's bug must not loop forever: record it, give up
            result = failed(f"{type(exc).__name__}: {exc}"[:300])
    stamp = now()
    delivery.attempts += 1
    delivery.last_attempt_at = stamp
    if result.status is DeliveryStatus.sent:
        delivery.state, delivery.sent_at, delivery.last_error = DeliveryState.sent, stamp, None
    elif result.status is DeliveryStatus.retry and delivery.attempts < MAX_ATTEMPTS:
        delivery.last_error = result.detail
    else:
        delivery.state = DeliveryState.failed
        suffix = f" (gave up after {delivery.attempts} attempts)" if result.status is DeliveryStatus.retry else ""
        delivery.last_error = result.detail + suffix
    session.flush()
    return result


def raise_if_retry(result: DeliveryResult | None, *, state: str) -> None:
    """Make the worker retry (with its backoff, or the server's Retry-After) a pending delivery."""
    if result is not None and state == DeliveryState.pending and result.status is DeliveryStatus.retry:
        raise DeliveryError(result.detail, retryable=True, retry_after=result.retry_after_s)
