"""Suggested answers for a case: knowledge-base articles and replies that resolved similar past
cases, ranked by BM25 over folded text, plus tag and language agreement, each with its reason.

Why BM25 in Python and not the search index: the candidates are few (published articles, the last
``PAST_REPLIES`` sent replies of resolved cases), the query is one conversation, and the reason
shown to the agent ("shares: lieferung, verspaetet; tag: delivery; same language") falls out of
the same computation. Folding (:func:`resonanz.mentions.text.fold`) lets "Verspätung" meet
"verspaetung" the way search does.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.analysis.stopwords import STOPWORDS
from resonanz.cases.models import Case, CaseMention
from resonanz.cases.reply_models import Article, ArticleStatus, Reply, ReplyStatus
from resonanz.clock import now
from resonanz.mentions.models import Mention
from resonanz.mentions.text import fold

K1 = 1.2
B = 0.75
TAG_WEIGHT = 1.5
LANG_BONUS = 1.0
#: a candidate in another language is kept but pushed down (an agent may translate it)
OTHER_LANG_FACTOR = 0.5
PAST_REPLIES = 2000
_WORD = re.compile(r"[^\W_]{2,}")


@dataclass(frozen=True)
class Suggestion:
    kind: str  # "article" | "reply"
    id: int
    title: str
    text: str
    lang: str | None
    score: float
    reasons: list[str] = field(default_factory=list)
    case_id: int | None = None  # for a past reply: the case it resolved
    stale: bool = False  # an article past its review date


@dataclass
class _Doc:
    kind: str
    id: int
    title: str
    text: str
    lang: str | None
    tags: list[str]
    case_id: int | None = None
    stale: bool = False


def tokens(text: str) -> list[str]:
    return [w for w in _WORD.findall(fold(text)) if w not in STOPWORDS]


def rank(
    query_text: str, *, query_tags: Sequence[str], lang: str | None, docs: Sequence[_Doc], limit: int = 5
) -> list[Suggestion]:
    """BM25 of ``query_text`` against each doc, + TAG_WEIGHT per shared tag, + LANG_BONUS for the same
    language (other languages x OTHER_LANG_FACTOR). Docs with nothing in common are left out."""
    q_terms = set(tokens(query_text))
    wanted_tags = {t.lower() for t in query_tags}
    doc_terms = [Counter(tokens(f"{d.title} {d.text}")) for d in docs]
    n = len(docs)
    avg = (sum(sum(c.values()) for c in doc_terms) / n) if n else 0.0
    df = Counter(t for c in doc_terms for t in set(c) & q_terms)
    out = []
    for doc, terms in zip(docs, doc_terms, strict=True):
        length = sum(terms.values()) or 1
        score = 0.0
        shared = []
        for term in q_terms:
            tf = terms.get(term, 0)
            if not tf:
                continue
            idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
            score += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / (avg or 1)))
            shared.append(term)
        tags = sorted(wanted_tags & {t.lower() for t in doc.tags})
        score += TAG_WEIGHT * len(tags)
        if score <= 0:
            continue
        reasons = []
        if shared:
            top = sorted(shared, key=lambda t: (-terms[t], t))[:5]
            reasons.append("shares words: " + ", ".join(top))
        if tags:
            reasons.append("same tags: " + ", ".join(tags))
        if lang and doc.lang == lang:
            score += LANG_BONUS
            reasons.append(f"same language ({lang})")
        elif lang and doc.lang:
            score *= OTHER_LANG_FACTOR
            reasons.append(f"in {doc.lang}, the customer wrote {lang}")
        if doc.kind == "reply":
            reasons.append(f"resolved case #{doc.case_id}")
        if doc.stale:
            reasons.append("past its review date")
        out.append(Suggestion(doc.kind, doc.id, doc.title, doc.text, doc.lang, round(score, 3), reasons,
                              doc.case_id, doc.stale))  # fmt: skip
    out.sort(key=lambda s: (-s.score, s.kind, s.id))
    return out[:limit]


def case_text(session: Session, *, case: Case) -> str:
    """The customer's side of the conversation: subject + the texts of the case's mentions."""
    stmt = (
        select(Mention.title, Mention.text)
        .join(CaseMention, CaseMention.mention_id == Mention.id)
        .where(CaseMention.case_id == case.id)
        .order_by(Mention.published_at)
    )
    parts = [case.subject or ""]
    for title, text in session.execute(stmt):
        parts += [title or "", text or ""]
    return "\n".join(p for p in parts if p)


def _candidates(session: Session, *, exclude_case_id: int) -> list[_Doc]:
    stamp = now()
    docs = [
        _Doc("article", a.id, a.title, a.body, a.lang, list(a.tags), stale=bool(a.review_at and a.review_at < stamp))
        for a in session.scalars(select(Article).where(Article.status == ArticleStatus.published))
    ]
    stmt = (
        select(Reply, Case.subject, Case.tags)
        .join(Case, Case.id == Reply.case_id)
        .where(
            Reply.status == ReplyStatus.sent,
            Case.status.in_(("resolved", "closed")),
            Case.id != exclude_case_id,
        )
        .order_by(Reply.id.desc())
        .limit(PAST_REPLIES)
    )
    for reply, subject, tags in session.execute(stmt):
        docs.append(
            _Doc("reply", reply.id, subject or "", reply.text, reply.lang, list(tags or []), case_id=reply.case_id)
        )
    return docs


def suggest(session: Session, *, case: Case, limit: int = 5) -> list[Suggestion]:
    """The best ``limit`` answers for ``case`` (articles and past replies together)."""
    return rank(
        case_text(session, case=case),
        query_tags=list(case.tags or []),
        lang=case.lang,
        docs=_candidates(session, exclude_case_id=case.id),
        limit=limit,
    )
