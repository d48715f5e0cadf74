"""Source and IngestRun tables."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from resonanz.db.base import Base
from resonanz.db.types import UTCDateTime, json_type


class SourceHealth(StrEnum):
    NEW = "new"
    OK = "ok"
    FAILING = "failing"  # transient errors; still scheduled, with backoff
    DISABLED = "disabled"  # permanent error or switched off by a person


class RunKind(StrEnum):
    PULL = "pull"
    IMPORT = "import"
    WEBHOOK = "webhook"
    REPLAY = "replay"


class RunStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"  # some items quarantined
    NOT_MODIFIED = "not_modified"
    FAILED = "failed"


class Source(Base):
    """One configured connector instance."""

    __tablename__ = "source"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    config: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    interval_s: Mapped[int] = mapped_column(Integer, default=900)
    next_pull_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cursor: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    health: Mapped[str] = mapped_column(String(20), default=SourceHealth.NEW)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_source_due", "enabled", "next_pull_at"),)


class IngestRun(Base):
    """What one pull, import, webhook call or replay did."""

    __tablename__ = "ingest_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=RunStatus.RUNNING)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    duplicate: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[list[str]] = mapped_column(json_type(), default=list)
    error: Mapped[str | None] = mapped_column(Text)
