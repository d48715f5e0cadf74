"""The care inbox pages: the queue (``/inbox``) and one case (``/inbox/cases/{id}``), plus the live
event stream the pages listen to (``/inbox/events``, Server-Sent Events).

Data comes from :mod:`resonanz.cases.service` with the person's scope (agents see their teams'
cases, their own and unrouted ones; managers and admins all), so a case outside it is a 404 page.
Post text is untrusted: the template escapes it and post HTML goes through :func:`sanitise_html`,
exactly as on the mention page. Forms that change a case live in :mod:`resonanz.web.inbox_forms`;
every one carries the CSRF token and the case version the page showed.

Besides the conversation the case page is the case's record: why routing chose the team and
colleague (the last routing decision), the SLA clock (first response and resolution: due, done,
met / breached / running), the audit trail of the case and of its replies (assignment, experts
brought in, approvals, sends), and our sent replies: a reply whose own post has not come back
through a pull has no mention, so its text is shown from the reply (escaped like every text).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from resonanz.accounts.models import User
from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import Principal
from resonanz.accounts.teams import list_teams
from resonanz.analysis.models import AnalysisResult
from resonanz.api.deps import DbSession
from resonanz.api.v1.cases import STREAM_SECONDS, event_stream
from resonanz.audit.models import AuditEvent
from resonanz.cases import service
from resonanz.cases.models import Case, CasePriority, CaseStatus
from resonanz.cases.reply_models import Reply, ReplyStatus
from resonanz.cases.routing import last_decision
from resonanz.cases.routing_wording import reason_texts
from resonanz.cases.states import allowed_transitions
from resonanz.clock import now
from resonanz.db.engine import begin_read_only
from resonanz.errors import InputError, NotFoundError
from resonanz.i18n import N_, translations
from resonanz.web import inbox_forms
from resonanz.web.deps import require_page
from resonanz.web.mentions import LABEL_NAMES
from resonanz.web.sanitise import safe_url, sanitise_html
from resonanz.web.templating import locale_of, render

router = APIRouter(include_in_schema=False)
router.include_router(inbox_forms.router)

STATUS_NAMES = {"new": N_("new"), "open": N_("open"), "pending": N_("pending"), "resolved": N_("resolved"),
                "closed": N_("closed")}  # fmt: skip
PRIORITY_NAMES = {"low": N_("low"), "normal": N_("normal"), "high": N_("high"), "urgent": N_("urgent")}
VIEWS = {"all": N_("All open"), "mine": N_("Mine"), "unassigned": N_("Unassigned"), "team": N_("My teams")}
FACTOR_NAMES = {"intent": N_("intent"), "sentiment": N_("sentiment"), "reach": N_("reach"), "risk": N_("risk"),
                "crisis": N_("crisis terms"), "own_account": N_("message to our account"),
                "needs_response": N_("needs a response"), "rules": N_("intake rules"), "manual": N_("set by hand"),
                "joined": N_("a joined message")}  # fmt: skip
EVENT_NAMES = {"created": N_("created"), "status": N_("status changed"), "assigned": N_("assigned"),
               "snoozed": N_("snoozed"), "woke": N_("woke up"), "merged": N_("merged"), "tagged": N_("tags changed"),
               "note": N_("note added"), "mention_added": N_("new message"), "priority": N_("priority changed"),
               "follow_up": N_("follow-up case opened"), "reply": N_("reply sent")}  # fmt: skip
#: audit actions of a case and its replies, as the case page's audit trail names them
AUDIT_NAMES = {"case.created": N_("case opened"), "case.assigned": N_("assigned"), "case.status": N_("status changed"),
               "case.expert_added": N_("expert brought in"), "case.note": N_("note added"),
               "case.priority": N_("priority changed"), "case.tagged": N_("tags changed"),
               "case.snoozed": N_("snoozed"), "case.merged": N_("merged"), "reply.draft": N_("reply drafted"),
               "reply.submit": N_("reply submitted"), "reply.approve": N_("reply approved"),
               "reply.reject": N_("reply rejected"), "reply.queue": N_("reply queued for sending"),
               "reply.sent": N_("reply sent"), "reply.failed": N_("sending failed")}  # fmt: skip
SHORTCUTS = (("j", N_("next case")), ("k", N_("previous case")), ("Enter", N_("open the selected case")),
             ("e", N_("resolve the case")), ("a", N_("assign the case to me")),
             ("?", N_("show this help")))  # fmt: skip


def _list(request: Request, name: str) -> list[str]:
    return [v for v in request.query_params.getlist(name) if v][:10]


def queue_filter(request: Request, principal: Principal, scope: service.Scope) -> tuple[service.CaseFilter, str]:
    """The queue's filter from the URL (``view`` = all | mine | unassigned | team)."""
    view = request.query_params.get("view", "all")
    view = view if view in VIEWS else "all"
    team = request.query_params.get("team", "")
    flt = service.CaseFilter(
        mine_user_id=principal.user_id if view == "mine" else None,
        unassigned=view == "unassigned",
        team_id=int(team) if team.isdigit() and len(team) < 10 else None,
        statuses=_list(request, "status"), priorities=_list(request, "priority"), platforms=_list(request, "platform"),
        langs=_list(request, "lang"), tag=(request.query_params.get("tag") or "").strip()[:40] or None,
        q=(request.query_params.get("q") or "").strip()[:200] or None,
    )  # fmt: skip
    if view == "team" and not scope.everything:
        flt.team_id = flt.team_id if flt.team_id in scope.team_ids else (scope.team_ids[0] if scope.team_ids else -1)
    return flt, view


@router.get("/inbox", response_class=HTMLResponse)
def inbox(
    request: Request, session: DbSession, principal: Annotated[Principal, require_page(Permission.cases_read)]
) -> HTMLResponse:
    """The queue: quick views with counts, filters, one keyset page; live updates by SSE."""
    begin_read_only(session)  # reads only: 50 agents' queues must not queue for SQLite's write lock
    gettext = translations(locale_of(request, principal)).ugettext
    scope = service.scope_for(session, user_id=principal.user_id, role=principal.role)
    flt, view = queue_filter(request, principal, scope)
    error, page, total = None, None, 0
    try:
        page = service.list_cases(session, filters=flt, scope=scope, after=request.query_params.get("cursor"))
        total = service.count_cases(session, filters=flt, scope=scope)
    except InputError as exc:
        error = gettext("This filter cannot be used: %(reason)s") % {"reason": exc.reason}
    cases = page.items if page else []
    names = service.user_names(session, {c.assignee_id for c in cases if c.assignee_id})
    teams = {t.id: t.name for t in list_teams(session)}
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    context = {
        "principal": principal, "cases": cases, "total": total, "error": error, "view": view, "views": VIEWS,
        "counts": service.queue_counts(session, scope=scope, user_id=principal.user_id),
        "next_cursor": page.next_cursor if page else None, "params": params, "flt": flt, "names": names,
        "teams": teams, "statuses": [s.value for s in CaseStatus], "priorities": [p.value for p in CasePriority],
        "platforms": _distinct(session, Case.platform), "langs": [v for v in _distinct(session, Case.lang) if v],
        "status_names": STATUS_NAMES, "priority_names": PRIORITY_NAMES, "shortcuts": SHORTCUTS,
        "notifications": service.list_notifications(session, user_id=principal.user_id, unread_only=True, limit=10),
        "can_work": principal.can(Permission.cases_work),
    }  # fmt: skip
    return render(request, "inbox/queue.html", context, status_code=400 if error else 200)


def _distinct(session: Session, column: Any) -> list[str]:
    return [v for v in session.scalars(select(column).distinct().order_by(column).limit(50)) if v is not None]


def _analysis(session: Session, mention_ids: list[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    if not mention_ids:
        return out
    stmt = select(AnalysisResult).where(
        AnalysisResult.mention_id.in_(mention_ids), AnalysisResult.stage.in_(["sentiment", "intent", "crisis"])
    )
    for row in session.scalars(stmt):
        out.setdefault(row.mention_id, {})[row.stage] = row.result
    return out


#: keys of an audit row's ``after`` that name a colleague (shown by name in the audit trail)
_PERSON_KEYS = ("user_id", "assignee_id", "approver_id")
SLA_NAMES = {"met": N_("met"), "breached": N_("breached"), "open": N_("running"), "none": N_("no target")}


def _audit_trail(session: Session, case_id: int, reply_ids: list[int]) -> list[AuditEvent]:
    """The append-only audit rows of the case and of its replies, oldest first (the case's own
    record of who assigned, approved and sent; the timeline shows only the case's events)."""
    own = and_(AuditEvent.object_type == "case", AuditEvent.object_id == str(case_id))
    if reply_ids:
        own = or_(own, and_(AuditEvent.object_type == "case_reply",
                            AuditEvent.object_id.in_([str(i) for i in reply_ids])))  # fmt: skip
    rows = session.scalars(select(AuditEvent).where(own).order_by(AuditEvent.id.desc()).limit(200))
    return sorted(rows, key=lambda e: e.id)


def sla_clock(case: Case) -> dict[str, Any]:
    """First response and resolution against their targets: due, done, and met / breached / open."""

    def state(due: Any, done: Any) -> str:
        if done is not None:
            return "met" if due is None or done <= due else "breached"
        if due is None:
            return "none"
        return "open" if due > now() else "breached"

    return {
        "first_due": case.first_response_due_at, "first_done": case.first_responded_at,
        "first_state": state(case.first_response_due_at, case.first_responded_at),
        "resolution_due": case.resolution_due_at, "resolved": case.resolved_at,
        "resolution_state": state(case.resolution_due_at, case.resolved_at),
    }  # fmt: skip


def case_context(request: Request, session: Session, principal: Principal, case: Case) -> dict[str, Any]:
    """Everything the case page shows (also used to re-render it with an error after a refused form)."""
    scope = service.scope_for(session, user_id=principal.user_id, role=principal.role)
    thread = list(service.conversation(session, case_id=case.id))
    events = list(service.timeline(session, case_id=case.id, limit=200))
    notes = list(service.list_notes(session, case_id=case.id))
    gettext = translations(locale_of(request, principal)).ugettext
    decision = last_decision(session, case_id=case.id)
    replies = list(session.scalars(select(Reply).where(Reply.case_id == case.id).order_by(Reply.id)))
    shown = {m.id for m in thread}
    # a sent reply whose own post was not (yet) pulled back has no mention: show its text from the reply
    sent = [r for r in replies if r.status == ReplyStatus.sent and r.sent_mention_id not in shown]
    audit = _audit_trail(session, case.id, [r.id for r in replies])
    people = {e.actor_id for e in events if e.actor_id} | {n.author_id for n in notes if n.author_id}
    people |= {a.actor_user_id for a in audit if a.actor_user_id} | {r.author_id for r in sent if r.author_id}
    people |= {v for a in audit for k, v in (a.after or {}).items() if k in _PERSON_KEYS and isinstance(v, int)}
    people |= {case.assignee_id} if case.assignee_id else set()
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.display_name).limit(500)).all()
    return {
        "principal": principal, "case": case, "thread": thread, "events": events, "notes": notes,
        "bodies": {m.id: sanitise_html(m.html) if m.html else None for m in thread},
        "links": {m.id: safe_url(m.url) for m in thread}, "analysis": _analysis(session, [m.id for m in thread]),
        "history": service.author_history(session, case=case, scope=scope),
        "names": service.user_names(session, people), "users": users,
        "teams": list_teams(session),
        "presence": service.presence(session, case_id=case.id, exclude_user_id=principal.user_id),
        "allowed": list(allowed_transitions(case.status)), "status_names": STATUS_NAMES,
        "priority_names": PRIORITY_NAMES, "priorities": [p.value for p in CasePriority], "factor_names": FACTOR_NAMES,
        "event_names": EVENT_NAMES, "label_names": LABEL_NAMES, "shortcuts": SHORTCUTS,
        "can_work": principal.can(Permission.cases_work), "can_assign": principal.can(Permission.cases_assign),
        "merged_into": case.merged_into_id, "done": request.query_params.get("done"), "safe_url": safe_url,
        "sent_replies": sent, "audit": audit, "audit_names": AUDIT_NAMES, "sla": sla_clock(case),
        "sla_names": SLA_NAMES, "person_keys": _PERSON_KEYS,
        "routing": decision, "routing_reasons": reason_texts(decision.reason_facts if decision else [], gettext),
        "routing_text": lambda reasons: reason_texts(reasons, gettext),
    }  # fmt: skip


@router.get("/inbox/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    request: Request,
    case_id: int,
    session: DbSession,
    principal: Annotated[Principal, require_page(Permission.cases_read)],
) -> HTMLResponse:
    """One case: conversation, author card, analysis, notes, timeline, controls, H6's reply panel."""
    begin_read_only(session)
    gettext = translations(locale_of(request, principal)).ugettext
    scope = service.scope_for(session, user_id=principal.user_id, role=principal.role)
    try:
        case = service.get_case(session, id=case_id, scope=scope)
    except NotFoundError:
        context = {"principal": principal, "title": gettext("Not found"), "back_href": "/inbox",
                   "message": gettext("There is no case with the number %(id)s, or it is not in your teams' queue.")
                   % {"id": case_id}, "back_label": gettext("Back to the inbox")}  # fmt: skip
        return render(request, "error.html", context, status_code=404)
    return render(request, "inbox/case.html", case_context(request, session, principal, case))


@router.get("/inbox/events")
def inbox_events(
    request: Request,
    session: DbSession,
    principal: Annotated[Principal, require_page(Permission.cases_read)],
    case_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    after: Annotated[int | None, Query(ge=0)] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """The pages' live feed (same stream as ``/api/v1/cases/events``, signed in by cookie)."""
    scope = service.scope_for(session, user_id=principal.user_id, role=principal.role)
    if case_id is not None:
        service.get_case(session, id=case_id, scope=scope)
    start = after if after is not None else (int(last_event_id) if last_event_id and last_event_id.isdigit() else None)
    session.commit()
    gen = event_stream(request, scope=scope, case_id=case_id, after=start, seconds=STREAM_SECONDS)
    return StreamingResponse(gen, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
