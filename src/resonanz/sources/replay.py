"""Replay quarantined items through the connector that rejected them.

After a fix (a newer parser, a raised size limit, a corrected mapping) the stored raw bytes are
parsed again; what now works is stored like any other mention and the quarantine row is marked
replayed with the mention it became. What still fails stays pending with the new reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from resonanz.analysis.jobs import enqueue_analysis
from resonanz.clock import now
from resonanz.config import Settings
from resonanz.connectors.base import Connector, RawItem
from resonanz.connectors.registry import connector_class
from resonanz.errors import ConfigError, InputError
from resonanz.mentions.ingest import IngestCounts, store_batch
from resonanz.mentions.models import QuarantineItem, QuarantineStatus
from resonanz.sources.models import RunKind
from resonanz.sources.pipeline import finish_run, parse_item, start_run


@dataclass
class ReplayOutcome:
    item_id: int
    ok: bool
    detail: str
    mention_ids: list[int] = field(default_factory=list)


def _connector_for(item: QuarantineItem) -> type[Connector]:
    kind = item.context.get("connector") if item.context else None
    if not kind:
        raise ConfigError(f"quarantined item {item.id} does not record which connector rejected it")
    return connector_class(str(kind))


def _raw_items(cls: type[Connector], item: QuarantineItem) -> list[RawItem]:
    context = dict(item.context or {})
    if context.get("level") == "document":
        split = cls.split(item.raw, context)
        if not split.items and split.rejected:
            raise InputError(split.rejected[0].reason, location=split.rejected[0].location)
        return split.items
    return [
        RawItem(
            payload=item.raw,
            location=item.location or "item",
            content_type=item.content_type or "application/octet-stream",
            context=context,
        )
    ]


def replay_one(session: Session, *, item: QuarantineItem, settings: Settings, counts: IngestCounts) -> ReplayOutcome:
    """Parse and store one quarantined item inside the caller's transaction."""
    stamp = now()
    item.attempts += 1
    try:
        cls = _connector_for(item)
        raws = _raw_items(cls, item)
        parsed = [parse_item(cls, raw, max_item_bytes=settings.max_item_bytes) for raw in raws]
    except (InputError, ConfigError) as exc:
        item.replay_error = str(exc)
        return ReplayOutcome(item.id, False, str(exc))
    result = store_batch(session, parsed, source_id=item.source_id, now=stamp)
    enqueue_analysis(session, result.ids)
    counts.add(result.counts)
    item.status = QuarantineStatus.REPLAYED
    item.replayed_at = stamp
    item.replay_error = None
    item.mention_id = result.ids[0] if result.ids else None
    return ReplayOutcome(item.id, True, f"{len(parsed)} mention(s) stored", result.ids)


def do_replay(session: Session, *, items: Sequence[QuarantineItem], settings: Settings) -> list[ReplayOutcome]:
    """Replay ``items`` (pending ones; others are skipped) and record one replay run per source."""
    outcomes: list[ReplayOutcome] = []
    by_source: dict[int | None, list[QuarantineItem]] = {}
    for item in items:
        if item.status != QuarantineStatus.PENDING:
            outcomes.append(ReplayOutcome(item.id, False, f"skipped: item is {item.status}"))
            continue
        by_source.setdefault(item.source_id, []).append(item)
    for source_id, group in by_source.items():
        run = start_run(session, kind=RunKind.REPLAY, source_id=source_id)
        counts = IngestCounts()
        for item in group:
            outcome = replay_one(session, item=item, settings=settings, counts=counts)
            if not outcome.ok:
                counts.rejected += 1
            outcomes.append(outcome)
        finish_run(run, counts)
    return outcomes


def do_discard(session: Session, *, item: QuarantineItem) -> None:
    """Mark an item as not worth keeping in the pending list (its bytes stay for the record)."""
    item.status = QuarantineStatus.DISCARDED
