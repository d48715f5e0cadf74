"""``/api/v1/analytics``: the dashboard numbers as JSON — the same service and models the page uses.

Every resource takes the same scope parameters: ``query_id`` and ``brand_id`` (repeatable, their
union: a mention matched by several counts once; neither means every mention), ``since``/``until``
(ISO 8601 with offset; default the last 30 days), ``tz`` (IANA zone of the buckets; default the
caller's profile zone) and ``interval`` (hour/day/week). The range is widened to whole buckets; the
answer carries the buckets' own bounds. Bad values answer 422 problem+json naming the parameter.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime, Field, ValidationError
from sqlalchemy import select

from resonanz import clock
from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import Principal
from resonanz.api.deps import DbSession, require
from resonanz.api.problems import problem_docs
from resonanz.listening import analytics
from resonanz.listening.analytics_schemas import (
    AuthorList,
    Dashboard,
    EmergingTerms,
    Facet,
    Interval,
    Scope,
    SentimentSeries,
    ShareOfVoice,
    TopList,
    Volume,
)
from resonanz.listening.models import Brand
from resonanz.listening.models import Query as ListeningQuery

router = APIRouter(prefix="/analytics", tags=["analytics"])

MAX_ID = 2**31 - 1
IdItem = Annotated[int, Field(ge=1, le=MAX_ID)]
DEFAULT_RANGE = timedelta(days=30)
#: Scope field -> the query parameter that fills it
_PARAM = {"query_ids": "query_id", "brand_ids": "brand_id"}
Reader = Annotated[Principal, require(Permission.dashboards_read)]


def _invalid(param: str, msg: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("query", param), "msg": msg, "type": "value_error"}])


def scope_params(
    session: DbSession,
    principal: Reader,
    query_id: Annotated[list[IdItem] | None, Query(description="listening query id; repeat for several")] = None,
    brand_id: Annotated[list[IdItem] | None, Query(description="brand id; repeat for several")] = None,
    since: Annotated[
        AwareDatetime | None, Query(description="start (ISO 8601 with offset); default until - 30 days")
    ] = None,
    until: Annotated[AwareDatetime | None, Query(description="end (ISO 8601 with offset); default now")] = None,
    tz: Annotated[str | None, Query(max_length=64, description="IANA time zone of the buckets; default yours")] = None,
    interval: Annotated[Interval, Query(description="bucket size: hour, day or week (local)")] = "day",
) -> Scope:
    """The :class:`Scope` of a request, validated; unknown query or brand ids are a 422."""
    try:
        end = (until or clock.now()).astimezone(UTC)
        start = (since or end - DEFAULT_RANGE).astimezone(UTC)
    except OverflowError:
        raise _invalid("since" if since else "until", "the date is out of range") from None
    try:
        scope = Scope(
            query_ids=query_id,
            brand_ids=brand_id,
            since=start,
            until=end,
            tz=tz or principal.time_zone or "UTC",
            interval=interval,
        )
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "since"
            errors.append(
                {
                    "loc": ("query", _PARAM.get(field, field), *err["loc"][1:]),
                    "msg": str(err["msg"]).removeprefix("Value error, "),
                    "type": err["type"],
                }
            )
        raise RequestValidationError(errors) from None
    for ids, model, param in ((scope.query_ids, ListeningQuery, "query_id"), (scope.brand_ids, Brand, "brand_id")):
        if ids:
            known = set(session.scalars(select(model.id).where(model.id.in_(ids))))
            missing = [i for i in ids if i not in known]
            if missing:
                raise _invalid(param, f"no such {param.removesuffix('_id')}: {', '.join(map(str, missing))}")
    return scope


ScopeDep = Annotated[Scope, Depends(scope_params)]
_DOCS = problem_docs(400, 401, 403, 414, 422)


@router.get("/volume", response_model=Volume, summary="Mentions and reach per bucket", responses=_DOCS)
def get_volume(session: DbSession, scope: ScopeDep) -> Volume:
    """Mentions and reach (authors' followers) per bucket; empty buckets are 0."""
    return analytics.volume(session, scope=scope)


@router.get("/sentiment", response_model=SentimentSeries, summary="Sentiment split and net sentiment", responses=_DOCS)
def get_sentiment(session: DbSession, scope: ScopeDep) -> SentimentSeries:
    """Positive/negative/neutral/unknown per bucket; net = (pos - neg) / (pos + neg + neu)."""
    return analytics.sentiment_over_time(session, scope=scope)


@router.get("/share-of-voice", response_model=ShareOfVoice, summary="Share of voice across brands", responses=_DOCS)
def get_share_of_voice(session: DbSession, scope: ScopeDep) -> ShareOfVoice:
    """Mentions per brand (the given ``brand_id``s, else every brand; with only ``query_id``s: per query)."""
    return analytics.share_of_voice(session, scope=scope)


@router.get("/languages", response_model=Facet, summary="Mentions per language", responses=_DOCS)
def get_languages(session: DbSession, scope: ScopeDep) -> Facet:
    return analytics.languages(session, scope=scope)


@router.get("/sources", response_model=Facet, summary="Mentions per source", responses=_DOCS)
def get_sources(session: DbSession, scope: ScopeDep) -> Facet:
    return analytics.sources(session, scope=scope)


@router.get("/platforms", response_model=Facet, summary="Mentions per platform", responses=_DOCS)
def get_platforms(session: DbSession, scope: ScopeDep) -> Facet:
    return analytics.platforms(session, scope=scope)


TopKind = Literal["terms", "hashtags", "links", "domains"]
_TOPS = {
    "terms": analytics.top_terms,
    "hashtags": analytics.top_hashtags,
    "links": analytics.top_links,
    "domains": analytics.top_domains,
}


@router.get("/top/authors", response_model=AuthorList, summary="Top authors by reach or volume", responses=_DOCS)
def get_top_authors(
    session: DbSession,
    scope: ScopeDep,
    by: Annotated[Literal["reach", "volume"], Query(description="followers or mentions in the range")] = "reach",
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> AuthorList:
    """The range's authors by followers (reach) or by their number of mentions (volume)."""
    return analytics.top_authors(session, scope=scope, by=by, limit=limit)


@router.get("/top/{kind}", response_model=TopList, summary="Top terms, hashtags, links or domains", responses=_DOCS)
def get_top(
    session: DbSession,
    scope: ScopeDep,
    kind: Annotated[TopKind, Path(description="terms, hashtags, links or domains")],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> TopList:
    """Counted over the newest mentions of the range (``sampled`` says when not all were read)."""
    return _TOPS[kind](session, scope=scope, limit=limit)


@router.get("/emerging", response_model=EmergingTerms, summary="Emerging terms", responses=_DOCS)
def get_emerging(session: DbSession, scope: ScopeDep, limit: Annotated[int, Query(ge=1, le=100)] = 10) -> EmergingTerms:
    """Terms that grew at least twofold against their mean in the four equally long periods before."""
    return analytics.emerging_terms(session, scope=scope, limit=limit)


@router.get("/dashboard", response_model=Dashboard, summary="Everything a dashboard shows", responses=_DOCS)
def get_dashboard(session: DbSession, scope: ScopeDep) -> Dashboard:
    """Volume, sentiment, share of voice, facets, top lists and emerging terms in one answer."""
    return analytics.dashboard(session, scope=scope)
