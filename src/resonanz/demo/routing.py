"""The demo's care organisation: teams from several departments (Social Media, Customer service,
Billing, IT, Works council), colleagues with skills and languages, routing rules, SLA policies and
a Berlin business calendar with Germany's public holidays.

Customer service answers the demo mailbox (:mod:`resonanz.demo.mail`): every e-mail goes there
first, and inside the team language and skill decide (an English complaint goes to the colleague
who speaks English *and* handles complaints, not to the German-only complaint handler or the
English-speaking colleague for questions); Billing, IT and the works council are the departments
whose experts an agent brings in.

Loaded before the demo's mentions are analysed, so the cases the intake opens are routed at once.
The demo's sign-in users are created here when missing (with a throw-away password: the demo
command sets the printed one right after, :func:`resonanz.demo.users.do_ensure_demo_users`); the
extra colleagues are routing targets and experts and cannot sign in (random password).
Idempotent and deterministic: a second run changes nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.accounts.actions import do_create_user
from resonanz.accounts.models import Team, TeamKind, TeamMember, User
from resonanz.accounts.permissions import Role
from resonanz.accounts.service import get_user_by_email
from resonanz.accounts.teams import do_add_team_member, do_create_team, do_set_languages, do_set_skills
from resonanz.cases import routing_actions as actions
from resonanz.cases.holidays import german_public_holidays
from resonanz.cases.routing_models import BusinessCalendar, RoutingRule, RoutingTeam, SlaPolicy
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.demo.users import DEMO_USERS
from resonanz.demo.world import DEMO_AUTHOR_SUFFIX, OWN


@dataclass(frozen=True)
class Colleague:
    email: str
    name: str
    teams: tuple[str, ...]
    skills: tuple[str, ...]
    languages: tuple[str, ...]


TEAMS = (
    ("Social Media", TeamKind.team),
    ("Customer service", TeamKind.team),
    ("Billing", TeamKind.department),
    ("IT", TeamKind.department),
    ("Works council", TeamKind.department),
)

MANAGER, AGENT = DEMO_USERS[1].email, DEMO_USERS[2].email
COLLEAGUES = (
    Colleague(MANAGER, "", ("Social Media",), ("social", "escalation"), ("de", "en")),
    Colleague(AGENT, "", ("Social Media", "Customer service"), ("app", "social", "tickets", "complaint"), ("de", "en")),
    Colleague(
        f"demo-service-de@{OWN.domain}",
        f"Hauke Jansen {DEMO_AUTHOR_SUFFIX}",
        ("Customer service",),
        ("complaint", "abo"),
        ("de",),
    ),
    Colleague(
        f"demo-service-en@{OWN.domain}",
        f"Grace Miller {DEMO_AUTHOR_SUFFIX}",
        ("Customer service",),
        ("question", "tickets"),
        ("en",),
    ),
    Colleague(
        f"demo-billing@{OWN.domain}",
        f"Lena Fischer {DEMO_AUTHOR_SUFFIX}",
        ("Billing",),
        ("billing", "rechnung", "refund", "sepa"),
        ("de",),
    ),
    Colleague(
        f"demo-billing-en@{OWN.domain}",
        f"Tom Hughes {DEMO_AUTHOR_SUFFIX}",
        ("Billing",),
        ("billing", "invoice", "refund"),
        ("en",),
    ),
    Colleague(
        f"demo-it@{OWN.domain}",
        f"Emre Yilmaz {DEMO_AUTHOR_SUFFIX}",
        ("IT",),
        ("app", "outage", "login", "störung"),
        ("de", "en"),
    ),
    Colleague(
        f"demo-works-council@{OWN.domain}",
        f"Petra Wolf {DEMO_AUTHOR_SUFFIX}",
        ("Works council",),
        ("jobs", "arbeitsbedingungen", "streik"),
        ("de",),
    ),
)

#: E-mail to the demo mailbox is Customer service's: its rule comes first.
EMAIL_RULE = "E-mail to customer service"
RULES = (
    (EMAIL_RULE, "platform:email", "Customer service"),
    ("Outages and app errors", "störung OR ausfall OR outage OR absturz OR crash OR login OR #ausfall", "IT"),
    ("Billing", "rechnung* OR abbuchung OR lastschrift OR invoice OR refund OR erstattung OR tag:billing", "Billing"),
    (
        "Jobs and working conditions",
        'arbeitsbedingungen OR streik OR betriebsrat OR "working conditions"',
        "Works council",
    ),
    ("Everything else", "priority:>=low", "Social Media"),  # every case has a priority
)
#: priority -> (first response, resolution) in business minutes, for every team
POLICIES = {"urgent": (30, 240), "high": (60, 480), "normal": (240, 1440), "low": (480, 2880)}
OFFICE = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
SOCIAL = {day: [["08:00", "22:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _user(session: Session, colleague: Colleague) -> User:
    user = get_user_by_email(session, email=colleague.email)
    if user is not None:
        return user
    demo = next((d for d in DEMO_USERS if d.email == colleague.email), None)
    return do_create_user(
        session,
        email=colleague.email,
        display_name=demo.display_name if demo else colleague.name,
        password="demo-" + secrets.token_urlsafe(18),  # replaced for sign-in users by the demo command
        role=demo.role if demo else Role.agent,
        language=demo.language if demo else colleague.languages[0],
        time_zone="Europe/Berlin",
        actor=None,
    )


def _calendar(session: Session, name: str, hours: dict[str, list[list[str]]], years: list[int]) -> int:
    existing = session.scalar(select(BusinessCalendar.id).where(BusinessCalendar.name == name))
    if existing is not None:
        return existing
    row = actions.do_save_calendar(session, name=name, time_zone="Europe/Berlin", hours=hours, actor=None)
    holidays = [h for year in years for h in german_public_holidays(year)]
    actions.do_set_holidays(session, calendar_id=row.id, add=holidays, actor=None)
    return row.id


def do_load_routing(session: Session, *, anchor: date) -> None:
    teams: dict[str, Team] = {}
    for name, kind in TEAMS:
        team = session.scalar(select(Team).where(Team.name == name))
        teams[name] = team or do_create_team(session, name=name, kind=kind, actor=None)
    users: dict[str, User] = {}
    for colleague in COLLEAGUES:
        user = users[colleague.email] = _user(session, colleague)
        for name in colleague.teams:
            member = session.get(TeamMember, (teams[name].id, user.id))
            if member is None:
                do_add_team_member(session, team=teams[name], user=user, actor=None)
        do_set_skills(session, user=user, skills=colleague.skills, actor=None)
        do_set_languages(session, user=user, languages=colleague.languages, actor=None)
    years = [anchor.year - 1, anchor.year, anchor.year + 1]
    office = _calendar(session, "Nordwelle office (Berlin)", OFFICE, years)
    social = _calendar(session, "Social Media 7 days", SOCIAL, years)
    manager = users[MANAGER]
    for name, team in teams.items():
        if session.get(RoutingTeam, team.id) is not None:
            continue
        actions.do_set_team_settings(
            session,
            team_id=team.id,
            manager_id=manager.id,
            escalation_team_id=teams["Social Media"].id if name != "Social Media" else None,
            calendar_id=social if name == "Social Media" else office,
            # the mailbox's colleagues also work other queues: their load there must not lock them out of
            # the e-mail they are the ones for (language and skill), so Customer service has no cap
            default_cap=None if name == "Customer service" else 25,
            actor=None,
        )
    for position, (name, text, team_name) in enumerate(RULES):
        if session.scalar(select(RoutingRule.id).where(RoutingRule.name == name)) is None:
            actions.do_save_rule(
                session,
                name=name,
                filter_text=text,
                target_team_id=teams[team_name].id,
                position=position * 10 or 5,  # the e-mail rule before the others, also in an older demo
                actor=None,
            )
    for priority, (first, resolution) in POLICIES.items():
        exists = session.scalar(select(SlaPolicy.id).where(SlaPolicy.team_id.is_(None), SlaPolicy.priority == priority))
        if exists is None:
            actions.do_save_sla_policy(
                session,
                team_id=None,
                priority=priority,
                first_response_minutes=first,
                resolution_minutes=resolution,
                actor=None,
            )


def load_routing(db: Database, *, anchor: date) -> None:
    """Create (or keep) the demo's teams, colleagues, rules, calendars and SLA policies."""
    with transaction(db.sessions) as session:
        do_load_routing(session, anchor=anchor)
