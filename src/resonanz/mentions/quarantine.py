"""Quarantine: rejected raw items kept byte for byte with the reason, so nothing is lost and
everything can be replayed once the cause is fixed (a newer parser, a raised limit, a mapping)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resonanz.errors import NotFoundError
from resonanz.mentions.models import QuarantineItem, QuarantineStatus


def do_quarantine(
    session: Session,
    *,
    platform: str,
    stage: str,
    reason: str,
    raw: bytes,
    now: datetime,
    location: str | None = None,
    source_id: int | None = None,
    run_id: int | None = None,
    content_type: str | None = None,
    context: dict[str, Any] | None = None,
) -> QuarantineItem:
    item = QuarantineItem(
        platform=platform,
        stage=stage,
        reason=reason[:4000],
        raw=raw,
        location=location[:300] if location else None,
        source_id=source_id,
        run_id=run_id,
        content_type=content_type,
        context=context or {},
        status=QuarantineStatus.PENDING,
        attempts=0,
        created_at=now,
    )
    session.add(item)
    return item


def get(session: Session, *, id: int) -> QuarantineItem:
    item = session.get(QuarantineItem, id)
    if item is None:
        raise NotFoundError(f"no quarantined item with id {id}")
    return item


def list_items(
    session: Session,
    *,
    status: str | None = QuarantineStatus.PENDING,
    source_id: int | None = None,
    limit: int = 50,
    before_id: int | None = None,
) -> Sequence[QuarantineItem]:
    stmt = select(QuarantineItem).order_by(QuarantineItem.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(QuarantineItem.status == status)
    if source_id is not None:
        stmt = stmt.where(QuarantineItem.source_id == source_id)
    if before_id is not None:
        stmt = stmt.where(QuarantineItem.id < before_id)
    return list(session.scalars(stmt))


def count_items(session: Session, *, status: str | None = QuarantineStatus.PENDING) -> int:
    stmt = select(func.count()).select_from(QuarantineItem)
    if status:
        stmt = stmt.where(QuarantineItem.status == status)
    return int(session.scalar(stmt) or 0)
