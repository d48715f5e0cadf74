"""E-mail through a real SMTP server (aiosmtpd): an alert's message arrives as text + HTML with
the numbers, the post text escaped, and SMTP refusals are sorted into retry vs give up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.listening.alerts.actions import do_create_rule, evaluate_rule
from resonanz.listening.alerts.models import Alert
from resonanz.listening.alerts.schemas import AlertRuleCreate
from resonanz.notifications.base import DeliveryStatus
from resonanz.notifications.email import send_email
from resonanz.notifications.models import DeliveryState, NotificationDelivery
from resonanz.worker.runner import drain
from tests.alerts.alerts_factory import SPIKE, spike_history

from .smtp_receiver import SMTPReceiver, free_port


def smtp_settings(settings: Settings, port: int) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_from": "Resonanz <alerts@example.test>",
            "public_url": "https://resonanz.example.test",
        }
    )


def test_alert_email_arrives_explained_and_escaped(db: Database, session: Session, settings: Settings) -> None:
    query = spike_history(session)
    rule = do_create_rule(
        session,
        data=AlertRuleCreate(
            name="Spike <b>watch</b>", kind="volume_spike", query_id=query.id, recipient_emails=["ops@example.test"]
        ),
        actor=None,
    )
    rule.evaluated_until = SPIKE
    with SMTPReceiver() as smtp:
        db.settings = smtp_settings(settings, smtp.port)
        fired = evaluate_rule(session, rule=rule, at=SPIKE + timedelta(hours=1), settings=db.settings).fired
        session.commit()
        outcomes = drain(db, kinds=["notifications.deliver"])
        assert [o.state for o in outcomes] == ["done"]
        assert len(smtp.messages) == 1
        rcpt, msg = smtp.messages[0]
    alert = session.get(Alert, fired[0])
    assert alert is not None
    assert rcpt == ["ops@example.test"]
    assert msg["Subject"].startswith("[Resonanz] Volume spike: Nordwelle")
    text = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "60 mentions in one hour against a usual 2 for this hour of the week" in text and "zugausfall" in text
    assert f"https://resonanz.example.test/alerts/{alert.id}" in text and f"/alerts/{alert.id}" in html
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<b>watch</b>" not in html and "&lt;b&gt;watch&lt;/b&gt;" in html
    session.expire_all()
    delivery = session.query(NotificationDelivery).one()
    assert delivery.state == DeliveryState.sent and delivery.attempts == 1 and delivery.sent_at is not None


def test_send_email_helper_with_attachment(settings: Settings) -> None:
    with SMTPReceiver() as smtp:
        result = send_email(
            smtp_settings(settings, smtp.port),
            to=["a@example.test"],
            subject="Weekly\nreport",
            text="hello",
            html="<p>hello</p>",
            attachments=[("r.pdf", "application/pdf", b"%PDF-1")],
        )
        assert result.ok, result
        _, msg = smtp.messages[0]
    assert msg["Subject"] == "Weekly report"  # no header injection through a line break
    (attachment,) = list(msg.iter_attachments())
    assert attachment.get_filename() == "r.pdf" and attachment.get_content() == b"%PDF-1"


@pytest.mark.parametrize(
    ("to", "status"),
    [
        (["reject@example.test"], DeliveryStatus.failed),
        (["later@example.test"], DeliveryStatus.retry),
        (["not an address"], DeliveryStatus.failed),
    ],
)
def test_smtp_refusals_are_sorted(settings: Settings, to: list[str], status: DeliveryStatus) -> None:
    with SMTPReceiver() as smtp:
        result = send_email(smtp_settings(settings, smtp.port), to=to, subject="s", text="t")
    assert result.status is status, result


def test_unreachable_server_retries_and_unconfigured_fails(settings: Settings) -> None:
    assert send_email(smtp_settings(settings, free_port()), to=["a@example.test"], subject="s", text="t").status is (
        DeliveryStatus.retry
    )
    assert send_email(settings, to=["a@example.test"], subject="s", text="t").status is DeliveryStatus.failed
