"""Report definitions and runs as the API and the pages see them.

Field rules live here so the API (problem+json with field paths) and the form (errors beside the
field) refuse the same things: an unknown zone, a bad address, too many recipients. Whether the
named brands, queries and users exist is checked by the actions (it needs the database).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from resonanz.notifications.email import check_address
from resonanz.reports.models import RunStatus, RunTrigger
from resonanz.reports.schedule import Period, zone

LANGUAGES = ("de", "en")
MAX_RECIPIENTS = 50
MAX_ID = 2**31 - 1


def _name(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        raise ValueError("the name is empty")
    if any(ord(c) < 32 for c in value):
        raise ValueError("the name contains control characters")
    return value


def _ids(values: list[int] | None) -> list[int] | None:
    if values is None:
        return None
    if any(v < 1 or v > MAX_ID for v in values):
        raise ValueError("ids are positive integers")
    return sorted(set(values))


def _emails(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    out: list[str] = []
    for value in values:
        address = check_address(value).lower()
        if address not in out:
            out.append(address)
    return out


def _zone(value: str | None) -> str | None:
    if value is None:
        return None
    zone(value)
    return value


def _language(value: str | None) -> str | None:
    if value is not None and value not in LANGUAGES:
        raise ValueError("choose de or en")
    return value


class ReportCreate(BaseModel):
    """A new report. No brands and no queries: every mention."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    brand_ids: list[int] = Field(default_factory=list, max_length=50)
    query_ids: list[int] = Field(default_factory=list, max_length=50)
    period: Period = Period.weekly
    recipient_user_ids: list[int] = Field(default_factory=list, max_length=MAX_RECIPIENTS)
    recipient_emails: list[str] = Field(default_factory=list, max_length=MAX_RECIPIENTS)
    language: str = "de"
    tz: str = Field(default="Europe/Berlin", max_length=64)
    enabled: bool = True

    _v_ids = field_validator("brand_ids", "query_ids", "recipient_user_ids")(_ids)
    _v_emails = field_validator("recipient_emails")(_emails)
    _v_zone = field_validator("tz")(_zone)
    _v_language = field_validator("language")(_language)
    _v_name = field_validator("name")(_name)


class ReportUpdate(BaseModel):
    """Fields to change; the ones left out stay."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=120)
    brand_ids: list[int] | None = Field(default=None, max_length=50)
    query_ids: list[int] | None = Field(default=None, max_length=50)
    period: Period | None = None
    recipient_user_ids: list[int] | None = Field(default=None, max_length=MAX_RECIPIENTS)
    recipient_emails: list[str] | None = Field(default=None, max_length=MAX_RECIPIENTS)
    language: str | None = None
    tz: str | None = Field(default=None, max_length=64)
    enabled: bool | None = None

    _v_ids = field_validator("brand_ids", "query_ids", "recipient_user_ids")(_ids)
    _v_emails = field_validator("recipient_emails")(_emails)
    _v_zone = field_validator("tz")(_zone)
    _v_language = field_validator("language")(_language)
    _v_name = field_validator("name")(_name)


class ReportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    brand_ids: list[int]
    query_ids: list[int]
    period: Period
    recipient_user_ids: list[int]
    recipient_emails: list[str]
    language: str
    tz: str
    enabled: bool
    created_at: datetime
    updated_at: datetime
    next_run_at: datetime | None = None


class RunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    report_id: int
    trigger: RunTrigger
    period_start: datetime
    period_end: datetime
    status: RunStatus
    attempts: int
    created_at: datetime
    generated_at: datetime | None
    sent_at: datetime | None
    error: str | None
    sent_to: list[str]
    summary: dict[str, Any]
    pdf_size: int | None


class GenerateRequest(BaseModel):
    """Generate a report now: the period containing ``at`` (default: the last complete period)."""

    model_config = ConfigDict(extra="forbid")

    report_id: int = Field(ge=1, le=MAX_ID)
    at: datetime | None = Field(default=None, description="any moment inside the wanted period (aware)")
    send: bool = Field(default=False, description="also e-mail it to the report's recipients")
