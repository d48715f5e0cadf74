"""The inbox pages: queue with views, counts and filters, the case page (conversation escaped and
sanitised, reasons, controls with CSRF and version), forms (status, stale version -> 409 naming who,
forbidden transition -> 409 with allowed ones, notes with @mentions, assign rules), permissions
(agents see their teams' cases; viewers none), German and English."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from resonanz.accounts.permissions import Role
from resonanz.cases import actions
from resonanz.cases.models import Case
from resonanz.cases.workflow_models import CaseNote, UserNotification
from resonanz.db.database import Database
from tests.browser.browser_xss_corpus import PAYLOADS
from tests.cases.cases_support import make_author, make_mention, make_team
from tests.web.html_checks import check


def make_case(db: Database, *, text: str = "Wo bleibt mein Paket?", html: str | None = None, **kw: object) -> int:
    with db.sessions() as s:
        author = make_author(s, name="Karla Kundin", followers=12)
        m = make_mention(s, text=text, author=author, html=html, intent="complaint", sentiment="negative")
        c = actions.do_create_case(
            s, mentions=[m], route=False, actor=None, priority="high",
            priority_reasons=[{"factor": "intent", "value": "complaint", "points": 20}], **kw,  # type: ignore[arg-type]
        )  # fmt: skip
        s.commit()
        return c.id


def form_of(client: TestClient, case_id: int) -> dict[str, str]:
    page = client.get(f"/inbox/cases/{case_id}")
    version = page.text.split('name="version" value="', 1)[1].split('"', 1)[0]
    return {"csrf_token": client.principal.csrf_token, "version": version}  # type: ignore[attr-defined]


def test_queue_lists_counts_and_filters(client_as: Callable[..., TestClient], db: Database) -> None:
    agent = client_as(Role.agent, language="en")
    first = make_case(db)
    make_case(db, text="Rechnung falsch")
    page = agent.get("/inbox")
    assert page.status_code == 200
    assert 'data-count="2"' in page.text and f'data-case-id="{first}"' in page.text
    assert 'data-view-count="all">2<' in page.text and 'data-view-count="mine">0<' in page.text
    assert "/static/inbox.js" in page.text and "Keyboard shortcuts" in page.text
    assert 'data-count="1"' in agent.get("/inbox", params={"q": "Rechnung"}).text
    assert 'data-count="0"' in agent.get("/inbox", params={"view": "mine"}).text
    assert agent.get("/inbox", params={"status": "bogus"}).status_code == 400
    assert "Inbox" in page.text and "coming" not in page.text.lower()


def test_queue_in_german(client_as: Callable[..., TestClient], db: Database) -> None:
    make_case(db)
    page = client_as(Role.agent, language="de").get("/inbox")
    assert "Posteingang" in page.text and "Tastenkürzel" in page.text and "Nicht zugewiesen" in page.text


def test_case_page_shows_everything_escaped(client_as: Callable[..., TestClient], db: Database) -> None:
    admin = client_as(Role.admin, language="en")
    ids = [make_case(db, text=p, html=p) for p in PAYLOADS]
    for cid in ids:
        page = admin.get(f"/inbox/cases/{cid}")
        assert page.status_code == 200
        found = check(page.text)
        assert found.problems == [], cid
        assert [s for s in found.scripts if s and not s.startswith("/static/")] == []
    page = admin.get(f"/inbox/cases/{ids[0]}")
    for part in ("Conversation", "Karla Kundin", "Priority and why", "intent", "+20", "Internal notes", "Timeline",
                 'name="csrf_token"', 'name="version" value="1"', "Set to resolved"):  # fmt: skip
        assert part in page.text, part
    assert admin.get("/inbox/cases/999999").status_code == 404


def test_status_form_and_stale_version(client_as: Callable[..., TestClient], db: Database) -> None:
    anna = client_as(Role.agent, language="en", display_name="Anna Agent")
    bert = client_as(Role.agent, language="en", display_name="Bert Agent")
    cid = make_case(db)
    seen_by_bert = form_of(bert, cid)
    done = anna.post(f"/inbox/cases/{cid}/status", data={**form_of(anna, cid), "status": "open"})
    assert done.status_code == 303 and done.headers["location"] == f"/inbox/cases/{cid}?done=status"
    stale = bert.post(f"/inbox/cases/{cid}/status", data={**seen_by_bert, "status": "pending"})
    assert stale.status_code == 409 and "Anna Agent changed this case" in stale.text
    with db.sessions() as s:
        assert s.get(Case, cid).status == "open"  # type: ignore[union-attr]
    bad = anna.post(f"/inbox/cases/{cid}/status", data={**form_of(anna, cid), "status": "new"})
    assert bad.status_code == 409 and "may go to pending, resolved, closed" in bad.text
    no_csrf = anna.post(f"/inbox/cases/{cid}/status", data={"version": "2", "status": "pending"})
    assert no_csrf.status_code == 403


def test_notes_with_mentions_and_assign_rules(client_as: Callable[..., TestClient], db: Database) -> None:
    anna = client_as(Role.agent, language="en")
    lead = client_as(Role.manager, language="en", display_name="Lena Lead")
    cid = make_case(db)
    note = anna.post(f"/inbox/cases/{cid}/notes", data={"csrf_token": anna.principal.csrf_token,  # type: ignore[attr-defined]
                                                       "body": "@lena.lead <b>bitte</b> übernehmen"})  # fmt: skip
    assert note.status_code == 303
    page = anna.get(f"/inbox/cases/{cid}")
    assert "&lt;b&gt;bitte&lt;/b&gt;" in page.text
    with db.sessions() as s:
        assert s.scalars(select(CaseNote)).one().mentioned_user_ids == [lead.user.id]  # type: ignore[attr-defined]
        assert s.scalars(select(UserNotification.user_id)).all() == [lead.user.id]  # type: ignore[attr-defined]
    assert "You were mentioned in a note" in lead.get("/inbox").text
    other = anna.post(f"/inbox/cases/{cid}/assign", data={**form_of(anna, cid), "assignee": str(lead.user.id)})  # type: ignore[attr-defined]
    assert other.status_code == 403
    mine = anna.post(f"/inbox/cases/{cid}/assign", data={**form_of(anna, cid), "assignee": "me"})
    assert mine.status_code == 303
    empty = anna.post(f"/inbox/cases/{cid}/notes", data={"csrf_token": anna.principal.csrf_token, "body": " "})  # type: ignore[attr-defined]
    assert empty.status_code == 400 and "a note needs some text" in empty.text


def test_snooze_tags_priority_merge(client_as: Callable[..., TestClient], db: Database) -> None:
    lead = client_as(Role.manager, language="en")
    a, b = make_case(db), make_case(db)
    assert lead.post(f"/inbox/cases/{a}/snooze", data={**form_of(lead, a), "preset": "4h"}).status_code == 303
    assert lead.post(f"/inbox/cases/{a}/tags", data={**form_of(lead, a), "add": "VIP, refund"}).status_code == 303
    assert lead.post(f"/inbox/cases/{a}/priority", data={**form_of(lead, a), "priority": "urgent"}).status_code == 303
    assert lead.post(f"/inbox/cases/{a}/merge", data={**form_of(lead, a), "into": str(b)}).status_code == 303
    with db.sessions() as s:
        ca, cb = s.get(Case, a), s.get(Case, b)
        assert ca is not None and cb is not None
        assert ca.merged_into_id == b and cb.tags == ["refund", "vip"] and ca.priority == "urgent"
    assert lead.post(f"/inbox/cases/{b}/merge", data={**form_of(lead, b), "into": "abc"}).status_code == 400


@pytest.mark.parametrize("role", [Role.viewer, Role.analyst])
def test_roles_without_cases_are_refused(client_as: Callable[..., TestClient], db: Database, role: Role) -> None:
    cid = make_case(db)
    client = client_as(role)
    assert client.get("/inbox").status_code == 403
    assert client.get(f"/inbox/cases/{cid}").status_code == 403


def test_agents_see_only_their_teams(client_as: Callable[..., TestClient], db: Database) -> None:
    with db.sessions() as s:
        team = make_team(s, "Legal")
        s.commit()
        team_id = team.id
    theirs = make_case(db, team_id=team_id)
    agent = client_as(Role.agent, language="en")
    assert agent.get(f"/inbox/cases/{theirs}").status_code == 404
    assert f'data-case-id="{theirs}"' not in agent.get("/inbox").text
    assert client_as(Role.manager).get(f"/inbox/cases/{theirs}").status_code == 200
