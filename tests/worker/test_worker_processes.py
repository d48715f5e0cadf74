"""Worker processes against a real database: kill -9 mid-job, clean exit on SIGINT/SIGTERM,
concurrent claims by several processes.

On PostgreSQL each test gets a database of its own (other test runs share and truncate the
common one), so what the processes see is only what the test put there.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from resonanz.clock import now
from resonanz.config import Settings
from resonanz.db.database import Database, open_database
from resonanz.db.engine import make_engine, transaction
from resonanz.db.migrate import upgrade
from resonanz.mentions.models import Mention
from resonanz.worker import queue
from resonanz.worker.models import Job
from tests.conftest import PG_URL

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
_counter = itertools.count()


@pytest.fixture
def own_db(settings: Settings, tmp_path: Path) -> Iterator[Database]:
    """A database only this test uses: the fixture's SQLite copy, or a fresh PostgreSQL one."""
    if not PG_URL:
        db = open_database(settings, migrate=False)
        yield db
        db.dispose()
        return
    name = f"resonanz_worker_{os.getpid()}_{next(_counter)}"
    admin = make_engine(Settings(database_url=PG_URL).resolved_database_url).execution_options(
        isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + "/" + name
    own = Settings(data_dir=tmp_path, database_url=url, worker_threads=0, periodic_jobs=False)
    engine = make_engine(own.resolved_database_url)
    upgrade(engine)
    engine.dispose()
    db = open_database(own, migrate=False)
    try:
        yield db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def spawn(db: Database, tmp_path: Path, *args: str, extra_sleep: float = 0.0) -> subprocess.Popen[str]:
    env = {**os.environ, "WORKER_TEST_DIR": str(tmp_path), "WORKER_TEST_EXTRA_SLEEP": str(extra_sleep)}
    url = db.settings.database_url or ""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.worker.worker_proc", url, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def log_lines(tmp_path: Path, external_id: str) -> list[str]:
    path = tmp_path / f"{external_id}.log"
    return [line.split(" ", 1)[1] for line in path.read_text().splitlines()] if path.exists() else []


def enqueue_mention_job(db: Database, external_id: str, *, sleep: float = 0.0) -> int:
    with transaction(db.sessions) as session:
        job_id = queue.enqueue(session, kind="test.mention", payload={"external_id": external_id, "sleep": sleep})
    assert job_id is not None
    return job_id


def job_row(db: Database, job_id: int) -> Job:
    with db.sessions() as session:
        job = session.get(Job, job_id)
        assert job is not None
        session.expunge(job)
        return job


def mentions_with(db: Database, external_id: str) -> int:
    with db.sessions() as session:
        return int(session.scalar(select(func.count()).where(Mention.external_id == external_id)) or 0)


def test_kill_9_mid_job_runs_again_and_duplicates_nothing(own_db: Database, tmp_path: Path) -> None:
    job_id = enqueue_mention_job(own_db, "k9")
    victim = spawn(own_db, tmp_path, "serve", "--lease", "1", extra_sleep=60)
    try:
        wait_for(lambda: log_lines(tmp_path, "k9") == ["start"], what="the job to start")
        wait_for(lambda: mentions_with(own_db, "k9") == 1, what="the job's first effect")
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(10) == -signal.SIGKILL
    finally:
        victim.kill()
        victim.communicate()
    dead = job_row(own_db, job_id)
    assert (dead.state, dead.attempts) == ("running", 1) and dead.lease_expires_at is not None
    # The lease runs out a second after the last heartbeat; then any worker's sweep re-queues it.
    expires = dead.lease_expires_at
    wait_for(lambda: now() > expires, what="lease expiry")

    rescuer = spawn(own_db, tmp_path, "once", "--lease", "1")
    out, err = rescuer.communicate(timeout=60)
    assert rescuer.returncode == 0, err
    assert json.loads(out.splitlines()[-1]) == ["done"]

    job = job_row(own_db, job_id)
    assert (job.state, job.attempts, job.lease_owner) == ("done", 2, None)
    assert log_lines(tmp_path, "k9") == ["start", "start", "end"]
    assert mentions_with(own_db, "k9") == 1


@pytest.mark.parametrize(
    ("signum", "grace", "extra_sleep", "expected"),
    [
        (signal.SIGTERM, 30.0, 0.0, "done"),
        (signal.SIGINT, 30.0, 0.0, "done"),
        (signal.SIGTERM, 0.3, 60.0, "pending"),  # grace ran out: the job is released, not lost
    ],
    ids=["sigterm-finishes", "sigint-finishes", "sigterm-grace-over-releases"],
)
def test_signal_exits_cleanly(
    own_db: Database, tmp_path: Path, signum: int, grace: float, extra_sleep: float, expected: str
) -> None:
    first = enqueue_mention_job(own_db, "sig", sleep=1.0)
    proc = spawn(own_db, tmp_path, "serve", "--lease", "2", "--grace", str(grace), extra_sleep=extra_sleep)
    try:
        wait_for(lambda: log_lines(tmp_path, "sig") == ["start"], what="the job to start")
        second = enqueue_mention_job(own_db, "after-signal")
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    job = job_row(own_db, first)
    assert job.state == expected and job.lease_owner is None
    if expected == "done":
        assert log_lines(tmp_path, "sig") == ["start", "end"] and job.attempts == 1
    else:
        assert log_lines(tmp_path, "sig") == ["start"] and job.attempts == 0  # the attempt is not counted
    # Once the signal arrived the worker claimed nothing new.
    assert job_row(own_db, second).state == "pending" and log_lines(tmp_path, "after-signal") == []


def test_concurrent_claims_by_several_processes(own_db: Database, tmp_path: Path) -> None:
    with transaction(own_db.sessions) as session:
        enqueued = [queue.enqueue(session, kind="test.noop", payload={"n": n}) for n in range(200)]
    ids = [job_id for job_id in enqueued if job_id is not None]
    assert len(ids) == 200
    go = tmp_path / "go"
    procs = [spawn(own_db, tmp_path, "claim", "--go", str(go), "--lease", "30") for _ in range(4)]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        go.touch()
        results = [proc.communicate(timeout=120) for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in results]
    claimed = [json.loads(out.strip().splitlines()[-1]) for out, _ in results]
    everything = [job_id for part in claimed for job_id in part]
    assert sorted(everything) == sorted(ids)  # every job claimed, none twice
    assert sum(1 for part in claimed if part) >= 2  # the processes really did run side by side
    with own_db.sessions() as session:
        states = session.execute(select(Job.state, Job.attempts, func.count()).group_by(Job.state, Job.attempts))
        assert [tuple(r) for r in states] == [("done", 1, 200)]
