"""Background jobs of reports: ``reports.run_due`` every five minutes creates the runs of periods
that have ended and sends every pending run; ``reports.send_run`` sends one run at once ("send
now"). Both are safe to repeat: a run is created once per period and claimed before it is sent
(:mod:`resonanz.reports.actions`)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from resonanz.clock import now
from resonanz.db.database import Database
from resonanz.db.engine import begin_read_only, transaction
from resonanz.reports.actions import (
    MAX_ATTEMPTS,
    SEND_KIND,
    claim_run,
    create_due_runs,
    deliver_all,
    delivery_for,
    fail_stale_runs,
    record_delivery,
    render_window,
    run_window,
    store_rendered,
)
from resonanz.reports.models import ReportDefinition, ReportRun, RunStatus
from resonanz.worker.periodic import register_periodic
from resonanz.worker.tasks import TaskResult, register_task

log = logging.getLogger(__name__)

RUN_DUE_KIND = "reports.run_due"
EVERY = timedelta(minutes=5)


def process_run(db: Database, *, run_id: int) -> str:
    """Claim, render and send one pending run; returns the run's status afterwards ("skipped"
    when it was not pending). The SMTP call happens outside any transaction."""
    with transaction(db.sessions) as session:
        if not claim_run(session, run_id=run_id, at=now()):
            return "skipped"
    try:
        with db.sessions() as session:
            begin_read_only(session)  # gathering reads a lot: no write lock meanwhile (SQLite)
            run = session.get_one(ReportRun, run_id)
            report = session.get_one(ReportDefinition, run.report_id)
            rendered = render_window(session, report=report, window=run_window(report, run), settings=db.settings)
            groups, filename = delivery_for(session, run=run)
    except Exception as exc:  # a report that cannot be rendered is recorded, not retried forever
        log.warning("report run %s could not be generated", run_id, exc_info=True)
        with transaction(db.sessions) as session:
            run = session.get_one(ReportRun, run_id)
            run.status = RunStatus.pending if run.attempts < MAX_ATTEMPTS else RunStatus.failed
            run.error = f"could not generate: {type(exc).__name__}: {exc}"[:500]
        return str(run.status)
    with transaction(db.sessions) as session:
        store_rendered(session.get_one(ReportRun, run_id), rendered)
    results = deliver_all(db.settings, groups=groups, rendered=rendered, filename=filename)
    with transaction(db.sessions) as session:
        run = session.get_one(ReportRun, run_id)
        record_delivery(session, run=run, results=results)
        return str(run.status)


@register_task(RUN_DUE_KIND)
def run_due(db: Database, payload: dict[str, Any]) -> TaskResult:
    at = now()
    with transaction(db.sessions) as session:
        created = create_due_runs(session, at=at)
        stale = fail_stale_runs(session, at=at)
    with db.sessions() as session:
        pending = list(
            session.scalars(select(ReportRun.id).where(ReportRun.status == RunStatus.pending).order_by(ReportRun.id))
        )
    outcomes = {run_id: process_run(db, run_id=run_id) for run_id in pending}
    return {"created": created, "stale": stale, "runs": outcomes}


@register_task(SEND_KIND)
def send_run(db: Database, payload: dict[str, Any]) -> TaskResult:
    run_id = int(payload["run_id"])
    return {"run_id": run_id, "status": process_run(db, run_id=run_id)}


register_periodic(RUN_DUE_KIND, every=EVERY)
