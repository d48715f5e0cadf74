"""Tables for people and their credentials: users, teams, skills and languages, web sessions,
API tokens, sign-in failures (rate limiting) and the one-time setup token.

Secrets are never stored as given: session cookies, API tokens and setup tokens are kept as the
SHA-256 of the raw value (they are long random strings, so a fast hash is enough; a leaked table
does not let anyone sign in), passwords as argon2 hashes (see :mod:`resonanz.accounts.passwords`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from resonanz.accounts.permissions import Role
from resonanz.db.base import Base
from resonanz.db.types import UTCDateTime


class TeamKind(StrEnum):
    team = "team"
    department = "department"


class User(Base):
    """An employee who signs in. ``email`` is stored lower-cased so lookups need no function index."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.agent)
    language: Mapped[str | None] = mapped_column(String(8))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Team(Base):
    """A team or a department; routing (later) sends cases to one."""

    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default=TeamKind.team)


class TeamMember(Base):
    __tablename__ = "team_member"

    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)


class UserSkill(Base):
    """A free-form skill tag ('billing', 'returns') used by routing."""

    __tablename__ = "user_skill"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    skill: Mapped[str] = mapped_column(String(60), primary_key=True)


class UserLanguage(Base):
    """A language (ISO 639-1) a user can answer customers in; used by routing."""

    __tablename__ = "user_language"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    lang: Mapped[str] = mapped_column(String(8), primary_key=True)


class WebSession(Base):
    """A signed-in browser. The cookie holds the raw token; only its SHA-256 is here.

    ``csrf_secret`` is echoed in forms and the ``X-CSRF-Token`` header; it is not a credential on its
    own (without the cookie it is worthless), so it is kept as is.
    """

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())  # absolute end, whatever the activity
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ip: Mapped[str | None] = mapped_column(String(64))


class ApiToken(Base):
    """A personal API token (``rz_…``), shown once; ``prefix`` lets people tell their tokens apart."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LoginFailure(Base):
    """One failed sign-in. Counted per (e-mail, ip) in a sliding window; kept in the database so
    that every web process sees the same count."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    __table_args__ = (
        Index("ix_login_failure_email_ip_at", "email", "ip", "at"),
        Index("ix_login_failure_ip_at", "ip", "at"),
    )


class SetupToken(Base):
    """The one-time token printed at start while no user exists; creating the first admin uses it."""

    __tablename__ = "setup_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
