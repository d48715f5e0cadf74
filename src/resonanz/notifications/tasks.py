"""The delivery job: one attempt per run, retried by the worker while the notifier says so.
Imported by ``resonanz.listening.alerts.tasks`` (listed in the worker's feature task modules)."""

from __future__ import annotations

from typing import Any

from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.notifications.actions import DELIVER_KIND, attempt_delivery, raise_if_retry
from resonanz.notifications.models import NotificationDelivery
from resonanz.worker.tasks import TaskResult, register_task


@register_task(DELIVER_KIND)
def deliver_task(db: Database, payload: dict[str, Any]) -> TaskResult:
    delivery_id = int(payload["delivery_id"])
    with transaction(db.sessions) as session:
        result = attempt_delivery(session, delivery_id=delivery_id, settings=db.settings)
        row = session.get(NotificationDelivery, delivery_id)
        state = row.state if row is not None else "gone"
        attempts = row.attempts if row is not None else 0
    if result is None:
        return {"delivery_id": delivery_id, "note": f"not pending ({state}); nothing to do"}
    raise_if_retry(result, state=state)  # after commit: the attempt is recorded either way
    return {"delivery_id": delivery_id, "state": state, "attempts": attempts, "detail": result.detail}
