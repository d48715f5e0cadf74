"""The demo's care organisation: idempotent; on social channels a German billing complaint reaches
the German billing colleague while an English one reaches the English colleague; e-mail goes to
Customer service first, where an English complaint reaches the colleague who speaks English *and*
handles complaints."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resonanz.accounts.models import Team, User
from resonanz.audit.models import AuditEvent
from resonanz.cases.routing import route_case
from resonanz.cases.routing_models import CalendarHoliday, RoutingRule
from resonanz.demo.routing import do_load_routing
from tests.routing.routing_support import add_mention, make_case


def test_demo_routing_is_idempotent_and_routes_by_language_and_skill(session: Session) -> None:
    do_load_routing(session, anchor=date(2026, 11, 20))
    audit = session.scalar(select(func.count()).select_from(AuditEvent))
    do_load_routing(session, anchor=date(2026, 11, 20))
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == audit
    teams = ["Billing", "Customer service", "IT", "Social Media", "Works council"]
    assert sorted(session.scalars(select(Team.name))) == teams
    assert session.scalar(select(func.count()).select_from(RoutingRule)) == 5
    assert session.scalar(select(func.count()).select_from(CalendarHoliday)) == 2 * 27
    german = make_case(session, lang="de", priority="high", platform="mastodon")
    add_mention(session, german, text="Die Abbuchung für mein Abo war doppelt!", lang="de", intent="complaint")
    english = make_case(session, lang="en", platform="mastodon")
    add_mention(session, english, text="I was charged twice, I want a refund", lang="en", intent="complaint")
    outage = make_case(session, lang="de", platform="mastodon")
    add_mention(session, outage, text="Die App hat schon wieder eine Störung", lang="de")
    names = {}
    mail = make_case(session, lang="en")  # platform e-mail
    add_mention(session, mail, text="I was charged twice and nobody answers", lang="en", intent="complaint")
    for case in (german, english, outage, mail):
        decision = route_case(session, case=case)
        names[case.id] = session.get(User, decision.assignee_id).display_name  # type: ignore[union-attr]
    assert names[german.id].startswith("Lena Fischer")
    assert names[english.id].startswith("Tom Hughes")
    assert names[outage.id].startswith("Emre Yilmaz")
    assert names[mail.id].startswith("Jonas Weber")
