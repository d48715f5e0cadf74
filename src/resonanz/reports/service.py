"""Reading reports and runs; which period a report owes next."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from resonanz.errors import NotFoundError
from resonanz.notifications.readers import Readers, group_readers
from resonanz.reports.models import ReportDefinition, ReportRun
from resonanz.reports.schedule import Period, Window, last_complete, next_run


def get_report(session: Session, *, id: int) -> ReportDefinition:
    report = session.get(ReportDefinition, id)
    if report is None:
        raise NotFoundError(f"no report with id {id}")
    return report


def get_report_by_name(session: Session, *, name: str) -> ReportDefinition:
    report = session.scalar(select(ReportDefinition).where(ReportDefinition.name == name))
    if report is None:
        raise NotFoundError(f"no report named {name!r}")
    return report


def list_reports(session: Session) -> list[ReportDefinition]:
    return list(session.scalars(select(ReportDefinition).order_by(ReportDefinition.name)))


def get_run(session: Session, *, id: int, with_pdf: bool = False) -> ReportRun:
    stmt = select(ReportRun).where(ReportRun.id == id)
    if with_pdf:
        stmt = stmt.options(undefer(ReportRun.pdf))
    run = session.scalar(stmt)
    if run is None:
        raise NotFoundError(f"no report run with id {id}")
    return run


def list_runs(
    session: Session, *, report_id: int | None = None, limit: int = 50, before_id: int | None = None
) -> list[ReportRun]:
    """Newest first (by id), ``limit`` at a time; ``before_id`` continues a page."""
    stmt = select(ReportRun).order_by(ReportRun.id.desc()).limit(limit)
    if report_id is not None:
        stmt = stmt.where(ReportRun.report_id == report_id)
    if before_id is not None:
        stmt = stmt.where(ReportRun.id < before_id)
    return list(session.scalars(stmt))


def recipients(session: Session, *, report: ReportDefinition) -> list[Readers]:
    """The addresses a report goes to, each once, grouped by language: its active users read
    their own language (or the report's), its extra addresses the report's. Everyone reads the
    report's zone, in which its period and days are cut. Addresses in lower case."""
    return group_readers(
        session,
        user_ids=report.recipient_user_ids,
        emails=report.recipient_emails,
        language=report.language,
        time_zone=report.tz,
        users_zone=False,
        lower=True,
    )


def due_window(report: ReportDefinition, *, at: datetime) -> Window | None:
    """The period a scheduled report owes at ``at``: the newest complete one, if it ended after
    the report was created (a new weekly report starts with the week it was created in)."""
    window = last_complete(at, period=Period(report.period), tz=report.tz)
    return window if window.end > report.created_at else None


def next_run_at(report: ReportDefinition, *, at: datetime) -> datetime | None:
    """When the report is next sent (None when its schedule is off)."""
    if not report.enabled:
        return None
    return next_run(max(at, report.created_at), period=Period(report.period), tz=report.tz)
