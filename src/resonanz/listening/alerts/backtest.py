"""Backtest: run a rule (saved or draft) over the past days and list when it would have fired,
with the same detectors, the same episode/cooldown grouping and the same explanations as the
live evaluation. Nothing is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from resonanz.listening.alerts import series
from resonanz.listening.alerts.evaluate import Firing, bucket_minutes, explain, judge
from resonanz.listening.alerts.models import AlertRule
from resonanz.listening.alerts.rules import episodes

#: explanations cost a few queries each; a rule firing hundreds of times needs tuning, not prose
MAX_EXPLAINED = 25


@dataclass
class BacktestEpisode:
    start: datetime
    end: datetime
    buckets: int
    observed: float
    baseline: float
    score: float
    explanation: dict[str, Any] | None


@dataclass
class Backtest:
    rule_id: int | None
    since: datetime
    until: datetime
    buckets: int
    episodes: list[BacktestEpisode] = field(default_factory=list)
    #: mentions per UTC day over the range, for the chart
    daily: list[tuple[datetime, int]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "buckets": self.buckets,
            "fired": len(self.episodes),
            "episodes": [
                {
                    "start": e.start.isoformat(),
                    "end": e.end.isoformat(),
                    "buckets": e.buckets,
                    "observed": e.observed,
                    "baseline": e.baseline,
                    "score": e.score,
                    "explanation": e.explanation,
                }
                for e in self.episodes
            ],
            "daily": [{"day": d.date().isoformat(), "mentions": n} for d, n in self.daily],
        }


def run_backtest(session: Session, *, rule: AlertRule, until: datetime, days: int = 90) -> Backtest:
    """What ``rule`` would have fired in the ``days`` before ``until`` (closed buckets only)."""
    minutes = bucket_minutes(rule)
    end = series.floor_to(until, minutes)
    start = end - timedelta(days=days)
    firings, history = judge(session, rule, start=start, end=end)
    step = timedelta(minutes=minutes)
    grouped = episodes(
        [(f.at, f.finding) for f in firings], cooldown=max(timedelta(minutes=rule.cooldown_minutes), step)
    )
    by_at = {f.at: f for f in firings}
    result = Backtest(rule.id, start, end, int((end - start) / step))
    for index, ep in enumerate(grouped):
        peak_at = next(f.at for f in firings if f.finding is ep.peak)
        firing: Firing = by_at[peak_at]
        result.episodes.append(
            BacktestEpisode(
                start=ep.start,
                end=ep.end,
                buckets=ep.buckets,
                observed=ep.peak.observed,
                baseline=ep.peak.baseline,
                score=ep.peak.score,
                explanation=explain(session, rule, firing) if index < MAX_EXPLAINED else None,
            )
        )
    if history is None:
        history = series.hourly_series(session, query_ids=series.scope_query_ids(session, rule), since=start, until=end)
    days_total = series.daily_totals({at: b for at, b in history.items() if start <= at < end})
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:
        result.daily.append((day, days_total.get(day, 0)))
        day += timedelta(days=1)
    return result
