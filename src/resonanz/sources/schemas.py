"""Source schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SourceCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    kind: str
    config: dict[str, Any] = Field(default_factory=dict)
    interval_s: int = Field(default=900, ge=5, le=7 * 24 * 3600)
    enabled: bool = True


class SourceUpdate(BaseModel):
    config: dict[str, Any] | None = None
    interval_s: int | None = Field(default=None, ge=5, le=7 * 24 * 3600)
    enabled: bool | None = None


class SourceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str
    config: dict[str, Any]
    enabled: bool
    interval_s: int
    next_pull_at: datetime | None
    health: str
    consecutive_failures: int
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    created_at: datetime


class IngestRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source_id: int | None
    kind: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    new: int
    updated: int
    duplicate: int
    rejected: int
    warnings: list[str]
    error: str | None
