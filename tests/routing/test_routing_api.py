"""``/api/v1/routing``: rules CRUD with clear refusals, the rule tester, availability, team
settings, SLA policies, calendars with holidays, metrics + CSV, experts; permissions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from resonanz.accounts.permissions import Role
from resonanz.api.app import create_app
from resonanz.config import Settings
from resonanz.db.database import Database
from tests.routing.routing_support import add_mention, make_agent, make_case, make_team
from tests.support.accounts_factory import api_client

OFFICE = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, database=db)


@pytest.fixture
def manager(app: FastAPI, db: Database) -> Iterator[TestClient]:
    with api_client(app, db, Role.manager) as client:
        yield client


@pytest.fixture
def agent(app: FastAPI, db: Database) -> Iterator[TestClient]:
    with api_client(app, db, Role.agent) as client:
        yield client


def _team(db: Database, name: str = "Billing") -> int:
    with db.sessions() as session:
        team = make_team(session, name, [make_agent(session, f"{name} agent", langs=["de"])])
        session.commit()
        return team.id


def test_rules_crud_and_refusals(manager: TestClient, db: Database) -> None:
    team_id = _team(db)
    created = manager.post(
        "/api/v1/routing/rules", json={"name": "bills", "filter": "rechnung AND lang:de", "team_id": team_id}
    )
    assert created.status_code == 201, created.text
    rule = created.json()
    bad = manager.post("/api/v1/routing/rules", json={"name": "bad", "filter": "lang:de AND (x", "team_id": team_id})
    assert bad.status_code == 422 and "column 13" in bad.json()["detail"]
    none = manager.post("/api/v1/routing/rules", json={"name": "none", "filter": "lang:de"})
    assert none.status_code == 422 and none.json()["errors"][0]["loc"] == ["target_team_id"]
    dup = manager.post("/api/v1/routing/rules", json={"name": "bills", "filter": "lang:de", "team_id": team_id})
    assert dup.status_code == 409
    fwd = manager.post(
        "/api/v1/routing/rules", json={"name": "vip", "filter": "tag:vip", "forward_rule_id": rule["id"]}
    ).json()
    loop = manager.put(
        f"/api/v1/routing/rules/{rule['id']}", json={"name": "bills", "filter": "x", "forward_rule_id": fwd["id"]}
    )
    assert loop.status_code == 422 and "loop" in loop.json()["detail"]
    changed = manager.put(
        f"/api/v1/routing/rules/{rule['id']}",
        json={"name": "bills", "filter": "x", "team_id": team_id, "enabled": False},
    )
    assert changed.json()["enabled"] is False
    assert [r["name"] for r in manager.get("/api/v1/routing/rules").json()] == ["bills", "vip"]
    assert manager.delete(f"/api/v1/routing/rules/{fwd['id']}").status_code == 204
    assert manager.delete(f"/api/v1/routing/rules/{fwd['id']}").status_code == 404


def test_rule_tester(manager: TestClient, db: Database) -> None:
    with db.sessions() as session:
        case = make_case(session, lang="de", tags=["billing"])
        add_mention(session, case, text="Rechnung falsch", lang="de")
        session.commit()
        case_id = case.id
    hit = manager.post("/api/v1/routing/filter-tests", json={"filter": "rechnung AND tag:billing"}).json()
    assert hit == {"matched": [case_id], "checked": 1, "warnings": []}
    miss = manager.post("/api/v1/routing/filter-tests", json={"filter": "lang:dee"}).json()
    assert miss["warnings"] == ["matches none of the 1 cases tried"]
    assert manager.post("/api/v1/routing/filter-tests", json={"filter": "reach:lots"}).status_code == 422


def test_availability_team_settings_policies_calendars(manager: TestClient, agent: TestClient, db: Database) -> None:
    team_id = _team(db)
    assert agent.put("/api/v1/routing/agents/me/availability", json={"availability": "away"}).status_code == 204
    assert agent.put("/api/v1/routing/agents/me/availability", json={"availability": "asleep"}).status_code == 422
    uid = agent.user.id  # type: ignore[attr-defined]
    assert (
        manager.put(f"/api/v1/routing/agents/{uid}/availability", json={"availability": "online", "cap": 5}).status_code
        == 204
    )
    agents = manager.get("/api/v1/routing/agents", params={"team_id": team_id}).json()
    assert [a["display_name"] for a in agents] == ["Billing agent"] and agents[0]["languages"] == ["de"]
    empty = manager.post("/api/v1/routing/calendars", json={"name": "never", "hours": {"mon": []}})
    assert empty.status_code == 422 and empty.json()["errors"][0]["loc"] == ["hours"]
    cal = manager.post("/api/v1/routing/calendars", json={"name": "Berlin", "hours": OFFICE})
    assert cal.status_code == 201, cal.text
    cal_id = cal.json()["id"]
    holidays = manager.patch(f"/api/v1/routing/calendars/{cal_id}/holidays", json={"german_year": 2026}).json()[
        "holidays"
    ]
    assert len(holidays) == 9 and holidays[1] == {"day": "2026-04-03", "name": "Karfreitag"}
    settings = manager.put(f"/api/v1/routing/teams/{team_id}", json={"calendar_id": cal_id, "default_cap": 10})
    assert settings.status_code == 200
    assert manager.get(f"/api/v1/routing/teams/{team_id}").json()["calendar_id"] == cal_id
    policy = {"team_id": team_id, "priority": "high", "first_response_minutes": 60, "resolution_minutes": 480}
    assert manager.post("/api/v1/routing/sla-policies", json=policy).status_code == 201
    assert manager.post("/api/v1/routing/sla-policies", json=policy).status_code == 409
    worse = manager.post("/api/v1/routing/sla-policies", json=policy | {"priority": "low", "resolution_minutes": 30})
    assert worse.status_code == 422
    assert len(manager.get("/api/v1/routing/sla-policies").json()) == 1


def test_metrics_csv_and_experts(manager: TestClient, agent: TestClient, db: Database) -> None:
    with db.sessions() as session:
        expert = make_agent(session, "Ines")
        done = make_case(session, subject="Router WLAN Firmware", status="resolved", assignee_id=expert.id)
        case = make_case(session, subject="WLAN Router Firmware kaputt", status="open")
        session.commit()
        case_id, expert_id = case.id, expert.id
        del done
    rows = manager.get("/api/v1/routing/metrics", params={"group": "agent"}).json()["rows"]
    assert rows[-1]["name"] == "all" and rows[-1]["cases"] == 2
    csv_answer = manager.get("/api/v1/routing/metrics.csv")
    assert csv_answer.headers["content-type"].startswith("text/csv")
    assert csv_answer.text.splitlines()[0].startswith("group,key,name,cases")
    assert manager.get("/api/v1/routing/metrics", params={"since": "2026-01-02T00:00:00"}).status_code == 422
    assert agent.get("/api/v1/routing/metrics").status_code == 403
    found = manager.get(f"/api/v1/routing/cases/{case_id}/experts").json()
    assert found[0]["user_id"] == expert_id and "similarity" in found[0]["reasons"][0]
    brought = manager.post(f"/api/v1/routing/cases/{case_id}/experts/{expert_id}", json={"reason": "firmware"})
    assert brought.status_code == 201 and brought.json()["note_id"] > 0
    assert manager.get("/api/v1/routing/cases/999999/experts").status_code == 404


def test_agents_cannot_change_settings(agent: TestClient) -> None:
    assert agent.get("/api/v1/routing/rules").status_code == 403
    assert agent.post("/api/v1/routing/calendars", json={"name": "x", "hours": OFFICE}).status_code == 403


def test_case_sla_endpoint_and_panel(manager: TestClient, db: Database) -> None:
    from datetime import UTC, datetime

    from resonanz.cases.routing import route_case
    from resonanz.cases.routing_actions import do_save_rule, do_save_sla_policy
    from resonanz.cases.sla_service import apply_sla, check_slas
    from resonanz.web.templating import environment, formatters

    with db.sessions() as session:
        team = make_team(session, "Care", [make_agent(session, "Anna")])
        do_save_rule(session, name="all", filter_text="priority:>=low", target_team_id=team.id, actor=None)
        do_save_sla_policy(
            session, team_id=None, priority="normal", first_response_minutes=30, resolution_minutes=60, actor=None
        )
        case = make_case(session, at=datetime(2026, 1, 5, 9, tzinfo=UTC))
        decision = route_case(session, case=case)
        case.team_id, case.assignee_id, case.status = decision.team_id, decision.assignee_id, "open"
        apply_sla(session, case=case)
        check_slas(session)
        session.commit()
        case_id = case.id
    answer = manager.get(f"/api/v1/routing/cases/{case_id}/sla").json()
    assert answer["first_response_due_at"].startswith("2026-01-05T09:30")
    assert {e["kind"] for e in answer["events"]} == {"breach"}
    assert answer["routing_reasons"][0] == "rule 'all' matched: team Care"
    with db.sessions() as session:
        from resonanz.cases.models import Case
        from resonanz.cases.routing_service import case_sla

        row = session.get(Case, case_id)
        html = (
            environment("de")
            .get_template("routing/sla_panel.html")
            .render(case=row, sla=case_sla(session, case=row), **formatters("de", "Europe/Berlin"))
        )
    assert "Erste Antwort fällig" in html and "Verletzung" in html and "Warum dieses Team und dieser Agent" in html
