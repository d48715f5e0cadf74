"""Built-in plugin of the inbox: after a batch is analysed and matched, queue case intake.

Intake reads several tables per mention (threads, earlier cases, query brands) and may route new
cases, which is more than the analysis transaction should carry; so the hook only enqueues a
``cases.intake`` job with the batch's ids, in the same transaction (the job exists exactly when the
analysis results do). The job decides and is idempotent (:mod:`resonanz.cases.intake`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from resonanz.hookspecs import hookimpl
from resonanz.worker.queue import enqueue

INTAKE_KIND = "cases.intake"
#: ids per job: one job per analysis batch normally; a huge batch is split
IDS_PER_JOB = 2_000


@hookimpl
def mentions_matched(session: Session, mention_ids: Sequence[int]) -> None:
    """Enqueue intake for the batch (never commits; the analysis transaction does)."""
    ids = sorted(set(mention_ids))
    for start in range(0, len(ids), IDS_PER_JOB):
        enqueue(session, kind=INTAKE_KIND, payload={"mention_ids": ids[start : start + IDS_PER_JOB]}, priority=50)
