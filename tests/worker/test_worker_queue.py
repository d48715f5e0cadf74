"""The job queue on a real database: claim order, dedupe, leases, backoff, dead letters, sweep."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from resonanz.clock import set_clock
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.errors import ConflictError, NotFoundError
from resonanz.worker import queue
from resonanz.worker.models import Job


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.value = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Iterator[Clock]:
    fake = Clock()
    set_clock(fake)
    yield fake
    set_clock(None)


def add(db: Database, kind: str = "k", **options: object) -> int | None:
    with transaction(db.sessions) as session:
        return queue.enqueue(session, kind=kind, payload={"x": 1}, **options)  # type: ignore[arg-type]


def claim(db: Database, worker: str = "w1", lease_s: float = 10, kinds: list[str] | None = None) -> Job | None:
    with transaction(db.sessions) as session:
        return queue.claim(session, worker_id=worker, lease_s=lease_s, kinds=kinds)


def state(db: Database, job_id: int) -> Job:
    with db.sessions() as session:
        job = session.get(Job, job_id)
        assert job is not None
        session.expunge(job)
        return job


def test_claim_order_priority_then_run_at_and_only_due(db: Database, clock: Clock) -> None:
    late = add(db, run_at=clock.value + timedelta(seconds=30))
    low = add(db, priority=200)
    first = add(db, priority=100, run_at=clock.value - timedelta(seconds=5))
    second = add(db, priority=100)
    urgent = add(db, priority=1)
    order = []
    while (job := claim(db)) is not None:
        assert job.state == "running" and job.attempts == 1 and job.lease_owner == "w1"
        assert job.lease_expires_at == clock.value + timedelta(seconds=10)
        order.append(job.id)
    assert order == [urgent, first, second, low]
    clock.advance(30)
    job = claim(db)
    assert job is not None and job.id == late


def test_claim_only_given_kinds(db: Database, clock: Clock) -> None:
    a = add(db, kind="a")
    b = add(db, kind="b")
    job = claim(db, kinds=["b"])
    assert job is not None and job.id == b
    assert claim(db, kinds=["b", "c"]) is None
    job = claim(db)
    assert job is not None and job.id == a


def test_enqueue_belongs_to_callers_transaction(db: Database) -> None:
    with db.sessions() as session, session.begin():
        assert queue.enqueue(session, kind="k", payload={}) is not None
        session.rollback()
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_dedupe_key_while_pending_or_running_only(db: Database, clock: Clock) -> None:
    first = add(db, dedupe_key="pull:1")
    assert first is not None
    assert add(db, dedupe_key="pull:1") is None
    assert add(db, dedupe_key="pull:2") is not None
    job = claim(db)
    assert job is not None and job.id == first
    assert add(db, dedupe_key="pull:1") is None  # still running
    with transaction(db.sessions) as session:
        assert queue.complete(session, job_id=first, worker_id="w1")
    again = add(db, dedupe_key="pull:1")
    assert again is not None and again != first
    with db.sessions() as session:
        assert session.scalar(select(func.count()).where(Job.dedupe_key == "pull:1")) == 2


def test_fail_backs_off_then_dead_letters(db: Database, clock: Clock) -> None:
    job_id = add(db, max_attempts=3)
    assert job_id is not None
    for attempt in (1, 2):
        job = claim(db)
        assert job is not None and job.attempts == attempt
        with transaction(db.sessions) as session:
            assert queue.fail(session, job_id=job_id, worker_id="w1", error=f"boom {attempt}") == "pending"
        row = state(db, job_id)
        delay = (row.run_at - clock.value).total_seconds()
        base = queue.BACKOFF_BASE_S * 2 ** (attempt - 1)
        assert 0.5 * base <= delay <= 1.5 * base
        assert row.last_error == f"boom {attempt}" and row.lease_owner is None
        assert claim(db) is None  # not due before the backoff has passed
        clock.advance(delay)
    assert claim(db) is not None
    with transaction(db.sessions) as session:
        assert queue.fail(session, job_id=job_id, worker_id="w1", error="boom 3") == "dead"
    row = state(db, job_id)
    assert (row.state, row.attempts, row.last_error) == ("dead", 3, "boom 3") and row.finished_at == clock.value
    clock.advance(10_000)
    assert claim(db) is None


def test_fail_without_retry_and_with_retry_after(db: Database, clock: Clock) -> None:
    a, b = add(db), add(db)
    assert a is not None and b is not None
    claim(db, "w1")
    claim(db, "w2")
    with transaction(db.sessions) as session:
        assert queue.fail(session, job_id=a, worker_id="w1", error="bad config", retry=False) == "dead"
        assert queue.fail(session, job_id=b, worker_id="w2", error="429", retry_after_s=120) == "pending"
    assert state(db, b).run_at == clock.value + timedelta(seconds=120)


def test_backoff_grows_is_capped_and_jittered() -> None:
    samples = [queue.backoff_s(3) for _ in range(200)]
    assert min(samples) >= 0.5 * 20 and max(samples) <= 1.5 * 20
    assert len({round(s, 6) for s in samples}) > 100  # jitter spreads retries apart
    assert max(queue.backoff_s(40) for _ in range(50)) <= 1.5 * queue.BACKOFF_CAP_S


def test_heartbeat_extends_only_the_owners_lease(db: Database, clock: Clock) -> None:
    job_id = add(db)
    assert job_id is not None
    claim(db, "w1", lease_s=10)
    clock.advance(8)
    with transaction(db.sessions) as session:
        assert queue.heartbeat(session, job_id=job_id, worker_id="w1", lease_s=10)
        assert not queue.heartbeat(session, job_id=job_id, worker_id="intruder", lease_s=10)
    assert state(db, job_id).lease_expires_at == clock.value + timedelta(seconds=10)
    clock.advance(8)  # 16 s after the claim: without the heartbeat this lease would have run out
    with transaction(db.sessions) as session:
        assert queue.sweep(session) == 0
    assert state(db, job_id).state == "running"


def test_sweep_requeues_expired_lease_and_old_owner_cannot_finish(db: Database, clock: Clock) -> None:
    job_id = add(db)
    assert job_id is not None
    claim(db, "dead-worker", lease_s=5)
    clock.advance(5)
    with transaction(db.sessions) as session:
        assert queue.sweep(session) == 0  # expires *after* the lease end, not at it
    clock.advance(0.001)
    with transaction(db.sessions) as session:
        assert queue.sweep(session) == 1
    row = state(db, job_id)
    assert (row.state, row.lease_owner, row.attempts) == ("pending", None, 1)
    assert row.last_error is not None and "dead-worker lost its lease" in row.last_error
    job = claim(db, "w2")
    assert job is not None and job.id == job_id and job.attempts == 2
    with transaction(db.sessions) as session:
        # The first worker comes back to life: it can neither extend, complete nor fail the job.
        assert not queue.heartbeat(session, job_id=job_id, worker_id="dead-worker", lease_s=5)
        assert not queue.complete(session, job_id=job_id, worker_id="dead-worker")
        assert queue.fail(session, job_id=job_id, worker_id="dead-worker", error="x") is None
        assert queue.complete(session, job_id=job_id, worker_id="w2")
    assert state(db, job_id).state == "done"


def test_sweep_dead_letters_a_job_that_keeps_killing_its_worker(db: Database, clock: Clock) -> None:
    job_id = add(db, max_attempts=2)
    assert job_id is not None
    for _ in range(2):
        assert claim(db, lease_s=1) is not None
        clock.advance(2)
        with transaction(db.sessions) as session:
            assert queue.sweep(session) == 1
    row = state(db, job_id)
    assert (row.state, row.attempts) == ("dead", 2) and row.finished_at == clock.value


def test_release_gives_the_job_back_without_counting_the_attempt(db: Database, clock: Clock) -> None:
    job_id = add(db)
    assert job_id is not None
    claim(db, "w1")
    with transaction(db.sessions) as session:
        assert not queue.release(session, job_id=job_id, worker_id="w2")
        assert queue.release(session, job_id=job_id, worker_id="w1")
    row = state(db, job_id)
    assert (row.state, row.attempts, row.lease_owner) == ("pending", 0, None)


def test_retry_and_cancel_follow_the_state_machine(db: Database, clock: Clock) -> None:
    dead = add(db, max_attempts=1, dedupe_key="d")
    waiting = add(db, run_at=clock.value + timedelta(hours=1))
    assert dead is not None and waiting is not None
    claim(db)
    with transaction(db.sessions) as session:
        queue.fail(session, job_id=dead, worker_id="w1", error="boom")
        with pytest.raises(ConflictError, match="only pending"):
            queue.cancel(session, job_id=dead)
        with pytest.raises(NotFoundError):
            queue.retry(session, job_id=9999)
        assert queue.cancel(session, job_id=waiting).state == "cancelled"
        # A twin with the same dedupe key is waiting: reviving the dead one would do the work twice.
        twin = queue.enqueue(session, kind="k", payload={}, dedupe_key="d")
        with pytest.raises(ConflictError, match=f"job {twin}"):
            queue.retry(session, job_id=dead)
        queue.cancel(session, job_id=twin)  # type: ignore[arg-type]
        revived = queue.retry(session, job_id=dead)
        assert (revived.state, revived.attempts, revived.run_at) == ("pending", 0, clock.value)
        assert queue.retry(session, job_id=waiting).state == "pending"
    job = claim(db)
    assert job is not None and job.id == dead
    with transaction(db.sessions) as session:
        with pytest.raises(ConflictError, match="running"):
            queue.retry(session, job_id=dead)
        with pytest.raises(ConflictError, match="running"):
            queue.cancel(session, job_id=dead)


def test_list_and_count_jobs(db: Database, clock: Clock) -> None:
    ids = [add(db, kind="a"), add(db, kind="b"), add(db, kind="a")]
    claim(db, kinds=["b"])
    with db.sessions() as session:
        assert [j.id for j in queue.list_jobs(session)] == ids[::-1]
        assert [j.id for j in queue.list_jobs(session, kind="a", limit=1)] == [ids[2]]
        assert [j.id for j in queue.list_jobs(session, state="running")] == [ids[1]]
        assert queue.count_jobs(session) == {"pending": 2, "running": 1}
