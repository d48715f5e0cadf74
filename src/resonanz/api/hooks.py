"""Inbound webhooks: ``POST /hooks/{source}``.

The body is one import record, an array of them, or ``{"mentions": [...]}`` (the schema is
``docs/import-format.md``), signed with HMAC-SHA256 over the raw bytes in
``X-Resonanz-Signature: sha256=<hex>`` using the source's secret. Answers, as
``application/problem+json`` when something is wrong:

* 202 accepted, with the counts; the records went through the ingest pipeline in one transaction;
* 401 the signature is missing or wrong (or the source has no secret configured);
* 403 the source is disabled (switched off by a person);
* 404 no webhook source of that name;
* 413 the body is over the limit;
* a form-encoded body (``application/x-www-form-urlencoded``: Twilio SMS / WhatsApp) is handled by
  :mod:`resonanz.api.form_hooks` instead, with the platform's own signature check;
* 422 the body is not JSON or a record breaks the schema: every problem with its field path
  (``mentions[2].published_at``); no mention of the request is stored, but the signed body is kept
  in quarantine with the reason, so it can be replayed once the sender's bug is understood.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from resonanz.api import form_hooks
from resonanz.clock import now
from resonanz.config import Settings
from resonanz.connectors.base import Rejected
from resonanz.connectors.webhook.connector import (
    SIGNATURE_HEADER,
    WebhookConfig,
    WebhookConnector,
    default_secret_env,
    verify_signature,
)
from resonanz.connectors.webhook.parse import parse_body
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.errors import ConfigError, SignatureError
from resonanz.mentions.ingest import IngestCounts
from resonanz.mentions.models import QuarantineItem
from resonanz.sources.models import RunKind, RunStatus, Source, SourceHealth
from resonanz.sources.pipeline import ParsedChunk, finish_run, quarantine_rejected, start_run, store_parsed
from resonanz.sources.secrets import resolve_secret

router = APIRouter(tags=["webhooks"])

PROBLEM_TYPE = "urn:resonanz:problem:"
#: The largest body accepted, whatever the item limit says.
MAX_BODY_BYTES = 32 * 1024 * 1024


def body_limit(settings: Settings) -> int:
    """100 items' worth, capped at 32 MiB, but never below one item."""
    return max(settings.max_item_bytes, min(settings.max_item_bytes * 100, MAX_BODY_BYTES))


def problem(status: int, slug: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    """An RFC 9457 problem document."""
    body = {"type": PROBLEM_TYPE + slug, "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


@dataclass(frozen=True)
class _Target:
    source_id: int
    name: str
    enabled: bool
    config: WebhookConfig


def _find_source(db: Database, name: str) -> _Target | None:
    with db.sessions() as session:
        source = session.scalar(select(Source).where(Source.name == name))
        if source is None or source.kind != WebhookConnector.kind:
            return None
        return _Target(source.id, source.name, source.enabled, WebhookConfig.model_validate(source.config))


def _accept(db: Database, settings: Settings, name: str, body: bytes, signature: str | None) -> JSONResponse:
    target = _find_source(db, name)
    if target is None:
        return problem(404, "unknown-source", "Not Found", f"no webhook source named {name!r}")
    env_name = target.config.secret_env or default_secret_env(target.name)
    try:
        secret = resolve_secret(env_name, settings=settings)
    except ConfigError:
        return problem(500, "configuration", "Internal Server Error", "the server's secrets are misconfigured")
    if secret is None:
        return problem(401, "no-secret", "Unauthorized", "this source has no secret configured; ask its operator")
    try:
        verify_signature(body, signature, secret)
    except SignatureError as exc:
        return problem(401, "signature", "Unauthorized", str(exc))
    if not target.enabled:
        return problem(403, "disabled", "Forbidden", f"source {name!r} is disabled; enable it to accept posts")

    parsed = parse_body(body, max_item_bytes=settings.max_item_bytes)
    if parsed.problems:
        errors = [{"path": p.path, "message": p.message} for p in parsed.problems]
        quarantine_id = _keep_rejected_body(db, target, body, errors)
        return problem(
            422,
            "invalid-body",
            "Unprocessable Content",
            f"{len(errors)} problem(s); no mention was stored, the body is kept in quarantine #{quarantine_id}: "
            + "; ".join(f"{e['path']}: {e['message']}" for e in errors[:5]),
            errors=errors,
            quarantine_id=quarantine_id,
        )

    with transaction(db.sessions) as session:
        run = start_run(session, kind=RunKind.WEBHOOK, source_id=target.source_id)
        stamp = now()
        counts: IngestCounts = store_parsed(
            session, cls=WebhookConnector, chunk=ParsedChunk(mentions=parsed.mentions), run=run, now=stamp
        )
        finish_run(run, counts)
        source = session.get(Source, target.source_id)
        if source is not None:
            source.health = SourceHealth.OK
            source.last_success_at = stamp
        result = {
            "run_id": run.id,
            "received": len(parsed.mentions),
            "new": run.new,
            "updated": run.updated,
            "duplicate": run.duplicate,
            "rejected": run.rejected,
        }
    return JSONResponse(result, status_code=202)


def _keep_rejected_body(db: Database, target: _Target, body: bytes, errors: list[dict[str, str]]) -> int:
    """Quarantine a signed but invalid body whole (bad input loses nothing) and note the failure
    on the source, so its health shows that a sender is posting broken data."""
    reason = "; ".join(f"{e['path']}: {e['message']}" for e in errors[:20])
    with transaction(db.sessions) as session:
        run = start_run(session, kind=RunKind.WEBHOOK, source_id=target.source_id)
        quarantine_rejected(
            session,
            cls=WebhookConnector,
            rejected=[
                Rejected(payload=body, reason=reason, location="body", stage="webhook",
                         content_type="application/json", context={"level": "document"})
            ],
            run=run,
            now=now(),
        )  # fmt: skip
        finish_run(run, IngestCounts(rejected=1), status=RunStatus.FAILED, error=f"422: {reason}"[:2000])
        source = session.get(Source, target.source_id)
        if source is not None:
            source.last_error, source.last_error_at = f"rejected webhook body: {reason}"[:2000], now()
        session.flush()
        item_id = session.scalar(select(QuarantineItem.id).where(QuarantineItem.run_id == run.id))
        return int(item_id or 0)


@router.post("/hooks/{source}", status_code=202, summary="Receive mentions pushed by another system")
async def receive(source: str, request: Request) -> Response:
    db: Database = request.app.state.db
    settings: Settings = request.app.state.settings
    limit = body_limit(settings)
    too_big = problem(413, "too-large", "Content Too Large", f"the body is over {limit:,} bytes; send fewer records")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return too_big
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return too_big
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):  # Twilio & co.
        signature, url = request.headers.get(form_hooks.SIGNATURE_HEADER), request.url
        return await run_in_threadpool(
            form_hooks.accept_form, db, settings, source, bytes(body), signature, url.path, url.query
        )
    return await run_in_threadpool(_accept, db, settings, source, bytes(body), request.headers.get(SIGNATURE_HEADER))
