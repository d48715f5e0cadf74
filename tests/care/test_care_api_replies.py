"""The knowledge and reply endpoints: problem documents for the bad-input rules, the approval
queue, and a self-approval refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from resonanz.api.app import create_app
from resonanz.config import Settings
from resonanz.db.database import Database
from tests.care.care_factory import make_case, make_source
from tests.support.accounts_factory import signed_in_client


@pytest.fixture
def app_db(settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch) -> tuple[object, Database]:
    monkeypatch.setenv("RESONANZ_OUTBOUND_WEBHOOK_SECRET", "s3cret")
    return create_app(settings, database=db), db


def test_template_with_unknown_variables_is_a_422_naming_them(app_db: tuple[object, Database]) -> None:
    app, db = app_db
    manager = signed_in_client(app, db, "manager")  # type: ignore[arg-type]
    answer = manager.post(
        "/api/v1/knowledge/templates", json={"name": "t", "lang": "de", "body": "Hi {kunde} {case_id}"}
    )
    assert answer.status_code == 422 and "{kunde}" in answer.text
    ok = manager.post("/api/v1/knowledge/templates", json={"name": "t", "lang": "de", "body": "Hallo {author_name}"})
    assert ok.status_code == 201


def test_draft_submit_approve_over_the_api(app_db: tuple[object, Database]) -> None:
    app, db = app_db
    with db.sessions() as session:
        make_source(session, kind="outbound_webhook", config={"url": "http://127.0.0.1:9/r"})
        case_id = make_case(session).id
        session.commit()
    agent: TestClient = signed_in_client(app, db, "agent")  # type: ignore[arg-type]
    manager: TestClient = signed_in_client(app, db, "manager")  # type: ignore[arg-type]
    draft = agent.post(f"/api/v1/cases/{case_id}/replies", json={"text": "Rufen Sie an: 0171 2345678"}).json()
    saved = agent.put(f"/api/v1/replies/{draft['id']}", json={"text": draft["text"], "version": draft["version"]})
    stale = agent.put(f"/api/v1/replies/{draft['id']}", json={"text": "old", "version": draft["version"]})
    assert saved.status_code == 200 and stale.status_code == 409
    submitted = agent.post(f"/api/v1/replies/{draft['id']}/submit", json={}).json()
    assert submitted["status"] == "pending_approval" and submitted["findings"][0]["code"] == "personal_data"
    assert agent.get("/api/v1/approvals").status_code == 403
    assert [r["id"] for r in manager.get("/api/v1/approvals").json()] == [draft["id"]]
    approved = manager.post(f"/api/v1/replies/{draft['id']}/approve", json={"comment": "ok"})
    assert approved.status_code == 200 and approved.json()["status"] == "queued"


def test_the_author_cannot_approve_over_the_api(app_db: tuple[object, Database]) -> None:
    app, db = app_db
    with db.sessions() as session:
        make_source(session, kind="outbound_webhook", config={"url": "http://127.0.0.1:9/r"})
        case_id = make_case(session).id
        session.commit()
    manager: TestClient = signed_in_client(app, db, "manager")  # type: ignore[arg-type]
    draft = manager.post(f"/api/v1/cases/{case_id}/replies", json={"text": "Garantiert morgen da."}).json()
    assert manager.post(f"/api/v1/replies/{draft['id']}/submit", json={}).json()["status"] == "pending_approval"
    refused = manager.post(f"/api/v1/replies/{draft['id']}/approve", json={})
    assert refused.status_code == 403 and "another colleague" in refused.text


def test_rules_phrases_and_crisis_mode_over_the_api(app_db: tuple[object, Database]) -> None:
    app, db = app_db
    manager: TestClient = signed_in_client(app, db, "manager")  # type: ignore[arg-type]
    agent: TestClient = signed_in_client(app, db, "agent")  # type: ignore[arg-type]
    bad = manager.put("/api/v1/approval-rules", json={"name": "n", "kind": "new_agent", "params": {"days": 0}})
    assert bad.status_code == 422 and "params.days" in bad.text
    assert manager.put("/api/v1/approval-rules", json={"name": "crisis", "kind": "crisis"}).status_code == 200
    assert agent.put("/api/v1/approval-rules", json={"name": "x", "kind": "crisis"}).status_code == 403
    made = manager.post("/api/v1/blocked-phrases", json={"phrase": "Rheinkurve", "kind": "competitor"})
    assert made.status_code == 201
    assert (
        manager.post("/api/v1/blocked-phrases", json={"phrase": "Rheinkurve", "kind": "competitor"}).status_code == 409
    )
    assert agent.put("/api/v1/crisis-mode", json={"on": True}).status_code == 403
    assert manager.put("/api/v1/crisis-mode", json={"on": True}).json() == {"on": True}
    with db.sessions() as session:
        make_source(session, kind="outbound_webhook", config={"url": "http://127.0.0.1:9/r"})
        case_id = make_case(session).id
        session.commit()
    draft = agent.post(f"/api/v1/cases/{case_id}/replies", json={"text": "Danke für den Hinweis."}).json()
    submitted = agent.post(f"/api/v1/replies/{draft['id']}/submit", json={}).json()
    assert (
        submitted["status"] == "pending_approval" and "crisis mode is on" in submitted["approval_reasons"][0]["reason"]
    )
    assert manager.delete(f"/api/v1/blocked-phrases/{made.json()['id']}").status_code == 204
