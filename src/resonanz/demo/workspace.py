"""Load the demo data set into a database through the real pipeline, and remove it again.

Feed documents go through the feed connector's pure ``split``/``parse`` and
:func:`~resonanz.sources.pipeline.ingest_items`, exactly like a pull; the JSONL and CSV files go
through :func:`~resonanz.sources.imports.import_file`, exactly like ``resonanz import``. Loading is
idempotent: a second load finds every item unchanged and adds nothing.

By default the demo lives in its own SQLite file (``demo.db`` in the data directory), so demo
data never mixes with real data; when a database URL is configured it is used instead, and
:func:`do_reset_demo` removes only what belongs to the ``demo-`` sources.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from resonanz.config import Settings
from resonanz.connectors.feed.connector import FeedConnector
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.demo.alerts import load_alerts
from resonanz.demo.generate import DEFAULT_ANCHOR, DEFAULT_SEED, DemoDataset, generate
from resonanz.demo.knowledge import load_knowledge
from resonanz.demo.listening import load_listening
from resonanz.demo.mail import load_mail
from resonanz.demo.render import fingerprint, render, write_files
from resonanz.demo.reports import load_reports
from resonanz.demo.routing import load_routing
from resonanz.demo.world import COMPETITORS, CRISIS_HASHTAG, DEMO_AUTHOR_SUFFIX, DEMO_PREFIX, OWN
from resonanz.mentions import search_index
from resonanz.mentions.models import Author, Mention, QuarantineItem
from resonanz.sources.actions import get_or_create_source
from resonanz.sources.imports import import_file
from resonanz.sources.models import IngestRun, RunKind, Source
from resonanz.sources.pipeline import finish_run, ingest_items, quarantine_rejected, start_run

DEMO_DB_FILE = "demo.db"
#: progress(step label, steps done, steps in all)
Progress = Callable[[str, int, int], None]


def demo_settings(settings: Settings) -> Settings:
    """The settings for the demo workspace: the configured database if one is set, else
    ``demo.db`` beside the real database in the data directory."""
    if settings.database_url:
        return settings
    return settings.model_copy(update={"database_url": f"sqlite:///{settings.data_dir / DEMO_DB_FILE}"})


@dataclass
class SourceLoad:
    source: str
    kind: str
    items: int
    new: int
    updated: int
    duplicate: int
    rejected: int


@dataclass
class DemoSummary:
    database: str
    fingerprint: str
    posts: int
    window_start: date
    window_end: date
    crisis_start: date
    crisis_end: date
    crisis_hashtag: str
    company: str
    competitors: list[str]
    sources: list[SourceLoad] = field(default_factory=list)
    mentions: int = 0
    authors: int = 0

    @property
    def new(self) -> int:
        return sum(s.new for s in self.sources)

    def as_dict(self) -> dict[str, Any]:
        return {
            "demo": True,
            "database": self.database,
            "fingerprint": self.fingerprint,
            "posts_generated": self.posts,
            "window": {"start": self.window_start.isoformat(), "end": self.window_end.isoformat()},
            "crisis": {
                "start": self.crisis_start.isoformat(),
                "end": self.crisis_end.isoformat(),
                "hashtag": self.crisis_hashtag,
            },
            "company": self.company,
            "competitors": self.competitors,
            "sources": [vars(s) for s in self.sources],
            "new": self.new,
            "mentions": self.mentions,
            "authors": self.authors,
        }


def load_demo(
    db: Database,
    *,
    seed: int = DEFAULT_SEED,
    anchor: date = DEFAULT_ANCHOR,
    scale: float = 1.0,
    progress: Progress | None = None,
) -> DemoSummary:
    """Generate the demo data set and ingest it into ``db``."""
    data = generate(seed=seed, anchor=anchor, scale=scale)
    load_listening(db)  # brands and queries first: the analysis of the mentions matches them
    load_routing(db, anchor=anchor)  # teams, rules and SLAs before the intake opens cases
    load_reports(db)  # a weekly report on the own brand
    load_alerts(db)  # alert rules on the own brand's queries (their backtest shows the outage)
    load_knowledge(db)  # knowledge articles, reply templates, approval rules for the inbox
    load_mail(db)  # the customer-service mailbox that receives complaints and sends the replies
    feeds, files = render(data)
    summary = _summary(db, data, fingerprint(feeds, files))
    steps = len(feeds) + len(files)
    done = 0
    fetched_at = datetime.combine(anchor, time(23, 30), tzinfo=UTC).isoformat()
    for feed in feeds:
        if progress:
            progress(f"feed {feed.source}", done, steps)
        with transaction(db.sessions) as session:
            source = get_or_create_source(session, name=feed.source, kind=FeedConnector.kind, config={"url": feed.url})
            run = start_run(session, kind=RunKind.IMPORT, source_id=source.id)
            context = {
                "feed_url": feed.url,
                "base_url": feed.url,
                "fetched_at": fetched_at,
                "response_headers": {"content-type": "application/xml; charset=utf-8"},
                "demo": True,
            }
            split = FeedConnector.split(feed.body, context)
            counts = ingest_items(
                session,
                cls=FeedConnector,
                items=split.items,
                run=run,
                max_item_bytes=db.settings.max_item_bytes,
            )
            counts.rejected += quarantine_rejected(
                session, cls=FeedConnector, rejected=split.rejected, run=run, now=run.started_at
            )
            finish_run(run, counts, warnings=split.warnings)
            summary.sources.append(
                SourceLoad(feed.source, "feed", len(split.items), run.new, run.updated, run.duplicate, run.rejected)
            )
        done += 1
    with tempfile.TemporaryDirectory(prefix="resonanz-demo-") as tmp:
        for doc, path in zip(files, write_files(files, Path(tmp)), strict=True):
            if progress:
                progress(f"file {doc.filename}", done, steps)
            run = import_file(db, path=path, fmt=doc.fmt, source_name=doc.source)
            lines = doc.body.count(b"\n") - (1 if doc.fmt == "csv" else 0)
            summary.sources.append(
                SourceLoad(doc.source, "file", lines, run.new, run.updated, run.duplicate, run.rejected)
            )
            done += 1
    if progress:
        progress("done", done, steps)
    with db.sessions() as session:
        summary.mentions = int(session.scalar(select(func.count()).select_from(Mention)) or 0)
        summary.authors = int(session.scalar(select(func.count()).select_from(Author)) or 0)
    return summary


def _summary(db: Database, data: DemoDataset, print_: str) -> DemoSummary:
    return DemoSummary(
        database=db.engine.url.render_as_string(hide_password=True),
        fingerprint=print_,
        posts=len(data.posts),
        window_start=data.start,
        window_end=data.anchor,
        crisis_start=data.crisis_start,
        crisis_end=data.crisis_end,
        crisis_hashtag=CRISIS_HASHTAG,
        company=OWN.name,
        competitors=[c.name for c in COMPETITORS],
    )


def _demo_source_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Source.id).where(Source.name.startswith(DEMO_PREFIX))))


def do_reset_demo(session: Session) -> int:
    """Remove everything the demo sources brought in (mentions, their index entries, runs,
    quarantined items, demo authors left without mentions, the sources); returns the number of
    mentions removed. Nothing outside the ``demo-`` sources is touched."""
    source_ids = _demo_source_ids(session)
    if not source_ids:
        return 0
    mention_ids = list(session.scalars(select(Mention.id).where(Mention.source_id.in_(source_ids))))
    for start in range(0, len(mention_ids), 500):
        chunk = mention_ids[start : start + 500]
        search_index.delete(session, chunk)
        session.execute(delete(Mention).where(Mention.id.in_(chunk)))
    session.execute(delete(QuarantineItem).where(QuarantineItem.source_id.in_(source_ids)))
    session.execute(delete(IngestRun).where(IngestRun.source_id.in_(source_ids)))
    used = select(Mention.author_id).where(Mention.author_id.is_not(None))
    labelled = or_(Author.handle.startswith(DEMO_PREFIX), Author.name.endswith(DEMO_AUTHOR_SUFFIX))
    session.execute(delete(Author).where(labelled, Author.id.not_in(used)))
    session.execute(delete(Source).where(Source.id.in_(source_ids)))
    return len(mention_ids)
