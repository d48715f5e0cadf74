"""Live case events: written to ``case_event`` inside the action's transaction, announced after
commit.

Two mechanisms, because a deployment may run many processes:

* **the table** (``case_event``, id only grows) is the source of truth. A live page's stream polls
  "events after id N" about once a second, so a change made by another web process or a worker shows
  up within that second. Nothing is lost across reconnects either: the browser sends the last id it
  saw (``Last-Event-ID``) and the stream resumes there.
* **an in-process bell** rings after a commit that wrote events, so a stream in the same process
  wakes at once instead of at its next poll. Subscribers may also register callbacks (H6/H7 hook in
  here), which run after commit and never inside the writer's transaction.

Events are queued on the session (``session.info``) and delivered by a SQLAlchemy ``after_commit``
listener; a rollback drops them, so nobody ever hears of a change that did not happen.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from resonanz.cases.workflow_models import CaseEvent
from resonanz.clock import now

log = logging.getLogger(__name__)

_PENDING = "resonanz_case_events"


@dataclass(frozen=True)
class LiveEvent:
    """What subscribers hear after commit: the event row's id, its case, kind and data."""

    id: int
    case_id: int
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


Subscriber = Callable[[LiveEvent], None]
_subscribers: list[Subscriber] = []
_bell = threading.Condition()
_generation = 0


def subscribe(callback: Subscriber) -> Callable[[], None]:
    """Call ``callback`` after every commit that wrote a case event; returns an unsubscribe function."""
    _subscribers.append(callback)

    def unsubscribe() -> None:
        if callback in _subscribers:
            _subscribers.remove(callback)

    return unsubscribe


def generation() -> int:
    """A counter that moves whenever this process committed case events (for :func:`wait_for_change`)."""
    return _generation


def wait_for_change(seen: int, timeout: float) -> int:
    """Block up to ``timeout`` seconds until :func:`generation` differs from ``seen``; returns it."""
    with _bell:
        if _generation == seen:
            _bell.wait(timeout)
        return _generation


def record_event(
    session: Session, *, case_id: int, kind: str, actor_id: int | None, data: dict[str, Any] | None = None
) -> CaseEvent:
    """Write one timeline row (flushed, so it has an id) and queue its announcement for after commit."""
    row = CaseEvent(case_id=case_id, at=now(), actor_id=actor_id, kind=kind, data=data or {})
    session.add(row)
    session.flush()
    session.info.setdefault(_PENDING, []).append(LiveEvent(row.id, case_id, kind, dict(row.data)))
    return row


def events_after(
    session: Session, *, after_id: int, case_id: int | None = None, limit: int = 200
) -> Sequence[CaseEvent]:
    """Events with an id above ``after_id`` (of one case, or all), oldest first: the polling feed."""
    stmt = select(CaseEvent).where(CaseEvent.id > after_id)
    if case_id is not None:
        stmt = stmt.where(CaseEvent.case_id == case_id)
    return session.scalars(stmt.order_by(CaseEvent.id).limit(limit)).all()


def last_event_id(session: Session) -> int:
    return int(session.scalar(select(CaseEvent.id).order_by(CaseEvent.id.desc()).limit(1)) or 0)


@event.listens_for(Session, "after_commit")
def _deliver(session: Session) -> None:
    pending: list[LiveEvent] = session.info.pop(_PENDING, [])
    if not pending:
        return
    global _generation
    with _bell:
        _generation += 1
        _bell.notify_all()
    for item in pending:
        for callback in list(_subscribers):
            try:
                callback(item)
            except Exception:  # a subscriber's bug must not break the writer that already committed
                log.exception("case event subscriber failed for event %s", item.id)


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    session.info.pop(_PENDING, None)
