"""Form-encoded inbound webhooks (Twilio SMS / WhatsApp) on the same ``POST /hooks/{source}`` route.

:mod:`resonanz.api.hooks` hands a request here when its body is
``application/x-www-form-urlencoded``; JSON webhooks never take this path. Answers:

* 200 with an empty TwiML ``<Response/>`` (Twilio then sends no automatic reply): the message is
  stored (or was already: Twilio retries, and the ``MessageSid`` makes a retry a duplicate), or it
  was a status callback, which is acknowledged and not stored;
* 401 the ``X-Twilio-Signature`` is missing or wrong, or the source has no auth token configured;
* 403 the source is disabled; 404 no form-webhook source of that name;
* 422 the parameters are not a usable message: kept in quarantine with the reason, as JSON
  webhooks do, so nothing the sender posted is lost.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from resonanz.clock import now
from resonanz.config import Settings
from resonanz.connectors.base import Rejected
from resonanz.connectors.twilio.connector import TwilioConfig, TwilioConnector, verify_signature
from resonanz.connectors.twilio.parse import is_status_callback, raw_item
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.errors import ConnectorPermanentError, InputError, SignatureError
from resonanz.mentions.ingest import IngestCounts
from resonanz.sources.models import RunKind, RunStatus, Source, SourceHealth
from resonanz.sources.pipeline import ParsedChunk, finish_run, parse_item, quarantine_rejected, start_run, store_parsed

FORM_KINDS = frozenset({TwilioConnector.kind})
TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
SIGNATURE_HEADER = "X-Twilio-Signature"


def _problem(status: int, slug: str, title: str, detail: str) -> JSONResponse:
    body = {"type": f"urn:resonanz:problem:{slug}", "title": title, "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def signed_url(config: TwilioConfig, settings: Settings, path: str, query: str) -> str:
    """The URL Twilio signed: ``webhook_url`` when set (behind a proxy that rewrites it), else
    the public URL of this server plus the request's path and query."""
    if config.webhook_url:
        return config.webhook_url
    return settings.public_url.rstrip("/") + path + (f"?{query}" if query else "")


def accept_form(
    db: Database, settings: Settings, name: str, body: bytes, signature: str | None, path: str, query: str
) -> Response:
    """Verify, then store one form-encoded inbound message (see the module docstring)."""
    with db.sessions() as session:
        source = session.scalar(select(Source).where(Source.name == name))
        if source is None or source.kind not in FORM_KINDS:
            return _problem(404, "unknown-source", "Not Found", f"no form-encoded webhook source named {name!r}")
        source_id, enabled = source.id, source.enabled
        config = TwilioConfig.model_validate(source.config)
    connector = TwilioConnector(config, settings=settings)
    try:
        token = connector.auth_token()
    except ConnectorPermanentError:
        return _problem(401, "no-secret", "Unauthorized", "this source has no auth token configured; ask its operator")
    params = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    try:
        verify_signature(signed_url(config, settings, path, query), params, signature, token)
    except SignatureError as exc:
        return _problem(401, "signature", "Unauthorized", str(exc))
    if not enabled:
        return _problem(403, "disabled", "Forbidden", f"source {name!r} is disabled; enable it to accept messages")
    fields = dict(params)
    if is_status_callback(fields):
        return Response(TWIML_EMPTY, media_type="text/xml")
    stamp = now()
    item = raw_item(fields, received_at=stamp)
    with transaction(db.sessions) as session:
        run = start_run(session, kind=RunKind.WEBHOOK, source_id=source_id)
        stored = session.get(Source, source_id)
        try:
            mention = parse_item(TwilioConnector, item, max_item_bytes=settings.max_item_bytes)
        except InputError as exc:
            rejected = Rejected(payload=item.payload, reason=exc.reason, location=item.location, stage="webhook",
                                content_type="application/json", context={**item.context, "level": "item"})  # fmt: skip
            quarantine_rejected(session, cls=TwilioConnector, rejected=[rejected], run=run, now=stamp)
            finish_run(run, IngestCounts(rejected=1), status=RunStatus.FAILED, error=f"422: {exc.reason}"[:2000])
            if stored is not None:
                stored.last_error, stored.last_error_at = f"rejected message: {exc.reason}"[:2000], stamp
            return _problem(422, "invalid-body", "Unprocessable Content", exc.reason)
        counts = store_parsed(session, cls=TwilioConnector, chunk=ParsedChunk(mentions=[mention]), run=run, now=stamp)
        finish_run(run, counts)
        if stored is not None:
            stored.health, stored.last_success_at = SourceHealth.OK, stamp
    return Response(TWIML_EMPTY, media_type="text/xml")
