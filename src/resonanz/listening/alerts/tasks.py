"""Background jobs of the alerts feature: ``alerts.evaluate`` every minute (each enabled rule in
its own transaction, so one broken rule does not hold the others back), and the notification
delivery job (imported from the notifications feature, which has no tasks module of its own in
the worker's list)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select

import resonanz.notifications.tasks  # noqa: F401  (registers notifications.deliver)
from resonanz.clock import now
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.listening.alerts.actions import evaluate_rule
from resonanz.listening.alerts.models import AlertRule
from resonanz.worker.periodic import register_periodic
from resonanz.worker.tasks import TaskResult, register_task

log = logging.getLogger(__name__)

EVALUATE_KIND = "alerts.evaluate"


@register_task(EVALUATE_KIND)
def evaluate_task(db: Database, payload: dict[str, Any]) -> TaskResult:
    at = now()
    with db.sessions() as session:
        rule_ids = list(session.scalars(select(AlertRule.id).where(AlertRule.enabled.is_(True)).order_by(AlertRule.id)))
    fired: list[int] = []
    failed: dict[int, str] = {}
    for rule_id in rule_ids:
        try:
            with transaction(db.sessions) as session:
                rule = session.get(AlertRule, rule_id)
                if rule is None or not rule.enabled:
                    continue
                fired += evaluate_rule(session, rule=rule, at=at, settings=db.settings).fired
        except Exception as exc:  # one rule's failure is logged and retried next minute
            log.warning("alert rule %s failed to evaluate", rule_id, exc_info=True)
            failed[rule_id] = f"{type(exc).__name__}: {exc}"[:300]
    return {"rules": len(rule_ids), "fired": fired, "failed": failed}


register_periodic(EVALUATE_KIND, every=timedelta(minutes=1))
