"""Page dependencies: :func:`require_page` (who may see a page) and :func:`csrf_form` (every POST
form proves it came from one of our pages).

A page answers differently from the API when someone is refused: signed out -> 303 to
``/login?next=<this page>`` (or to ``/setup`` while no user exists yet); signed in without the
permission -> a 403 page in their language. ``PagePermissionCheck`` subclasses the API's
``PermissionCheck`` so the route-permission test finds both the same way.

CSRF on pages: every POST form carries a hidden ``csrf_token``. Signed in, it must equal the
session's CSRF secret; signed out (the sign-in and setup forms) it must equal the ``rz_csrf``
cookie set when the form was shown (double submit), so a foreign site cannot sign a browser into
an account of its choosing either.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any
from urllib.parse import quote, unquote_to_bytes, urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from resonanz import i18n
from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import Principal
from resonanz.accounts.service import count_users
from resonanz.accounts.tokens import new_secret
from resonanz.api.deps import SESSION_COOKIE, AuthRefused, DbSession, PermissionCheck, authenticate
from resonanz.config import Settings
from resonanz.i18n import N_

PRE_SESSION_CSRF_COOKIE = "rz_csrf"
CSRF_FIELD = "csrf_token"
#: What a page's form may hold (sign-in, settings, a correction: small).
MAX_FORM_FIELDS = 50
MAX_FORM_BYTES = 256 * 1024


def safe_next(value: str | None, default: str = "/") -> str:
    """``value`` when it is a path on this site, else ``default`` (no open redirect: refuses
    ``//evil``, ``/\\evil``, ``https://evil``, control characters and anything with a scheme/host)."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ord(ch) < 0x20 or ch == "\\" for ch in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def is_secure(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    return settings.cookie_secure or request.url.scheme == "https"


def set_session_cookie(response: Response, request: Request, raw_token: str, *, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE, raw_token, max_age=max_age, path="/", httponly=True, samesite="lax", secure=is_secure(request)
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_secure(request))


def pre_session_csrf(request: Request) -> str:
    """The double-submit token for signed-out forms: the cookie's value, or a new one that
    :func:`attach_pre_session_csrf` sets on the response."""
    current = request.cookies.get(PRE_SESSION_CSRF_COOKIE)
    if current and 20 <= len(current) <= 100:
        return current
    token: str | None = getattr(request.state, "new_pre_csrf", None)
    if token is None:
        token = new_secret()
        request.state.new_pre_csrf = token
    return token


def attach_pre_session_csrf(response: Response, request: Request) -> Response:
    token = getattr(request.state, "new_pre_csrf", None)
    if token:
        response.set_cookie(
            PRE_SESSION_CSRF_COOKIE, token, path="/", httponly=True, samesite="lax", secure=is_secure(request)
        )
    return response


def translate(request: Request, message: str) -> str:
    """``message`` in the language of this request (the person's setting, else Accept-Language)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    locale = i18n.negotiate(request.headers.get("accept-language"), principal.language if principal else None)
    return i18n.translations(locale).ugettext(message)


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    """A page saying what went wrong, in the person's language (C's ``error.html``)."""
    from resonanz.web.templating import render

    return render(
        request,
        "error.html",
        {"title": translate(request, title), "message": translate(request, message)},
        status_code=status,
    )


class PagePermissionCheck(PermissionCheck):
    """:class:`PermissionCheck` for pages: redirects to sign-in, 403 page; CSRF by form field."""

    csrf_by_header = False

    def unauthenticated(self, request: Request, session: Session) -> Response:
        if count_users(session) == 0:
            return RedirectResponse("/setup", status_code=303)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        response = RedirectResponse(f"/login?next={quote(safe_next(target), safe='')}", status_code=303)
        if SESSION_COOKIE in request.cookies:
            clear_session_cookie(response, request)
        return response

    def forbidden(self, request: Request, principal: Principal) -> Response:
        return error_page(
            request,
            403,
            N_("Not allowed"),
            N_("Your role does not allow this page. Ask an administrator if you need it."),
        )


def require_page(permission: Permission) -> Any:
    """``Depends(PagePermissionCheck(permission))`` for ``Annotated[Principal, require_page(...)]``."""
    return Depends(PagePermissionCheck(permission))


def optional_principal(request: Request, session: DbSession) -> Principal | None:
    """The signed-in person or None; for pages anyone may see (sign-in, setup)."""
    return authenticate(request, session)


def _form_is_utf8(body: bytes, content_type: str) -> bool:
    """Whether every field of the form decodes as UTF-8. Starlette would silently turn broken bytes
    into replacement characters (or Latin-1), and a password or name in mojibake helps nobody."""
    try:
        body.decode("utf-8")
        if content_type.startswith("application/x-www-form-urlencoded"):
            unquote_to_bytes(body.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


async def read_form(request: Request) -> FormData:
    """The request's form, or a 4xx page when it cannot be read: too large (413), not UTF-8, broken
    multipart, too many fields or a file (400)."""
    unreadable = N_("The form could not be read (it must be UTF-8 text). Reload the page and try again.")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise AuthRefused(error_page(request, 413, N_("Too large"), N_("The form is too large.")))
    if not _form_is_utf8(body, request.headers.get("content-type", "")):
        raise AuthRefused(error_page(request, 400, N_("Bad request"), unreadable))
    try:
        return await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    except (MultiPartException, StarletteHTTPException, UnicodeError, ValueError) as exc:
        # Starlette answers a broken multipart body or too many fields with its own 400 exception
        raise AuthRefused(error_page(request, 400, N_("Bad request"), unreadable)) from exc


async def csrf_form(request: Request, principal: Annotated[Principal | None, Depends(optional_principal)]) -> FormData:
    """Every POST form's guard: the hidden ``csrf_token`` must match (see the module docstring).
    Returns the parsed form so the route need not read it again."""
    form = await read_form(request)
    given = form.get(CSRF_FIELD)
    expected = principal.csrf_token if principal is not None else request.cookies.get(PRE_SESSION_CSRF_COOKIE)
    if (
        not isinstance(given, str)
        or not expected
        or not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))
    ):
        raise AuthRefused(
            error_page(
                request,
                403,
                N_("Form expired"),
                N_(
                    "This form was not sent from a current page of this site (the security token is missing "
                    "or out of date). Reload the page and send it again."
                ),
            )
        )
    return form


CsrfForm = Annotated[FormData, Depends(csrf_form)]
