"""Changing rules and alerts (audited), and the live evaluation that fires alerts.

Episodes and cooldown: a firing within ``max(cooldown, one bucket)`` of the latest alert's
``episode_end`` belongs to that alert — it is updated (end, bucket count, and the numbers when
this bucket is worse), nobody is notified again. Only a firing after a quiet spell longer than
the cooldown opens a new alert and notifies. So a rule that would fire every minute sends one
message per episode, and at most one per cooldown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.accounts.models import User
from resonanz.audit.actions import Actor, do_record
from resonanz.clock import now
from resonanz.config import Settings
from resonanz.errors import ConflictError, InputError
from resonanz.listening.alerts.evaluate import MAX_CATCH_UP, Firing, bucket_minutes, explain, judge
from resonanz.listening.alerts.message import build_notification
from resonanz.listening.alerts.models import Alert, AlertRule, AlertStatus
from resonanz.listening.alerts.schemas import AlertRuleCreate, AlertRuleUpdate, validate_params
from resonanz.listening.alerts.series import floor_to
from resonanz.listening.alerts.service import get_alert, get_rule, scope_name
from resonanz.listening.models import Brand, Query
from resonanz.notifications.actions import do_queue_delivery
from resonanz.notifications.email import check_address
from resonanz.notifications.models import NotificationChannel
from resonanz.notifications.readers import Readers, group_readers

_FIELDS = ("name", "kind", "query_id", "brand_id", "params", "cooldown_minutes", "enabled", "channel_ids",
           "recipient_user_ids", "recipient_emails")  # fmt: skip


def _snapshot(rule: AlertRule) -> dict[str, Any]:
    return {f: getattr(rule, f) for f in _FIELDS}


def _check_refs(session: Session, rule: AlertRule) -> None:
    if (rule.query_id is None) == (rule.brand_id is None):
        raise InputError("a rule watches exactly one query or one brand", location="query_id")
    if rule.query_id is not None and session.get(Query, rule.query_id) is None:
        raise InputError(f"query {rule.query_id} does not exist", location="query_id")
    if rule.brand_id is not None and session.get(Brand, rule.brand_id) is None:
        raise InputError(f"brand {rule.brand_id} does not exist", location="brand_id")
    for i, cid in enumerate(rule.channel_ids):
        if session.get(NotificationChannel, cid) is None:
            raise InputError(f"notification channel {cid} does not exist", location=f"channel_ids.{i}")
    for i, uid in enumerate(rule.recipient_user_ids):
        if session.get(User, uid) is None:
            raise InputError(f"user {uid} does not exist", location=f"recipient_user_ids.{i}")
    clean = []
    for i, address in enumerate(rule.recipient_emails):
        try:
            clean.append(check_address(address))
        except ValueError as exc:
            raise InputError(str(exc), location=f"recipient_emails.{i}") from None
    rule.recipient_emails = clean
    taken = session.scalar(select(AlertRule.id).where(AlertRule.name == rule.name, AlertRule.id != (rule.id or 0)))
    if taken is not None:
        raise ConflictError(f"an alert rule called {rule.name!r} exists already")


def do_create_rule(session: Session, *, data: AlertRuleCreate, actor: Actor | None) -> AlertRule:
    stamp = now()
    rule = AlertRule(
        name=data.name.strip(),
        kind=data.kind.value,
        query_id=data.query_id,
        brand_id=data.brand_id,
        params=validate_params(data.kind, data.params),
        cooldown_minutes=data.cooldown_minutes,
        enabled=data.enabled,
        channel_ids=list(data.channel_ids),
        recipient_user_ids=list(data.recipient_user_ids),
        recipient_emails=list(data.recipient_emails),
        created_by_id=actor.user_id if actor else None,
        created_at=stamp,
        updated_at=stamp,
    )
    _check_refs(session, rule)
    session.add(rule)
    session.flush()
    do_record(session, actor=actor, action="alert_rule.create", object_type="alert_rule", object_id=rule.id,
              after=_snapshot(rule))  # fmt: skip
    return rule


def do_update_rule(session: Session, *, id: int, data: AlertRuleUpdate, actor: Actor | None) -> AlertRule:
    rule = get_rule(session, id=id)
    before = _snapshot(rule)
    changes = data.model_dump(exclude_unset=True)
    if "params" in changes:
        changes["params"] = validate_params(rule.kind, changes["params"])
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    for key, value in changes.items():
        setattr(rule, key, value)
    _check_refs(session, rule)
    rule.updated_at = now()
    session.flush()
    do_record(session, actor=actor, action="alert_rule.update", object_type="alert_rule", object_id=id,
              before=before, after=_snapshot(rule))  # fmt: skip
    return rule


def do_delete_rule(session: Session, *, id: int, actor: Actor | None) -> None:
    rule = get_rule(session, id=id)
    before = _snapshot(rule)
    session.delete(rule)
    session.flush()
    do_record(session, actor=actor, action="alert_rule.delete", object_type="alert_rule", object_id=id, before=before)


def do_acknowledge_alert(session: Session, *, id: int, actor: Actor | None) -> Alert:
    alert = get_alert(session, id=id)
    if alert.status == AlertStatus.resolved:
        raise ConflictError("the alert is resolved already")
    if alert.status == AlertStatus.open:
        alert.status = AlertStatus.acknowledged
        alert.acknowledged_at = now()
        alert.acknowledged_by_id = actor.user_id if actor else None
        session.flush()
        do_record(session, actor=actor, action="alert.acknowledge", object_type="alert", object_id=id,
                  before={"status": "open"}, after={"status": alert.status})  # fmt: skip
    return alert


def do_resolve_alert(session: Session, *, id: int, note: str | None = None, actor: Actor | None) -> Alert:
    alert = get_alert(session, id=id)
    if alert.status != AlertStatus.resolved:
        before = alert.status
        alert.status = AlertStatus.resolved
        alert.resolved_at = now()
        if alert.acknowledged_at is None:
            alert.acknowledged_at, alert.acknowledged_by_id = alert.resolved_at, actor.user_id if actor else None
        alert.note = (note or "").strip()[:2000] or alert.note
        session.flush()
        do_record(session, actor=actor, action="alert.resolve", object_type="alert", object_id=id,
                  before={"status": before}, after={"status": alert.status, "note": alert.note})  # fmt: skip
    return alert


@dataclass
class Evaluation:
    rule_id: int
    buckets: int = 0
    fired: list[int] = field(default_factory=list)  # new alerts
    updated: list[int] = field(default_factory=list)  # ongoing episodes


def evaluate_rule(session: Session, *, rule: AlertRule, at: datetime, settings: Settings) -> Evaluation:
    """Judge the rule's closed buckets not judged yet (idempotent: ``evaluated_until`` moves on)."""
    minutes = bucket_minutes(rule)
    step = timedelta(minutes=minutes)
    end = floor_to(at, minutes)
    start = rule.evaluated_until or end - step
    start = max(start, end - MAX_CATCH_UP)
    result = Evaluation(rule.id)
    if start >= end:
        return result
    firings, _ = judge(session, rule, start=start, end=end)
    result.buckets = int((end - start) / step)
    for firing in firings:
        alert, new = _record_firing(session, rule, firing, step)
        (result.fired if new else result.updated).append(alert.id)
        if new:
            _notify(session, rule, alert, settings)
    rule.evaluated_until = end
    session.flush()
    return result


def _record_firing(session: Session, rule: AlertRule, firing: Firing, step: timedelta) -> tuple[Alert, bool]:
    window = max(timedelta(minutes=rule.cooldown_minutes), step)
    latest = session.scalars(
        select(Alert).where(Alert.rule_id == rule.id).order_by(Alert.episode_end.desc()).limit(1)
    ).first()
    stamp = now()
    if latest is not None and firing.at - latest.episode_end <= window:
        latest.episode_end = max(latest.episode_end, firing.at)
        latest.buckets += 1
        latest.updated_at = stamp
        if firing.finding.score > latest.score:
            latest.observed, latest.baseline = firing.finding.observed, firing.finding.baseline
            latest.score = firing.finding.score
            latest.explanation = explain(session, rule, firing)
        session.flush()
        return latest, False
    explanation = explain(session, rule, firing)
    scope = scope_name(session, rule)
    alert = Alert(
        rule_id=rule.id,
        kind=rule.kind,
        status=AlertStatus.open,
        title=scope[:1000],  # the facts only: readers get the words in their language (wording.py)
        episode_start=firing.at,
        episode_end=firing.at,
        fired_at=stamp,
        updated_at=stamp,
        observed=firing.finding.observed,
        baseline=firing.finding.baseline,
        score=firing.finding.score,
        buckets=1,
        explanation=explanation,
    )
    session.add(alert)
    session.flush()
    do_record(session, actor=None, action="alert.fire", object_type="alert", object_id=alert.id,
              after={"rule_id": rule.id, "observed": alert.observed, "baseline": alert.baseline})  # fmt: skip
    return alert, True


def recipients(session: Session, rule: AlertRule, settings: Settings) -> list[Readers]:
    """The rule's chosen (active) users, grouped by their language and zone, and its extra
    addresses, which read the settings' ``notification_language`` / ``notification_time_zone``."""
    return group_readers(
        session,
        user_ids=rule.recipient_user_ids,
        emails=rule.recipient_emails,
        language=settings.notification_language,
        time_zone=settings.notification_time_zone,
    )


def _notify(session: Session, rule: AlertRule, alert: Alert, settings: Settings) -> None:
    """One e-mail per language and zone among the recipients, one message per channel in the
    channel's language (or the settings' default)."""
    scope = scope_name(session, rule)
    for readers in recipients(session, rule, settings):
        message = build_notification(settings, alert, rule_name=rule.name, scope=scope, to=readers.to,
                                     language=readers.language, time_zone=readers.time_zone)  # fmt: skip
        do_queue_delivery(session, message=message, kind="email", ref_type="alert", ref_id=alert.id)
    for channel_id in rule.channel_ids:
        channel = session.get(NotificationChannel, channel_id)
        if channel is None:
            continue  # deleted since the rule was saved
        config = channel.config or {}
        message = build_notification(settings, alert, rule_name=rule.name, scope=scope,
                                     language=config.get("language"), time_zone=config.get("time_zone"))  # fmt: skip
        do_queue_delivery(session, message=message, channel_id=channel_id, ref_type="alert", ref_id=alert.id)


def evaluate_all(session: Session, *, at: datetime, settings: Settings) -> list[Evaluation]:
    """Every enabled rule, in id order (the periodic job, and ``resonanz alerts evaluate``)."""
    rules = session.scalars(select(AlertRule).where(AlertRule.enabled.is_(True)).order_by(AlertRule.id))
    return [evaluate_rule(session, rule=rule, at=at, settings=settings) for rule in rules]
