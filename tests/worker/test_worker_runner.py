"""The worker loop: handlers, heartbeats, lost leases, wake-ups, pool shutdown, drain."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import update

from resonanz.clock import now
from resonanz.connectors.base import PullResult
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.errors import ConfigError, ConnectorTransientError
from resonanz.sources.models import Source, SourceHealth
from resonanz.worker import queue
from resonanz.worker.models import Job
from resonanz.worker.runner import Worker, WorkerPool, drain
from resonanz.worker.scheduler import PULL_KIND
from resonanz.worker.tasks import TASKS, NonRetryableError, TaskResult, register_task
from tests.conftest import PG_URL
from tests.sources.fake_connector import fake_connector_registered, raw

calls: list[str] = []
gate = threading.Event()


@pytest.fixture(autouse=True)
def test_tasks() -> Iterator[None]:
    """Register this module's job kinds for the test, and only for it."""
    before = dict(TASKS)

    @register_task("test.ok")
    def ok(db: Database, payload: dict[str, Any]) -> TaskResult:
        calls.append(f"ok {payload['n']}")
        return {"n": payload["n"]}

    @register_task("test.flaky")
    def flaky(db: Database, payload: dict[str, Any]) -> TaskResult:
        raise ConnectorTransientError("rate limited", retry_after=90)

    @register_task("test.broken")
    def broken(db: Database, payload: dict[str, Any]) -> TaskResult:
        raise (ConfigError if payload.get("config") else NonRetryableError)("cannot work")

    @register_task("test.slow")
    def slow(db: Database, payload: dict[str, Any]) -> TaskResult:
        time.sleep(payload["sleep"])
        return None

    @register_task("test.stolen")
    def stolen(db: Database, payload: dict[str, Any]) -> TaskResult:
        with transaction(db.sessions) as session:  # another worker takes the job over mid-way
            session.execute(update(Job).where(Job.id == payload["job"]).values(lease_owner="thief"))
        return None

    @register_task("test.gate")
    def wait_for_gate(db: Database, payload: dict[str, Any]) -> TaskResult:
        gate.wait(30)
        return None

    calls.clear()
    gate.clear()
    yield
    gate.set()
    TASKS.clear()
    TASKS.update(before)


def add(db: Database, kind: str, payload: dict[str, Any] | None = None, **options: Any) -> int:
    with transaction(db.sessions) as session:
        job_id = queue.enqueue(session, kind=kind, payload=payload or {}, **options)
    assert job_id is not None
    return job_id


def job(db: Database, job_id: int) -> Job:
    with db.sessions() as session:
        row = session.get(Job, job_id)
        assert row is not None
        session.expunge(row)
        return row


def test_drain_runs_handlers_and_records_outcomes(db: Database) -> None:
    done = [add(db, "test.ok", {"n": n}, priority=n) for n in range(3)]
    flaky = add(db, "test.flaky", priority=10)
    dead = add(db, "test.broken", priority=11)
    config = add(db, "test.broken", {"config": True}, priority=12)
    outcomes = drain(db)
    assert calls == ["ok 0", "ok 1", "ok 2"]
    assert [(o.job_id, o.state) for o in outcomes] == [
        *((j, "done") for j in done),
        (flaky, "pending"),
        (dead, "dead"),
        (config, "dead"),
    ]
    assert outcomes[0].result == {"n": 0}
    assert outcomes[3].error == "ConnectorTransientError: rate limited"
    row = job(db, flaky)
    assert 85 <= (row.run_at - now()).total_seconds() <= 90  # the platform's Retry-After
    assert job(db, dead).last_error == "NonRetryableError: cannot work"


def test_drain_respects_max_jobs_and_leaves_unknown_kinds_alone(db: Database) -> None:
    ghost = add(db, "test.ghost")
    for n in range(3):
        add(db, "test.ok", {"n": n})
    assert len(drain(db, max_jobs=2)) == 2
    assert len(drain(db)) == 1
    assert job(db, ghost).state == "pending"  # no handler here; another machine may have one
    (outcome,) = drain(db, kinds=["test.ghost"])
    assert outcome.state == "dead" and outcome.error == "no handler registered for job kind 'test.ghost'"


def test_heartbeat_keeps_the_lease_of_a_job_longer_than_its_lease(db: Database) -> None:
    job_id = add(db, "test.slow", {"sleep": 1.5})
    swept: list[int] = []
    stop = threading.Event()

    def sweeper() -> None:
        while not stop.wait(0.1):
            with transaction(db.sessions) as session:
                swept.append(queue.sweep(session))

    thread = threading.Thread(target=sweeper)
    thread.start()
    try:
        outcome = Worker(db, lease_s=0.6).claim_and_run()
    finally:
        stop.set()
        thread.join()
    assert outcome is not None and outcome.state == "done" and outcome.duration_s >= 1.5
    assert sum(swept) == 0 and len(swept) > 5
    assert job(db, job_id).attempts == 1


def test_without_heartbeat_a_long_job_would_be_swept(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The control for the test above: the sweeper does take a job whose lease is not extended."""
    monkeypatch.setattr(queue, "heartbeat", lambda *a, **k: True)
    job_id = add(db, "test.slow", {"sleep": 1.0})
    worker = Worker(db, lease_s=0.3)
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(worker.claim_and_run()))
    thread.start()
    time.sleep(0.6)
    with transaction(db.sessions) as session:
        assert queue.sweep(session) == 1
    thread.join()
    assert result[0].state == "lost" and job(db, job_id).state == "pending"


def test_a_lost_lease_is_noticed(db: Database) -> None:
    job_id = add(db, "test.stolen")
    with transaction(db.sessions) as session:
        session.execute(update(Job).where(Job.id == job_id).values(payload={"job": job_id}))
    (outcome,) = drain(db)
    assert outcome.state == "lost"
    row = job(db, job_id)
    assert (row.state, row.lease_owner) == ("running", "thief")  # the thief's to finish


def test_idle_worker_wakes_up_when_a_job_is_committed(db: Database) -> None:
    pool = WorkerPool(db, threads=1, idle_wait_s=30, tick_s=30).start()
    try:
        time.sleep(0.3)  # let the worker go idle (30 s waits if nothing wakes it)
        started = time.monotonic()
        job_id = add(db, "test.ok", {"n": 1})
        while job(db, job_id).state != "done" and time.monotonic() - started < 5:
            time.sleep(0.02)
        assert job(db, job_id).state == "done" and time.monotonic() - started < 2
    finally:
        pool.stop(5)
    assert not pool.alive


@pytest.mark.skipif(not PG_URL, reason="LISTEN/NOTIFY needs PostgreSQL (RESONANZ_TEST_DATABASE_URL)")
def test_idle_worker_wakes_up_on_notify_from_another_process(db: Database) -> None:
    private = queue.Wakeup()  # the in-process signal cannot reach it: only NOTIFY can
    pool = WorkerPool(db, threads=1, idle_wait_s=30, tick_s=30, wakeup=private).start()
    try:
        time.sleep(0.5)
        started = time.monotonic()
        job_id = add(db, "test.ok", {"n": 2})
        while job(db, job_id).state != "done" and time.monotonic() - started < 5:
            time.sleep(0.02)
        assert job(db, job_id).state == "done" and time.monotonic() - started < 2.5
    finally:
        pool.stop(5)


def test_pool_stop_finishes_short_jobs_and_releases_long_ones(db: Database) -> None:
    job_id = add(db, "test.gate")
    pool = WorkerPool(db, threads=2, idle_wait_s=0.05, tick_s=0.05).start()
    try:
        deadline = time.monotonic() + 5
        while job(db, job_id).state != "running" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert job(db, job_id).state == "running"
        started = time.monotonic()
        pool.stop(0.3)
        assert time.monotonic() - started < 2
    finally:
        gate.set()
    row = job(db, job_id)
    assert (row.state, row.attempts, row.lease_owner) == ("pending", 0, None)


def add_source(db: Database, *, enabled: bool = True) -> int:
    with transaction(db.sessions) as session:
        source = Source(
            name=f"src-{enabled}",
            kind="fake",
            config={},
            enabled=enabled,
            interval_s=600,
            next_pull_at=now(),
            cursor={},
            health=SourceHealth.NEW,
            consecutive_failures=0,
            created_at=now(),
        )
        session.add(source)
        session.flush()
        return source.id


def test_source_pull_task_rechecks_the_source(db: Database) -> None:
    with fake_connector_registered() as fake:
        source_id = add_source(db)
        off = add_source(db, enabled=False)
        fake.script.append(PullResult(items=[raw(1), raw(2)]))
        gone = add(db, PULL_KIND, {"source_id": 424242})
        skipped = add(db, PULL_KIND, {"source_id": off})
        outcomes = {o.job_id: o for o in drain(db, kinds=[PULL_KIND])}  # the tick enqueues the due pull
    assert set(outcomes) == {gone, skipped, next(j for j in outcomes if j not in (gone, skipped))}
    assert outcomes[gone].state == "done" and outcomes[gone].result == {
        "source_id": 424242,
        "note": "source no longer exists; nothing to do",
    }
    assert outcomes[skipped].state == "done" and "disabled" in str(outcomes[skipped].result)
    (pulled,) = [o for o in outcomes.values() if o.job_id not in (gone, skipped)]
    assert pulled.state == "done" and pulled.result is not None
    assert (pulled.result["source_id"], pulled.result["new"], pulled.result["status"]) == (source_id, 2, "ok")
