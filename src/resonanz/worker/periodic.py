"""Jobs that run on a fixed interval (alert evaluation, report schedules, SLA checks, snooze
wake-ups), with no scheduler process.

A feature declares ``register_periodic("alerts.evaluate", every=timedelta(minutes=1))`` at import
of its tasks module; every worker's scheduler tick calls :func:`tick`, which makes sure each
declared kind has a ``periodic_task`` row and claims the due ones with a conditional update
(``… SET next_run_at = now + every WHERE kind = :kind AND next_run_at = :seen``) — the same
exactly-once trick as source pulls — and enqueues the job with a dedupe key, so a slow run is not
stacked up behind itself. Handlers must be idempotent: they decide from the current rows what is
left to do, so a missed or repeated tick only moves work a little later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from resonanz.clock import now as clock_now
from resonanz.worker.models import PeriodicTask
from resonanz.worker.queue import enqueue


@dataclass(frozen=True)
class Periodic:
    kind: str
    every: timedelta


PERIODIC: dict[str, Periodic] = {}


def register_periodic(kind: str, *, every: timedelta) -> None:
    """Run jobs of ``kind`` every ``every`` (at least one second); a later call replaces the interval."""
    if every < timedelta(seconds=1):
        raise ValueError(f"periodic job {kind!r}: interval must be at least one second, got {every}")
    PERIODIC[kind] = Periodic(kind=kind, every=every)


def dedupe_key(kind: str) -> str:
    return f"periodic:{kind}"


def _ensure_rows(session: Session) -> None:
    known = set(session.scalars(select(PeriodicTask.kind)))
    stamp = clock_now()
    for periodic in PERIODIC.values():
        if periodic.kind in known:
            continue
        try:
            with session.begin_nested():
                session.add(PeriodicTask(kind=periodic.kind, every_s=_seconds(periodic.every), next_run_at=stamp))
        except IntegrityError:
            pass  # another worker added it first


def _seconds(every: timedelta) -> int:
    return max(1, int(every.total_seconds()))


def tick(session: Session) -> list[str]:
    """Enqueue the due periodic jobs in the caller's transaction; returns the kinds enqueued."""
    if not PERIODIC:
        return []
    _ensure_rows(session)
    stamp = clock_now()
    due = session.execute(
        select(PeriodicTask.kind, PeriodicTask.next_run_at)
        .where(PeriodicTask.kind.in_(list(PERIODIC)), PeriodicTask.next_run_at <= stamp)
        .order_by(PeriodicTask.kind)
    ).all()
    enqueued = []
    for kind, seen in due:
        every = _seconds(PERIODIC[kind].every)
        result = session.execute(
            update(PeriodicTask)
            .where(PeriodicTask.kind == kind, PeriodicTask.next_run_at == seen)
            .values(next_run_at=stamp + timedelta(seconds=every), every_s=every)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            continue  # another worker claimed this due time
        enqueue(session, kind=kind, payload={}, dedupe_key=dedupe_key(kind))
        enqueued.append(kind)
    return enqueued
