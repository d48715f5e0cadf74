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
from datetime import datetime, timedelta

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


def due_sources(session: Session, *, limit: int = TICK_BATCH) -> list[tuple[int, datetime, int]]:
    """``(id, next_pull_at, interval_s)`` of enabled sources whose pull is due, in id order (so
    concurrent ticks on PostgreSQL lock rows in the same order and cannot deadlock)."""
    rows = session.execute(
        select(Source.id, Source.next_pull_at, Source.interval_s)
        .where(Source.enabled.is_(True), Source.next_pull_at.is_not(None), Source.next_pull_at <= clock_now())
        .order_by(Source.id)
        .limit(limit)
    ).all()
    return [(int(i), seen, int(interval)) for i, seen, interval in rows if seen is not None]


def claim_due(session: Session, *, source_id: int, seen: datetime, interval_s: int) -> Scheduled | None:
    """Move the source's next pull on from ``seen`` and enqueue this one, or return ``None`` when
    ``next_pull_at`` is no longer ``seen`` (another worker claimed this due time first)."""
    result = session.execute(
        update(Source)
        .where(Source.id == source_id, Source.enabled.is_(True), Source.next_pull_at == seen)
        .values(next_pull_at=clock_now() + timedelta(seconds=max(1, interval_s)))
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return None
    job_id = enqueue(session, kind=PULL_KIND, payload={"source_id": source_id}, dedupe_key=pull_dedupe_key(source_id))
    return Scheduled(source_id=source_id, job_id=job_id)


def tick(session: Session, *, limit: int = TICK_BATCH) -> list[Scheduled]:
    """Claim the due, enabled sources and enqueue their pulls, in the caller's transaction."""
    scheduled = []
    for source_id, seen, interval_s in due_sources(session, limit=limit):
        claimed = claim_due(session, source_id=source_id, seen=seen, interval_s=interval_s)
        if claimed is not None:
            scheduled.append(claimed)
    return scheduled
