"""The registry of job kinds and their handlers.

A handler takes the :class:`~resonanz.db.database.Database` and the job's payload (ids only) and
returns a small JSON-able summary, or ``None``. Because delivery is at-least-once and a job may
wait a while, a handler re-reads the rows it acts on and decides from their *current* state: a
source deleted since the job was enqueued means the job is done, with a note, not an error.

A handler signals "do not retry" by raising :class:`NonRetryableError` (or a domain error that
no retry can fix: a bad config, a row that does not exist); any other exception is retried with
backoff until the job's attempts run out. Other features (and plugins) add kinds with
:func:`register_task`.
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Callable
from typing import Any

from resonanz.analysis.jobs import ANALYSIS_KIND
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.errors import ConfigError, ConnectorPermanentError, NotFoundError, ResonanzError
from resonanz.sources.models import Source
from resonanz.worker.scheduler import PULL_KIND

log = logging.getLogger(__name__)

TaskResult = dict[str, Any] | None
Handler = Callable[[Database, dict[str, Any]], TaskResult]

TASKS: dict[str, Handler] = {}

NON_RETRYABLE: tuple[type[BaseException], ...] = (ConfigError, NotFoundError, ConnectorPermanentError)


class NonRetryableError(ResonanzError):
    """Raised by a handler when trying again cannot help; the job is dead-lettered at once."""


def register_task(kind: str) -> Callable[[Handler], Handler]:
    """Decorator: make ``fn`` the handler of jobs of ``kind`` (a later registration replaces an
    earlier one, so a plugin can override a built-in)."""

    def decorator(fn: Handler) -> Handler:
        TASKS[kind] = fn
        return fn

    return decorator


#: Feature modules whose import registers their job handlers and periodic schedules. Loaded on
#: first use (not at import of this module) so features can import ``register_task`` from here.
FEATURE_TASK_MODULES = (
    "resonanz.listening.tasks",
    "resonanz.listening.alerts.tasks",
    "resonanz.reports.tasks",
    "resonanz.cases.tasks",
    "resonanz.cases.reply_tasks",
    "resonanz.cases.routing_tasks",
    "resonanz.cases.care_settings_tasks",
)


@functools.cache
def load_feature_tasks() -> None:
    for name in FEATURE_TASK_MODULES:
        importlib.import_module(name)


def handler_for(kind: str) -> Handler | None:
    load_feature_tasks()
    return TASKS.get(kind)


def is_retryable(exc: BaseException) -> bool:
    return not isinstance(exc, (NonRetryableError, *NON_RETRYABLE))


@register_task(PULL_KIND)
def pull_source_task(db: Database, payload: dict[str, Any]) -> TaskResult:
    """Pull one source, if it still exists and is still enabled."""
    from resonanz.sources.pull import pull_source  # connectors load lazily, on first pull

    source_id = int(payload["source_id"])
    with transaction(db.sessions) as session:
        source = session.get(Source, source_id)
        if source is None:
            return {"source_id": source_id, "note": "source no longer exists; nothing to do"}
        if not source.enabled:
            return {"source_id": source_id, "source": source.name, "note": "source is disabled; skipped"}
        name = source.name
    run = pull_source(db.sessions, source_id=source_id, settings=db.settings)
    return {
        "source_id": source_id,
        "source": name,
        "run_id": run.id,
        "status": str(run.status),
        "new": run.new,
        "updated": run.updated,
        "duplicate": run.duplicate,
        "rejected": run.rejected,
        "error": run.error,
    }


@register_task(ANALYSIS_KIND)
def analyze_mentions_task(db: Database, payload: dict[str, Any]) -> TaskResult:
    """Analyse the pending mentions in the payload's id ranges (edits and re-runs included)."""
    from resonanz.analysis.runner import analyze_pending, build_stages

    stages = build_stages(db.settings)
    if not stages:
        return {"analysed": 0, "note": "no analysis stages enabled"}
    analysed = 0
    for first, last in payload.get("ranges", []):
        analysed += analyze_pending(db.sessions, stages, from_id=int(first) - 1, upto_id=int(last)).analysed
    return {"analysed": analysed}
