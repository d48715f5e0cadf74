"""Background jobs of the listening feature: ``listening.reapply`` (a query's matches rebuilt
over history, see :mod:`resonanz.listening.reapply`)."""

from __future__ import annotations

from typing import Any

from resonanz.db.database import Database
from resonanz.listening.queries import REAPPLY_KIND
from resonanz.worker.tasks import TaskResult, register_task


@register_task(REAPPLY_KIND)
def reapply_task(db: Database, payload: dict[str, Any]) -> TaskResult:
    """Rebuild one query's matches for the version in the payload (stops when superseded)."""
    from resonanz.listening.reapply import run_reapply

    return run_reapply(db, payload)
