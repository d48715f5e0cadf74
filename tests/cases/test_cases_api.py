"""``/api/v1/cases``: list with filters and cursor paging, scope (agents see their teams' cases),
If-Match (412) and body version (409) with who changed what, transitions with allowed targets,
assign rules, notes with @mentions, merge, presence, and the SSE stream yielding an event."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from resonanz.accounts.permissions import Role
from resonanz.api.app import create_app
from resonanz.cases import actions
from resonanz.cases.models import Case
from resonanz.cases.workflow_models import UserNotification
from resonanz.config import Settings
from resonanz.db.database import Database
from tests.cases.cases_support import make_mention, make_team
from tests.support.accounts_factory import api_client


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, database=db)


@pytest.fixture
def manager(app: FastAPI, db: Database) -> Iterator[TestClient]:
    with api_client(app, db, Role.manager, display_name="Mara Manager") as client:
        yield client


@pytest.fixture
def agent(app: FastAPI, db: Database) -> Iterator[TestClient]:
    with api_client(app, db, Role.agent, display_name="Anna Agent") as client:
        yield client


def make_cases(db: Database, n: int, **kw: object) -> list[int]:
    with db.sessions() as s:
        ids = []
        for i in range(n):
            m = make_mention(s, text=f"Frage {i}", minutes=i)
            ids.append(actions.do_create_case(s, mentions=[m], route=False, actor=None, **kw).id)  # type: ignore[arg-type]
        s.commit()
    return ids


def test_list_filters_and_pages(manager: TestClient, db: Database) -> None:
    ids = make_cases(db, 5)
    urgent = make_cases(db, 1, priority="urgent")
    first = manager.get("/api/v1/cases", params={"limit": 4})
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["total"] == 6 and [c["id"] for c in body["items"]] == urgent + ids[:3]
    rest = manager.get("/api/v1/cases", params={"limit": 4, "cursor": body["next_cursor"]}).json()
    assert [c["id"] for c in rest["items"]] == ids[3:] and rest["next_cursor"] is None
    assert manager.get("/api/v1/cases", params={"priority": "urgent"}).json()["total"] == 1
    assert manager.get("/api/v1/cases", params={"q": "Frage 2"}).json()["total"] == 1
    assert manager.get("/api/v1/cases", params={"status": "closed"}).json()["total"] == 0
    bad = manager.get("/api/v1/cases", params={"status": "done"})
    assert bad.status_code == 422 and "unknown status" in bad.text
    assert manager.get("/api/v1/cases", params={"cursor": "nonsense"}).status_code == 422
    counts = manager.get("/api/v1/cases", params={"with_counts": True}).json()["counts"]
    assert counts["all"] == 6 and counts["unassigned"] == 6 and counts["urgent"] == 1


def test_agents_see_their_teams_cases_only(agent: TestClient, manager: TestClient, db: Database) -> None:
    with db.sessions() as s:
        other = make_team(s, "Billing")
        s.commit()
        other_id = other.id
    ours, theirs = make_cases(db, 1), make_cases(db, 1, team_id=other_id)
    listed = [c["id"] for c in agent.get("/api/v1/cases").json()["items"]]
    assert listed == ours
    assert agent.get(f"/api/v1/cases/{theirs[0]}").status_code == 404
    assert manager.get(f"/api/v1/cases/{theirs[0]}").status_code == 200


def test_if_match_and_version_conflicts(agent: TestClient, manager: TestClient, db: Database) -> None:
    (cid,) = make_cases(db, 1)
    got = agent.get(f"/api/v1/cases/{cid}")
    etag = got.headers["etag"]
    assert etag == f'W/"case-{cid}-v1"' and got.json()["allowed_transitions"] == [
        "open",
        "pending",
        "resolved",
        "closed",
    ]
    ok = manager.post(f"/api/v1/cases/{cid}/transitions", json={"status": "open"}, headers={"If-Match": etag})
    assert ok.status_code == 200 and ok.headers["etag"] == f'W/"case-{cid}-v2"'
    stale = agent.post(f"/api/v1/cases/{cid}/transitions", json={"status": "pending"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert "Mara Manager" in stale.json()["detail"] and "status: new -> open" in stale.json()["detail"]
    stale_body = agent.patch(f"/api/v1/cases/{cid}", json={"version": 1, "tags": ["x"]})
    assert stale_body.status_code == 409 and "Mara Manager" in stale_body.json()["detail"]
    wrong = agent.post(f"/api/v1/cases/{cid}/transitions", json={"status": "new", "version": 2})
    assert wrong.status_code == 409 and "may go to: pending, resolved, closed" in wrong.json()["detail"]
    patched = agent.patch(f"/api/v1/cases/{cid}", json={"version": 2, "tags": ["VIP"], "status": "pending"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["tags"] == ["vip"] and patched.json()["status"] == "pending"


def test_assign_rules(agent: TestClient, manager: TestClient, db: Database) -> None:
    (cid,) = make_cases(db, 1)
    agent_id = agent.user.id  # type: ignore[attr-defined]
    manager_id = manager.user.id  # type: ignore[attr-defined]
    refused = agent.post(f"/api/v1/cases/{cid}/assign", json={"assignee_id": manager_id})
    assert refused.status_code == 403
    took = agent.post(f"/api/v1/cases/{cid}/assign", json={"assignee_id": agent_id})
    assert took.status_code == 200 and took.json()["assignee_id"] == agent_id
    with db.sessions() as s:
        team = make_team(s, "Returns")
        s.commit()
        team_id = team.id
    moved = manager.post(f"/api/v1/cases/{cid}/assign", json={"transfer": True, "team_id": team_id})
    assert moved.status_code == 200 and moved.json()["team_id"] == team_id and moved.json()["assignee_id"] is None
    assert agent.get(f"/api/v1/cases/{cid}").status_code == 404  # no longer in the agent's scope


def test_notes_notify_mentioned_colleagues(agent: TestClient, manager: TestClient, db: Database) -> None:
    (cid,) = make_cases(db, 1)
    local = manager.user.email.split("@")[0]  # type: ignore[attr-defined]
    made = agent.post(f"/api/v1/cases/{cid}/notes", json={"body": f"@{local} bitte prüfen, und @niemand"})
    assert made.status_code == 201, made.text
    assert made.json()["mentioned_user_ids"] == [manager.user.id]  # type: ignore[attr-defined]
    with db.sessions() as s:
        notes = s.scalars(select(UserNotification)).all()
        assert [(n.user_id, n.kind) for n in notes] == [(manager.user.id, "mention")]  # type: ignore[attr-defined]
    assert [n["body"] for n in manager.get(f"/api/v1/cases/{cid}/notes").json()] == [made.json()["body"]]
    assert agent.post(f"/api/v1/cases/{cid}/notes", json={"body": ""}).status_code == 422


def test_merge_and_timeline(manager: TestClient, db: Database) -> None:
    a, b = make_cases(db, 2)
    merged = manager.post(f"/api/v1/cases/{a}/merge", json={"into": b, "version": 1})
    assert merged.status_code == 200 and merged.json()["id"] == b
    assert manager.get(f"/api/v1/cases/{a}").json()["merged_into_id"] == b
    kinds = [e["kind"] for e in manager.get(f"/api/v1/cases/{a}/timeline").json()]
    assert kinds == ["merged", "created"]
    assert manager.post(f"/api/v1/cases/{b}/merge", json={"into": b}).status_code == 422


def test_presence_heartbeat_shows_others(agent: TestClient, manager: TestClient, db: Database) -> None:
    (cid,) = make_cases(db, 1)
    assert agent.post(f"/api/v1/cases/{cid}/presence", json={"kind": "viewing"}).json() == []
    others = manager.post(f"/api/v1/cases/{cid}/presence", json={"kind": "typing"}).json()
    assert [(p["display_name"], p["kind"]) for p in others] == [("Anna Agent", "viewing")]
    assert {p["kind"] for p in agent.get(f"/api/v1/cases/{cid}/presence").json()} == {"viewing", "typing"}
    assert manager.delete(f"/api/v1/cases/{cid}/presence").status_code == 204
    assert [p["kind"] for p in agent.get(f"/api/v1/cases/{cid}/presence").json()] == ["viewing"]
    assert agent.post(f"/api/v1/cases/{cid}/presence", json={"kind": "sleeping"}).status_code == 422


def test_sse_stream_yields_an_event_after_a_change(manager: TestClient, db: Database) -> None:
    (cid,) = make_cases(db, 1)
    manager.post(f"/api/v1/cases/{cid}/transitions", json={"status": "open"})
    seen: list[dict[str, object]] = []
    with manager.stream("GET", "/api/v1/cases/events", params={"after": 0, "seconds": 1, "case_id": cid}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        event = None
        for line in r.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "case":
                seen.append(json.loads(line[6:]))
    assert [e["kind"] for e in seen] == ["created", "status"]
    assert seen[1]["data"] == {"before": "new", "after": "open"}


def test_sse_hides_cases_outside_the_scope(agent: TestClient, db: Database) -> None:
    with db.sessions() as s:
        team = make_team(s, "Legal")
        s.commit()
        team_id = team.id
    make_cases(db, 1, team_id=team_id)
    (mine,) = make_cases(db, 1)
    with agent.stream("GET", "/api/v1/cases/events", params={"after": 0, "seconds": 1}) as r:
        lines = [line for line in r.iter_lines() if line.startswith("data: ")]
    assert [json.loads(line[6:])["case_id"] for line in lines] == [mine]
    with db.sessions() as s:
        assert s.get(Case, mine) is not None


def test_replies_and_suggestions_of_cases_outside_the_scope_are_not_found(
    agent: TestClient, manager: TestClient, db: Database
) -> None:
    """The reply endpoints keep the cases' scope: an agent can neither read, draft on, nor touch a
    draft of a case of a team they are not in (404, as for the case itself)."""
    with db.sessions() as s:
        other = make_team(s, "Billing")
        s.commit()
        other_id = other.id
    (theirs,) = make_cases(db, 1, team_id=other_id)
    (ours,) = make_cases(db, 1)
    draft = manager.post(f"/api/v1/cases/{theirs}/replies", json={"text": "Wir kümmern uns."})
    assert draft.status_code == 201, draft.text
    reply_id = draft.json()["id"]

    assert agent.get(f"/api/v1/cases/{theirs}/replies").status_code == 404
    assert agent.get(f"/api/v1/cases/{theirs}/suggestions").status_code == 404
    assert agent.post(f"/api/v1/cases/{theirs}/replies", json={"text": "hallo"}).status_code == 404
    assert agent.put(f"/api/v1/replies/{reply_id}", json={"text": "geändert"}).status_code == 404
    assert agent.post(f"/api/v1/replies/{reply_id}/check").status_code == 404
    assert agent.post(f"/api/v1/replies/{reply_id}/submit", json={}).status_code == 404
    assert manager.get(f"/api/v1/cases/{theirs}/replies").json()[0]["text"] == "Wir kümmern uns."
    assert agent.get(f"/api/v1/cases/{ours}/replies").status_code == 200
    assert agent.post(f"/api/v1/cases/{ours}/replies", json={"text": "Wir melden uns."}).status_code == 201
