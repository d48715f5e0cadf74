"""``/api/v1/sources``: the configured connectors, over :mod:`resonanz.sources.actions`.

A source's ``config`` is validated by its connector's own pydantic ``Config`` before anything is
stored, and every problem comes back with its path (``["body", "config", "url"]``). Secrets never
live in a config (it names an environment variable), but a config value that looks like a credential
(a key named like a password or token, a password inside a URL) is masked on the way out all the
same, and a masked value sent back unchanged keeps the stored one.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

from fastapi import APIRouter, Body, Path, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select

from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import Principal
from resonanz.api.deps import DbSession, require
from resonanz.api.etags import check_if_match, etag_for, not_modified
from resonanz.api.pagination import PageBase, Paging, decode_cursor, encode_cursor, set_link_header
from resonanz.api.problems import problem_docs
from resonanz.connectors.base import Connector
from resonanz.connectors.registry import connector_classes
from resonanz.sources import actions
from resonanz.sources import service as sources_service
from resonanz.sources.models import Source
from resonanz.sources.schemas import SourceCreate, SourceRead, SourceUpdate

router = APIRouter(prefix="/sources", tags=["sources"])
#: ``/source-kinds`` rather than ``/sources/kinds``, which would shadow a source id in ``/sources/{id}``.
kinds_router = APIRouter(tags=["sources"])

MAX_ID = 2**31 - 1
SourceId = Annotated[int, Path(ge=1, le=MAX_ID, description="the source's id")]
MASK = "********"
_SECRET_KEY = re.compile(r"pass(word)?|secret|token|api[_-]?key|credential", re.IGNORECASE)


class SourcePage(PageBase):
    items: list[SourceRead]


def _mask_value(key: str, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _mask_value(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_value(key, v) for v in value]
    if _SECRET_KEY.search(key) and not key.endswith("_env") and value not in (None, ""):
        return MASK
    if isinstance(value, str) and "://" in value:
        parts = urlsplit(value)
        if parts.password:
            netloc = f"{parts.username}:{MASK}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
            return urlunsplit(parts._replace(netloc=netloc))
    return value


def masked_config(config: dict[str, Any]) -> dict[str, Any]:
    """The config as shown to clients: credential-looking values replaced by ``********``."""
    return {k: _mask_value(k, v) for k, v in config.items()}


def source_read(source: Source) -> SourceRead:
    read = SourceRead.model_validate(source)
    return read.model_copy(update={"config": masked_config(source.config)})


def _connector(kind: str) -> type[Connector]:
    classes = connector_classes()
    if kind not in classes:
        raise RequestValidationError(
            [{"loc": ("body", "kind"), "msg": f"unknown source kind; choose one of {', '.join(sorted(classes))}"}]
        )
    return classes[kind]


def _check_config(kind: str, config: dict[str, Any]) -> None:
    """Validate with the connector's Config so every bad field is reported with its path."""
    try:
        _connector(kind).Config.model_validate(config)
    except ValidationError as exc:
        raise RequestValidationError(
            [{"loc": ("body", "config", *err["loc"]), "msg": err["msg"], "type": err["type"]} for err in exc.errors()]
        ) from None


def _unmask(update: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """Drop values the client sent back masked, so the stored secret stays."""
    return {k: v for k, v in update.items() if not (v == MASK or (k in stored and _mask_value(k, stored[k]) == v))}


def _get(session: DbSession, id: int) -> tuple[Source, SourceRead, str]:
    source = sources_service.get(session, id=id)
    read = source_read(source)
    return source, read, etag_for("source", source.id, read)


_EXAMPLES = {
    "feed": {
        "summary": "an RSS/Atom feed, pulled every 15 minutes",
        "value": {"name": "bahn-blog", "kind": "feed", "config": {"url": "https://example.org/feed.xml"}},
    },
    "webhook": {
        "summary": "a webhook source whose HMAC secret is in an environment variable",
        "value": {"name": "shop-reviews", "kind": "webhook", "config": {"secret_env": "SHOP_HOOK_SECRET"}},
    },
}


@router.get("", response_model=SourcePage, summary="List sources", responses=problem_docs(400, 401, 403, 414, 422))
def list_sources(
    request: Request,
    response: Response,
    session: DbSession,
    principal: Annotated[Principal, require(Permission.sources_read)],
    paging: Paging,
    kind: Annotated[str | None, Query(max_length=40, description="only sources of this connector kind")] = None,
    enabled: Annotated[bool | None, Query(description="only enabled (true) or disabled (false) sources")] = None,
) -> SourcePage:
    """Sources in the order they were created, ``limit`` at a time."""
    stmt = select(Source).order_by(Source.id).limit(paging.limit + 1)
    if paging.cursor:
        stmt = stmt.where(Source.id > decode_cursor(paging.cursor, keys={"id": int})["id"])
    if kind is not None:
        stmt = stmt.where(Source.kind == kind)
    if enabled is not None:
        stmt = stmt.where(Source.enabled.is_(enabled))
    rows = list(session.scalars(stmt))
    next_cursor = encode_cursor({"id": rows[paging.limit - 1].id}) if len(rows) > paging.limit else None
    set_link_header(request, response, next_cursor)
    return SourcePage(items=[source_read(s) for s in rows[: paging.limit]], next_cursor=next_cursor, limit=paging.limit)


@router.post(
    "",
    response_model=SourceRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a source",
    responses=problem_docs(400, 401, 403, 409, 413, 414, 422),
)
def create_source(
    response: Response,
    session: DbSession,
    principal: Annotated[Principal, require(Permission.sources_manage)],
    data: Annotated[SourceCreate, Body(openapi_examples=_EXAMPLES)],
) -> SourceRead:
    """Create a source; ``config`` is checked by the connector of ``kind`` (see `GET /source-kinds`)."""
    _check_config(data.kind, data.config)
    source = actions.do_create_source(session, data=data)
    session.commit()
    read = source_read(source)
    response.headers["ETag"] = etag_for("source", source.id, read)
    response.headers["Location"] = f"/api/v1/sources/{source.id}"
    return read


class SourceKindRead(BaseModel):
    kind: str
    title: str
    pulls: bool = Field(description="false for push-only kinds (files, webhooks), which are never scheduled")
    config_schema: dict[str, Any] = Field(description="JSON schema of the kind's `config`")


@kinds_router.get(
    "/source-kinds",
    response_model=list[SourceKindRead],
    summary="Connector kinds",
    responses=problem_docs(401, 403, 414),
)
def list_kinds(principal: Annotated[Principal, require(Permission.sources_read)]) -> list[SourceKindRead]:
    """Every connector kind this server knows, with the JSON schema its ``config`` must match."""
    return [
        SourceKindRead(kind=kind, title=cls.title, pulls=cls.pulls, config_schema=cls.Config.model_json_schema())
        for kind, cls in sorted(connector_classes().items())
    ]


@router.get(
    "/{source_id}",
    response_model=SourceRead,
    summary="Get a source",
    responses={304: {"description": "Not modified (If-None-Match)"}, **problem_docs(401, 403, 404, 414, 422)},
)
def get_source(
    source_id: SourceId,
    request: Request,
    response: Response,
    session: DbSession,
    principal: Annotated[Principal, require(Permission.sources_read)],
) -> SourceRead | Response:
    _source, read, etag = _get(session, source_id)
    return not_modified(request, response, etag) or read


@router.patch(
    "/{source_id}",
    response_model=SourceRead,
    summary="Change a source",
    responses=problem_docs(400, 401, 403, 404, 412, 413, 414, 422),
)
def update_source(
    source_id: SourceId,
    data: SourceUpdate,
    request: Request,
    response: Response,
    session: DbSession,
    principal: Annotated[Principal, require(Permission.sources_manage)],
) -> SourceRead:
    """Change config (merged into the stored one), interval or enabled. Send ``If-Match`` with the
    ETag you read to be refused (412) instead of overwriting someone else's change."""
    source, _read, etag = _get(session, source_id)
    check_if_match(request, etag)
    if data.config is not None:
        data = data.model_copy(update={"config": _unmask(data.config, source.config)})
        assert data.config is not None
        _check_config(source.kind, {**source.config, **data.config})
    actions.do_update_source(session, source=source, data=data)
    session.commit()
    read = source_read(source)
    response.headers["ETag"] = etag_for("source", source.id, read)
    return read


@router.delete(
    "/{source_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a source",
    responses=problem_docs(401, 403, 404, 412, 414, 422),
)
def delete_source(
    source_id: SourceId,
    request: Request,
    session: DbSession,
    principal: Annotated[Principal, require(Permission.sources_manage)],
) -> Response:
    """Remove the source; its mentions stay, with no source."""
    source, _read, etag = _get(session, source_id)
    check_if_match(request, etag)
    actions.do_remove_source(session, source=source)
    session.commit()
    return Response(status_code=204)
