"""Analysis as background work: ingest enqueues the ids it stored, a worker analyses them.

The payload carries id ranges only (ids of one batch are mostly contiguous), so a job stays small
whatever the batch size; the handler analyses what in those ranges is still pending, so a job that
runs twice does nothing the second time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy.orm import Session

ANALYSIS_KIND = "analysis.mentions"


def id_ranges(ids: Iterable[int]) -> list[list[int]]:
    """[3, 4, 5, 9, 10] -> [[3, 5], [9, 10]]."""
    ranges: list[list[int]] = []
    for value in sorted(set(ids)):
        if ranges and value == ranges[-1][1] + 1:
            ranges[-1][1] = value
        else:
            ranges.append([value, value])
    return ranges


def enqueue_analysis(session: Session, ids: Sequence[int]) -> int | None:
    """Queue analysis of ``ids`` in the caller's transaction (the same one that stored them)."""
    if not ids:
        return None
    from resonanz.worker.queue import enqueue

    return enqueue(session, kind=ANALYSIS_KIND, payload={"ranges": id_ranges(ids)}, priority=50)
