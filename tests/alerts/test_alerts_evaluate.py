"""Live evaluation on a real database: a spike fires once with its explanation and deliveries,
repeated ticks are idempotent, an ongoing episode updates the alert, event rules fire."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.listening.alerts.actions import do_acknowledge_alert, do_create_rule, do_resolve_alert, evaluate_rule
from resonanz.listening.alerts.backtest import run_backtest
from resonanz.listening.alerts.models import Alert, AlertRule, AlertStatus
from resonanz.listening.alerts.schemas import AlertRuleCreate
from resonanz.notifications.actions import do_create_channel
from resonanz.notifications.models import NotificationDelivery
from resonanz.worker.models import Job

from .alerts_factory import SPIKE, T0, add_mentions, make_author, spike_history

H = timedelta(hours=1)


def test_spike_fires_once_with_explanation_and_deliveries(session: Session, settings: Settings) -> None:
    query = spike_history(session)
    channel = do_create_channel(
        session, name="ops hook", kind="webhook", config={"url": "http://127.0.0.1:9/h"}, actor=None
    )
    rule = do_create_rule(
        session,
        data=AlertRuleCreate(
            name="spike",
            kind="volume_spike",
            query_id=query.id,
            channel_ids=[channel.id],
            recipient_emails=["ops@example.test"],
        ),
        actor=None,
    )
    rule.evaluated_until = SPIKE - 3 * H
    result = evaluate_rule(session, rule=rule, at=SPIKE + H + timedelta(minutes=1), settings=settings)
    assert result.buckets == 4 and len(result.fired) == 1 and not result.updated
    alert = session.get(Alert, result.fired[0])
    assert alert is not None and alert.status == AlertStatus.open
    assert alert.observed == 60 and alert.baseline == 2 and alert.episode_start == SPIKE
    exp = alert.explanation
    terms = [t["term"] for t in exp["top_terms"]]
    assert "zugausfall" in terms and "#nordwelledown" in terms and "tarif" not in terms
    assert len(exp["samples"]) == 5 and all("snippet" in s and s["id"] for s in exp["samples"])
    deliveries = session.scalars(select(NotificationDelivery).order_by(NotificationDelivery.id)).all()
    assert [(d.kind, d.ref_id) for d in deliveries] == [("email", alert.id), ("webhook", alert.id)]
    assert deliveries[0].message["to"] == ["ops@example.test"]
    assert session.scalar(select(Job.id).where(Job.kind == "notifications.deliver")) is not None

    # the same minute again: nothing left to judge
    again = evaluate_rule(session, rule=rule, at=SPIKE + H + timedelta(minutes=2), settings=settings)
    assert again.buckets == 0 and not again.fired
    # the spike goes on the next hour: the episode's alert is updated, nobody is told again
    add_mentions(session, query, [SPIKE + H + timedelta(seconds=30 * i) for i in range(90)], text="nordwelle chaos")
    later = evaluate_rule(session, rule=rule, at=SPIKE + 2 * H, settings=settings)
    assert later.updated == [alert.id] and not later.fired
    session.refresh(alert)
    assert alert.buckets == 2 and alert.observed == 90 and alert.episode_end == SPIKE + H
    assert len(session.scalars(select(NotificationDelivery)).all()) == 2

    do_acknowledge_alert(session, id=alert.id, actor=None)
    assert do_resolve_alert(session, id=alert.id, note="handled", actor=None).status == AlertStatus.resolved


def test_backtest_lists_the_spike_and_nothing_else(session: Session) -> None:
    query = spike_history(session)
    rule = do_create_rule(session, data=AlertRuleCreate(name="bt", kind="volume_spike", query_id=query.id), actor=None)
    report = run_backtest(session, rule=rule, until=SPIKE + 2 * H, days=20)
    assert [e.start for e in report.episodes] == [SPIKE]
    assert report.episodes[0].explanation is not None and len(report.daily) == 21  # partial first and last days
    assert session.scalar(select(Alert.id)) is None  # a backtest writes nothing


def test_keyword_and_new_influencer_rules(session: Session, settings: Settings) -> None:
    query = spike_history(session)
    star = make_author(session, handle="star", followers=250_000)
    regular = make_author(session, handle="regular", followers=300_000)
    add_mentions(session, query, [T0 + H], author_id=regular)  # known to this query for weeks
    at = SPIKE + 2 * H
    add_mentions(session, query, [at + timedelta(minutes=1)], text="nordwelle Rückruf angekündigt", author_id=star)
    add_mentions(session, query, [at + timedelta(minutes=2)], author_id=regular)
    kw = do_create_rule(
        session,
        data=AlertRuleCreate(name="kw", kind="keyword", query_id=query.id, params={"text": "rueckruf OR recall"}),
        actor=None,
    )
    inf = do_create_rule(
        session,
        data=AlertRuleCreate(name="inf", kind="influencer", query_id=query.id, params={"min_followers": 100_000}),
        actor=None,
    )
    for rule in (kw, inf):
        rule.evaluated_until = at
        fired = evaluate_rule(session, rule=rule, at=at + timedelta(minutes=6), settings=settings).fired
        assert len(fired) == 1, rule.kind
        alert = session.get(Alert, fired[0])
        assert alert is not None and alert.observed == 1
        assert [s["author"] for s in alert.explanation["samples"]] == ["star"]


def test_periodic_task_evaluates_each_rule_and_is_registered(db: Database, session: Session) -> None:
    from resonanz.listening.alerts.tasks import EVALUATE_KIND, evaluate_task
    from resonanz.worker.periodic import PERIODIC
    from resonanz.worker.tasks import handler_for

    assert handler_for(EVALUATE_KIND) is evaluate_task and PERIODIC[EVALUATE_KIND].every == timedelta(minutes=1)
    query = spike_history(session)
    for name in ("a", "b"):
        do_create_rule(session, data=AlertRuleCreate(name=name, kind="volume_spike", query_id=query.id), actor=None)
    session.commit()
    result = evaluate_task(db, {})
    assert result == {"rules": 2, "fired": [], "failed": {}}  # "now" is long after the data: quiet
    with db.sessions() as s:
        assert all(r.evaluated_until is not None for r in s.scalars(select(AlertRule)))
