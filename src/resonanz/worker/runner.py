"""Running jobs: one :class:`Worker` loop per thread, a :class:`WorkerPool` of them, and
:func:`drain` for tests and one-shot commands.

A worker loop: sweep expired leases (now and then), run the scheduler tick (about once a second,
so source intervals can be seconds), claim the next due job, run its handler while a heartbeat
thread extends the lease, then complete or fail it. When nothing is due it waits for a wake-up:
an in-process signal fired after any commit that enqueued a job, and on PostgreSQL also a
``LISTEN resonanz_jobs`` connection that forwards other processes' ``NOTIFY``; the wait is short
either way, because due times (``run_at``, ``next_pull_at``) pass without anybody saying so.

Stopping is cooperative: :meth:`WorkerPool.stop` stops claiming, lets each thread finish its
current job within the grace period, and gives back (releases) the jobs of threads that did not,
so another worker can take them at once instead of waiting for their leases to run out.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any

from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.worker import periodic, queue, scheduler
from resonanz.worker.models import Job, JobState
from resonanz.worker.tasks import TASKS, TaskResult, handler_for, is_retryable, load_feature_tasks

log = logging.getLogger(__name__)

TICK_S = 1.0
IDLE_WAIT_S = 1.0
ERROR_PAUSE_S = 2.0


def worker_identity(name: str | None = None) -> str:
    """``hostname:pid:thread`` — enough to find the process that holds a lease."""
    return f"{socket.gethostname()}:{os.getpid()}:{name or threading.current_thread().name}"


@dataclass(frozen=True)
class JobOutcome:
    """What one attempt of one job came to. ``state`` is the job's state afterwards, or
    ``lost`` when the lease was taken away while the handler ran (its work may be repeated)."""

    job_id: int
    kind: str
    state: str
    attempts: int
    result: TaskResult
    error: str | None
    duration_s: float


class _Heartbeat:
    """Extends a job's lease every third of the lease while the handler runs, and records when
    the lease turned out to be lost (swept after a stall, or cancelled)."""

    def __init__(self, db: Database, *, job_id: int, worker_id: str, lease_s: float) -> None:
        self._db = db
        self._job_id = job_id
        self._worker_id = worker_id
        self._lease_s = lease_s
        self._stop = threading.Event()
        self.lost = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job_id}", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._lease_s / 3):
            try:
                with transaction(self._db.sessions) as session:
                    owned = queue.heartbeat(
                        session, job_id=self._job_id, worker_id=self._worker_id, lease_s=self._lease_s
                    )
            except Exception:  # the database is briefly unavailable: try again next beat
                log.warning("heartbeat for job %s failed", self._job_id, exc_info=True)
                continue
            if not owned:
                log.warning("job %s: lease lost by %s; its result may be repeated", self._job_id, self._worker_id)
                self.lost.set()
                return


def run_job(db: Database, job: Job, *, worker_id: str, lease_s: float) -> JobOutcome:
    """Run one claimed job's handler under a heartbeat and record the outcome.

    ``KeyboardInterrupt``/``SystemExit`` in the handler release the job (not counted as an
    attempt) and propagate.
    """
    job_id, kind, payload, attempts = job.id, job.kind, dict(job.payload or {}), job.attempts
    started = time.monotonic()
    handler = handler_for(kind)
    result: TaskResult = None
    error: str | None = None
    retry = True
    retry_after: float | None = None
    if handler is None:
        error, retry = f"no handler registered for job kind {kind!r}", False
    else:
        with _Heartbeat(db, job_id=job_id, worker_id=worker_id, lease_s=lease_s):
            try:
                result = handler(db, payload)
            except (KeyboardInterrupt, SystemExit):
                with transaction(db.sessions) as session:
                    queue.release(session, job_id=job_id, worker_id=worker_id)
                raise
            except Exception as exc:
                error, retry = f"{type(exc).__name__}: {exc}", is_retryable(exc)
                retry_after = getattr(exc, "retry_after", None)  # a platform's Retry-After
                log.warning("job %s (%s) attempt %s failed: %s", job_id, kind, attempts, error)
    with transaction(db.sessions) as session:
        if error is None:
            state: str | None = (
                JobState.DONE.value if queue.complete(session, job_id=job_id, worker_id=worker_id) else None
            )
        else:
            state = queue.fail(
                session, job_id=job_id, worker_id=worker_id, error=error, retry=retry, retry_after_s=retry_after
            )
    if state is None:
        state = "lost"
        log.warning("job %s (%s) finished after %s lost its lease", job_id, kind, worker_id)
    else:
        log.info("job %s (%s) attempt %s -> %s", job_id, kind, attempts, state)
    return JobOutcome(job_id, kind, state, attempts, result, error, time.monotonic() - started)


class Worker:
    """One worker loop (one thread). ``kinds`` defaults to the registered kinds, so a worker never
    claims a job it has no handler for (another machine with more plugins may have one)."""

    def __init__(
        self,
        db: Database,
        *,
        name: str | None = None,
        lease_s: float | None = None,
        kinds: Sequence[str] | None = None,
        idle_wait_s: float = IDLE_WAIT_S,
        tick_s: float = TICK_S,
        wakeup: queue.Wakeup = queue.WAKEUP,
    ) -> None:
        self.db = db
        self.name = name
        self.worker_id = worker_identity(name)
        self.lease_s = lease_s if lease_s is not None else db.settings.job_lease_s
        self.kinds = list(kinds) if kinds is not None else None
        self.idle_wait_s = idle_wait_s
        self.tick_s = tick_s
        self.sweep_s = max(0.5, self.lease_s / 2)
        self.wakeup = wakeup
        self.stopping = threading.Event()
        self.current_job_id: int | None = None
        self._last_sweep = float("-inf")
        self._last_tick = float("-inf")

    def _kinds(self) -> list[str]:
        load_feature_tasks()
        return self.kinds if self.kinds is not None else list(TASKS)

    def housekeeping(self, *, force: bool = False) -> None:
        """Sweep and tick when they are due (always with ``force``)."""
        clock = time.monotonic()
        if force or clock - self._last_sweep >= self.sweep_s:
            with transaction(self.db.sessions) as session:
                swept = queue.sweep(session)
            self._last_sweep = clock
            if swept:
                log.warning("re-queued %s job(s) whose worker lost its lease", swept)
        if force or clock - self._last_tick >= self.tick_s:
            load_feature_tasks()
            with transaction(self.db.sessions) as session:
                scheduler.tick(session)
                if self.db.settings.periodic_jobs:
                    periodic.tick(session)
            self._last_tick = clock

    def claim_and_run(self) -> JobOutcome | None:
        """Claim one due job and run it; ``None`` when nothing is due."""
        with transaction(self.db.sessions) as session:
            job = queue.claim(session, worker_id=self.worker_id, lease_s=self.lease_s, kinds=self._kinds())
        if job is None:
            return None
        self.current_job_id = job.id
        try:
            return run_job(self.db, job, worker_id=self.worker_id, lease_s=self.lease_s)
        finally:
            self.current_job_id = None

    def run(self) -> None:
        """Loop until :meth:`stop`; errors (a database restart) pause the loop, never end it."""
        self.worker_id = worker_identity(self.name)
        log.info("worker %s started", self.worker_id)
        while not self.stopping.is_set():
            seen = self.wakeup.generation
            try:
                self.housekeeping()
                if self.stopping.is_set():
                    break
                if self.claim_and_run() is not None:
                    continue
            except Exception:
                log.exception("worker %s: loop error; pausing", self.worker_id)
                self.stopping.wait(ERROR_PAUSE_S)
                continue
            self.wakeup.wait(seen, timeout=min(self.idle_wait_s, self.tick_s))
        log.info("worker %s stopped", self.worker_id)

    def stop(self) -> None:
        """Stop claiming; the current job (if any) still finishes."""
        self.stopping.set()
        self.wakeup.notify()

    def release_current(self) -> bool:
        """Give the current job back (used when a stop's grace period ran out)."""
        job_id = self.current_job_id
        if job_id is None:
            return False
        with transaction(self.db.sessions) as session:
            released = queue.release(session, job_id=job_id, worker_id=self.worker_id)
        if released:
            log.warning("released job %s unfinished (shutdown)", job_id)
        return released


class _PgListener:
    """Forwards ``NOTIFY resonanz_jobs`` from other processes to the in-process wake-up, over a
    dedicated autocommit psycopg connection (a pooled connection cannot sit in LISTEN)."""

    def __init__(self, db: Database, wakeup: queue.Wakeup) -> None:
        self._url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._wakeup = wakeup
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="resonanz-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {queue.NOTIFY_CHANNEL}")
                    while not self._stop.is_set():
                        for _note in conn.notifies(timeout=1.0):
                            self._wakeup.notify()
            except Exception:
                log.warning("LISTEN connection failed; polling until it is back", exc_info=True)
                self._stop.wait(ERROR_PAUSE_S)


class WorkerPool:
    """``threads`` worker loops in this process (``resonanz serve`` and ``resonanz worker``)."""

    def __init__(self, db: Database, threads: int = 2, **worker_options: Any) -> None:
        self.db = db
        self.workers = [Worker(db, name=f"worker-{i + 1}", **worker_options) for i in range(threads)]
        self._threads: list[threading.Thread] = []
        self._listener: _PgListener | None = None

    def start(self) -> WorkerPool:
        if not self.workers:
            return self
        if self.db.engine.dialect.name == "postgresql":
            self._listener = _PgListener(self.db, self.workers[0].wakeup)
            self._listener.start()
        for worker in self.workers:
            thread = threading.Thread(target=worker.run, name=worker.name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop claiming, wait up to ``timeout`` seconds for running jobs, release the rest."""
        for worker in self.workers:
            worker.stop()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        for worker, thread in zip(self.workers, self._threads, strict=True):
            if thread.is_alive():
                worker.release_current()
        if self._listener is not None:
            self._listener.stop()

    @property
    def alive(self) -> bool:
        return any(t.is_alive() for t in self._threads)


def drain(
    db: Database,
    *,
    max_jobs: int | None = None,
    kinds: Sequence[str] | None = None,
    on_outcome: Callable[[JobOutcome], None] | None = None,
    lease_s: float | None = None,
) -> list[JobOutcome]:
    """Sweep and tick once, then run due jobs in the calling thread until none is due (or
    ``max_jobs`` ran). The tick runs once only: with second-long intervals a source could become
    due again while the others run, and drain must end."""
    worker = Worker(db, kinds=kinds, lease_s=lease_s)
    worker.housekeeping(force=True)
    outcomes: list[JobOutcome] = []
    while max_jobs is None or len(outcomes) < max_jobs:
        outcome = worker.claim_and_run()
        if outcome is None:
            break
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return outcomes


def run_until_signalled(db: Database, *, threads: int, grace_s: float = 30.0, **worker_options: Any) -> int:
    """Run a pool until SIGINT or SIGTERM, then stop cleanly; returns the exit code (0).

    Must be called from the main thread (Python delivers signals there).
    """
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s; finishing current jobs", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    pool = WorkerPool(db, threads=max(1, threads), **worker_options).start()
    try:
        while not stop.wait(0.5):
            if not pool.alive:
                break
    finally:
        pool.stop(grace_s)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
