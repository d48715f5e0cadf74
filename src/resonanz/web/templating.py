"""Rendering pages: one Jinja environment per language, and the context every page gets.

``render(request, name, context)`` is the one way a page becomes HTML. It decides the language
(the signed-in person's setting, else Accept-Language), binds date and number formatting to that
language and the person's time zone, and filters the navigation by permission, so a template never
has to. Autoescaping is on for every template: text from posts is untrusted and only becomes markup
through :func:`resonanz.web.html.sanitise` (nh3).

Why one environment per language rather than installing translations per request: an environment
is shared between threads, so swapping its gettext per request would leak one person's language into
another's page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Protocol

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from resonanz import __version__, i18n
from resonanz.accounts.permissions import Permission
from resonanz.i18n import N_


class PrincipalLike(Protocol):
    """What a page needs from the signed-in person (``resonanz.accounts.schemas.Principal``)."""

    @property
    def display_name(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def language(self) -> str | None: ...
    @property
    def time_zone(self) -> str: ...
    @property
    def csrf_token(self) -> str | None: ...
    def can(self, permission: Permission) -> bool: ...


@dataclass(frozen=True)
class NavItem:
    key: str
    href: str
    label: str  # msgid, translated at render time
    permission: Permission


NAV: tuple[NavItem, ...] = (
    NavItem("dashboard", "/", N_("Dashboard"), Permission.dashboards_read),
    NavItem("mentions", "/mentions", N_("Mentions"), Permission.mentions_read),
    NavItem("queries", "/queries", N_("Queries"), Permission.dashboards_read),
    NavItem("inbox", "/inbox", N_("Inbox"), Permission.cases_read),
    NavItem("approvals", "/approvals", N_("Approvals"), Permission.cases_approve),
    NavItem("knowledge", "/knowledge", N_("Knowledge base"), Permission.knowledge_read),
    NavItem("alerts", "/alerts", N_("Alerts"), Permission.alerts_read),
    NavItem("reports", "/reports", N_("Reports"), Permission.reports_read),
    NavItem("admin", "/admin", N_("Admin"), Permission.users_manage),
)


@lru_cache(maxsize=len(i18n.LOCALES))
def environment(locale: str) -> Environment:
    """The Jinja environment for ``locale``, with that language's catalogue installed (newstyle
    gettext: ``_("%(n)s mentions", n=3)`` formats after translating and stays escape-safe)."""
    env = Environment(
        loader=PackageLoader("resonanz.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(locale), newstyle=True)  # type: ignore[attr-defined]
    # the catalogue's own gettext (no %-formatting, no Markup), for code that words stored facts
    env.globals["gettext_plain"] = i18n.translations(locale).ugettext
    env.globals["version"] = __version__
    return env


def principal_of(request: Request, context: Mapping[str, Any] | None = None) -> PrincipalLike | None:
    """The signed-in person: from the page's context, else what the auth dependency left on the request."""
    if context and context.get("principal") is not None:
        return context["principal"]  # type: ignore[no-any-return]
    return getattr(request.state, "principal", None)


def locale_of(request: Request, principal: PrincipalLike | None = None) -> str:
    """'de' or 'en' for this request: the person's setting wins, else Accept-Language."""
    principal = principal or principal_of(request)
    return i18n.negotiate(request.headers.get("accept-language"), principal.language if principal else None)


#: the analysis stores its reasons as "kind: value" in English (intent rules and model words,
#: offensive words); a page words the kind in its reader's language
REASON_KINDS = {
    "word": N_("word"),
    "question phrase": N_("question phrase"),
    "question": N_("question"),
    "suggestion phrase": N_("suggestion phrase"),
    "complaint cue": N_("complaint cue"),
    "praise cue": N_("praise cue"),
    "addressed": N_("addressed"),
}
WHOLE_REASONS = {
    "question mark": N_("question mark"),
    "language not modelled": N_("language not modelled"),
    "language not modelled: rules only": N_("language not modelled: rules only"),
}


def reason_text(reason: str, gettext: Callable[[str], str]) -> str:
    """One stored analysis reason in the reader's language (unknown ones as they are)."""
    if reason in WHOLE_REASONS:
        return gettext(WHOLE_REASONS[reason])
    kind, sep, value = reason.partition(": ")
    return f"{gettext(REASON_KINDS[kind])}: {value}" if sep and kind in REASON_KINDS else reason


def formatters(locale: str, tz: str) -> dict[str, Callable[..., str]]:
    """Date/number helpers bound to one language and zone, as templates and views call them."""

    def fmt_datetime(dt: datetime | None, format: str = "medium") -> str:
        return i18n.format_datetime(dt, locale, tz, format=format)

    def fmt_date(value: date | datetime | None, format: str = "medium") -> str:
        return i18n.format_date(value, locale, tz, format=format)

    def fmt_number(value: float | None, decimals: int | None = None) -> str:
        return i18n.format_number(value, locale, decimals=decimals)

    def fmt_percent(value: float | None) -> str:
        return i18n.format_percent(value, locale)

    def fmt_relative(dt: datetime | None) -> str:
        return i18n.format_relative(dt, locale)

    def fmt_language(code: str | None) -> str:
        return i18n.language_name(code, locale)

    def fmt_reasons(reasons: list[str] | None, limit: int = 6) -> str:
        gettext = i18n.translations(locale).ugettext
        return "; ".join(reason_text(r, gettext) for r in (reasons or [])[:limit] if isinstance(r, str))

    return {
        "language_name": fmt_language,
        "format_datetime": fmt_datetime,
        "format_date": fmt_date,
        "format_number": fmt_number,
        "format_percent": fmt_percent,
        "format_relative": fmt_relative,
        "format_reasons": fmt_reasons,
    }


def nav_items(principal: PrincipalLike | None, path: str, locale: str) -> list[dict[str, Any]]:
    """The navigation this person may use, with the current area marked (``aria-current``)."""
    if principal is None:
        return []
    gettext = i18n.translations(locale).ugettext
    items = []
    for item in NAV:
        if not principal.can(item.permission):
            continue
        current = path == "/" if item.href == "/" else (path == item.href or path.startswith(item.href + "/"))
        items.append({"key": item.key, "href": item.href, "label": gettext(item.label), "current": current})
    return items


def render(
    request: Request, name: str, context: Mapping[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render template ``name`` for this request.

    Adds ``principal`` (or None), ``locale``, ``time_zone``, ``_``/``gettext``/``ngettext``,
    ``csrf_token`` (for the POST forms; checked by ``resonanz.web.deps.csrf_form``), the bound
    formatters and ``nav``. Values in ``context`` win over these defaults.
    """
    principal = principal_of(request, context)
    locale = locale_of(request, principal)
    tz = (principal.time_zone if principal else None) or "UTC"
    env = environment(locale)
    translations = i18n.translations(locale)
    values: dict[str, Any] = {
        "request": request,
        "principal": principal,
        "locale": locale,
        "time_zone": tz,
        "csrf_token": principal.csrf_token if principal else None,
        "nav": nav_items(principal, request.url.path, locale),
        "current_path": request.url.path,
        "gettext_plain": translations.ugettext,
        **formatters(locale, tz),
    }
    values.update(context or {})
    html = env.get_template(name).render(values)
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Content-Language"] = locale
    response.headers["Vary"] = "Accept-Language, Cookie"
    response.headers.setdefault("Cache-Control", "no-store")
    return response
