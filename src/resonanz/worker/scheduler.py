"""The scheduler tick: turn due sources into ``source.pull`` jobs, exactly once per due time.

There is no scheduler process. Every worker runs :func:`tick` now and then; a due source is
claimed with a conditional update (``… SET next_pull_at = now + interval WHERE id = :id AND
next_pull_at = :seen``) and its job is enqueued in the same transaction only when that update hit
the row. Two workers that saw the same due time race on the update; the database lets exactly one
of them change the row, so the pull is enqueued once, and any worker can die without the
schedule stopping. The next time counts from *now*, not from the missed due time, so a machine
that was off for a day pulls each source once, not once per missed interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from resonanz.clock import now as clock_now
from resonanz.sources.models import Source
from resonanz.worker.queue import enqueue

PULL_KIND = "source.pull"
TICK_BATCH = 200


def pull_dedupe_key(source_id: int) -> str:
    return f"{PULL_KIND}:{source_id}"


@dataclass(frozen=True)
class Scheduled:
    """One source this tick claimed; ``job_id`` is ``None`` when a pull of it was still waiting
    or running (the dedupe key made the enqueue a no-op)."""

    source_id: int
    job_id: int | None


def tick(session: Session, *, limit: int = TICK_BATCH) -> list[Scheduled]:
    """Claim the due, enabled sources and enqueue their pulls, in the caller's transaction.

    Rows are visited in id order so that concurrent ticks on PostgreSQL lock them in the same
    order and cannot deadlock.
    """
    stamp = clock_now()
    due = session.execute(
        select(Source.id, Source.next_pull_at, Source.interval_s)
        .where(Source.enabled.is_(True), Source.next_pull_at.is_not(None), Source.next_pull_at <= stamp)
        .order_by(Source.id)
        .limit(limit)
    ).all()
    scheduled: list[Scheduled] = []
    for source_id, seen, interval_s in due:
        result = session.execute(
            update(Source)
            .where(Source.id == source_id, Source.enabled.is_(True), Source.next_pull_at == seen)
            .values(next_pull_at=stamp + timedelta(seconds=max(1, interval_s)))
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            continue  # another worker claimed this due time first
        job_id = enqueue(
            session, kind=PULL_KIND, payload={"source_id": source_id}, dedupe_key=pull_dedupe_key(source_id)
        )
        scheduled.append(Scheduled(source_id=source_id, job_id=job_id))
    return scheduled
