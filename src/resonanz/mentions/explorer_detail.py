"""One mention in detail for the explorer: its thread, reposts, author card and analysis."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resonanz.analysis.models import AnalysisResult, Feedback
from resonanz.errors import NotFoundError
from resonanz.mentions.explorer_rows import summaries
from resonanz.mentions.explorer_schemas import (
    AnalysisEntry,
    AuthorCard,
    Correction,
    MentionDetail,
    MentionFull,
    MentionSummary,
)
from resonanz.mentions.models import Author, Mention
from resonanz.sources.models import Source

#: Threads deeper than this are shown from the deepest ancestor found (a guard against cycles).
MAX_DEPTH = 200


def _one(session: Session, mention_id: int | None) -> MentionSummary | None:
    if mention_id is None:
        return None
    found = summaries(session, [mention_id])
    return found[0] if found else None


def _root_id(session: Session, mention: Mention) -> int:
    """The first mention of the thread: parents followed up until one has none (or MAX_DEPTH)."""
    current, parent = mention.id, mention.parent_id
    seen = {current}
    while parent is not None and parent not in seen and len(seen) < MAX_DEPTH:
        seen.add(parent)
        current, parent = parent, session.scalar(select(Mention.parent_id).where(Mention.id == parent))
    return current


def author_card(session: Session, *, author_id: int) -> AuthorCard | None:
    """The author with their stored mentions counted per sentiment ("unknown": not analysed)."""
    author = session.get(Author, author_id)
    if author is None:
        return None
    split: dict[str, int] = {}
    rows = session.execute(
        select(Mention.sentiment, func.count()).where(Mention.author_id == author_id).group_by(Mention.sentiment)
    )
    for sentiment, n in rows:
        split[sentiment or "unknown"] = split.get(sentiment or "unknown", 0) + int(n)
    return AuthorCard(
        id=author.id, platform=author.platform, handle=author.handle, name=author.name, url=author.url,
        followers=author.followers, mention_count=sum(split.values()), first_seen_at=author.first_seen_at,
        last_seen_at=author.last_seen_at, sentiment_split=split,
    )  # fmt: skip


def get_detail(session: Session, *, id: int, replies_limit: int = 50, duplicates_limit: int = 20) -> MentionDetail:
    """Everything the detail page shows; NotFoundError for an unknown id.

    Replies come oldest first (a conversation reads top-down), the first ``replies_limit`` of
    ``reply_count``; reposts likewise.
    """
    mention = session.get(Mention, id)
    if mention is None:
        raise NotFoundError(f"no mention with id {id}")
    reply_ids = list(
        session.scalars(
            select(Mention.id)
            .where(Mention.parent_id == id)
            .order_by(Mention.published_at, Mention.id)
            .limit(replies_limit)
        )
    )
    reply_count = int(session.scalar(select(func.count()).where(Mention.parent_id == id)) or 0)
    duplicate_ids = list(
        session.scalars(
            select(Mention.id).where(Mention.duplicate_of_id == id).order_by(Mention.id).limit(duplicates_limit)
        )
    )
    duplicate_count = int(session.scalar(select(func.count()).where(Mention.duplicate_of_id == id)) or 0)
    root_id = _root_id(session, mention)
    source_name = (
        session.scalar(select(Source.name).where(Source.id == mention.source_id)) if mention.source_id else None
    )
    analysis = [
        AnalysisEntry(
            stage=r.stage,
            version=r.version,
            revision=r.revision,
            current=r.revision == mention.revision,
            result=r.result,
            created_at=r.created_at,
        )
        for r in session.scalars(
            select(AnalysisResult).where(AnalysisResult.mention_id == id).order_by(AnalysisResult.stage)
        )
    ]
    corrections = [
        Correction(task=f.task, label=f.label, previous=f.previous, note=f.note, actor=f.actor, created_at=f.created_at)
        for f in session.scalars(
            select(Feedback).where(Feedback.mention_id == id).order_by(Feedback.created_at, Feedback.id)
        )
    ]
    return MentionDetail(
        mention=MentionFull.model_validate(mention),
        source_name=source_name,
        parent=_one(session, mention.parent_id),
        root=_one(session, root_id) if root_id not in (id, mention.parent_id) else None,
        replies=summaries(session, reply_ids),
        reply_count=reply_count,
        original=_one(session, mention.duplicate_of_id),
        duplicates=summaries(session, duplicate_ids),
        duplicate_count=duplicate_count,
        author=author_card(session, author_id=mention.author_id) if mention.author_id else None,
        analysis=analysis,
        corrections=corrections,
    )
