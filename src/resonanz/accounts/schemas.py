"""Who is asking (:class:`Principal`) and the user schema family (Create/Update/Read/Page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator

from resonanz.accounts.permissions import Permission, Role, has_permission

MIN_PASSWORD_LENGTH = 10
LANGUAGES = ("de", "en")


@dataclass(frozen=True)
class Principal:
    """A signed-in person as every endpoint and page sees them: by cookie session (``session_id``
    and ``csrf_token`` set) or by API token (``token_id`` set)."""

    user_id: int
    email: str
    display_name: str
    role: Role
    language: str | None
    time_zone: str
    session_id: int | None = None
    token_id: int | None = None
    csrf_token: str | None = None

    def can(self, permission: Permission) -> bool:
        return has_permission(self.role, permission)


def check_time_zone(value: str) -> str:
    if value not in available_timezones():
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as 'Europe/Berlin'")
    return value


def normalise_email(value: str) -> str:
    email = value.strip().lower()
    local, sep, domain = email.partition("@")
    if not sep or not local or "." not in domain or " " in email or len(email) > 254:
        raise ValueError(f"{value!r} is not an e-mail address")
    return email


class UserCreate(BaseModel):
    email: str = Field(max_length=254)
    display_name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=1000)
    role: Role = Role.agent
    language: Literal["de", "en"] | None = None
    time_zone: str = "UTC"

    _email = field_validator("email")(normalise_email)
    _tz = field_validator("time_zone")(check_time_zone)


class UserUpdate(BaseModel):
    """Fields a person may change on themselves or an admin on anyone; ``None`` keeps the value."""

    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    language: Literal["de", "en"] | None = None
    time_zone: str | None = None

    @field_validator("time_zone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else check_time_zone(value)


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    display_name: str
    role: Role
    language: str | None
    time_zone: str
    active: bool
    created_at: datetime
    last_login_at: datetime | None


class UserPage(BaseModel):
    items: list[UserRead]
    total: int


class ApiTokenRead(BaseModel):
    """An API token as listed (never the token itself)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class WebSessionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    user_agent: str | None
    ip: str | None
