"""The detectors: pure functions from a series of closed buckets to a :class:`Finding`.

No database here, so the same code judges the live minute (``service``) and 90 days of history
(``backtest``), and tests feed it tables of numbers.

Volume spike — a robust, seasonal baseline:

* the *seasonal* expectation of hour ``t`` is the median of the same hour of the week over the
  last ``weeks`` weeks (Monday 9:00 is compared with earlier Mondays 9:00, so a weekly rhythm
  is not a spike), and its spread is the MAD of those values (× 1.4826, the normal-consistent
  scale), but never below the Poisson noise √baseline — a quiet query has MAD 0;
* the *recent level* blends in the last ``recent_hours``: their total divided by their own
  seasonal expectations (clamped to ½ … 2), so a query that is generally busier this week
  does not fire all day, while one unusual hour still does;
* it fires when the count is at least ``min_count`` and above baseline + k × spread, k from the
  sensitivity (low 5, medium 3, high 2 — "about 3 times the usual spread").

Negative-share surge: the hour's share of negative mentions against the pooled share of the
previous week, as a z-score of a proportion, with a minimum volume and a minimum rise.

Crisis score: volume factor (count ÷ baseline) × negative share × reach factor (log reach of
the hour ÷ log usual reach), raised by the stored risk score of the hour's mentions (the
analysis stage's crisis terms); fires above 6 / 3 / 1.5 by sensitivity.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

HOUR = timedelta(hours=1)
WEEK = timedelta(days=7)
MAD_SCALE = 1.4826


class Sensitivity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


#: k in "fires above baseline + k × usual spread"
SPREAD_FACTOR = {Sensitivity.low: 5.0, Sensitivity.medium: 3.0, Sensitivity.high: 2.0}
#: the crisis score above which the crisis rule fires
CRISIS_THRESHOLD = {Sensitivity.low: 6.0, Sensitivity.medium: 3.0, Sensitivity.high: 1.5}


@dataclass(frozen=True)
class Bucket:
    """One closed bucket of a rule's scope: mentions, how many negative, summed author
    followers (reach) and the summed stored risk score."""

    total: int = 0
    negative: int = 0
    reach: int = 0
    risk: float = 0.0


EMPTY = Bucket()
Series = Mapping[datetime, Bucket]


@dataclass(frozen=True)
class Finding:
    """What a detector saw in one bucket. ``observed``/``baseline`` are in the rule's unit
    (mentions, share, score); ``threshold`` is what ``observed`` had to exceed; ``numbers``
    holds the rest of the explanation (spread, k, floors …)."""

    fired: bool
    observed: float
    baseline: float
    threshold: float
    score: float
    numbers: dict[str, Any] = field(default_factory=dict)


def sensitivity_words(sensitivity: str) -> float:
    """k for a sensitivity, for the sentence "about k times the usual spread"."""
    return SPREAD_FACTOR[Sensitivity(sensitivity)]


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


def _mad(values: Sequence[float], center: float) -> float:
    return _median([abs(v - center) for v in values])


def seasonal_baseline(
    series: Series, at: datetime, *, weeks: int = 4, recent_hours: int = 24
) -> tuple[float, float, float]:
    """``(baseline, spread, level)`` for hour ``at`` (see the module docstring)."""
    same_hour = [float(series.get(at - k * WEEK, EMPTY).total) for k in range(1, weeks + 1)]
    expected = _median(same_hour)
    spread = MAD_SCALE * _mad(same_hour, expected)
    level = 1.0
    if recent_hours > 0:
        seen = expect = 0.0
        for h in range(1, recent_hours + 1):
            hour = at - h * HOUR
            seen += series.get(hour, EMPTY).total
            expect += _median([float(series.get(hour - k * WEEK, EMPTY).total) for k in range(1, weeks + 1)])
        level = min(2.0, max(0.5, (seen + 1.0) / (expect + 1.0)))
    baseline = expected * level
    spread = max(spread * level, math.sqrt(max(baseline, 1.0)))
    return baseline, spread, level


def volume_spike(
    series: Series,
    at: datetime,
    *,
    sensitivity: str = "medium",
    min_count: int = 10,
    weeks: int = 4,
    recent_hours: int = 24,
) -> Finding:
    observed = float(series.get(at, EMPTY).total)
    baseline, spread, level = seasonal_baseline(series, at, weeks=weeks, recent_hours=recent_hours)
    k = SPREAD_FACTOR[Sensitivity(sensitivity)]
    threshold = max(baseline + k * spread, float(min_count) - 0.5)
    score = (observed - baseline) / spread
    fired = observed >= min_count and observed > baseline + k * spread
    numbers = {"spread": round(spread, 2), "k": k, "level": round(level, 2), "min_count": min_count, "weeks": weeks}
    return Finding(fired, observed, round(baseline, 2), round(threshold, 2), round(score, 2), numbers)


def negative_surge(
    series: Series,
    at: datetime,
    *,
    sensitivity: str = "medium",
    min_volume: int = 10,
    baseline_hours: int = 168,
    min_rise: float = 0.1,
) -> Finding:
    bucket = series.get(at, EMPTY)
    neg = total = 0
    for h in range(1, baseline_hours + 1):
        past = series.get(at - h * HOUR, EMPTY)
        neg += past.negative
        total += past.total
    p0 = (neg + 1.0) / (total + 2.0)  # Laplace: an empty week does not mean "never negative"
    n = bucket.total
    share = bucket.negative / n if n else 0.0
    z = (share - p0) / math.sqrt(p0 * (1.0 - p0) / n) if n else 0.0
    k = SPREAD_FACTOR[Sensitivity(sensitivity)]
    fired = n >= min_volume and z >= k and share - p0 >= min_rise
    threshold = min(1.0, max(p0 + min_rise, p0 + k * math.sqrt(p0 * (1.0 - p0) / max(n, 1))))
    numbers = {"volume": n, "negative": bucket.negative, "k": k, "min_volume": min_volume, "min_rise": min_rise}
    return Finding(fired, round(share, 4), round(p0, 4), round(threshold, 4), round(z, 2), numbers)


def crisis_score(
    series: Series,
    at: datetime,
    *,
    sensitivity: str = "medium",
    min_count: int = 10,
    weeks: int = 4,
) -> Finding:
    bucket = series.get(at, EMPTY)
    baseline, _, _ = seasonal_baseline(series, at, weeks=weeks)
    volume_factor = bucket.total / max(baseline, 1.0)
    negativity = bucket.negative / bucket.total if bucket.total else 0.0
    usual_reach = _median([float(series.get(at - k * WEEK, EMPTY).reach) for k in range(1, weeks + 1)])
    reach_factor = math.log10(10.0 + bucket.reach) / math.log10(10.0 + usual_reach)
    risk = bucket.risk / bucket.total if bucket.total else 0.0
    score = volume_factor * negativity * reach_factor * (1.0 + risk)
    threshold = CRISIS_THRESHOLD[Sensitivity(sensitivity)]
    fired = bucket.total >= min_count and score >= threshold
    numbers = {
        "volume": bucket.total,
        "volume_baseline": round(baseline, 2),
        "volume_factor": round(volume_factor, 2),
        "negative_share": round(negativity, 4),
        "reach": bucket.reach,
        "usual_reach": round(usual_reach, 1),
        "reach_factor": round(reach_factor, 2),
        "risk": round(risk, 3),
        "min_count": min_count,
    }
    return Finding(fired, round(score, 2), 1.0, threshold, round(score, 2), numbers)


def count_finding(count: int, *, min_count: int = 1, detail: dict[str, Any] | None = None) -> Finding:
    """Event rules (keyword appears, new influential author): fires on ``min_count`` events."""
    return Finding(count >= min_count, float(count), 0.0, float(min_count), float(count), dict(detail or {}))


@dataclass
class Episode:
    """Consecutive firings of one rule that make one alert."""

    start: datetime
    end: datetime
    peak: Finding
    first: Finding
    buckets: int = 1


def episodes(firings: Sequence[tuple[datetime, Finding]], *, cooldown: timedelta) -> list[Episode]:
    """Group firings (in time order) into episodes: a firing within ``cooldown`` of the
    current episode's last bucket continues it (it updates the alert, it does not fire again).
    The live evaluation applies the same rule against stored alerts."""
    found: list[Episode] = []
    for at, finding in firings:
        current = found[-1] if found else None
        if current is not None and at - current.end <= cooldown:
            current.end = at
            current.buckets += 1
            if finding.score > current.peak.score:
                current.peak = finding
        else:
            found.append(Episode(start=at, end=at, peak=finding, first=finding))
    return found
