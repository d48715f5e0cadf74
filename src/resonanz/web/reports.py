"""Reports pages: the list of report definitions and recent runs (/reports), the form to create or
change one (/reports/new, /reports/{id}), "generate now", "send now" and the PDF download.

Reading needs ``reports.read``; every change ``reports.manage``. Forms carry the CSRF field
(``CsrfForm``); a refused form comes back with the values kept and the error beside the field.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import Principal
from resonanz.accounts.service import list_users
from resonanz.api.deps import DbSession
from resonanz.clock import now
from resonanz.config import Settings
from resonanz.db.engine import begin_read_only
from resonanz.errors import ConflictError, InputError, NotFoundError
from resonanz.i18n import N_, translations
from resonanz.listening.brands import list_brands
from resonanz.listening.queries import list_queries
from resonanz.reports import actions, service
from resonanz.reports.models import ReportDefinition
from resonanz.reports.schedule import Period
from resonanz.reports.schemas import LANGUAGES, ReportCreate, ReportUpdate
from resonanz.web.deps import CsrfForm, require_page
from resonanz.web.templating import locale_of, render

router = APIRouter(include_in_schema=False)

Reader = Annotated[Principal, require_page(Permission.reports_read)]
Manager = Annotated[Principal, require_page(Permission.reports_manage)]

PERIOD_NAMES = {Period.daily: N_("daily"), Period.weekly: N_("weekly"), Period.monthly: N_("monthly")}
LANGUAGE_NAMES = {"de": N_("German"), "en": N_("English")}
STATUS_NAMES = {
    "pending": N_("waiting"),
    "sending": N_("sending"),
    "generated": N_("generated"),
    "sent": N_("sent"),
    "failed": N_("failed"),
}
_MAX_ID = 2**31 - 1


def _report_or_404(session: Session, report_id: int) -> ReportDefinition:
    if not 0 < report_id <= _MAX_ID:
        raise NotFoundError(f"no report with id {report_id}")
    return service.get_report(session, id=report_id)


def _ids(form: Any, name: str) -> list[int]:
    out = []
    for raw in form.getlist(name)[:100]:
        if isinstance(raw, str) and raw.isdigit() and 0 < int(raw) <= _MAX_ID:
            out.append(int(raw))
    return out


def _day(raw: Any, tz: str) -> datetime | None:
    """A day from a date field as noon of that day in ``tz`` (None when empty)."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        day = date.fromisoformat(raw.strip()[:10])
    except ValueError:
        raise InputError(f"not a date: {raw[:20]!r}", location="at") from None
    return datetime.combine(day, time(12), tzinfo=ZoneInfo(tz))


def _form_values(form: Any) -> dict[str, Any]:
    def text(name: str, limit: int) -> str:
        value = form.get(name)
        return value.strip()[:limit] if isinstance(value, str) else ""

    emails = [e.strip() for e in text("recipient_emails", 5000).replace(";", ",").replace("\n", ",").split(",")]
    return {
        "name": text("name", 120),
        "brand_ids": _ids(form, "brand_ids"),
        "query_ids": _ids(form, "query_ids"),
        "period": text("period", 10) or "weekly",
        "recipient_user_ids": _ids(form, "recipient_user_ids"),
        "recipient_emails": [e for e in emails if e],
        "language": text("language", 8) or "de",
        "tz": text("tz", 64) or "Europe/Berlin",
        "enabled": form.get("enabled") == "on",
    }


def _values_of(report: ReportDefinition) -> dict[str, Any]:
    return {
        "name": report.name,
        "brand_ids": report.brand_ids,
        "query_ids": report.query_ids,
        "period": report.period,
        "recipient_user_ids": report.recipient_user_ids,
        "recipient_emails": report.recipient_emails,
        "language": report.language,
        "tz": report.tz,
        "enabled": report.enabled,
    }


def _error(exc: Exception) -> dict[str, str]:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "form"
        return {"field": field, "message": f"{field}: {err['msg']}"}
    if isinstance(exc, InputError):
        return {"field": exc.location or "form", "message": str(exc)}
    return {"field": "name", "message": str(exc)}


def _form_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    report: ReportDefinition | None,
    values: dict[str, Any],
    error: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "principal": principal,
        "report": report,
        "values": values,
        "error": error,
        "brands": list_brands(session),
        "queries": list_queries(session, active=None),
        "users": list_users(session, active=True),
        "period_names": PERIOD_NAMES,
        "language_names": {code: LANGUAGE_NAMES[code] for code in LANGUAGES},
    }
    return render(request, "reports/form.html", context, status_code=status_code)


@router.get("/reports", response_class=HTMLResponse)
def report_list(request: Request, session: DbSession, principal: Reader) -> HTMLResponse:
    """Report definitions with their next send time, and the newest runs."""
    reports = service.list_reports(session)
    at = now()
    context = {
        "principal": principal,
        "reports": reports,
        "names": {r.id: r.name for r in reports},
        "next_runs": {r.id: service.next_run_at(r, at=at) for r in reports},
        "runs": service.list_runs(session, limit=30),
        "can_manage": principal.can(Permission.reports_manage),
        "period_names": PERIOD_NAMES,
        "status_names": STATUS_NAMES,
        "generated": request.query_params.get("generated", "")[:12],
        "saved": "saved" in request.query_params,
        "queued": "queued" in request.query_params,
        "removed": "removed" in request.query_params,
    }
    return render(request, "reports/list.html", context)


@router.get("/reports/new", response_class=HTMLResponse)
def report_new(request: Request, session: DbSession, principal: Manager) -> HTMLResponse:
    values = ReportCreate(name="-", tz=principal.time_zone or "Europe/Berlin").model_dump()
    values["name"] = ""
    values["language"] = principal.language if principal.language in LANGUAGES else "de"
    return _form_page(request, session, principal, report=None, values=values)


@router.post("/reports/new", response_class=HTMLResponse)
def report_create(request: Request, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    values = _form_values(form)
    try:
        actions.do_create_report(session, data=ReportCreate(**values), actor=principal)
        session.commit()
    except (ValidationError, InputError, ConflictError) as exc:
        session.rollback()
        return _form_page(request, session, principal, report=None, values=values, error=_error(exc), status_code=400)
    return RedirectResponse("/reports?saved=1", status_code=303)


@router.get("/reports/{report_id}", response_class=HTMLResponse)
def report_edit(request: Request, report_id: int, session: DbSession, principal: Manager) -> HTMLResponse:
    report = _report_or_404(session, report_id)
    return _form_page(request, session, principal, report=report, values=_values_of(report))


@router.post("/reports/{report_id}", response_class=HTMLResponse)
def report_save(request: Request, report_id: int, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    report = _report_or_404(session, report_id)
    values = _form_values(form)
    try:
        actions.do_update_report(session, report=report, data=ReportUpdate(**values), actor=principal)
        session.commit()
    except (ValidationError, InputError, ConflictError) as exc:
        session.rollback()
        return _form_page(request, session, principal, report=report, values=values, error=_error(exc), status_code=400)
    return RedirectResponse("/reports?saved=1", status_code=303)


@router.post("/reports/{report_id}/delete", response_class=HTMLResponse)
def report_delete(request: Request, report_id: int, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    actions.do_delete_report(session, report=_report_or_404(session, report_id), actor=principal)
    session.commit()
    return RedirectResponse("/reports?removed=1", status_code=303)


@router.post("/reports/{report_id}/generate", response_class=HTMLResponse)
def report_generate(
    request: Request, report_id: int, session: DbSession, principal: Manager, form: CsrfForm
) -> Response:
    """Generate the period containing the form's ``at`` day (default: the last complete period)
    now; the list then offers its PDF."""
    settings: Settings = request.app.state.settings
    begin_read_only(session)  # gathering reads a lot: do it without the write lock, then store
    report = _report_or_404(session, report_id)
    window = actions.requested_window(report, at=_day(form.get("at"), report.tz))
    rendered = actions.render_window(session, report=report, window=window, settings=settings)
    session.rollback()
    run = actions.do_generate_now(
        session, report=report, at=None, actor=principal, settings=settings, rendered=rendered
    )
    session.commit()
    return RedirectResponse(f"/reports?generated={run.id}#run-{run.id}", status_code=303)


@router.post("/reports/runs/{run_id}/send", response_class=HTMLResponse)
def run_send(request: Request, run_id: int, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    if not 0 < run_id <= _MAX_ID:
        raise NotFoundError(f"no report run with id {run_id}")
    actions.do_send_again(session, run=service.get_run(session, id=run_id), actor=principal)
    session.commit()
    return RedirectResponse("/reports?queued=1", status_code=303)


@router.get("/reports/runs/{run_id}.pdf")
def run_pdf(request: Request, run_id: int, session: DbSession, principal: Reader) -> Response:
    if not 0 < run_id <= _MAX_ID:
        raise NotFoundError(f"no report run with id {run_id}")
    run = service.get_run(session, id=run_id, with_pdf=True)
    if not run.pdf:
        gettext = translations(locale_of(request, principal)).ugettext
        raise NotFoundError(gettext("This run has no PDF."))
    report = service.get_report(session, id=run.report_id)
    return Response(
        content=run.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{actions.pdf_filename(report, run)}"',
            "Cache-Control": "private, no-store",
        },
    )
