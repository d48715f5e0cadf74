"""Reading rules and alerts, and describing them in words."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resonanz.errors import NotFoundError
from resonanz.listening.alerts.models import Alert, AlertRule, AlertStatus, RuleKind
from resonanz.listening.models import Brand, Query

KIND_TITLES = {
    RuleKind.volume_spike: "Volume spike",
    RuleKind.negative_surge: "Negative-share surge",
    RuleKind.influencer: "New influential author",
    RuleKind.keyword: "Keyword appears",
    RuleKind.crisis: "Crisis score",
}


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
    """One English sentence with the numbers (e-mail, chat, CLI; the web page words it per locale)."""
    observed, baseline = explanation.get("observed", 0), explanation.get("baseline", 0)
    numbers = explanation.get("numbers", {})
    if kind == RuleKind.volume_spike:
        return (
            f"{observed:g} mentions in the hour against a usual {baseline:g} for this hour of the week "
            f"(fires above {explanation.get('threshold', 0):g}: about {numbers.get('k', 3):g} times the usual "
            f"spread of {numbers.get('spread', 0):g})."
        )
    if kind == RuleKind.negative_surge:
        return (
            f"{observed * 100:.0f}% of {numbers.get('volume', 0)} mentions were negative against a usual "
            f"{baseline * 100:.0f}% over the past week."
        )
    if kind == RuleKind.crisis:
        return (
            f"Crisis score {observed:g} (fires at {explanation.get('threshold', 0):g}): "
            f"{numbers.get('volume', 0)} mentions = {numbers.get('volume_factor', 0):g}x the usual volume, "
            f"{numbers.get('negative_share', 0) * 100:.0f}% negative, reach {numbers.get('reach', 0)}."
        )
    if kind == RuleKind.influencer:
        authors = ", ".join(numbers.get("authors", []))
        return f"{observed:g} author(s) above the follower threshold wrote about this for the first time: {authors}."
    return f"{observed:g} mention(s) matched the watched words."
