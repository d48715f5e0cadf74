"""The file import action: stream a JSONL or CSV file into the store.

The file is read one record at a time (:mod:`resonanz.connectors.file.reader`) and fed through the
same pipeline as every pull (:func:`resonanz.sources.pipeline.ingest_items`) in batches, each batch
committed in its own transaction: a huge file never becomes one giant transaction, memory stays
flat, and because ingest is keyed by (platform, external id) a re-run after a crash or an edit is
idempotent. One :class:`IngestRun` (kind ``import``) records the totals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.clock import now
from resonanz.connectors.base import RawItem, Rejected
from resonanz.connectors.file.connector import FileConfig, FileConnector
from resonanz.connectors.file.reader import open_import
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.errors import ConflictError
from resonanz.mentions.ingest import IngestCounts
from resonanz.sources.actions import get_or_create_source
from resonanz.sources.models import IngestRun, RunKind, Source
from resonanz.sources.pipeline import finish_run, ingest_items, quarantine_rejected, start_run

DEFAULT_SOURCE = "import"
#: A batch is committed after this many records or this many payload bytes, whichever comes first.
BATCH_ITEMS = 5000
BATCH_BYTES = 4 * 1024 * 1024
PROGRESS_EVERY = 1000


def _batches(
    entries: Iterable[RawItem | Rejected], on_progress: Callable[[], None]
) -> Iterator[tuple[list[RawItem], list[Rejected]]]:
    items: list[RawItem] = []
    rejected: list[Rejected] = []
    size = 0
    for seen, entry in enumerate(entries, start=1):
        if isinstance(entry, RawItem):
            items.append(entry)
        else:
            rejected.append(entry)
        size += len(entry.payload)
        if seen % PROGRESS_EVERY == 0:
            on_progress()
        if len(items) + len(rejected) >= BATCH_ITEMS or size >= BATCH_BYTES:
            yield items, rejected
            items, rejected, size = [], [], 0
    if items or rejected:
        yield items, rejected


def _source_defaults(db: Database, name: str) -> FileConfig | None:
    """The existing source's import defaults (its format and mapping), checking its kind."""
    with db.sessions() as session:
        source = session.scalar(select(Source).where(Source.name == name))
        if source is None:
            return None
        if source.kind != FileConnector.kind:
            raise ConflictError(f"source {name!r} is a {source.kind} source; import into a file source")
        return FileConfig.model_validate(source.config)


def import_file(
    db: Database,
    *,
    path: Path,
    fmt: str | None = None,
    source_name: str | None = None,
    mapping: dict[str, str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> IngestRun:
    """Import ``path`` into the file source ``source_name`` (created if needed, default "import").

    ``fmt`` ("jsonl" or "csv") defaults to the source's configured format, then to the file
    extension (``.gz`` is decompressed on the fly). ``mapping`` (field -> column) defaults to the
    source's configured mapping. Raises ImportFormatError, before importing anything, when the
    file is unreadable, its format unknown or a CSV header lacks a required column. Records that
    fail are quarantined with ``line N`` and the reason; the rest lands. ``progress`` is called
    with the bytes of the file read so far.
    """
    name = source_name or DEFAULT_SOURCE
    settings = db.settings
    defaults = _source_defaults(db, name)
    with open_import(
        Path(path),
        fmt=fmt or (defaults.format if defaults else None),
        mapping=mapping if mapping is not None else (defaults.mapping if defaults else None),
        max_item_bytes=settings.max_item_bytes,
        source_name=name,
    ) as reader:
        with transaction(db.sessions) as session:
            source = get_or_create_source(session, name=name, kind=FileConnector.kind)
            run = start_run(session, kind=RunKind.IMPORT, source_id=source.id)
            run_id = run.id

        def report() -> None:
            if progress is not None:
                progress(reader.position())

        total = IngestCounts()
        try:
            for items, rejected in _batches(reader.items(), report):
                with transaction(db.sessions) as session:
                    run = _run(session, run_id)
                    counts = ingest_items(
                        session, cls=FileConnector, items=items, run=run, max_item_bytes=settings.max_item_bytes
                    )
                    counts.rejected += quarantine_rejected(
                        session, cls=FileConnector, rejected=rejected, run=run, now=now()
                    )
                total.add(counts)
                report()
        except BaseException as exc:
            # Record what landed and why it stopped; committed batches stay (a re-run is idempotent).
            with transaction(db.sessions) as session:
                run = _run(session, run_id)
                finish_run(run, total, warnings=reader.warnings, error=f"{type(exc).__name__}: {exc}")
            raise
        with transaction(db.sessions) as session:
            run = _run(session, run_id)
            finish_run(run, total, warnings=reader.warnings)
        if progress is not None:
            progress(reader.total_bytes)
        return run


def _run(session: Session, run_id: int) -> IngestRun:
    run = session.get(IngestRun, run_id)
    assert run is not None
    return run
