"""Raw items -> parse -> store, with quarantine for whatever fails. Every way in (pull, file
import, webhook, replay) goes through :func:`ingest_items`, so they all behave the same."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy.orm import Session

from resonanz.analysis.jobs import enqueue_analysis
from resonanz.clock import now as clock_now
from resonanz.connectors.base import Connector, RawItem, Rejected
from resonanz.errors import InputError
from resonanz.mentions.ingest import IngestCounts, store_batch
from resonanz.mentions.quarantine import do_quarantine
from resonanz.mentions.schemas import MentionIn
from resonanz.sources.models import IngestRun, RunKind, RunStatus

BATCH = 1000


def describe_validation_error(exc: ValidationError) -> str:
    """'published_at: Input should be a valid datetime; author.handle: Field required'."""
    return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'item'}: {err['msg']}" for err in exc.errors())


def parse_item(cls: type[Connector], item: RawItem, *, max_item_bytes: int) -> MentionIn:
    """Parse one raw item or raise InputError with a readable reason."""
    if len(item.payload) > max_item_bytes:
        raise InputError(
            f"item is {len(item.payload):,} bytes, over the limit of {max_item_bytes:,} "
            "(raise RESONANZ_MAX_ITEM_BYTES and replay to accept it)",
            location=item.location,
        )
    try:
        return cls.parse(item)
    except InputError:
        raise
    except ValidationError as exc:
        raise InputError(describe_validation_error(exc), location=item.location) from exc
    except (ValueError, TypeError, KeyError, UnicodeError) as exc:
        raise InputError(f"{type(exc).__name__}: {exc}", location=item.location) from exc


@dataclass
class Rejection:
    item: RawItem
    reason: str

    def as_rejected(self) -> Rejected:
        """The item as the quarantine keeps it: its own bytes, location and reason."""
        return Rejected(
            payload=self.item.payload,
            reason=self.reason,
            location=self.item.location,
            content_type=self.item.content_type,
            context={**self.item.context, "level": "item"},
        )


@dataclass
class ParsedChunk:
    mentions: list[MentionIn] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


def parse_items(cls: type[Connector], items: Iterable[RawItem], *, max_item_bytes: int) -> ParsedChunk:
    chunk = ParsedChunk()
    for item in items:
        try:
            chunk.mentions.append(parse_item(cls, item, max_item_bytes=max_item_bytes))
        except InputError as exc:
            chunk.rejections.append(Rejection(item, exc.reason))
    return chunk


def quarantine_rejected(
    session: Session, *, cls: type[Connector], rejected: Iterable[Rejected], run: IngestRun, now: datetime
) -> int:
    count = 0
    for rej in rejected:
        do_quarantine(
            session,
            platform=cls.platform,
            stage=rej.stage,
            reason=rej.reason,
            raw=rej.payload,
            location=rej.location,
            source_id=run.source_id,
            run_id=run.id,
            content_type=rej.content_type,
            context={**rej.context, "connector": cls.kind, "level": rej.context.get("level", "document")},
            now=now,
        )
        count += 1
    return count


def store_parsed(
    session: Session, *, cls: type[Connector], chunk: ParsedChunk, run: IngestRun, now: datetime
) -> IngestCounts:
    stored = store_batch(session, chunk.mentions, source_id=run.source_id, now=now)
    enqueue_analysis(session, stored.ids)
    counts = stored.counts
    counts.rejected += quarantine_rejected(
        session,
        cls=cls,
        rejected=[r.as_rejected() for r in chunk.rejections],
        run=run,
        now=now,
    )
    return counts


def ingest_items(
    session: Session, *, cls: type[Connector], items: Iterable[RawItem], run: IngestRun, max_item_bytes: int
) -> IngestCounts:
    """Parse and store ``items`` in batches inside the session's transaction."""
    total = IngestCounts()
    batch: list[RawItem] = []

    def flush() -> None:
        chunk = parse_items(cls, batch, max_item_bytes=max_item_bytes)
        total.add(store_parsed(session, cls=cls, chunk=chunk, run=run, now=clock_now()))
        batch.clear()

    for item in items:
        batch.append(item)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return total


def start_run(session: Session, *, kind: RunKind, source_id: int | None) -> IngestRun:
    run = IngestRun(
        source_id=source_id,
        kind=kind,
        status=RunStatus.RUNNING,
        started_at=clock_now(),
        new=0,
        updated=0,
        duplicate=0,
        rejected=0,
        warnings=[],
    )
    session.add(run)
    session.flush()
    return run


def finish_run(
    run: IngestRun,
    counts: IngestCounts,
    *,
    warnings: list[str] | None = None,
    error: str | None = None,
    status: RunStatus | None = None,
) -> None:
    """Record the outcome. ``duplicate`` on the run counts unchanged re-pulls and reposts."""
    end = clock_now()
    run.finished_at = end
    run.duration_ms = int((end - run.started_at).total_seconds() * 1000)
    run.new += counts.new
    run.updated += counts.updated
    run.duplicate += counts.duplicate + counts.unchanged
    run.rejected += counts.rejected
    if warnings:
        run.warnings = [*run.warnings, *warnings][:200]
    run.error = error
    if status is not None:
        run.status = status
    elif error:
        run.status = RunStatus.FAILED
    else:
        run.status = RunStatus.PARTIAL if run.rejected else RunStatus.OK
