"""The expert finder ranks the resolver of a similar case first, with a reason; care metrics on a
hand-built data set; the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.cases.experts import do_bring_in, find_experts
from resonanz.cases.metrics import care_metrics, metrics_csv
from resonanz.cases.workflow_models import CaseNote, UserNotification
from resonanz.errors import InputError
from tests.routing.routing_support import add_mention, make_agent, make_case, make_team


class _Actor:
    def __init__(self, user_id: int) -> None:
        self.user_id = user_id


def test_resolver_of_a_similar_case_ranks_first(session: Session) -> None:
    it_expert = make_agent(session, "Ines IT")
    billing = make_agent(session, "Bernd Billing")
    skilled = make_agent(session, "Sina Skills", skills=["router"])
    agent = make_agent(session, "Agent")
    make_team(session, "IT", [it_expert])
    make_team(session, "Billing", [billing])
    done = make_case(session, subject="Router verliert WLAN Verbindung nach Firmware Update", status="resolved",
                     assignee_id=it_expert.id, tags=["wlan"])  # fmt: skip
    add_mention(session, done, text="Seit dem Firmware Update bricht das WLAN am Router ständig ab")
    other = make_case(session, subject="Rechnung doppelt abgebucht", status="resolved", assignee_id=billing.id)
    add_mention(session, other, text="Mir wurde die Rechnung zweimal abgebucht")
    case = make_case(session, subject="WLAN bricht ab", assignee_id=agent.id, status="open")
    add_mention(session, case, text="Nach dem Firmware Update verliert mein Router dauernd das WLAN")
    experts = find_experts(session, case=case)
    assert experts[0].user_id == it_expert.id
    assert experts[0].reasons[0].startswith(f"resolved case #{done.id} “Router verliert WLAN")
    assert experts[0].teams == ["IT"] and experts[0].similar_case_ids == [done.id]
    assert [e.user_id for e in experts[1:]] == [skilled.id]  # skill "router" matches; billing does not
    assert experts[1].reasons == ["skills: router"]
    assert agent.id not in {e.user_id for e in experts}  # the assignee is not suggested


def test_bring_in_writes_a_note_that_notifies_the_expert(session: Session) -> None:
    expert, agent = make_agent(session, "Eva Expert"), make_agent(session, "Agent")
    case = make_case(session, assignee_id=agent.id, status="open")
    note_id = do_bring_in(
        session, case=case, user_id=expert.id, reason="knows the router firmware", actor=_Actor(agent.id)
    )
    note = session.get(CaseNote, note_id)
    assert note is not None and note.mentioned_user_ids == [expert.id]
    assert "knows the router firmware" in note.body
    assert session.scalar(select(UserNotification.user_id).where(UserNotification.note_id == note_id)) == expert.id
    with pytest.raises(InputError):
        do_bring_in(session, case=case, user_id=agent.id, actor=_Actor(agent.id))


T = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def _dataset(session: Session) -> tuple[int, int, int, int]:
    a, b = make_agent(session, "Anna"), make_agent(session, "Ben")
    social, billing = make_team(session, "Social", [a]), make_team(session, "Billing", [b])
    m = timedelta(minutes=1)
    # Social / Anna: responded after 10 and 30 min (due at 60: met, met), resolved after 100 min (due 120: met)
    make_case(session, at=T, team_id=social.id, assignee_id=a.id, status="resolved", first_responded_at=T + 10 * m,
              first_response_due_at=T + 60 * m, resolved_at=T + 100 * m, resolution_due_at=T + 120 * m)  # fmt: skip
    make_case(session, at=T + m, team_id=social.id, assignee_id=a.id, status="open", first_responded_at=T + 31 * m,
              first_response_due_at=T + 61 * m, resolution_due_at=T + 121 * m)  # fmt: skip
    # Billing / Ben: response after 90 min (due 60: missed), never resolved, resolution due passed: missed
    make_case(session, at=T, team_id=billing.id, assignee_id=b.id, status="pending", first_responded_at=T + 90 * m,
              first_response_due_at=T + 60 * m, resolution_due_at=T + 120 * m)  # fmt: skip
    # before the period: only backlog
    make_case(session, at=T - timedelta(days=30), team_id=billing.id, assignee_id=b.id, status="open")
    return social.id, billing.id, a.id, b.id


def test_metrics_per_team_and_agent(session: Session) -> None:
    social, _billing, anna, ben = _dataset(session)
    rows = care_metrics(session, since=T - timedelta(days=1), until=T + timedelta(days=1), group="team")
    by = {r.name: r for r in rows}
    assert list(by) == ["Billing", "Social", "all"]
    s, b, total = by["Social"], by["Billing"], by["all"]
    assert (s.cases, s.responded, s.first_response_median_min, s.resolved, s.resolution_median_min) == (
        2,
        2,
        20.0,
        1,
        100.0,
    )
    assert (s.first_response_met, s.first_response_missed, s.resolution_met, s.resolution_missed) == (2, 0, 1, 1)
    assert s.sla_attainment == 0.75 and s.backlog == 1
    assert (b.cases, b.first_response_missed, b.resolution_missed, b.sla_attainment, b.backlog) == (1, 1, 1, 0.0, 2)
    assert (total.cases, total.backlog, total.first_response_met, total.first_response_missed) == (3, 3, 2, 1)
    agents = {
        r.key: r for r in care_metrics(session, since=T - timedelta(days=1), until=T + timedelta(days=1), group="agent")
    }
    assert agents[anna].cases == 2 and agents[ben].cases == 1
    only = care_metrics(session, since=T - timedelta(days=1), until=T + timedelta(days=1), team_id=social)
    assert [r.name for r in only] == ["Social", "all"]


def test_metrics_csv_export(session: Session) -> None:
    _dataset(session)
    rows = care_metrics(session, since=T - timedelta(days=1), until=T + timedelta(days=1))
    rows[0].name = "=HYPERLINK()"  # a name must not run as a formula
    parsed = list(csv.DictReader(io.StringIO(metrics_csv(rows))))
    assert [r["name"] for r in parsed] == ["'=HYPERLINK()", "Social", "all"]
    assert parsed[1]["first_response_median_min"] == "20.0" and parsed[1]["resolution_p90_min"] == "100.0"
    assert parsed[0]["resolution_median_min"] == ""


def test_metrics_bad_period(session: Session) -> None:
    with pytest.raises(InputError, match="ends before"):
        care_metrics(session, since=T, until=T)
    with pytest.raises(InputError, match="team or agent"):
        care_metrics(session, since=T, until=T + timedelta(days=1), group="brand")
