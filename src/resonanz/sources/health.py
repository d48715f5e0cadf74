"""Source health for the admin page (read only): per source its state, last success, last error and
the items it brought in per hour over the last 24 hours.

"Items" are the new mentions a source's runs stored (``IngestRun.new``), bucketed by the hour the
run started; pulls, imports and webhook calls all count. The buckets are summed in Python from
one query over the last day's runs: a source pulled every 15 minutes has 96 runs a day, and a
webhook source one run per call, which stays small next to the page's other reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.clock import ensure_utc, now
from resonanz.sources.models import IngestRun, Source

HOURS = 24


@dataclass
class SourceHealthRow:
    id: int
    name: str
    kind: str
    health: str
    enabled: bool
    interval_s: int
    next_pull_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    #: new mentions per hour, oldest hour first (``HOURS`` buckets ending with the current hour)
    hourly: list[int] = field(default_factory=lambda: [0] * HOURS)
    runs_24h: int = 0
    failed_runs_24h: int = 0

    @property
    def items_24h(self) -> int:
        return sum(self.hourly)

    @property
    def per_hour(self) -> float:
        return self.items_24h / HOURS

    @property
    def error_is_current(self) -> bool:
        """The last error came after the last success (an old error is history, not a state)."""
        if self.last_error_at is None:
            return False
        return self.last_success_at is None or ensure_utc(self.last_error_at) >= ensure_utc(self.last_success_at)


def source_health(session: Session, *, at: datetime | None = None) -> list[SourceHealthRow]:
    """Every source with its health and hourly items over the 24 hours before ``at`` (default now)."""
    at = ensure_utc(at or now())
    end = at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(hours=HOURS)
    rows = {
        s.id: SourceHealthRow(
            id=s.id, name=s.name, kind=s.kind, health=s.health, enabled=s.enabled, interval_s=s.interval_s,
            next_pull_at=s.next_pull_at, last_success_at=s.last_success_at, last_error=s.last_error,
            last_error_at=s.last_error_at, consecutive_failures=s.consecutive_failures,
        )
        for s in session.scalars(select(Source).order_by(Source.name))
    }  # fmt: skip
    runs = session.execute(
        select(IngestRun.source_id, IngestRun.started_at, IngestRun.new, IngestRun.status).where(
            IngestRun.source_id.is_not(None), IngestRun.started_at >= start, IngestRun.started_at < end
        )
    )
    for source_id, started_at, new, status in runs:
        row = rows.get(source_id) if source_id is not None else None
        if row is None:
            continue
        bucket = int((ensure_utc(started_at) - start).total_seconds() // 3600)
        if 0 <= bucket < HOURS:
            row.hourly[bucket] += int(new or 0)
        row.runs_24h += 1
        row.failed_runs_24h += status == "failed"
    return list(rows.values())
