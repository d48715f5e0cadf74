"""Signed webhooks and chat hooks against a local HTTP server: the HMAC verifies, a replay is
refused, 429/5xx/timeouts retry (through the delivery job), other 4xx give up at once."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy.orm import Session

from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.errors import InputError, SignatureError
from resonanz.notifications.actions import MAX_ATTEMPTS, attempt_delivery, do_create_channel, do_queue_delivery
from resonanz.notifications.base import DeliveryStatus, Notification, build_notifier, notifier_classes
from resonanz.notifications.models import DeliveryState, NotificationDelivery
from resonanz.notifications.webhook import sign, verify_signature
from resonanz.worker.models import Job
from resonanz.worker.runner import drain

from .webhook_receiver import Answer, WebhookReceiver

SECRET_ENV = "RZ_TEST_HOOK_SECRET"
MESSAGE = Notification(
    subject="Spike <b>",
    text="60 vs 2 <script>",
    link="https://r.example/alerts/1",
    event="alert.fired",
    data={"alert_id": 1, "observed": 60},
)


def test_builtin_notifiers_are_registered_through_the_hook() -> None:
    assert {"email", "webhook", "slack", "mattermost", "teams"} <= set(notifier_classes())


def test_signed_webhook_verifies_and_refuses_replay(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "s3cret")
    with WebhookReceiver() as hook:
        notifier = build_notifier("webhook", {"url": hook.url(), "secret_name": SECRET_ENV}, settings=settings)
        assert notifier.send(MESSAGE).ok
        (posted,) = hook.posted
    verify_signature("s3cret", posted.headers, posted.body)
    doc = json.loads(posted.body)
    assert doc["event"] == "alert.fired" and doc["data"] == {"alert_id": 1, "observed": 60}
    assert posted.headers["x-resonanz-event"] == "alert.fired"
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature("other", posted.headers, posted.body)
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature("s3cret", posted.headers, posted.body.replace(b"60", b"61"))
    with pytest.raises(SignatureError, match="replay"):
        verify_signature("s3cret", posted.headers, posted.body, now=time.time() + 3600)
    stamp = int(posted.headers["x-resonanz-timestamp"])
    assert posted.headers["x-resonanz-signature"] == sign("s3cret", stamp, posted.body)


def test_missing_secret_is_a_permanent_failure(settings: Settings) -> None:
    notifier = build_notifier(
        "webhook", {"url": "http://127.0.0.1:9/", "secret_name": "RZ_NOT_SET_ANYWHERE"}, settings=settings
    )
    assert notifier.send(MESSAGE).status is DeliveryStatus.failed


@pytest.mark.parametrize(
    ("answer", "status", "retry_after"),
    [
        (Answer(429, {"Retry-After": "7"}), DeliveryStatus.retry, 7.0),
        (Answer(500), DeliveryStatus.retry, None),
        (Answer(503), DeliveryStatus.retry, None),
        (Answer(404), DeliveryStatus.failed, None),
        (Answer(400), DeliveryStatus.failed, None),
        (Answer(200, delay_s=1.5), DeliveryStatus.retry, None),  # past the 0.5 s timeout
        (Answer(204), DeliveryStatus.sent, None),
    ],
)
def test_http_answers_are_sorted(
    settings: Settings, answer: Answer, status: DeliveryStatus, retry_after: float | None
) -> None:
    with WebhookReceiver([answer]) as hook:
        result = build_notifier("webhook", {"url": hook.url(), "timeout_s": 0.5}, settings=settings).send(MESSAGE)
    assert result.status is status and result.retry_after_s == retry_after, result


def test_delivery_job_retries_5xx_then_sends(db: Database, session: Session) -> None:
    with WebhookReceiver([Answer(500), Answer(429, {"Retry-After": "0"}), Answer(200)]) as hook:
        channel = do_create_channel(session, name="hook", kind="webhook", config={"url": hook.url()}, actor=None)
        delivery = do_queue_delivery(session, message=MESSAGE, channel_id=channel.id, ref_type="alert", ref_id=1)
        session.commit()
        states = []
        for _ in range(3):
            session.execute(Job.__table__.update().values(run_at=Job.created_at))  # due now, not after backoff
            session.commit()
            states += [o.state for o in drain(db, kinds=["notifications.deliver"])]
        assert len(hook.posted) == 3
    assert states == ["pending", "pending", "done"]
    session.expire_all()
    row = session.get(NotificationDelivery, delivery.id)
    assert row is not None and row.state == DeliveryState.sent and row.attempts == 3 and row.last_error is None


def test_delivery_gives_up_on_4xx_and_after_max_attempts(session: Session, settings: Settings) -> None:
    with WebhookReceiver([Answer(410)] + [Answer(502)] * MAX_ATTEMPTS) as hook:
        channel = do_create_channel(session, name="hook", kind="webhook", config={"url": hook.url()}, actor=None)
        gone = do_queue_delivery(session, message=MESSAGE, channel_id=channel.id)
        assert attempt_delivery(session, delivery_id=gone.id, settings=settings).status is DeliveryStatus.failed  # type: ignore[union-attr]
        assert gone.state == DeliveryState.failed and gone.attempts == 1 and "HTTP 410" in (gone.last_error or "")
        assert attempt_delivery(session, delivery_id=gone.id, settings=settings) is None  # not pending: no resend
        flaky = do_queue_delivery(session, message=MESSAGE, channel_id=channel.id)
        for _ in range(MAX_ATTEMPTS):
            attempt_delivery(session, delivery_id=flaky.id, settings=settings)
    assert flaky.state == DeliveryState.failed and flaky.attempts == MAX_ATTEMPTS
    assert "gave up after" in (flaky.last_error or "")


@pytest.mark.parametrize("kind", ["slack", "mattermost", "teams"])
def test_chat_hooks_escape_post_text(settings: Settings, kind: str) -> None:
    with WebhookReceiver() as hook:
        assert build_notifier(kind, {"url": hook.url()}, settings=settings).send(MESSAGE).ok
        body = hook.posted[0].body.decode()
    assert "<script>" not in body and "&lt;script&gt;" in body
    doc = json.loads(body)
    if kind == "teams":
        assert doc["@type"] == "MessageCard" and doc["potentialAction"][0]["targets"][0]["uri"].endswith("/alerts/1")
    else:
        assert "60 vs 2" in doc["text"]


def test_channel_config_errors_name_the_field(session: Session) -> None:
    with pytest.raises(InputError, match=r"config\.url"):
        do_create_channel(session, name="bad", kind="webhook", config={"url": "ftp://x"}, actor=None)
    with pytest.raises(InputError, match=r"config\.to: 'nope' is not an e-mail address"):
        do_create_channel(session, name="bad", kind="email", config={"to": ["nope"]}, actor=None)
