"""A worker process for the process tests (kill -9, signals, concurrent claims).

    python -m tests.worker.worker_proc DATABASE_URL serve --threads N --lease S --grace G
    python -m tests.worker.worker_proc DATABASE_URL once --lease S
    python -m tests.worker.worker_proc DATABASE_URL claim --go FILE

It registers the test-only job kind ``test.mention``, whose effect is idempotent (it upserts one
mention keyed by platform and external id), and which logs each start and end to
``$WORKER_TEST_DIR/<external_id>.log`` so a test can see how often it ran and wait for it to start.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from resonanz.clock import now
from resonanz.config import Settings
from resonanz.db.database import Database, open_database
from resonanz.db.engine import transaction
from resonanz.mentions.ingest import store_batch
from resonanz.mentions.schemas import MentionIn
from resonanz.worker import queue
from resonanz.worker.runner import drain, run_until_signalled
from resonanz.worker.tasks import TaskResult, register_task

TEST_KIND = "test.mention"


def _log(external_id: str, line: str) -> None:
    path = Path(os.environ["WORKER_TEST_DIR"]) / f"{external_id}.log"
    with path.open("a") as fh:
        fh.write(f"{os.getpid()} {line}\n")


@register_task(TEST_KIND)
def store_mention(db: Database, payload: dict[str, Any]) -> TaskResult:
    """Store a mention (idempotent upsert), then sleep as long as this process was told to."""
    external_id = str(payload["external_id"])
    _log(external_id, "start")
    with transaction(db.sessions) as session:
        mention = MentionIn(platform="test", external_id=external_id, text="from a job", published_at=now())
        store_batch(session, [mention], source_id=None, now=now())
    time.sleep(float(payload.get("sleep", 0)) + float(os.environ.get("WORKER_TEST_EXTRA_SLEEP", "0")))
    _log(external_id, "end")
    return {"external_id": external_id}


def claim_loop(db: Database, go: Path, lease_s: float) -> list[int]:
    """Claim and complete jobs until none is left; every claim is reported on stdout."""
    worker_id = f"claimer-{os.getpid()}"
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.01)
    claimed: list[int] = []
    while True:
        with transaction(db.sessions) as session:
            job = queue.claim(session, worker_id=worker_id, lease_s=lease_s)
        if job is None:
            return claimed
        claimed.append(job.id)
        time.sleep(0.002)  # a little work, so that the claimers interleave
        with transaction(db.sessions) as session:
            assert queue.complete(session, job_id=job.id, worker_id=worker_id)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("mode", choices=["serve", "once", "claim"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--lease", type=float, default=2.0)
    parser.add_argument("--grace", type=float, default=30.0)
    parser.add_argument("--go", type=Path)
    args = parser.parse_args()
    settings = Settings(
        database_url=args.database_url, data_dir=Path(os.environ["WORKER_TEST_DIR"]), periodic_jobs=False
    )
    db = open_database(settings, migrate=False)
    if args.mode == "claim":
        print(json.dumps(claim_loop(db, args.go, args.lease)), flush=True)
        return 0
    if args.mode == "once":
        outcomes = drain(db, lease_s=args.lease)
        print(json.dumps([o.state for o in outcomes]), flush=True)
        return 0
    return run_until_signalled(
        db, threads=args.threads, grace_s=args.grace, lease_s=args.lease, idle_wait_s=0.2, tick_s=0.2
    )


if __name__ == "__main__":
    sys.exit(main())
