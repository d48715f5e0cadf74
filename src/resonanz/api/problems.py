"""The one error mapping of the HTTP layer: every failure becomes an RFC 9457 problem document.

Business code raises domain errors (:mod:`resonanz.errors`); FastAPI raises
``RequestValidationError`` for bad parameters and bodies; Starlette raises ``HTTPException`` for
404 routes, 405 methods and oversized bodies. All of them leave the API as
``application/problem+json``::

    {"type": "urn:resonanz:problem:validation", "title": "Invalid request", "status": 422,
     "detail": "limit: Input should be less than or equal to 100",
     "instance": "/api/v1/mentions",
     "errors": [{"loc": ["query", "limit"], "msg": "Input should be less than or equal to 100"}]}

Why one module: a client (and the schemathesis run) can rely on a single shape; a stack trace never
leaves the server; an unexpected exception is logged with an id that the 500 answer names, so a
report from a user can be found in the log.

Pages (outside ``/api/``) keep Starlette's plain answers for framework errors, so the web layer's own
handlers or defaults stay in charge of HTML; domain errors are answered as problems everywhere.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DataError, IntegrityError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from resonanz import errors

log = logging.getLogger(__name__)

PROBLEM_TYPE = "urn:resonanz:problem:"
MEDIA_TYPE = "application/problem+json"
API_PREFIX = "/api/"
#: Longest query string accepted anywhere (8 KiB: what common proxies allow for the whole request line).
MAX_QUERY_BYTES = 8 * 1024
#: Largest JSON body the API reads (1 MiB); webhooks have their own, larger limit.
MAX_BODY_BYTES = 1024 * 1024


class FieldError(BaseModel):
    """One problem with one input field; ``loc`` is its path, e.g. ``["body", "config", "url"]``."""

    loc: list[str | int]
    msg: str
    type: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details, with ``errors`` for validation problems and ``id`` for server errors."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "urn:resonanz:problem:validation",
                    "title": "Invalid request",
                    "status": 422,
                    "detail": "query.limit: Input should be less than or equal to 100",
                    "instance": "/api/v1/mentions",
                    "errors": [{"loc": ["query", "limit"], "msg": "Input should be less than or equal to 100"}],
                }
            ]
        }
    )

    type: str = Field(description="a URN naming the kind of problem")
    title: str = Field(description="short summary of the kind of problem")
    status: int = Field(description="the HTTP status code")
    detail: str = Field(description="what went wrong this time, for people")
    instance: str | None = Field(default=None, description="the request path")
    errors: list[FieldError] | None = Field(default=None, description="every invalid field, with its path")
    id: str | None = Field(default=None, description="server errors: the id under which the error was logged")


#: Domain error class -> (status, slug, title). Looked up along the MRO, so a subclass inherits its
#: parent's answer unless it has its own row.
DOMAIN_STATUS: dict[type[errors.ResonanzError], tuple[int, str, str]] = {
    errors.NotFoundError: (404, "not-found", "Not found"),
    errors.ConflictError: (409, "conflict", "Conflict"),
    errors.InputError: (422, "invalid-input", "Invalid input"),
    errors.ConfigError: (422, "invalid-config", "Invalid configuration"),
    errors.SignatureError: (401, "signature", "Signature missing or wrong"),
    errors.AuthenticationError: (401, "not-signed-in", "Not signed in"),
    errors.PermissionDeniedError: (403, "forbidden", "Forbidden"),
    errors.RateLimitedError: (429, "rate-limited", "Too many requests"),
    errors.ConnectorError: (502, "connector", "The platform could not be reached"),
    errors.ResonanzError: (400, "bad-request", "Bad request"),
}

_HTTP_TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Content too large",
    414: "URI too long",
    415: "Unsupported media type",
    422: "Invalid request",
    428: "Precondition required",
    429: "Too many requests",
}


def problem_response(
    status: int,
    *,
    slug: str,
    title: str,
    detail: str,
    instance: str | None = None,
    field_errors: Sequence[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """An ``application/problem+json`` response."""
    body: dict[str, Any] = {"type": PROBLEM_TYPE + slug, "title": title, "status": status, "detail": detail}
    if instance is not None:
        body["instance"] = instance
    if field_errors:
        body["errors"] = [e.model_dump(exclude_none=True) for e in field_errors]
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _loc_part(part: Any) -> str | int:
    return part if isinstance(part, int) else str(part)


def validation_errors(raw: Sequence[Any]) -> list[FieldError]:
    """Pydantic/FastAPI error dicts as FieldErrors (the offending input is never echoed: it may be huge)."""
    out = []
    for err in raw:
        loc = [_loc_part(p) for p in err.get("loc", ())]
        out.append(FieldError(loc=loc, msg=str(err.get("msg", "invalid")), type=err.get("type")))
    return out


def validation_problem(request: Request, field_errors: Sequence[FieldError]) -> JSONResponse:
    detail = "; ".join(f"{'.'.join(str(p) for p in e.loc)}: {e.msg}" for e in field_errors[:5])
    if len(field_errors) > 5:
        detail += f"; and {len(field_errors) - 5} more"
    return problem_response(
        422,
        slug="validation",
        title="Invalid request",
        detail=detail or "the request is invalid",
        instance=request.url.path,
        field_errors=field_errors,
    )


def invalid_field(loc: Sequence[str | int], msg: str, *, kind: str = "value_error") -> RequestValidationError:
    """A validation error for one field, raised by route code for checks pydantic cannot express
    (a cursor that does not decode, a filter that does not parse). Answered as 422 with ``loc``."""
    return RequestValidationError([{"loc": tuple(loc), "msg": msg, "type": kind}])


def domain_problem(exc: errors.ResonanzError) -> tuple[int, str, str]:
    for cls in type(exc).__mro__:
        if cls in DOMAIN_STATUS:
            return DOMAIN_STATUS[cls]
    return DOMAIN_STATUS[errors.ResonanzError]


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


#: ``app.state.page_error_renderer``: the web layer may set a callable ``(request, status, title, detail)
#: -> Response`` that answers errors on pages (outside ``/api/``) as HTML; without one, pages get the
#: same problem documents as the API (domain and validation errors) or Starlette's defaults.
PageErrorRenderer = Callable[[Request, int, str, str], Response]


def _page_renderer(request: Request) -> PageErrorRenderer | None:
    if _is_api(request):
        return None
    renderer: PageErrorRenderer | None = getattr(request.app.state, "page_error_renderer", None)
    return renderer


async def _on_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.ResonanzError)
    status, slug, title = domain_problem(exc)
    status = int(getattr(exc, "status_code", status))
    if (page := _page_renderer(request)) is not None:
        return page(request, status, title, exc.reason if isinstance(exc, errors.InputError) else str(exc))
    field_errors = None
    detail = str(exc)
    if isinstance(exc, errors.InputError):
        detail = exc.reason
        if exc.location:
            field_errors = [FieldError(loc=exc.location.split("."), msg=exc.reason)]
            detail = f"{exc.location}: {exc.reason}"
    headers = None
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, int | float):
        headers = {"Retry-After": str(max(1, int(retry_after)))}
    return problem_response(
        status,
        slug=slug,
        title=title,
        detail=detail,
        instance=request.url.path,
        field_errors=field_errors,
        headers=headers,
    )


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    field_errors = validation_errors(exc.errors())
    if (page := _page_renderer(request)) is not None:
        detail = "; ".join(f"{e.loc[-1] if e.loc else 'input'}: {e.msg}" for e in field_errors[:5])
        return page(request, 422, "Invalid request", detail)
    return validation_problem(request, field_errors)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if not _is_api(request):
        page = _page_renderer(request)
        if page is None or exc.status_code < 400:
            return await http_exception_handler(request, exc)
        title = _HTTP_TITLES.get(exc.status_code, "Error")
        response = page(request, exc.status_code, title, exc.detail if isinstance(exc.detail, str) else title)
        response.headers.update(dict(exc.headers or {}))
        return response
    if exc.status_code == 304 or exc.status_code < 400:
        return Response(status_code=exc.status_code, headers=exc.headers)
    title = _HTTP_TITLES.get(exc.status_code, "Error")
    detail = exc.detail if isinstance(exc.detail, str) else title
    if exc.status_code == 400 and detail == "There was an error parsing the body":
        detail = "the request body could not be read: it must be UTF-8 encoded JSON"
    slug = title.lower().replace(" ", "-")
    headers = dict(exc.headers) if exc.headers else None
    allowed = getattr(request.app.state, "allowed_methods", None)
    if exc.status_code == 405 and callable(allowed):
        # Starlette names the methods of the first route with this path only; list them all.
        methods = allowed(request.url.path)
        if methods:
            headers = {**(headers or {}), "Allow": ", ".join(methods)}
            detail = f"{request.method} is not allowed here; use {', '.join(methods)}"
    return problem_response(
        exc.status_code,
        slug=slug,
        title=title,
        detail=detail,
        instance=request.url.path,
        headers=headers,
    )


async def _on_database_error(request: Request, exc: Exception) -> Response:
    """The database refused a value the schemas let through: a NUL character (PostgreSQL text and
    jsonb cannot hold one), a number past the column's range, or a unique key taken by a request
    running at the same time. That is the client's input, not a crash: 422 or 409."""
    if isinstance(exc, IntegrityError):
        return problem_response(
            409,
            slug="conflict",
            title="Conflict",
            detail="the change conflicts with existing data (a name or key is taken); read the resource again",
            instance=request.url.path,
        )
    return problem_response(
        422,
        slug="unstorable-value",
        title="Invalid input",
        detail="a value cannot be stored: it holds a NUL character or is out of range",
        instance=request.url.path,
    )


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    error_id = uuid.uuid4().hex[:12]
    log.error("unhandled error %s on %s %s", error_id, request.method, request.url.path, exc_info=exc)
    return problem_response(
        500,
        slug="internal",
        title="Internal server error",
        detail=f"something went wrong on our side; the error was logged as {error_id}",
        instance=request.url.path,
        id=error_id,
    )


class RequestLimits:
    """ASGI middleware that answers oversized or undecodable input before any route runs.

    A 1 MB query string must get a clear 414, not tie up a parser; a query string that is not
    UTF-8 after percent-decoding gets a 400 (Starlette would silently replace the bytes, and a search
    for mojibake helps nobody), and so does a NUL character, which no text column can store.
    API bodies over ``max_body_bytes`` get a 413: at once when ``Content-Length`` says so, else as
    soon as the streamed bytes pass the limit (nothing more is read). Problem documents under
    ``/api/``, plain text elsewhere; webhooks (``/hooks/``) keep their own, larger body limit.
    """

    def __init__(
        self, app: ASGIApp, *, max_query_bytes: int = MAX_QUERY_BYTES, max_body_bytes: int = MAX_BODY_BYTES
    ) -> None:
        self.app = app
        self.max_query_bytes = max_query_bytes
        self.max_body_bytes = max_body_bytes

    def _query_problem(self, query: bytes) -> tuple[int, str, str, str] | None:
        if len(query) > self.max_query_bytes:
            detail = f"the query string has {len(query):,} bytes; at most {self.max_query_bytes:,} are accepted"
            return (414, "uri-too-long", "URI too long", detail)
        if not query:
            return None
        try:
            decoded = unquote_to_bytes(query.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            return (400, "bad-encoding", "Bad request", "the query string is not valid UTF-8")
        if "\x00" in decoded:
            return (400, "bad-encoding", "Bad request", "the query string holds a NUL character (%00)")
        return None

    def _too_large(self) -> str:
        return f"the request body is over {self.max_body_bytes:,} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        is_api = path.startswith(API_PREFIX)
        rejected = self._query_problem(scope.get("query_string", b""))
        if rejected is None and is_api:
            length = Headers(scope=scope).get("content-length")
            if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
                rejected = (413, "content-too-large", "Content too large", self._too_large())
        if rejected is not None:
            status, slug, title, detail = rejected
            response: Response
            if is_api:
                response = problem_response(status, slug=slug, title=title, detail=detail, instance=path)
            else:
                response = PlainTextResponse(detail, status_code=status)
            await response(scope, receive, send)
            return
        if not is_api:
            await self.app(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise HTTPException(413, detail=self._too_large())
            return message

        await self.app(scope, limited_receive, send)


Handler = Callable[[Request, Exception], Awaitable[Response]]


def install(app: FastAPI) -> None:
    """Register the error mapping and the request limits on ``app`` (called by ``create_app``)."""
    handlers: dict[type[Exception], Handler] = {
        errors.ResonanzError: _on_domain_error,
        RequestValidationError: _on_validation_error,
        HTTPException: _on_http_error,
        DataError: _on_database_error,
        IntegrityError: _on_database_error,
        Exception: _on_unexpected,
    }
    for cls, handler in handlers.items():
        app.add_exception_handler(cls, handler)
    app.add_middleware(RequestLimits)


_DOC_DESCRIPTIONS = {
    400: "Bad request: an unreadable body or query string",
    401: "Not signed in: no, an expired or a revoked token or session",
    403: "Signed in, but the role lacks the permission (or the CSRF token is missing)",
    404: "No such resource",
    409: "Conflict with the current state (e.g. a name is taken)",
    412: "If-Match does not match the current ETag: someone changed the resource meanwhile",
    413: "The request body is over 1 MiB",
    414: "The query string is over 8 KiB",
    422: "Invalid input; `errors` lists every invalid field with its path",
}


def problem_docs(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for ``codes``, each a problem document."""
    schema = {"$ref": "#/components/schemas/Problem"}
    return {
        code: {
            "description": _DOC_DESCRIPTIONS.get(code, _HTTP_TITLES.get(code, "Error")),
            "content": {MEDIA_TYPE: {"schema": schema}},
        }
        for code in codes
    }
