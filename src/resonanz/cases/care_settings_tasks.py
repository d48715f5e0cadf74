"""The background job of the care settings: ``care.csat.send`` ``{"case_id", "resolved_at"}`` sends
the CSAT link of one resolution (:func:`resonanz.cases.csat.do_dispatch`; it re-reads the case and
writes one row per resolution, so a repeated job is harmless). Its own transaction, so the resolve
that enqueued it never waits on the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from resonanz.cases.csat import SEND_KIND, do_dispatch
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.worker.tasks import TaskResult, register_task


@register_task(SEND_KIND)
def send_csat_task(db: Database, payload: dict[str, Any]) -> TaskResult:
    resolved_at = datetime.fromisoformat(str(payload["resolved_at"]))
    with transaction(db.sessions) as session:
        dispatch = do_dispatch(
            session, case_id=int(payload["case_id"]), resolved_at=resolved_at, base_url=db.settings.public_url
        )
        return {"dispatch_id": dispatch.id, "status": dispatch.status, "reason": (dispatch.reason or "")[:300]}
