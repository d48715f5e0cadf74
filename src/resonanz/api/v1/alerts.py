"""``/api/v1/alert-rules``, ``/api/v1/alerts`` and ``/api/v1/notification-channels``, over the
alerts and notifications actions. Reading needs ``alerts.read``, changing ``alerts.manage``
(acknowledging and resolving an alert too: it says "I am on it" to everyone)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import Principal
from resonanz.api.deps import DbSession, require
from resonanz.api.pagination import PageBase, Paging, decode_cursor, encode_cursor, set_link_header
from resonanz.api.problems import problem_docs
from resonanz.clock import now
from resonanz.i18n import negotiate
from resonanz.listening.alerts import actions, service
from resonanz.listening.alerts.backtest import run_backtest
from resonanz.listening.alerts.models import Alert, AlertStatus
from resonanz.listening.alerts.schemas import AlertRead, AlertRuleCreate, AlertRuleRead, AlertRuleUpdate
from resonanz.listening.alerts.wording import headline, summary, wording
from resonanz.notifications import actions as channel_actions
from resonanz.notifications import service as channel_service
from resonanz.notifications.base import notifier_classes
from resonanz.notifications.models import NotificationChannel

router = APIRouter(tags=["alerts"])

MAX_ID = 2**31 - 1
RuleId = Annotated[int, Path(ge=1, le=MAX_ID, description="the rule's id")]
AlertId = Annotated[int, Path(ge=1, le=MAX_ID, description="the alert's id")]
ChannelId = Annotated[int, Path(ge=1, le=MAX_ID, description="the channel's id")]
Read = Annotated[Principal, require(Permission.alerts_read)]
Manage = Annotated[Principal, require(Permission.alerts_manage)]
#: chat webhook URLs are credentials: shown as scheme://host/… only
SECRET_URL_KINDS = frozenset({"slack", "mattermost", "teams"})


def _docs(*codes: int) -> dict[int | str, dict[str, Any]]:
    """Problem documents every operation may answer (bad body or query, auth, sizes) plus ``codes``."""
    return problem_docs(400, 401, 403, 413, 414, 422, *codes)


class AlertPage(PageBase):
    items: list[AlertRead]


class ResolveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=2000)


class BacktestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: int = Field(default=90, ge=1, le=365)


class ChannelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    kind: str = Field(min_length=1, max_length=40)
    config: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True


class ChannelUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=120)
    config: dict[str, Any] | None = None
    enabled: bool | None = None


class ChannelRead(BaseModel):
    id: int
    name: str
    kind: str
    config: dict[str, Any]
    enabled: bool


def channel_read(channel: NotificationChannel) -> ChannelRead:
    config = dict(channel.config)
    if channel.kind in SECRET_URL_KINDS and config.get("url"):
        parts = urlsplit(str(config["url"]))
        config["url"] = f"{parts.scheme}://{parts.hostname}/…"
    return ChannelRead(id=channel.id, name=channel.name, kind=channel.kind, config=config, enabled=channel.enabled)


# --- rules ---------------------------------------------------------------------------------


@router.get("/alert-rules", response_model=list[AlertRuleRead], summary="List alert rules", responses=_docs())
def list_rules(session: DbSession, principal: Read) -> list[AlertRuleRead]:
    return [AlertRuleRead.model_validate(r) for r in service.list_rules(session)]


@router.post(
    "/alert-rules",
    response_model=AlertRuleRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create an alert rule",
    responses=_docs(409),
)
def create_rule(data: AlertRuleCreate, response: Response, session: DbSession, principal: Manage) -> AlertRuleRead:
    """``params`` depend on ``kind`` (see docs/alerts.md); errors name the field (``params.sensitivity``)."""
    rule = actions.do_create_rule(session, data=data, actor=principal)
    session.commit()
    response.headers["Location"] = f"/api/v1/alert-rules/{rule.id}"
    return AlertRuleRead.model_validate(rule)


@router.get("/alert-rules/{rule_id}", response_model=AlertRuleRead, summary="Get an alert rule", responses=_docs(404))
def get_rule(rule_id: RuleId, session: DbSession, principal: Read) -> AlertRuleRead:
    return AlertRuleRead.model_validate(service.get_rule(session, id=rule_id))


@router.patch(
    "/alert-rules/{rule_id}", response_model=AlertRuleRead, summary="Change an alert rule", responses=_docs(404, 409)
)
def update_rule(rule_id: RuleId, data: AlertRuleUpdate, session: DbSession, principal: Manage) -> AlertRuleRead:
    rule = actions.do_update_rule(session, id=rule_id, data=data, actor=principal)
    session.commit()
    return AlertRuleRead.model_validate(rule)


@router.delete(
    "/alert-rules/{rule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an alert rule",
    responses=_docs(404),
)
def delete_rule(rule_id: RuleId, session: DbSession, principal: Manage) -> Response:
    """Remove the rule and the alerts it fired."""
    actions.do_delete_rule(session, id=rule_id, actor=principal)
    session.commit()
    return Response(status_code=204)


@router.post("/alert-rules/{rule_id}/backtest", summary="Backtest an alert rule", responses=_docs(404))
def backtest_rule(
    rule_id: RuleId, session: DbSession, principal: Read, data: BacktestBody | None = None
) -> dict[str, Any]:
    """When the rule would have fired over the past ``days`` (default 90), each episode with the
    same explanation a live alert carries, and mentions per day for a chart. Writes nothing."""
    rule = service.get_rule(session, id=rule_id)
    return run_backtest(session, rule=rule, until=now(), days=(data or BacktestBody()).days).as_dict()


# --- alerts --------------------------------------------------------------------------------


def _read(alert: Alert, request: Request, principal: Principal) -> AlertRead:
    """The alert with its headline and sentence worded for the caller (stored are the facts)."""
    w = wording(negotiate(request.headers.get("accept-language"), principal.language), principal.time_zone)
    read = AlertRead.model_validate(alert)
    return read.model_copy(
        update={"headline": headline(alert.kind, alert.title, w), "summary": summary(alert.kind, alert.explanation, w)}
    )


@router.get("/alerts", response_model=AlertPage, summary="List alerts", responses=_docs())
def list_alerts(
    request: Request,
    response: Response,
    session: DbSession,
    principal: Read,
    paging: Paging,
    status_: Annotated[AlertStatus | None, Query(alias="status", description="only alerts in this state")] = None,
    rule_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="only alerts of this rule")] = None,
) -> AlertPage:
    """Newest first."""
    stmt = select(Alert).order_by(Alert.id.desc()).limit(paging.limit + 1)
    if paging.cursor:
        stmt = stmt.where(Alert.id < decode_cursor(paging.cursor, keys={"id": int})["id"])
    if status_ is not None:
        stmt = stmt.where(Alert.status == status_.value)
    if rule_id is not None:
        stmt = stmt.where(Alert.rule_id == rule_id)
    rows = list(session.scalars(stmt))
    next_cursor = encode_cursor({"id": rows[paging.limit - 1].id}) if len(rows) > paging.limit else None
    set_link_header(request, response, next_cursor)
    items = [_read(a, request, principal) for a in rows[: paging.limit]]
    return AlertPage(items=items, next_cursor=next_cursor, limit=paging.limit)


@router.get("/alerts/{alert_id}", response_model=AlertRead, summary="Get an alert", responses=_docs(404))
def get_alert(request: Request, alert_id: AlertId, session: DbSession, principal: Read) -> AlertRead:
    return _read(service.get_alert(session, id=alert_id), request, principal)


@router.post(
    "/alerts/{alert_id}/ack", response_model=AlertRead, summary="Acknowledge an alert", responses=_docs(404, 409)
)
def acknowledge_alert(request: Request, alert_id: AlertId, session: DbSession, principal: Manage) -> AlertRead:
    alert = actions.do_acknowledge_alert(session, id=alert_id, actor=principal)
    session.commit()
    return _read(alert, request, principal)


@router.post("/alerts/{alert_id}/resolve", response_model=AlertRead, summary="Resolve an alert", responses=_docs(404))
def resolve_alert(
    request: Request, alert_id: AlertId, session: DbSession, principal: Manage, data: ResolveBody | None = None
) -> AlertRead:
    alert = actions.do_resolve_alert(session, id=alert_id, note=(data or ResolveBody()).note, actor=principal)
    session.commit()
    return _read(alert, request, principal)


# --- notification channels -----------------------------------------------------------------


@router.get(
    "/notification-channels", response_model=list[ChannelRead], summary="List notification channels", responses=_docs()
)
def list_channels(session: DbSession, principal: Read) -> list[ChannelRead]:
    return [channel_read(c) for c in channel_service.list_channels(session)]


@router.get(
    "/notification-channel-kinds",
    summary="Notification channel kinds",
    responses=_docs(),
)
def list_channel_kinds(principal: Read) -> list[dict[str, Any]]:
    """Every notifier kind with the JSON schema its ``config`` must match."""
    return [
        {"kind": kind, "title": cls.title, "config_schema": cls.Config.model_json_schema()}
        for kind, cls in sorted(notifier_classes().items())
    ]


@router.post(
    "/notification-channels",
    response_model=ChannelRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a notification channel",
    responses=_docs(404, 409),
)
def create_channel(data: ChannelCreate, response: Response, session: DbSession, principal: Manage) -> ChannelRead:
    """``config`` holds addresses, a URL and the *name* of a secret (``secret_name``), never a secret."""
    channel = channel_actions.do_create_channel(
        session, name=data.name, kind=data.kind, config=data.config, enabled=data.enabled, actor=principal
    )
    session.commit()
    response.headers["Location"] = f"/api/v1/notification-channels/{channel.id}"
    return channel_read(channel)


@router.patch(
    "/notification-channels/{channel_id}",
    response_model=ChannelRead,
    summary="Change a notification channel",
    responses=_docs(404, 409),
)
def update_channel(channel_id: ChannelId, data: ChannelUpdate, session: DbSession, principal: Manage) -> ChannelRead:
    channel = channel_actions.do_update_channel(
        session, id=channel_id, name=data.name, config=data.config, enabled=data.enabled, actor=principal
    )
    session.commit()
    return channel_read(channel)


@router.delete(
    "/notification-channels/{channel_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a notification channel",
    responses=_docs(404),
)
def delete_channel(channel_id: ChannelId, session: DbSession, principal: Manage) -> Response:
    channel_actions.do_delete_channel(session, id=channel_id, actor=principal)
    session.commit()
    return Response(status_code=204)
