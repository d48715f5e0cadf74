"""Background jobs of routing and SLAs: ``cases.sla_check`` runs every minute and records SLA
warnings and breaches (:func:`resonanz.cases.sla_service.check_slas`, idempotent)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from resonanz.cases.sla_service import check_slas
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.worker.periodic import register_periodic
from resonanz.worker.tasks import TaskResult, register_task

SLA_CHECK = "cases.sla_check"


@register_task(SLA_CHECK)
def sla_check_task(db: Database, payload: dict[str, Any]) -> TaskResult:
    with transaction(db.sessions) as session:
        result = check_slas(session, settings=db.settings)
    return {"warnings": result.warnings, "breaches": result.breaches, "notified": result.notified}


register_periodic(SLA_CHECK, every=timedelta(minutes=1))
