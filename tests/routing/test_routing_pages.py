"""The routing admin pages: rules with errors shown on the page, SLA policies, calendars with
holidays (an empty calendar refused), teams and agents, care metrics + CSV, the experts page and
"bring in"; escaping of user text; who may see them."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from resonanz.accounts.models import UserSkill
from resonanz.accounts.permissions import Role
from resonanz.api.app import create_app
from resonanz.cases.routing_models import AgentStatus, BusinessCalendar, CalendarHoliday, RoutingRule, SlaPolicy
from resonanz.cases.workflow_models import CaseNote
from resonanz.config import Settings
from resonanz.db.database import Database
from tests.routing.routing_support import make_agent, make_case, make_team
from tests.support.accounts_factory import signed_in_client


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, database=db)


@pytest.fixture
def manager(app: FastAPI, db: Database) -> Iterator[TestClient]:
    with signed_in_client(app, db, Role.manager, language="en") as client:
        yield client


def _post(client: TestClient, url: str, data: dict[str, str]) -> httpx.Response:
    token = client.principal.csrf_token
    return client.post(url, data={**data, "csrf_token": token}, follow_redirects=False)


def test_rules_page_add_edit_error_delete(manager: TestClient, db: Database) -> None:
    with db.sessions() as session:
        team_id = make_team(session, "Billing <b>").id
        session.commit()
    page = manager.get("/routing/rules")
    assert page.status_code == 200 and "data-rule-editor" in page.text and "/static/routing.js" in page.text
    saved = _post(
        manager,
        "/routing/rules",
        {"name": "bills", "filter": "rechnung AND lang:de", "team_id": str(team_id), "enabled": "on"},
    )
    assert saved.status_code == 303
    listed = manager.get("/routing/rules").text
    assert "Billing &lt;b&gt;" in listed
    assert "rechnung AND lang:de" in listed
    bad = _post(manager, "/routing/rules", {"name": "broken", "filter": "lang:de AND (x", "team_id": str(team_id)})
    assert bad.status_code == 422 and "column 13" in bad.text and 'value="broken"' in bad.text
    with db.sessions() as session:
        rule = session.scalars(select(RoutingRule)).one()
        rule_id = rule.id
    edit = manager.get(f"/routing/rules?edit={rule_id}")
    assert f'name="id" value="{rule_id}"' in edit.text
    _post(
        manager, "/routing/rules", {"id": str(rule_id), "name": "bills", "filter": "rechnung", "team_id": str(team_id)}
    )
    with db.sessions() as session:
        rule = session.get(RoutingRule, rule_id)
        assert rule is not None and rule.filter_text == "rechnung" and rule.enabled is False
    assert _post(manager, f"/routing/rules/{rule_id}/delete", {}).status_code == 303
    assert _post(manager, f"/routing/rules/{rule_id}/delete", {}).status_code == 404


def test_user_text_is_escaped(manager: TestClient, db: Database) -> None:
    with db.sessions() as session:
        team_id = make_team(session, "<script>alert(1)</script>").id
        session.commit()
    _post(manager, "/routing/rules", {"name": "<img src=x>", "filter": '"<svg onload=x>"', "team_id": str(team_id)})
    text = manager.get("/routing/rules").text
    assert "<script>alert(1)</script>" not in text and "<img src=x>" not in text
    assert "&lt;img src=x&gt;" in text


def test_sla_page_policies_calendars_holidays(manager: TestClient, db: Database) -> None:
    assert manager.get("/routing/sla").status_code == 200
    saved = _post(
        manager,
        "/routing/sla/policies",
        {
            "team_id": "",
            "priority": "high",
            "first_response_minutes": "60",
            "resolution_minutes": "480",
            "warn_before_minutes": "15",
        },
    )
    assert saved.status_code == 303
    bad = _post(
        manager, "/routing/sla/policies", {"priority": "high", "first_response_minutes": "x", "resolution_minutes": "1"}
    )
    assert bad.status_code == 422
    empty = _post(manager, "/routing/sla/calendars", {"name": "Never", "time_zone": "Europe/Berlin", "hours": ""})
    assert empty.status_code == 422 and "no working hours" in empty.text
    assert (
        _post(
            manager,
            "/routing/sla/calendars",
            {"name": "Berlin", "time_zone": "Europe/Berlin", "hours": "mon-fri 09:00-17:00"},
        ).status_code
        == 303
    )
    with db.sessions() as session:
        cal_id = session.scalars(select(BusinessCalendar.id)).one()
    _post(
        manager,
        f"/routing/sla/calendars/{cal_id}/holidays",
        {"german_year": "2026", "day": "2026-12-24", "name": "Heiligabend"},
    )
    page = manager.get("/routing/sla").text
    assert "Karfreitag" in page and "Heiligabend" in page and "mon 09:00-17:00" in page
    _post(manager, f"/routing/sla/calendars/{cal_id}/holidays", {"remove": "2026-12-24"})
    with db.sessions() as session:
        assert session.scalar(select(CalendarHoliday).where(CalendarHoliday.name == "Heiligabend")) is None
        assert session.scalars(select(SlaPolicy)).one().warn_before_minutes == 15


def test_agents_page_team_settings_and_agent_profile(manager: TestClient, db: Database) -> None:
    with db.sessions() as session:
        agent = make_agent(session, "Anna", langs=["de"])
        team_id = make_team(session, "Care", [agent]).id
        session.commit()
        agent_id = agent.id
    page = manager.get("/routing/agents")
    assert page.status_code == 200 and "Anna" in page.text
    assert (
        _post(
            manager,
            f"/routing/teams/{team_id}",
            {"default_cap": "5", "manager_id": "", "escalation_team_id": "", "calendar_id": ""},
        ).status_code
        == 303
    )
    saved = _post(
        manager,
        f"/routing/agents/{agent_id}",
        {
            "skills": "billing, SEPA",
            "languages": "de, en",
            "availability": "away",
            "until": "2030-01-01T09:00",
            "cap": "4",
        },
    )
    assert saved.status_code == 303
    with db.sessions() as session:
        status = session.get(AgentStatus, agent_id)
        assert status is not None and (status.availability, status.cap) == ("away", 4)
        skills = sorted(session.scalars(select(UserSkill.skill).where(UserSkill.user_id == agent_id)))
        assert skills == ["billing", "sepa"]
    bad = _post(manager, f"/routing/agents/{agent_id}", {"availability": "asleep"})
    assert bad.status_code == 422


def test_metrics_page_and_csv(manager: TestClient, db: Database) -> None:
    with db.sessions() as session:
        make_case(session, team_id=make_team(session, "Care").id)
        session.commit()
    page = manager.get("/routing/metrics", params={"group": "team"})
    assert page.status_code == 200 and "Care" in page.text and "/routing/metrics.csv" in page.text
    csv_answer = manager.get("/routing/metrics.csv")
    assert csv_answer.headers["content-type"].startswith("text/csv") and "Care" in csv_answer.text
    assert manager.get("/routing/metrics", params={"since": "yesterday"}).status_code == 422


def test_experts_page_and_bring_in(manager: TestClient, db: Database) -> None:
    with db.sessions() as session:
        expert = make_agent(session, "Ines")
        make_case(session, subject="Router WLAN Firmware", status="resolved", assignee_id=expert.id)
        case = make_case(session, subject="WLAN Router Firmware kaputt", status="open")
        session.commit()
        case_id, expert_id = case.id, expert.id
    page = manager.get(f"/routing/cases/{case_id}/experts")
    assert page.status_code == 200 and "Ines" in page.text and "similarity" in page.text
    done = _post(manager, f"/routing/cases/{case_id}/experts/{expert_id}", {"reason": "firmware"})
    assert done.status_code == 303 and done.headers["location"] == f"/inbox/cases/{case_id}?done=expert"
    with db.sessions() as session:
        assert session.scalars(select(CaseNote.mentioned_user_ids)).one() == [expert_id]
    assert manager.get("/routing/cases/99999/experts").status_code == 404


def test_agents_may_not_open_admin_pages_but_see_experts(app: FastAPI, db: Database) -> None:
    with signed_in_client(app, db, Role.agent) as agent:
        assert agent.get("/routing/rules", follow_redirects=False).status_code == 403
        assert agent.get("/routing/metrics", follow_redirects=False).status_code == 403
    with signed_in_client(app, db, Role.analyst) as analyst:
        assert analyst.get("/routing/cases/1/experts", follow_redirects=False).status_code == 403
