"""``/api/v1/brands`` and ``/api/v1/queries``: brands, versioned listening queries and the draft
test behind the query editor (``POST /queries/test``), over :mod:`resonanz.listening.brands`,
:mod:`resonanz.listening.queries` and :func:`resonanz.listening.service.try_query`.

Reading needs ``dashboards.read``, writing ``queries.manage``. A query text that does not parse is
answered 422 ``query-syntax`` with the column (1-based), the hint and a caret line, so a client can
point at the spot. Single resources carry ETags; PATCH and DELETE honour ``If-Match``.
"""

from __future__ import annotations

from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy import select

from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import Principal
from resonanz.api.deps import DbSession, require
from resonanz.api.etags import check_if_match, etag_for, not_modified
from resonanz.api.pagination import PageBase, Paging, decode_cursor, encode_cursor, set_link_header
from resonanz.api.problems import FieldError, problem_docs, problem_response
from resonanz.errors import InputError
from resonanz.listening import brands as brand_service
from resonanz.listening import queries as query_service
from resonanz.listening.models import Brand
from resonanz.listening.models import Query as ListeningQuery
from resonanz.listening.query import QuerySyntaxError
from resonanz.listening.schemas import (
    BrandCreate,
    BrandRead,
    BrandUpdate,
    QueryCreate,
    QueryRead,
    QueryRestore,
    QueryTestIn,
    QueryTestOut,
    QueryUpdate,
    QueryVersionRead,
    SampleRead,
    VolumePoint,
)
from resonanz.listening.service import try_query

router = APIRouter(tags=["listening"])

MAX_ID = 2**31 - 1
BrandId = Annotated[int, Path(ge=1, le=MAX_ID, description="the brand's id")]
QueryId = Annotated[int, Path(ge=1, le=MAX_ID, description="the query's id")]
Reader = Annotated[Principal, require(Permission.dashboards_read)]
Manager = Annotated[Principal, require(Permission.queries_manage)]
#: an interactive draft test stops here and says ``partial`` (the CLI allows longer)
TEST_TIME_LIMIT_S = 1.5


class BrandPage(PageBase):
    items: list[BrandRead]


class QueryPage(PageBase):
    items: list[QueryRead]


def syntax_problem(request: Request, exc: QuerySyntaxError, *, field: str = "text") -> JSONResponse:
    """422 with where the query breaks: ``column`` (1-based), ``hint`` and a ``caret`` line."""
    return problem_response(
        422,
        slug="query-syntax",
        title="Query syntax error",
        detail=f"column {exc.column}: {exc.reason}",
        instance=request.url.path,
        field_errors=[FieldError(loc=["body", field], msg=f"column {exc.column}: {exc.reason}", type="query_syntax")],
        column=exc.column,
        reason=exc.reason,
        hint=exc.hint,
        caret=exc.caret(),
    )


# -- brands --------------------------------------------------------------------------------------


def _brand(session: DbSession, id: int) -> tuple[Brand, BrandRead, str]:
    brand = brand_service.get_brand(session, id=id)
    read = BrandRead.of(brand)
    return brand, read, etag_for("brand", brand.id, read)


@router.get(
    "/brands", response_model=BrandPage, summary="List brands", responses=problem_docs(400, 401, 403, 413, 414, 422)
)
def list_brands(
    request: Request,
    response: Response,
    session: DbSession,
    principal: Reader,
    paging: Paging,
    kind: Annotated[str | None, Query(pattern="^(own|product|competitor)$")] = None,
) -> BrandPage:
    """Brands in the order they were created."""
    stmt = select(Brand).order_by(Brand.id).limit(paging.limit + 1)
    if paging.cursor:
        stmt = stmt.where(Brand.id > decode_cursor(paging.cursor, keys={"id": int})["id"])
    if kind is not None:
        stmt = stmt.where(Brand.kind == kind)
    rows = list(session.scalars(stmt))
    next_cursor = encode_cursor({"id": rows[paging.limit - 1].id}) if len(rows) > paging.limit else None
    set_link_header(request, response, next_cursor)
    return BrandPage(items=[BrandRead.of(b) for b in rows[: paging.limit]], next_cursor=next_cursor, limit=paging.limit)


@router.post(
    "/brands",
    response_model=BrandRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a brand",
    responses=problem_docs(400, 401, 403, 409, 413, 414, 422),
)
def create_brand(response: Response, session: DbSession, principal: Manager, data: BrandCreate) -> BrandRead:
    brand = brand_service.do_create_brand(
        session, name=data.name, kind=data.kind, description=data.description, aliases=data.aliases, actor=principal
    )
    session.commit()
    read = BrandRead.of(brand)
    response.headers["ETag"] = etag_for("brand", brand.id, read)
    response.headers["Location"] = f"/api/v1/brands/{brand.id}"
    return read


@router.get(
    "/brands/{brand_id}",
    response_model=BrandRead,
    summary="Get a brand",
    responses={304: {"description": "Not modified"}, **problem_docs(400, 401, 403, 404, 413, 414, 422)},
)
def get_brand(
    brand_id: BrandId, request: Request, response: Response, session: DbSession, principal: Reader
) -> BrandRead | Response:
    _brand_row, read, etag = _brand(session, brand_id)
    return not_modified(request, response, etag) or read


@router.patch(
    "/brands/{brand_id}",
    response_model=BrandRead,
    summary="Change a brand",
    responses=problem_docs(400, 401, 403, 404, 409, 412, 413, 414, 422),
)
def update_brand(
    brand_id: BrandId, data: BrandUpdate, request: Request, response: Response, session: DbSession, principal: Manager
) -> BrandRead:
    brand, _read, etag = _brand(session, brand_id)
    check_if_match(request, etag)
    brand_service.do_update_brand(
        session,
        brand=brand,
        name=data.name,
        kind=data.kind,
        description=data.description,
        aliases=data.aliases,
        actor=principal,
    )
    session.commit()
    read = BrandRead.of(brand)
    response.headers["ETag"] = etag_for("brand", brand.id, read)
    return read


@router.delete(
    "/brands/{brand_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a brand",
    responses=problem_docs(400, 401, 403, 404, 412, 413, 414, 422),
)
def delete_brand(brand_id: BrandId, request: Request, session: DbSession, principal: Manager) -> Response:
    """Remove the brand; its queries stay, without a brand."""
    brand, _read, etag = _brand(session, brand_id)
    check_if_match(request, etag)
    brand_service.do_remove_brand(session, brand=brand, actor=principal)
    session.commit()
    return Response(status_code=204)


# -- queries -------------------------------------------------------------------------------------


def _query(session: DbSession, id: int) -> tuple[ListeningQuery, QueryRead, str]:
    query = query_service.get_query(session, id=id)
    read = QueryRead.of(query, matches=query_service.match_counts(session, query_ids=[query.id]).get(query.id, 0))
    return query, read, etag_for("query", query.id, read)


@router.post(
    "/queries/test",
    response_model=QueryTestOut,
    summary="Test a draft query against history",
    responses=problem_docs(400, 401, 403, 413, 414, 422),
)
def test_query(
    request: Request, session: DbSession, principal: Reader, data: QueryTestIn
) -> QueryTestOut | JSONResponse:
    """Count, mentions per day (in the user's time zone) and the newest samples of a draft query,
    without saving it. Bounded in time: when not every candidate could be checked, ``partial`` is
    true, the count a lower bound, and ``estimate`` the projection from the share checked."""
    try:
        compiled = query_service.validate_text(data.text)
    except QuerySyntaxError as exc:
        return syntax_problem(request, exc)
    since, until = (None if d is None else d if d.tzinfo else d.replace(tzinfo=UTC) for d in (data.since, data.until))
    if since is not None and until is not None and since >= until:
        raise InputError("since must be before until", location="body.since")
    result = try_query(
        session,
        query=compiled,
        since=since,
        until=until,
        samples=data.samples,
        time_limit_s=TEST_TIME_LIMIT_S,
        tz=principal.time_zone,
    )
    return QueryTestOut(
        normalized=result.normalized,
        count=result.count,
        exact=result.exact,
        partial=result.truncated,
        checked=result.checked,
        candidates=result.candidates,
        estimate=result.estimate,
        scanned_share=result.scanned_share,
        zone=result.zone,
        volume=[VolumePoint(day=d, count=c) for d, c in result.curve],
        volume_every=result.curve_every,
        samples=[
            SampleRead(id=s.id, published_at=s.published_at, platform=s.platform, text=s.text) for s in result.samples
        ],
        elapsed_ms=result.elapsed_ms,
    )


@router.get(
    "/queries", response_model=QueryPage, summary="List queries", responses=problem_docs(400, 401, 403, 413, 414, 422)
)
def list_queries(
    request: Request,
    response: Response,
    session: DbSession,
    principal: Reader,
    paging: Paging,
    brand_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    active: Annotated[bool | None, Query(description="only active (true) or inactive (false) queries")] = None,
) -> QueryPage:
    """Queries in the order they were created, with their stored match counts."""
    stmt = select(ListeningQuery).order_by(ListeningQuery.id).limit(paging.limit + 1)
    if paging.cursor:
        stmt = stmt.where(ListeningQuery.id > decode_cursor(paging.cursor, keys={"id": int})["id"])
    if brand_id is not None:
        stmt = stmt.where(ListeningQuery.brand_id == brand_id)
    if active is not None:
        stmt = stmt.where(ListeningQuery.active.is_(active))
    rows = list(session.scalars(stmt))
    next_cursor = encode_cursor({"id": rows[paging.limit - 1].id}) if len(rows) > paging.limit else None
    rows = rows[: paging.limit]
    counts = query_service.match_counts(session, query_ids=[q.id for q in rows])
    set_link_header(request, response, next_cursor)
    return QueryPage(
        items=[QueryRead.of(q, matches=counts.get(q.id, 0)) for q in rows], next_cursor=next_cursor, limit=paging.limit
    )


@router.post(
    "/queries",
    response_model=QueryRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a query",
    responses=problem_docs(400, 401, 403, 404, 409, 413, 414, 422),
)
def create_query(
    request: Request, response: Response, session: DbSession, principal: Manager, data: QueryCreate
) -> QueryRead | JSONResponse:
    """Save a query (version 1); its matches over history are built by a background job."""
    try:
        query = query_service.do_create_query(
            session,
            name=data.name,
            text=data.text,
            brand_id=data.brand_id,
            note=data.note,
            active=data.active,
            actor=principal,
        )
    except QuerySyntaxError as exc:
        return syntax_problem(request, exc)
    session.commit()
    read = QueryRead.of(query, matches=0)
    response.headers["ETag"] = etag_for("query", query.id, read)
    response.headers["Location"] = f"/api/v1/queries/{query.id}"
    return read


@router.get(
    "/queries/{query_id:int}",
    response_model=QueryRead,
    summary="Get a query",
    responses={304: {"description": "Not modified"}, **problem_docs(400, 401, 403, 404, 413, 414, 422)},
)
def get_query(
    query_id: QueryId, request: Request, response: Response, session: DbSession, principal: Reader
) -> QueryRead | Response:
    _row, read, etag = _query(session, query_id)
    return not_modified(request, response, etag) or read


@router.patch(
    "/queries/{query_id:int}",
    response_model=QueryRead,
    summary="Change a query",
    responses=problem_docs(400, 401, 403, 404, 409, 412, 413, 414, 422),
)
def update_query(
    query_id: QueryId, data: QueryUpdate, request: Request, response: Response, session: DbSession, principal: Manager
) -> QueryRead | JSONResponse:
    """A changed ``text`` becomes a new version (with ``note``) and is re-applied to history."""
    query, _read, etag = _query(session, query_id)
    check_if_match(request, etag)
    brand: int | query_service.Unset | None = (
        data.brand_id if "brand_id" in data.model_fields_set else query_service.UNSET
    )
    try:
        query_service.do_update_query(
            session,
            query=query,
            name=data.name,
            text=data.text,
            brand_id=brand,
            note=data.note,
            active=data.active,
            actor=principal,
        )
    except QuerySyntaxError as exc:
        return syntax_problem(request, exc)
    session.commit()
    _row, read, etag = _query(session, query_id)
    response.headers["ETag"] = etag
    return read


@router.delete(
    "/queries/{query_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a query",
    responses=problem_docs(400, 401, 403, 404, 412, 413, 414, 422),
)
def delete_query(query_id: QueryId, request: Request, session: DbSession, principal: Manager) -> Response:
    """Delete the query, its versions and its matches."""
    query, _read, etag = _query(session, query_id)
    check_if_match(request, etag)
    query_service.do_remove_query(session, query=query, actor=principal)
    session.commit()
    return Response(status_code=204)


@router.get(
    "/queries/{query_id:int}/versions",
    response_model=list[QueryVersionRead],
    summary="A query's versions",
    responses=problem_docs(400, 401, 403, 404, 413, 414, 422),
)
def list_versions(query_id: QueryId, session: DbSession, principal: Reader) -> list[QueryVersionRead]:
    """Every saved text, newest first, with who changed it, when and why."""
    query_service.get_query(session, id=query_id)
    return [QueryVersionRead.model_validate(v) for v in query_service.list_versions(session, query_id=query_id)]


@router.post(
    "/queries/{query_id:int}/restore",
    response_model=QueryRead,
    summary="Restore an old version",
    responses=problem_docs(400, 401, 403, 404, 409, 412, 413, 414, 422),
)
def restore_version(
    query_id: QueryId, data: QueryRestore, request: Request, response: Response, session: DbSession, principal: Manager
) -> QueryRead:
    """Make version ``version``'s text current again, as a new version."""
    query, _read, etag = _query(session, query_id)
    check_if_match(request, etag)
    query_service.do_restore_version(session, query=query, version=data.version, note=data.note, actor=principal)
    session.commit()
    _row, read, etag = _query(session, query_id)
    response.headers["ETag"] = etag
    return read


@router.post(
    "/queries/{query_id:int}/reapply",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Re-apply a query to history",
    responses=problem_docs(400, 401, 403, 404, 413, 414, 422),
)
def reapply_query(query_id: QueryId, session: DbSession, principal: Manager) -> dict[str, int | None]:
    """Queue the job that rebuilds the query's stored matches over all mentions."""
    query = query_service.get_query(session, id=query_id)
    job_id = query_service.do_reapply(session, query=query, actor=principal)
    session.commit()
    return {"query_id": query.id, "version": query.version, "job_id": job_id}
