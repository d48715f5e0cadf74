"""Stored analysis: one result per (mention, stage) with the stage version and the mention
revision it was computed for, and the corrections people made."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from resonanz.db.base import Base
from resonanz.db.types import UTCDateTime, json_type


class AnalysisResult(Base):
    """Current when ``version`` is the stage's version and ``revision`` the mention's revision."""

    __tablename__ = "analysis_result"

    mention_id: Mapped[int] = mapped_column(ForeignKey("mention.id", ondelete="CASCADE"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[str] = mapped_column(String(40))
    revision: Mapped[int] = mapped_column(Integer)
    result: Mapped[dict[str, Any]] = mapped_column(json_type())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_analysis_result_stage_version", "stage", "version"),)


class Feedback(Base):
    """A person's correction of a model's label; shown instead of the guess and used in training."""

    __tablename__ = "analysis_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mention.id", ondelete="CASCADE"), index=True)
    task: Mapped[str] = mapped_column(String(20))  # sentiment | intent | offensive | language
    label: Mapped[str] = mapped_column(String(30))
    previous: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
