"""Sign-in pages: /login, /logout, /logout-everywhere, /setup (first admin with the one-time token),
/settings (language, time zone, password), /settings/tokens and /settings/sessions.

Every POST form is guarded by :func:`resonanz.web.deps.csrf_form`; every page for a signed-in
person needs ``profile.edit`` (all roles carry it). Messages are in the request's language.
"""

from __future__ import annotations

import sys
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo, available_timezones

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from resonanz.accounts import actions, service
from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import MIN_PASSWORD_LENGTH, Principal, UserUpdate
from resonanz.api.deps import DbSession, idle_timeout
from resonanz.clock import now
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.errors import AuthenticationError, ConflictError, InputError, NotFoundError, RateLimitedError
from resonanz.i18n import N_
from resonanz.web.deps import (
    CsrfForm,
    attach_pre_session_csrf,
    clear_session_cookie,
    optional_principal,
    pre_session_csrf,
    require_page,
    safe_next,
    set_session_cookie,
    translate,
)
from resonanz.web.templating import render

router = APIRouter(include_in_schema=False)

SignedIn = Annotated[Principal, require_page(Permission.profile_edit)]
MaybeSignedIn = Annotated[Principal | None, Depends(optional_principal)]

WRONG_CREDENTIALS = N_("Wrong e-mail or password.")
RATE_LIMITED = N_("Too many failed attempts. Wait %(minutes)s minutes and try again.")
DEACTIVATED = N_("This account is deactivated. Ask an administrator.")
SETUP_TOKEN_WRONG = N_("The setup token is wrong, expired or already used. Restart the server for a new one.")
PASSWORDS_DIFFER = N_("The two new passwords differ.")
#: Reasons the accounts actions give (English, from business code) that these pages show translated.
DOMAIN_MESSAGES = (
    N_("the password must be at least 10 characters long"),
    N_("the password must be at most 1000 characters long"),
    N_("the current password is wrong"),
    N_("the new password must differ from the current one"),
    N_("give the token a name of 1 to 100 characters"),
    N_("the expiry date must be in the future"),
    N_("the expiry date must look like 2027-12-31"),
)


def field(form: FormData, name: str, *, max_len: int = 1000) -> str:
    value = form.get(name)
    return value[:max_len] if isinstance(value, str) else ""


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@lru_cache(maxsize=1)
def time_zones() -> list[str]:
    return sorted(available_timezones())


def session_lifetime(request: Request) -> timedelta:
    settings: Settings = request.app.state.settings
    return timedelta(days=settings.session_max_days)


def _signed_in_redirect(request: Request, raw_token: str, target: str) -> Response:
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, raw_token, max_age=int(session_lifetime(request).total_seconds()))
    return response


def _login_page(
    request: Request, *, next_url: str, email: str = "", error: str | None = None, status: int = 200
) -> Response:
    context = {"csrf_token": pre_session_csrf(request), "next": next_url, "email": email, "error": error}
    return attach_pre_session_csrf(render(request, "auth/login.html", context, status_code=status), request)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, session: DbSession, principal: MaybeSignedIn, next: str | None = None) -> Response:
    """The sign-in form; signed in already -> straight on; no user yet -> the setup page."""
    target = safe_next(next)
    if principal is not None:
        return RedirectResponse(target, status_code=303)
    if service.count_users(session) == 0:
        return RedirectResponse("/setup", status_code=303)
    return _login_page(request, next_url=target)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, session: DbSession, form: CsrfForm) -> Response:
    email = field(form, "email", max_len=254)
    target = safe_next(field(form, "next", max_len=2000))
    try:
        raw, _principal = actions.do_sign_in(
            session,
            email=email,
            password=field(form, "password"),
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent"),
            lifetime=session_lifetime(request),
        )
    except RateLimitedError as exc:
        session.rollback()
        message = translate(request, RATE_LIMITED) % {"minutes": max(1, round(exc.retry_after / 60))}
        response = _login_page(request, next_url=target, email=email, error=message, status=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except AuthenticationError as exc:
        text = DEACTIVATED if "deactivated" in str(exc) else WRONG_CREDENTIALS
        return _login_page(request, next_url=target, email=email, error=translate(request, text), status=401)
    session.commit()
    return _signed_in_redirect(request, raw, target)


@router.post("/logout")
def logout(request: Request, session: DbSession, principal: SignedIn, _form: CsrfForm) -> Response:
    actions.do_sign_out(session, principal=principal, ip=client_ip(request))
    session.commit()
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, request)
    return response


@router.post("/logout-everywhere")
def logout_everywhere(request: Request, session: DbSession, principal: SignedIn, _form: CsrfForm) -> Response:
    """Sign out every browser of this person (a lost phone, a shared computer)."""
    actions.do_sign_out_everywhere(session, user_id=principal.user_id, actor=principal, ip=client_ip(request))
    session.commit()
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, request)
    return response


def _setup_page(
    request: Request, *, values: dict[str, str] | None = None, error: str | None = None, status: int = 200
) -> Response:
    context: dict[str, Any] = {
        "csrf_token": pre_session_csrf(request),
        "values": values or {},
        "error": error,
        "min_length": MIN_PASSWORD_LENGTH,
    }
    return attach_pre_session_csrf(render(request, "auth/setup.html", context, status_code=status), request)


@router.get("/setup", response_class=HTMLResponse)
def setup_form(request: Request, session: DbSession) -> Response:
    """Create the first admin; only while no user exists."""
    if service.count_users(session) > 0:
        return RedirectResponse("/login", status_code=303)
    return _setup_page(request)


@router.post("/setup", response_class=HTMLResponse)
def setup(request: Request, session: DbSession, form: CsrfForm) -> Response:
    if service.count_users(session) > 0:
        return RedirectResponse("/login", status_code=303)
    values = {
        "email": field(form, "email", max_len=254),
        "display_name": field(form, "display_name", max_len=200),
        "language": field(form, "language", max_len=8),
    }
    password = field(form, "password")
    if password != field(form, "password_confirm"):
        return _setup_page(request, values=values, error=translate(request, PASSWORDS_DIFFER), status=422)
    try:
        user = actions.do_complete_setup(
            session,
            raw_token=field(form, "token", max_len=200).strip(),
            email=values["email"],
            display_name=values["display_name"] or values["email"],
            password=password,
            language=values["language"] if values["language"] in ("de", "en") else None,
            ip=client_ip(request),
        )
        session.commit()
    except AuthenticationError:
        session.rollback()
        return _setup_page(request, values=values, error=translate(request, SETUP_TOKEN_WRONG), status=403)
    except (InputError, ConflictError) as exc:
        session.rollback()
        return _setup_page(request, values=values, error=translate(request, _reason(exc)), status=422)
    raw, _principal = actions.do_sign_in(
        session,
        email=user.email,
        password=password,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
        lifetime=session_lifetime(request),
    )
    session.commit()
    return _signed_in_redirect(request, raw, "/")


def _reason(exc: Exception) -> str:
    return exc.reason if isinstance(exc, InputError) else str(exc)


def _settings_page(
    request: Request, session: DbSession, principal: Principal, *, error: str | None = None, status: int = 200
) -> Response:
    user = service.get_user(session, id=principal.user_id)
    notice = {"saved": N_("Your settings are saved."), "password": N_("Your password is changed.")}.get(
        request.query_params.get("done", "")
    )
    context = {
        "principal": principal,
        "user": user,
        "time_zones": time_zones(),
        "notice": notice,
        "error": error,
        "min_length": MIN_PASSWORD_LENGTH,
    }
    return render(request, "auth/settings.html", context, status_code=status)


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, session: DbSession, principal: SignedIn) -> Response:
    return _settings_page(request, session, principal)


@router.post("/settings", response_class=HTMLResponse)
def save_settings(request: Request, session: DbSession, principal: SignedIn, form: CsrfForm) -> Response:
    """Display name, language ('' = the browser's) and time zone."""
    language = field(form, "language", max_len=8)
    try:
        data = UserUpdate(
            display_name=field(form, "display_name", max_len=200).strip() or None,
            language=language if language in ("de", "en") else None,
            time_zone=field(form, "time_zone", max_len=64) or None,
        )
    except ValueError:
        return _settings_page(
            request, session, principal, error=translate(request, N_("Choose a time zone from the list.")), status=422
        )
    user = service.get_user(session, id=principal.user_id)
    actions.do_update_user(session, user=user, data=data, actor=principal, ip=client_ip(request))
    session.commit()
    return RedirectResponse("/settings?done=saved", status_code=303)


@router.post("/settings/password", response_class=HTMLResponse)
def change_password(request: Request, session: DbSession, principal: SignedIn, form: CsrfForm) -> Response:
    """New password; every other session of the person is signed out."""
    new = field(form, "new_password")
    if new != field(form, "new_password_confirm"):
        return _settings_page(request, session, principal, error=translate(request, PASSWORDS_DIFFER), status=422)
    user = service.get_user(session, id=principal.user_id)
    try:
        actions.do_change_password(
            session,
            user=user,
            current_password=field(form, "current_password"),
            new_password=new,
            actor=principal,
            keep_session_id=principal.session_id,
            ip=client_ip(request),
        )
    except InputError as exc:
        session.rollback()
        return _settings_page(request, session, principal, error=translate(request, exc.reason), status=422)
    session.commit()
    return RedirectResponse("/settings?done=password", status_code=303)


def _tokens_page(
    request: Request,
    session: DbSession,
    principal: Principal,
    *,
    new_token: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    tokens = service.list_api_tokens(session, user_id=principal.user_id)
    context = {"principal": principal, "tokens": tokens, "new_token": new_token, "error": error, "now": now()}
    response = render(request, "auth/tokens.html", context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/settings/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, session: DbSession, principal: SignedIn) -> Response:
    return _tokens_page(request, session, principal)


def _expiry(value: str, tz: str) -> datetime | None:
    """'' -> never; 'YYYY-MM-DD' -> the end of that day in the person's time zone."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise InputError("the expiry date must look like 2027-12-31", location="expires_at") from exc
    return datetime.combine(day, time(23, 59, 59), tzinfo=ZoneInfo(tz))


@router.post("/settings/tokens", response_class=HTMLResponse)
def create_token(request: Request, session: DbSession, principal: SignedIn, form: CsrfForm) -> Response:
    """Make a token and show it this once (the page is not cached; reloading does not show it again)."""
    try:
        raw, _token = actions.do_create_api_token(
            session,
            user_id=principal.user_id,
            name=field(form, "name", max_len=200),
            expires_at=_expiry(field(form, "expires_at", max_len=20), principal.time_zone),
            actor=principal,
            ip=client_ip(request),
        )
    except InputError as exc:
        session.rollback()
        return _tokens_page(request, session, principal, error=translate(request, exc.reason), status=422)
    session.commit()
    return _tokens_page(request, session, principal, new_token=raw, status=201)


@router.post("/settings/tokens/{token_id}/revoke")
def revoke_token(request: Request, session: DbSession, principal: SignedIn, _form: CsrfForm, token_id: int) -> Response:
    try:
        actions.do_revoke_api_token(
            session, user_id=principal.user_id, token_id=token_id, actor=principal, ip=client_ip(request)
        )
    except NotFoundError:
        return _tokens_page(request, session, principal, error=translate(request, N_("No such token.")), status=404)
    session.commit()
    return RedirectResponse("/settings/tokens", status_code=303)


@router.get("/settings/sessions", response_class=HTMLResponse)
def sessions_page(request: Request, session: DbSession, principal: SignedIn) -> Response:
    rows = service.list_web_sessions(session, user_id=principal.user_id, idle=idle_timeout(request))
    return render(request, "auth/sessions.html", {"principal": principal, "sessions": rows})


@router.post("/settings/sessions/{session_id}/revoke")
def revoke_session(
    request: Request, session: DbSession, principal: SignedIn, _form: CsrfForm, session_id: int
) -> Response:
    try:
        actions.do_revoke_session(
            session, user_id=principal.user_id, session_id=session_id, actor=principal, ip=client_ip(request)
        )
    except NotFoundError:
        return RedirectResponse("/settings/sessions", status_code=303)
    session.commit()
    if session_id == principal.session_id:
        response = RedirectResponse("/login", status_code=303)
        clear_session_cookie(response, request)
        return response
    return RedirectResponse("/settings/sessions", status_code=303)


def offer_setup(db: Database) -> str | None:
    """At start, while no user exists: make a one-time setup token and print it with the URL to
    the operator's console (only its digest is stored). Returns the token (tests read it)."""
    with db.sessions() as session, session.begin():
        raw = actions.do_create_setup_token(session)
    if raw is not None:
        print(
            "\nNo user exists yet. Open /setup in the browser and enter this one-time setup token "
            f"to create the first admin:\n\n    {raw}\n\n(or run: resonanz init --admin-email YOU@EXAMPLE)\n",
            file=sys.stderr,
            flush=True,
        )
    return raw
