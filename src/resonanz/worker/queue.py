"""The job queue: enqueue, claim with a lease, heartbeat, complete, fail, sweep, retry, cancel.

Every function runs inside the caller's transaction and never commits, so a job is enqueued in
the same transaction as the data it belongs to, and a claim is only real once its transaction
commits. The state machine::

    pending ──claim──► running ──complete──► done
       ▲                  │ fail (attempts left) / sweep (lease expired) / release
       └──────────────────┘
                          │ fail (no attempts left, or not retryable) / sweep at max attempts
                          ▼
                        dead ──retry──► pending        pending ──cancel──► cancelled ──retry──► pending

Delivery is at-least-once: a worker that dies mid-job leaves a ``running`` row whose lease runs
out; :func:`sweep` puts it back. Handlers therefore re-check the state of the rows they act on.
Every write on a running job is conditional on ``lease_owner``, so a worker whose lease was
taken over cannot complete or fail a job another worker now owns.

Times (due, lease ends) come from :func:`resonanz.clock.now` on the machine that writes them, so
tests can move time; machines that share a database should keep their clocks in sync (NTP), and
leases should be long compared with any skew.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, event, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from resonanz.clock import now as clock_now
from resonanz.db.engine import is_postgres
from resonanz.errors import ConflictError, NotFoundError
from resonanz.worker.models import Job, JobState

NOTIFY_CHANNEL = "resonanz_jobs"
ACTIVE_STATES = (JobState.PENDING, JobState.RUNNING)
# Must match the predicate of the partial index uq_job_dedupe_active, or ON CONFLICT cannot use it.
DEDUPE_INDEX_WHERE = text("state IN ('pending', 'running') AND dedupe_key IS NOT NULL")
DEFAULT_MAX_ATTEMPTS = 5
BACKOFF_BASE_S = 5.0
BACKOFF_CAP_S = 3600.0
ERROR_MAX_CHARS = 4000


class Wakeup:
    """An in-process signal that new work may be there: enqueue fires it after commit, idle
    workers wait on it (with a timeout, since other processes enqueue too).

    A generation counter, not a bare Event: a worker remembers the generation it saw before it
    looked for work, so a notification between its empty claim and its wait is never lost.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._generation = 0

    @property
    def generation(self) -> int:
        with self._cond:
            return self._generation

    def notify(self) -> None:
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def wait(self, seen: int, timeout: float) -> bool:
        """Block until the generation moves past ``seen`` or ``timeout`` passes; True if woken."""
        with self._cond:
            return self._cond.wait_for(lambda: self._generation != seen, timeout=timeout)


WAKEUP = Wakeup()
_SESSION_FLAG = "resonanz_job_enqueued"


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    if session.info.pop(_SESSION_FLAG, False):
        WAKEUP.notify()


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(_SESSION_FLAG, None)


def enqueue(
    session: Session,
    *,
    kind: str,
    payload: dict[str, Any],
    dedupe_key: str | None = None,
    run_at: datetime | None = None,
    priority: int = 100,
    max_attempts: int | None = None,
) -> int | None:
    """Add a job in the caller's transaction; return its id, or ``None`` when ``dedupe_key``
    matched a pending or running job (then nothing is added).

    The dedupe check is the database's partial unique index (``INSERT … ON CONFLICT DO NOTHING``),
    so two transactions racing to enqueue the same key add one job. On PostgreSQL a ``NOTIFY``
    is sent, which the database delivers at commit (and drops on rollback).
    """
    stamp = clock_now()
    values: dict[str, Any] = {
        "kind": kind,
        "payload": payload,
        "dedupe_key": dedupe_key,
        "state": JobState.PENDING.value,
        "priority": priority,
        "run_at": run_at or stamp,
        "attempts": 0,
        "max_attempts": max_attempts or DEFAULT_MAX_ATTEMPTS,
        "created_at": stamp,
    }
    pg = is_postgres(session)
    stmt = (pg_insert if pg else sqlite_insert)(Job).values(**values)
    if dedupe_key is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=[Job.dedupe_key], index_where=DEDUPE_INDEX_WHERE)
    job_id = session.execute(stmt.returning(Job.id)).scalar_one_or_none()
    if job_id is None:
        return None
    if pg:
        session.execute(select(func.pg_notify(NOTIFY_CHANNEL, kind)))
    session.info[_SESSION_FLAG] = True
    return int(job_id)


def claim(session: Session, *, worker_id: str, lease_s: float, kinds: Sequence[str] | None = None) -> Job | None:
    """Take the next due pending job (lowest priority number, then oldest ``run_at``) and lease
    it to ``worker_id`` for ``lease_s`` seconds; ``None`` when nothing is due.

    One statement, ``UPDATE … WHERE id = (SELECT … LIMIT 1) RETURNING``: on PostgreSQL the inner
    select locks with ``FOR UPDATE SKIP LOCKED``, so concurrent workers take different jobs
    without waiting on each other; on SQLite the engine's ``BEGIN IMMEDIATE`` makes the caller the
    only writer, so the select and update cannot interleave with another claim.
    """
    stamp = clock_now()
    pick = (
        select(Job.id)
        .where(Job.state == JobState.PENDING, Job.run_at <= stamp)
        .order_by(Job.priority, Job.run_at, Job.id)
        .limit(1)
    )
    if kinds is not None:
        pick = pick.where(Job.kind.in_(list(kinds)))
    if is_postgres(session):
        pick = pick.with_for_update(skip_locked=True)
    stmt = (
        update(Job)
        .where(Job.id == pick.scalar_subquery(), Job.state == JobState.PENDING)
        .values(
            state=JobState.RUNNING,
            lease_owner=worker_id,
            lease_expires_at=stamp + timedelta(seconds=lease_s),
            attempts=Job.attempts + 1,
        )
        .returning(Job)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return session.scalars(stmt).one_or_none()


def _owned(job_id: int, worker_id: str) -> Any:
    return (Job.id == job_id) & (Job.state == JobState.RUNNING) & (Job.lease_owner == worker_id)


def _write(session: Session, where: Any, **values: Any) -> bool:
    # synchronize_session's default keeps Job objects already in this session up to date.
    result = session.execute(update(Job).where(where).values(**values))
    return bool(getattr(result, "rowcount", 0) == 1)


def heartbeat(session: Session, *, job_id: int, worker_id: str, lease_s: float) -> bool:
    """Extend the lease; False when this worker no longer owns the job (swept, cancelled,
    taken over), which the worker must treat as "my result may not count"."""
    return _write(session, _owned(job_id, worker_id), lease_expires_at=clock_now() + timedelta(seconds=lease_s))


def complete(session: Session, *, job_id: int, worker_id: str) -> bool:
    """Mark the job done; False when the lease was lost (another worker may run it again)."""
    return _write(
        session,
        _owned(job_id, worker_id),
        state=JobState.DONE,
        finished_at=clock_now(),
        lease_owner=None,
        lease_expires_at=None,
        last_error=None,
    )


def backoff_s(attempts: int, *, base: float = BACKOFF_BASE_S, cap: float = BACKOFF_CAP_S) -> float:
    """Delay before attempt ``attempts + 1``: exponential, capped, with ±50 % jitter so that jobs
    that failed together (a platform outage) do not all come back in the same second."""
    exp: float = min(cap, base * 2.0 ** max(0, min(attempts - 1, 30)))
    return exp * (0.5 + random.random())


def fail(
    session: Session,
    *,
    job_id: int,
    worker_id: str,
    error: str,
    retry: bool = True,
    retry_after_s: float | None = None,
) -> str | None:
    """Record a failed attempt. With ``retry`` and attempts left the job goes back to pending
    after a backoff (or ``retry_after_s``); otherwise it is dead-lettered. Returns the new
    state, or ``None`` when the lease was lost (the job is someone else's now)."""
    row = session.execute(select(Job.attempts, Job.max_attempts).where(_owned(job_id, worker_id))).one_or_none()
    if row is None:
        return None
    attempts, max_attempts = row
    stamp = clock_now()
    error = error[:ERROR_MAX_CHARS]
    if retry and attempts < max_attempts:
        delay = retry_after_s if retry_after_s is not None else backoff_s(attempts)
        ok = _write(
            session,
            _owned(job_id, worker_id),
            state=JobState.PENDING,
            run_at=stamp + timedelta(seconds=delay),
            lease_owner=None,
            lease_expires_at=None,
            last_error=error,
        )
        return JobState.PENDING.value if ok else None
    ok = _write(
        session,
        _owned(job_id, worker_id),
        state=JobState.DEAD,
        finished_at=stamp,
        lease_owner=None,
        lease_expires_at=None,
        last_error=error,
    )
    return JobState.DEAD.value if ok else None


def release(session: Session, *, job_id: int, worker_id: str) -> bool:
    """Give a job back unfinished (shutting down): pending again, due now, the attempt not
    counted, so another worker picks it up at once instead of waiting for the lease to run out."""
    return _write(
        session,
        _owned(job_id, worker_id),
        state=JobState.PENDING,
        run_at=clock_now(),
        attempts=Job.attempts - 1,
        lease_owner=None,
        lease_expires_at=None,
    )


def sweep(session: Session) -> int:
    """Re-queue running jobs whose lease ran out (their worker died or hung); a job that has
    used up its attempts this way is dead-lettered, so a job that kills its worker every time
    does not loop forever. Returns how many jobs were swept."""
    stamp = clock_now()
    exhausted = Job.attempts >= Job.max_attempts
    result = session.execute(
        update(Job)
        .where(Job.state == JobState.RUNNING, Job.lease_expires_at < stamp)
        .values(
            state=case((exhausted, JobState.DEAD.value), else_=JobState.PENDING.value),
            finished_at=case((exhausted, stamp), else_=None),
            run_at=stamp,
            last_error=func.coalesce(Job.lease_owner, "?") + " lost its lease (worker died or hung)",
            lease_owner=None,
            lease_expires_at=None,
        )
        .execution_options(synchronize_session="fetch")
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        session.info[_SESSION_FLAG] = True
    return count


def get(session: Session, *, id: int) -> Job:
    job = session.get(Job, id)
    if job is None:
        raise NotFoundError(f"no job with id {id}")
    return job


def list_jobs(
    session: Session, *, state: str | None = None, kind: str | None = None, limit: int = 50, offset: int = 0
) -> list[Job]:
    """Newest first."""
    stmt = select(Job).order_by(Job.id.desc()).limit(limit).offset(offset)
    if state is not None:
        stmt = stmt.where(Job.state == state)
    if kind is not None:
        stmt = stmt.where(Job.kind == kind)
    return list(session.scalars(stmt))


def count_jobs(session: Session) -> dict[str, int]:
    """Jobs per state."""
    rows = session.execute(select(Job.state, func.count()).group_by(Job.state))
    return {str(state): int(n) for state, n in rows}


def retry(session: Session, *, job_id: int) -> Job:
    """Run a dead or cancelled job again with fresh attempts (or make a waiting one due now)."""
    job = get(session, id=job_id)
    if job.state in (JobState.RUNNING, JobState.DONE):
        raise ConflictError(f"job {job_id} is {job.state}; only dead, cancelled or pending jobs can be retried")
    if job.dedupe_key is not None and job.state != JobState.PENDING:
        twin = session.scalar(
            select(Job.id).where(Job.dedupe_key == job.dedupe_key, Job.state.in_(ACTIVE_STATES), Job.id != job.id)
        )
        if twin is not None:
            raise ConflictError(
                f"job {twin} does the same work ({job.dedupe_key}) and is still {_state_of(session, twin)}"
            )
    if job.state != JobState.PENDING:
        job.attempts = 0
        job.finished_at = None
    job.state = JobState.PENDING
    job.run_at = clock_now()
    session.flush()
    session.info[_SESSION_FLAG] = True
    return job


def _state_of(session: Session, job_id: int) -> str:
    return str(session.scalar(select(Job.state).where(Job.id == job_id)))


def cancel(session: Session, *, job_id: int) -> Job:
    """Cancel a pending job. A running one cannot be stopped mid-way (its handler is plain code in
    some worker's thread), and a finished one has nothing left to cancel."""
    job = get(session, id=job_id)
    if job.state != JobState.PENDING:
        raise ConflictError(f"job {job_id} is {job.state}; only pending jobs can be cancelled")
    job.state = JobState.CANCELLED
    job.finished_at = clock_now()
    session.flush()
    return job
