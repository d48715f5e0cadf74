"""Helpers for the feed connector tests: payload files and a small world of database, settings
and local HTTP server that creates feed sources and pulls them through the real pull job."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.mentions.models import Mention, QuarantineItem
from resonanz.sources.actions import do_create_source
from resonanz.sources.models import IngestRun, Source
from resonanz.sources.pull import pull_source
from resonanz.sources.schemas import SourceCreate

try:  # the repository root is on sys.path under pytest (rootdir)
    from tests.support.httpserver import LocalHTTPServer, Reply, redirect_to
except ImportError:  # pragma: no cover - run from elsewhere, with tests/ on sys.path
    from support.httpserver import LocalHTTPServer, Reply, redirect_to

__all__ = ["LocalHTTPServer", "Reply", "redirect_to"]

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "feed"
RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=UTF-8"


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


@dataclass
class FeedWorld:
    """A database, settings and a server, with the few steps every pull test takes."""

    db: Database
    settings: Settings
    server: LocalHTTPServer

    def serve(self, path: str, body: bytes | str, *, content_type: str = RSS, **reply: Any) -> str:
        data = payload(body) if isinstance(body, str) else body
        headers = {"Content-Type": content_type, **reply.pop("headers", {})}
        self.server.route(path, Reply(body=data, headers=headers, **reply))
        return self.server.url(path)

    def add_source(self, name: str, path: str, **config: Any) -> int:
        with transaction(self.db.sessions) as session:
            data = SourceCreate(name=name, kind="feed", config={"url": self.server.url(path), **config})
            return do_create_source(session, data=data).id

    def pull(self, source_id: int, settings: Settings | None = None) -> IngestRun:
        return pull_source(self.db.sessions, source_id=source_id, settings=settings or self.settings)

    def source(self, source_id: int) -> Source:
        with self.db.sessions() as session:
            found = session.get(Source, source_id)
            assert found is not None
            return found

    def mentions(self, source_id: int | None = None) -> list[Mention]:
        with self.db.sessions() as session:
            stmt = select(Mention).order_by(Mention.id)
            if source_id is not None:
                stmt = stmt.where(Mention.source_id == source_id)
            return list(session.scalars(stmt))

    def mention(self, external_id: str) -> Mention:
        with self.db.sessions() as session:
            found = session.scalar(select(Mention).where(Mention.external_id == external_id))
            assert found is not None, f"no mention {external_id!r}"
            return found

    def quarantine(self) -> list[QuarantineItem]:
        with self.db.sessions() as session:
            return list(session.scalars(select(QuarantineItem).order_by(QuarantineItem.id)))
