"""ETags on single resources: cheap re-fetches (``If-None-Match`` -> 304) and optimistic concurrency
(``If-Match`` on PATCH/DELETE -> 412 when someone changed the resource meanwhile).

The tag is weak (``W/"source-7-3f9a…"``): the resource's kind and id plus a digest of its JSON
representation. A digest of the representation instead of ``updated_at`` because not every table
has such a column and some changes (a correction of a mention's sentiment, a new reply) do not bump
one; whatever a client can see changing changes the tag. Comparison is weak on both headers (RFC
9110 asks for strong comparison on If-Match; a representation digest is as exact as a strong tag
would be, and one tag for both uses keeps clients simple — documented in docs/api.md).
"""

from __future__ import annotations

import hashlib

from fastapi import Request, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException


def etag_for(kind: str, id: int, representation: BaseModel) -> str:
    digest = hashlib.sha256(representation.model_dump_json().encode()).hexdigest()[:20]
    return f'W/"{kind}-{id}-{digest}"'


def _tags(header: str) -> list[str]:
    return [t.strip().removeprefix("W/") for t in header.split(",") if t.strip()]


def _matches(header: str, etag: str) -> bool:
    tags = _tags(header)
    return "*" in tags or etag.removeprefix("W/") in tags


def not_modified(request: Request, response: Response, etag: str) -> Response | None:
    """Set ``ETag`` on ``response``; return a 304 answer when the client's copy is current.

    What a resource shows depends on who asks (the raw payload only for some roles), so shared
    caches must not keep it (``private``) and a client revalidates before reuse (``no-cache``)."""
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Authorization, Cookie"}
    response.headers.update(headers)
    header = request.headers.get("if-none-match")
    if header is not None and _matches(header, etag):
        return Response(status_code=304, headers=headers)
    return None


def check_if_match(request: Request, etag: str) -> None:
    """Refuse a change based on a stale copy: ``If-Match`` given and not the current tag -> 412."""
    header = request.headers.get("if-match")
    if header is not None and not _matches(header, etag):
        raise HTTPException(
            412,
            detail="the resource changed since you read it (If-Match does not match its current ETag): "
            "GET it again, re-apply your change and send the new ETag",
            headers={"ETag": etag},
        )
