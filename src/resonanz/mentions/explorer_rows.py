"""Explorer list rows (:class:`MentionSummary`) for a list of mention ids, in that order."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, literal_column, select
from sqlalchemy.orm import Session

from resonanz.mentions.explorer_plan import ENGAGEMENT_POSTGRESQL, ENGAGEMENT_SQLITE
from resonanz.mentions.explorer_schemas import MentionSummary
from resonanz.mentions.models import Author, Mention
from resonanz.sources.models import Source

SNIPPET_CHARS = 280


def _number(value: Any) -> float:
    return int(value) if isinstance(value, Decimal) and value == value.to_integral_value() else float(value or 0)


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The text, cut at a word boundary before ``limit`` characters (plain text; escape when shown)."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def summaries(session: Session, ids: Sequence[int]) -> list[MentionSummary]:
    if not ids:
        return []
    # engagement computed by the database (the sort's own expression): parsing every row's
    # metrics JSON in Python was a fifth of a page's time
    sqlite = session.get_bind().dialect.name == "sqlite"
    engagement_sql: ColumnElement[Any] = literal_column(ENGAGEMENT_SQLITE if sqlite else ENGAGEMENT_POSTGRESQL)
    stmt = (
        select(
            Mention.id,
            Mention.platform,
            Mention.kind,
            Mention.source_id,
            Source.name,
            Mention.author_id,
            Author.handle,
            Author.name,
            Mention.published_at,
            Mention.title,
            Mention.text,
            Mention.url,
            Mention.lang,
            Mention.sentiment,
            Mention.intent,
            Mention.needs_response,
            Mention.risk_score,
            engagement_sql,
            Mention.parent_id,
            Mention.duplicate_of_id,
        )
        .outerjoin(Source, Source.id == Mention.source_id)
        .outerjoin(Author, Author.id == Mention.author_id)
        .where(Mention.id.in_(list(ids)))
    )
    by_id = {}
    for r in session.connection().execute(stmt):
        by_id[r[0]] = MentionSummary(
            id=r[0], platform=r[1], kind=r[2], source_id=r[3], source_name=r[4], author_id=r[5], author_handle=r[6],
            author_name=r[7], published_at=r[8], title=r[9], snippet=snippet(r[10] or ""), url=r[11], lang=r[12],
            sentiment=r[13], intent=r[14], needs_response=r[15], risk=r[16], engagement=_number(r[17]),
            parent_id=r[18], duplicate_of_id=r[19],
        )  # fmt: skip
    return [by_id[i] for i in ids if i in by_id]
