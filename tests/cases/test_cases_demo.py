"""The demo's inbox: after loading and analysing a small demo, intake has opened routed cases and
a few are already worked on (assigned, opened, a note @mentioning the manager, one resolved, one
snoozed); a second run changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from resonanz.analysis.jobs import ANALYSIS_KIND
from resonanz.cases.models import Case
from resonanz.cases.workflow_models import CaseNote, UserNotification
from resonanz.db.database import Database
from resonanz.demo.cases import load_cases
from resonanz.demo.workspace import load_demo
from resonanz.worker.runner import drain


def test_demo_inbox_is_populated_and_idempotent(db: Database) -> None:
    load_demo(db, scale=0.05)
    drain(db, kinds=[ANALYSIS_KIND])
    first = load_cases(db)
    assert first.cases > 0 and first.created_now == first.cases
    with db.sessions() as s:
        statuses = dict(s.execute(select(Case.status, func.count()).group_by(Case.status)).all())
        assert statuses.get("open") == 3 and statuses.get("resolved") == 1
        assert s.scalar(select(func.count()).select_from(CaseNote)) == 1
        assert s.scalar(select(func.count()).where(UserNotification.kind == "mention")) == 1
        assert s.scalar(select(func.count()).where(Case.snoozed_until.is_not(None))) == 1
    again = load_cases(db)
    assert again.cases == first.cases and again.created_now == 0
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(CaseNote)) == 1
