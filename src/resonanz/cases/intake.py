"""Turning analysed mentions into cases: decide, join, reopen, prioritise.

For each mention of a batch (oldest first, so a conversation builds up in order):

1. **Join a conversation** — the case of the mention's parent, or of its thread (same platform and
   thread key), takes it when that case is still joinable (not closed, not merged). A customer's
   message in such a thread joins even when it needs no answer by itself ("thanks!"), as long as
   its author is the case's author; a resolved case then reopens (see :func:`do_add_mentions`).
2. **Same author, same topic, within the window** — a mention that needs a response joins the
   author's newest joinable case when that case's last customer message is at most
   ``case_join_window_hours`` old and they share a topic (a brand of the listening queries both
   matched, or both matched no brand).
3. **Otherwise** a mention that needs a response (:mod:`.intake_rules`) opens a new case; if the
   only case of its thread or author is *closed*, the new case is a follow-up linked to it.

A new case is routed and given due times by H7's routing/SLA when installed. A joined message
may raise a case's priority, never lower it (a person may have raised it on purpose).

Idempotent: a mention already in a case is skipped, so a re-run of the job changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.analysis.models import AnalysisResult
from resonanz.cases import actions
from resonanz.cases.intake_rules import (
    IntakeRules,
    MentionFacts,
    higher,
    priority_of,
    response_reasons,
    thread_key,
)
from resonanz.cases.models import Case, CaseMention, CaseStatus
from resonanz.cases.states import JOINABLE
from resonanz.config import Settings
from resonanz.listening.models import Query, QueryMatch
from resonanz.mentions.models import Author, Mention
from resonanz.sources.models import Source

BATCH = 500


def rules_from(settings: Settings) -> IntakeRules:
    return IntakeRules(
        intents=frozenset(settings.case_intake_intents),
        influential_followers=settings.case_intake_influential_followers,
        query_ids=frozenset(settings.case_intake_query_ids),
        own_handles=frozenset(h.lower().lstrip("@") for h in settings.case_own_handles),
        join_window_hours=settings.case_join_window_hours,
    )


@dataclass
class IntakeResult:
    created: list[int] = field(default_factory=list)
    joined: dict[int, int] = field(default_factory=dict)  # mention id -> case id
    reopened: list[int] = field(default_factory=list)
    follow_ups: dict[int, int] = field(default_factory=dict)  # new case id -> closed case id
    skipped: int = 0


def _facts(session: Session, mentions: Sequence[Mention], rules: IntakeRules) -> dict[int, MentionFacts]:
    ids = [m.id for m in mentions]
    authors = {
        a.id: a
        for a in session.scalars(select(Author).where(Author.id.in_({m.author_id for m in mentions if m.author_id})))
    }
    crisis: dict[int, list[str]] = {}
    for mid, result in session.execute(
        select(AnalysisResult.mention_id, AnalysisResult.result).where(
            AnalysisResult.mention_id.in_(ids), AnalysisResult.stage == "crisis"
        )
    ):
        crisis[mid] = [str(t) for t in (result or {}).get("terms", [])]
    queries: dict[int, list[int]] = {}
    for mid, qid in session.execute(
        select(QueryMatch.mention_id, QueryMatch.query_id).where(QueryMatch.mention_id.in_(ids))
    ):
        queries.setdefault(mid, []).append(qid)
    own_sources = {
        s.id
        for s in session.scalars(select(Source).where(Source.id.in_({m.source_id for m in mentions if m.source_id})))
        if (s.config or {}).get("own_account")
    }
    parents = {m.parent_id for m in mentions if m.parent_id}
    parent_authors: dict[int, str] = {}
    if parents and rules.own_handles:
        stmt = (
            select(Mention.id, Author.handle)
            .join(Author, Author.id == Mention.author_id)
            .where(Mention.id.in_(parents))
        )
        parent_authors = {pid: handle for pid, handle in session.execute(stmt)}
    out: dict[int, MentionFacts] = {}
    for m in mentions:
        author = authors.get(m.author_id) if m.author_id else None
        parent_handle = parent_authors.get(m.parent_id) if m.parent_id else None
        out[m.id] = MentionFacts(
            mention_id=m.id,
            platform=m.platform,
            author_handle=author.handle if author else None,
            followers=author.followers if author else None,
            intent=m.intent,
            sentiment=m.sentiment,
            needs_response=m.needs_response,
            risk_score=m.risk_score,
            crisis_terms=crisis.get(m.id, []),
            query_ids=queries.get(m.id, []),
            to_own_account=m.source_id in own_sources or rules.is_own(m.platform, parent_handle),
            is_repost=m.duplicate_of_id is not None,
        )
    return out


def _brands(session: Session, query_ids: Iterable[int]) -> set[int]:
    ids = set(query_ids)
    if not ids:
        return set()
    return {b for b in session.scalars(select(Query.brand_id).where(Query.id.in_(ids))) if b is not None}


def _case_brands(session: Session, case_id: int) -> set[int]:
    stmt = (
        select(Query.brand_id)
        .join(QueryMatch, QueryMatch.query_id == Query.id)
        .join(CaseMention, CaseMention.mention_id == QueryMatch.mention_id)
        .where(CaseMention.case_id == case_id)
    )
    return {b for b in session.scalars(stmt) if b is not None}


def _conversation_case(session: Session, m: Mention) -> Case | None:
    """The newest case of the mention's parent or thread (any status; the caller decides)."""
    if m.parent_id is not None:
        stmt = (
            select(Case).join(CaseMention, CaseMention.case_id == Case.id).where(CaseMention.mention_id == m.parent_id)
        )
        found = session.scalar(stmt)
        if found is not None:
            return _follow_merge(session, found)
    key = thread_key(external_id=m.external_id, thread_external_id=m.thread_external_id,
                     parent_external_id=m.parent_external_id)  # fmt: skip
    stmt = select(Case).where(Case.platform == m.platform, Case.thread_key == key).order_by(Case.id.desc()).limit(1)
    found = session.scalar(stmt)
    return _follow_merge(session, found) if found is not None else None


def _follow_merge(session: Session, case: Case) -> Case:
    seen = {case.id}
    while case.merged_into_id is not None:
        target = session.get(Case, case.merged_into_id)
        if target is None or target.id in seen:
            break
        seen.add(target.id)
        case = target
    return case


def _author_case(session: Session, m: Mention, facts: MentionFacts, rules: IntakeRules) -> Case | None:
    """The author's newest case on the same topic within the window (any status)."""
    if m.author_id is None:
        return None
    since = m.published_at - timedelta(hours=rules.join_window_hours)
    stmt = (
        select(Case)
        .where(Case.author_id == m.author_id, Case.merged_into_id.is_(None), Case.last_customer_at >= since)
        .order_by(Case.id.desc())
        .limit(5)
    )
    topic = _brands(session, facts.query_ids)
    for candidate in session.scalars(stmt):
        theirs = _case_brands(session, candidate.id)
        if theirs == topic or topic & theirs:
            return candidate
    return None


def run_intake(session: Session, *, mention_ids: Sequence[int], rules: IntakeRules) -> IntakeResult:
    """Apply intake to ``mention_ids`` in the caller's transaction (the job commits)."""
    result = IntakeResult()
    for start in range(0, len(mention_ids), BATCH):
        chunk = list(mention_ids[start : start + BATCH])
        taken = set(session.scalars(select(CaseMention.mention_id).where(CaseMention.mention_id.in_(chunk))))
        mentions = session.scalars(
            select(Mention)
            .where(Mention.id.in_([i for i in chunk if i not in taken]))
            .order_by(Mention.published_at, Mention.id)
        ).all()
        result.skipped += len(taken)
        facts = _facts(session, mentions, rules)
        for m in mentions:
            _take(session, m, facts[m.id], rules, result)
    return result


def _take(session: Session, m: Mention, facts: MentionFacts, rules: IntakeRules, result: IntakeResult) -> None:
    reasons = response_reasons(facts, rules)
    priority, priority_reasons = priority_of(facts)
    conversation = _conversation_case(session, m)
    if (
        conversation is not None
        and conversation.status in JOINABLE
        and (reasons or conversation.author_id == m.author_id)
    ):
        _join(session, conversation, m, priority, priority_reasons, result)
        return
    if not reasons:
        result.skipped += 1
        return
    closed = conversation if conversation is not None and conversation.status == CaseStatus.closed else None
    by_author = _author_case(session, m, facts, rules) if conversation is None else None
    if by_author is not None and by_author.status in JOINABLE:
        _join(session, by_author, m, priority, priority_reasons, result)
        return
    if closed is None and by_author is not None and by_author.status == CaseStatus.closed:
        closed = by_author
    priority_reasons = [*priority_reasons, {"factor": "rules", "value": ", ".join(reasons), "points": 0}]
    key = thread_key(external_id=m.external_id, thread_external_id=m.thread_external_id,
                     parent_external_id=m.parent_external_id)  # fmt: skip
    case = actions.do_create_case(
        session, mentions=[m], priority=priority, priority_reasons=priority_reasons, thread_key=key,
        brand_id=min(_brands(session, facts.query_ids), default=None),
        follow_up_of=closed.id if closed is not None else None, actor=None,
    )  # fmt: skip
    result.created.append(case.id)
    if closed is not None:
        result.follow_ups[case.id] = closed.id


def _join(
    session: Session, case: Case, m: Mention, priority: str, reasons: list[dict[str, object]], result: IntakeResult
) -> None:
    was_resolved = case.status == CaseStatus.resolved
    actions.do_add_mentions(session, case=case, mentions=[m], actor=None)
    result.joined[m.id] = case.id
    if was_resolved:
        result.reopened.append(case.id)
    if higher(priority, case.priority):
        actions.do_set_priority(
            session, case=case, priority=priority,
            reasons=[*reasons, {"factor": "joined", "value": m.id, "points": 0}], expected_version=None, actor=None,
        )  # fmt: skip
