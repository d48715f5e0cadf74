"""The queue read by (priority, status) bucket (``service.list_cases``) gives the same order and pages
as one sort by (rank, id) over every matching case; ``count_cases_upto`` stops at its cap."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from resonanz.accounts.permissions import Role
from resonanz.api.app import create_app
from resonanz.cases import service
from resonanz.cases.models import Case
from resonanz.cases.service import PRIORITY_RANK, CaseFilter, Scope
from resonanz.cases.states import ACTIVE
from resonanz.config import Settings
from resonanz.db.database import Database
from tests.cases.cases_support import make_team
from tests.support.accounts_factory import api_client, make_user

PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("new", "open", "pending", "resolved", "closed")


def seed(session: Session, n: int) -> tuple[int, int]:
    """``n`` cases over two teams, every priority and status; returns (team id, agent id)."""
    agent = make_user(session, email="queue-agent@example.org")
    team = make_team(session, "Queue A", agent)
    other = make_team(session, "Queue B")
    rnd = random.Random(3)
    at = datetime(2026, 11, 1, tzinfo=UTC)
    rows = [
        {
            "status": rnd.choice(STATUSES),
            "priority": rnd.choice(PRIORITIES),
            "priority_reasons": [],
            "subject": f"case {i}",
            "platform": "email",
            "team_id": rnd.choice((team.id, other.id, None)),
            "assignee_id": agent.id if i % 7 == 0 else None,
            "tags": [],
            "created_at": at,
            "updated_at": at,
            "version": 1,
        }
        for i in range(n)
    ]
    session.execute(insert(Case), rows)
    session.commit()
    return team.id, agent.id


def reference(cases: list[Case], flt: CaseFilter, scope: Scope) -> list[int]:
    statuses = flt.statuses or [s.value for s in ACTIVE]
    keep = [
        c
        for c in cases
        if scope.allows(c)
        and c.status in statuses
        and (not flt.priorities or c.priority in flt.priorities)
        and (flt.team_id is None or c.team_id == flt.team_id)
        and (flt.mine_user_id is None or c.assignee_id == flt.mine_user_id)
    ]
    keep.sort(key=lambda c: (-PRIORITY_RANK[c.priority], c.id))  # type: ignore[index]
    return [c.id for c in keep]


def all_pages(session: Session, flt: CaseFilter, scope: Scope, limit: int) -> list[int]:
    seen: list[int] = []
    after = None
    while True:
        page = service.list_cases(session, filters=flt, scope=scope, after=after, limit=limit)
        seen.extend(c.id for c in page.items)
        assert len(page.items) <= limit
        if page.next_cursor is None:
            return seen
        after = page.next_cursor


@pytest.mark.parametrize("limit", [1, 7, 50])
def test_bucketed_pages_match_one_sort(session: Session, limit: int) -> None:
    team_id, agent_id = seed(session, 300)
    cases = list(session.query(Case))
    agent_scope = Scope(everything=False, user_id=agent_id, team_ids=(team_id,))
    everything = service.SYSTEM_SCOPE
    for flt, scope in [
        (CaseFilter(), everything),
        (CaseFilter(team_id=team_id), agent_scope),
        (CaseFilter(), agent_scope),
        (CaseFilter(mine_user_id=agent_id), everything),
        (CaseFilter(statuses=["resolved", "new", "new"]), everything),
        (CaseFilter(priorities=["low", "urgent"], team_id=team_id), everything),
    ]:
        expected = reference(cases, flt, scope)
        assert expected, flt
        assert all_pages(session, flt, scope, limit) == expected, (flt, limit)


def test_count_upto_is_exact_below_the_cap_and_flagged_above(session: Session) -> None:
    team_id, _ = seed(session, 200)
    flt = CaseFilter(team_id=team_id)
    exact = service.count_cases(session, filters=flt)
    assert 10 < exact < 200
    assert service.count_cases_upto(session, filters=flt, cap=exact) == (exact, True)
    assert service.count_cases_upto(session, filters=flt, cap=exact - 1) == (exact - 1, False)
    assert service.count_cases_upto(session, filters=flt, cap=10) == (10, False)


def test_api_total_says_when_it_stopped_counting(
    session: Session, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    team_id, _ = seed(session, 200)
    exact = service.count_cases(session, filters=CaseFilter(team_id=team_id))
    session.rollback()  # end the test's transaction: the app's requests need the write lock
    app = create_app(settings, database=db)
    with api_client(app, db, Role.manager) as client:
        body = client.get("/api/v1/cases", params={"team_id": team_id}).json()
        assert (body["total"], body["total_exact"]) == (exact, True)
        monkeypatch.setattr(service, "COUNT_CAP", 10)
        body = client.get("/api/v1/cases", params={"team_id": team_id, "limit": 3}).json()
        assert (body["total"], body["total_exact"], len(body["items"])) == (10, False, 3)
