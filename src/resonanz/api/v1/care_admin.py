"""``/api/v1/audit-events`` (the audit log, filtered, paged by cursor) and ``/api/v1/care-settings``
(the CSAT link on resolve, globally and per team; the installation's profanity terms; the channel
length limits the policy check applies, read-only; deleting an approval rule).

Approval rules, blocked phrases and crisis mode keep their endpoints in
:mod:`resonanz.api.v1.knowledge`. Permissions: the audit log needs ``audit.read``; reading the care
settings ``cases.read``; changing them, and deleting an approval rule, ``cases.assign`` (like
routing, SLAs and saving an approval rule). Every change is audited with before and after.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import BaseModel, Field

from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import Principal
from resonanz.api.deps import DbSession, require
from resonanz.api.pagination import PageBase, Paging, decode_cursor, encode_cursor, set_link_header
from resonanz.api.problems import problem_docs
from resonanz.audit.models import AuditEvent
from resonanz.audit.service import AuditFilter, count_events, page_events
from resonanz.cases import approvals, care_settings
from resonanz.clock import ensure_utc
from resonanz.db.engine import begin_read_only

router = APIRouter(tags=["care admin"])

READ_DOCS = problem_docs(401, 403, 404, 414, 422)
WRITE_DOCS = problem_docs(400, 401, 403, 404, 409, 413, 414, 422)
MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Auditor = Annotated[Principal, require(Permission.audit_read)]
Reader = Annotated[Principal, require(Permission.cases_read)]
Manager = Annotated[Principal, require(Permission.cases_assign)]


class AuditEventRead(BaseModel):
    id: int
    at: datetime
    actor_user_id: int | None
    action: str
    object_type: str
    object_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditEventPage(PageBase):
    items: list[AuditEventRead]


def _event(e: AuditEvent) -> AuditEventRead:
    return AuditEventRead(id=e.id, at=e.at, actor_user_id=e.actor_user_id, action=e.action,
                          object_type=e.object_type, object_id=e.object_id, before=e.before, after=e.after)  # fmt: skip


@router.get("/audit-events", response_model=AuditEventPage, summary="The audit log, newest first", responses=READ_DOCS)
def list_audit_events(
    request: Request,
    response: Response,
    session: DbSession,
    principal: Auditor,
    paging: Paging,
    actor_user_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="only this person's changes")] = None,
    system: Annotated[bool, Query(description="only changes without a person (system, command line)")] = False,
    action: Annotated[
        str | None, Query(max_length=64, description="exact action, or a prefix ending in '.' or '*' (case.)")
    ] = None,
    object_type: Annotated[str | None, Query(max_length=40, description="case, team, approval_rule …")] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query(description="from this time (inclusive; UTC when no zone)")] = None,
    until: Annotated[datetime | None, Query(description="before this time (exclusive)")] = None,
) -> AuditEventPage:
    begin_read_only(session)
    where = AuditFilter(
        actor_user_id=actor_user_id,
        system_only=system,
        action=action or None,
        object_type=object_type or None,
        object_id=object_id or None,
        since=ensure_utc(since) if since else None,
        until=ensure_utc(until) if until else None,
    )
    before_id = decode_cursor(paging.cursor, keys={"id": int})["id"] if paging.cursor else None
    rows, next_id = page_events(session, where=where, before_id=before_id, limit=paging.limit)
    next_cursor = encode_cursor({"id": next_id}) if next_id is not None else None
    set_link_header(request, response, next_cursor)
    total, capped = count_events(session, where=where) if before_id is None else (None, False)
    return AuditEventPage(items=[_event(e) for e in rows], next_cursor=next_cursor, limit=paging.limit,
                          total=total, total_capped=capped)  # fmt: skip


# --- care settings --------------------------------------------------------------------------------


class TeamCsatRead(BaseModel):
    team_id: int
    team_name: str
    override: bool | None = Field(description="the team's own choice; null: follows the global switch")
    effective: bool


class CsatSettingsRead(BaseModel):
    enabled: bool = Field(description="send a CSAT link when a case is resolved (teams may override)")
    teams: list[TeamCsatRead]


class CsatGlobalIn(BaseModel):
    enabled: bool


class TeamCsatIn(BaseModel):
    enabled: bool | None = Field(description="true/false, or null to follow the global switch again")


class ProfanityIn(BaseModel):
    term: str = Field(min_length=1, max_length=100)


class ProfanityRead(ProfanityIn):
    id: int


class ChannelLimitRead(BaseModel):
    platform: str
    limit: int
    unit: str


def _csat(session: Any) -> CsatSettingsRead:
    teams = [TeamCsatRead(team_id=t.team_id, team_name=t.team_name, override=t.override, effective=t.effective)
             for t in care_settings.team_csat(session)]  # fmt: skip
    return CsatSettingsRead(enabled=care_settings.csat_global(session), teams=teams)


@router.get("/care-settings/csat", response_model=CsatSettingsRead, summary="CSAT link on resolve",
            responses=READ_DOCS)  # fmt: skip
def get_csat(session: DbSession, principal: Reader) -> CsatSettingsRead:
    return _csat(session)


@router.put("/care-settings/csat", response_model=CsatSettingsRead, summary="Switch the CSAT link on resolve",
            responses=WRITE_DOCS)  # fmt: skip
def set_csat(data: CsatGlobalIn, session: DbSession, principal: Manager) -> CsatSettingsRead:
    care_settings.do_set_csat_global(session, enabled=data.enabled, actor=principal)
    session.commit()
    return _csat(session)


@router.put("/care-settings/csat/teams/{team_id}", response_model=CsatSettingsRead,
            summary="Override the CSAT switch for one team", responses=WRITE_DOCS)  # fmt: skip
def set_team_csat(team_id: Id, data: TeamCsatIn, session: DbSession, principal: Manager) -> CsatSettingsRead:
    care_settings.do_set_team_csat(session, team_id=team_id, enabled=data.enabled, actor=principal)
    session.commit()
    return _csat(session)


@router.get("/care-settings/profanity", response_model=list[ProfanityRead],
            summary="The installation's own profanity terms", responses=READ_DOCS)  # fmt: skip
def list_profanity(session: DbSession, principal: Reader) -> list[ProfanityRead]:
    return [ProfanityRead(id=t.id, term=t.term) for t in care_settings.list_profanity(session)]


@router.post("/care-settings/profanity", response_model=ProfanityRead, status_code=status.HTTP_201_CREATED,
             summary="Add a profanity term", responses=WRITE_DOCS)  # fmt: skip
def add_profanity(data: ProfanityIn, session: DbSession, principal: Manager) -> ProfanityRead:
    row = care_settings.do_add_profanity(session, term=data.term, actor=principal)
    session.commit()
    return ProfanityRead(id=row.id, term=row.term)


@router.delete("/care-settings/profanity/{term_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Remove a profanity term", responses=WRITE_DOCS)  # fmt: skip
def remove_profanity(term_id: Id, session: DbSession, principal: Manager) -> Response:
    care_settings.do_remove_profanity(session, id=term_id, actor=principal)
    session.commit()
    return Response(status_code=204)


@router.get("/care-settings/channel-limits", response_model=list[ChannelLimitRead],
            summary="Reply length limits per platform (fixed by the platforms)", responses=READ_DOCS)  # fmt: skip
def channel_limits(principal: Reader) -> list[ChannelLimitRead]:
    return [ChannelLimitRead(platform=p, limit=c.limit, unit=c.unit.value)
            for p, c in care_settings.channel_limits().items()]  # fmt: skip


@router.delete("/care-settings/approval-rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Delete an approval rule", responses=WRITE_DOCS)  # fmt: skip
def delete_approval_rule(rule_id: Id, session: DbSession, principal: Manager) -> Response:
    approvals.do_delete_rule(session, id=rule_id, actor=principal)
    session.commit()
    return Response(status_code=204)
