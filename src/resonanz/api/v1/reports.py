"""``/api/v1/reports``: report definitions (CRUD), their runs, the PDF of a run, and "generate now".

Reading needs ``reports.read``; creating, changing, deleting, generating and sending need
``reports.manage``. A generated report is stored as a run, so ``POST /reports/generate`` answers
with the run and its ``pdf_url``; the PDF itself is ``GET /reports/runs/{id}.pdf``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import BaseModel

from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import Principal
from resonanz.api.deps import DbSession, require
from resonanz.api.problems import problem_docs
from resonanz.clock import now
from resonanz.config import Settings
from resonanz.db.engine import begin_read_only
from resonanz.errors import NotFoundError
from resonanz.reports import actions, service
from resonanz.reports.models import ReportDefinition, ReportRun
from resonanz.reports.schemas import GenerateRequest, ReportCreate, ReportRead, ReportUpdate, RunRead

router = APIRouter(prefix="/reports", tags=["reports"])

MAX_ID = 2**31 - 1
ReportId = Annotated[int, Path(ge=1, le=MAX_ID, description="the report's id")]
RunId = Annotated[int, Path(ge=1, le=MAX_ID, description="the run's id")]


class RunOut(RunRead):
    pdf_url: str | None = None


class RunPage(BaseModel):
    items: list[RunOut]
    next_before: int | None


def _read(report: ReportDefinition) -> ReportRead:
    read = ReportRead.model_validate(report)
    return read.model_copy(update={"next_run_at": service.next_run_at(report, at=now())})


def _run(run: ReportRun) -> RunOut:
    out = RunOut.model_validate(run)
    return out.model_copy(update={"pdf_url": f"/api/v1/reports/runs/{run.id}.pdf" if run.pdf_size else None})


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("", response_model=list[ReportRead], summary="List reports", responses=problem_docs(401, 403))
def list_reports(
    session: DbSession, principal: Annotated[Principal, require(Permission.reports_read)]
) -> list[ReportRead]:
    """Every report definition, by name, with when it is next sent."""
    return [_read(r) for r in service.list_reports(session)]


@router.post(
    "",
    response_model=ReportRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a report",
    responses=problem_docs(400, 401, 403, 409, 422),
)
def create_report(
    data: ReportCreate,
    response: Response,
    session: DbSession,
    principal: Annotated[Principal, require(Permission.reports_manage)],
) -> ReportRead:
    """A scheduled report: scope (``brand_ids`` or ``query_ids``; neither: every mention), period,
    recipients (user ids and addresses), language and time zone."""
    report = actions.do_create_report(session, data=data, actor=principal)
    session.commit()
    response.headers["Location"] = f"/api/v1/reports/{report.id}"
    return _read(report)


@router.get(
    "/runs",
    response_model=RunPage,
    summary="List report runs",
    responses=problem_docs(401, 403, 422),
)
def list_runs(
    session: DbSession,
    principal: Annotated[Principal, require(Permission.reports_read)],
    report_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="only this report's runs")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID, description="next page: the value of next_before")] = None,
) -> RunPage:
    """Runs newest first (scheduled and on demand), with their status, key numbers and PDF link."""
    runs = service.list_runs(session, report_id=report_id, limit=limit + 1, before_id=before)
    more = len(runs) > limit
    runs = runs[:limit]
    return RunPage(items=[_run(r) for r in runs], next_before=runs[-1].id if more and runs else None)


@router.get(
    "/runs/{run_id:int}.pdf",
    summary="Download a run's PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **problem_docs(401, 403, 404, 422)},
)
def run_pdf(
    run_id: RunId, session: DbSession, principal: Annotated[Principal, require(Permission.reports_read)]
) -> Response:
    run = service.get_run(session, id=run_id, with_pdf=True)
    if not run.pdf:
        raise NotFoundError(f"run {run_id} has no PDF (status {run.status})")
    report = service.get_report(session, id=run.report_id)
    name = actions.pdf_filename(report, run)
    return Response(
        content=run.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"},
    )


@router.get(
    "/runs/{run_id:int}", response_model=RunOut, summary="Get a run", responses=problem_docs(401, 403, 404, 422)
)
def get_run(
    run_id: RunId, session: DbSession, principal: Annotated[Principal, require(Permission.reports_read)]
) -> RunOut:
    return _run(service.get_run(session, id=run_id))


@router.post(
    "/runs/{run_id:int}/send",
    response_model=RunOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="E-mail a run (again)",
    responses=problem_docs(401, 403, 404, 409, 422),
)
def send_run(
    run_id: RunId, session: DbSession, principal: Annotated[Principal, require(Permission.reports_manage)]
) -> RunOut:
    """Queue the run to be e-mailed to the report's recipients; its status tells the outcome."""
    run = actions.do_send_again(session, run=service.get_run(session, id=run_id), actor=principal)
    session.commit()
    return _run(run)


@router.post(
    "/generate",
    response_model=RunOut,
    status_code=status.HTTP_201_CREATED,
    summary="Generate a report now",
    responses=problem_docs(400, 401, 403, 404, 409, 422),
)
def generate(
    data: GenerateRequest,
    request: Request,
    session: DbSession,
    principal: Annotated[Principal, require(Permission.reports_manage)],
) -> RunOut:
    """Generate the report of the period containing ``at`` (default: the last complete period)
    now; with ``send`` also e-mail it. Download the PDF from ``pdf_url``."""
    settings = _settings(request)
    begin_read_only(session)  # gathering reads a lot: do it without the write lock, then store
    report = service.get_report(session, id=data.report_id)
    window = actions.requested_window(report, at=data.at)
    rendered = actions.render_window(session, report=report, window=window, settings=settings)
    session.rollback()
    run = actions.do_generate_now(
        session, report=report, at=None, actor=principal, settings=settings, rendered=rendered
    )
    if data.send:
        actions.do_send_again(session, run=run, actor=principal)
    session.commit()
    return _run(run)


@router.get(
    "/{report_id:int}", response_model=ReportRead, summary="Get a report", responses=problem_docs(401, 403, 404, 422)
)
def get_report(
    report_id: ReportId, session: DbSession, principal: Annotated[Principal, require(Permission.reports_read)]
) -> ReportRead:
    return _read(service.get_report(session, id=report_id))


@router.patch(
    "/{report_id:int}",
    response_model=ReportRead,
    summary="Change a report",
    responses=problem_docs(400, 401, 403, 404, 409, 422),
)
def update_report(
    report_id: ReportId,
    data: ReportUpdate,
    session: DbSession,
    principal: Annotated[Principal, require(Permission.reports_manage)],
) -> ReportRead:
    report = actions.do_update_report(
        session, report=service.get_report(session, id=report_id), data=data, actor=principal
    )
    session.commit()
    return _read(report)


@router.delete(
    "/{report_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a report",
    responses=problem_docs(401, 403, 404, 422),
)
def delete_report(
    report_id: ReportId, session: DbSession, principal: Annotated[Principal, require(Permission.reports_manage)]
) -> Response:
    """Delete the report and its runs."""
    actions.do_delete_report(session, report=service.get_report(session, id=report_id), actor=principal)
    session.commit()
    return Response(status_code=204)
