"""``/api/v1/cases``: the care inbox over HTTP — the same service and actions the pages and the CLI use.

Permissions: reading needs ``cases.read``; working a case (status, notes, tags, snooze, merge,
presence, taking it oneself) ``cases.work``; assigning it to someone else or transferring it to a
team ``cases.assign``. Agents see only the cases of their teams, their own and unrouted ones
(:class:`resonanz.cases.service.Scope`); any other case is 404 to them.

Concurrency: ``GET /cases/{id}`` sends ``ETag: W/"case-{id}-v{version}"``. Every change takes the
version the client saw, as ``If-Match`` (a stale one: 412) or as ``version`` in the body (a stale one:
409); the problem's detail names who changed what. ``GET /cases/events`` is a Server-Sent Events
stream of case events (``Last-Event-ID`` resumes), polled from the database so it works with any
number of processes.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import Principal
from resonanz.api.deps import DbSession, require
from resonanz.api.problems import problem_docs
from resonanz.cases import actions, collab, events, service
from resonanz.cases.models import Case
from resonanz.cases.schemas import (
    AssignIn,
    CasePage,
    CaseRead,
    CaseUpdate,
    EventRead,
    MergeIn,
    NoteIn,
    NoteRead,
    PresenceIn,
    PresenceItem,
    SnoozeIn,
    TagsIn,
    TransitionIn,
)
from resonanz.db.database import Database
from resonanz.db.engine import begin_read_only
from resonanz.errors import PermissionDeniedError

router = APIRouter(prefix="/cases", tags=["cases"])

MAX_ID = 2**31 - 1
CaseId = Annotated[int, Path(ge=1, le=MAX_ID, description="the case's id")]
_ETAG = re.compile(r'^(?:W/)?"case-(\d+)-v(\d+)"$')
#: how long one SSE response lasts before the browser reconnects (with Last-Event-ID)
STREAM_SECONDS = 55.0
POLL_SECONDS = 1.0


def case_etag(c: Case) -> str:
    return f'W/"case-{c.id}-v{c.version}"'


def scope_of(session: DbSession, principal: Principal) -> service.Scope:
    return service.scope_for(session, user_id=principal.user_id, role=principal.role)


def expected_version(case_id: int, if_match: str | None, body_version: int | None) -> tuple[int | None, bool]:
    """The version the client saw and whether it came from If-Match (then a mismatch is a 412)."""
    if if_match:
        match = _ETAG.match(if_match.strip())
        if match is None or int(match.group(1)) != case_id:
            err = actions.StaleCaseError(case_id=case_id, expected=None, current=None)
            err.status_code = 412  # type: ignore[attr-defined]
            raise err
        return int(match.group(2)), True
    return body_version, False


class _Change:
    """Run a change with the version check; a stale If-Match becomes 412, a stale body version 409."""

    def __init__(
        self, session: DbSession, principal: Principal, case_id: int, if_match: str | None, version: int | None
    ):
        self.session, self.principal = session, principal
        self.case = service.get_case(session, id=case_id, scope=scope_of(session, principal))
        self.version, self.from_header = expected_version(case_id, if_match, version)

    def done(self, response: Response) -> CaseRead:
        self.session.commit()
        response.headers["ETag"] = case_etag(self.case)
        return CaseRead.of(self.case)

    def __enter__(self) -> _Change:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if isinstance(exc, actions.StaleCaseError) and self.from_header:
            exc.status_code = 412  # type: ignore[attr-defined]


IfMatch = Annotated[str | None, Header(alias="If-Match", description='W/"case-{id}-v{version}" from GET')]
Reader = Annotated[Principal, require(Permission.cases_read)]
Worker = Annotated[Principal, require(Permission.cases_work)]


@router.get(
    "", response_model=CasePage, summary="List cases (the queue)", responses=problem_docs(400, 401, 403, 414, 422)
)
def list_cases(
    session: DbSession,
    principal: Reader,
    status_: Annotated[list[str] | None, Query(alias="status", description="default: new, open, pending")] = None,
    priority: Annotated[list[str] | None, Query()] = None,
    platform: Annotated[list[str] | None, Query()] = None,
    lang: Annotated[list[str] | None, Query()] = None,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    q: Annotated[str | None, Query(max_length=200, description="words of the subject, or a case id")] = None,
    mine: bool = False,
    unassigned: bool = False,
    team_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    with_counts: Annotated[bool, Query(description="add the counts of the queue's quick views")] = False,
) -> Response:
    """Most urgent first, then who waited longest; keyset pages (``cursor``)."""
    flt = service.CaseFilter(
        mine_user_id=principal.user_id if mine else None, team_id=team_id, unassigned=unassigned,
        statuses=status_ or [], priorities=priority or [], platforms=platform or [], langs=lang or [], tag=tag, q=q,
    )  # fmt: skip
    scope = scope_of(session, principal)
    page = service.list_cases(session, filters=flt, scope=scope, after=cursor, limit=limit)
    total, exact = service.count_cases_upto(session, filters=flt, scope=scope)
    counts = service.queue_counts(session, scope=scope, user_id=principal.user_id) if with_counts else None
    items = [CaseRead.of(c) for c in page.items]
    out = CasePage(
        items=items, next_cursor=page.next_cursor, limit=limit, total=total, total_exact=exact, counts=counts
    )
    return validated_json(out)


def validated_json(model: BaseModel, headers: dict[str, str] | None = None) -> Response:
    """``model`` as the JSON response, as it is: it was validated when it was built, so FastAPI's
    second pass through ``response_model`` (a third of a queue page's CPU) is skipped; the
    ``response_model`` still documents the route."""
    return Response(model.model_dump_json(), media_type="application/json", headers=headers)


async def event_stream(
    request: Request, *, scope: service.Scope, case_id: int | None, after: int | None, seconds: float
) -> AsyncIterator[str]:
    """SSE text: ``case`` events after ``after`` (of one case or every visible case) and, for one
    case, ``presence`` whenever who is viewing/typing changes. Polls the database every second."""
    db: Database = request.app.state.db

    def poll(last: int | None) -> tuple[int, list[dict[str, Any]], list[dict[str, Any]] | None]:
        with db.sessions() as session:
            begin_read_only(session)  # a poll never queues for SQLite's write lock
            if last is None:
                return events.last_event_id(session), [], None
            rows = events.events_after(session, after_id=last, case_id=case_id)
            new_last = rows[-1].id if rows else last
            held: Iterable[Case] = (
                session.scalars(select(Case).where(Case.id.in_({r.case_id for r in rows}))) if rows else ()
            )
            visible = {c.id for c in held if scope.allows(c)}
            out = [EventRead.of(r).model_dump(mode="json") for r in rows if r.case_id in visible]
            who = None
            if case_id is not None:
                who = [
                    PresenceItem(**vars(p)).model_dump(mode="json") for p in service.presence(session, case_id=case_id)
                ]
            return new_last, out, who

    deadline = time.monotonic() + seconds
    yield "retry: 2000\n: connected\n\n"
    last = after if after is not None else (await run_in_threadpool(poll, None))[0]
    seen_presence: list[dict[str, Any]] | None = None
    while True:
        last, found, who = await run_in_threadpool(poll, last)
        for item in found:
            yield f"id: {item['id']}\nevent: case\ndata: {json.dumps(item)}\n\n"
        if who is not None and who != seen_presence:
            seen_presence = who
            yield f"event: presence\ndata: {json.dumps(who)}\n\n"
        if time.monotonic() >= deadline or await request.is_disconnected():
            return
        await asyncio.sleep(POLL_SECONDS)


def _after(last_event_id: str | None, after: int | None) -> int | None:
    if after is not None:
        return after
    if last_event_id and last_event_id.isdigit():
        return int(last_event_id)
    return None


# Not in the OpenAPI document: a stream of text/event-stream that never ends on its own cannot be
# described there (or fuzzed); docs/inbox.md documents it. The route test still checks its permission.
@router.get("/events", include_in_schema=False)
def stream(
    request: Request,
    session: DbSession,
    principal: Reader,
    case_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    after: Annotated[int | None, Query(ge=0, description="events after this id; default: from now")] = None,
    seconds: Annotated[float, Query(gt=0, le=STREAM_SECONDS)] = STREAM_SECONDS,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    scope = scope_of(session, principal)
    if case_id is not None:
        service.get_case(session, id=case_id, scope=scope)
    session.commit()  # end the request's transaction now: the stream outlives it and polls on its own sessions
    gen = event_stream(request, scope=scope, case_id=case_id, after=_after(last_event_id, after), seconds=seconds)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(gen, media_type="text/event-stream", headers=headers)


@router.get("/{case_id}", response_model=CaseRead, summary="One case", responses=problem_docs(401, 403, 404, 414, 422))
def get_case(case_id: CaseId, session: DbSession, principal: Reader) -> Response:
    c = service.get_case(session, id=case_id, scope=scope_of(session, principal))
    return validated_json(CaseRead.of(c), headers={"ETag": case_etag(c)})


@router.patch(
    "/{case_id}",
    response_model=CaseRead,
    summary="Change a case",
    responses=problem_docs(400, 401, 403, 404, 409, 412, 413, 414, 422),
)
def patch_case(
    case_id: CaseId,
    data: CaseUpdate,
    response: Response,
    session: DbSession,
    principal: Worker,
    if_match: IfMatch = None,
) -> CaseRead:
    """Apply the given fields in one transaction; the version is checked once, before the first."""
    with _Change(session, principal, case_id, if_match, data.version) as ch:
        c, version = ch.case, ch.version
        actions.check_version(session, c, version)
        if data.status is not None and data.status != c.status:
            actions.do_change_status(session, case=c, status=data.status, expected_version=None, actor=principal)
        if data.priority is not None:
            actions.do_set_priority(session, case=c, priority=data.priority, expected_version=None, actor=principal)
        if data.assignee_id is not None or data.unassign:
            _check_assign(principal, data.assignee_id)
            actions.do_assign(session, case=c, assignee_id=data.assignee_id, expected_version=None, actor=principal)
        if data.tags is not None:
            actions.do_tag(session, case=c, add=data.tags, remove=c.tags, expected_version=None, actor=principal)
        if "snoozed_until" in data.model_fields_set:
            actions.do_snooze(session, case=c, until=data.snoozed_until, expected_version=None, actor=principal)
        return ch.done(response)


def _check_assign(principal: Principal, assignee_id: int | None) -> None:
    if assignee_id != principal.user_id and not principal.can(Permission.cases_assign):
        raise PermissionDeniedError(
            "only managers assign cases to others or unassign them; you may take a case yourself"
        )


@router.post(
    "/{case_id}/transitions",
    response_model=CaseRead,
    summary="Change the status",
    responses=problem_docs(400, 401, 403, 404, 409, 412, 413, 414, 422),
)
def transition(
    case_id: CaseId,
    data: TransitionIn,
    response: Response,
    session: DbSession,
    principal: Worker,
    if_match: IfMatch = None,
) -> CaseRead:
    """Along the transition table; a forbidden move is a 409 naming the allowed ones."""
    with _Change(session, principal, case_id, if_match, data.version) as ch:
        actions.do_change_status(
            session, case=ch.case, status=data.status, expected_version=ch.version, actor=principal
        )
        return ch.done(response)


@router.post(
    "/{case_id}/assign",
    response_model=CaseRead,
    summary="Assign or transfer",
    responses=problem_docs(400, 401, 403, 404, 409, 412, 413, 414, 422),
)
def assign(
    case_id: CaseId, data: AssignIn, response: Response, session: DbSession, principal: Worker, if_match: IfMatch = None
) -> CaseRead:
    with _Change(session, principal, case_id, if_match, data.version) as ch:
        if data.transfer:
            if not principal.can(Permission.cases_assign):
                raise PermissionDeniedError("only managers transfer cases to another team")
            actions.do_transfer(session, case=ch.case, team_id=data.team_id, assignee_id=data.assignee_id,
                                expected_version=ch.version, actor=principal)  # fmt: skip
        else:
            _check_assign(principal, data.assignee_id)
            actions.do_assign(
                session, case=ch.case, assignee_id=data.assignee_id, expected_version=ch.version, actor=principal
            )
        return ch.done(response)


@router.post(
    "/{case_id}/snooze",
    response_model=CaseRead,
    summary="Snooze until a time",
    responses=problem_docs(400, 401, 403, 404, 409, 412, 413, 414, 422),
)
def snooze(
    case_id: CaseId, data: SnoozeIn, response: Response, session: DbSession, principal: Worker, if_match: IfMatch = None
) -> CaseRead:
    with _Change(session, principal, case_id, if_match, data.version) as ch:
        actions.do_snooze(session, case=ch.case, until=data.until, expected_version=ch.version, actor=principal)
        return ch.done(response)


@router.post(
    "/{case_id}/tags",
    response_model=CaseRead,
    summary="Add or remove tags",
    responses=problem_docs(400, 401, 403, 404, 409, 412, 413, 414, 422),
)
def tags(
    case_id: CaseId, data: TagsIn, response: Response, session: DbSession, principal: Worker, if_match: IfMatch = None
) -> CaseRead:
    with _Change(session, principal, case_id, if_match, data.version) as ch:
        actions.do_tag(
            session, case=ch.case, add=data.add, remove=data.remove, expected_version=ch.version, actor=principal
        )
        return ch.done(response)


@router.post(
    "/{case_id}/merge",
    response_model=CaseRead,
    summary="Merge into another case",
    responses=problem_docs(400, 401, 403, 404, 409, 412, 413, 414, 422),
)
def merge(
    case_id: CaseId, data: MergeIn, response: Response, session: DbSession, principal: Worker, if_match: IfMatch = None
) -> CaseRead:
    """Moves this case's mentions to ``into`` and closes this one; answers with the target."""
    with _Change(session, principal, case_id, if_match, data.version) as ch:
        target = service.get_case(session, id=data.into, scope=scope_of(session, principal))
        actions.do_merge(session, case=ch.case, into=target, expected_version=ch.version, actor=principal)
        session.commit()
        response.headers["ETag"] = case_etag(target)
        return CaseRead.of(target)


@router.get(
    "/{case_id}/notes",
    response_model=list[NoteRead],
    summary="Internal notes",
    responses=problem_docs(401, 403, 404, 414, 422),
)
def notes(case_id: CaseId, session: DbSession, principal: Reader) -> list[NoteRead]:
    begin_read_only(session)
    service.get_case(session, id=case_id, scope=scope_of(session, principal))
    return [NoteRead.of(n) for n in service.list_notes(session, case_id=case_id)]


@router.post(
    "/{case_id}/notes",
    response_model=NoteRead,
    status_code=status.HTTP_201_CREATED,
    summary="Add a note",
    responses=problem_docs(400, 401, 403, 404, 413, 414, 422),
)
def add_note(case_id: CaseId, data: NoteIn, session: DbSession, principal: Worker) -> NoteRead:
    """@handle (e-mail local part or display name) notifies colleagues in-app and by e-mail."""
    c = service.get_case(session, id=case_id, scope=scope_of(session, principal))
    note = collab.do_add_note(session, case=c, body=data.body, actor=principal)
    session.commit()
    return NoteRead.of(note)


@router.get(
    "/{case_id}/timeline",
    response_model=list[EventRead],
    summary="The case's timeline",
    responses=problem_docs(401, 403, 404, 414, 422),
)
def timeline(case_id: CaseId, session: DbSession, principal: Reader) -> list[EventRead]:
    begin_read_only(session)
    service.get_case(session, id=case_id, scope=scope_of(session, principal))
    return [EventRead.of(e) for e in service.timeline(session, case_id=case_id)]


@router.get(
    "/{case_id}/presence",
    response_model=list[PresenceItem],
    summary="Who is viewing or typing",
    responses=problem_docs(401, 403, 404, 414, 422),
)
def presence(case_id: CaseId, session: DbSession, principal: Reader) -> list[PresenceItem]:
    begin_read_only(session)
    service.get_case(session, id=case_id, scope=scope_of(session, principal))
    return [PresenceItem(**vars(p)) for p in service.presence(session, case_id=case_id)]


@router.post(
    "/{case_id}/presence",
    response_model=list[PresenceItem],
    summary="Heartbeat: I am viewing/typing",
    responses=problem_docs(400, 401, 403, 404, 413, 414, 422),
)
def heartbeat(case_id: CaseId, data: PresenceIn, session: DbSession, principal: Reader) -> list[PresenceItem]:
    """Answers with the *others* present, so a client learns of a colleague with every beat."""
    service.get_case(session, id=case_id, scope=scope_of(session, principal))
    collab.do_touch_presence(session, case_id=case_id, user_id=principal.user_id, kind=data.kind)
    session.commit()
    return [
        PresenceItem(**vars(p)) for p in service.presence(session, case_id=case_id, exclude_user_id=principal.user_id)
    ]


@router.delete(
    "/{case_id}/presence",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="I left the case",
    responses=problem_docs(401, 403, 404, 414, 422),
)
def leave(
    case_id: CaseId,
    session: DbSession,
    principal: Reader,
    kind: Annotated[str | None, Query(pattern="^(viewing|typing)$")] = None,
) -> Response:
    service.get_case(session, id=case_id, scope=scope_of(session, principal))
    collab.do_leave_presence(session, case_id=case_id, user_id=principal.user_id, kind=kind)
    session.commit()
    return Response(status_code=204)
