"""The outbox against a real local HTTP receiver (the outbound webhook publisher) and against a
scripted fake publisher: sent once, retried with visible backoff, unknown outcomes checked, never
repeated blindly, failures shown with their reason."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from resonanz.cases import outbox, replies
from resonanz.cases.models import Case
from resonanz.cases.reply_models import OutboxEntry, OutboxStatus, Reply, ReplyStatus
from resonanz.cases.reply_tasks import send_outbox_task, sweep_outbox_task
from resonanz.connectors.base import PublishCheck, PublishOutcomeUnknownError
from resonanz.connectors.outbound_webhook.parse import sign
from resonanz.db.database import Database
from resonanz.errors import ConnectorPermanentError, ConnectorTransientError
from tests.care.care_factory import PostServer, fake_publisher, frozen_clock, make_case, make_source, ok
from tests.support.accounts_factory import make_user

START = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Who:
    user_id: int


def queue(db: Database, *, kind: str, config: dict[str, object] | None = None) -> tuple[int, int, int]:
    """A queued reply on a new case: (case id, reply id, outbox id)."""
    with db.sessions() as session:
        source = make_source(session, kind=kind, config=config)
        case = make_case(session, source=source if kind != "outbound_webhook" else None)
        me = Who(make_user(session).id)
        draft = replies.do_save_draft(session, case=case, text="Hallo, Ihre Lieferung kommt morgen.", actor=me)
        replies.do_submit(session, reply=draft, actor=me)
        session.commit()
        entry = outbox.entry_for(session, reply_id=draft.id)
        assert entry is not None
        return case.id, draft.id, entry.id


def state(db: Database, reply_id: int) -> tuple[Reply, OutboxEntry, Case]:
    with db.sessions() as session:
        reply = session.get(Reply, reply_id)
        assert reply is not None
        entry = outbox.entry_for(session, reply_id=reply_id)
        case = session.get(Case, reply.case_id)
        assert entry is not None and case is not None
        return reply, entry, case


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("RESONANZ_OUTBOUND_WEBHOOK_SECRET", "s3cret")
    return "s3cret"


def test_webhook_sends_a_signed_reply_once_and_links_it(db: Database, secret: str) -> None:
    with PostServer([ok({"id": "portal-991", "url": "https://portal.example/t/991"})]) as server, frozen_clock(START):
        _, reply_id, outbox_id = queue(db, kind="outbound_webhook", config={"url": server.url})
        assert send_outbox_task(db, {"outbox_id": outbox_id})["status"] == "sent"  # type: ignore[index]
        assert send_outbox_task(db, {"outbox_id": outbox_id})["status"] == "skipped"  # type: ignore[index]
    assert len(server.received) == 1
    headers, body = server.received[0]
    assert headers["x-resonanz-signature"] == sign(body, secret)
    assert headers["idempotency-key"] == f"rz-outbox-{outbox_id}"
    assert json.loads(body)["text"] == "Hallo, Ihre Lieferung kommt morgen."
    reply, entry, case = state(db, reply_id)
    assert reply.status == ReplyStatus.sent and reply.external_id == "portal-991" and reply.url
    assert entry.status == OutboxStatus.sent and case.first_responded_at is not None


def test_429_then_500_are_retried_with_backoff_and_the_same_key(db: Database, secret: str) -> None:
    answers = [(429, b"{}", {"Retry-After": "120"}), (500, b'{"error": "boom"}', {}), ok({"id": "p-1"})]
    with PostServer(answers) as server, frozen_clock(START) as advance:
        _, reply_id, outbox_id = queue(db, kind="outbound_webhook", config={"url": server.url})
        first = outbox.send_entry(db.sessions, outbox_id=outbox_id, settings=db.settings)
        assert first.status == OutboxStatus.pending and "HTTP 429" in first.detail
        _, entry, _ = state(db, reply_id)
        assert entry.log[-1]["retry_in_s"] >= 120 and entry.next_attempt_at >= START.replace(minute=2)
        assert outbox.send_entry(db.sessions, outbox_id=outbox_id, settings=db.settings).status == "skipped"  # not due
        advance(entry.log[-1]["retry_in_s"] + 1)
        second = outbox.send_entry(db.sessions, outbox_id=outbox_id, settings=db.settings)
        assert second.status == OutboxStatus.unknown and "may or may not be out" in second.detail
        advance(4000)
        assert sweep_outbox_task(db, {})["sent"] == 1  # type: ignore[index]
    keys = {h["idempotency-key"] for h, _ in server.received}
    bodies = {b for _, b in server.received}
    assert len(server.received) == 3 and len(keys) == 1 and len(bodies) == 1
    reply, entry, _ = state(db, reply_id)
    assert reply.status == ReplyStatus.sent and [n["outcome"] for n in entry.log] == ["pending", "unknown", "sent"]


def test_a_deleted_post_fails_the_reply_with_the_reason_and_frees_the_message(db: Database, secret: str) -> None:
    with PostServer([(410, b'{"error": "post deleted"}', {})]) as server:
        _, reply_id, outbox_id = queue(db, kind="outbound_webhook", config={"url": server.url})
        send_outbox_task(db, {"outbox_id": outbox_id})
    reply, entry, case = state(db, reply_id)
    assert (
        reply.status == ReplyStatus.failed and "gone" in (reply.error or "") and "post deleted" in (reply.error or "")
    )
    assert entry.status == OutboxStatus.failed and reply.answer_slot is None and case.first_responded_at is None


def test_unknown_outcome_without_a_way_to_check_is_never_repeated(db: Database) -> None:
    with fake_publisher() as fake, frozen_clock(START) as advance:
        fake.script = [PublishOutcomeUnknownError("timed out after sending")]
        _, reply_id, outbox_id = queue(db, kind="fake_publisher")
        assert outbox.send_entry(db.sessions, outbox_id=outbox_id, settings=db.settings).status == OutboxStatus.unknown
        advance(4000)
        assert outbox.send_entry(db.sessions, outbox_id=outbox_id, settings=db.settings).status == OutboxStatus.failed
        assert fake.published == []  # the first try raised; nothing was published a second time
    reply, _, _ = state(db, reply_id)
    assert reply.status == ReplyStatus.failed and "look on the platform" in (reply.error or "")


def test_unknown_outcome_is_looked_up_before_anything_is_sent_again(db: Database) -> None:
    with fake_publisher() as fake, frozen_clock(START) as advance:
        fake.publish_check = PublishCheck.LOOKUP
        fake.script = [PublishOutcomeUnknownError("502 on the write")]
        _, reply_id, outbox_id = queue(db, kind="fake_publisher")
        outbox.send_entry(db.sessions, outbox_id=outbox_id, settings=db.settings)
        fake.found[f"rz-outbox-{outbox_id}"] = "found-77"
        advance(4000)
        assert outbox.send_entry(db.sessions, outbox_id=outbox_id, settings=db.settings).status == OutboxStatus.sent
        assert len(fake.lookups) == 1 and fake.published == []
    reply, _, _ = state(db, reply_id)
    assert reply.external_id == "found-77"


def test_a_worker_that_died_mid_send_is_checked_not_repeated(db: Database) -> None:
    with fake_publisher() as fake, frozen_clock(START) as advance:
        fake.publish_check = PublishCheck.LOOKUP
        _, _reply_id, outbox_id = queue(db, kind="fake_publisher")
        with db.sessions() as session, session.begin():
            assert outbox._claim(session, outbox_id, START) == "send"  # claimed, then the worker "dies"
        assert outbox.send_entry(db.sessions, outbox_id=outbox_id, settings=db.settings).status == "skipped"
        fake.found[f"rz-outbox-{outbox_id}"] = "was-out"
        advance(600)
        with db.sessions() as session:
            assert outbox.due_entries(session) == [outbox_id]
        assert outbox.send_entry(db.sessions, outbox_id=outbox_id, settings=db.settings).status == OutboxStatus.sent
        assert fake.published == [] and len(fake.lookups) == 1


def test_attempts_run_out_visibly(db: Database) -> None:
    with fake_publisher() as fake, frozen_clock(START) as advance:
        _, reply_id, outbox_id = queue(db, kind="fake_publisher")
        with db.sessions() as session, session.begin():
            entry = session.get(OutboxEntry, outbox_id)
            assert entry is not None
            entry.max_attempts = 2
        fake.script = [ConnectorTransientError("503"), ConnectorTransientError("503")]
        outbox.send_entry(db.sessions, outbox_id=outbox_id, settings=db.settings)
        advance(4000)
        assert outbox.send_entry(db.sessions, outbox_id=outbox_id, settings=db.settings).status == OutboxStatus.failed
    reply, entry, _ = state(db, reply_id)
    assert reply.status == ReplyStatus.failed and "gave up after 2 tries" in (reply.error or "")
    assert len(entry.log) == 2


def test_permanent_refusal_from_the_fake(db: Database) -> None:
    with fake_publisher() as fake:
        fake.script = [ConnectorPermanentError("the post answered is gone")]
        _, reply_id, outbox_id = queue(db, kind="fake_publisher")
        assert outbox.send_entry(db.sessions, outbox_id=outbox_id, settings=db.settings).status == OutboxStatus.failed
    reply, _, _ = state(db, reply_id)
    assert reply.error == "the post answered is gone"
