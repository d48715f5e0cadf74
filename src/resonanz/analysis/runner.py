"""Run stages over batches of stored mentions and keep the results current.

A result is current when it was computed by the stage's present ``version`` for the mention's
present ``revision``; anything else is pending. :func:`analyze_pending` works through pending
mentions in id order, one transaction per batch, so a killed run loses at most one batch and the
next run resumes where it stopped. :func:`run_stages` is pure (no database) and is what
``resonanz analyze-text`` and the tests call.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.orm import Session, sessionmaker

from resonanz.analysis.models import AnalysisResult, Feedback
from resonanz.analysis.registry import resolve
from resonanz.analysis.stages.base import PROJECTED_COLUMNS, Doc, Result, Stage
from resonanz.analysis.storage import insert_results, update_mentions
from resonanz.clock import now
from resonanz.config import Settings
from resonanz.db.engine import transaction
from resonanz.mentions.models import Author, Mention

log = logging.getLogger(__name__)

#: The corrections a person can make, and the mention column each one overrides.
FEEDBACK_COLUMNS = {"sentiment": "sentiment", "intent": "intent", "offensive": "offensive", "language": "lang"}


_NOTHING: Mapping[str, Result] = MappingProxyType({})


def build_stages(settings: Settings, names: Sequence[str] | None = None) -> list[Stage]:
    return [cls(settings) for cls in resolve(names)]


def _run_one_stage(stage: Stage, docs: Sequence[Doc], upstream: Sequence[Mapping[str, Result]]) -> list[Result]:
    """The stage over the batch; if it raises, doc by doc, so one poisoned text costs only itself."""
    try:
        results = stage.run(docs, upstream)
        if len(results) != len(docs):
            raise RuntimeError(f"stage {stage.name} returned {len(results)} results for {len(docs)} docs")
        return results
    except Exception:  # a stage bug must not stop the batch; isolate it below
        if len(docs) == 1:
            log.exception("stage %s failed on mention %s", stage.name, docs[0].mention_id)
            return [{"error": f"stage {stage.name} failed on this text"}]
    out: list[Result] = []
    for doc, up in zip(docs, upstream, strict=True):
        out.extend(_run_one_stage(stage, [doc], [up]))
    return out


def run_stages(stages: Sequence[Stage], docs: Sequence[Doc]) -> list[dict[str, Result]]:
    """Every stage over ``docs``; per doc a mapping stage name -> result.

    The cyclic garbage collector is paused for the batch (and resumed after it, if it ran before):
    a batch allocates tens of thousands of result dicts and lists that live until the batch ends,
    so the collector kept promoting them and then scanning the whole heap, a full collection every
    few batches, some 20 % of the pipeline's time. Stages make no reference cycles worth collecting
    mid-batch; whatever they leave is collected as usual once the collector runs again."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        per_doc: list[dict[str, Result]] = [{} for _ in docs]
        for stage in stages:
            if stage.requires:
                upstream: list[Mapping[str, Result]] = [
                    {name: r[name] for name in stage.requires if name in r} for r in per_doc
                ]
            else:  # nothing upstream: one shared read-only empty mapping
                upstream = [_NOTHING] * len(per_doc)
            for slot, result in zip(per_doc, _run_one_stage(stage, docs, upstream), strict=True):
                slot[stage.name] = result
        return per_doc
    finally:
        if paused:
            gc.enable()


def _pending_clause(stages: Sequence[Stage]) -> Any:
    checks = []
    for stage in stages:
        current = exists().where(
            AnalysisResult.mention_id == Mention.id,
            AnalysisResult.stage == stage.name,
            AnalysisResult.version == stage.version,
            AnalysisResult.revision == Mention.revision,
        )
        checks.append(~current)
    return or_(*checks)


def pending_ids(
    session: Session, stages: Sequence[Stage], *, after_id: int = 0, limit: int = 500, upto_id: int | None = None
) -> list[int]:
    stmt = select(Mention.id).where(Mention.id > after_id, _pending_clause(stages))
    if upto_id is not None:
        stmt = stmt.where(Mention.id <= upto_id)
    return list(session.scalars(stmt.order_by(Mention.id).limit(limit)))


def count_pending(session: Session, stages: Sequence[Stage]) -> int:
    from sqlalchemy import func

    return int(session.scalar(select(func.count()).select_from(Mention).where(_pending_clause(stages))) or 0)


def _docs(session: Session, ids: Sequence[int]) -> tuple[list[Doc], dict[int, int]]:
    rows = session.execute(
        select(
            Mention.id, Mention.text, Mention.title, Mention.language_hint, Mention.platform, Mention.revision,
            Author.followers, Mention.kind, Mention.parent_external_id,
        )
        .outerjoin(Author, Author.id == Mention.author_id)
        .where(Mention.id.in_(ids))
        .order_by(Mention.id)
    ).all()  # fmt: skip
    docs = [
        Doc(
            r.id,
            r.text or "",
            r.title,
            r.language_hint,
            r.platform,
            r.followers,
            r.kind,
            r.parent_external_id is not None,
        )
        for r in rows
    ]
    return docs, {r.id: r.revision for r in rows}


def _corrections(session: Session, ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """The latest correction per mention and task."""
    found: dict[int, dict[str, str]] = {}
    rows = session.execute(
        select(Feedback.mention_id, Feedback.task, Feedback.label)
        .where(Feedback.mention_id.in_(ids))
        .order_by(Feedback.id)
    )
    for mention_id, task, label in rows:
        found.setdefault(mention_id, {})[task] = label
    return found


def correction_value(task: str, label: str) -> Any:
    return label == "offensive" if task == "offensive" else label


def store_results(
    session: Session, stages: Sequence[Stage], docs: Sequence[Doc], results: Sequence[Mapping[str, Result]],
    revisions: Mapping[int, int],
) -> None:  # fmt: skip
    """Upsert the results and project them onto the mention columns (corrections win)."""
    stamp = now()
    ids = [d.mention_id for d in docs]
    session.execute(
        delete(AnalysisResult).where(
            and_(AnalysisResult.mention_id.in_(ids), AnalysisResult.stage.in_([s.name for s in stages]))
        )
    )
    rows: list[tuple[int, str, str, int, Result]] = []
    updates: list[dict[str, Any]] = []
    corrections = _corrections(session, ids)
    for doc, per_stage in zip(docs, results, strict=True):
        columns: dict[str, Any] = {}
        for stage in stages:
            result = per_stage[stage.name]
            rows.append((doc.mention_id, stage.name, stage.version, revisions[doc.mention_id], result))
            if "error" not in result:
                columns.update({k: v for k, v in stage.columns(result).items() if k in PROJECTED_COLUMNS})
        for task, label in corrections.get(doc.mention_id, {}).items():
            columns[FEEDBACK_COLUMNS[task]] = correction_value(task, label)
        if columns:
            updates.append({"id": doc.mention_id, **columns})
    insert_results(session, rows, now=stamp)
    update_mentions(session, updates)


def analyze_ids(session: Session, stages: Sequence[Stage], ids: Sequence[int]) -> int:
    """Analyse these mentions now (whether pending or not); returns how many were analysed."""
    if not ids:
        return 0
    docs, revisions = _docs(session, ids)
    results = run_stages(stages, docs)
    store_results(session, stages, docs, results, revisions)
    # the batch's query matches follow the results they may test (sentiment, intent), same transaction
    from resonanz.listening.matching import match_mentions

    match_mentions(session, mention_ids=[d.mention_id for d in docs])
    return len(docs)


@dataclass
class AnalyzeReport:
    analysed: int = 0
    batches: int = 0


def analyze_pending(
    factory: sessionmaker[Session],
    stages: Sequence[Stage],
    *,
    batch: int = 500,
    from_id: int = 0,
    upto_id: int | None = None,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> AnalyzeReport:
    """Analyse pending mentions in id order, one transaction per batch (resumable)."""
    report = AnalyzeReport()
    after = from_id
    while limit is None or report.analysed < limit:
        size = batch if limit is None else min(batch, limit - report.analysed)
        with transaction(factory) as session:
            ids = pending_ids(session, stages, after_id=after, limit=size, upto_id=upto_id)
            if not ids:
                break
            report.analysed += analyze_ids(session, stages, ids)
        report.batches += 1
        after = ids[-1]
        if progress is not None:
            progress(len(ids))
    return report
