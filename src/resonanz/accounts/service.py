"""Reads on accounts, and the two lookups every request makes: a session cookie or an API token
to a :class:`Principal`.

The lookups also note when a session or token was last used, at most once a minute, so a busy
browser does not turn every page view into a write.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from resonanz.accounts.models import ApiToken, SetupToken, User, WebSession
from resonanz.accounts.permissions import Role
from resonanz.accounts.schemas import Principal
from resonanz.accounts.tokens import API_TOKEN_PREFIX, digest
from resonanz.clock import now
from resonanz.errors import NotFoundError

IDLE_TIMEOUT = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)


def get_user(session: Session, *, id: int) -> User:
    user = session.get(User, id)
    if user is None:
        raise NotFoundError(f"no user with id {id}")
    return user


def get_user_by_email(session: Session, *, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def find_user(session: Session, *, ref: str) -> User:
    """A user by e-mail or numeric id (what the command line accepts)."""
    user = session.get(User, int(ref)) if ref.isdigit() else get_user_by_email(session, email=ref)
    if user is None:
        raise NotFoundError(f"no user {ref!r}")
    return user


def list_users(
    session: Session,
    *,
    active: bool | None = None,
    role: Role | None = None,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[User]:
    """Users ordered by e-mail; ``q`` matches e-mail or display name (case-insensitive)."""
    stmt = select(User).order_by(User.email).limit(limit).offset(offset)
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    if role is not None:
        stmt = stmt.where(User.role == role)
    if q:
        pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(User.email.like(pattern, escape="\\"), func.lower(User.display_name).like(pattern, escape="\\"))
        )
    return session.scalars(stmt).all()


def count_users(session: Session, *, active: bool | None = None) -> int:
    stmt = select(func.count()).select_from(User)
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    return int(session.scalar(stmt) or 0)


def principal_for(user: User, *, session_row: WebSession | None = None, token: ApiToken | None = None) -> Principal:
    return Principal(
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=Role(user.role),
        language=user.language,
        time_zone=user.time_zone,
        session_id=session_row.id if session_row is not None else None,
        token_id=token.id if token is not None else None,
        csrf_token=session_row.csrf_secret if session_row is not None else None,
    )


def resolve_session(session: Session, *, raw_token: str, idle: timedelta = IDLE_TIMEOUT) -> Principal | None:
    """The signed-in user for a session cookie, or None when the session is unknown, revoked,
    idle longer than ``idle``, past its absolute end, or its user is deactivated. Flushes a
    last-seen update (at most once a minute); the caller commits."""
    if not raw_token or len(raw_token) > 200:
        return None
    row = session.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.token_hash == digest(raw_token))
    ).first()
    if row is None:
        return None
    web_session, user = row
    moment = now()
    if (
        web_session.revoked_at is not None
        or not user.active
        or web_session.expires_at <= moment
        or web_session.last_seen_at + idle <= moment
    ):
        return None
    if moment - web_session.last_seen_at >= TOUCH_EVERY:
        web_session.last_seen_at = moment
        session.flush()
    return principal_for(user, session_row=web_session)


def resolve_api_token(session: Session, *, raw_token: str) -> Principal | None:
    """The user for an ``rz_…`` token, or None when unknown, revoked, expired or the user is
    deactivated. Flushes a last-used update (at most once a minute); the caller commits."""
    if not raw_token.startswith(API_TOKEN_PREFIX) or len(raw_token) > 200:
        return None
    row = session.execute(
        select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(ApiToken.token_hash == digest(raw_token))
    ).first()
    if row is None:
        return None
    token, user = row
    moment = now()
    if token.revoked_at is not None or not user.active or (token.expires_at is not None and token.expires_at <= moment):
        return None
    if token.last_used_at is None or moment - token.last_used_at >= TOUCH_EVERY:
        token.last_used_at = moment
        session.flush()
    return principal_for(user, token=token)


def list_api_tokens(session: Session, *, user_id: int, include_revoked: bool = False) -> Sequence[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
    if not include_revoked:
        stmt = stmt.where(ApiToken.revoked_at.is_(None))
    return session.scalars(stmt).all()


def list_web_sessions(session: Session, *, user_id: int, idle: timedelta = IDLE_TIMEOUT) -> Sequence[WebSession]:
    """The user's sessions that still work, newest activity first."""
    moment = now()
    stmt = (
        select(WebSession)
        .where(
            WebSession.user_id == user_id,
            WebSession.revoked_at.is_(None),
            WebSession.expires_at > moment,
            WebSession.last_seen_at > moment - idle,
        )
        .order_by(WebSession.last_seen_at.desc())
    )
    return session.scalars(stmt).all()


def setup_token_valid(session: Session, *, raw_token: str) -> bool:
    """True while the token is unused and unexpired and no user exists yet."""
    if not raw_token or len(raw_token) > 200 or count_users(session) > 0:
        return False
    token = session.scalar(select(SetupToken).where(SetupToken.token_hash == digest(raw_token)))
    return token is not None and token.used_at is None and token.expires_at > now()
