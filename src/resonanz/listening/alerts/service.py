"""Reading rules and alerts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resonanz.errors import NotFoundError
from resonanz.i18n import cli_locale
from resonanz.listening.alerts.models import Alert, AlertRule, AlertStatus
from resonanz.listening.alerts.wording import summary as worded
from resonanz.listening.alerts.wording import wording
from resonanz.listening.models import Brand, Query


def get_rule(session: Session, *, id: int) -> AlertRule:
    rule = session.get(AlertRule, id)
    if rule is None:
        raise NotFoundError(f"alert rule {id} does not exist")
    return rule


def list_rules(session: Session, *, enabled: bool | None = None) -> list[AlertRule]:
    stmt = select(AlertRule).order_by(AlertRule.name)
    if enabled is not None:
        stmt = stmt.where(AlertRule.enabled.is_(enabled))
    return list(session.scalars(stmt))


def get_alert(session: Session, *, id: int) -> Alert:
    alert = session.get(Alert, id)
    if alert is None:
        raise NotFoundError(f"alert {id} does not exist")
    return alert


def list_alerts(
    session: Session,
    *,
    status: str | None = None,
    rule_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Alert]:
    stmt = select(Alert).order_by(Alert.fired_at.desc(), Alert.id.desc()).limit(limit).offset(offset)
    if status is not None:
        stmt = stmt.where(Alert.status == status)
    if rule_id is not None:
        stmt = stmt.where(Alert.rule_id == rule_id)
    return list(session.scalars(stmt))


def count_alerts(session: Session, *, status: str | None = None, rule_id: int | None = None) -> int:
    stmt = select(func.count()).select_from(Alert)
    if status is not None:
        stmt = stmt.where(Alert.status == status)
    if rule_id is not None:
        stmt = stmt.where(Alert.rule_id == rule_id)
    return int(session.scalar(stmt) or 0)


def count_open(session: Session) -> int:
    return count_alerts(session, status=AlertStatus.open)


def scope_name(session: Session, rule: AlertRule) -> str:
    if rule.query_id is not None:
        query = session.get(Query, rule.query_id)
        return query.name if query else f"query {rule.query_id}"
    if rule.brand_id is not None:
        brand = session.get(Brand, rule.brand_id)
        return brand.name if brand else f"brand {rule.brand_id}"
    return "—"


def summary(kind: str, explanation: dict[str, Any]) -> str:
    """The alert's sentence in the command line's language (pages and messages word it for
    their own reader through :mod:`resonanz.listening.alerts.wording`)."""
    return worded(kind, explanation, wording(cli_locale()))
