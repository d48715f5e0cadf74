"""``/api/v1/routing``: routing rules (and a rule tester), agent availability, team routing
settings, SLA policies, business calendars with holidays, care metrics (+ CSV) and the expert
finder of a case.

Permissions: settings and metrics need ``cases.assign`` (managers); an agent sets their own
availability with ``cases.work``; experts of a case need ``cases.read`` (and the case in the
reader's scope), bringing one in ``cases.work``. Writes go through
:mod:`resonanz.cases.routing_actions` (audited); bad input answers problem+json with field paths.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import BaseModel, Field

from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import Principal
from resonanz.api.deps import DbSession, require
from resonanz.api.problems import problem_docs
from resonanz.cases import routing_actions as actions
from resonanz.cases import routing_service as service
from resonanz.cases.experts import do_bring_in, find_experts
from resonanz.cases.holidays import german_public_holidays
from resonanz.cases.metrics import MetricsRow, care_metrics, metrics_csv
from resonanz.cases.routing import try_filter
from resonanz.cases.routing_models import Availability, BusinessCalendar, RoutingRule, SlaPolicy
from resonanz.cases.service import get_case, scope_for
from resonanz.clock import now
from resonanz.db.engine import begin_read_only
from resonanz.errors import InputError
from resonanz.i18n import negotiate, translations

router = APIRouter(prefix="/routing", tags=["routing"])

#: every refusal an endpoint can answer (path and query values are checked too: 422)
READ_DOCS = problem_docs(401, 403, 404, 414, 422)
WRITE_DOCS = problem_docs(400, 401, 403, 404, 409, 413, 414, 422)

MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Assign = Annotated[Principal, require(Permission.cases_assign)]
Work = Annotated[Principal, require(Permission.cases_work)]
Read = Annotated[Principal, require(Permission.cases_read)]
Priority = Literal["low", "normal", "high", "urgent"]


class RuleIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, examples=["Billing complaints in German"])
    filter: str = Field(
        min_length=1, max_length=4000, examples=["lang:de AND intent:complaint AND (rechnung OR tag:billing)"]
    )
    team_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    forward_rule_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    enabled: bool = True
    position: int | None = Field(default=None, ge=0, le=1_000_000)


class RuleRead(BaseModel):
    id: int
    name: str
    filter: str
    team_id: int | None
    forward_rule_id: int | None
    enabled: bool
    position: int


def _rule(r: RoutingRule) -> RuleRead:
    return RuleRead(id=r.id, name=r.name, filter=r.filter_text, team_id=r.target_team_id,
                    forward_rule_id=r.forward_rule_id, enabled=r.enabled, position=r.position)  # fmt: skip


@router.get("/rules", response_model=list[RuleRead], summary="List routing rules", responses=READ_DOCS)
def list_rules(session: DbSession, principal: Assign) -> list[RuleRead]:
    """In the order they are tried; the first enabled match chooses the team."""
    return [_rule(r) for r in service.list_rules(session)]


@router.post("/rules", response_model=RuleRead, status_code=201, summary="Create a routing rule",
             responses=WRITE_DOCS)  # fmt: skip
def create_rule(data: RuleIn, session: DbSession, principal: Assign) -> RuleRead:
    rule = actions.do_save_rule(session, name=data.name, filter_text=data.filter, target_team_id=data.team_id,
                                forward_rule_id=data.forward_rule_id, enabled=data.enabled, position=data.position,
                                actor=principal)  # fmt: skip
    session.commit()
    return _rule(rule)


@router.put("/rules/{rule_id}", response_model=RuleRead, summary="Change a routing rule",
            responses=WRITE_DOCS)  # fmt: skip
def update_rule(rule_id: Id, data: RuleIn, session: DbSession, principal: Assign) -> RuleRead:
    actions.get_rule(session, id=rule_id)
    rule = actions.do_save_rule(session, id=rule_id, name=data.name, filter_text=data.filter,
                                target_team_id=data.team_id, forward_rule_id=data.forward_rule_id,
                                enabled=data.enabled, position=data.position, actor=principal)  # fmt: skip
    session.commit()
    return _rule(rule)


@router.delete("/rules/{rule_id}", status_code=204, summary="Delete a routing rule", responses=WRITE_DOCS)
def delete_rule(rule_id: Id, session: DbSession, principal: Assign) -> Response:
    actions.do_delete_rule(session, id=rule_id, actor=principal)
    session.commit()
    return Response(status_code=204)


class RuleTest(BaseModel):
    filter: str = Field(min_length=1, max_length=4000)
    case_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(
        default=None, max_length=500, description="none: the newest cases"
    )


class RuleTestResult(BaseModel):
    matched: list[int]
    checked: int
    warnings: list[str]


@router.post("/filter-tests", response_model=RuleTestResult, summary="Try a filter on cases",
             responses=WRITE_DOCS)  # fmt: skip
def test_rule(data: RuleTest, session: DbSession, principal: Assign) -> RuleTestResult:
    """A filter that does not parse answers 422 with the column; one that matches none of the
    cases tried says so in ``warnings``."""
    trial = try_filter(session, filter_text=data.filter, case_ids=data.case_ids)
    return RuleTestResult(matched=trial.matched, checked=trial.checked, warnings=trial.warnings)


class AvailabilityIn(BaseModel):
    availability: Availability
    until: datetime | None = None
    cap: int | None = Field(default=None, ge=0, le=10_000)


class AgentRead(BaseModel):
    user_id: int
    display_name: str
    teams: list[str]
    skills: list[str]
    languages: list[str]
    availability: str
    until: datetime | None
    cap: int | None
    effective: str


@router.get("/agents", response_model=list[AgentRead], summary="Agents and their availability", responses=WRITE_DOCS)
def list_agents(
    session: DbSession, principal: Read, team_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None
) -> list[AgentRead]:
    return [AgentRead.model_validate(a, from_attributes=True) for a in service.list_agents(session, team_id=team_id)]


@router.put("/agents/me/availability", status_code=204, summary="Set my availability", responses=WRITE_DOCS)
def set_my_availability(data: AvailabilityIn, session: DbSession, principal: Work) -> Response:
    actions.do_set_availability(session, user_id=principal.user_id, availability=data.availability, until=data.until,
                                cap=data.cap, actor=principal)  # fmt: skip
    session.commit()
    return Response(status_code=204)


@router.put("/agents/{user_id}/availability", status_code=204, summary="Set an agent's availability and cap",
            responses=WRITE_DOCS)  # fmt: skip
def set_availability(user_id: Id, data: AvailabilityIn, session: DbSession, principal: Assign) -> Response:
    actions.do_set_availability(session, user_id=user_id, availability=data.availability, until=data.until,
                                cap=data.cap, actor=principal)  # fmt: skip
    session.commit()
    return Response(status_code=204)


class TeamSettings(BaseModel):
    manager_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    escalation_team_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    calendar_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    default_cap: int | None = Field(default=None, ge=1, le=10_000)


@router.get("/teams/{team_id}", response_model=TeamSettings, summary="A team's routing settings",
            responses=WRITE_DOCS)  # fmt: skip
def get_team_settings(team_id: Id, session: DbSession, principal: Assign) -> TeamSettings:
    row = service.team_settings(session, team_id=team_id)
    return TeamSettings(manager_id=row.manager_id, escalation_team_id=row.escalation_team_id,
                        calendar_id=row.calendar_id, default_cap=row.default_cap)  # fmt: skip


@router.put("/teams/{team_id}", response_model=TeamSettings, summary="Change a team's routing settings",
            responses=WRITE_DOCS)  # fmt: skip
def put_team_settings(team_id: Id, data: TeamSettings, session: DbSession, principal: Assign) -> TeamSettings:
    service.team_settings(session, team_id=team_id)
    actions.do_set_team_settings(session, team_id=team_id, actor=principal, **data.model_dump())
    session.commit()
    return data


class PolicyIn(BaseModel):
    team_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="none: teams without their own")
    priority: Priority
    first_response_minutes: int = Field(ge=1, le=525_600)
    resolution_minutes: int = Field(ge=1, le=525_600)
    warn_before_minutes: int = Field(default=30, ge=0, le=2880)
    enabled: bool = True


class PolicyRead(PolicyIn):
    id: int


def _policy(p: SlaPolicy) -> PolicyRead:
    return PolicyRead.model_validate(p, from_attributes=True)


@router.get("/sla-policies", response_model=list[PolicyRead], summary="List SLA policies", responses=WRITE_DOCS)
def list_policies(session: DbSession, principal: Assign) -> list[PolicyRead]:
    return [_policy(p) for p in service.list_policies(session)]


@router.post("/sla-policies", response_model=PolicyRead, status_code=201, summary="Create an SLA policy",
             responses=WRITE_DOCS)  # fmt: skip
def create_policy(data: PolicyIn, session: DbSession, principal: Assign) -> PolicyRead:
    policy = actions.do_save_sla_policy(session, actor=principal, **data.model_dump())
    session.commit()
    return _policy(policy)


@router.put("/sla-policies/{policy_id}", response_model=PolicyRead, summary="Change an SLA policy",
            responses=WRITE_DOCS)  # fmt: skip
def update_policy(policy_id: Id, data: PolicyIn, session: DbSession, principal: Assign) -> PolicyRead:
    policy = actions.do_save_sla_policy(session, id=policy_id, actor=principal, **data.model_dump())
    session.commit()
    return _policy(policy)


@router.delete("/sla-policies/{policy_id}", status_code=204, summary="Delete an SLA policy",
               responses=WRITE_DOCS)  # fmt: skip
def delete_policy(policy_id: Id, session: DbSession, principal: Assign) -> Response:
    actions.do_delete_sla_policy(session, id=policy_id, actor=principal)
    session.commit()
    return Response(status_code=204)


class Holiday(BaseModel):
    day: date
    name: str = Field(default="", max_length=100)


class CalendarIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    time_zone: str = Field(default="Europe/Berlin", max_length=64)
    hours: dict[str, list[list[str]]] = Field(examples=[{"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]]}])


class CalendarRead(CalendarIn):
    id: int
    holidays: list[Holiday]


def _calendar(session: DbSession, row: BusinessCalendar) -> CalendarRead:
    days = [Holiday(day=d, name=n) for d, n in service.holidays_of(session, calendar_id=row.id)]
    return CalendarRead(id=row.id, name=row.name, time_zone=row.time_zone, hours=row.hours, holidays=days)


@router.get("/calendars", response_model=list[CalendarRead], summary="List business calendars", responses=WRITE_DOCS)
def list_calendars(session: DbSession, principal: Assign) -> list[CalendarRead]:
    return [_calendar(session, c) for c in service.list_calendars(session)]


@router.post("/calendars", response_model=CalendarRead, status_code=201, summary="Create a business calendar",
             responses=WRITE_DOCS)  # fmt: skip
def create_calendar(data: CalendarIn, session: DbSession, principal: Assign) -> CalendarRead:
    """A calendar without working hours is refused (422 at ``hours``)."""
    row = actions.do_save_calendar(session, name=data.name, time_zone=data.time_zone, hours=data.hours, actor=principal)
    session.commit()
    return _calendar(session, row)


@router.put("/calendars/{calendar_id}", response_model=CalendarRead, summary="Change a business calendar",
            responses=WRITE_DOCS)  # fmt: skip
def update_calendar(calendar_id: Id, data: CalendarIn, session: DbSession, principal: Assign) -> CalendarRead:
    service.get_calendar(session, id=calendar_id)
    row = actions.do_save_calendar(session, id=calendar_id, name=data.name, time_zone=data.time_zone, hours=data.hours,
                                   actor=principal)  # fmt: skip
    session.commit()
    return _calendar(session, row)


@router.delete("/calendars/{calendar_id}", status_code=204, summary="Delete a business calendar",
               responses=WRITE_DOCS)  # fmt: skip
def delete_calendar(calendar_id: Id, session: DbSession, principal: Assign) -> Response:
    actions.do_delete_calendar(session, id=calendar_id, actor=principal)
    session.commit()
    return Response(status_code=204)


class HolidayChange(BaseModel):
    add: list[Holiday] = Field(default_factory=list, max_length=500)
    remove: list[date] = Field(default_factory=list, max_length=500)
    german_year: int | None = Field(
        default=None, ge=1900, le=2200, description="add Germany's nationwide holidays of this year"
    )


@router.patch("/calendars/{calendar_id}/holidays", response_model=CalendarRead, summary="Add or remove holidays",
              responses=WRITE_DOCS)  # fmt: skip
def change_holidays(calendar_id: Id, data: HolidayChange, session: DbSession, principal: Assign) -> CalendarRead:
    add = [(h.day, h.name) for h in data.add]
    if data.german_year is not None:
        add += german_public_holidays(data.german_year)
    actions.do_set_holidays(session, calendar_id=calendar_id, add=add, remove=data.remove, actor=principal)
    session.commit()
    return _calendar(session, service.get_calendar(session, id=calendar_id))


class MetricsRead(BaseModel):
    since: datetime
    until: datetime
    group: str
    rows: list[dict[str, Any]]


def _period(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    end = until or now()
    start = since or end - timedelta(days=30)
    if start.tzinfo is None or end.tzinfo is None:
        raise InputError("give times with a time zone (e.g. 2026-11-01T00:00:00Z)", location="since")
    return start, end


MetricsQuery = Annotated[Literal["team", "agent"], Query(description="one row per team or per agent")]


@router.get("/metrics", response_model=MetricsRead, summary="Care metrics", responses=WRITE_DOCS)
def metrics(
    session: DbSession,
    principal: Assign,
    since: datetime | None = None,
    until: datetime | None = None,
    group: MetricsQuery = "team",
    team_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> MetricsRead:
    """First response and resolution time (minutes: median, p90), SLA attainment, backlog, for
    cases created in the period (default: the last 30 days)."""
    begin_read_only(session)  # a scan of the period's cases: no write lock needed
    start, end = _period(since, until)
    rows: list[MetricsRow] = care_metrics(session, since=start, until=end, group=group, team_id=team_id)
    return MetricsRead(since=start, until=end, group=group, rows=[r.__dict__ for r in rows])


@router.get("/metrics.csv", summary="Care metrics as CSV", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}, **READ_DOCS})  # fmt: skip
def metrics_as_csv(
    session: DbSession,
    principal: Assign,
    since: datetime | None = None,
    until: datetime | None = None,
    group: MetricsQuery = "team",
    team_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    begin_read_only(session)
    start, end = _period(since, until)
    text = metrics_csv(care_metrics(session, since=start, until=end, group=group, team_id=team_id))
    name = f"care-metrics-{group}-{start:%Y%m%d}-{end:%Y%m%d}.csv"
    return Response(
        text, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


class ExpertRead(BaseModel):
    user_id: int
    display_name: str
    teams: list[str]
    score: float
    reasons: list[str]
    similar_case_ids: list[int]


@router.get("/cases/{case_id}/experts", response_model=list[ExpertRead], summary="Experts for a case",
            responses=READ_DOCS)  # fmt: skip
def experts(case_id: Id, session: DbSession, principal: Read) -> list[ExpertRead]:
    """Colleagues from any team who resolved similar cases or whose skills match, with reasons."""
    begin_read_only(session)  # reads up to 5,000 resolved cases
    case = get_case(session, id=case_id, scope=scope_for(session, user_id=principal.user_id, role=principal.role))
    return [ExpertRead.model_validate(e, from_attributes=True) for e in find_experts(session, case=case)]


class BringIn(BaseModel):
    reason: str = Field(default="", max_length=500)


@router.post("/cases/{case_id}/experts/{user_id}", status_code=status.HTTP_201_CREATED, summary="Bring an expert in",
             responses=READ_DOCS)  # fmt: skip
def bring_in(case_id: Id, user_id: Id, data: BringIn, session: DbSession, principal: Work) -> dict[str, int]:
    """Adds an internal note that @mentions the colleague (they are notified)."""
    case = get_case(session, id=case_id, scope=scope_for(session, user_id=principal.user_id, role=principal.role))
    note_id = do_bring_in(session, case=case, user_id=user_id, reason=data.reason, actor=principal)
    session.commit()
    return {"note_id": note_id}


class SlaEventRead(BaseModel):
    target: str
    kind: str
    due_at: datetime
    at: datetime


class CaseSlaRead(BaseModel):
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    first_responded_at: datetime | None
    resolved_at: datetime | None
    paused_at: datetime | None
    paused_minutes: int
    policy_id: int | None
    events: list[SlaEventRead]
    routing_reasons: list[str] = Field(
        description="why routing sent the case here, in the caller's language (their setting, else Accept-Language)"
    )
    routing_reason_facts: list[dict[str, Any] | str] = Field(
        description="the same reasons as language-free facts: objects with a `code` (rule_matched, assigned, "
        "not_available, escalated_to_team …) and the names and numbers they are about; a decision recorded "
        "before facts were kept has plain English strings here"
    )


@router.get(
    "/cases/{case_id}/sla",
    response_model=CaseSlaRead,
    summary="A case's SLA clock and routing reasons",
    responses=READ_DOCS,
)
def case_sla(case_id: Id, request: Request, session: DbSession, principal: Read) -> CaseSlaRead:
    """Due times, whether the clock is paused (pending on the customer), warnings and breaches,
    and why routing sent the case where it is (in words in the caller's language, and as facts)."""
    case = get_case(session, id=case_id, scope=scope_for(session, user_id=principal.user_id, role=principal.role))
    view = service.case_sla(session, case=case)
    events = [SlaEventRead(target=e.target, kind=e.kind, due_at=e.due_at, at=e.at) for e in view.events]
    gettext = translations(negotiate(request.headers.get("accept-language"), principal.language)).ugettext
    return CaseSlaRead(
        **{**view.__dict__, "events": events},
        routing_reasons=view.routing_reasons(gettext),
    )
