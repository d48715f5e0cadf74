"""The outbox: every queued reply is sent through the connector publish contract
(:mod:`resonanz.connectors.base`), once.

One :class:`OutboxEntry` per reply, key ``rz-outbox-<id>``, frozen request. A try runs in three
steps so no database transaction is held open over the network:

1. **claim** (one transaction, a conditional UPDATE): a *pending* entry that is due becomes
   *sending* with a lease; an *unknown* entry that is due, or a *sending* one whose lease ran out
   (the worker died mid-send: the request may be out), is claimed for a **check**;
2. **call** the connector: ``publish``, or for a check what ``publish_check`` allows -
   ``LOOKUP``: ``find_published`` first and publish only when it is not out; ``KEY``: publish again
   with the same key while inside the platform's window; ``NONE`` (or the window passed): never
   repeat - the entry fails with "a person must check" and the reason is shown;
3. **record** (one transaction): sent -> the reply is linked into the case's thread and the case's
   ``first_responded_at`` set; :class:`ConnectorTransientError` -> back to pending after a backoff
   (``Retry-After`` when the platform said), written to the entry's log; unknown outcome -> *unknown*
   and checked on the next try; :class:`ConnectorPermanentError` or attempts exhausted -> failed,
   the reply failed with the reason and its answer slot released, so a colleague can answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from resonanz.audit.actions import do_record
from resonanz.cases.models import Case, CaseMention
from resonanz.cases.reply_models import OutboxEntry, OutboxStatus, Reply, ReplyStatus
from resonanz.clock import ensure_utc, now
from resonanz.config import Settings
from resonanz.connectors.base import (
    Connector,
    OutgoingReply,
    PublishCheck,
    PublishOutcomeUnknownError,
    PublishResult,
    ReplyKind,
)
from resonanz.connectors.registry import connector_class
from resonanz.db.engine import transaction
from resonanz.errors import ConfigError, ConflictError, ConnectorPermanentError, ConnectorTransientError
from resonanz.mentions.models import Author, Mention
from resonanz.sources.models import Source
from resonanz.worker.queue import backoff_s, enqueue

SEND_KIND = "care.outbox.send"
LEASE = timedelta(minutes=2)
BACKOFF_BASE_S = 15.0
BACKOFF_CAP_S = 3600.0


def idempotency_key(entry_id: int) -> str:
    return f"rz-outbox-{entry_id}"


# --- choosing a publisher -------------------------------------------------------------------------


def resolve_publisher(session: Session, *, case: Case) -> Source:
    """The source whose connector sends replies for ``case``: the case's own source when its
    connector publishes, else an enabled outbound webhook listing the case's platform (or none)."""
    if case.source_id is not None:
        own = session.get(Source, case.source_id)
        if own is not None and _publishes(own.kind):
            return own
    hooks = session.scalars(
        select(Source).where(Source.kind == "outbound_webhook", Source.enabled.is_(True)).order_by(Source.id)
    )
    fallback = None
    for hook in hooks:
        platforms = [str(p).lower() for p in (hook.config or {}).get("platforms") or []]
        if case.platform.lower() in platforms:
            return hook
        if not platforms and fallback is None:
            fallback = hook
    if fallback is not None:
        return fallback
    raise ConflictError(
        f"no way to send replies on {case.platform}: its source cannot publish and no outbound webhook "
        "source is set up for it (resonanz source add outbound_webhook …)"
    )


def _publishes(kind: str) -> bool:
    try:
        return connector_class(kind).publishes
    except ConfigError:
        return False


def _request(session: Session, *, reply: Reply, case: Case, source: Source, key: str, at: datetime) -> OutgoingReply:
    cls = connector_class(source.kind)
    mention = session.get(Mention, reply.in_reply_to_mention_id) if reply.in_reply_to_mention_id else None
    author = session.get(Author, case.author_id) if case.author_id else None
    recipient = author.handle if author else None
    kind = ReplyKind.REPLY if mention is not None and ReplyKind.REPLY in cls.reply_kinds else ReplyKind.DIRECT
    if kind == ReplyKind.DIRECT and (ReplyKind.DIRECT not in cls.reply_kinds or not recipient):
        raise ConflictError(
            f"{cls.title} cannot deliver this reply: the post answered is gone and no direct message is possible"
        )
    return OutgoingReply(
        idempotency_key=key,
        created_at=at,
        text=reply.text,
        kind=kind,
        in_reply_to=mention.external_id if mention is not None and kind == ReplyKind.REPLY else None,
        recipient=recipient,
    )


def enqueue_reply(session: Session, *, reply: Reply, case: Case) -> OutboxEntry:
    """The reply's outbox entry and its send job, in the caller's transaction."""
    source = resolve_publisher(session, case=case)
    stamp = now()
    entry = OutboxEntry(reply_id=reply.id, source_id=source.id, connector_kind=source.kind, request={},
                        status=OutboxStatus.pending, next_attempt_at=stamp, created_at=stamp, log=[])  # fmt: skip
    session.add(entry)
    session.flush()
    entry.idempotency_key = idempotency_key(entry.id)
    entry.request = _request(
        session, reply=reply, case=case, source=source, key=entry.idempotency_key, at=stamp
    ).model_dump(mode="json")
    session.flush()
    enqueue(session, kind=SEND_KIND, payload={"outbox_id": entry.id}, dedupe_key=f"outbox:{entry.id}")
    return entry


# --- one try --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TryOutcome:
    outbox_id: int
    status: str  # the entry's status afterwards, or "skipped" (not due / someone else has it)
    detail: str = ""


def _claim(session: Session, entry_id: int, stamp: datetime) -> str | None:
    """ "send" or "check" when this worker now holds the entry, else None."""
    lease = stamp + LEASE
    sent = session.execute(
        update(OutboxEntry)
        .where(
            OutboxEntry.id == entry_id, OutboxEntry.status == OutboxStatus.pending, OutboxEntry.next_attempt_at <= stamp
        )
        .values(status=OutboxStatus.sending, lease_until=lease, attempts=OutboxEntry.attempts + 1)
    )
    if sent.rowcount:  # type: ignore[attr-defined]
        return "send"
    check = session.execute(
        update(OutboxEntry)
        .where(
            OutboxEntry.id == entry_id,
            or_(
                and_(OutboxEntry.status == OutboxStatus.unknown, OutboxEntry.next_attempt_at <= stamp),
                and_(OutboxEntry.status == OutboxStatus.sending, OutboxEntry.lease_until < stamp),
            ),
        )
        .values(status=OutboxStatus.sending, lease_until=lease, attempts=OutboxEntry.attempts + 1)
    )
    return "check" if check.rowcount else None  # type: ignore[attr-defined]


def _connector(session: Session, entry: OutboxEntry, settings: Settings, http: httpx.Client | None) -> Connector:
    source = session.get(Source, entry.source_id) if entry.source_id else None
    if source is None:
        raise ConnectorPermanentError("the publishing source was deleted")
    cls = connector_class(source.kind)
    return cls(cls.Config.model_validate(source.config), settings=settings, http=http)


def _call(connector: Connector, request: OutgoingReply, mode: str) -> PublishResult:
    if mode == "send":
        return connector.publish(request)
    check = type(connector).publish_check
    if check == PublishCheck.LOOKUP:
        found = connector.find_published(request)
        return found if found is not None else connector.publish(request)
    window = type(connector).idempotency_window_s
    if check == PublishCheck.KEY and window is not None and now() - request.created_utc < timedelta(seconds=window):
        return connector.publish(request)
    raise ConnectorPermanentError(
        "the last try may have reached the platform and it cannot be checked automatically: "
        "look on the platform whether the reply is out, then mark it sent or write it again"
    )


def send_entry(
    factory: sessionmaker[Session], *, outbox_id: int, settings: Settings, http: httpx.Client | None = None
) -> TryOutcome:
    """One try of one outbox entry (see the module docstring); safe to call any number of times."""
    stamp = now()
    with transaction(factory) as session:
        mode = _claim(session, outbox_id, stamp)
        if mode is None:
            return TryOutcome(outbox_id, "skipped", "not due, finished, or held by another worker")
        entry = session.get(OutboxEntry, outbox_id)
        assert entry is not None
        request = OutgoingReply.model_validate(entry.request)
        try:
            connector: Connector | None = _connector(session, entry, settings, http)
        except (ConfigError, ConnectorPermanentError, ValueError) as exc:
            connector, setup_error = None, exc
    result: PublishResult | None = None
    error: Exception | None = None
    if connector is None:
        error = ConnectorPermanentError(f"cannot build the publisher: {setup_error}")
    else:
        try:
            result = _call(connector, request, mode)
        except (ConnectorTransientError, ConnectorPermanentError) as exc:
            error = exc
    with transaction(factory) as session:
        return _record(session, outbox_id, mode, result, error)


def _record(
    session: Session, outbox_id: int, mode: str, result: PublishResult | None, error: Exception | None
) -> TryOutcome:
    entry = session.get(OutboxEntry, outbox_id)
    assert entry is not None
    reply = session.get(Reply, entry.reply_id)
    stamp = now()
    note: dict[str, Any] = {"at": stamp.isoformat(), "mode": mode, "attempt": entry.attempts}
    entry.lease_until = None
    if result is not None:
        note["outcome"] = "sent"
        entry.status, entry.sent_at, entry.external_id, entry.last_error = (
            OutboxStatus.sent,
            stamp,
            result.external_id,
            None,
        )
        entry.log = [*entry.log, note]
        if reply is not None:
            _mark_sent(session, reply, result, stamp)
        return TryOutcome(outbox_id, entry.status, result.external_id)
    assert error is not None
    note["error"] = str(error)
    entry.last_error = str(error)
    permanent = isinstance(error, ConnectorPermanentError) or entry.attempts >= entry.max_attempts
    if permanent:
        note["outcome"] = "failed"
        entry.status = OutboxStatus.failed
        entry.log = [*entry.log, note]
        if reply is not None:
            reason = (
                str(error)
                if isinstance(error, ConnectorPermanentError)
                else f"gave up after {entry.attempts} tries: {error}"
            )
            _mark_failed(session, reply, reason)
        return TryOutcome(outbox_id, entry.status, str(error))
    retry_after = error.retry_after if isinstance(error, ConnectorTransientError) else None
    wait = max(retry_after or 0.0, backoff_s(entry.attempts, base=BACKOFF_BASE_S, cap=BACKOFF_CAP_S))
    entry.status = OutboxStatus.unknown if isinstance(error, PublishOutcomeUnknownError) else OutboxStatus.pending
    entry.next_attempt_at = stamp + timedelta(seconds=wait)
    note.update(outcome=entry.status, retry_in_s=round(wait, 1))
    entry.log = [*entry.log, note]
    enqueue(session, kind=SEND_KIND, payload={"outbox_id": entry.id}, dedupe_key=f"outbox:{entry.id}:{entry.attempts}",
            run_at=entry.next_attempt_at)  # fmt: skip
    return TryOutcome(outbox_id, entry.status, f"{error}; next try in {wait:.0f} s")


def _mark_sent(session: Session, reply: Reply, result: PublishResult, stamp: datetime) -> None:
    reply.status = ReplyStatus.sent
    reply.sent_at = stamp
    reply.external_id = result.external_id
    reply.url = result.url
    reply.error = None
    own = session.scalar(
        select(Mention).where(Mention.platform == result.platform, Mention.external_id == result.external_id)
    )
    if own is not None:
        reply.sent_mention_id = own.id
        if session.get(CaseMention, own.id) is None:
            session.add(CaseMention(case_id=reply.case_id, mention_id=own.id, added_at=stamp))
    session.flush()
    case = session.get(Case, reply.case_id)
    if case is not None and case.first_responded_at is None:
        mark_first_response(session, case=case, at=ensure_utc(result.published_at))
    do_record(session, actor=None, action="reply.sent", object_type="case_reply", object_id=reply.id,
              after={"external_id": result.external_id, "url": result.url, "case_id": reply.case_id})  # fmt: skip


def mark_first_response(session: Session, *, case: Case, at: datetime) -> None:
    """The case's first response time: through H5's action when it exists, else set here."""
    try:
        from resonanz.cases import actions as case_actions
    except ImportError:
        case_actions = None  # type: ignore[assignment]
    action = getattr(case_actions, "do_mark_first_response", None) if case_actions else None
    if action is not None:
        action(session, case=case, at=at, actor=None)
        return
    case.first_responded_at = at
    case.updated_at = now()
    session.flush()


def _mark_failed(session: Session, reply: Reply, reason: str) -> None:
    reply.status = ReplyStatus.failed
    reply.error = reason
    reply.answer_slot = None  # the message is unanswered again: a colleague (or a new try) may answer
    session.flush()
    do_record(session, actor=None, action="reply.failed", object_type="case_reply", object_id=reply.id,
              after={"error": reason, "case_id": reply.case_id})  # fmt: skip


def due_entries(session: Session, *, at: datetime | None = None, limit: int = 500) -> list[int]:
    """Entries a sweep should try: pending or unknown and due, or sending with a lapsed lease."""
    stamp = at or now()
    stmt = (
        select(OutboxEntry.id)
        .where(
            or_(
                and_(
                    OutboxEntry.status.in_((OutboxStatus.pending, OutboxStatus.unknown)),
                    OutboxEntry.next_attempt_at <= stamp,
                ),
                and_(OutboxEntry.status == OutboxStatus.sending, OutboxEntry.lease_until < stamp),
            )
        )
        .order_by(OutboxEntry.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def entry_for(session: Session, *, reply_id: int) -> OutboxEntry | None:
    return session.scalar(select(OutboxEntry).where(OutboxEntry.reply_id == reply_id))
