"""Writes on reports: definitions (audited), runs created for due periods, generation and sending.

Exactly once per period: :func:`create_due_runs` inserts a scheduled run per ``(report,
period_start)`` under a unique index (a second insert — another worker, a repeated tick — fails
and is skipped); :func:`claim_run` moves a run from ``pending`` to ``sending`` with a conditional
update, so only one worker sends it. A failed send that may succeed later (SMTP 4xx, a timeout)
goes back to ``pending`` until :data:`MAX_ATTEMPTS`; a run left in ``sending`` by a crashed worker
is not sent again (the mail may have gone out) but marked failed after :data:`STALE_AFTER`, so
people see it and can send it by hand.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from resonanz.accounts.models import User
from resonanz.audit.actions import Actor, do_record
from resonanz.clock import now
from resonanz.config import Settings
from resonanz.errors import ConflictError, InputError
from resonanz.listening.models import Brand, Query
from resonanz.notifications.base import DeliveryResult, DeliveryStatus
from resonanz.notifications.email import send_email
from resonanz.notifications.readers import Readers
from resonanz.reports.content import ReportContent, gather
from resonanz.reports.digest import Digest, render_digest
from resonanz.reports.models import ReportDefinition, ReportRun, RunStatus, RunTrigger
from resonanz.reports.pdf import render_pdf
from resonanz.reports.schedule import Period, Window, containing, last_complete, zone
from resonanz.reports.schemas import ReportCreate, ReportRead, ReportUpdate
from resonanz.reports.service import due_window, recipients
from resonanz.worker.queue import enqueue

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
#: the job that sends one run (enqueued by "send now"; the periodic job sends due runs itself)
SEND_KIND = "reports.send_run"
STALE_AFTER = timedelta(minutes=30)


def _check_refs(session: Session, *, brand_ids: list[int], query_ids: list[int], user_ids: list[int]) -> None:
    for field, model, ids in (
        ("brand_ids", Brand, brand_ids),
        ("query_ids", Query, query_ids),
        ("recipient_user_ids", User, user_ids),
    ):
        if not ids:
            continue
        found = set(session.scalars(select(model.id).where(model.id.in_(ids))))
        missing = sorted(set(ids) - found)
        if missing:
            raise InputError(f"unknown id(s): {', '.join(map(str, missing))}", location=field)


def _name_free(session: Session, name: str, *, except_id: int | None = None) -> None:
    other = session.scalar(select(ReportDefinition.id).where(ReportDefinition.name == name))
    if other is not None and other != except_id:
        raise ConflictError(f"a report named {name!r} exists already")


def _snapshot(report: ReportDefinition) -> dict[str, Any]:
    return ReportRead.model_validate(report).model_dump(
        mode="json", exclude={"created_at", "updated_at", "next_run_at"}
    )


def do_create_report(session: Session, *, data: ReportCreate, actor: Actor | None) -> ReportDefinition:
    _name_free(session, data.name)
    _check_refs(session, brand_ids=data.brand_ids, query_ids=data.query_ids, user_ids=data.recipient_user_ids)
    stamp = now()
    report = ReportDefinition(
        **data.model_dump(),
        created_by_id=actor.user_id if actor is not None else None,
        created_at=stamp,
        updated_at=stamp,
    )
    session.add(report)
    session.flush()
    do_record(
        session, actor=actor, action="report.create", object_type="report", object_id=report.id, after=_snapshot(report)
    )
    return report


def do_update_report(
    session: Session, *, report: ReportDefinition, data: ReportUpdate, actor: Actor | None
) -> ReportDefinition:
    before = _snapshot(report)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "name" in changes:
        changes["name"] = changes["name"].strip()
        _name_free(session, changes["name"], except_id=report.id)
    _check_refs(
        session,
        brand_ids=changes.get("brand_ids", []),
        query_ids=changes.get("query_ids", []),
        user_ids=changes.get("recipient_user_ids", []),
    )
    for key, value in changes.items():
        setattr(report, key, value)
    report.updated_at = now()
    session.flush()
    do_record(
        session,
        actor=actor,
        action="report.update",
        object_type="report",
        object_id=report.id,
        before=before,
        after=_snapshot(report),
    )
    return report


def do_delete_report(session: Session, *, report: ReportDefinition, actor: Actor | None) -> None:
    before = _snapshot(report)
    session.delete(report)
    session.flush()
    do_record(session, actor=actor, action="report.delete", object_type="report", object_id=before["id"], before=before)


# --- runs -------------------------------------------------------------------------------------


def create_due_runs(session: Session, *, at: datetime) -> list[int]:
    """Insert the scheduled run each enabled report owes at ``at`` (none when it exists)."""
    created: list[int] = []
    reports = session.scalars(
        select(ReportDefinition).where(ReportDefinition.enabled.is_(True)).order_by(ReportDefinition.id)
    )
    for report in reports:
        window = due_window(report, at=at)
        if window is None:
            continue
        exists = session.scalar(
            select(ReportRun.id).where(
                ReportRun.report_id == report.id,
                ReportRun.period_start == window.start,
                ReportRun.trigger == RunTrigger.schedule,
            )
        )
        if exists is not None:
            continue
        run = _new_run(report, window, RunTrigger.schedule, at=at)
        try:
            with session.begin_nested():
                session.add(run)
        except IntegrityError:
            continue  # another worker inserted it first
        created.append(run.id)
    return created


def _new_run(
    report: ReportDefinition, window: Window, trigger: RunTrigger, *, at: datetime, actor: Actor | None = None
) -> ReportRun:
    return ReportRun(
        report_id=report.id,
        trigger=trigger,
        period_start=window.start,
        period_end=window.end,
        status=RunStatus.pending,
        attempts=0,
        requested_by_id=actor.user_id if actor is not None else None,
        created_at=at,
        sent_to=[],
        summary={},
    )


def fail_stale_runs(session: Session, *, at: datetime) -> int:
    """Runs a worker claimed but never finished: marked failed, not resent (see module docstring)."""
    result = session.execute(
        update(ReportRun)
        .where(ReportRun.status == RunStatus.sending, ReportRun.claimed_at < at - STALE_AFTER)
        .values(status=RunStatus.failed, error="the sending worker stopped; it is unknown whether the e-mail went out")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def claim_run(session: Session, *, run_id: int, at: datetime) -> bool:
    """Take a pending run for sending; False when another worker has it or it is done."""
    result = session.execute(
        update(ReportRun)
        .where(ReportRun.id == run_id, ReportRun.status == RunStatus.pending)
        .values(status=RunStatus.sending, claimed_at=at, attempts=ReportRun.attempts + 1)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def run_window(report: ReportDefinition, run: ReportRun) -> Window:
    """The run's range (kept as stored even if the report's period or zone changed since)."""
    window = containing(run.period_start, period=Period(report.period), tz=report.tz)
    return window if window.start == run.period_start else Window(run.period_start, run.period_end, window.first_day)


def store_rendered(run: ReportRun, rendered: Rendered) -> None:
    """Keep the PDF and the key numbers on the run."""
    run.pdf, run.pdf_size, run.summary, run.generated_at = rendered.pdf, len(rendered.pdf), rendered.summary, now()


def pdf_filename(report: ReportDefinition, run: ReportRun) -> str:
    """``<name>-<first local day>.pdf``, ASCII letters, digits and single dashes only."""
    safe = re.sub(r"[^A-Za-z0-9_]+", "-", report.name).strip("-")[:60] or "report"
    first_day = run.period_start.astimezone(zone(report.tz)).date()
    return f"{safe}-{first_day.isoformat()}.pdf"


def delivery_for(session: Session, *, run: ReportRun) -> tuple[list[Readers], str]:
    """Who a run still goes to, one group per language (addresses an earlier attempt reached are
    left out: a retry never sends twice), and the PDF's file name."""
    report = session.get_one(ReportDefinition, run.report_id)
    done = set(run.sent_to)
    groups = [replace(g, to=[a for a in g.to if a not in done]) for g in recipients(session, report=report)]
    return [g for g in groups if g.to], pdf_filename(report, run)


def deliver(settings: Settings, *, to: list[str], digest: Digest, pdf: bytes, filename: str) -> DeliveryResult:
    """Send the digest with the PDF attached (no database work: call it outside a transaction,
    so a slow SMTP server holds no lock)."""
    if not to:
        return DeliveryResult(DeliveryStatus.failed, "no recipients")
    return send_email(
        settings,
        to=to,
        subject=digest.subject,
        text=digest.text,
        html=digest.html,
        attachments=[(filename, "application/pdf", pdf)],
    )


def deliver_all(
    settings: Settings, *, groups: list[Readers], rendered: Rendered, filename: str
) -> list[tuple[list[str], DeliveryResult]]:
    """One e-mail per language among the recipients: the digest and the PDF worded for it (the
    gathered numbers are the same; each other language costs one more rendering)."""
    content, public_url = rendered.content, settings.public_url
    out = []
    for group in groups:
        if group.language == content.language:
            digest, pdf = rendered.digest, rendered.pdf
        else:
            try:
                digest = render_digest(content, public_url=public_url, language=group.language)
                pdf = render_pdf(content, public_url=public_url, language=group.language)
            except Exception as exc:  # that language's readers wait; the others still get theirs
                log.warning("report could not be rendered in %s", group.language, exc_info=True)
                failed = DeliveryResult(DeliveryStatus.failed, f"could not generate ({group.language}): {exc}")
                out.append((group.to, failed))
                continue
        out.append((group.to, deliver(settings, to=group.to, digest=digest, pdf=pdf, filename=filename)))
    return out


def record_delivery(session: Session, *, run: ReportRun, results: list[tuple[list[str], DeliveryResult]]) -> None:
    """The outcome of :func:`deliver_all` on the run: every group reached (sent), or back to
    pending (a group to retry; those reached are kept in ``sent_to`` and not sent again), or
    failed. No recipients at all: generated, with that reason."""
    reached = [a for to, result in results if result.ok for a in to]
    failures = [result for _, result in results if not result.ok]
    run.sent_to = list(dict.fromkeys([*run.sent_to, *reached]))
    if reached:
        do_record(session, actor=None, action="report.sent", object_type="report_run", object_id=run.id,
                  after={"to": reached})  # fmt: skip
    if not results and not run.sent_to:
        run.status, run.error = RunStatus.generated, "no recipients"
    elif not failures:
        run.status, run.sent_at, run.error = RunStatus.sent, now(), None
    elif any(r.status is DeliveryStatus.retry for r in failures) and run.attempts < MAX_ATTEMPTS:
        run.status, run.error = RunStatus.pending, "; ".join(r.detail for r in failures)[:500]
    else:
        run.status, run.error = RunStatus.failed, "; ".join(r.detail for r in failures)[:500]
    session.flush()


@dataclass(frozen=True)
class Rendered:
    """A report rendered for one window, not yet stored."""

    window: Window
    pdf: bytes
    summary: dict[str, Any]
    digest: Digest
    content: ReportContent  # the gathered numbers, for other languages' renderings


def requested_window(report: ReportDefinition, *, at: datetime | None) -> Window:
    """The period containing ``at``, or by default the newest complete one."""
    period = Period(report.period)
    if at is None:
        return last_complete(now(), period=period, tz=report.tz)
    if at.tzinfo is None:
        raise InputError("the time needs its zone", location="at")
    if not 1970 <= at.year <= 2999:
        raise InputError("the time is out of range (years 1970 to 2999)", location="at")
    return containing(at, period=period, tz=report.tz)


def render_window(session: Session, *, report: ReportDefinition, window: Window, settings: Settings) -> Rendered:
    """Gather and render without writing, so a caller can do it in a read-only transaction (on
    SQLite a writing one holds ingest off while the numbers are gathered)."""
    content = gather(session, definition=report, window=window)
    pdf = render_pdf(content, public_url=settings.public_url)
    return Rendered(window, pdf, content.summary(), render_digest(content, public_url=settings.public_url), content)


def do_generate_now(
    session: Session,
    *,
    report: ReportDefinition,
    at: datetime | None,
    actor: Actor | None,
    settings: Settings,
    rendered: Rendered | None = None,
) -> ReportRun:
    """Generate a report on demand (not sent): the period containing ``at``, or by default the
    newest complete one; ``rendered`` (from :func:`render_window`) when it was rendered before.
    The PDF is stored on the run for download."""
    if rendered is None:
        rendered = render_window(session, report=report, window=requested_window(report, at=at), settings=settings)
    stamp = now()
    run = _new_run(report, rendered.window, RunTrigger.manual, at=stamp, actor=actor)
    store_rendered(run, rendered)
    run.status = RunStatus.generated
    session.add(run)
    session.flush()
    do_record(
        session,
        actor=actor,
        action="report.generate",
        object_type="report_run",
        object_id=run.id,
        after={"report_id": report.id, "period_start": rendered.window.start.isoformat()},
    )
    return run


def do_send_again(session: Session, *, run: ReportRun, actor: Actor | None) -> ReportRun:
    """Queue a run to be e-mailed (again) to the report's recipients, by a background job."""
    if run.status == RunStatus.sending:
        raise ConflictError("the run is being sent right now")
    # to every recipient again: an automatic retry skips those reached, a send-again does not
    run.status, run.error, run.attempts, run.sent_to = RunStatus.pending, None, 0, []
    session.flush()
    enqueue(session, kind=SEND_KIND, payload={"run_id": run.id}, dedupe_key=f"{SEND_KIND}:{run.id}")
    do_record(session, actor=actor, action="report.send", object_type="report_run", object_id=run.id)
    return run
