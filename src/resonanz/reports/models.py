"""Report definitions (what, how often, for whom) and report runs (one generated report each).

Why a partial unique index on scheduled runs: the periodic job may run on several workers and may
be repeated; a run is inserted for ``(report_id, period_start)`` before anything is sent, and the
second insert fails, so a period is reported once however often the job runs. On-demand runs
("generate now") are not in that index: a person may generate the same week twice.

The PDF is kept in the run row (a few hundred KB at most) rather than in ``data_dir``, so web
processes and workers on other machines can all serve it (DESIGN: PostgreSQL holds the data).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from resonanz.db.base import Base
from resonanz.db.types import UTCDateTime, json_type


class RunStatus(StrEnum):
    pending = "pending"  # created, not yet generated
    sending = "sending"  # claimed by a worker: generating and sending
    generated = "generated"  # on demand: the PDF is ready, nothing is sent
    sent = "sent"
    failed = "failed"


class RunTrigger(StrEnum):
    schedule = "schedule"
    manual = "manual"


class ReportDefinition(Base):
    """A report: the scope (brands or queries; neither: every mention), the period, who gets it,
    in which language and zone. ``enabled`` only concerns the schedule; on demand always works."""

    __tablename__ = "report_definition"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    brand_ids: Mapped[list[int]] = mapped_column(json_type(), default=list)
    query_ids: Mapped[list[int]] = mapped_column(json_type(), default=list)
    period: Mapped[str] = mapped_column(String(10))
    recipient_user_ids: Mapped[list[int]] = mapped_column(json_type(), default=list)
    recipient_emails: Mapped[list[str]] = mapped_column(json_type(), default=list)
    language: Mapped[str] = mapped_column(String(8), default="de")
    tz: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReportRun(Base):
    """One generated (and for scheduled runs, sent) report of one period."""

    __tablename__ = "report_run"
    __table_args__ = (
        Index(
            "uq_report_run_scheduled_period",
            "report_id",
            "period_start",
            unique=True,
            sqlite_where=sql_text("trigger = 'schedule'"),
            postgresql_where=sql_text("trigger = 'schedule'"),
        ),
        Index("ix_report_run_report_created", "report_id", "created_at"),
        Index("ix_report_run_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report_definition.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(10))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(12), default=RunStatus.pending)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    generated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    #: the addresses it went to (recipients resolved at send time)
    sent_to: Mapped[list[str]] = mapped_column(json_type(), default=list)
    #: the key numbers of the report (total, change, net sentiment …) for lists and the API
    summary: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    pdf_size: Mapped[int | None] = mapped_column(Integer)
