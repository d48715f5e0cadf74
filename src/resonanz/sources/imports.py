"""The file import action: stream a JSONL or CSV file into the store.

The file is read one record at a time (:mod:`resonanz.connectors.file.reader`) and fed through the
same pipeline as every pull (:func:`resonanz.sources.pipeline.ingest_items`) in batches, each batch
committed in its own transaction: a huge file never becomes one giant transaction, memory stays
flat, and because ingest is keyed by (platform, external id) a re-run after a crash or an edit is
idempotent. One :class:`IngestRun` (kind ``import``) records the totals.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.analysis.jobs import enqueue_analysis
from resonanz.clock import now
from resonanz.connectors.file.connector import FileConfig, FileConnector
from resonanz.connectors.file.reader import open_import
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.errors import ConflictError
from resonanz.mentions import bulk
from resonanz.mentions.ingest import AuthorCache, IngestCounts, store_prepared
from resonanz.sources.actions import get_or_create_source
from resonanz.sources.import_worker import BATCH_ITEMS, PreparedBatch, prepared_batches, relaxed_gc
from resonanz.sources.models import IngestRun, RunKind, Source
from resonanz.sources.pipeline import BATCH, finish_run, quarantine_rejected, start_run

DEFAULT_SOURCE = "import"
#: Files this large are parsed in a worker process (starting one takes about half a second).
WORKER_MIN_BYTES = 8 * 1024 * 1024
#: A transaction is committed after about this many records or bytes of payload (several batches).
COMMIT_ITEMS = 20_000
COMMIT_BYTES = 16 * 1024 * 1024


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
    workers: int | None = None,
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
    with (
        open_import(
            Path(path),
            fmt=fmt or (defaults.format if defaults else None),
            mapping=mapping if mapping is not None else (defaults.mapping if defaults else None),
            max_item_bytes=settings.max_item_bytes,
            source_name=name,
        ) as reader,
        relaxed_gc(),
    ):
        with transaction(db.sessions) as session:
            source = get_or_create_source(session, name=name, kind=FileConnector.kind)
            run = start_run(session, kind=RunKind.IMPORT, source_id=source.id)
            run_id = run.id

        if workers is None:
            workers = 1 if reader.total_bytes >= WORKER_MIN_BYTES and (os.cpu_count() or 1) > 1 else 0
        batches, warnings, stop = prepared_batches(reader, worker=workers > 0, batch_items=BATCH_ITEMS)
        writer = _Writer(db, run_id)
        try:
            for batch in batches:
                if progress is not None:
                    for position in batch.positions[:-1]:
                        progress(position)
                writer.store(batch)
                if progress is not None and batch.positions:
                    progress(batch.positions[-1])
            writer.commit()
        except BaseException as exc:
            writer.rollback()
            stop()
            # Record what landed and why it stopped; committed batches stay (a re-run is idempotent).
            with transaction(db.sessions) as session:
                run = _run(session, run_id)
                finish_run(run, writer.total, warnings=warnings(), error=f"{type(exc).__name__}: {exc}")
            raise
        stop()
        with transaction(db.sessions) as session:
            run = _run(session, run_id)
            finish_run(run, writer.total, warnings=warnings())
        if progress is not None:
            progress(reader.total_bytes)
        return run


class _Writer:
    """Stores batches, committing about every COMMIT_ITEMS records or COMMIT_BYTES of payload.

    Batches stay small so the worker and the writer take turns often; transactions are larger
    because every commit costs WAL and index page writes, and fewer of them save about a third
    of that. ``total`` counts what is committed.
    """

    def __init__(self, db: Database, run_id: int) -> None:
        self.db = db
        self.run_id = run_id
        self.total = IngestCounts()
        self.authors = AuthorCache()
        self._session: Session | None = None
        self._pending = IngestCounts()
        self._author_counts: dict[int, int] = {}
        self._items = 0
        self._bytes = 0

    def store(self, batch: PreparedBatch) -> None:
        if self._session is None:
            self._session = self.db.sessions()
            self._session.begin()
        session = self._session
        run = _run(session, self.run_id)
        stamp = now()
        # In chunks of the pipeline's batch size, so a key repeated in a file counts the same as
        # through resonanz.sources.pipeline.ingest_items.
        for start in range(0, len(batch.items), BATCH):
            chunk = batch.items[start : start + BATCH]
            result = store_prepared(
                session,
                chunk,
                source_id=run.source_id,
                now=stamp,
                authors=self.authors,
                author_counts=self._author_counts,
            )
            enqueue_analysis(session, result.ids)
            self._pending.add(result.counts)
        self._pending.rejected += quarantine_rejected(
            session, cls=FileConnector, rejected=batch.rejected, run=run, now=stamp
        )
        self._items += len(batch.items) + len(batch.rejected)
        self._bytes += batch.size
        if self._items >= COMMIT_ITEMS or self._bytes >= COMMIT_BYTES:
            self.commit()

    def commit(self) -> None:
        if self._session is None:
            return
        session, self._session = self._session, None
        try:
            if self._author_counts:
                bulk.bump_authors(session.connection(), self._author_counts, now=now())
            session.commit()
        except BaseException:
            self.authors.rollback()
            raise
        finally:
            session.close()
        self.authors.commit()
        self.total.add(self._pending)
        self._pending = IngestCounts()
        self._author_counts = {}
        self._items = self._bytes = 0

    def rollback(self) -> None:
        self.authors.rollback()
        self._pending = IngestCounts()
        self._author_counts = {}
        self._items = self._bytes = 0
        if self._session is not None:
            session, self._session = self._session, None
            try:
                session.rollback()
            finally:
                session.close()


def _run(session: Session, run_id: int) -> IngestRun:
    run = session.get(IngestRun, run_id)
    assert run is not None
    return run
