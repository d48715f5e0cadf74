"""/alerts pages: list and detail explain the alert with post text escaped, rule form with field
errors, the rule page's backtest chart, channels, acknowledge/resolve, permissions, German."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from resonanz.accounts.permissions import Role
from resonanz.api.app import create_app
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.listening.alerts.actions import do_create_rule, evaluate_rule
from resonanz.listening.alerts.models import Alert, AlertRule
from resonanz.listening.alerts.schemas import AlertRuleCreate
from resonanz.notifications.models import NotificationChannel
from tests.support.accounts_factory import signed_in_client

from .alerts_factory import SPIKE, spike_history


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, database=db)


def _fired(session: Session, settings: Settings) -> tuple[AlertRule, Alert]:
    query = spike_history(session)
    rule = do_create_rule(
        session, data=AlertRuleCreate(name="Spike <i>watch</i>", kind="volume_spike", query_id=query.id), actor=None
    )
    rule.evaluated_until = SPIKE
    (alert_id,) = evaluate_rule(session, rule=rule, at=SPIKE + timedelta(hours=1), settings=settings).fired
    session.commit()
    alert = session.get(Alert, alert_id)
    assert alert is not None
    session.commit()  # SQLite: end the read transaction, which holds the write lock (BEGIN IMMEDIATE)
    return rule, alert


def test_alert_pages_explain_and_escape(app: FastAPI, db: Database, session: Session, settings: Settings) -> None:
    rule, alert = _fired(session, settings)
    viewer = signed_in_client(app, db, Role.viewer)
    listing = viewer.get("/alerts")
    assert listing.status_code == 200
    assert "60 mentions in one hour against a usual 2" in listing.text
    assert "Spike &lt;i&gt;watch&lt;/i&gt;" in listing.text and "<i>watch</i>" not in listing.text
    page = viewer.get(f"/alerts/{alert.id}")
    assert page.status_code == 200
    assert "zugausfall" in page.text and "&lt;script&gt;x&lt;/script&gt;" in page.text and "<script>x" not in page.text
    assert 'action="/alerts/' not in page.text  # a viewer sees no buttons
    assert (
        viewer.post(f"/alerts/{alert.id}/ack", data={"csrf_token": viewer.headers["X-CSRF-Token"]}).status_code == 403
    )
    german = signed_in_client(app, db, Role.analyst, language="de")
    assert "Erwähnungen in einer Stunde" in german.get(f"/alerts/{alert.id}").text
    answer = german.post(
        f"/alerts/{alert.id}/ack", data={"csrf_token": german.headers["X-CSRF-Token"]}, follow_redirects=False
    )
    assert answer.status_code == 303
    session.refresh(alert)
    assert alert.status == "acknowledged"
    session.commit()
    rule_page = german.get(f"/alerts/rules/{rule.id}")
    assert rule_page.status_code == 200 and "<svg" in rule_page.text and "data-backtest" in rule_page.text


def test_rule_form_creates_and_reports_field_errors(app: FastAPI, db: Database, session: Session) -> None:
    query = spike_history(session)
    session.commit()
    analyst = signed_in_client(app, db, Role.analyst)
    token = analyst.headers["X-CSRF-Token"]
    form = {
        "csrf_token": token,
        "name": "kw",
        "kind": "keyword",
        "scope": f"query:{query.id}",
        "text": "(bahn",
        "cooldown_minutes": "60",
    }
    bad = analyst.post("/alerts/rules", data=form)
    assert bad.status_code == 422 and 'data-error="params.text"' in bad.text
    ok = analyst.post(
        "/alerts/rules", data={**form, "text": "rueckruf OR recall", "emails": "a@example.test"}, follow_redirects=False
    )
    assert ok.status_code == 303, ok.text
    page = analyst.get(ok.headers["location"])
    assert page.status_code == 200 and "rueckruf OR recall" in page.text
    chan = analyst.post(
        "/alerts/channels", data={"csrf_token": token, "name": "ops", "kind": "webhook", "url": "not a url"}
    )
    assert chan.status_code == 422 and 'data-error="config.url"' in chan.text
    assert (
        analyst.post(
            "/alerts/channels",
            data={"csrf_token": token, "name": "ops", "kind": "webhook", "url": "https://hooks.example/x"},
            follow_redirects=False,
        ).status_code
        == 303
    )
    assert "ops" in analyst.get("/alerts/channels").text


def test_channel_form_sets_the_language_and_zone_of_its_messages(app: FastAPI, db: Database, session: Session) -> None:
    analyst = signed_in_client(app, db, Role.analyst)
    token = analyst.headers["X-CSRF-Token"]
    form = {"csrf_token": token, "name": "team", "kind": "slack", "url": "https://hooks.example/t", "language": "de"}
    bad = analyst.post("/alerts/channels", data={**form, "time_zone": "Mars/Olympus"})
    assert bad.status_code == 422 and 'data-error="config.time_zone"' in bad.text
    ok = analyst.post("/alerts/channels", data={**form, "time_zone": "Europe/Berlin"}, follow_redirects=False)
    assert ok.status_code == 303
    channel = session.query(NotificationChannel).filter_by(name="team").one()
    assert channel.config["language"] == "de" and channel.config["time_zone"] == "Europe/Berlin"
    page = analyst.get("/alerts/channels").text
    assert "German · Europe/Berlin" in page and "As set for this server (English)" in page
