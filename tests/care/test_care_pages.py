"""The composer, approvals, knowledge and CSAT pages: forms without JavaScript, findings inline,
a colleague's reply pointed out, self-approval refused, untrusted text escaped."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from resonanz.api.app import create_app
from resonanz.cases import csat, knowledge
from resonanz.cases.models import Case
from resonanz.config import Settings
from resonanz.db.database import Database
from tests.care.care_factory import make_case, make_source
from tests.support.accounts_factory import signed_in_client


@pytest.fixture
def setup(settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch) -> tuple[object, Database, int]:
    monkeypatch.setenv("RESONANZ_OUTBOUND_WEBHOOK_SECRET", "s3cret")
    with db.sessions() as session:
        make_source(session, kind="outbound_webhook", config={"url": "http://127.0.0.1:9/r"})
        case = make_case(session, text="Meine Lieferung <script>alert(1)</script> ist verspätet")
        body = "Das tut uns leid: Lieferungen sind derzeit 2 Tage verspätet."
        knowledge.do_create_article(
            session, title="Verspätete Lieferung", lang="de", tags=["lieferung"], body=body, actor=None
        )
        session.commit()
        return create_app(settings, database=db), db, case.id


def client(app: object, db: Database, role: str = "manager") -> TestClient:
    c = signed_in_client(app, db, role)  # type: ignore[arg-type]
    c.follow_redirects = False
    return c


def csrf(c: TestClient) -> str:
    return c.headers["X-CSRF-Token"]


def test_compose_with_a_suggestion_then_approval_by_a_colleague(setup: tuple[object, Database, int]) -> None:
    app, db, case_id = setup
    anna, ben = client(app, db), client(app, db)
    page = anna.get(f"/care/cases/{case_id}")
    assert page.status_code == 200 and "Verspätete Lieferung" in page.text and "shares words" in page.text
    assert "<script>alert(1)</script>" not in page.text
    filled = anna.get(f"/care/cases/{case_id}?article=1")
    assert "Lieferungen sind derzeit 2 Tage" in filled.text
    sent = anna.post(f"/care/cases/{case_id}/reply", data={"csrf_token": csrf(anna), "action": "submit",
                                                           "text": "Rufen Sie uns an: 0171 2345678"})  # fmt: skip
    assert sent.status_code == 303
    after = anna.get(f"/care/cases/{case_id}")
    assert 'data-reply-status="pending_approval"' in after.text and "policy findings" in after.text
    mine = anna.get("/approvals")
    reply_id = int(re.search(r'data-approval="(\d+)"', mine.text).group(1))  # type: ignore[union-attr]
    refused = anna.post(f"/approvals/{reply_id}", data={"csrf_token": csrf(anna), "action": "approve"})
    assert refused.status_code == 403 and "another colleague" in refused.text
    ok = ben.post(f"/approvals/{reply_id}", data={"csrf_token": csrf(ben), "action": "approve", "comment": "ok"})
    assert ok.status_code == 303
    warned = ben.get(f"/care/cases/{case_id}")
    assert "data-colleague-reply" in warned.text


def test_a_second_sender_sees_the_conflict_and_can_confirm(setup: tuple[object, Database, int]) -> None:
    app, db, case_id = setup
    anna, ben = client(app, db), client(app, db)
    assert anna.post(f"/care/cases/{case_id}/reply", data={"csrf_token": csrf(anna), "action": "submit",
                                                           "text": "Wir kümmern uns."}).status_code == 303  # fmt: skip
    second = ben.post(f"/care/cases/{case_id}/reply", data={"csrf_token": csrf(ben), "action": "submit",
                                                            "text": "Ich schaue nach."})  # fmt: skip
    assert second.status_code == 409 and "already queued a reply" in second.text and 'name="confirm"' in second.text
    assert "Ich schaue nach." in second.text  # the text is not lost
    confirmed = ben.post(f"/care/cases/{case_id}/reply", data={"csrf_token": csrf(ben), "action": "submit",
                                                               "text": "Ich schaue nach.", "confirm": "1"})  # fmt: skip
    assert confirmed.status_code == 303


def test_template_with_unknown_variable_says_so(setup: tuple[object, Database, int]) -> None:
    app, db, case_id = setup
    with db.sessions() as session:
        from resonanz.cases.reply_models import ReplyTemplate
        from resonanz.clock import now

        session.add(ReplyTemplate(name="old", lang="de", body="Hallo {kundenname}", tags=[], created_at=now(),
                                  updated_at=now()))  # fmt: skip
        good = knowledge.do_save_template(session, name="good", lang="de", body="Hallo {author_name}, Fall {case_id}",
                                          actor=None)  # fmt: skip
        session.commit()
        bad_id = good.id - 1
    anna = client(app, db)
    assert f"Fall {case_id}" in anna.get(f"/care/cases/{case_id}?template={good.id}").text
    assert "unknown template variable {kundenname}" in anna.get(f"/care/cases/{case_id}?template={bad_id}").text


def test_knowledge_pages(setup: tuple[object, Database, int]) -> None:
    app, db, _ = setup
    manager, agent = client(app, db), client(app, db, "agent")
    assert "Verspätete Lieferung" in agent.get("/knowledge?q=verspaetet").text
    fields = {"title": "Rückgabe", "lang": "de", "body": "30 Tage Rückgaberecht.", "tags": "retoure, rueckgabe"}
    made = manager.post("/knowledge", data={"csrf_token": csrf(manager), **fields})
    assert made.status_code == 303
    bad = manager.post("/knowledge", data={"csrf_token": csrf(manager), "title": "x", "lang": "fr", "body": "y"})
    assert bad.status_code == 422
    assert (
        agent.post("/knowledge", data={"csrf_token": csrf(agent), "title": "x", "lang": "de", "body": "y"}).status_code
        == 403
    )


def test_csat_link_answers_once(setup: tuple[object, Database, int]) -> None:
    app, db, case_id = setup
    with db.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        token = csat.do_create_survey(session, case=case, actor=None)
        session.commit()
    public = TestClient(app)  # type: ignore[arg-type]
    assert public.get("/csat/not-a-token").status_code == 404
    page = public.get(f"/csat/{token}")
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    assert public.post(f"/csat/{token}", data={"csrf_token": form_token, "score": "9"}).status_code == 422
    assert public.post(f"/csat/{token}", data={"csrf_token": form_token, "score": "5"}).status_code == 200
    assert public.post(f"/csat/{token}", data={"csrf_token": form_token, "score": "1"}).status_code == 422
    with db.sessions() as session:
        assert session.get(Case, case_id).csat == 5  # type: ignore[union-attr]
