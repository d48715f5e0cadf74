"""route_case as tables: the rules choose the team, skills/language/load/availability/cap choose
the agent, round robin breaks ties fairly, escalation when nobody is available, loops reported."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from resonanz.cases.routing import route_case, try_filter
from resonanz.cases.routing_actions import do_save_rule, do_set_availability, do_set_team_settings
from resonanz.cases.routing_models import RoutingDecisionRow, RoutingRule
from resonanz.clock import now
from resonanz.errors import InputError
from resonanz.listening.models import Query, QueryMatch
from resonanz.listening.query.errors import QuerySyntaxError
from tests.routing.routing_support import add_mention, make_agent, make_case, make_team


def test_language_and_skill_match_wins(session: Session) -> None:
    de_billing = make_agent(session, "Dora", langs=["de"], skills=["Billing"])
    en_billing = make_agent(session, "Evan", langs=["en"], skills=["billing"])
    de_plain = make_agent(session, "Dirk", langs=["de"])
    team = make_team(session, "Billing", [en_billing, de_plain, de_billing])
    do_save_rule(session, name="billing", filter_text="tag:billing OR rechnung", target_team_id=team.id, actor=None)
    case = make_case(session, subject="Rechnung doppelt", lang="de", tags=["billing"])
    decision = route_case(session, case=case)
    assert (decision.team_id, decision.assignee_id) == (team.id, de_billing.id)
    assert any("skills billing" in r and "speaks de" in r for r in decision.reasons)
    english = make_case(session, subject="Invoice twice", lang="en", tags=["billing"])
    assert route_case(session, case=english).assignee_id == en_billing.id


def test_rules_in_order_first_match_and_listening_language_on_the_first_mention(session: Session) -> None:
    a, b = make_agent(session, "A"), make_agent(session, "B")
    social, billing = make_team(session, "Social", [a]), make_team(session, "Billing", [b])
    do_save_rule(session, name="complaints about bills", filter_text="intent:complaint AND (rechnung OR abbuchung)",
                 target_team_id=billing.id, actor=None)  # fmt: skip
    do_save_rule(
        session, name="everything else", filter_text="lang:de OR lang:en", target_team_id=social.id, actor=None
    )
    case = make_case(session, lang="de")
    add_mention(session, case, text="Schon wieder eine falsche Abbuchung!", lang="de", intent="complaint")
    decision = route_case(session, case=case)
    assert decision.team_id == billing.id
    assert decision.reasons[0] == "rule 'complaints about bills' matched: team Billing"
    other = make_case(session, lang="de")
    add_mention(session, other, text="Wann öffnet die Filiale?", lang="de", intent="question")
    assert route_case(session, case=other).team_id == social.id
    rows = session.query(RoutingDecisionRow).filter_by(case_id=case.id).all()
    assert len(rows) == 1 and rows[0].rule_id is not None


@pytest.mark.parametrize(
    ("rule", "matches"),
    [
        ("query:billing", True),
        ('query:"Billing"', True),
        ("priority:>=high", True),
        ("priority:urgent", False),
        ("reach:>=5000", True),
        ("reach:>5000", False),
        ("tag:vip AND NOT platform:x", True),
        ("topic:refund", False),
        ("brand:nordwelle", False),
    ],
)
def test_case_fields(session: Session, rule: str, matches: bool) -> None:
    case = make_case(session, priority="high", tags=["VIP"])
    mention = add_mention(session, case, text="hallo", followers=5000)
    query = Query(name="Billing", text="rechnung", version=1, active=True, created_at=now(), updated_at=now())
    session.add(query)
    session.flush()
    session.add(
        QueryMatch(query_id=query.id, mention_id=mention.id, published_at=mention.published_at, query_version=1)
    )
    session.flush()
    assert try_filter(session, filter_text=rule, case_ids=[case.id]).matched == ([case.id] if matches else [])


def test_load_and_cap_respected(session: Session) -> None:
    busy, free = make_agent(session, "Busy"), make_agent(session, "Free")
    team = make_team(session, "Care", [busy, free])
    do_save_rule(session, name="all", filter_text="platform:email", target_team_id=team.id, actor=None)
    for _ in range(2):
        make_case(session, assignee_id=busy.id, team_id=team.id, status="open")
    make_case(session, assignee_id=free.id, team_id=team.id, status="open")
    assert route_case(session, case=make_case(session)).assignee_id == free.id  # lower load
    do_set_availability(session, user_id=free.id, availability="online", cap=1, actor=None)
    decision = route_case(session, case=make_case(session))
    assert decision.assignee_id == busy.id  # free is at cap 1
    assert any("Free (at cap 1)" in r for r in decision.reasons)


def test_away_and_out_of_office_are_skipped_until_their_time(session: Session) -> None:
    away, ooo, online = make_agent(session, "Away"), make_agent(session, "OOO"), make_agent(session, "Online")
    team = make_team(session, "Care", [away, ooo, online])
    do_save_rule(session, name="all", filter_text="platform:email", target_team_id=team.id, actor=None)
    do_set_availability(session, user_id=away.id, availability="away", actor=None)
    do_set_availability(
        session, user_id=ooo.id, availability="out_of_office", until=now() + timedelta(days=3), actor=None
    )
    for _ in range(3):
        case = make_case(session)
        case.assignee_id = route_case(session, case=case).assignee_id
        case.status = "resolved"
        assert case.assignee_id == online.id
    do_set_availability(
        session, user_id=ooo.id, availability="out_of_office", until=now() - timedelta(minutes=1), actor=None
    )
    assigned = set()
    for _ in range(2):
        case = make_case(session)
        case.assignee_id = route_case(session, case=case).assignee_id
        assigned.add(case.assignee_id)
    assert assigned == {online.id, ooo.id}


def test_round_robin_is_fair_over_many_cases(session: Session) -> None:
    agents = [make_agent(session, f"Agent {i}") for i in range(3)]
    team = make_team(session, "Care", agents)
    do_save_rule(session, name="all", filter_text="platform:email", target_team_id=team.id, actor=None)
    counts: Counter[int | None] = Counter()
    order = []
    for _ in range(30):
        case = make_case(session)
        decision = route_case(session, case=case)
        case.assignee_id, case.status = decision.assignee_id, "resolved"  # load stays equal
        counts[decision.assignee_id] += 1
        order.append(decision.assignee_id)
    assert counts == Counter({a.id: 10 for a in agents})
    assert order[:3] == [a.id for a in agents] and order[3:6] == order[:3]


def test_escalation_to_escalation_team_then_manager_then_queue(session: Session) -> None:
    agent, helper, boss = (
        make_agent(session, "Agent"),
        make_agent(session, "Helper"),
        make_agent(session, "Boss", role="manager"),
    )
    team, backup = make_team(session, "Billing", [agent]), make_team(session, "Backoffice", [helper])
    do_save_rule(session, name="all", filter_text="platform:email", target_team_id=team.id, actor=None)
    do_set_availability(session, user_id=agent.id, availability="away", actor=None)
    do_set_team_settings(session, team_id=team.id, manager_id=boss.id, escalation_team_id=backup.id,
                         calendar_id=None, default_cap=None, actor=None)  # fmt: skip
    decision = route_case(session, case=make_case(session))
    assert (decision.team_id, decision.assignee_id, decision.escalated) == (backup.id, helper.id, True)
    assert "escalated to team Backoffice" in " ".join(decision.reasons)
    do_set_availability(session, user_id=helper.id, availability="out_of_office", actor=None)
    decision = route_case(session, case=make_case(session))
    assert (decision.team_id, decision.assignee_id) == (team.id, boss.id)
    assert "escalated to the manager Boss" in " ".join(decision.reasons)
    do_set_team_settings(session, team_id=team.id, manager_id=None, escalation_team_id=None,
                         calendar_id=None, default_cap=None, actor=None)  # fmt: skip
    decision = route_case(session, case=make_case(session))
    assert (decision.team_id, decision.assignee_id, decision.escalated) == (team.id, None, True)
    assert "left unassigned" in decision.reasons[-1]


def test_escalation_loop_refused(session: Session) -> None:
    a, b = make_team(session, "A"), make_team(session, "B")
    do_set_team_settings(
        session, team_id=a.id, manager_id=None, escalation_team_id=b.id, calendar_id=None, default_cap=None, actor=None
    )
    with pytest.raises(InputError, match="loop"):
        do_set_team_settings(
            session,
            team_id=b.id,
            manager_id=None,
            escalation_team_id=a.id,
            calendar_id=None,
            default_cap=None,
            actor=None,
        )


def test_a_rule_that_matches_nothing(session: Session) -> None:
    team = make_team(session, "Care", [make_agent(session, "X")])
    other = make_team(session, "Other")
    do_save_rule(session, name="typo", filter_text="lang:dee", target_team_id=other.id, actor=None)
    cases = [make_case(session, lang="de", team_id=team.id) for _ in range(3)]
    trial = try_filter(session, filter_text="lang:dee")
    assert trial.matched == [] and trial.checked == 3
    assert trial.warnings == ["matches none of the 3 cases tried"]
    decision = route_case(session, case=cases[0])
    assert decision.team_id == team.id  # stays in its team
    assert decision.reasons[0] == "no routing rule matched: the case stays in its team"


def test_forward_loop_refused_at_save_and_skipped_at_routing(session: Session) -> None:
    team = make_team(session, "Care", [make_agent(session, "X")])
    first = do_save_rule(session, name="first", filter_text="platform:email", target_team_id=team.id, actor=None)
    second = do_save_rule(
        session, name="second", filter_text="platform:email", target_team_id=None, forward_rule_id=first.id, actor=None
    )
    with pytest.raises(InputError, match="the forwards loop: first -> second -> first"):
        do_save_rule(session, id=first.id, name="first", filter_text="platform:email", target_team_id=None,
                     forward_rule_id=second.id, actor=None)  # fmt: skip
    session.rollback()
    # a loop that got into the table anyway (e.g. by SQL) is skipped with a reason, not followed
    team = make_team(session, "Care2", [make_agent(session, "Y")])
    r1 = RoutingRule(name="r1", filter_text="platform:email", position=1, created_at=now(), updated_at=now())
    r2 = RoutingRule(name="r2", filter_text="platform:email", position=2, created_at=now(), updated_at=now())
    session.add_all([r1, r2])
    session.flush()
    r1.forward_rule_id, r2.forward_rule_id = r2.id, r1.id
    fallback = RoutingRule(
        name="r3", filter_text="platform:email", position=3, target_team_id=team.id, created_at=now(), updated_at=now()
    )
    session.add(fallback)
    session.flush()
    decision = route_case(session, case=make_case(session))
    assert decision.team_id == team.id
    assert "rule 'r1' matched but its forwards loop (r1 -> r2 -> r1); skipped" in decision.reasons


def test_forward_follows_to_the_target(session: Session) -> None:
    team = make_team(session, "Billing", [make_agent(session, "X")])
    base = do_save_rule(session, name="billing", filter_text="rechnung", target_team_id=team.id, actor=None)
    do_save_rule(
        session, name="vip", filter_text="tag:vip", target_team_id=None, forward_rule_id=base.id, position=0, actor=None
    )
    decision = route_case(session, case=make_case(session, tags=["vip"]))
    assert decision.team_id == team.id
    assert "rule 'vip' forwards to rule 'billing'" in decision.reasons


@pytest.mark.parametrize(
    ("kw", "location"),
    [
        ({"filter_text": "lang:de AND (x"}, None),
        ({"filter_text": "priority:mega"}, None),
        ({"target_team_id": None}, "target_team_id"),
        ({"target_team_id": 99999}, "target_team_id"),
        ({"name": " "}, "name"),
    ],
)
def test_bad_rules_refused(session: Session, kw: dict[str, object], location: str | None) -> None:
    team = make_team(session, "Care")
    args: dict[str, object] = {"name": "r", "filter_text": "lang:de", "target_team_id": team.id} | kw
    with pytest.raises(InputError) as err:
        do_save_rule(session, actor=None, **args)  # type: ignore[arg-type]
    if location is None:
        assert isinstance(err.value, QuerySyntaxError)
    else:
        assert err.value.location == location
