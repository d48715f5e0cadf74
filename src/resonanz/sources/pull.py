"""The pull job: fetch from a source's connector and ingest, keeping cursor and health.

The network I/O happens outside any database transaction (SQLite has one writer; holding its
lock while a slow server answers would stall every other writer). Errors are sorted the way the
connector raised them: transient ones back off and retry, permanent ones disable the source and
say why; in both cases the run is recorded with the reason.
"""

from __future__ import annotations

import random
from datetime import timedelta

import httpx
from sqlalchemy.orm import Session, sessionmaker

from resonanz.clock import now
from resonanz.config import Settings
from resonanz.connectors.base import PullResult
from resonanz.connectors.registry import connector_class
from resonanz.db.engine import transaction
from resonanz.errors import ConnectorPermanentError, ConnectorTransientError
from resonanz.mentions.ingest import IngestCounts
from resonanz.sources import service
from resonanz.sources.models import IngestRun, RunKind, RunStatus, SourceHealth
from resonanz.sources.pipeline import finish_run, ingest_items, quarantine_rejected, start_run

MAX_BACKOFF_S = 6 * 3600


def failure_backoff(interval_s: int, failures: int, retry_after: float | None) -> float:
    """Seconds until the next try: the platform's Retry-After if given, else exponential with
    jitter, never sooner than the source's own interval and never later than six hours."""
    if retry_after is not None:
        return max(1.0, min(float(retry_after), float(MAX_BACKOFF_S)))
    base = float(min(MAX_BACKOFF_S, interval_s * 2 ** min(failures, 10)))
    return base * (0.8 + 0.4 * random.random())


def pull_source(
    factory: sessionmaker[Session], *, source_id: int, settings: Settings, http: httpx.Client | None = None
) -> IngestRun:
    """Pull one source now, whatever its schedule says, and return the recorded run."""
    with transaction(factory) as session:
        source = service.get(session, id=source_id)
        cls = connector_class(source.kind)
        config = cls.Config.model_validate(source.config)
        cursor = dict(source.cursor or {})
        run = start_run(session, kind=RunKind.PULL, source_id=source.id)
        run_id = run.id

    connector = cls(config, settings=settings, http=http)
    result: PullResult | None = None
    error: Exception | None = None
    try:
        result = connector.pull(cursor)
    except (ConnectorTransientError, ConnectorPermanentError) as exc:
        error = exc

    with transaction(factory) as session:
        source = service.get(session, id=source_id)
        found = session.get(IngestRun, run_id)
        assert found is not None
        run = found
        stamp = now()
        if error is not None or result is None:
            source.consecutive_failures += 1
            source.last_error = str(error)
            source.last_error_at = stamp
            if isinstance(error, ConnectorPermanentError):
                source.health = SourceHealth.DISABLED
                source.next_pull_at = None
            else:
                source.health = SourceHealth.FAILING
                retry_after = getattr(error, "retry_after", None)
                delay = failure_backoff(source.interval_s, source.consecutive_failures, retry_after)
                source.next_pull_at = stamp + timedelta(seconds=delay)
            finish_run(run, IngestCounts(), error=str(error))
            return run

        counts = ingest_items(session, cls=cls, items=result.items, run=run, max_item_bytes=settings.max_item_bytes)
        counts.rejected += quarantine_rejected(session, cls=cls, rejected=result.rejected, run=run, now=stamp)
        source.cursor = result.cursor
        source.consecutive_failures = 0
        source.last_success_at = stamp
        if result.rejected and not result.items:
            # The whole document was unusable (HTML instead of a feed, broken XML): the source is
            # reachable but not working, which a person must see.
            source.health = SourceHealth.FAILING
            source.last_error = result.rejected[0].reason
            source.last_error_at = stamp
        else:
            source.health = SourceHealth.OK
        if source.enabled and (source.next_pull_at is None or source.next_pull_at <= stamp):
            source.next_pull_at = stamp + timedelta(seconds=source.interval_s)
        finish_run(
            run,
            counts,
            warnings=result.warnings,
            status=RunStatus.NOT_MODIFIED if result.not_modified else None,
        )
        return run
