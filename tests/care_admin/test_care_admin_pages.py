"""The care admin pages: approval rules (add, edit, bad input on the page, delete, crisis mode),
reply policy (phrases, profanity terms that then flag a reply, limits), CSAT switches, teams and
members, and the audit log with its filters and pages; every change audited with before/after;
user text escaped; who may see them."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from resonanz.accounts.models import Team, TeamMember
from resonanz.accounts.permissions import Role
from resonanz.api.app import create_app
from resonanz.audit.service import list_events
from resonanz.cases import actions, approvals, care_settings
from resonanz.cases.policy import ReplyContext, check_reply
from resonanz.cases.reply_models import ApprovalRule, BlockedPhrase
from resonanz.clock import now
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.listening.models import Brand
from tests.care.care_factory import make_case
from tests.support.accounts_factory import make_user, signed_in_client


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, database=db)


@pytest.fixture
def manager(app: FastAPI, db: Database) -> Iterator[TestClient]:
    with signed_in_client(app, db, Role.manager, language="en") as client:
        yield client


@pytest.fixture
def admin(app: FastAPI, db: Database) -> Iterator[TestClient]:
    with signed_in_client(app, db, Role.admin, language="de") as client:
        yield client


def _post(client: TestClient, url: str, data: dict[str, str | list[str]]) -> httpx.Response:
    return client.post(url, data={**data, "csrf_token": client.principal.csrf_token}, follow_redirects=False)


def test_approval_rules_add_edit_error_delete_and_crisis_mode(manager: TestClient, db: Database) -> None:
    with db.sessions() as session:
        brand = Brand(name="Acme <Strom>", kind="own", created_at=now())
        session.add(brand)
        session.commit()
        brand_id = brand.id
    assert manager.get("/care-admin", follow_redirects=False).headers["location"] == "/care-admin/approval-rules"
    new_agents = {"name": "Neu", "kind": "new_agent", "days": "14", "active": "on"}
    assert _post(manager, "/care-admin/approval-rules", new_agents).status_code == 303
    brand_rule = {"name": "Marke", "kind": "brand", "brand_ids": [str(brand_id)], "active": "on"}
    assert _post(manager, "/care-admin/approval-rules", brand_rule).status_code == 303
    page = manager.get("/care-admin/approval-rules").text
    assert "younger than 14 days" in page and "Acme &lt;Strom&gt;" in page and "<Strom>" not in page
    bad = _post(manager, "/care-admin/approval-rules", {"name": "Risiko", "kind": "high_risk", "risk": "7"})
    assert bad.status_code == 422 and 'data-error="params.risk"' in bad.text and 'value="Risiko"' in bad.text
    with db.sessions() as session:
        rule = session.scalars(select(ApprovalRule).where(ApprovalRule.name == "Neu")).one()
    edit = manager.get(f"/care-admin/approval-rules?edit={rule.id}").text
    assert 'value="14"' in edit
    longer = {"name": "Neu", "kind": "new_agent", "days": "60"}
    assert _post(manager, "/care-admin/approval-rules", longer).status_code == 303
    with db.sessions() as session:
        changed = session.get(ApprovalRule, rule.id)
        assert changed is not None and changed.params == {"days": 60} and changed.active is False
        (saved,) = list_events(session, action="care.approval_rule.save", object_id=rule.id, limit=1)
        assert saved.before == {"kind": "new_agent", "params": {"days": 14}, "active": True}
        assert saved.after is not None and saved.after["params"] == {"days": 60}
    assert _post(manager, f"/care-admin/approval-rules/{rule.id}/delete", {}).status_code == 303
    assert _post(manager, f"/care-admin/approval-rules/{rule.id}/delete", {}).status_code == 422
    assert _post(manager, "/care-admin/crisis-mode", {"on": "on"}).status_code == 303
    assert 'data-crisis="on"' in manager.get("/care-admin/approval-rules").text
    assert _post(manager, "/care-admin/crisis-mode", {}).status_code == 303
    with db.sessions() as session:
        assert approvals.crisis_mode(session) is False
        assert session.get(ApprovalRule, rule.id) is None
        (deleted,) = list_events(session, action="care.approval_rule.delete", limit=1)
        assert deleted.before is not None and deleted.before["name"] == "Neu"


def test_policy_page_phrases_profanity_and_limits(manager: TestClient, db: Database) -> None:
    page = manager.get("/care-admin/policy")
    assert page.status_code == 200 and "bluesky" in page.text and "SMS" in page.text
    assert _post(manager, "/care-admin/policy/phrases", {"phrase": "Geld zurück <sofort>", "kind": "legal",
                                                         "reason": "nur Legal"}).status_code == 303  # fmt: skip
    dup = _post(manager, "/care-admin/policy/phrases", {"phrase": "Geld zurück <sofort>", "kind": "legal"})
    assert dup.status_code == 422 and "blocked already" in dup.text
    assert _post(manager, "/care-admin/policy/profanity", {"term": "Vollpfosten"}).status_code == 303
    listed = manager.get("/care-admin/policy").text
    assert "Geld zurück &lt;sofort&gt;" in listed and "Vollpfosten" in listed
    with db.sessions() as session:
        context = ReplyContext(platform="email", phrases=approvals.policy_phrases(session))
        codes = {f.code for f in check_reply("Sie Vollpfosten, Geld zurück <sofort>!", context=context, models=False)}
        assert codes == {"profanity", "blocked_phrase"}
        phrase = session.scalars(select(BlockedPhrase)).one()
        (term,) = care_settings.list_profanity(session)
    assert _post(manager, f"/care-admin/policy/phrases/{phrase.id}/delete", {}).status_code == 303
    assert _post(manager, f"/care-admin/policy/profanity/{term.id}/delete", {}).status_code == 303
    with db.sessions() as session:
        assert approvals.policy_phrases(session) == []
        assert [e.action for e in list_events(session, action="care.profanity.", limit=5)] == [
            "care.profanity.remove", "care.profanity.add"]  # fmt: skip


def test_csat_switches_globally_and_per_team(manager: TestClient, db: Database) -> None:
    with db.sessions() as session:
        team = Team(name="Abrechnung")
        session.add(team)
        session.commit()
        team_id = team.id
    assert 'data-csat="off"' in manager.get("/care-admin/csat").text
    assert _post(manager, "/care-admin/csat", {"enabled": "on"}).status_code == 303
    assert _post(manager, f"/care-admin/csat/teams/{team_id}", {"choice": "off"}).status_code == 303
    assert _post(manager, f"/care-admin/csat/teams/{team_id}", {"choice": "maybe"}).status_code == 422
    assert _post(manager, "/care-admin/csat/teams/99999", {"choice": "on"}).status_code == 422
    page = manager.get("/care-admin/csat").text
    assert 'data-csat="on"' in page and '<option value="off" selected>' in page
    with db.sessions() as session:
        assert care_settings.csat_global(session) is True
        (row,) = care_settings.team_csat(session)
        assert row.override is False and row.effective is False
        (event,) = list_events(session, action="care.team_setting", limit=1)
        assert event.before == {"csat_enabled": None} and event.after == {"csat_enabled": False}


def test_teams_page_creates_teams_and_manages_members(admin: TestClient, db: Database) -> None:
    with db.sessions() as session:
        colleague = make_user(session, display_name="Ada <Admin>")
        session.commit()
        colleague_id = colleague.id
    assert _post(admin, "/admin/teams", {"name": "Betriebsrat", "kind": "department"}).status_code == 303
    assert _post(admin, "/admin/teams", {"name": "Betriebsrat"}).status_code == 422
    assert _post(admin, "/admin/teams", {"name": "X", "kind": "club"}).status_code == 422
    with db.sessions() as session:
        team_id = session.scalars(select(Team.id).where(Team.name == "Betriebsrat")).one()
    assert _post(admin, f"/admin/teams/{team_id}/members", {"user_id": str(colleague_id)}).status_code == 303
    assert _post(admin, f"/admin/teams/{team_id}/members", {"user_id": ""}).status_code == 422
    page = admin.get("/admin/teams").text
    assert "Abteilung" in page and "Ada &lt;Admin&gt;" in page and f'data-member="{colleague_id}"' in page
    assert _post(admin, f"/admin/teams/{team_id}/members/{colleague_id}/delete", {}).status_code == 303
    home = admin.get("/admin").text  # the admin home links every care admin page, in German here
    for href, label in [
        ("/admin/teams", "Teams"),
        ("/admin/audit", "Prüfprotokoll"),
        ("/care-admin/approval-rules", "Freigaberegeln"),
        ("/care-admin/csat", "Zufriedenheitsumfrage"),
    ]:
        assert f'href="{href}"' in home and label in home
    with db.sessions() as session:
        assert session.scalars(select(TeamMember)).all() == []


def test_audit_log_filters_and_pages(admin: TestClient, db: Database) -> None:
    for n in range(55):
        assert _post(admin, "/admin/teams", {"name": f"Team {n:02d}"}).status_code == 303
    page = admin.get("/admin/audit?action=team.")
    assert page.status_code == 200
    assert page.text.count("<code>team.create</code>") == 50 and 'rel="next"' in page.text
    older = page.text.split('rel="next" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    rest = admin.get(older).text
    assert rest.count("<code>team.create</code>") == 5 and 'rel="next"' not in rest
    mine = admin.get(f"/admin/audit?actor={admin.principal.user_id}&object_type=team&action=team.create").text
    assert "55" in mine
    assert "<code>team.create</code>" not in admin.get("/admin/audit?actor=system").text
    assert "<code>team.create</code>" not in admin.get("/admin/audit?since=2000-01-01&until=2000-01-02").text
    with db.sessions() as session:
        case = make_case(session, status="new")
        actions.do_change_status(session, case=case, status="open", expected_version=None, actor=None)
        session.commit()
    linked = admin.get("/admin/audit?object_type=case&action=case.").text
    assert f'<a href="/inbox/cases/{case.id}">case {case.id}</a>' in linked
    assert "<code>team.create</code>" not in linked
    assert '>{"status": "new"}</pre>' in linked and '>{"status": "open"}</pre>' in linked
    bad = admin.get("/admin/audit?since=2026-13-01")
    assert bad.status_code == 422 and 'data-error="since"' in bad.text


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        (Role.agent, "/care-admin/approval-rules", 403),
        (Role.agent, "/care-admin/policy", 403),
        (Role.agent, "/care-admin/csat", 403),
        (Role.manager, "/admin/teams", 403),
        (Role.agent, "/admin/audit", 403),
        (Role.manager, "/admin/audit", 200),
    ],
)
def test_who_may_see_the_pages(app: FastAPI, db: Database, role: Role, path: str, status: int) -> None:
    with signed_in_client(app, db, role) as client:
        assert client.get(path, follow_redirects=False).status_code == status


def test_competitor_aliases_are_names_not_letters(db: Database) -> None:
    with db.sessions() as session:
        session.add(Brand(name="Fonecom", kind="competitor", aliases="Fone Com\nFC", created_at=now()))
        session.commit()
        names = approvals.competitor_names(session)
        assert names == ["Fonecom", "Fone Com", "FC"]
        context = ReplyContext(platform="email", competitors=names)
        assert check_reply("We will send you a new card.", context=context, models=False) == []
        (finding,) = check_reply("Unlike FC, we refund at once.", context=context, models=False)
        assert finding.code == "blocked_phrase" and finding.detail == {"kind": "competitor"}
