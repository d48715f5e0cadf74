"""Request dependencies every API route and page uses: one database session per request, and
who is asking (:class:`PermissionCheck`).

Usage in a route::

    principal: Annotated[Principal, require(Permission.mentions_read)]

A request is authenticated by ``Authorization: Bearer rz_…`` (a personal API token) or by the
session cookie ``rz_session``. With the cookie, an unsafe method (POST, PUT, PATCH, DELETE) must
also send the session's CSRF token in ``X-CSRF-Token``: a cookie is sent by the browser on a
cross-site request, a custom header is not. Refusals are problem documents: 401 when nobody is
signed in (or the session/token expired, was revoked, or its user deactivated), 403 when the role
lacks the permission or the CSRF token is missing or wrong.

The route-permission test finds every route's ``PermissionCheck`` through FastAPI's dependency tree,
so a route without one fails CI unless it is on the test's public allowlist.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import Principal
from resonanz.accounts.service import resolve_api_token, resolve_session
from resonanz.api.problems import problem_response
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.db.engine import READ_ONLY, ReadOnlyTransactionError, begin_read_only, read_only_engine

SESSION_COOKIE = "rz_session"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_AUTH_DONE = "rz_auth_done"
_READ_ONLY_ENGINE = "read_only_engine"


def get_db_session(request: Request) -> Iterator[Session]:
    """One session per request from ``app.state.db``; the route commits what it changes.

    A safe method (GET, HEAD, OPTIONS) gets a session whose every transaction is read-only
    (:func:`resonanz.db.engine.read_only_engine`): on SQLite many readers then never queue for the
    write lock, and a handler that writes on GET fails with ``ReadOnlyTransactionError`` (in tests
    first) instead of racing for the lock under load. A handler that must write on GET calls
    :func:`resonanz.db.engine.allow_writes` with ``app.state.db.engine``."""
    db: Database = request.app.state.db
    if request.method in UNSAFE_METHODS:
        with db.sessions() as session:
            yield session
        return
    engine = getattr(request.app.state, _READ_ONLY_ENGINE, None)
    if engine is None or engine.pool is not db.engine.pool:  # one per app (and per database, in tests)
        engine = read_only_engine(db.engine)
        setattr(request.app.state, _READ_ONLY_ENGINE, engine)
    with db.sessions(bind=engine) as session:
        yield session


DbSession = Annotated[Session, Depends(get_db_session)]


class AuthRefused(Exception):  # noqa: N818 - a response in flight, not an error condition
    """Raised by a dependency to answer with ``response`` (a problem, a redirect, a 403 page)."""

    def __init__(self, response: Response) -> None:
        self.response = response
        super().__init__(response.status_code)


async def _on_auth_refused(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AuthRefused)
    return exc.response


def install(app: FastAPI) -> None:
    """Register the handler that turns :class:`AuthRefused` into its response (``create_app``)."""
    app.add_exception_handler(AuthRefused, _on_auth_refused)


def idle_timeout(request: Request) -> timedelta:
    settings: Settings = request.app.state.settings
    return timedelta(minutes=settings.session_idle_minutes)


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _resolve(request: Request, session: Session) -> Principal | None:
    token = bearer_token(request)
    if token is not None:
        return resolve_api_token(session, raw_token=token)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return resolve_session(session, raw_token=cookie, idle=idle_timeout(request))
    return None


def authenticate(request: Request, session: Session) -> Principal | None:
    """Who is asking, or None. Looked up once per request (cached on ``request.state``); a bearer
    token wins over the cookie. Commits the last-seen/last-used bookkeeping right away.

    The look-up runs in a read-only transaction, so on SQLite it never waits for the write lock;
    only when the last-used/last-seen stamp is due (at most once a minute per token or session)
    does it run again in a transaction that may write."""
    if getattr(request.state, _AUTH_DONE, False):
        return getattr(request.state, "principal", None)
    begin_read_only(session)
    try:
        principal = _resolve(request, session)
    except ReadOnlyTransactionError:  # the stamp is due: redo the look-up as a writer
        session.rollback()
        session.connection(execution_options={READ_ONLY: False})
        principal = _resolve(request, session)
    if session.new or session.dirty or session.in_transaction():
        session.commit()
    setattr(request.state, _AUTH_DONE, True)
    request.state.principal = principal
    return principal


def csrf_matches(given: str | None, principal: Principal) -> bool:
    expected = principal.csrf_token
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


class PermissionCheck:
    """The dependency behind :func:`require`: the Principal when signed in with ``permission``,
    else an :class:`AuthRefused` carrying the answer (see the module docstring)."""

    #: Whether unsafe methods with the cookie need ``X-CSRF-Token`` (pages use a form field instead).
    csrf_by_header = True

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.permission.value!r})"

    def __call__(self, request: Request, session: DbSession) -> Principal:
        principal = authenticate(request, session)
        if principal is None:
            raise AuthRefused(self.unauthenticated(request, session))
        if (
            self.csrf_by_header
            and principal.session_id is not None
            and request.method in UNSAFE_METHODS
            and not csrf_matches(request.headers.get(CSRF_HEADER), principal)
        ):
            raise AuthRefused(self.csrf_refused(request))
        if not principal.can(self.permission):
            raise AuthRefused(self.forbidden(request, principal))
        return principal

    def unauthenticated(self, request: Request, session: Session) -> Response:
        had_credentials = bearer_token(request) is not None or SESSION_COOKIE in request.cookies
        detail = (
            "the token or session is unknown, expired or revoked, or its account is deactivated; sign in again"
            if had_credentials
            else "sign in first: send 'Authorization: Bearer <API token>' or the session cookie"
        )
        return problem_response(
            401,
            slug="not-signed-in",
            title="Not signed in",
            detail=detail,
            instance=request.url.path,
            headers={"WWW-Authenticate": 'Bearer realm="resonanz"'},
        )

    def csrf_refused(self, request: Request) -> Response:
        return problem_response(
            403,
            slug="csrf",
            title="CSRF token missing or wrong",
            detail=f"requests with the session cookie that change something need the header {CSRF_HEADER} "
            "with the session's CSRF token (or use an API token instead of the cookie)",
            instance=request.url.path,
        )

    def forbidden(self, request: Request, principal: Principal) -> Response:
        return problem_response(
            403,
            slug="forbidden",
            title="Forbidden",
            detail=f"your role ({principal.role.value}) lacks the permission {self.permission.value!r}",
            instance=request.url.path,
        )


def require(permission: Permission) -> Any:
    """``Depends(PermissionCheck(permission))`` for ``Annotated[Principal, require(...)]``."""
    return Depends(PermissionCheck(permission))
