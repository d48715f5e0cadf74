"""``/api/v1/users`` (colleagues; admins manage them) and ``/api/v1/me`` (one's own profile and tokens).

Everything goes through :mod:`resonanz.accounts.actions`, so each change is audited, the last admin
cannot be demoted or switched off, and deactivating someone revokes their sessions and tokens.
A token's secret appears exactly once, in the answer to its creation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Path, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime, BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from resonanz.accounts import actions, teams
from resonanz.accounts import service as accounts_service
from resonanz.accounts.models import User
from resonanz.accounts.permissions import Permission, Role
from resonanz.accounts.schemas import ApiTokenRead, Principal, UserCreate, UserRead, UserUpdate, check_time_zone
from resonanz.api.deps import DbSession, require
from resonanz.api.etags import check_if_match, etag_for, not_modified
from resonanz.api.pagination import PageBase, Paging, decode_cursor, encode_cursor, set_link_header
from resonanz.api.problems import problem_docs
from resonanz.errors import InputError

router = APIRouter(tags=["users"])

MAX_ID = 2**31 - 1
UserId = Annotated[int, Path(ge=1, le=MAX_ID, description="the user's id")]
TokenId = Annotated[int, Path(ge=1, le=MAX_ID, description="the token's id")]


class UserPage(PageBase):
    items: list[UserRead]


class TeamRef(BaseModel):
    id: int
    name: str
    kind: str


class UserDetailRead(UserRead):
    """A user with what routing will choose by: teams, skills and the languages they answer in."""

    teams: list[TeamRef]
    skills: list[str]
    languages: list[str] = Field(description="ISO 639-1 codes of the languages the user answers customers in")


class UserAdminUpdate(BaseModel):
    """What an admin may change on anyone; omitted fields keep their value."""

    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    language: Literal["de", "en"] | None = None
    time_zone: str | None = Field(default=None, max_length=64)
    role: Role | None = None
    active: bool | None = Field(default=None, description="false switches the account off and revokes its tokens")
    skills: list[Annotated[str, Field(max_length=60)]] | None = Field(default=None, max_length=50)
    languages: list[Annotated[str, Field(max_length=8)]] | None = Field(
        default=None, max_length=20, description="replaces the languages the user answers customers in"
    )

    @field_validator("time_zone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else check_time_zone(value)


class ApiTokenCreate(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"name": "BI export", "expires_at": "2027-06-30T00:00:00Z"}]}}

    name: str = Field(min_length=1, max_length=100, description="what the token is for, e.g. 'BI export'")
    expires_at: AwareDatetime | None = Field(default=None, description="when it stops working; never when omitted")

    @field_validator("expires_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValueError("the date is out of range") from None


class ApiTokenCreated(ApiTokenRead):
    token: str = Field(description="the token itself: shown this once, store it now")


def body_error(exc: InputError) -> RequestValidationError:
    """An action's InputError about a body field, as a 422 with the field's path."""
    loc = ("body", *(exc.location or "body").split("."))
    return RequestValidationError([{"loc": loc, "msg": exc.reason, "type": "value_error"}])


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def user_detail(session: Session, user: User) -> UserDetailRead:
    return UserDetailRead(
        **UserRead.model_validate(user).model_dump(),
        teams=[TeamRef(id=t.id, name=t.name, kind=t.kind) for t in teams.teams_of(session, user_id=user.id)],
        skills=teams.skills_of(session, user_id=user.id),
        languages=teams.languages_of(session, user_id=user.id),
    )


def _user(session: Session, id: int) -> tuple[User, UserDetailRead, str]:
    user = accounts_service.get_user(session, id=id)
    read = user_detail(session, user)
    return user, read, etag_for("user", user.id, read)


def _answer(session: Session, response: Response, user: User) -> UserDetailRead:
    read = user_detail(session, user)
    response.headers["ETag"] = etag_for("user", user.id, read)
    return read


_USER_EXAMPLES = {
    "agent": {
        "summary": "an agent who answers in German",
        "value": {
            "email": "erika.muster@example.org",
            "display_name": "Erika Muster",
            "password": "a long first password she changes",
            "role": "agent",
            "language": "de",
            "time_zone": "Europe/Berlin",
        },
    }
}

_READ_DOCS = {304: {"description": "Not modified (If-None-Match)"}, **problem_docs(401, 403, 404, 414, 422)}


@router.get(
    "/users", response_model=UserPage, summary="List colleagues", responses=problem_docs(400, 401, 403, 414, 422)
)
def list_users(
    request: Request,
    response: Response,
    session: DbSession,
    principal: Annotated[Principal, require(Permission.users_read)],
    paging: Paging,
    q: Annotated[str | None, Query(max_length=200, description="part of the e-mail or display name")] = None,
    role: Annotated[Role | None, Query(description="only this role")] = None,
    active: Annotated[bool | None, Query(description="only active (true) or deactivated (false) accounts")] = None,
) -> UserPage:
    """People who can sign in, ordered by e-mail."""
    offset = decode_cursor(paging.cursor, keys={"offset": int})["offset"] if paging.cursor else 0
    if offset < 0:
        offset = 0
    rows = accounts_service.list_users(session, active=active, role=role, q=q, limit=paging.limit + 1, offset=offset)
    next_cursor = encode_cursor({"offset": offset + paging.limit}) if len(rows) > paging.limit else None
    set_link_header(request, response, next_cursor)
    items = [UserRead.model_validate(u) for u in rows[: paging.limit]]
    return UserPage(items=items, next_cursor=next_cursor, limit=paging.limit)


@router.post(
    "/users",
    response_model=UserDetailRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a user",
    responses=problem_docs(400, 401, 403, 409, 413, 414, 422),
)
def create_user(
    data: Annotated[UserCreate, Body(openapi_examples=_USER_EXAMPLES)],
    request: Request,
    response: Response,
    session: DbSession,
    principal: Annotated[Principal, require(Permission.users_manage)],
) -> UserDetailRead:
    """Create an account with a first password (at least 10 characters); the person changes it later."""
    try:
        user = actions.do_create_user(
            session,
            email=data.email,
            display_name=data.display_name,
            password=data.password,
            role=data.role,
            language=data.language,
            time_zone=data.time_zone,
            actor=principal,
            ip=_ip(request),
        )
    except InputError as exc:
        raise body_error(exc) from None
    session.commit()
    response.headers["Location"] = f"/api/v1/users/{user.id}"
    return _answer(session, response, user)


@router.get("/users/{user_id}", response_model=UserDetailRead, summary="Get a user", responses=_READ_DOCS)
def get_user(
    user_id: UserId,
    request: Request,
    response: Response,
    session: DbSession,
    principal: Annotated[Principal, require(Permission.users_read)],
) -> UserDetailRead | Response:
    _u, read, etag = _user(session, user_id)
    return not_modified(request, response, etag) or read


@router.patch(
    "/users/{user_id}",
    response_model=UserDetailRead,
    summary="Change a user",
    responses=problem_docs(400, 401, 403, 404, 409, 412, 413, 414, 422),
)
def update_user(
    user_id: UserId,
    data: UserAdminUpdate,
    request: Request,
    response: Response,
    session: DbSession,
    principal: Annotated[Principal, require(Permission.users_manage)],
) -> UserDetailRead:
    """Change profile fields, role, active, skills or answering languages. Send ``If-Match`` to be
    refused (412) on a stale copy. The last active admin can be neither demoted nor deactivated (409)."""
    user, _read, etag = _user(session, user_id)
    check_if_match(request, etag)
    ip = _ip(request)
    profile_fields = data.model_fields_set & {"display_name", "language", "time_zone"}
    if profile_fields:
        profile = UserUpdate.model_validate({f: getattr(data, f) for f in profile_fields})
        actions.do_update_user(session, user=user, data=profile, actor=principal, ip=ip)
    if data.role is not None and data.role != user.role:
        actions.do_set_role(session, user=user, role=data.role, actor=principal, ip=ip)
    if data.active is False:
        actions.do_deactivate_user(session, user=user, actor=principal, ip=ip)
    elif data.active is True:
        actions.do_reactivate_user(session, user=user, actor=principal, ip=ip)
    try:
        if data.skills is not None:
            teams.do_set_skills(session, user=user, skills=data.skills, actor=principal)
        if data.languages is not None:
            teams.do_set_languages(session, user=user, languages=data.languages, actor=principal)
    except InputError as exc:
        raise body_error(exc) from None
    session.commit()
    return _answer(session, response, user)


@router.get("/me", response_model=UserDetailRead, summary="Your profile", responses=_READ_DOCS)
def get_me(
    request: Request,
    response: Response,
    session: DbSession,
    principal: Annotated[Principal, require(Permission.profile_edit)],
) -> UserDetailRead | Response:
    _u, read, etag = _user(session, principal.user_id)
    return not_modified(request, response, etag) or read


@router.patch(
    "/me",
    response_model=UserDetailRead,
    summary="Change your profile",
    responses=problem_docs(400, 401, 403, 412, 413, 414, 422),
)
def update_me(
    data: UserUpdate,
    request: Request,
    response: Response,
    session: DbSession,
    principal: Annotated[Principal, require(Permission.profile_edit)],
) -> UserDetailRead:
    """Display name, language (``de``/``en``, null for the browser's) and time zone (IANA name)."""
    user, _read, etag = _user(session, principal.user_id)
    check_if_match(request, etag)
    actions.do_update_user(session, user=user, data=data, actor=principal, ip=_ip(request))
    session.commit()
    return _answer(session, response, user)


@router.get(
    "/me/tokens", response_model=list[ApiTokenRead], summary="Your API tokens", responses=problem_docs(401, 403, 414)
)
def list_tokens(
    session: DbSession, principal: Annotated[Principal, require(Permission.profile_edit)]
) -> list[ApiTokenRead]:
    """Your tokens that are not revoked, newest first (never the secret itself, only its prefix)."""
    tokens = accounts_service.list_api_tokens(session, user_id=principal.user_id)
    return [ApiTokenRead.model_validate(t) for t in tokens]


@router.post(
    "/me/tokens",
    response_model=ApiTokenCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Create an API token",
    responses=problem_docs(400, 401, 403, 413, 414, 422),
)
def create_token(
    data: ApiTokenCreate,
    request: Request,
    session: DbSession,
    principal: Annotated[Principal, require(Permission.profile_edit)],
) -> ApiTokenCreated:
    """Create a personal token; the answer holds the secret (``token``) this once."""
    try:
        raw, token = actions.do_create_api_token(
            session,
            user_id=principal.user_id,
            name=data.name,
            expires_at=data.expires_at,
            actor=principal,
            ip=_ip(request),
        )
    except InputError as exc:
        raise body_error(exc) from None
    session.commit()
    return ApiTokenCreated(**ApiTokenRead.model_validate(token).model_dump(), token=raw)


@router.delete(
    "/me/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an API token",
    responses=problem_docs(401, 403, 404, 414, 422),
)
def revoke_token(
    token_id: TokenId,
    request: Request,
    session: DbSession,
    principal: Annotated[Principal, require(Permission.profile_edit)],
) -> Response:
    """Revoke one of your tokens; it stops working at once (revoking twice is fine)."""
    actions.do_revoke_api_token(session, user_id=principal.user_id, token_id=token_id, actor=principal, ip=_ip(request))
    session.commit()
    return Response(status_code=204)
