"""``/api/v1/mentions``: the explorer as JSON — search and filter, read one mention with its thread,
correct the analysis.

Listing and detail come from :mod:`resonanz.mentions.explorer` (keyset pages, the same service the
explorer page uses), so the API and the page can never disagree about what matches. The platform's
raw payload may hold personal data: it is only included for roles with ``mentions.raw``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime, BaseModel, Field, ValidationError

from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import Principal
from resonanz.analysis import feedback
from resonanz.api.deps import DbSession, require
from resonanz.api.etags import etag_for, not_modified
from resonanz.api.pagination import MAX_LIMIT, PageBase, Paging, set_link_header
from resonanz.api.problems import problem_docs
from resonanz.api.v1.users import body_error
from resonanz.errors import InputError
from resonanz.mentions import explorer
from resonanz.mentions.explorer_schemas import (
    Correction,
    ExplorerQuery,
    Intent,
    MentionDetail,
    MentionSummary,
    Sentiment,
    Sort,
)

router = APIRouter(prefix="/mentions", tags=["mentions"])

MAX_ID = 2**31 - 1
MentionId = Annotated[int, Path(ge=1, le=MAX_ID, description="the mention's id")]
SourceIdItem = Annotated[int, Field(ge=1, le=MAX_ID)]
#: ExplorerQuery field -> the query parameter that fills it (singular: repeat the parameter for OR).
_PARAM = {
    "source_ids": "source_id",
    "platforms": "platform",
    "langs": "lang",
    "sentiments": "sentiment",
    "intents": "intent",
}
TOTAL_CAP = 10_000


class MentionPage(PageBase):
    items: list[MentionSummary]


class MentionRead(MentionDetail):
    """A mention with its thread, author card, analysis and corrections."""

    raw_included: bool = Field(description="false when your role lacks `mentions.raw`; `mention.raw` is then null")


class CorrectionCreate(BaseModel):
    """A person's correction of one analysis label; it shows at once and feeds the next training."""

    task: Literal["sentiment", "intent", "offensive", "language"]
    label: str = Field(min_length=1, max_length=30, description="e.g. `negative`, `complaint`, or a language code")
    note: str | None = Field(default=None, max_length=1000, description="why, for colleagues and training review")

    model_config = {"json_schema_extra": {"examples": [{"task": "sentiment", "label": "negative", "note": "sarcasm"}]}}


def _explorer_query(**values: object) -> ExplorerQuery:
    try:
        return ExplorerQuery.model_validate(values)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "query"
            loc: tuple[str | int, ...] = ("query", _PARAM.get(field, field), *err["loc"][1:])
            if not err["loc"]:  # a rule across fields (since after until)
                loc = ("query", "since")
            errors.append({"loc": loc, "msg": str(err["msg"]).removeprefix("Value error, "), "type": err["type"]})
        raise RequestValidationError(errors) from None


def _utc(name: str, value: datetime | None) -> datetime | None:
    """``value`` in UTC; a date at the edge of the calendar whose offset pushes it past year 9999
    is refused here (Python cannot represent it) instead of failing deeper down."""
    if value is None:
        return None
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise RequestValidationError(
            [{"loc": ("query", name), "msg": "the date is out of range", "type": "value_error"}]
        ) from None


def _query_error(exc: InputError, query: ExplorerQuery) -> RequestValidationError:
    """The explorer's InputError as a 422 on the parameter at fault (a bad cursor or search text)."""
    if exc.location == "after":
        loc: tuple[str, ...] = ("query", "cursor")
    elif query.q is not None:
        loc = ("query", "q")
    else:
        loc = ("query", exc.location or "q")
    msg = f"{exc.reason} ({exc.location})" if exc.location and exc.location.startswith("column") else exc.reason
    return RequestValidationError([{"loc": loc, "msg": msg, "type": "value_error"}])


@router.get(
    "",
    response_model=MentionPage,
    summary="Search and filter mentions",
    responses=problem_docs(400, 401, 403, 414, 422),
)
def list_mentions(
    request: Request,
    response: Response,
    session: DbSession,
    principal: Annotated[Principal, require(Permission.mentions_read)],
    paging: Paging,
    q: Annotated[
        str | None,
        Query(
            max_length=500,
            description='search text: every word must occur; "quoted words" as a phrase; bahn* as a prefix',
            examples=['"deutsche bahn" verspätung*'],
        ),
    ] = None,
    source_id: Annotated[list[SourceIdItem] | None, Query(description="repeat for several sources")] = None,
    platform: Annotated[list[str] | None, Query(description="e.g. feed, mastodon; repeat for several")] = None,
    lang: Annotated[list[str] | None, Query(description="language code (de, en); repeat for several")] = None,
    sentiment: Annotated[list[Sentiment] | None, Query(description="repeat for several")] = None,
    intent: Annotated[list[Intent] | None, Query(description="repeat for several")] = None,
    since: Annotated[AwareDatetime | None, Query(description="published at or after (ISO 8601 with offset)")] = None,
    until: Annotated[AwareDatetime | None, Query(description="published at or before (ISO 8601 with offset)")] = None,
    author: Annotated[str | None, Query(max_length=300, description="author handle (with or without @) or id")] = None,
    sort: Annotated[Sort, Query(description="newest, oldest or engagement first")] = "newest",
    total: Annotated[bool, Query(description=f"also count the matches (up to {TOTAL_CAP:,}); one more query")] = False,
) -> MentionPage:
    """Mentions matching the search and every filter, ``limit`` per page; follow ``next_cursor``.
    A cursor only works with the filters it was made for."""
    query = _explorer_query(
        q=q,
        source_ids=source_id or [],
        platforms=platform or [],
        langs=lang or [],
        sentiments=sentiment or [],
        intents=intent or [],
        since=_utc("since", since),
        until=_utc("until", until),
        author=author,
        sort=sort,
    )
    try:
        page = explorer.list_page(session, query=query, after=paging.cursor, limit=min(paging.limit, MAX_LIMIT))
        counted = explorer.count(session, query=query, cap=TOTAL_CAP + 1) if total else None
    except InputError as exc:
        raise _query_error(exc, query) from None
    set_link_header(request, response, page.next_cursor)
    return MentionPage(
        items=page.items,
        next_cursor=page.next_cursor,
        limit=paging.limit,
        total=None if counted is None else min(counted, TOTAL_CAP),
        total_capped=counted is not None and counted > TOTAL_CAP,
    )


@router.get(
    "/{mention_id}",
    response_model=MentionRead,
    summary="Get a mention with its thread",
    responses={304: {"description": "Not modified (If-None-Match)"}, **problem_docs(401, 403, 404, 414, 422)},
)
def get_mention(
    mention_id: MentionId,
    request: Request,
    response: Response,
    session: DbSession,
    principal: Annotated[Principal, require(Permission.mentions_read)],
) -> MentionRead | Response:
    """The mention, its parent, thread root and first replies, its author card, every analysis
    result with its reasons and the corrections made. ``mention.raw`` only with ``mentions.raw``."""
    detail = explorer.get_detail(session, id=mention_id)
    raw_included = principal.can(Permission.mentions_raw)
    if not raw_included:
        detail = detail.model_copy(update={"mention": detail.mention.model_copy(update={"raw": None})})
    read = MentionRead(**dict(detail), raw_included=raw_included)
    return not_modified(request, response, etag_for("mention", mention_id, read)) or read


@router.post(
    "/{mention_id}/corrections",
    response_model=Correction,
    status_code=status.HTTP_201_CREATED,
    summary="Correct the analysis of a mention",
    responses=problem_docs(400, 401, 403, 404, 413, 414, 422),
)
def correct_mention(
    mention_id: MentionId,
    data: CorrectionCreate,
    session: DbSession,
    principal: Annotated[Principal, require(Permission.mentions_correct)],
) -> Correction:
    """Set the right sentiment, intent, offensive flag or language; the mention shows it at once."""
    try:
        entry = feedback.do_correct(
            session, mention_id=mention_id, task=data.task, label=data.label, actor=principal.email, note=data.note
        )
    except InputError as exc:
        raise body_error(exc) from None
    session.commit()
    return Correction(
        task=entry.task,
        label=entry.label,
        previous=entry.previous,
        note=entry.note,
        actor=entry.actor,
        created_at=entry.created_at,
    )
