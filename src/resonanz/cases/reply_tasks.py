"""Background jobs of the reply side: sending outbox entries, and a sweep that picks up what a
lost job or a dead worker left behind.

``care.outbox.send`` ``{"outbox_id"}`` makes one try (:func:`resonanz.cases.outbox.send_entry`;
it re-reads the entry and does nothing unless it is due, so a repeated job is harmless).
``care.outbox.sweep`` runs every 30 seconds and tries every entry that is due, including one whose
sender died mid-send (its lease ran out: its outcome is checked, not repeated).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from resonanz.cases.outbox import SEND_KIND, due_entries, send_entry
from resonanz.db.database import Database
from resonanz.worker.periodic import register_periodic
from resonanz.worker.tasks import TaskResult, register_task

SWEEP_KIND = "care.outbox.sweep"


@register_task(SEND_KIND)
def send_outbox_task(db: Database, payload: dict[str, Any]) -> TaskResult:
    outcome = send_entry(db.sessions, outbox_id=int(payload["outbox_id"]), settings=db.settings)
    return {"outbox_id": outcome.outbox_id, "status": outcome.status, "detail": outcome.detail[:300]}


@register_task(SWEEP_KIND)
def sweep_outbox_task(db: Database, payload: dict[str, Any]) -> TaskResult:
    with db.sessions() as session:
        ids = due_entries(session)
    results: dict[str, int] = {}
    for outbox_id in ids:
        status = send_entry(db.sessions, outbox_id=outbox_id, settings=db.settings).status
        results[status] = results.get(status, 0) + 1
    return {"tried": len(ids), **results}


register_periodic(SWEEP_KIND, every=timedelta(seconds=30))
