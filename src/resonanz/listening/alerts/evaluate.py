"""Judging a rule's closed buckets: the one path the live evaluation and the backtest share.

:func:`judge` reads what a rule needs for ``[start, end)`` (hourly sums for statistical rules,
the mentions themselves for event rules) and returns the buckets where it fired;
:func:`explain` turns one firing into the stored explanation (numbers, top terms, posts).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from resonanz.listening.alerts import rules, series
from resonanz.listening.alerts.explain import build_explanation, snippet, top_terms
from resonanz.listening.alerts.models import AlertRule, RuleKind
from resonanz.listening.alerts.schemas import BUCKET_MINUTES, validate_params
from resonanz.listening.alerts.series import MentionRow

#: how much history one live evaluation catches up on (a worker that was down a week does
#: not flood people with a week of alerts; the backtest shows what was missed)
MAX_CATCH_UP = timedelta(hours=48)


@dataclass(frozen=True)
class Firing:
    at: datetime  # bucket start
    finding: rules.Finding
    mention_ids: tuple[int, ...] = ()  # event rules: the mentions that made it fire


def bucket_minutes(rule: AlertRule) -> int:
    return BUCKET_MINUTES[rule.kind]


def judge(session: Session, rule: AlertRule, *, start: datetime, end: datetime) -> tuple[list[Firing], Any]:
    """Findings where ``rule`` fired in the buckets of ``[start, end)``, and the data read (the
    hourly series for statistical rules, for charts)."""
    params = validate_params(rule.kind, rule.params)
    query_ids = series.scope_query_ids(session, rule)
    minutes = bucket_minutes(rule)
    if rule.kind in (RuleKind.keyword, RuleKind.influencer):
        return _judge_events(session, rule, params, query_ids, start, end, minutes), None
    weeks = int(params.get("weeks", 4))
    history = series.hourly_series(
        session, query_ids=query_ids, since=start - weeks * rules.WEEK - timedelta(days=1), until=end
    )
    firings = []
    at = series.floor_to(start, minutes)
    while at < end:
        finding = _detect(rule.kind, history, at, params)
        if finding.fired:
            firings.append(Firing(at, finding))
        at += timedelta(minutes=minutes)
    return firings, history


def _detect(kind: str, history: rules.Series, at: datetime, params: dict[str, Any]) -> rules.Finding:
    if kind == RuleKind.volume_spike:
        return rules.volume_spike(history, at, **params)
    if kind == RuleKind.negative_surge:
        return rules.negative_surge(history, at, **params)
    return rules.crisis_score(history, at, **params)


def _judge_events(
    session: Session,
    rule: AlertRule,
    params: dict[str, Any],
    query_ids: list[int],
    start: datetime,
    end: datetime,
    minutes: int,
) -> list[Firing]:
    rows = series.mentions_in(session, query_ids=query_ids, since=start, until=end)
    hits: dict[datetime, list[MentionRow]] = defaultdict(list)
    if rule.kind == RuleKind.keyword:
        from resonanz.listening.query.compile import compile_query
        from resonanz.listening.query.match import Doc, PreparedDoc

        test = compile_query(params["text"]).test
        for row in rows:
            doc = Doc(text=row.text, title=row.title, url=row.url, lang=row.lang, platform=row.platform,
                      author=row.author_handle, sentiment=row.sentiment, intent=row.intent)  # fmt: skip
            if test(PreparedDoc(doc)):
                hits[series.floor_to(row.published_at, minutes)].append(row)
        min_count = int(params.get("min_count", 1))
    else:
        threshold = int(params["min_followers"])
        big = [r for r in rows if r.followers >= threshold and r.author_id is not None]
        known = series.earlier_authors(
            session, query_ids=query_ids, author_ids=sorted({r.author_id for r in big if r.author_id}), before=start
        )
        for row in big:
            if row.author_id in known:
                continue
            known.add(row.author_id)  # type: ignore[arg-type]  # filtered above
            hits[series.floor_to(row.published_at, minutes)].append(row)
        min_count = 1
    firings = []
    for at in sorted(hits):
        found = hits[at]
        detail = {"mentions": len(found), "authors": sorted({r.author_handle or "?" for r in found})[:20]}
        finding = rules.count_finding(len(found), min_count=min_count, detail=detail)
        if finding.fired:
            firings.append(Firing(at, finding, tuple(r.id for r in found)))
    return firings


def explain(session: Session, rule: AlertRule, firing: Firing) -> dict[str, Any]:
    """The explanation of one firing: numbers, over-represented terms, up to five posts."""
    minutes = bucket_minutes(rule)
    query_ids = series.scope_query_ids(session, rule)
    window_end = firing.at + timedelta(minutes=minutes)
    window = series.mentions_in(session, query_ids=query_ids, since=firing.at, until=window_end, limit=2000)
    if firing.mention_ids:
        wanted = set(firing.mention_ids)
        window = [row for row in window if row.id in wanted]
    # the baseline is the week before (statistical rules compare an hour with weeks; for terms
    # one week of the same scope is a fair picture of "what people usually say")
    baseline = series.sample_texts(session, query_ids=query_ids, since=firing.at - rules.WEEK, until=firing.at)
    terms = top_terms([f"{r.title}\n{r.text}" if r.title else r.text for r in window], baseline)
    picked = sorted(window, key=lambda r: (-r.followers, r.id))[:5]
    samples = [
        {
            "id": r.id,
            "snippet": snippet(r.title, r.text),
            "url": r.url,
            "author": r.author_handle,
            "followers": r.followers,
            "sentiment": r.sentiment,
            "published_at": r.published_at.isoformat(),
        }
        for r in picked
    ]
    return build_explanation(
        kind=rule.kind,
        finding=firing.finding,
        bucket_start=firing.at.isoformat(),
        bucket_minutes=minutes,
        terms=terms,
        samples=samples,
        params=validate_params(rule.kind, rule.params),
    )
