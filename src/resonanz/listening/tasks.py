"""Background jobs of the listening feature: ``listening.reapply`` (a query's matches rebuilt
over history, see :mod:`resonanz.listening.reapply`) and ``listening.rollups.rebuild`` (the
dashboards' rollups counted again from the stored mentions, queued by the migration that changed
their shape so an upgraded store's dashboards fill without an operator's step)."""

from __future__ import annotations

from typing import Any

from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.listening.queries import REAPPLY_KIND
from resonanz.listening.rollups import REBUILD_KIND
from resonanz.worker.tasks import TaskResult, register_task


@register_task(REAPPLY_KIND)
def reapply_task(db: Database, payload: dict[str, Any]) -> TaskResult:
    """Rebuild one query's matches for the version in the payload (stops when superseded)."""
    from resonanz.listening.reapply import run_reapply

    return run_reapply(db, payload)


@register_task(REBUILD_KIND)
def rebuild_rollups_task(db: Database, payload: dict[str, Any]) -> TaskResult:
    """The same as ``resonanz analytics rebuild``: one transaction, so readers never see a
    half-built table (on SQLite it holds ingest off while it runs; on a large store the CLI in
    a quiet hour is the better tool, and finding the job done the worker does nothing twice)."""
    from resonanz.listening.rollups import rebuild

    with transaction(db.sessions) as session:
        rows = rebuild(session)
    return {"buckets": rows}
