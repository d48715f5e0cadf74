"""The pure detectors as tables: seasonal data with a spike fires, a weekly rhythm does not,
floors hold, and episodes/cooldown group repeated firings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from resonanz.listening.alerts import rules
from resonanz.listening.alerts.rules import Bucket, Finding, episodes

T = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday, 9:00
H = timedelta(hours=1)


def weekly(weeks: int = 5, *, busy: int = 40, quiet: int = 4) -> dict[datetime, Bucket]:
    """Busy on Monday mornings 8-11, quiet otherwise, for ``weeks`` weeks before T (and at T)."""
    out = {}
    start = T - weeks * rules.WEEK
    at = start
    while at <= T + 3 * H:
        n = busy if at.weekday() == 0 and 8 <= at.hour <= 11 else quiet
        out[at] = Bucket(total=n, negative=n // 4, reach=n * 100)
        at += H
    return out


def with_hour(series: dict[datetime, Bucket], at: datetime, **kw: int) -> dict[datetime, Bucket]:
    copy = dict(series)
    copy[at] = Bucket(**kw)  # type: ignore[arg-type]
    return copy


@pytest.mark.parametrize(
    ("label", "series", "at", "kw", "fires"),
    [
        ("weekly rhythm: busy Monday 9:00 is usual", weekly(), T, {}, False),
        ("quiet hour as usual", weekly(), T - 30 * H, {}, False),
        ("spike on a quiet hour", with_hour(weekly(), T - 30 * H, total=60), T - 30 * H, {}, True),
        ("spike on top of the Monday peak", with_hour(weekly(), T, total=160), T, {}, True),
        (
            "moderate rise, low sensitivity",
            with_hour(weekly(), T - 30 * H, total=13),
            T - 30 * H,
            {"sensitivity": "low"},
            False,
        ),
        (
            "moderate rise, high sensitivity",
            with_hour(weekly(), T - 30 * H, total=13),
            T - 30 * H,
            {"sensitivity": "high"},
            True,
        ),
        (
            "below the count floor",
            with_hour(weekly(quiet=0, busy=0), T - 30 * H, total=8),
            T - 30 * H,
            {"min_count": 10},
            False,
        ),
        (
            "at the count floor",
            with_hour(weekly(quiet=0, busy=0), T - 30 * H, total=10),
            T - 30 * H,
            {"min_count": 10},
            True,
        ),
        ("no history at all", {T: Bucket(total=3)}, T, {}, False),
    ],
)
def test_volume_spike(
    label: str, series: dict[datetime, Bucket], at: datetime, kw: dict[str, object], fires: bool
) -> None:
    finding = rules.volume_spike(series, at, **kw)  # type: ignore[arg-type]
    assert finding.fired is fires, (label, finding)
    if fires:
        assert finding.observed > finding.threshold >= finding.baseline


def test_spike_baseline_is_the_same_hour_of_the_week_and_explains_k() -> None:
    finding = rules.volume_spike(with_hour(weekly(), T, total=160), T)
    assert finding.baseline == pytest.approx(40, rel=0.3)  # earlier Mondays 9:00, not the quiet night
    assert finding.numbers["k"] == 3.0 and finding.numbers["spread"] >= 6  # floor: sqrt(40)


@pytest.mark.parametrize(
    ("total", "negative", "min_volume", "fires"),
    [(20, 4, 10, False), (20, 15, 10, True), (8, 8, 10, False), (100, 50, 10, True), (100, 30, 10, False)],
)
def test_negative_surge(total: int, negative: int, min_volume: int, fires: bool) -> None:
    series = with_hour(weekly(), T - 30 * H, total=total, negative=negative, reach=0)
    finding = rules.negative_surge(series, T - 30 * H, min_volume=min_volume)
    assert finding.fired is fires, finding
    assert finding.baseline == pytest.approx(0.25, abs=0.03)  # n // 4 negative in the past week


@pytest.mark.parametrize(
    ("total", "negative", "reach", "risk", "fires"),
    [
        (4, 0, 400, 0.0, False),  # an ordinary quiet hour
        (60, 45, 600_000, 0.0, True),  # 15x volume, 75 % negative, big reach
        (60, 3, 6000, 0.0, False),  # loud but happy
        (9, 9, 10_000_000, 1.0, False),  # under the count floor
    ],
)
def test_crisis_score(total: int, negative: int, reach: int, risk: float, fires: bool) -> None:
    at = T - 30 * H
    finding = rules.crisis_score(with_hour(weekly(), at, total=total, negative=negative, reach=reach), at)
    assert finding.fired is fires, finding


def _f(score: float) -> Finding:
    return Finding(True, score, 1.0, 2.0, score)


def test_cooldown_damps_a_rule_that_fires_every_minute() -> None:
    minute = timedelta(minutes=1)
    firings = [(T + i * minute, _f(1 + (i % 7))) for i in range(240)]  # every minute for 4 hours
    grouped = episodes(firings, cooldown=timedelta(minutes=60))
    assert len(grouped) == 1 and grouped[0].buckets == 240 and grouped[0].peak.score == 7
    # fires every 90 minutes: each is a new episode once the 60-minute cooldown has passed
    sparse = [(T + i * 90 * minute, _f(2)) for i in range(4)]
    assert len(episodes(sparse, cooldown=timedelta(minutes=60))) == 4
    assert len(episodes(sparse, cooldown=timedelta(minutes=120))) == 1
