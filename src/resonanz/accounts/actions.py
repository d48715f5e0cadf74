"""Writes on accounts. Each ``do_*`` works inside the caller's transaction (flush, no commit) and
writes one audit row, so the change and its record commit together — with one exception:
:func:`do_sign_in` commits a failed attempt itself before raising, because the failure counter
(rate limiting) must survive the caller's rollback.

Nothing here stores or audits a raw secret: passwords become argon2 hashes, session/API/setup
tokens SHA-256 digests, and the raw token is returned once to the caller to hand to the person.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, NoReturn

from pydantic import ValidationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from resonanz.accounts import passwords
from resonanz.accounts.models import ApiToken, LoginFailure, SetupToken, User, WebSession
from resonanz.accounts.permissions import Role
from resonanz.accounts.schemas import Principal, UserCreate, UserUpdate
from resonanz.accounts.service import count_users, get_user_by_email, principal_for, setup_token_valid
from resonanz.accounts.tokens import DISPLAY_PREFIX_LEN, digest, new_api_token, new_secret
from resonanz.audit.actions import Actor, do_record
from resonanz.clock import now
from resonanz.errors import AuthenticationError, ConflictError, InputError, NotFoundError, RateLimitedError

SESSION_LIFETIME = timedelta(days=14)
SETUP_TOKEN_LIFETIME = timedelta(hours=24)
#: Failed sign-ins allowed per (e-mail, ip) and per ip within LOGIN_WINDOW before 429.
MAX_FAILURES_PER_EMAIL_IP = 5
MAX_FAILURES_PER_IP = 50
LOGIN_WINDOW = timedelta(minutes=15)
WRONG_CREDENTIALS = "wrong e-mail or password"


def _snapshot(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
        "language": user.language,
        "time_zone": user.time_zone,
        "active": user.active,
    }


def _input_error(exc: ValidationError) -> InputError:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or None
    message = str(err["msg"]).removeprefix("Value error, ")
    if field == "password" and err["type"] == "string_too_short":
        message = f"the password must be at least {err['ctx']['min_length']} characters long"
    return InputError(message, location=field)


def _active_admins(session: Session) -> int:
    stmt = select(func.count()).select_from(User).where(User.role == Role.admin, User.active.is_(True))
    return int(session.scalar(stmt) or 0)


def do_create_user(
    session: Session,
    *,
    email: str,
    display_name: str,
    password: str,
    role: Role | str = Role.agent,
    language: str | None = None,
    time_zone: str = "UTC",
    actor: Actor | None,
    ip: str | None = None,
) -> User:
    try:
        data = UserCreate(
            email=email,
            display_name=display_name.strip(),
            password=password,
            role=role,
            language=language,
            time_zone=time_zone,
        )
    except ValidationError as exc:
        raise _input_error(exc) from exc
    passwords.check_strength(data.password)
    if get_user_by_email(session, email=data.email) is not None:
        raise ConflictError(f"a user with e-mail {data.email} exists already")
    user = User(
        email=data.email,
        display_name=data.display_name,
        password_hash=passwords.hash_password(data.password),
        role=data.role,
        language=data.language,
        time_zone=data.time_zone,
        active=True,
        created_at=now(),
    )
    session.add(user)
    session.flush()
    do_record(
        session, actor=actor, action="user.create", object_type="user", object_id=user.id, after=_snapshot(user), ip=ip
    )
    return user


def do_update_user(
    session: Session, *, user: User, data: UserUpdate, actor: Actor | None, ip: str | None = None
) -> User:
    before = _snapshot(user)
    for field in data.model_fields_set:
        value = getattr(data, field)
        if value is None and field != "language":
            continue
        setattr(user, field, value)
    session.flush()
    after = _snapshot(user)
    if after != before:
        do_record(
            session,
            actor=actor,
            action="user.update",
            object_type="user",
            object_id=user.id,
            before=before,
            after=after,
            ip=ip,
        )
    return user


def do_set_role(session: Session, *, user: User, role: Role | str, actor: Actor | None, ip: str | None = None) -> User:
    try:
        new_role = Role(role)
    except ValueError as exc:
        raise InputError(f"unknown role {role!r}; choose one of {', '.join(Role)}", location="role") from exc
    if user.role == Role.admin and new_role != Role.admin and user.active and _active_admins(session) <= 1:
        raise ConflictError("this is the last active admin; make someone else admin first")
    before = _snapshot(user)
    user.role = new_role
    session.flush()
    do_record(
        session,
        actor=actor,
        action="user.set_role",
        object_type="user",
        object_id=user.id,
        before=before,
        after=_snapshot(user),
        ip=ip,
    )
    return user


def _revoke_all(session: Session, *, user_id: int, except_session_id: int | None = None) -> int:
    moment = now()
    stmt = (
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=moment)
    )
    if except_session_id is not None:
        stmt = stmt.where(WebSession.id != except_session_id)
    count = session.execute(stmt).rowcount  # type: ignore[attr-defined]
    return int(count or 0)


def do_deactivate_user(session: Session, *, user: User, actor: Actor | None, ip: str | None = None) -> User:
    """Switch the account off: every session and API token of the user stops working now."""
    if not user.active:
        return user
    if user.role == Role.admin and _active_admins(session) <= 1:
        raise ConflictError("this is the last active admin; make someone else admin first")
    before = _snapshot(user)
    user.active = False
    sessions = _revoke_all(session, user_id=user.id)
    tokens = session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now())
    ).rowcount  # type: ignore[attr-defined]
    session.flush()
    after = {**_snapshot(user), "sessions_revoked": sessions, "tokens_revoked": int(tokens or 0)}
    do_record(
        session,
        actor=actor,
        action="user.deactivate",
        object_type="user",
        object_id=user.id,
        before=before,
        after=after,
        ip=ip,
    )
    return user


def do_reactivate_user(session: Session, *, user: User, actor: Actor | None, ip: str | None = None) -> User:
    if user.active:
        return user
    before = _snapshot(user)
    user.active = True
    session.flush()
    do_record(
        session,
        actor=actor,
        action="user.reactivate",
        object_type="user",
        object_id=user.id,
        before=before,
        after=_snapshot(user),
        ip=ip,
    )
    return user


def _check_rate_limit(session: Session, *, email: str, ip: str, moment: datetime) -> None:
    since = moment - LOGIN_WINDOW
    for where, limit in (
        ((LoginFailure.email == email, LoginFailure.ip == ip), MAX_FAILURES_PER_EMAIL_IP),
        ((LoginFailure.ip == ip,), MAX_FAILURES_PER_IP),
    ):
        count, oldest = session.execute(
            select(func.count(), func.min(LoginFailure.at)).where(*where, LoginFailure.at > since)
        ).one()
        if count >= limit:
            wait = (oldest + LOGIN_WINDOW - moment).total_seconds() if oldest is not None else LOGIN_WINDOW.seconds
            raise RateLimitedError(
                "too many failed sign-in attempts; try again later", retry_after=max(1, math.ceil(wait))
            )


def _fail_sign_in(
    session: Session, *, user: User | None, login: str, address: str, moment: datetime, inactive: bool
) -> NoReturn:
    """Count the failure (committed at once: it must outlive the caller's rollback) and raise."""
    session.add(LoginFailure(email=login, ip=address, at=moment))
    session.execute(delete(LoginFailure).where(LoginFailure.at < moment - 4 * LOGIN_WINDOW))
    do_record(
        session,
        actor=None,
        action="user.sign_in_failed",
        object_type="user",
        object_id=user.id if user is not None else None,
        after={"email": login, "reason": "inactive" if inactive else "password"},
        ip=address,
    )
    session.commit()
    if inactive:
        raise AuthenticationError("this account is deactivated; ask an administrator")
    raise AuthenticationError(WRONG_CREDENTIALS)


def do_sign_in(
    session: Session,
    *,
    email: str,
    password: str,
    ip: str | None,
    user_agent: str | None,
    lifetime: timedelta = SESSION_LIFETIME,
) -> tuple[str, Principal]:
    """Check the password and open a web session; returns the raw cookie value (shown to no one
    but the browser) and the Principal.

    Raises RateLimitedError after too many failures for this e-mail and address, and
    AuthenticationError with the same message for an unknown e-mail and a wrong password (an
    unknown e-mail spends the same hashing time). A failure is committed before raising.
    """
    address = (ip or "unknown")[:64]
    login = email.strip().lower()[:254]
    moment = now()
    _check_rate_limit(session, email=login, ip=address, moment=moment)
    user = get_user_by_email(session, email=login) if login else None
    if user is None:
        passwords.burn_time(password)
        _fail_sign_in(session, user=None, login=login, address=address, moment=moment, inactive=False)
    ok = passwords.verify_password(user.password_hash, password)
    if not ok or not user.active:
        _fail_sign_in(session, user=user, login=login, address=address, moment=moment, inactive=ok)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    session.execute(delete(LoginFailure).where(LoginFailure.email == login, LoginFailure.ip == address))
    raw = new_secret()
    web_session = WebSession(
        user_id=user.id,
        token_hash=digest(raw),
        csrf_secret=new_secret(),
        created_at=moment,
        last_seen_at=moment,
        expires_at=moment + lifetime,
        user_agent=(user_agent or "")[:300] or None,
        ip=address,
    )
    user.last_login_at = moment
    session.add(web_session)
    session.flush()
    principal = principal_for(user, session_row=web_session)
    do_record(
        session,
        actor=principal,
        action="user.sign_in",
        object_type="user",
        object_id=user.id,
        after={"session_id": web_session.id},
        ip=address,
    )
    return raw, principal


def do_sign_out(session: Session, *, principal: Principal, ip: str | None = None) -> None:
    """End the session the principal signed in with (a no-op for API-token principals)."""
    if principal.session_id is None:
        return
    session.execute(
        update(WebSession)
        .where(WebSession.id == principal.session_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=now())
    )
    do_record(
        session,
        actor=principal,
        action="user.sign_out",
        object_type="user",
        object_id=principal.user_id,
        after={"session_id": principal.session_id},
        ip=ip,
    )


def do_sign_out_everywhere(session: Session, *, user_id: int, actor: Actor | None, ip: str | None = None) -> int:
    """Revoke every session of the user (API tokens stay: they are revoked one by one)."""
    count = _revoke_all(session, user_id=user_id)
    session.flush()
    do_record(
        session,
        actor=actor,
        action="user.sign_out_everywhere",
        object_type="user",
        object_id=user_id,
        after={"sessions_revoked": count},
        ip=ip,
    )
    return count


def do_revoke_session(
    session: Session, *, user_id: int, session_id: int, actor: Actor | None, ip: str | None = None
) -> None:
    """Revoke one of the user's own sessions (the sessions page)."""
    row = session.get(WebSession, session_id)
    if row is None or row.user_id != user_id:
        raise NotFoundError(f"no session {session_id}")
    if row.revoked_at is None:
        row.revoked_at = now()
        session.flush()
        do_record(session, actor=actor, action="session.revoke", object_type="web_session", object_id=session_id, ip=ip)


def do_change_password(
    session: Session,
    *,
    user: User,
    current_password: str,
    new_password: str,
    actor: Actor | None,
    keep_session_id: int | None = None,
    ip: str | None = None,
) -> int:
    """Change the password after checking the current one; every other session of the user is
    signed out (a stolen cookie dies with the old password). Returns how many were revoked."""
    if not passwords.verify_password(user.password_hash, current_password):
        raise InputError("the current password is wrong", location="current_password")
    passwords.check_strength(new_password)
    if new_password == current_password:
        raise InputError("the new password must differ from the current one", location="new_password")
    user.password_hash = passwords.hash_password(new_password)
    revoked = _revoke_all(session, user_id=user.id, except_session_id=keep_session_id)
    session.flush()
    do_record(
        session,
        actor=actor,
        action="user.change_password",
        object_type="user",
        object_id=user.id,
        after={"sessions_revoked": revoked},
        ip=ip,
    )
    return revoked


def do_set_password(
    session: Session, *, user: User, new_password: str, actor: Actor | None, ip: str | None = None
) -> int:
    """Set a password without knowing the old one (an admin or the command line helping someone
    locked out); every session of the user is signed out. Returns how many were revoked."""
    passwords.check_strength(new_password)
    user.password_hash = passwords.hash_password(new_password)
    revoked = _revoke_all(session, user_id=user.id)
    session.flush()
    do_record(
        session,
        actor=actor,
        action="user.set_password",
        object_type="user",
        object_id=user.id,
        after={"sessions_revoked": revoked},
        ip=ip,
    )
    return revoked


def do_create_api_token(
    session: Session,
    *,
    user_id: int,
    name: str,
    expires_at: datetime | None = None,
    actor: Actor | None,
    ip: str | None = None,
) -> tuple[str, ApiToken]:
    """Make a token; the raw value is returned here and never again."""
    label = name.strip()
    if not label or len(label) > 100:
        raise InputError("give the token a name of 1 to 100 characters", location="name")
    if expires_at is not None and expires_at <= now():
        raise InputError("the expiry date must be in the future", location="expires_at")
    raw = new_api_token()
    token = ApiToken(
        user_id=user_id,
        name=label,
        prefix=raw[:DISPLAY_PREFIX_LEN],
        token_hash=digest(raw),
        created_at=now(),
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    do_record(
        session,
        actor=actor,
        action="api_token.create",
        object_type="api_token",
        object_id=token.id,
        after={
            "user_id": user_id,
            "name": label,
            "prefix": token.prefix,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
        ip=ip,
    )
    return raw, token


def do_revoke_api_token(
    session: Session, *, user_id: int, token_id: int, actor: Actor | None, ip: str | None = None
) -> ApiToken:
    """Revoke one of ``user_id``'s tokens (a token of someone else is 'not found')."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        raise NotFoundError(f"no API token {token_id}")
    if token.revoked_at is None:
        token.revoked_at = now()
        session.flush()
        do_record(
            session,
            actor=actor,
            action="api_token.revoke",
            object_type="api_token",
            object_id=token.id,
            after={"user_id": user_id, "prefix": token.prefix},
            ip=ip,
        )
    return token


def do_create_setup_token(session: Session, *, lifetime: timedelta = SETUP_TOKEN_LIFETIME) -> str | None:
    """A fresh one-time setup token while no user exists (None once someone does). Called at app
    start; the raw token is printed to the operator's console, only its digest is stored."""
    if count_users(session) > 0:
        return None
    raw = new_secret()
    moment = now()
    session.add(SetupToken(token_hash=digest(raw), created_at=moment, expires_at=moment + lifetime))
    session.flush()
    do_record(session, actor=None, action="setup_token.create", object_type="setup_token")
    return raw


def do_complete_setup(
    session: Session,
    *,
    raw_token: str,
    email: str,
    display_name: str,
    password: str,
    language: str | None = None,
    ip: str | None = None,
) -> User:
    """Create the first admin with the setup token; every setup token is spent afterwards.

    The token is claimed with one conditional UPDATE, so two browsers racing with the same token
    (or two web processes) cannot both create an admin: the second finds it used."""
    if len(raw_token) > 200 or not setup_token_valid(session, raw_token=raw_token):
        raise AuthenticationError("the setup token is wrong, expired or already used")
    moment = now()
    claimed = session.execute(
        update(SetupToken)
        .where(SetupToken.token_hash == digest(raw_token), SetupToken.used_at.is_(None), SetupToken.expires_at > moment)
        .values(used_at=moment)
    ).rowcount  # type: ignore[attr-defined]
    if claimed != 1 or count_users(session) > 0:
        raise AuthenticationError("the setup token is wrong, expired or already used")
    user = do_create_user(
        session,
        email=email,
        display_name=display_name,
        password=password,
        role=Role.admin,
        language=language,
        actor=None,
        ip=ip,
    )
    session.execute(update(SetupToken).where(SetupToken.used_at.is_(None)).values(used_at=moment))
    session.flush()
    do_record(session, actor=None, action="setup.complete", object_type="user", object_id=user.id, ip=ip)
    return user
