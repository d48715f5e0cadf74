"""The job table.

A pending job with a ``dedupe_key`` is unique among pending and running jobs (partial unique
index), so enqueueing "pull source 7" twice while one is waiting is a no-op.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from resonanz.db.base import Base
from resonanz.db.types import UTCDateTime, json_type


class JobState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"  # gave up after max attempts; `resonanz jobs retry` revives it
    CANCELLED = "cancelled"


class Job(Base):
    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), default=JobState.PENDING)
    priority: Mapped[int] = mapped_column(Integer, default=100)  # lower runs first
    run_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_job_claim", "state", "run_at", "priority"),
        Index(
            "uq_job_dedupe_active",
            "dedupe_key",
            unique=True,
            sqlite_where=text("state IN ('pending', 'running') AND dedupe_key IS NOT NULL"),
            postgresql_where=text("state IN ('pending', 'running') AND dedupe_key IS NOT NULL"),
        ),
    )


class PeriodicTask(Base):
    """When a periodic job kind (:mod:`resonanz.worker.periodic`) is next due. One row per kind;
    the scheduler tick moves ``next_run_at`` on with a conditional update, so across any number of
    workers each due time enqueues one job."""

    __tablename__ = "periodic_task"

    kind: Mapped[str] = mapped_column(String(60), primary_key=True)
    every_s: Mapped[int] = mapped_column(Integer)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime())
