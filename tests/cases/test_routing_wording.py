"""Routing reasons are stored as language-free facts and worded for each reader: every code in
German and (word for word as before) in English, the case page in the page's language, the SLA
API in the caller's (text + facts), decisions stored before as English strings still shown, and
names from users (rules, teams, agents) never read as markup."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from resonanz.accounts.permissions import Role
from resonanz.cases import actions
from resonanz.cases import routing_wording as w
from resonanz.cases.models import Case
from resonanz.cases.routing import last_decision
from resonanz.cases.routing_actions import do_save_rule
from resonanz.cases.routing_models import RoutingDecisionRow
from resonanz.cases.routing_service import case_sla
from resonanz.cases.workflow_models import CaseEvent
from resonanz.clock import now
from resonanz.db.database import Database
from resonanz.i18n import translations
from resonanz.web.templating import environment, formatters
from tests.cases.cases_support import make_author, make_mention, make_team
from tests.routing.routing_support import make_agent
from tests.support.accounts_factory import api_client
from tests.web.html_checks import check

GERMAN = translations("de").ugettext

#: one fact per code, its English (what routing stored before facts, word for word) and German
CASES: list[tuple[dict[str, Any], str, str]] = [
    (
        {"code": w.RULE_MATCHED, "rule": "E-mail to customer service", "team": "Customer service", "team_id": 3},
        "rule 'E-mail to customer service' matched: team Customer service",
        "Regel 'E-mail to customer service' trifft zu: Team Customer service",
    ),
    (
        {"code": w.RULE_FORWARD, "rule": "vip", "target": "billing"},
        "rule 'vip' forwards to rule 'billing'",
        "Regel 'vip' leitet an Regel 'billing' weiter",
    ),
    (
        {"code": w.RULE_LOOP, "rule": "r1", "loop": ["r1", "r2", "r1"]},
        "rule 'r1' matched but its forwards loop (r1 -> r2 -> r1); skipped",
        "Regel 'r1' trifft zu, aber ihre Weiterleitungen bilden eine Schleife (r1 -> r2 -> r1); übersprungen",
    ),
    (
        {"code": w.NO_RULE, "stays_in_team": True},
        "no routing rule matched: the case stays in its team",
        "keine Routing-Regel trifft zu: der Fall bleibt in seinem Team",
    ),
    ({"code": w.NO_RULE, "stays_in_team": False}, "no routing rule matched", "keine Routing-Regel trifft zu"),
    ({"code": w.NO_MEMBERS, "team_id": 4}, "the team has no active members", "das Team hat keine aktiven Mitglieder"),
    (
        {
            "code": w.NOT_AVAILABLE,
            "agents": [
                {"agent": "Free", "agent_id": 1, "cap": 1},
                {"agent": "Otto", "agent_id": 2, "availability": "out_of_office"},
                {"agent": "Ada", "agent_id": 3, "availability": "away"},
            ],
        },
        "not available: Free (at cap 1), Otto (out_of_office), Ada (away)",
        "nicht verfügbar: Free (Obergrenze 1 erreicht), Otto (außer Haus), Ada (abwesend)",
    ),
    (
        {
            "code": w.ASSIGNED,
            "agent": "Jonas Weber (Demo)",
            "agent_id": 7,
            "skills": ["complaint"],
            "lang": "en",
            "load": 2,
            "round_robin": None,
        },
        "assigned to Jonas Weber (Demo): skills complaint; speaks en; load 2",
        "zugewiesen an Jonas Weber (Demo): Kenntnisse complaint; spricht en; Auslastung 2",
    ),
    (
        {"code": w.ASSIGNED, "agent": "Bea", "agent_id": 8, "skills": [], "lang": None, "load": 0, "round_robin": 3},
        "assigned to Bea: load 0; round robin among 3",
        "zugewiesen an Bea: Auslastung 0; reihum unter 3",
    ),
    (
        {"code": w.ESCALATION_LOOP},
        "escalation teams loop; stopped",
        "die Eskalationsteams bilden eine Schleife; angehalten",
    ),
    (
        {"code": w.ESCALATED_TEAM, "team": "Backoffice", "team_id": 5},
        "nobody available: escalated to team Backoffice",
        "niemand verfügbar: an Team Backoffice eskaliert",
    ),
    (
        {"code": w.ESCALATED_MANAGER, "manager": "Boss", "manager_id": 6},
        "nobody available: escalated to the manager Boss",
        "niemand verfügbar: an die Leitung Boss eskaliert",
    ),
    (
        {"code": w.UNASSIGNED},
        "nobody available and no manager to escalate to: left unassigned in the team queue",
        "niemand verfügbar und keine Leitung zum Eskalieren: bleibt ohne Zuweisung in der Warteschlange des Teams",
    ),
]

XSS_RULE = "<script>alert('rule')</script>"
XSS_TEAM = "<b onmouseover=alert(1)>Care</b>"
XSS_AGENT = "<img src=x onerror=alert(2)>"


@pytest.mark.parametrize(("fact", "english", "german"), CASES, ids=[f"{c[0]['code']}-{i}" for i, c in enumerate(CASES)])
def test_each_code_in_english_and_german(fact: dict[str, Any], english: str, german: str) -> None:
    assert w.reason_text(fact) == english
    assert w.reason_text(fact, translations("en").ugettext) == english
    assert w.reason_text(fact, GERMAN) == german


def test_every_code_is_covered_and_worded() -> None:
    assert {c[0]["code"] for c in CASES} == set(w.CODES)


def test_plain_strings_and_unknown_codes_are_shown_as_they_are() -> None:
    old = "assigned to Anna: skills billing; speaks de; load 0"
    assert w.reason_texts([old], GERMAN) == [old]
    assert w.reason_text({"code": "from_a_plugin", "score": 3}, GERMAN) == "code: from_a_plugin; score: 3"
    assert w.reason_texts(None) == []


def test_names_with_percent_signs_and_quotes_are_values_not_format() -> None:
    fact = {"code": w.RULE_MATCHED, "rule": "100% %(team)s it's", "team": "50%"}
    assert w.reason_text(fact) == 'rule "100% %(team)s it\'s" matched: team 50%'
    assert w.reason_text(fact, GERMAN) == 'Regel "100% %(team)s it\'s" trifft zu: Team 50%'


# --- stored, on the page and in the API -----------------------------------------------------------


@pytest.fixture
def routed(db: Database) -> int:
    """A case routed by a rule named like a script to a team and agent with markup in their names."""
    with db.sessions() as s:
        agent = make_agent(s, XSS_AGENT, langs=["en"], skills=["complaint"])
        team = make_team(s, XSS_TEAM, agent)
        do_save_rule(s, name=XSS_RULE, filter_text="priority:>=low", target_team_id=team.id, actor=None)
        m = make_mention(s, text="The parcel never came", author=make_author(s), intent="complaint", lang="en")
        case = actions.do_create_case(s, mentions=[m], actor=None)
        s.commit()
        return case.id


def test_routing_stores_facts_in_the_decision_and_the_timeline(db: Database, routed: int) -> None:
    with db.sessions() as s:
        decision = last_decision(s, case_id=routed)
        assert decision is not None
        facts = decision.reason_facts
        assert [f["code"] for f in facts] == [w.RULE_MATCHED, w.ASSIGNED]
        assert facts[0]["rule"] == XSS_RULE and facts[0]["team"] == XSS_TEAM
        assert facts[1]["agent"] == XSS_AGENT and facts[1]["skills"] == ["complaint"] and facts[1]["lang"] == "en"
        assert decision.reasons[1] == f"assigned to {XSS_AGENT}: skills complaint; speaks en; load 0"
        created = s.scalars(select(CaseEvent).where(CaseEvent.case_id == routed, CaseEvent.kind == "created")).one()
        assert created.data["routing"] == facts


def _reasons_html(page: str) -> str:
    return page.split("data-routing-reasons>", 1)[1].split("</ul>", 1)[0]


def test_case_page_words_the_reasons_in_the_page_language_and_escapes_names(
    client_as: Callable[..., TestClient], routed: int
) -> None:
    german = client_as(Role.manager, language="de").get(f"/inbox/cases/{routed}")
    english = client_as(Role.manager, language="en").get(f"/inbox/cases/{routed}")
    for page in (german, english):
        assert page.status_code == 200
        found = check(page.text)
        assert found.problems == []
        assert [src for src in found.scripts if not (src or "").startswith("/static/")] == []
        assert "<script>alert" not in page.text and "&lt;script&gt;alert(" in page.text
    assert "Regel &#34;&lt;script&gt;alert(&#39;rule&#39;)&lt;/script&gt;&#34; trifft zu" in _reasons_html(german.text)
    assert "trifft zu: Team &lt;b onmouseover=alert(1)&gt;Care&lt;/b&gt;" in _reasons_html(german.text)
    assert "zugewiesen an &lt;img src=x onerror=alert(2)&gt;: Kenntnisse complaint; spricht en" in german.text
    assert "matched: team" not in german.text  # the timeline too
    assert "assigned to &lt;img src=x onerror=alert(2)&gt;: skills complaint; speaks en; load 0" in english.text
    assert "Regel" not in _reasons_html(english.text)


@pytest.fixture
def app_api(settings: Any, db: Database) -> FastAPI:
    from resonanz.api.app import create_app

    return create_app(settings, database=db)


@pytest.fixture
def api_as(app_api: FastAPI, db: Database) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(**user_kw: Any) -> TestClient:
        client = api_client(app_api, db, Role.manager, **user_kw)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def test_api_answers_reasons_in_the_callers_language_and_the_facts(
    api_as: Callable[..., TestClient], routed: int
) -> None:
    url = f"/api/v1/routing/cases/{routed}/sla"
    english = api_as(language="en").get(url, headers={"Accept-Language": "de"}).json()  # the setting wins
    german = api_as(language="de").get(url).json()
    by_header = api_as().get(url, headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}).json()
    assert english["routing_reasons"] == [
        f"rule {XSS_RULE!r} matched: team {XSS_TEAM}",
        f"assigned to {XSS_AGENT}: skills complaint; speaks en; load 0",
    ]
    assert (
        german["routing_reasons"]
        == by_header["routing_reasons"]
        == [
            f"Regel {XSS_RULE!r} trifft zu: Team {XSS_TEAM}",
            f"zugewiesen an {XSS_AGENT}: Kenntnisse complaint; spricht en; Auslastung 0",
        ]
    )
    assert english["routing_reason_facts"] == german["routing_reason_facts"]
    assert [f["code"] for f in german["routing_reason_facts"]] == ["rule_matched", "assigned"]
    assert german["routing_reason_facts"][1]["agent"] == XSS_AGENT


OLD = ["rule 'Alles' matched: team Pflege", "assigned to Anna: load 0"]


@pytest.fixture
def old_row(db: Database) -> int:
    """A case whose decision (and created event) were recorded when reasons were English strings."""
    with db.sessions() as s:
        m = make_mention(s, text="Hallo", author=make_author(s))
        case = actions.do_create_case(s, mentions=[m], route=False, actor=None)
        s.add(RoutingDecisionRow(case_id=case.id, reason_facts=list(OLD), at=now()))
        event = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).one()
        event.data = {**event.data, "routing": list(OLD)}
        s.commit()
        return case.id


def test_an_old_row_of_strings_is_still_shown(
    client_as: Callable[..., TestClient], api_as: Callable[..., TestClient], old_row: int
) -> None:
    page = client_as(Role.manager, language="de").get(f"/inbox/cases/{old_row}")
    assert page.status_code == 200
    assert "<li>rule &#39;Alles&#39; matched: team Pflege</li><li>assigned to Anna: load 0</li>" in page.text
    assert "rule &#39;Alles&#39; matched: team Pflege; assigned to Anna: load 0" in page.text  # timeline
    answer = api_as(language="de").get(f"/api/v1/routing/cases/{old_row}/sla").json()
    assert answer["routing_reasons"] == OLD and answer["routing_reason_facts"] == OLD


def test_sla_panel_words_reasons_in_its_language_and_escapes(db: Database, routed: int) -> None:
    with db.sessions() as s:
        case = s.get(Case, routed)
        assert case is not None
        sla = case_sla(s, case=case)
        html = {
            lang: environment(lang)
            .get_template("routing/sla_panel.html")
            .render(case=case, sla=sla, **formatters(lang, "Europe/Berlin"))
            for lang in ("de", "en")
        }
    assert "Warum dieses Team und dieser Agent" in html["de"]
    assert "zugewiesen an &lt;img src=x onerror=alert(2)&gt;: Kenntnisse complaint" in html["de"]
    assert "assigned to &lt;img src=x onerror=alert(2)&gt;: skills complaint; speaks en; load 0" in html["en"]
    for text in html.values():
        found = check(text)
        assert found.problems == [] and found.scripts == []
