"""Reading reports and runs; which period a report owes next."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from resonanz.accounts.models import User
from resonanz.errors import NotFoundError
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


def recipients(session: Session, *, report: ReportDefinition) -> list[str]:
    """The addresses a report goes to: its active users' and its extra addresses, each once."""
    out: list[str] = []
    if report.recipient_user_ids:
        users = session.scalars(
            select(User.email).where(User.id.in_(report.recipient_user_ids), User.active.is_(True)).order_by(User.id)
        )
        out += [e.lower() for e in users]
    for address in report.recipient_emails:
        if address.lower() not in out:
            out.append(address.lower())
    return out


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
