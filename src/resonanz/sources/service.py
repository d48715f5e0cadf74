"""Reads over sources and ingest runs."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resonanz.errors import NotFoundError
from resonanz.sources.models import IngestRun, Source


def get(session: Session, *, id: int) -> Source:
    source = session.get(Source, id)
    if source is None:
        raise NotFoundError(f"no source with id {id}")
    return source


def get_by_name(session: Session, *, name: str) -> Source:
    source = session.scalar(select(Source).where(Source.name == name))
    if source is None:
        raise NotFoundError(f"no source named {name!r} (see `resonanz source list`)")
    return source


def get_by_ref(session: Session, *, ref: str) -> Source:
    """A source by name, or by id when ``ref`` is a number."""
    if ref.isdigit():
        found = session.get(Source, int(ref))
        if found is not None:
            return found
    return get_by_name(session, name=ref)


def list_sources(session: Session) -> list[Source]:
    return list(session.scalars(select(Source).order_by(Source.name)))


def count_sources(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Source)) or 0)


def list_runs(session: Session, *, source_id: int | None = None, limit: int = 20) -> list[IngestRun]:
    stmt = select(IngestRun).order_by(IngestRun.id.desc()).limit(limit)
    if source_id is not None:
        stmt = stmt.where(IngestRun.source_id == source_id)
    return list(session.scalars(stmt))
