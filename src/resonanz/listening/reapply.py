"""Re-applying a query to history: its stored matches rebuilt for its current version.

The job (kind ``listening.reapply``, payload ``{query_id, version, after_id}``) walks the
mentions in id order, one batch per transaction: the history translation
(:mod:`resonanz.listening.history`) picks the candidates of the batch, the compiled query checks
them when the translation is not exact, and the query's matches in the batch's id range are
replaced. So a killed job loses at most one batch, and a job runs at most :data:`SLICE_S` before
it queues its continuation (``after_id``: where it stopped) in the transaction of its last batch.

Each batch re-reads the query: when its version moved on (someone saved again), the job stops,
superseded; the newer version's own job rebuilds everything. The last batch sets
``applied_version``. Mentions analysed meanwhile are matched by the streaming matcher with the
same (current) version, so the two never disagree.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, insert, select
from sqlalchemy.orm import Session

from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.listening.history import doc_columns, to_doc, translate
from resonanz.listening.models import Query, QueryMatch
from resonanz.listening.queries import REAPPLY_KIND
from resonanz.listening.query import PreparedDoc, QuerySyntaxError, compile_query
from resonanz.mentions.models import Author, Mention
from resonanz.sources.models import Source

BATCH = 2000
SLICE_S = 20.0


@dataclass
class Step:
    """What one batch did: ``state`` is "more", "done", "superseded" or "gone"."""

    state: str
    after_id: int = 0
    written: int = 0
    checked: int = 0


def reapply_step(session: Session, *, query_id: int, version: int, after_id: int, batch: int = BATCH) -> Step:
    """Rebuild the matches of mentions with id > ``after_id`` for one batch of candidates."""
    query = session.get(Query, query_id)
    if query is None:
        return Step("gone", after_id)
    if query.version != version:
        return Step("superseded", after_id)
    try:
        compiled = compile_query(query.text)
    except QuerySyntaxError:
        return Step("gone", after_id)
    plan = translate(session, compiled.tree)
    columns = () if plan.exact else doc_columns(compiled.tree)
    stmt = select(Mention.id, Mention.published_at, *columns)
    if columns and columns[5] is Source.name:
        stmt = stmt.outerjoin(Source, Source.id == Mention.source_id)
    if columns and columns[6] is Author.handle:
        stmt = stmt.outerjoin(Author, Author.id == Mention.author_id)
    conds = [Mention.id > after_id, *([plan.where] if plan.where is not None else [])]
    rows = session.execute(stmt.where(and_(*conds)).order_by(Mention.id).limit(batch)).all()
    last = rows[-1][0] if len(rows) == batch else None
    scope = [QueryMatch.query_id == query_id, QueryMatch.mention_id > after_id]
    if last is not None:
        scope.append(QueryMatch.mention_id <= last)
    session.execute(delete(QueryMatch).where(and_(*scope)))
    test = compiled.test
    found = [
        {"query_id": query_id, "mention_id": row[0], "published_at": row[1], "query_version": version}
        for row in rows
        if plan.exact or test(PreparedDoc(to_doc(row[2:])))
    ]
    if found:
        session.execute(insert(QueryMatch), found)
    if last is None:
        query.applied_version = version
        session.flush()
        return Step("done", after_id, len(found), len(rows))
    return Step("more", last, len(found), len(rows))


def run_reapply(
    db: Database, payload: dict[str, Any], *, slice_s: float = SLICE_S, batch: int = BATCH
) -> dict[str, Any]:
    """The job handler's work: batches until done, superseded, or the time slice is used up
    (then the continuation is queued with the last batch)."""
    from resonanz.worker.queue import enqueue

    query_id, version = int(payload["query_id"]), int(payload["version"])
    after = int(payload.get("after_id", 0))
    deadline = time.monotonic() + slice_s
    written = checked = 0
    while True:
        with transaction(db.sessions) as session:
            step = reapply_step(session, query_id=query_id, version=version, after_id=after, batch=batch)
            written += step.written
            checked += step.checked
            after = step.after_id
            if step.state == "more" and time.monotonic() > deadline:
                key = f"{REAPPLY_KIND}:{query_id}:{version}:{after}"
                enqueue(
                    session,
                    kind=REAPPLY_KIND,
                    payload={"query_id": query_id, "version": version, "after_id": after},
                    dedupe_key=key,
                    priority=120,
                )
                return {"state": "continued", "after_id": after, "matches": written, "checked": checked}
        if step.state != "more":
            return {"state": step.state, "after_id": after, "matches": written, "checked": checked}
