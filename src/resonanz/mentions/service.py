"""Reads over mentions and authors."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resonanz.errors import NotFoundError
from resonanz.mentions.models import Author, Mention


def get(session: Session, *, id: int) -> Mention:
    mention = session.get(Mention, id)
    if mention is None:
        raise NotFoundError(f"no mention with id {id}")
    return mention


def get_by_key(session: Session, *, platform: str, external_id: str) -> Mention | None:
    return session.scalar(select(Mention).where(Mention.platform == platform, Mention.external_id == external_id))


def count_mentions(session: Session, *, duplicates_only: bool = False) -> int:
    stmt = select(func.count()).select_from(Mention)
    if duplicates_only:
        stmt = stmt.where(Mention.duplicate_of_id.is_not(None))
    return int(session.scalar(stmt) or 0)


def count_authors(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Author)) or 0)


def replies(session: Session, *, mention_id: int) -> list[Mention]:
    return list(session.scalars(select(Mention).where(Mention.parent_id == mention_id).order_by(Mention.published_at)))
