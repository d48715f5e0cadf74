"""Periodic jobs: each due time enqueues one job, however many ticks race for it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from resonanz import clock
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.worker import periodic
from resonanz.worker.models import Job, PeriodicTask

KIND = "test.periodic"


@pytest.fixture
def registered() -> Iterator[None]:
    saved = dict(periodic.PERIODIC)
    periodic.PERIODIC.clear()
    periodic.register_periodic(KIND, every=timedelta(minutes=5))
    yield
    periodic.PERIODIC.clear()
    periodic.PERIODIC.update(saved)


def _jobs(db: Database) -> int:
    with transaction(db.sessions) as session:
        return int(session.scalar(select(func.count()).select_from(Job).where(Job.kind == KIND)) or 0)


def test_a_due_kind_is_enqueued_once_per_interval(
    db: Database, registered: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    monkeypatch.setattr(clock, "now", lambda: start)
    monkeypatch.setattr(periodic, "clock_now", lambda: start)
    with transaction(db.sessions) as session:
        assert periodic.tick(session) == [KIND]
    with transaction(db.sessions) as session:
        assert periodic.tick(session) == []  # not due again yet
    assert _jobs(db) == 1
    later = start + timedelta(minutes=5)
    monkeypatch.setattr(periodic, "clock_now", lambda: later)
    with transaction(db.sessions) as session:
        periodic.tick(session)
        row = session.get(PeriodicTask, KIND)
        assert row is not None and row.next_run_at == later + timedelta(minutes=5)
    # the first job is still pending: the dedupe key keeps a slow run from stacking up
    assert _jobs(db) == 1


def test_a_sub_second_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one second"):
        periodic.register_periodic("x", every=timedelta(milliseconds=10))
