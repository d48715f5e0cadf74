"""The scheduler tick: due sources become pulls exactly once, however many workers tick."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from resonanz.clock import now, set_clock
from resonanz.connectors.base import PullResult
from resonanz.db.database import Database, open_database
from resonanz.db.engine import transaction
from resonanz.sources.models import IngestRun, Source, SourceHealth
from resonanz.worker import queue, scheduler
from resonanz.worker.models import Job
from resonanz.worker.runner import WorkerPool
from tests.sources.fake_connector import FakeConnector, fake_connector_registered, raw


@pytest.fixture
def fake() -> Iterator[type[FakeConnector]]:
    with fake_connector_registered() as cls:
        yield cls


def add_source(db: Database, name: str, *, due_in: float | None = 0, enabled: bool = True, interval: int = 3600) -> int:
    with transaction(db.sessions) as session:
        source = Source(
            name=name,
            kind="fake",
            config={"label": name},
            enabled=enabled,
            interval_s=interval,
            next_pull_at=None if due_in is None else now() + timedelta(seconds=due_in),
            cursor={},
            health=SourceHealth.NEW,
            consecutive_failures=0,
            created_at=now(),
        )
        session.add(source)
        session.flush()
        return source.id


def pull_jobs(db: Database) -> list[tuple[int, str]]:
    with db.sessions() as session:
        rows = session.execute(select(Job.payload, Job.state).where(Job.kind == scheduler.PULL_KIND).order_by(Job.id))
        return [(int(payload["source_id"]), state) for payload, state in rows]


def test_tick_enqueues_due_enabled_sources_and_moves_their_schedule(db: Database) -> None:
    due = add_source(db, "due", due_in=-60, interval=300)
    add_source(db, "later", due_in=60)
    add_source(db, "off", due_in=-60, enabled=False)
    add_source(db, "never", due_in=None)
    before = now()
    with transaction(db.sessions) as session:
        scheduled = scheduler.tick(session)
    assert [s.source_id for s in scheduled] == [due] and scheduled[0].job_id is not None
    assert pull_jobs(db) == [(due, "pending")]
    with db.sessions() as session:
        source = session.get(Source, due)
        assert source is not None and source.next_pull_at is not None
        # From now, not from the missed due time: a late machine pulls once, not once per interval.
        assert before + timedelta(seconds=300) <= source.next_pull_at <= now() + timedelta(seconds=300)
    with transaction(db.sessions) as session:
        assert scheduler.tick(session) == []
    assert len(pull_jobs(db)) == 1


def test_a_stale_due_time_claims_nothing(db: Database) -> None:
    source_id = add_source(db, "s", due_in=-1)
    with transaction(db.sessions) as session:
        ((_, seen, interval),) = scheduler.due_sources(session)
    with transaction(db.sessions) as session:  # another worker ticks first
        assert [s.source_id for s in scheduler.tick(session)] == [source_id]
    with transaction(db.sessions) as session:
        assert scheduler.claim_due(session, source_id=source_id, seen=seen, interval_s=interval) is None
    assert pull_jobs(db) == [(source_id, "pending")]


def test_a_pull_still_waiting_is_not_enqueued_twice(db: Database) -> None:
    source_id = add_source(db, "slow", due_in=-1, interval=60)
    with transaction(db.sessions) as session:
        scheduler.tick(session)
    later = now() + timedelta(seconds=61)
    set_clock(lambda: later)  # the next due time passes while the first pull still waits
    try:
        with transaction(db.sessions) as session:
            assert scheduler.tick(session) == [scheduler.Scheduled(source_id=source_id, job_id=None)]
    finally:
        set_clock(None)
    assert pull_jobs(db) == [(source_id, "pending")]


def test_several_workers_ticking_one_schedule_enqueue_each_due_pull_once(db: Database) -> None:
    """Six workers, each with its own connections, tick the same schedule at the same time and
    run the pulls they enqueued at once (so the dedupe key cannot hide a second enqueue)."""
    sources = [add_source(db, f"s{i}", due_in=-1) for i in range(30)]
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        own = open_database(db.settings, migrate=False)
        try:
            start.wait()
            for _ in range(5):
                with transaction(own.sessions) as session:
                    scheduler.tick(session)
                while True:
                    with transaction(own.sessions) as session:
                        job = queue.claim(session, worker_id=f"w{n}", lease_s=30)
                    if job is None:
                        break
                    with transaction(own.sessions) as session:
                        queue.complete(session, job_id=job.id, worker_id=f"w{n}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sorted(pull_jobs(db)) == [(s, "done") for s in sources]


def test_worker_pool_runs_each_due_pull_once(db: Database, fake: type[FakeConnector]) -> None:
    sources = [add_source(db, f"feed{i}", due_in=-1) for i in range(8)]
    fake.script.extend(PullResult(items=[raw(i)]) for i in range(len(sources)))
    pool = WorkerPool(db, threads=3, idle_wait_s=0.05, tick_s=0.05, lease_s=10).start()
    try:
        deadline = time.monotonic() + 20
        while [s for _, s in pull_jobs(db)] != ["done"] * len(sources) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # a few more ticks by every worker: nothing may be pulled again
    finally:
        pool.stop(10)
    assert not pool.alive
    with db.sessions() as session:
        runs = session.execute(select(IngestRun.source_id, func.count()).group_by(IngestRun.source_id)).all()
    assert sorted(tuple(r) for r in runs) == [(s, 1) for s in sources]
    assert fake.script == []
