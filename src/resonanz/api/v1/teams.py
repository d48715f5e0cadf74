"""``/api/v1/teams``: teams and departments and who is in them (the facts case routing will use).

Reading needs ``users.read`` (everyone who may see colleagues); creating teams and changing
membership needs ``users.manage``. Writes go through :mod:`resonanz.accounts.teams` (audited).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from resonanz.accounts import service as accounts_service
from resonanz.accounts import teams
from resonanz.accounts.models import Team, TeamKind
from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import Principal
from resonanz.api.deps import DbSession, require
from resonanz.api.etags import etag_for, not_modified
from resonanz.api.problems import problem_docs
from resonanz.errors import InputError

router = APIRouter(prefix="/teams", tags=["users"])

MAX_ID = 2**31 - 1
TeamId = Annotated[int, Path(ge=1, le=MAX_ID, description="the team's id")]
UserId = Annotated[int, Path(ge=1, le=MAX_ID, description="the user's id")]


class TeamCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, examples=["Social Care"])
    kind: TeamKind = TeamKind.team


class TeamRead(BaseModel):
    id: int
    name: str
    kind: TeamKind
    member_ids: list[int] = Field(description="ids of the users in the team")


def team_read(session: Session, team: Team) -> TeamRead:
    members = [u.id for u in teams.members_of(session, team_id=team.id)]
    return TeamRead(id=team.id, name=team.name, kind=TeamKind(team.kind), member_ids=members)


@router.get("", response_model=list[TeamRead], summary="List teams", responses=problem_docs(401, 403, 414))
def list_teams(session: DbSession, principal: Annotated[Principal, require(Permission.users_read)]) -> list[TeamRead]:
    """Every team and department, by name, with its members."""
    return [team_read(session, t) for t in teams.list_teams(session)]


@router.post(
    "",
    response_model=TeamRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a team",
    responses=problem_docs(400, 401, 403, 409, 413, 414, 422),
)
def create_team(
    data: TeamCreate,
    response: Response,
    session: DbSession,
    principal: Annotated[Principal, require(Permission.users_manage)],
) -> TeamRead:
    try:
        team = teams.do_create_team(session, name=data.name, kind=data.kind, actor=principal)
    except InputError as exc:
        loc = ("body", exc.location or "name")
        raise RequestValidationError([{"loc": loc, "msg": exc.reason, "type": "value_error"}]) from None
    session.commit()
    read = team_read(session, team)
    response.headers["ETag"] = etag_for("team", team.id, read)
    response.headers["Location"] = f"/api/v1/teams/{team.id}"
    return read


@router.get(
    "/{team_id}",
    response_model=TeamRead,
    summary="Get a team",
    responses={304: {"description": "Not modified (If-None-Match)"}, **problem_docs(401, 403, 404, 414, 422)},
)
def get_team(
    team_id: TeamId,
    request: Request,
    response: Response,
    session: DbSession,
    principal: Annotated[Principal, require(Permission.users_read)],
) -> TeamRead | Response:
    read = team_read(session, teams.get_team(session, id=team_id))
    return not_modified(request, response, etag_for("team", team_id, read)) or read


@router.put(
    "/{team_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Add a member",
    responses=problem_docs(401, 403, 404, 414, 422),
)
def add_member(
    team_id: TeamId,
    user_id: UserId,
    session: DbSession,
    principal: Annotated[Principal, require(Permission.users_manage)],
) -> Response:
    """Put the user in the team (already a member: nothing changes)."""
    team = teams.get_team(session, id=team_id)
    user = accounts_service.get_user(session, id=user_id)
    teams.do_add_team_member(session, team=team, user=user, actor=principal)
    session.commit()
    return Response(status_code=204)


@router.delete(
    "/{team_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a member",
    responses=problem_docs(401, 403, 404, 414, 422),
)
def remove_member(
    team_id: TeamId,
    user_id: UserId,
    session: DbSession,
    principal: Annotated[Principal, require(Permission.users_manage)],
) -> Response:
    """Take the user out of the team (not a member: nothing changes)."""
    team = teams.get_team(session, id=team_id)
    user = accounts_service.get_user(session, id=user_id)
    teams.do_remove_team_member(session, team=team, user=user, actor=principal)
    session.commit()
    return Response(status_code=204)
