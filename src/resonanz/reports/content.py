"""What a report says: the numbers of its period against the period before, gathered once and
rendered twice (PDF and e-mail digest).

The numbers come from the dashboards' own functions (:func:`resonanz.listening.analytics.dashboard`
and friends), so a report never disagrees with the dashboard for the same scope and range. Only
the notable posts and the alerts of the period are read here, because dashboards do not show them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, desc, literal_column, select
from sqlalchemy.orm import Session

from resonanz.db.engine import is_postgres
from resonanz.listening import analytics
from resonanz.listening.analytics_schemas import Dashboard, Interval, Scope, ShareOfVoice
from resonanz.listening.models import Query, QueryMatch
from resonanz.mentions.explorer_plan import ENGAGEMENT_POSTGRESQL, ENGAGEMENT_SQLITE
from resonanz.mentions.models import Author, Mention
from resonanz.reports.models import ReportDefinition
from resonanz.reports.schedule import Period, Window, previous, window_from

log = logging.getLogger(__name__)

NOTABLE = 5
SNIPPET = 280
INTERVAL: dict[Period, Interval] = {Period.daily: "hour", Period.weekly: "day", Period.monthly: "day"}


@dataclass(frozen=True)
class NotablePost:
    id: int
    published_at: datetime
    platform: str
    author: str | None
    followers: int
    sentiment: str | None
    engagement: int
    #: plain text (title and text, whitespace folded, cut at SNIPPET characters); escape on output
    snippet: str
    url: str | None


@dataclass(frozen=True)
class AlertLine:
    fired_at: datetime
    kind: str
    title: str
    score: float


@dataclass
class ReportContent:
    name: str
    language: str
    tz: str
    period: Period
    window: Window
    previous: Window
    dashboard: Dashboard
    share_of_voice: ShareOfVoice
    previous_total: int
    previous_net: float | None
    engaged: list[NotablePost] = field(default_factory=list)
    negative: list[NotablePost] = field(default_factory=list)
    alerts: list[AlertLine] | None = None  # None: the alerts feature is not installed

    @property
    def total(self) -> int:
        return self.dashboard.volume.total

    @property
    def change(self) -> float | None:
        """Relative change of the volume against the previous period (None when it was 0)."""
        return (self.total - self.previous_total) / self.previous_total if self.previous_total else None

    def summary(self) -> dict[str, Any]:
        """The key numbers, stored on the run and shown in lists and the API."""
        s = self.dashboard.sentiment
        return {
            "total": self.total,
            "previous_total": self.previous_total,
            "change": self.change,
            "positive": s.positive,
            "negative": s.negative,
            "neutral": s.neutral,
            "unknown": s.unknown,
            "net_sentiment": s.net,
            "previous_net_sentiment": self.previous_net,
            "alerts": None if self.alerts is None else len(self.alerts),
        }


def scope_query_ids(session: Session, definition: ReportDefinition) -> list[int] | None:
    """The queries whose matches make up the report (None: every mention)."""
    if not definition.query_ids and not definition.brand_ids:
        return None
    ids = set(definition.query_ids)
    if definition.brand_ids:
        ids.update(session.scalars(select(Query.id).where(Query.brand_id.in_(definition.brand_ids))))
    return sorted(ids)


def _scope(definition: ReportDefinition, window: Window, *, period: Period) -> Scope:
    return Scope(
        query_ids=definition.query_ids or None,
        brand_ids=definition.brand_ids or None,
        since=window.start,
        until=window.end,
        tz=definition.tz,
        interval=INTERVAL[period],
    )


def _notable_select(session: Session, query_ids: list[int] | None, window: Window) -> Select[Any]:
    engagement = ENGAGEMENT_POSTGRESQL if is_postgres(session) else ENGAGEMENT_SQLITE
    eng: Any = literal_column(engagement.replace("metrics", "mention.metrics"))
    stmt = (
        select(
            Mention.id,
            Mention.published_at,
            Mention.platform,
            Author.handle,
            Author.followers,
            Mention.sentiment,
            eng.label("engagement"),
            Mention.title,
            Mention.text,
            Mention.url,
        )
        .outerjoin(Author, Author.id == Mention.author_id)
        .where(Mention.published_at >= window.start, Mention.published_at < window.end)
        .where(Mention.duplicate_of_id.is_(None))
    )
    if query_ids is not None:
        matched = select(QueryMatch.mention_id).where(
            QueryMatch.query_id.in_(query_ids or [-1]),
            QueryMatch.published_at >= window.start,
            QueryMatch.published_at < window.end,
        )
        stmt = stmt.where(Mention.id.in_(matched))
    return stmt


def _post(row: Any) -> NotablePost:
    text = " ".join(((row.title + " — ") if row.title else "").split() + (row.text or "").split())
    return NotablePost(
        id=row.id,
        published_at=row.published_at,
        platform=row.platform,
        author=row.handle,
        followers=int(row.followers or 0),
        sentiment=row.sentiment,
        engagement=int(row.engagement or 0),
        snippet=text if len(text) <= SNIPPET else text[: SNIPPET - 1] + "…",
        url=row.url,
    )


def notable_posts(
    session: Session, *, query_ids: list[int] | None, window: Window, limit: int = NOTABLE
) -> tuple[list[NotablePost], list[NotablePost]]:
    """The most engaged posts, and the negative posts of the authors with the largest reach."""
    base = _notable_select(session, query_ids, window)
    engaged = session.execute(base.order_by(desc(literal_column("engagement")), Mention.id).limit(limit)).all()
    negative = session.execute(
        base.where(Mention.sentiment == "negative")
        .order_by(Author.followers.desc().nulls_last(), desc(literal_column("engagement")), Mention.id)
        .limit(limit)
    ).all()
    return [_post(r) for r in engaged], [_post(r) for r in negative]


def alerts_in(session: Session, *, definition: ReportDefinition, window: Window) -> list[AlertLine] | None:
    """Alerts that fired in the window for the report's brands/queries (all when unscoped); None
    when the alerts feature is absent, so a report still works without it."""
    try:
        from resonanz.listening.alerts.models import Alert, AlertRule
    except ImportError:  # pragma: no cover - the feature is part of the package today
        return None
    stmt = (
        select(Alert.fired_at, Alert.kind, Alert.title, Alert.score)
        .join(AlertRule, AlertRule.id == Alert.rule_id)
        .where(Alert.fired_at >= window.start, Alert.fired_at < window.end)
        .order_by(Alert.fired_at)
        .limit(50)
    )
    if definition.query_ids or definition.brand_ids:
        stmt = stmt.where(
            AlertRule.query_id.in_(definition.query_ids or [-1]) | AlertRule.brand_id.in_(definition.brand_ids or [-1])
        )
    return [AlertLine(r.fired_at, r.kind, r.title, float(r.score)) for r in session.execute(stmt)]


def gather(session: Session, *, definition: ReportDefinition, window: Window) -> ReportContent:
    """Everything the report of ``definition`` shows for ``window``."""
    period = Period(definition.period)
    before = previous(window, period=period, tz=definition.tz)
    board = analytics.dashboard(session, scope=_scope(definition, window, period=period))
    prev_scope = _scope(definition, before, period=period)
    prev_sentiment = analytics.sentiment_over_time(session, scope=prev_scope)
    prev_total = analytics.volume(session, scope=prev_scope).total
    # Share of voice of a brand report compares it with every brand (own against competitors).
    sov = board.share_of_voice
    if definition.brand_ids and not definition.query_ids:
        sov = analytics.share_of_voice(session, scope=board.scope.model_copy(update={"brand_ids": None}))
    engaged, negative = notable_posts(session, query_ids=scope_query_ids(session, definition), window=window)
    return ReportContent(
        name=definition.name,
        language=definition.language,
        tz=definition.tz,
        period=period,
        window=window,
        previous=before,
        dashboard=board,
        share_of_voice=sov,
        previous_total=prev_total,
        previous_net=prev_sentiment.net,
        engaged=engaged,
        negative=negative,
        alerts=alerts_in(session, definition=definition, window=window),
    )


__all__ = ["AlertLine", "NotablePost", "ReportContent", "gather", "notable_posts", "window_from"]
