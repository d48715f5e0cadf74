"""Admin pages of routing and SLAs, the care metrics dashboard and the experts of a case.

- ``/routing/rules``: rules in order, add/edit with live validation (``/static/routing.js`` tries
  the filter on recent cases through ``POST /api/v1/routing/filter-tests`` as one types; the form
  saves without JavaScript and shows the parser's error with its column);
- ``/routing/sla``: SLA policies, business calendars (hours typed as ``mon-fri 09:00-17:00``) and
  their holidays (one click adds Germany's nationwide ones);
- ``/routing/agents``: per team the manager, escalation team, calendar and cap; per agent skills,
  languages (through :mod:`resonanz.accounts.teams`), availability and cap;
- ``/routing/metrics`` (+ ``.csv``): first response, resolution, SLA attainment, backlog;
- ``/routing/cases/{id}/experts``: the expert finder with "bring in" buttons (the case view
  includes ``routing/experts_panel.html``, which links here when it has no experts to show).

Settings and metrics need ``cases.assign``; experts ``cases.read``; bringing one in ``cases.work``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.accounts import teams as team_actions
from resonanz.accounts.models import Team, User
from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import Principal
from resonanz.api.deps import DbSession
from resonanz.cases import routing_actions as actions
from resonanz.cases import routing_service as service
from resonanz.cases.experts import do_bring_in, find_experts
from resonanz.cases.holidays import german_public_holidays
from resonanz.cases.metrics import care_metrics, metrics_csv
from resonanz.cases.models import CasePriority
from resonanz.cases.routing_models import Availability
from resonanz.cases.service import get_case, scope_for
from resonanz.cases.sla import hours_spec, parse_hours_spec
from resonanz.clock import now
from resonanz.db.engine import begin_read_only
from resonanz.errors import ConflictError, InputError, NotFoundError
from resonanz.i18n import N_
from resonanz.web.deps import CsrfForm, require_page
from resonanz.web.templating import render

router = APIRouter(include_in_schema=False)

Manager = Annotated[Principal, require_page(Permission.cases_assign)]
Reader = Annotated[Principal, require_page(Permission.cases_read)]
Worker = Annotated[Principal, require_page(Permission.cases_work)]
AVAILABILITY = {
    Availability.online.value: N_("online"),
    Availability.away.value: N_("away"),
    Availability.out_of_office.value: N_("out of office"),
}
PRIORITIES = [p.value for p in CasePriority]


def _text(form: Any, name: str, limit: int = 4000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _int(form: Any, name: str) -> int | None:
    value = _text(form, name, 20)
    if not value:
        return None
    if not value.isdigit():
        raise InputError("a whole number is needed here", location=name)
    return int(value)


def _error(exc: Exception) -> dict[str, str]:
    location = getattr(exc, "location", None) or ""
    return {"field": location, "message": str(exc)}


def _teams(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(Team.name)))


# -- rules -----------------------------------------------------------------------------------------


def _rules_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    values: dict[str, Any] | None = None,
    error: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = {
        "principal": principal,
        "section": "rules",
        "rules": service.list_rules(session),
        "teams": _teams(session),
        "values": values or {},
        "error": error,
    }
    return render(request, "routing/rules.html", context, status_code=status)


@router.get("/routing", response_class=HTMLResponse)
def routing_home(principal: Manager) -> Response:
    return RedirectResponse("/routing/rules", status_code=303)


@router.get("/routing/rules", response_class=HTMLResponse)
def rules_page(request: Request, session: DbSession, principal: Manager, edit: int | None = None) -> HTMLResponse:
    values: dict[str, Any] = {}
    if edit is not None and 0 < edit < 2**31:
        rule = service.list_rules(session)
        found = next((r for r in rule if r.id == edit), None)
        if found is not None:
            values = {
                "id": found.id,
                "name": found.name,
                "filter": found.filter_text,
                "team_id": found.target_team_id,
                "forward_rule_id": found.forward_rule_id,
                "enabled": found.enabled,
                "position": found.position,
            }
    return _rules_page(request, session, principal, values=values)


@router.post("/routing/rules", response_class=HTMLResponse)
def save_rule(request: Request, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    values: dict[str, Any] = {
        k: _text(form, k) for k in ("id", "name", "filter", "team_id", "forward_rule_id", "position")
    }
    values["enabled"] = form.get("enabled") == "on"
    try:
        rule_id = _int(form, "id")
        if rule_id is not None:
            actions.get_rule(session, id=rule_id)
        actions.do_save_rule(
            session,
            id=rule_id,
            name=values["name"],
            filter_text=values["filter"],
            target_team_id=_int(form, "team_id"),
            forward_rule_id=_int(form, "forward_rule_id"),
            enabled=values["enabled"],
            position=_int(form, "position"),
            actor=principal,
        )
    except (InputError, ConflictError, NotFoundError) as exc:
        session.rollback()
        return _rules_page(request, session, principal, values=values, error=_error(exc), status=422)
    session.commit()
    return RedirectResponse("/routing/rules", status_code=303)


@router.post("/routing/rules/{rule_id}/delete", response_class=HTMLResponse)
def delete_rule(rule_id: int, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    actions.do_delete_rule(session, id=rule_id, actor=principal)
    session.commit()
    return RedirectResponse("/routing/rules", status_code=303)


# -- SLA policies and calendars ----------------------------------------------------------------------


def _sla_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    error: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    calendars = [
        {"row": c, "spec": hours_spec(c.hours), "holidays": service.holidays_of(session, calendar_id=c.id)}
        for c in service.list_calendars(session)
    ]
    context = {
        "principal": principal,
        "section": "sla",
        "policies": service.list_policies(session),
        "teams": _teams(session),
        "calendars": calendars,
        "priorities": PRIORITIES,
        "error": error,
        "values": values or {},
        "year": now().year,
    }
    return render(request, "routing/sla.html", context, status_code=status)


@router.get("/routing/sla", response_class=HTMLResponse)
def sla_page(request: Request, session: DbSession, principal: Manager) -> HTMLResponse:
    return _sla_page(request, session, principal)


def _guarded(request: Request, session: Session, principal: Principal, values: dict[str, Any], fn: Any) -> Response:
    try:
        fn()
    except (InputError, ConflictError, NotFoundError) as exc:
        session.rollback()
        return _sla_page(request, session, principal, error=_error(exc), values=values, status=422)
    session.commit()
    return RedirectResponse("/routing/sla", status_code=303)


@router.post("/routing/sla/policies", response_class=HTMLResponse)
def save_policy(request: Request, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    values = {
        k: _text(form, k)
        for k in ("id", "team_id", "priority", "first_response_minutes", "resolution_minutes", "warn_before_minutes")
    }

    def run() -> None:
        actions.do_save_sla_policy(
            session,
            id=_int(form, "id"),
            team_id=_int(form, "team_id"),
            priority=values["priority"],
            first_response_minutes=_int(form, "first_response_minutes") or 0,
            resolution_minutes=_int(form, "resolution_minutes") or 0,
            warn_before_minutes=_int(form, "warn_before_minutes") or 0,
            actor=principal,
        )

    return _guarded(request, session, principal, values, run)


@router.post("/routing/sla/policies/{policy_id}/delete", response_class=HTMLResponse)
def delete_policy(policy_id: int, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    actions.do_delete_sla_policy(session, id=policy_id, actor=principal)
    session.commit()
    return RedirectResponse("/routing/sla", status_code=303)


@router.post("/routing/sla/calendars", response_class=HTMLResponse)
def save_calendar(request: Request, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    values = {k: _text(form, k) for k in ("id", "name", "time_zone", "hours")}

    def run() -> None:
        actions.do_save_calendar(
            session,
            id=_int(form, "id"),
            name=values["name"],
            time_zone=values["time_zone"] or "Europe/Berlin",
            hours=parse_hours_spec(values["hours"]),
            actor=principal,
        )

    return _guarded(request, session, principal, values, run)


@router.post("/routing/sla/calendars/{calendar_id}/holidays", response_class=HTMLResponse)
def add_holidays(
    request: Request, calendar_id: int, session: DbSession, principal: Manager, form: CsrfForm
) -> Response:
    values = {k: _text(form, k) for k in ("day", "name", "german_year")}

    def run() -> None:
        add: list[tuple[date, str]] = []
        if values["german_year"]:
            year = _int(form, "german_year") or 0
            if not 1900 <= year <= 2200:
                raise InputError("a year from 1900 to 2200", location="german_year")
            add += german_public_holidays(year)
        if values["day"]:
            try:
                add.append((date.fromisoformat(values["day"]), values["name"]))
            except ValueError as exc:
                raise InputError("a date YYYY-MM-DD", location="day") from exc
        remove = [date.fromisoformat(v) for v in form.getlist("remove") if isinstance(v, str) and _is_date(v)]
        actions.do_set_holidays(session, calendar_id=calendar_id, add=add, remove=remove, actor=principal)

    return _guarded(request, session, principal, values, run)


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


@router.post("/routing/sla/calendars/{calendar_id}/delete", response_class=HTMLResponse)
def delete_calendar(calendar_id: int, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    actions.do_delete_calendar(session, id=calendar_id, actor=principal)
    session.commit()
    return RedirectResponse("/routing/sla", status_code=303)


# -- teams and agents --------------------------------------------------------------------------------


def _agents_page(
    request: Request, session: Session, principal: Principal, *, error: dict[str, str] | None = None, status: int = 200
) -> HTMLResponse:
    teams = _teams(session)
    context = {
        "principal": principal,
        "section": "agents",
        "teams": teams,
        "error": error,
        "settings": {t.id: service.team_settings(session, team_id=t.id) for t in teams},
        "members": {t.id: service.list_agents(session, team_id=t.id) for t in teams},
        "calendars": service.list_calendars(session),
        "availability": AVAILABILITY,
        "users": list(session.scalars(select(User).where(User.active.is_(True)).order_by(User.display_name))),
    }
    return render(request, "routing/agents.html", context, status_code=status)


@router.get("/routing/agents", response_class=HTMLResponse)
def agents_page(request: Request, session: DbSession, principal: Manager) -> HTMLResponse:
    return _agents_page(request, session, principal)


def _agents_guarded(request: Request, session: Session, principal: Principal, fn: Any) -> Response:
    try:
        fn()
    except (InputError, ConflictError, NotFoundError) as exc:
        session.rollback()
        return _agents_page(request, session, principal, error=_error(exc), status=422)
    session.commit()
    return RedirectResponse("/routing/agents", status_code=303)


@router.post("/routing/teams/{team_id}", response_class=HTMLResponse)
def save_team(request: Request, team_id: int, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    def run() -> None:
        service.team_settings(session, team_id=team_id)
        actions.do_set_team_settings(
            session,
            team_id=team_id,
            manager_id=_int(form, "manager_id"),
            escalation_team_id=_int(form, "escalation_team_id"),
            calendar_id=_int(form, "calendar_id"),
            default_cap=_int(form, "default_cap"),
            actor=principal,
        )

    return _agents_guarded(request, session, principal, run)


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


@router.post("/routing/agents/{user_id}", response_class=HTMLResponse)
def save_agent(request: Request, user_id: int, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    def run() -> None:
        user = session.get(User, user_id) if 0 < user_id < 2**31 else None
        if user is None:
            raise NotFoundError(f"no user {user_id}")
        until_text = _text(form, "until", 30)
        until = None
        if until_text:
            try:
                until = datetime.fromisoformat(until_text)
            except ValueError as exc:
                raise InputError("a date and time like 2026-12-01T09:00", location="until") from exc
            until = until if until.tzinfo else until.replace(tzinfo=UTC)
        actions.do_set_availability(
            session,
            user_id=user_id,
            availability=_text(form, "availability", 20),
            until=until,
            cap=_int(form, "cap"),
            actor=principal,
        )
        team_actions.do_set_skills(session, user=user, skills=_split(_text(form, "skills", 2000)), actor=principal)
        team_actions.do_set_languages(
            session, user=user, languages=_split(_text(form, "languages", 200)), actor=principal
        )

    return _agents_guarded(request, session, principal, run)


# -- metrics ---------------------------------------------------------------------------------------


def _metrics_args(since: str | None, until: str | None) -> tuple[datetime, datetime]:
    try:
        end_day = date.fromisoformat(until) if until else now().date()
        start_day = date.fromisoformat(since) if since else end_day - timedelta(days=29)
    except ValueError as exc:
        raise InputError("dates are YYYY-MM-DD", location="since") from exc
    start = datetime.combine(start_day, time(0), tzinfo=UTC)
    end = datetime.combine(end_day + timedelta(days=1), time(0), tzinfo=UTC)
    return start, end


@router.get("/routing/metrics", response_class=HTMLResponse)
def metrics_page(
    request: Request,
    session: DbSession,
    principal: Manager,
    since: str | None = None,
    until: str | None = None,
    group: str = "team",
) -> HTMLResponse:
    group = group if group in ("team", "agent") else "team"
    begin_read_only(session)
    error = None
    rows: list[Any] = []
    try:
        start, end = _metrics_args(since, until)
        rows = care_metrics(session, since=start, until=end, group=group)
    except InputError as exc:
        error = _error(exc)
        start, end = _metrics_args(None, None)
    context = {
        "principal": principal,
        "section": "metrics",
        "rows": rows,
        "group": group,
        "error": error,
        "since": start.date().isoformat(),
        "until": (end - timedelta(days=1)).date().isoformat(),
        "events": service.recent_sla_events(session, limit=20),
    }
    return render(request, "routing/metrics.html", context, status_code=422 if error else 200)


@router.get("/routing/metrics.csv")
def metrics_download(
    session: DbSession, principal: Manager, since: str | None = None, until: str | None = None, group: str = "team"
) -> Response:
    begin_read_only(session)
    start, end = _metrics_args(since, until)
    text = metrics_csv(
        care_metrics(session, since=start, until=end, group=group if group in ("team", "agent") else "team")
    )
    name = f"care-metrics-{start:%Y%m%d}-{end:%Y%m%d}.csv"
    return Response(
        text, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


# -- experts ---------------------------------------------------------------------------------------


@router.get("/routing/cases/{case_id}/experts", response_class=HTMLResponse)
def experts_page(request: Request, case_id: int, session: DbSession, principal: Reader) -> HTMLResponse:
    begin_read_only(session)
    case = get_case(session, id=case_id, scope=scope_for(session, user_id=principal.user_id, role=principal.role))
    context = {
        "principal": principal,
        "case": case,
        "experts": find_experts(session, case=case),
        "section": "experts",
        "can_bring_in": principal.can(Permission.cases_work),
    }
    return render(request, "routing/experts.html", context)


@router.post("/routing/cases/{case_id}/experts/{user_id}", response_class=HTMLResponse)
def bring_in(case_id: int, user_id: int, session: DbSession, principal: Worker, form: CsrfForm) -> Response:
    case = get_case(session, id=case_id, scope=scope_for(session, user_id=principal.user_id, role=principal.role))
    do_bring_in(session, case=case, user_id=user_id, reason=_text(form, "reason", 500), actor=principal)
    session.commit()
    return RedirectResponse(f"/inbox/cases/{case_id}?done=expert", status_code=303)
