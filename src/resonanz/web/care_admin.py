"""Admin pages of the care side that routing's pages (``/routing/*``) do not cover.

- ``/care-admin/approval-rules``: which replies go to the approver queue (new agents, high-risk
  cases, crisis mode, certain brands) and the crisis mode switch;
- ``/care-admin/policy``: blocked phrases (legal promises, guarantees, competitor names), the
  installation's own profanity terms, and the channel length limits the check applies (read-only:
  the platforms fix them);
- ``/care-admin/csat``: whether a satisfaction link goes out when a case is resolved, globally and
  per team;
- ``/admin/teams``: teams and departments and who belongs to them (skills, languages and caps are
  set per agent on ``/routing/agents``);
- ``/admin/audit``: the audit log, filtered by person, action, object and time, paged by id.

Everything writes through the same audited actions as the API and the CLI. Permissions: the care
pages and their forms need ``cases.assign`` (blocked phrases ``knowledge.manage`` and crisis mode
``cases.approve``, as in the API); teams ``users.manage``; the audit log ``audit.read``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.accounts import teams as team_actions
from resonanz.accounts.models import Team, TeamKind, User
from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import Principal
from resonanz.api.deps import DbSession
from resonanz.audit.service import AuditFilter, action_names, count_events, object_types, page_events
from resonanz.cases import approvals, care_settings
from resonanz.cases.approvals import PRIORITY_RANK
from resonanz.cases.reply_models import ApprovalRuleKind, PhraseKind
from resonanz.db.engine import begin_read_only
from resonanz.errors import ConflictError, InputError, NotFoundError
from resonanz.i18n import N_, zone
from resonanz.web.deps import CsrfForm, require_page
from resonanz.web.templating import render

router = APIRouter(include_in_schema=False)

Manager = Annotated[Principal, require_page(Permission.cases_assign)]
Approver = Annotated[Principal, require_page(Permission.cases_approve)]
Librarian = Annotated[Principal, require_page(Permission.knowledge_manage)]
Admin = Annotated[Principal, require_page(Permission.users_manage)]
Auditor = Annotated[Principal, require_page(Permission.audit_read)]

RULE_KINDS = {
    ApprovalRuleKind.new_agent.value: N_("New agents (account younger than some days)"),
    ApprovalRuleKind.high_risk.value: N_("High-risk cases (priority or risk score)"),
    ApprovalRuleKind.crisis.value: N_("Every reply while crisis mode is on"),
    ApprovalRuleKind.brand.value: N_("Cases of certain brands"),
}
PHRASE_KINDS = {
    PhraseKind.legal.value: N_("legal promise"),
    PhraseKind.guarantee.value: N_("guarantee"),
    PhraseKind.competitor.value: N_("competitor name"),
    PhraseKind.custom.value: N_("other"),
}
TEAM_KINDS = {TeamKind.team.value: N_("team"), TeamKind.department.value: N_("department")}
AUDIT_PAGE = 50
WRITE_ERRORS = (InputError, ConflictError, NotFoundError)


def _text(form: Any, name: str, limit: int = 2000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _int(value: str, name: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or len(value) > 9:
        raise InputError("a whole number is needed here", location=name)
    return int(value)


def _error(exc: Exception) -> dict[str, str]:
    return {"field": getattr(exc, "location", None) or "", "message": str(exc)}


def _guarded(
    session: Session, fn: Callable[[], None], back: str, page: Callable[[dict[str, str]], HTMLResponse]
) -> Response:
    """Run one audited change; on bad input roll back and show the page again with the reason."""
    try:
        fn()
    except WRITE_ERRORS as exc:
        session.rollback()
        return page(_error(exc))
    session.commit()
    return RedirectResponse(back, status_code=303)


@router.get("/care-admin", response_class=HTMLResponse)
def care_admin_home(principal: Manager) -> Response:
    return RedirectResponse("/care-admin/approval-rules", status_code=303)


# -- approval rules and crisis mode ----------------------------------------------------------------


def _rules_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    values: dict[str, Any] | None = None,
    error: dict[str, str] | None = None,
) -> HTMLResponse:
    from resonanz.listening.models import Brand

    context = {
        "principal": principal,
        "section": "rules",
        "rules": approvals.list_rules(session),
        "kinds": RULE_KINDS,
        "priorities": list(PRIORITY_RANK),
        "brands": list(session.scalars(select(Brand).order_by(Brand.name))),
        "crisis": approvals.crisis_mode(session),
        "can_crisis": principal.can(Permission.cases_approve),
        "values": values or {},
        "error": error,
    }
    return render(request, "care_admin/approval_rules.html", context, status_code=422 if error else 200)


@router.get("/care-admin/approval-rules", response_class=HTMLResponse)
def approval_rules_page(
    request: Request, session: DbSession, principal: Manager, edit: int | None = None
) -> HTMLResponse:
    values: dict[str, Any] = {}
    found = next((r for r in approvals.list_rules(session) if r.id == edit), None) if edit else None
    if found is not None:
        values = {"name": found.name, "kind": found.kind, "active": found.active, **(found.params or {})}
        values["brand_ids"] = [str(i) for i in values.get("brand_ids") or []]
    return _rules_page(request, session, principal, values=values)


def _rule_params(kind: str, form: Any) -> dict[str, Any]:
    if kind == ApprovalRuleKind.new_agent:
        return {"days": _int(_text(form, "days", 10), "days") or 30}
    if kind == ApprovalRuleKind.high_risk:
        risk_text = _text(form, "risk", 10).replace(",", ".")
        try:
            risk = float(risk_text) if risk_text else None
        except ValueError as exc:
            raise InputError("risk must be a number from 0 to 1", location="risk") from exc
        return {"priority": _text(form, "priority", 20) or "high", "risk": risk}
    if kind == ApprovalRuleKind.brand:
        ids = [v for v in form.getlist("brand_ids") if isinstance(v, str)]
        return {"brand_ids": [_int(v, "brand_ids") for v in ids]}
    return {}


@router.post("/care-admin/approval-rules", response_class=HTMLResponse)
def save_approval_rule(request: Request, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    kind = _text(form, "kind", 20)
    values: dict[str, Any] = {k: _text(form, k, 100) for k in ("name", "kind", "days", "priority", "risk")}
    values["active"] = form.get("active") == "on"
    values["brand_ids"] = [v for v in form.getlist("brand_ids") if isinstance(v, str)]

    def run() -> None:
        approvals.do_save_rule(session, name=values["name"], kind=kind, params=_rule_params(kind, form),
                               active=values["active"], actor=principal)  # fmt: skip

    return _guarded(session, run, "/care-admin/approval-rules",
                    lambda e: _rules_page(request, session, principal, values=values, error=e))  # fmt: skip


@router.post("/care-admin/approval-rules/{rule_id}/delete", response_class=HTMLResponse)
def delete_approval_rule(
    request: Request, rule_id: int, session: DbSession, principal: Manager, form: CsrfForm
) -> Response:
    return _guarded(
        session,
        lambda: approvals.do_delete_rule(session, id=rule_id, actor=principal),
        "/care-admin/approval-rules",
        lambda e: _rules_page(request, session, principal, error=e),
    )


@router.post("/care-admin/crisis-mode", response_class=HTMLResponse)
def set_crisis_mode(session: DbSession, principal: Approver, form: CsrfForm) -> Response:
    approvals.do_set_setting(session, key=approvals.CRISIS_MODE, value=form.get("on") == "on", actor=principal)
    session.commit()
    return RedirectResponse("/care-admin/approval-rules", status_code=303)


# -- reply policy: blocked phrases, profanity, channel limits ---------------------------------------


def _policy_page(
    request: Request, session: Session, principal: Principal, *, error: dict[str, str] | None = None
) -> HTMLResponse:
    context = {
        "principal": principal,
        "section": "policy",
        "phrases": approvals.list_phrases(session),
        "phrase_kinds": PHRASE_KINDS,
        "can_phrases": principal.can(Permission.knowledge_manage),
        "profanity": care_settings.list_profanity(session),
        "limits": care_settings.channel_limits(),
        "error": error,
    }
    return render(request, "care_admin/policy.html", context, status_code=422 if error else 200)


@router.get("/care-admin/policy", response_class=HTMLResponse)
def policy_page(request: Request, session: DbSession, principal: Manager) -> HTMLResponse:
    return _policy_page(request, session, principal)


def _policy_change(request: Request, session: Session, principal: Principal, fn: Callable[[], None]) -> Response:
    return _guarded(session, fn, "/care-admin/policy", lambda e: _policy_page(request, session, principal, error=e))


@router.post("/care-admin/policy/phrases", response_class=HTMLResponse)
def add_phrase(request: Request, session: DbSession, principal: Librarian, form: CsrfForm) -> Response:
    def run() -> None:
        approvals.do_add_phrase(session, phrase=_text(form, "phrase", 300), kind=_text(form, "kind", 20) or "custom",
                                reason=_text(form, "reason", 300) or None, actor=principal)  # fmt: skip

    return _policy_change(request, session, principal, run)


@router.post("/care-admin/policy/phrases/{phrase_id}/delete", response_class=HTMLResponse)
def remove_phrase(
    request: Request, phrase_id: int, session: DbSession, principal: Librarian, form: CsrfForm
) -> Response:
    return _policy_change(
        request, session, principal, lambda: approvals.do_remove_phrase(session, id=phrase_id, actor=principal)
    )


@router.post("/care-admin/policy/profanity", response_class=HTMLResponse)
def add_profanity(request: Request, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    def run() -> None:
        care_settings.do_add_profanity(session, term=_text(form, "term", 200), actor=principal)

    return _policy_change(request, session, principal, run)


@router.post("/care-admin/policy/profanity/{term_id}/delete", response_class=HTMLResponse)
def remove_profanity(
    request: Request, term_id: int, session: DbSession, principal: Manager, form: CsrfForm
) -> Response:
    return _policy_change(
        request, session, principal, lambda: care_settings.do_remove_profanity(session, id=term_id, actor=principal)
    )


# -- CSAT on resolve ---------------------------------------------------------------------------------


def _csat_page(
    request: Request, session: Session, principal: Principal, *, error: dict[str, str] | None = None
) -> HTMLResponse:
    context = {
        "principal": principal,
        "section": "csat",
        "enabled": care_settings.csat_global(session),
        "teams": care_settings.team_csat(session),
        "error": error,
    }
    return render(request, "care_admin/csat.html", context, status_code=422 if error else 200)


@router.get("/care-admin/csat", response_class=HTMLResponse)
def csat_page(request: Request, session: DbSession, principal: Manager) -> HTMLResponse:
    return _csat_page(request, session, principal)


@router.post("/care-admin/csat", response_class=HTMLResponse)
def set_csat(session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    care_settings.do_set_csat_global(session, enabled=form.get("enabled") == "on", actor=principal)
    session.commit()
    return RedirectResponse("/care-admin/csat", status_code=303)


@router.post("/care-admin/csat/teams/{team_id}", response_class=HTMLResponse)
def set_team_csat(request: Request, team_id: int, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    choice = _text(form, "choice", 10)

    def run() -> None:
        if choice not in ("inherit", "on", "off"):
            raise InputError("choose inherit, on or off", location="choice")
        enabled = None if choice == "inherit" else choice == "on"
        care_settings.do_set_team_csat(session, team_id=team_id, enabled=enabled, actor=principal)

    return _guarded(session, run, "/care-admin/csat", lambda e: _csat_page(request, session, principal, error=e))


# -- teams -----------------------------------------------------------------------------------------


def _teams_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    error: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    teams = list(team_actions.list_teams(session))
    context = {
        "principal": principal,
        "section": "teams",
        "teams": teams,
        "kinds": TEAM_KINDS,
        "members": {t.id: list(team_actions.members_of(session, team_id=t.id)) for t in teams},
        "users": list(session.scalars(select(User).where(User.active.is_(True)).order_by(User.display_name))),
        "values": values or {},
        "error": error,
    }
    return render(request, "care_admin/teams.html", context, status_code=422 if error else 200)


@router.get("/admin/teams", response_class=HTMLResponse)
def teams_page(request: Request, session: DbSession, principal: Admin) -> HTMLResponse:
    return _teams_page(request, session, principal)


@router.post("/admin/teams", response_class=HTMLResponse)
def create_team(request: Request, session: DbSession, principal: Admin, form: CsrfForm) -> Response:
    values = {"name": _text(form, "name", 200), "kind": _text(form, "kind", 20) or TeamKind.team.value}

    def run() -> None:
        if values["kind"] not in TEAM_KINDS:
            raise InputError("choose team or department", location="kind")
        team_actions.do_create_team(session, name=values["name"], kind=values["kind"], actor=principal)

    return _guarded(session, run, "/admin/teams",
                    lambda e: _teams_page(request, session, principal, error=e, values=values))  # fmt: skip


def _team_and_user(session: Session, team_id: int, user_id: int | None) -> tuple[Team, User]:
    team = team_actions.get_team(session, id=team_id) if 0 < team_id < 2**31 else None
    user = session.get(User, user_id) if user_id is not None and 0 < user_id < 2**31 else None
    if team is None:
        raise NotFoundError(f"team {team_id} does not exist")
    if user is None:
        raise InputError("choose a colleague", location="user_id")
    return team, user


@router.post("/admin/teams/{team_id}/members", response_class=HTMLResponse)
def add_member(request: Request, team_id: int, session: DbSession, principal: Admin, form: CsrfForm) -> Response:
    def run() -> None:
        team, user = _team_and_user(session, team_id, _int(_text(form, "user_id", 12), "user_id"))
        team_actions.do_add_team_member(session, team=team, user=user, actor=principal)

    return _guarded(session, run, "/admin/teams", lambda e: _teams_page(request, session, principal, error=e))


@router.post("/admin/teams/{team_id}/members/{user_id}/delete", response_class=HTMLResponse)
def remove_member(
    request: Request, team_id: int, user_id: int, session: DbSession, principal: Admin, form: CsrfForm
) -> Response:
    def run() -> None:
        team, user = _team_and_user(session, team_id, user_id)
        team_actions.do_remove_team_member(session, team=team, user=user, actor=principal)

    return _guarded(session, run, "/admin/teams", lambda e: _teams_page(request, session, principal, error=e))


# -- audit log -------------------------------------------------------------------------------------


def _day(value: str | None, name: str, tz: str, *, end: bool = False) -> datetime | None:
    """A YYYY-MM-DD day in the reader's time zone as the UTC instant it starts (or, ``end``, ends)."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise InputError("a date YYYY-MM-DD", location=name) from exc
    return datetime.combine(day + timedelta(days=1 if end else 0), time(0), tzinfo=zone(tz))


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    session: DbSession,
    principal: Auditor,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
    before: int | None = None,
) -> HTMLResponse:
    begin_read_only(session)
    raw = {"actor": actor, "action": action, "object_type": object_type, "object_id": object_id}
    query = {k: (v or "")[:64] for k, v in {**raw, "since": since, "until": until}.items()}
    rows: list[Any] = []
    next_before, total, capped, error = None, 0, False, None
    try:
        where = AuditFilter(
            actor_user_id=None if query["actor"] in ("", "system") else _int(query["actor"], "actor"),
            system_only=query["actor"] == "system",
            action=query["action"] or None,
            object_type=query["object_type"] or None,
            object_id=query["object_id"] or None,
            since=_day(query["since"], "since", principal.time_zone),
            until=_day(query["until"], "until", principal.time_zone, end=True),
        )
        cursor = before if before is not None and 0 < before < 2**31 else None
        rows, next_before = page_events(session, where=where, before_id=cursor, limit=AUDIT_PAGE)
        total, capped = count_events(session, where=where)
    except InputError as exc:
        error = _error(exc)
    users = list(session.scalars(select(User).order_by(User.display_name)))
    context = {
        "principal": principal,
        "section": "audit",
        "rows": rows,
        "names": {u.id: u.display_name for u in users},
        "users": users,
        "actions": action_names(session),
        "object_types": object_types(session),
        "query": query,
        "next_before": next_before,
        "total": total,
        "capped": capped,
        "error": error,
    }
    return render(request, "care_admin/audit.html", context, status_code=422 if error else 200)
