"""Tables of case routing and SLAs (owner: routing area).

- ``routing_rule``: ordered rules; the first enabled rule whose filter (the listening query
  language plus case fields, :mod:`resonanz.cases.routing_filter`) matches a case chooses its team,
  or forwards to another rule (a forward chain that loops is refused at save time and guarded at
  routing time).
- ``routing_team``: per-team routing settings (manager and escalation team for when nobody is
  available, business calendar, default per-agent cap, round-robin pointer).
- ``agent_status``: availability (online/away/out of office, optionally until a time) and a
  per-agent cap of open cases.
- ``sla_policy``: first-response and resolution targets per team (NULL: every team) and priority,
  counted in business minutes of the team's calendar.
- ``business_calendar`` + ``calendar_holiday``: time zone, weekday hours and public holidays.
- ``case_sla``: a case's SLA clock (policy, pause state, paused business minutes).
- ``sla_event``: warnings and breaches, one row per (case, target, kind) so the periodic check is
  idempotent.
- ``routing_decision``: why a case went where it went (rule, reasons as language-free facts worded at read
  time by :mod:`resonanz.cases.routing_wording`, escalation), for the case view.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from resonanz.cases.routing_wording import reason_texts
from resonanz.db.base import Base
from resonanz.db.types import UTCDateTime, json_type


class Availability(StrEnum):
    online = "online"
    away = "away"
    out_of_office = "out_of_office"


class SlaTarget(StrEnum):
    first_response = "first_response"
    resolution = "resolution"


class SlaEventKind(StrEnum):
    warning = "warning"
    breach = "breach"


class RoutingRule(Base):
    __tablename__ = "routing_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0, index=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    filter_text: Mapped[str] = mapped_column(String(4000))
    target_team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
    #: instead of a team: continue with this rule's target (e.g. "VIP in English -> as Billing")
    forward_rule_id: Mapped[int | None] = mapped_column(ForeignKey("routing_rule.id", ondelete="SET NULL"))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RoutingTeam(Base):
    __tablename__ = "routing_team"

    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"), primary_key=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    escalation_team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="SET NULL"))
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("business_calendar.id", ondelete="SET NULL"))
    #: open cases an agent of this team may hold when their own cap is not set (NULL: no cap)
    default_cap: Mapped[int | None] = mapped_column(Integer)
    #: round-robin pointer: the agent who got the last case by round robin
    rr_last_user_id: Mapped[int | None] = mapped_column(Integer)


class AgentStatus(Base):
    __tablename__ = "agent_status"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    availability: Mapped[str] = mapped_column(String(20), default=Availability.online)
    #: the availability holds until this time, then the agent counts as online again
    until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cap: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BusinessCalendar(Base):
    __tablename__ = "business_calendar"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    #: {"mon": [["09:00", "17:00"]], ...}: weekday -> working intervals in local time
    hours: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CalendarHoliday(Base):
    __tablename__ = "calendar_holiday"

    calendar_id: Mapped[int] = mapped_column(ForeignKey("business_calendar.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class SlaPolicy(Base):
    __tablename__ = "sla_policy"
    __table_args__ = (UniqueConstraint("team_id", "priority", name="uq_sla_policy_team_priority"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: NULL: the policy for teams without their own
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
    priority: Mapped[str] = mapped_column(String(20))
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    warn_before_minutes: Mapped[int] = mapped_column(Integer, default=30)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class CaseSla(Base):
    __tablename__ = "case_sla"

    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id", ondelete="CASCADE"), primary_key=True)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policy.id", ondelete="SET NULL"))
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("business_calendar.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: set while the case is pending on the customer: the clocks stand still
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: business minutes spent paused so far (the due times were moved by as much)
    paused_minutes: Mapped[int] = mapped_column(Integer, default=0)


class SlaEvent(Base):
    __tablename__ = "sla_event"
    __table_args__ = (
        UniqueConstraint("case_id", "target", "kind", name="uq_sla_event_case_target_kind"),
        Index("ix_sla_event_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    notified: Mapped[bool] = mapped_column(Boolean, default=False)


class RoutingDecisionRow(Base):
    __tablename__ = "routing_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("routing_rule.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    #: column ``reasons``: language-free facts (dicts with a ``code``); rows from before hold English strings
    reason_facts: Mapped[list[Any]] = mapped_column("reasons", json_type(), default=list)
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def reasons(self) -> list[str]:
        """The reasons in English (the page and the API word ``reason_facts`` in the reader's language)."""
        return reason_texts(self.reason_facts)
