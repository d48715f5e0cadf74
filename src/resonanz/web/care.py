"""Pages of the reply side: the reply composer of a case, the approval queue, the knowledge base
and the public satisfaction question.

The composer works without JavaScript (every button is a form post that comes back to the page
with the findings shown); ``care.js`` adds autosave, "use this suggestion" and the typing
heartbeat H5's presence service shows to colleagues. Domain errors (a colleague's reply, a stale
draft, an unknown template variable) are shown next to the composer, never as a 500.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.accounts.models import User
from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import Principal
from resonanz.api.deps import DbSession
from resonanz.cases import csat, knowledge, outbox, replies, suggestions
from resonanz.cases import service as case_service
from resonanz.cases.models import Case
from resonanz.cases.templates_text import VARIABLES, render_template
from resonanz.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from resonanz.mentions.models import Author
from resonanz.web.deps import CsrfForm, attach_pre_session_csrf, optional_principal, pre_session_csrf, require_page
from resonanz.web.templating import render

router = APIRouter(include_in_schema=False)

DomainRefusal = (ConflictError, InputError, PermissionDeniedError, NotFoundError)


def _case(session: Session, principal: Principal, case_id: int) -> Case:
    scope = case_service.scope_for(session, user_id=principal.user_id, role=principal.role)
    return case_service.get_case(session, id=case_id, scope=scope)


def _names(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(wanted)))}


def template_values(session: Session, case: Case, principal: Principal) -> dict[str, str | int | None]:
    from resonanz.listening.models import Brand

    author = session.get(Author, case.author_id) if case.author_id else None
    brand = session.get(Brand, case.brand_id) if case.brand_id else None
    return {
        "author_name": (author.name or author.handle) if author else None,
        "author_handle": author.handle if author else None,
        "case_id": case.id,
        "agent_name": principal.display_name,
        "subject": case.subject,
        "platform": case.platform,
        "brand": brand.name if brand else None,
    }


def panel_context(
    session: Session, principal: Principal, case: Case, *, text: str | None = None, template_id: int | None = None,
    article_id: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """What the composer shows for ``case`` (shared by the page and the fragment)."""
    all_replies = replies.list_replies(session, case_id=case.id)
    draft = replies.current_draft(session, case_id=case.id, author_id=principal.user_id)
    error = None
    prefill = text
    if prefill is None and template_id is not None:
        try:
            template = knowledge.get_template(session, id=template_id)
            prefill = render_template(template.body, template_values(session, case, principal))
        except (NotFoundError, InputError) as exc:
            error = str(exc)
    if prefill is None and article_id is not None:
        try:
            prefill = knowledge.get_article(session, id=article_id).body
        except NotFoundError as exc:
            error = str(exc)
    others = [
        r
        for r in all_replies
        if r.author_id != principal.user_id and r.status in ("queued", "sent", "pending_approval")
    ]
    entries = {
        r.id: outbox.entry_for(session, reply_id=r.id) for r in all_replies if r.status in ("queued", "sent", "failed")
    }
    return {
        "case": case,
        "draft": draft,
        "prefill": prefill if prefill is not None else (draft.text if draft else ""),
        "replies": all_replies,
        "others": others,
        "entries": entries,
        "suggestions": suggestions.suggest(session, case=case),
        "templates": knowledge.list_templates(session),
        "variables": VARIABLES,
        "names": _names(session, {r.author_id for r in all_replies} | {r.approver_id for r in all_replies}),
        "panel_error": error,
        "template_id": template_id,
        "article_id": article_id,
    }


@router.get("/care/cases/{case_id}", response_class=HTMLResponse)
def composer_page(
    request: Request,
    case_id: int,
    session: DbSession,
    principal: Annotated[Principal, require_page(Permission.cases_read)],
    template: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    article: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    done: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    """The reply composer of one case: suggestions with reasons, templates, findings, approval state."""
    case = _case(session, principal, case_id)
    context = panel_context(session, principal, case, template_id=template, article_id=article)
    return render(request, "care/composer.html", {**context, "principal": principal, "done": done})


@router.get("/care/cases/{case_id}/panel", response_class=HTMLResponse)
def composer_fragment(
    request: Request, case_id: int, session: DbSession,
    principal: Annotated[Principal, require_page(Permission.cases_read)],
) -> HTMLResponse:  # fmt: skip
    """The composer alone, for the case page (care.js loads it into care/case_panel.html)."""
    case = _case(session, principal, case_id)
    return render(request, "care/_composer.html", {**panel_context(session, principal, case), "principal": principal})


@router.post("/care/cases/{case_id}/reply", response_model=None)
def composer_post(
    request: Request, case_id: int, session: DbSession,
    principal: Annotated[Principal, require_page(Permission.cases_work)],
    form: CsrfForm,
) -> Response:  # fmt: skip
    """Save, check or submit the author's draft (``action``), then back to the composer."""
    case = _case(session, principal, case_id)
    text = str(form.get("text") or "")
    action = str(form.get("action") or "save")
    draft = replies.current_draft(session, case_id=case.id, author_id=principal.user_id)
    try:
        version = int(str(form.get("version") or 0)) or None
        template_id = int(str(form.get("template_id") or 0)) or None
        article_id = int(str(form.get("article_id") or 0)) or None
        draft = replies.do_save_draft(session, case=case, reply=draft, text=text, expected_version=version,
                                      actor=principal, template_id=template_id, article_id=article_id)  # fmt: skip
        if action == "check":
            replies.do_check(session, reply=draft)
        elif action == "submit":
            replies.do_submit(session, reply=draft, actor=principal, confirm=form.get("confirm") == "1")
        session.commit()
    except (*DomainRefusal, ValueError) as exc:
        session.rollback()
        fresh = _case(session, principal, case_id)
        context = panel_context(session, principal, fresh, text=text)
        context.update(principal=principal, panel_error=str(exc), can_confirm=isinstance(exc, ConflictError))
        return render(
            request, "care/composer.html", context, status_code=409 if isinstance(exc, ConflictError) else 422
        )
    return RedirectResponse(f"/care/cases/{case.id}?done={action}", status_code=303)


@router.post("/care/replies/{reply_id}/autosave")
def autosave(
    reply_id: int, session: DbSession,
    principal: Annotated[Principal, require_page(Permission.cases_work)],
    form: CsrfForm,
) -> JSONResponse:  # fmt: skip
    """care.js saves the draft as the agent types; a stale version answers 409 and the browser
    keeps its text (nothing is lost: the page offers to reload the newer one)."""
    reply = replies.get_reply(session, id=reply_id)
    _case(session, principal, reply.case_id)
    try:
        version = int(str(form.get("version") or 0)) or None
        replies.do_save_draft(session, case=replies.get_case(session, id=reply.case_id), reply=reply,
                              text=str(form.get("text") or ""), expected_version=version, actor=principal)  # fmt: skip
        session.commit()
    except (*DomainRefusal, ValueError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=409)
    return JSONResponse({"id": reply.id, "version": reply.version})


@router.post("/care/replies/{reply_id}/article", response_model=None)
def reply_to_article(
    reply_id: int, session: DbSession,
    principal: Annotated[Principal, require_page(Permission.knowledge_manage)],
    form: CsrfForm,
) -> Response:  # fmt: skip
    """ "Turn this reply into an article": a draft article to review on /knowledge."""
    reply = replies.get_reply(session, id=reply_id)
    case = _case(session, principal, reply.case_id)
    title = str(form.get("title") or case.subject)[:200]
    article = knowledge.do_article_from_reply(session, reply=reply, title=title, tags=list(case.tags or []),
                                              actor=principal)  # fmt: skip
    session.commit()
    return RedirectResponse(f"/knowledge/{article.id}", status_code=303)


# --- approvals ------------------------------------------------------------------------------------


@router.get("/approvals", response_class=HTMLResponse)
def approvals_page(
    request: Request, session: DbSession, principal: Annotated[Principal, require_page(Permission.cases_approve)],
    done: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:  # fmt: skip
    """Replies waiting for a second look, oldest first, with why and what the checks found."""
    pending = replies.list_pending_approval(session)
    cases = {r.case_id: session.get(Case, r.case_id) for r in pending}
    names = _names(session, {r.author_id for r in pending})
    return render(request, "care/approvals.html", {"pending": pending, "cases": cases, "names": names, "done": done})


@router.post("/approvals/{reply_id}", response_model=None)
def approvals_decide(
    request: Request, reply_id: int, session: DbSession,
    principal: Annotated[Principal, require_page(Permission.cases_approve)],
    form: CsrfForm,
) -> Response:  # fmt: skip
    reply = replies.get_reply(session, id=reply_id)
    comment = str(form.get("comment") or "")
    try:
        if form.get("action") == "reject":
            replies.do_reject(session, reply=reply, actor=principal, comment=comment)
        else:
            text = form.get("text")
            replies.do_approve(session, reply=reply, actor=principal, comment=comment,
                               text=str(text) if text is not None else None)  # fmt: skip
        session.commit()
    except DomainRefusal as exc:
        session.rollback()
        pending = replies.list_pending_approval(session)
        context = {"pending": pending, "cases": {r.case_id: session.get(Case, r.case_id) for r in pending},
                   "names": _names(session, {r.author_id for r in pending}), "error": str(exc),
                   "error_id": reply_id}  # fmt: skip
        return render(
            request, "care/approvals.html", context, status_code=403 if isinstance(exc, PermissionDeniedError) else 409
        )
    return RedirectResponse(f"/approvals?done={reply.status}", status_code=303)


# --- knowledge ------------------------------------------------------------------------------------


@router.get("/knowledge", response_class=HTMLResponse)
def knowledge_page(
    request: Request, session: DbSession, principal: Annotated[Principal, require_page(Permission.knowledge_read)],
    q: Annotated[str | None, Query(max_length=200)] = None,
    lang: Annotated[str | None, Query(pattern=r"^(de|en)?$")] = None,
    tag: Annotated[str | None, Query(max_length=60)] = None,
) -> HTMLResponse:  # fmt: skip
    from resonanz.clock import now

    articles = knowledge.list_articles(session, q=q, lang=lang or None, tag=tag, limit=200)
    due = knowledge.list_articles(session, due_before=now(), limit=50)
    return render(request, "care/knowledge.html", {"articles": articles, "due": due, "q": q or "", "lang": lang or "",
                                                   "tag": tag or "", "now": now()})  # fmt: skip


def _article_form(form: Any) -> dict[str, Any]:
    tags = [t for t in str(form.get("tags") or "").split(",") if t.strip()]
    return {"title": str(form.get("title") or ""), "body": str(form.get("body") or ""),
            "lang": str(form.get("lang") or ""), "tags": tags,
            "status": str(form.get("status") or "published")}  # fmt: skip


@router.post("/knowledge", response_model=None)
def knowledge_create(
    request: Request, session: DbSession,
    principal: Annotated[Principal, require_page(Permission.knowledge_manage)],
    form: CsrfForm,
) -> Response:  # fmt: skip
    values = _article_form(form)
    try:
        article = knowledge.do_create_article(session, actor=principal, **values)
        session.commit()
    except InputError as exc:
        session.rollback()
        context = {"articles": knowledge.list_articles(session, limit=200), "due": [], "q": "", "lang": "", "tag": "",
                   "form": values, "form_error": exc.reason, "form_field": exc.location}  # fmt: skip
        return render(request, "care/knowledge.html", context, status_code=422)
    return RedirectResponse(f"/knowledge/{article.id}", status_code=303)


@router.get("/knowledge/{article_id}", response_class=HTMLResponse)
def article_page(
    request: Request, article_id: int, session: DbSession,
    principal: Annotated[Principal, require_page(Permission.knowledge_read)],
) -> HTMLResponse:  # fmt: skip
    article = knowledge.get_article(session, id=article_id)
    return render(request, "care/article.html", {"article": article, "names": _names(session, {article.owner_id})})


@router.post("/knowledge/{article_id}", response_model=None)
def article_update(
    request: Request, article_id: int, session: DbSession,
    principal: Annotated[Principal, require_page(Permission.knowledge_manage)],
    form: CsrfForm,
) -> Response:  # fmt: skip
    article = knowledge.get_article(session, id=article_id)
    try:
        if form.get("action") == "review":
            knowledge.do_review_article(session, article=article, actor=principal)
        else:
            version = int(str(form.get("version") or 0)) or None
            knowledge.do_update_article(session, article=article, expected_version=version, actor=principal,
                                        **_article_form(form))  # fmt: skip
        session.commit()
    except (InputError, ConflictError, ValueError) as exc:
        session.rollback()
        article = knowledge.get_article(session, id=article_id)
        context = {"article": article, "names": _names(session, {article.owner_id}), "form_error": str(exc)}
        return render(request, "care/article.html", context, status_code=409 if isinstance(exc, ConflictError) else 422)
    return RedirectResponse(f"/knowledge/{article_id}", status_code=303)


# --- CSAT (public, token-protected) ----------------------------------------------------------------


@router.get("/csat/{token}", response_class=HTMLResponse)
def csat_page(
    request: Request, token: str, session: DbSession,
    who: Annotated[Principal | None, Depends(optional_principal)],
) -> HTMLResponse:  # fmt: skip
    """The customer's satisfaction question; the unguessable token is the only key (no sign-in).
    The form is CSRF-protected by the double-submit cookie like the sign-in form."""
    survey = csat.find(session, token=token)
    form_token = who.csrf_token if who is not None and who.csrf_token else pre_session_csrf(request)
    context = {"survey": survey, "token": token, "principal": None, "csrf_token": form_token}
    response = render(request, "care/csat.html", context, status_code=200 if survey else 404)
    return attach_pre_session_csrf(response, request)  # type: ignore[return-value]


@router.post("/csat/{token}", response_class=HTMLResponse)
def csat_answer(request: Request, token: str, session: DbSession, form: CsrfForm) -> HTMLResponse:
    survey = csat.find(session, token=token)
    error = None
    if survey is not None:
        try:
            csat.do_answer(
                session, survey=survey, score=str(form.get("score") or ""), comment=str(form.get("comment") or "")
            )
            session.commit()
        except (InputError, ConflictError) as exc:
            session.rollback()
            error = str(exc)
    context = {"survey": survey, "token": token, "principal": None, "error": error, "thanks": error is None,
               "csrf_token": str(form.get("csrf_token") or "")}  # fmt: skip
    return render(
        request, "care/csat.html", context, status_code=200 if survey and not error else (404 if not survey else 422)
    )
