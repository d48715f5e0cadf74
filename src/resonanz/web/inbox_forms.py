"""The case page's forms: status, assign/transfer, snooze, tags, priority, merge, notes, and
marking notifications read. Each POST carries the CSRF token (``csrf_form``) and the case
``version`` the page showed; success redirects back (303), a refusal re-renders the case page with
the reason: a stale version (409) says who changed what meanwhile, a forbidden status change
(409) lists the allowed ones, bad input is a 400.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import Principal
from resonanz.api.deps import DbSession
from resonanz.cases import actions, collab, service
from resonanz.cases.models import Case
from resonanz.cases.states import InvalidTransitionError
from resonanz.clock import now
from resonanz.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from resonanz.i18n import N_, translations
from resonanz.web.deps import CsrfForm, require_page
from resonanz.web.templating import locale_of, render

router = APIRouter(include_in_schema=False)
Worker = Annotated[Principal, require_page(Permission.cases_work)]
SNOOZE_PRESETS = {"1h": timedelta(hours=1), "4h": timedelta(hours=4), "1d": timedelta(days=1), "3d": timedelta(days=3)}
DOMAIN_MESSAGES = (N_("snooze until a time in the future"), N_("a note needs some text"),
                   N_("a case cannot be merged into itself"))  # fmt: skip


def _field(form: Any, name: str, limit: int = 200) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _version(form: Any) -> int | None:
    raw = _field(form, "version", 12)
    if not raw.isdigit():
        raise InputError("the form has no case version; reload the page", location="version")
    return int(raw)


def _int(form: Any, name: str) -> int | None:
    raw = _field(form, name, 12)
    return int(raw) if raw.isdigit() else None


def _refused(
    request: Request, session: Session, principal: Principal, case_id: int, status: int, message: str
) -> HTMLResponse:
    from resonanz.web.inbox import case_context

    session.rollback()
    case = service.get_case(session, id=case_id)
    session.refresh(case)
    context = case_context(request, session, principal, case)
    context["error"] = message
    return render(request, "inbox/case.html", context, status_code=status)


def _run(
    request: Request, session: Session, principal: Principal, case_id: int, change: Callable[[Case], Any], done: str
) -> Response:
    """Load the case in the person's scope, apply ``change``, commit, redirect; or explain the refusal."""
    gettext = translations(locale_of(request, principal)).ugettext
    scope = service.scope_for(session, user_id=principal.user_id, role=principal.role)
    try:
        case = service.get_case(session, id=case_id, scope=scope)
    except NotFoundError:
        context = {"principal": principal, "title": gettext("Not found"), "back_href": "/inbox",
                   "message": gettext("There is no case with the number %(id)s, or it is not in your teams' queue.")
                   % {"id": case_id}, "back_label": gettext("Back to the inbox")}  # fmt: skip
        return render(request, "error.html", context, status_code=404)
    try:
        change(case)
        session.commit()
    except actions.StaleCaseError as exc:
        message = gettext(
            "Not saved: %(who)s changed this case (%(what)s) after you opened it. The page now shows the current "
            "state; apply your change again if it still makes sense."
        ) % {"who": exc.changed_by or gettext("a colleague"), "what": exc.change or gettext("a change")}
        return _refused(request, session, principal, case_id, 409, message)
    except InvalidTransitionError as exc:
        message = gettext("This status change is not allowed: from %(current)s the case may go to %(allowed)s.") % {
            "current": gettext(exc.current.value),
            "allowed": ", ".join(gettext(s.value) for s in exc.allowed) or gettext("nowhere (closed is final)"),
        }
        return _refused(request, session, principal, case_id, 409, message)
    except PermissionDeniedError:
        message = gettext("Your role does not allow this change.")
        return _refused(request, session, principal, case_id, 403, message)
    except (InputError, ConflictError, NotFoundError) as exc:
        reason = exc.reason if isinstance(exc, InputError) else str(exc)
        return _refused(
            request, session, principal, case_id, 400, gettext("Not saved: %(reason)s") % {"reason": gettext(reason)}
        )
    return RedirectResponse(f"/inbox/cases/{case_id}?done={done}", status_code=303)


@router.post("/inbox/cases/{case_id}/status", response_class=HTMLResponse)
def change_status(request: Request, case_id: int, session: DbSession, principal: Worker, form: CsrfForm) -> Response:
    def change(case: Case) -> None:
        actions.do_change_status(session, case=case, status=_field(form, "status", 20), expected_version=_version(form),
                                 actor=principal)  # fmt: skip

    return _run(request, session, principal, case_id, change, "status")


@router.post("/inbox/cases/{case_id}/assign", response_class=HTMLResponse)
def assign(request: Request, case_id: int, session: DbSession, principal: Worker, form: CsrfForm) -> Response:
    """``assignee``: 'me', '' (nobody) or a user id; ``team`` set: a transfer (managers)."""

    def change(case: Case) -> None:
        who = _field(form, "assignee", 12)
        assignee = principal.user_id if who == "me" else _int(form, "assignee")
        if "team" in form:
            if not principal.can(Permission.cases_assign):
                raise PermissionDeniedError("transfer needs cases.assign")
            actions.do_transfer(session, case=case, team_id=_int(form, "team"), assignee_id=assignee,
                                expected_version=_version(form), actor=principal)  # fmt: skip
            return
        if assignee != principal.user_id and not principal.can(Permission.cases_assign):
            raise PermissionDeniedError("assigning others needs cases.assign")
        actions.do_assign(session, case=case, assignee_id=assignee, expected_version=_version(form), actor=principal)

    return _run(request, session, principal, case_id, change, "assign")


def snooze_until(form: Any, tz: str) -> datetime | None:
    """A preset ('1h', '4h', '1d', '3d', 'wake') or a ``until`` local time in the person's zone."""
    preset = _field(form, "preset", 10)
    if preset == "wake":
        return None
    if preset in SNOOZE_PRESETS:
        return now() + SNOOZE_PRESETS[preset]
    raw = _field(form, "until", 30)
    try:
        local = datetime.fromisoformat(raw)
    except ValueError:
        raise InputError("choose how long to snooze, or a date and time", location="until") from None
    return local.replace(tzinfo=ZoneInfo(tz)) if local.tzinfo is None else local


@router.post("/inbox/cases/{case_id}/snooze", response_class=HTMLResponse)
def snooze(request: Request, case_id: int, session: DbSession, principal: Worker, form: CsrfForm) -> Response:
    def change(case: Case) -> None:
        until = snooze_until(form, principal.time_zone)
        actions.do_snooze(session, case=case, until=until, expected_version=_version(form), actor=principal)

    return _run(request, session, principal, case_id, change, "snooze")


@router.post("/inbox/cases/{case_id}/tags", response_class=HTMLResponse)
def tags(request: Request, case_id: int, session: DbSession, principal: Worker, form: CsrfForm) -> Response:
    def change(case: Case) -> None:
        add = [t for t in _field(form, "add", 500).split(",") if t.strip()]
        remove = [_field(form, "remove", 40)] if _field(form, "remove", 40) else []
        actions.do_tag(session, case=case, add=add, remove=remove, expected_version=_version(form), actor=principal)

    return _run(request, session, principal, case_id, change, "tags")


@router.post("/inbox/cases/{case_id}/priority", response_class=HTMLResponse)
def priority(request: Request, case_id: int, session: DbSession, principal: Worker, form: CsrfForm) -> Response:
    def change(case: Case) -> None:
        value = _field(form, "priority", 10)
        if value not in ("low", "normal", "high", "urgent"):
            raise InputError("choose a priority", location="priority")
        actions.do_set_priority(session, case=case, priority=value, expected_version=_version(form), actor=principal)

    return _run(request, session, principal, case_id, change, "priority")


@router.post("/inbox/cases/{case_id}/merge", response_class=HTMLResponse)
def merge(request: Request, case_id: int, session: DbSession, principal: Worker, form: CsrfForm) -> Response:
    def change(case: Case) -> None:
        into = _int(form, "into")
        if into is None:
            raise InputError("give the number of the case to merge into", location="into")
        scope = service.scope_for(session, user_id=principal.user_id, role=principal.role)
        target = service.get_case(session, id=into, scope=scope)
        actions.do_merge(session, case=case, into=target, expected_version=_version(form), actor=principal)

    return _run(request, session, principal, case_id, change, "merge")


@router.post("/inbox/cases/{case_id}/notes", response_class=HTMLResponse)
def add_note(request: Request, case_id: int, session: DbSession, principal: Worker, form: CsrfForm) -> Response:
    def change(case: Case) -> None:
        collab.do_add_note(session, case=case, body=_field(form, "body", 10_000), actor=principal)

    return _run(request, session, principal, case_id, change, "note")


@router.post("/inbox/notifications/read", response_class=HTMLResponse)
def read_notifications(
    request: Request,
    session: DbSession,
    principal: Annotated[Principal, require_page(Permission.cases_read)],
    form: CsrfForm,
) -> Response:
    collab.do_mark_notifications_read(session, user_id=principal.user_id)
    session.commit()
    return RedirectResponse("/inbox", status_code=303)
