"""Built-in plugin of the dashboards: keep the hourly rollups current as batches are matched."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from resonanz.hookspecs import hookimpl
from resonanz.listening.rollups import refresh_mentions


@hookimpl
def mentions_matched(session: Session, mention_ids: Sequence[int]) -> None:
    """Recompute the buckets of the hours this batch touched (inside the batch's transaction)."""
    refresh_mentions(session, mention_ids=mention_ids)
