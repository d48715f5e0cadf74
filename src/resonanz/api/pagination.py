"""Pages of a list: the envelope every list endpoint returns, its query parameters and the Link header.

Lists page by an opaque ``cursor`` (keyset pagination), never by page number or offset: a deep page
costs the same as the first, and rows arriving meanwhile do not shift what the next page shows.
Every page says ``next_cursor`` (null on the last page) and repeats it as ``Link: <…>; rel="next"``
(RFC 8288), so a client can follow links without building URLs.

``page`` and ``offset`` parameters are refused with a message that points to the cursor, instead of
being silently ignored (a client sending ``page=2`` would otherwise get page 1 forever).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, Field

from resonanz.api.problems import invalid_field

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_CURSOR_CHARS = 512
_REFUSED = ("page", "offset", "per_page", "page_size")
#: Largest number a cursor of ours may carry (ids are 32-bit on PostgreSQL; a forged huge number must
#: be a 422, not an overflow in the database driver).
MAX_POSITION = 2**31 - 1


class PageBase(BaseModel):
    """Fields every ``XPage`` shares; subclasses add ``items: list[XRead]``."""

    next_cursor: str | None = Field(description="pass as `cursor` to get the next page; null on the last page")
    limit: int = Field(description="the page size that was used")
    total: int | None = Field(default=None, description="how many match, counted up to a cap; null when not counted")
    total_capped: bool = Field(default=False, description="true when there are more than `total` matches")


class PageParams:
    """The ``limit`` and ``cursor`` query parameters, validated, as one dependency."""

    def __init__(
        self,
        request: Request,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page (1-100)")] = DEFAULT_LIMIT,
        cursor: Annotated[
            str | None,
            Query(max_length=MAX_CURSOR_CHARS, description="`next_cursor` of the previous page; omit for the first"),
        ] = None,
    ) -> None:
        for name in _REFUSED:
            if name in request.query_params:
                raise invalid_field(
                    ["query", name],
                    f"this API pages by cursor, not by {name}: omit `{name}`, "
                    "and pass the previous page's `next_cursor` as `cursor` (or follow the Link header)",
                )
        self.limit = limit
        self.cursor = cursor or None


Paging = Annotated[PageParams, Depends()]


def encode_cursor(values: dict[str, Any]) -> str:
    """An opaque cursor for a keyset position (our own lists; mentions use the explorer's cursor)."""
    raw = json.dumps({"v": 1, **values}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, keys: dict[str, type]) -> dict[str, Any]:
    """The values in ``cursor``, each checked against ``keys`` (name -> type); a cursor that is not one
    of ours is a 422 on ``query.cursor`` telling the client to start again without it."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(data, dict) or data.get("v") != 1:
            raise ValueError("unknown cursor version")
        out = {}
        for key, typ in keys.items():
            value = data[key]
            if type(value) is not typ or (isinstance(value, int) and not 0 <= value <= MAX_POSITION):
                raise ValueError(f"bad {key}")
            out[key] = value
        return out
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise invalid_field(
            ["query", "cursor"],
            "not a cursor from this API: use the `next_cursor` of the previous page unchanged, "
            "or omit `cursor` to start at the first page",
        ) from None


def set_link_header(request: Request, response: Response, next_cursor: str | None) -> None:
    """``Link: <url>; rel="next"`` with the request's own filters and the next cursor."""
    if next_cursor is None:
        return
    url = request.url.remove_query_params("cursor").include_query_params(cursor=next_cursor)
    response.headers["Link"] = f'<{url}>; rel="next"'
