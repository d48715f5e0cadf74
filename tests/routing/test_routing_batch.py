"""``route_case(..., batch=RoutingBatch())`` decides exactly as routing one case at a time: the same
team, assignee and reasons for a run of new cases, with loads counted up as cases are assigned
(caps reached mid-run), round robin, escalation and a re-routed case whose own assignment must
not count against its assignee."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from resonanz.cases.models import Case
from resonanz.cases.routing import RoutingBatch, route_case
from resonanz.cases.routing_actions import do_save_rule, do_set_availability, do_set_team_settings
from tests.routing.routing_support import make_agent, make_case, make_team


def decide_all(session: Session, cases: list[Case], batch: RoutingBatch | None) -> list[tuple[Any, ...]]:
    out = []
    for case in cases:
        decision = route_case(session, case=case, batch=batch)
        case.team_id, case.assignee_id = decision.team_id, decision.assignee_id
        session.flush()
        out.append((decision.team_id, decision.assignee_id, decision.escalated, tuple(decision.reasons)))
    return out


def test_batch_decides_like_one_by_one(session: Session) -> None:
    dora = make_agent(session, "Dora", langs=["de"], skills=["billing"])
    evan = make_agent(session, "Evan", langs=["en"], skills=["billing"])
    finn = make_agent(session, "Finn", langs=["de"])
    sam, sue = make_agent(session, "Sam", langs=["de", "en"]), make_agent(session, "Sue", langs=["en"])
    billing = make_team(session, "Billing", [dora, evan, finn])
    social = make_team(session, "Social", [sam, sue])
    do_set_availability(session, user_id=dora.id, availability="online", cap=3, actor=None)
    do_set_availability(session, user_id=evan.id, availability="online", cap=2, actor=None)
    do_set_availability(session, user_id=finn.id, availability="online", cap=2, actor=None)
    do_set_team_settings(
        session, team_id=billing.id, manager_id=None, escalation_team_id=social.id, calendar_id=None,
        default_cap=None, actor=None,
    )  # fmt: skip
    do_save_rule(session, name="bills", filter_text="tag:billing OR rechnung", target_team_id=billing.id, actor=None)
    do_save_rule(session, name="rest", filter_text="priority:>=low", target_team_id=social.id, actor=None)
    make_case(session, status="open", team_id=billing.id, assignee_id=dora.id)  # Dora starts with a load of 1
    rerouted = make_case(session, subject="Rechnung", lang="de", status="open", team_id=billing.id, assignee_id=dora.id)
    cases = [rerouted] + [
        make_case(session, subject=subject, lang=lang, tags=tags)
        for subject, lang, tags in [
            ("Rechnung doppelt", "de", ["billing"]),
            ("Invoice twice", "en", ["billing"]),
            ("Rechnung falsch", "de", []),
            ("App crashes", "en", []),
            ("Rechnung fehlt", "de", ["billing"]),
            ("Refund", "en", ["billing"]),
            ("Rechnung", "de", ["billing"]),
            ("Rechnung", "de", ["billing"]),
            ("Login kaputt", "de", []),
            ("Rechnung", "en", ["billing"]),
        ]
    ]
    saved = session.begin_nested()
    one_by_one = decide_all(session, cases, None)
    saved.rollback()
    for case in cases:
        session.refresh(case)
    batched = decide_all(session, cases, RoutingBatch())
    assert batched == one_by_one
    assert any(escalated for _, _, escalated, _ in one_by_one)  # the caps were reached mid-run
    assert any("at cap" in " ".join(reasons) for *_, reasons in one_by_one)
