"""``/api/v1``: knowledge base, reply templates, suggestions, replies and approvals.

The same actions as the case page's composer (:mod:`resonanz.cases.replies`): reading needs
``knowledge.read`` / ``cases.read``, writing drafts and submitting ``cases.work``, deciding on a
reply ``cases.approve``, changing articles and templates ``knowledge.manage``. Domain errors become
problem documents (409 for a colleague's reply or a stale version, 422 with the field for bad input).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import Principal
from resonanz.api.deps import DbSession, require
from resonanz.api.problems import problem_docs
from resonanz.cases import approvals, knowledge, replies, suggestions
from resonanz.cases import service as case_service
from resonanz.cases.models import Case
from resonanz.cases.reply_models import Article, Reply, ReplyTemplate
from resonanz.cases.templates_text import VARIABLES

router = APIRouter(tags=["knowledge"])

MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


class ArticleIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=50_000)
    lang: str = Field(pattern=r"^(de|en)$")
    tags: list[str] = Field(default_factory=list, max_length=20)
    status: str = Field(default="published", pattern=r"^(draft|published|archived)$")
    review_at: datetime | None = None


class ArticleUpdate(BaseModel):
    version: int = Field(ge=1, description="the version you edited (a stale one is refused with 409)")
    title: str | None = Field(default=None, min_length=1, max_length=200)
    body: str | None = Field(default=None, min_length=1, max_length=50_000)
    lang: str | None = Field(default=None, pattern=r"^(de|en)$")
    tags: list[str] | None = Field(default=None, max_length=20)
    status: str | None = Field(default=None, pattern=r"^(draft|published|archived)$")
    review_at: datetime | None = None


class ArticleRead(BaseModel):
    id: int
    title: str
    body: str
    lang: str
    tags: list[str]
    status: str
    owner_id: int | None
    review_at: datetime | None
    version: int


def _article(a: Article) -> ArticleRead:
    return ArticleRead(id=a.id, title=a.title, body=a.body, lang=a.lang, tags=list(a.tags), status=a.status,
                       owner_id=a.owner_id, review_at=a.review_at, version=a.version)  # fmt: skip


class TemplateIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    body: str = Field(min_length=1, max_length=20_000)
    lang: str = Field(pattern=r"^(de|en)$")
    tags: list[str] = Field(default_factory=list, max_length=20)


class TemplateRead(BaseModel):
    id: int
    name: str
    body: str
    lang: str
    tags: list[str]


def _template(t: ReplyTemplate) -> TemplateRead:
    return TemplateRead(id=t.id, name=t.name, body=t.body, lang=t.lang, tags=list(t.tags))


class DraftIn(BaseModel):
    text: str = Field(max_length=20_000)
    version: int | None = Field(default=None, ge=1, description="the version autosave last saw")
    template_id: int | None = None
    article_id: int | None = None


class SubmitIn(BaseModel):
    confirm: bool = Field(default=False, description="send anyway after a colleague's reply or the customer's edit")


class DecisionIn(BaseModel):
    comment: str | None = Field(default=None, max_length=2000)
    text: str | None = Field(default=None, max_length=20_000, description="the approver's edited text")
    confirm: bool = False


class ReplyRead(BaseModel):
    id: int
    case_id: int
    author_id: int | None
    status: str
    text: str
    lang: str | None
    findings: list[dict[str, Any]]
    approval_reasons: list[dict[str, Any]]
    approver_id: int | None
    decision_comment: str | None
    external_id: str | None
    url: str | None
    error: str | None
    version: int


def _reply(r: Reply) -> ReplyRead:
    return ReplyRead(id=r.id, case_id=r.case_id, author_id=r.author_id, status=r.status, text=r.text, lang=r.lang,
                     findings=list(r.findings), approval_reasons=list(r.approval_reasons), approver_id=r.approver_id,
                     decision_comment=r.decision_comment, external_id=r.external_id, url=r.url, error=r.error,
                     version=r.version)  # fmt: skip


class SuggestionRead(BaseModel):
    kind: str
    id: int
    title: str
    text: str
    lang: str | None
    score: float
    reasons: list[str]
    case_id: int | None
    stale: bool


# --- knowledge ------------------------------------------------------------------------------------


@router.get("/knowledge/articles", response_model=list[ArticleRead], summary="Search the knowledge base",
            responses=problem_docs(400, 401, 403, 413, 414, 422))  # fmt: skip
def list_articles(
    session: DbSession,
    principal: Annotated[Principal, require(Permission.knowledge_read)],
    q: Annotated[str | None, Query(max_length=200)] = None,
    lang: Annotated[str | None, Query(pattern=r"^(de|en)$")] = None,
    tag: Annotated[str | None, Query(max_length=60)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ArticleRead]:
    return [_article(a) for a in knowledge.list_articles(session, q=q, lang=lang, tag=tag, limit=limit)]


@router.post("/knowledge/articles", response_model=ArticleRead, status_code=status.HTTP_201_CREATED,
             summary="Add an article", responses=problem_docs(400, 401, 403, 409, 413, 414, 422))  # fmt: skip
def create_article(
    data: ArticleIn, session: DbSession, principal: Annotated[Principal, require(Permission.knowledge_manage)]
) -> ArticleRead:
    article = knowledge.do_create_article(session, title=data.title, body=data.body, lang=data.lang, tags=data.tags,
                                          status=data.status, review_at=data.review_at, actor=principal)  # fmt: skip
    session.commit()
    return _article(article)


@router.get("/knowledge/articles/{article_id}", response_model=ArticleRead, summary="Get an article",
            responses=problem_docs(400, 401, 403, 404, 413, 414, 422))  # fmt: skip
def get_article(
    article_id: Id, session: DbSession, principal: Annotated[Principal, require(Permission.knowledge_read)]
) -> ArticleRead:
    return _article(knowledge.get_article(session, id=article_id))


@router.patch("/knowledge/articles/{article_id}", response_model=ArticleRead, summary="Change an article",
              responses=problem_docs(400, 401, 403, 404, 409, 413, 414, 422))  # fmt: skip
def update_article(
    article_id: Id,
    data: ArticleUpdate,
    session: DbSession,
    principal: Annotated[Principal, require(Permission.knowledge_manage)],
) -> ArticleRead:
    article = knowledge.get_article(session, id=article_id)
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    article = knowledge.do_update_article(session, article=article, expected_version=data.version, actor=principal,
                                          **changes)  # fmt: skip
    session.commit()
    return _article(article)


@router.post("/knowledge/articles/{article_id}/review", response_model=ArticleRead, summary="Confirm an article",
             responses=problem_docs(400, 401, 403, 404, 413, 414, 422))  # fmt: skip
def review_article(
    article_id: Id, session: DbSession, principal: Annotated[Principal, require(Permission.knowledge_manage)]
) -> ArticleRead:
    article = knowledge.do_review_article(session, article=knowledge.get_article(session, id=article_id),
                                          actor=principal)  # fmt: skip
    session.commit()
    return _article(article)


@router.get("/knowledge/templates", response_model=list[TemplateRead], summary="List reply templates",
            responses=problem_docs(400, 401, 403, 413, 414, 422))  # fmt: skip
def list_templates(
    session: DbSession, principal: Annotated[Principal, require(Permission.knowledge_read)]
) -> list[TemplateRead]:
    return [_template(t) for t in knowledge.list_templates(session)]


@router.get("/knowledge/template-variables", summary="Variables a template may use",
            responses=problem_docs(400, 401, 403, 413, 414, 422))  # fmt: skip
def template_variables(principal: Annotated[Principal, require(Permission.knowledge_read)]) -> dict[str, str]:
    return dict(VARIABLES)


@router.post("/knowledge/templates", response_model=TemplateRead, status_code=status.HTTP_201_CREATED,
             summary="Add a reply template (unknown {variables} are refused by name)",
             responses=problem_docs(400, 401, 403, 409, 413, 414, 422))  # fmt: skip
def create_template(
    data: TemplateIn, session: DbSession, principal: Annotated[Principal, require(Permission.knowledge_manage)]
) -> TemplateRead:
    template = knowledge.do_save_template(session, name=data.name, body=data.body, lang=data.lang, tags=data.tags,
                                          actor=principal)  # fmt: skip
    session.commit()
    return _template(template)


# --- replies --------------------------------------------------------------------------------------


@router.get("/cases/{case_id}/suggestions", response_model=list[SuggestionRead], summary="Suggested answers",
            responses=problem_docs(400, 401, 403, 404, 413, 414, 422))  # fmt: skip
def case_suggestions(
    case_id: Id, session: DbSession, principal: Annotated[Principal, require(Permission.cases_read)]
) -> list[SuggestionRead]:
    case = _case(session, principal, case_id)
    return [SuggestionRead(**s.__dict__) for s in suggestions.suggest(session, case=case)]


@router.get("/cases/{case_id}/replies", response_model=list[ReplyRead], summary="Replies of a case",
            responses=problem_docs(400, 401, 403, 404, 413, 414, 422))  # fmt: skip
def case_replies(
    case_id: Id, session: DbSession, principal: Annotated[Principal, require(Permission.cases_read)]
) -> list[ReplyRead]:
    _case(session, principal, case_id)
    return [_reply(r) for r in replies.list_replies(session, case_id=case_id)]


@router.post("/cases/{case_id}/replies", response_model=ReplyRead, status_code=status.HTTP_201_CREATED,
             summary="Start a draft", responses=problem_docs(400, 401, 403, 404, 413, 414, 422))  # fmt: skip
def create_draft(
    case_id: Id, data: DraftIn, session: DbSession, principal: Annotated[Principal, require(Permission.cases_work)]
) -> ReplyRead:
    case = _case(session, principal, case_id)
    reply = replies.do_save_draft(session, case=case, text=data.text, actor=principal, template_id=data.template_id,
                                  article_id=data.article_id)  # fmt: skip
    session.commit()
    return _reply(reply)


def _case(session: Session, principal: Principal, case_id: int) -> Case:
    """The case within the caller's scope (their teams, their cases, the triage queue; managers
    all): outside it a case and its replies are "not found", as on the cases endpoints."""
    scope = case_service.scope_for(session, user_id=principal.user_id, role=principal.role)
    return case_service.get_case(session, id=case_id, scope=scope)


def _load(session: Session, reply_id: int, principal: Principal) -> Reply:
    reply = replies.get_reply(session, id=reply_id)
    _case(session, principal, reply.case_id)
    return reply


@router.put("/replies/{reply_id}", response_model=ReplyRead, summary="Save a draft (autosave)",
            responses=problem_docs(400, 401, 403, 404, 409, 413, 414, 422))  # fmt: skip
def save_draft(
    reply_id: Id, data: DraftIn, session: DbSession, principal: Annotated[Principal, require(Permission.cases_work)]
) -> ReplyRead:
    reply = _load(session, reply_id, principal)
    case = _case(session, principal, reply.case_id)
    replies.do_save_draft(session, case=case, reply=reply, text=data.text, expected_version=data.version,
                          actor=principal, template_id=data.template_id, article_id=data.article_id)  # fmt: skip
    session.commit()
    return _reply(reply)


@router.post("/replies/{reply_id}/check", response_model=ReplyRead, summary="Run the policy checks",
             responses=problem_docs(400, 401, 403, 404, 413, 414, 422))  # fmt: skip
def check(
    reply_id: Id, session: DbSession, principal: Annotated[Principal, require(Permission.cases_work)]
) -> ReplyRead:
    reply = _load(session, reply_id, principal)
    replies.do_check(session, reply=reply)
    session.commit()
    return _reply(reply)


@router.post("/replies/{reply_id}/submit", response_model=ReplyRead,
             summary="Submit: to the approval queue or straight to the outbox",
             responses=problem_docs(400, 401, 403, 404, 409, 413, 414, 422))  # fmt: skip
def submit(
    reply_id: Id, data: SubmitIn, session: DbSession, principal: Annotated[Principal, require(Permission.cases_work)]
) -> ReplyRead:
    reply = _load(session, reply_id, principal)
    replies.do_submit(session, reply=reply, actor=principal, confirm=data.confirm)
    session.commit()
    return _reply(reply)


@router.get("/approvals", response_model=list[ReplyRead], summary="Replies waiting for approval",
            responses=problem_docs(400, 401, 403, 413, 414, 422))  # fmt: skip
def approval_queue(
    session: DbSession, principal: Annotated[Principal, require(Permission.cases_approve)]
) -> list[ReplyRead]:
    return [_reply(r) for r in replies.list_pending_approval(session)]


@router.post("/replies/{reply_id}/approve", response_model=ReplyRead, summary="Approve (optionally edited)",
             responses=problem_docs(400, 401, 403, 404, 409, 413, 414, 422))  # fmt: skip
def approve(
    reply_id: Id, data: DecisionIn, session: DbSession,
    principal: Annotated[Principal, require(Permission.cases_approve)],
) -> ReplyRead:  # fmt: skip
    reply = _load(session, reply_id, principal)
    replies.do_approve(session, reply=reply, actor=principal, comment=data.comment, text=data.text,
                       confirm=data.confirm)  # fmt: skip
    session.commit()
    return _reply(reply)


@router.post("/replies/{reply_id}/reject", response_model=ReplyRead, summary="Reject with a comment",
             responses=problem_docs(400, 401, 403, 404, 409, 413, 414, 422))  # fmt: skip
def reject(
    reply_id: Id, data: DecisionIn, session: DbSession,
    principal: Annotated[Principal, require(Permission.cases_approve)],
) -> ReplyRead:  # fmt: skip
    reply = _load(session, reply_id, principal)
    replies.do_reject(session, reply=reply, actor=principal, comment=data.comment or "")
    session.commit()
    return _reply(reply)


# --- approval rules, blocked phrases, crisis mode ---------------------------------------------------


class RuleIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    kind: str = Field(pattern=r"^(new_agent|high_risk|crisis|brand)$")
    params: dict[str, Any] = Field(default_factory=dict)
    active: bool = True


class RuleRead(RuleIn):
    id: int


class PhraseIn(BaseModel):
    phrase: str = Field(min_length=1, max_length=200)
    kind: str = Field(default="custom", pattern=r"^(legal|guarantee|competitor|custom)$")
    reason: str | None = Field(default=None, max_length=300)


class PhraseRead(PhraseIn):
    id: int


class CrisisMode(BaseModel):
    on: bool


@router.get("/approval-rules", response_model=list[RuleRead], summary="Approval rules",
            responses=problem_docs(400, 401, 403, 413, 414, 422))  # fmt: skip
def list_rules(
    session: DbSession, principal: Annotated[Principal, require(Permission.cases_approve)]
) -> list[RuleRead]:
    return [RuleRead(id=r.id, name=r.name, kind=r.kind, params=r.params, active=r.active)
            for r in approvals.list_rules(session)]  # fmt: skip


@router.put("/approval-rules", response_model=RuleRead, summary="Create or replace an approval rule (by name)",
            responses=problem_docs(400, 401, 403, 413, 414, 422))  # fmt: skip
def save_rule(
    data: RuleIn, session: DbSession, principal: Annotated[Principal, require(Permission.cases_assign)]
) -> RuleRead:
    rule = approvals.do_save_rule(session, name=data.name, kind=data.kind, params=data.params, active=data.active,
                                  actor=principal)  # fmt: skip
    session.commit()
    return RuleRead(id=rule.id, name=rule.name, kind=rule.kind, params=rule.params, active=rule.active)


@router.get("/blocked-phrases", response_model=list[PhraseRead], summary="Blocked phrases (besides the built-in ones)",
            responses=problem_docs(400, 401, 403, 413, 414, 422))  # fmt: skip
def list_phrases(
    session: DbSession, principal: Annotated[Principal, require(Permission.knowledge_read)]
) -> list[PhraseRead]:
    return [PhraseRead(id=p.id, phrase=p.phrase, kind=p.kind, reason=p.reason) for p in approvals.list_phrases(session)]


@router.post("/blocked-phrases", response_model=PhraseRead, status_code=status.HTTP_201_CREATED,
             summary="Block a phrase", responses=problem_docs(400, 401, 403, 409, 413, 414, 422))  # fmt: skip
def add_phrase(
    data: PhraseIn, session: DbSession, principal: Annotated[Principal, require(Permission.knowledge_manage)]
) -> PhraseRead:
    row = approvals.do_add_phrase(session, phrase=data.phrase, kind=data.kind, reason=data.reason, actor=principal)
    session.commit()
    return PhraseRead(id=row.id, phrase=row.phrase, kind=row.kind, reason=row.reason)


@router.delete("/blocked-phrases/{phrase_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Unblock a phrase",
               responses=problem_docs(400, 401, 403, 404, 413, 414, 422))  # fmt: skip
def remove_phrase(
    phrase_id: Id, session: DbSession, principal: Annotated[Principal, require(Permission.knowledge_manage)]
) -> Response:
    approvals.do_remove_phrase(session, id=phrase_id, actor=principal)
    session.commit()
    return Response(status_code=204)


@router.get(
    "/crisis-mode",
    response_model=CrisisMode,
    summary="Is crisis mode on?",
    responses=problem_docs(400, 401, 403, 413, 414, 422),
)
def get_crisis(session: DbSession, principal: Annotated[Principal, require(Permission.cases_read)]) -> CrisisMode:
    return CrisisMode(on=approvals.crisis_mode(session))


@router.put("/crisis-mode", response_model=CrisisMode, summary="Switch crisis mode (crisis rules then hold)",
            responses=problem_docs(400, 401, 403, 413, 414, 422))  # fmt: skip
def set_crisis(
    data: CrisisMode, session: DbSession, principal: Annotated[Principal, require(Permission.cases_approve)]
) -> CrisisMode:
    approvals.do_set_setting(session, key=approvals.CRISIS_MODE, value=data.on, actor=principal)
    session.commit()
    return CrisisMode(on=data.on)
