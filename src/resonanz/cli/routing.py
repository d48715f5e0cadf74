"""``resonanz routing rules|add|remove|test``, ``resonanz sla policies|set|calendars|calendar|holidays|check``,
``resonanz agents list|availability`` and ``resonanz care-metrics``: thin wrappers over the routing
services and actions (exit code 2 for bad input, as everywhere)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.accounts.models import Team, User
from resonanz.cases import routing_actions as actions
from resonanz.cases import routing_service as service
from resonanz.cases.holidays import german_public_holidays
from resonanz.cases.metrics import care_metrics, metrics_csv
from resonanz.cases.routing import try_filter
from resonanz.cases.routing_models import BusinessCalendar
from resonanz.cases.sla import parse_hours_spec
from resonanz.cases.sla_service import check_slas
from resonanz.cli.context import fmt_time, handle_errors, print_json, print_table, session_scope, settings
from resonanz.clock import ensure_utc, now
from resonanz.errors import InputError, NotFoundError
from resonanz.i18n import _

routing_app = typer.Typer(help="Routing rules: which team a case goes to.", no_args_is_help=True)
sla_app = typer.Typer(help="SLA policies, business calendars and holidays.", no_args_is_help=True)
agents_app = typer.Typer(help="Agents' availability and caps.", no_args_is_help=True)


def team_id_of(session: Session, value: str) -> int:
    """A team by id or name."""
    team = session.get(Team, int(value)) if value.isdigit() else session.scalar(select(Team).where(Team.name == value))
    if team is None:
        raise NotFoundError(_("no team {team!r}").format(team=value))
    return team.id


def user_id_of(session: Session, value: str) -> int:
    """A user by id or e-mail."""
    user = (
        session.get(User, int(value))
        if value.isdigit()
        else session.scalar(select(User).where(User.email == value.lower()))
    )
    if user is None:
        raise NotFoundError(_("no user {user!r}").format(user=value))
    return user.id


@routing_app.command("rules")
@handle_errors
def rules(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List routing rules in the order they are tried."""
    with session_scope() as session:
        teams = {t.id: t.name for t in session.scalars(select(Team))}
        rows = [
            (
                r.id,
                r.position,
                r.name,
                r.filter_text,
                teams.get(r.target_team_id or 0, ""),
                r.forward_rule_id or "",
                "yes" if r.enabled else "no",
            )
            for r in service.list_rules(session)
        ]
    if as_json:
        keys = ("id", "position", "name", "filter", "team", "forward_rule_id", "enabled")
        print_json([dict(zip(keys, row, strict=True)) for row in rows])
    else:
        print_table(
            _("Routing rules"), ["id", "pos", _("name"), _("filter"), _("team"), _("forwards to"), _("enabled")], rows
        )


@routing_app.command("add")
@handle_errors
def add(
    name: Annotated[str, typer.Argument(help="rule name")],
    filter_text: Annotated[str, typer.Argument(metavar="FILTER", help="listening query language + case fields")],
    team: Annotated[str | None, typer.Option(help="target team (name or id)")] = None,
    forward: Annotated[int | None, typer.Option(help="forward to this rule id instead of a team")] = None,
    position: Annotated[int | None, typer.Option(help="order (lower first; default: last)")] = None,
    disabled: Annotated[bool, typer.Option("--disabled")] = False,
) -> None:
    """Add a rule. Example: resonanz routing add billing 'lang:de AND rechnung' --team Billing"""
    with session_scope() as session:
        team_id = team_id_of(session, team) if team else None
        rule = actions.do_save_rule(
            session,
            name=name,
            filter_text=filter_text,
            target_team_id=team_id,
            forward_rule_id=forward,
            enabled=not disabled,
            position=position,
            actor=None,
        )
        typer.echo(_("rule {id} saved").format(id=rule.id))


@routing_app.command("remove")
@handle_errors
def remove(rule_id: Annotated[int, typer.Argument()]) -> None:
    """Delete a rule."""
    with session_scope() as session:
        actions.do_delete_rule(session, id=rule_id, actor=None)
    typer.echo(_("rule {id} deleted").format(id=rule_id))


@routing_app.command("test")
@handle_errors
def test(
    filter_text: Annotated[str, typer.Argument(metavar="FILTER")],
    case: Annotated[list[int] | None, typer.Option("--case", help="case id (repeatable; default: newest 200)")] = None,
) -> None:
    """Try a filter on cases: which match (exit code 1 when none does)."""
    with session_scope() as session:
        trial = try_filter(session, filter_text=filter_text, case_ids=case)
    typer.echo(_("{n} of {total} cases match").format(n=len(trial.matched), total=trial.checked))
    if trial.matched:
        typer.echo(" ".join(f"#{i}" for i in trial.matched[:50]))
    for warning in trial.warnings:
        typer.echo(_("warning: {w}").format(w=warning), err=True)
    if not trial.matched:
        raise typer.Exit(1)


@sla_app.command("policies")
@handle_errors
def policies() -> None:
    """List SLA policies (targets in business minutes)."""
    with session_scope() as session:
        teams = {t.id: t.name for t in session.scalars(select(Team))}
        rows = [
            (
                p.id,
                teams.get(p.team_id or 0, _("(default)")),
                p.priority,
                p.first_response_minutes,
                p.resolution_minutes,
                p.warn_before_minutes,
                "yes" if p.enabled else "no",
            )
            for p in service.list_policies(session)
        ]
    print_table(
        _("SLA policies"),
        ["id", _("team"), _("priority"), _("first response"), _("resolution"), _("warn"), _("enabled")],
        rows,
    )


@sla_app.command("set")
@handle_errors
def set_policy(
    priority: Annotated[str, typer.Option(help="low, normal, high or urgent")],
    first_response: Annotated[int, typer.Option(help="business minutes")],
    resolution: Annotated[int, typer.Option(help="business minutes")],
    team: Annotated[str | None, typer.Option(help="team (default: teams without their own)")] = None,
    warn: Annotated[int, typer.Option(help="warn this many minutes before")] = 30,
) -> None:
    """Create or replace the policy of a team and priority."""
    with session_scope() as session:
        team_id = team_id_of(session, team) if team else None
        existing = next(
            (p.id for p in service.list_policies(session) if p.team_id == team_id and p.priority == priority), None
        )
        policy = actions.do_save_sla_policy(
            session,
            id=existing,
            team_id=team_id,
            priority=priority,
            first_response_minutes=first_response,
            resolution_minutes=resolution,
            warn_before_minutes=warn,
            actor=None,
        )
        typer.echo(_("policy {id} saved").format(id=policy.id))


def _hours_text(hours: dict[str, list[list[str]]]) -> str:
    return "; ".join(f"{day} {'/'.join(f'{a}-{b}' for a, b in spans)}" for day, spans in hours.items())


@sla_app.command("calendars")
@handle_errors
def calendars() -> None:
    """List business calendars."""
    with session_scope() as session:
        rows = [
            (c.id, c.name, c.time_zone, _hours_text(c.hours), len(service.holidays_of(session, calendar_id=c.id)))
            for c in service.list_calendars(session)
        ]
    print_table(_("Business calendars"), ["id", _("name"), _("time zone"), _("hours"), _("holidays")], rows)


@sla_app.command("calendar")
@handle_errors
def calendar(
    name: Annotated[str, typer.Argument()],
    hours: Annotated[str, typer.Option(help="e.g. 'mon-fri 09:00-17:00; sat 10:00-14:00'")],
    tz: Annotated[str, typer.Option("--tz", help="IANA time zone")] = "Europe/Berlin",
    team: Annotated[list[str] | None, typer.Option(help="use it for this team (repeatable)")] = None,
) -> None:
    """Create or change a calendar (refused without working hours)."""
    with session_scope() as session:
        existing = session.scalar(select(BusinessCalendar.id).where(BusinessCalendar.name == name))
        row = actions.do_save_calendar(
            session, id=existing, name=name, time_zone=tz, hours=parse_hours_spec(hours), actor=None
        )
        for value in team or []:
            settings_row = service.team_settings(session, team_id=team_id_of(session, value))
            actions.do_set_team_settings(
                session,
                team_id=settings_row.team_id,
                manager_id=settings_row.manager_id,
                escalation_team_id=settings_row.escalation_team_id,
                calendar_id=row.id,
                default_cap=settings_row.default_cap,
                actor=None,
            )
        typer.echo(_("calendar {id} saved").format(id=row.id))


@sla_app.command("holidays")
@handle_errors
def holidays(
    calendar_name: Annotated[str, typer.Argument(metavar="CALENDAR")],
    german: Annotated[int | None, typer.Option(help="add Germany's nationwide holidays of this year")] = None,
    add: Annotated[list[str] | None, typer.Option(help="YYYY-MM-DD[:name] (repeatable)")] = None,
    remove: Annotated[list[str] | None, typer.Option(help="YYYY-MM-DD (repeatable)")] = None,
) -> None:
    """Show, add or remove a calendar's holidays."""
    try:
        added = [(date.fromisoformat(v.split(":", 1)[0]), v.split(":", 1)[1] if ":" in v else "") for v in add or []]
        removed = [date.fromisoformat(v) for v in remove or []]
    except ValueError as exc:
        raise InputError(_("dates are YYYY-MM-DD"), location="--add") from exc
    if german is not None:
        added += german_public_holidays(german)
    with session_scope() as session:
        cal = session.scalar(select(BusinessCalendar).where(BusinessCalendar.name == calendar_name))
        if cal is None:
            raise NotFoundError(_("no calendar {name!r}").format(name=calendar_name))
        if added or removed:
            actions.do_set_holidays(session, calendar_id=cal.id, add=added, remove=removed, actor=None)
        rows = [(d.isoformat(), n) for d, n in service.holidays_of(session, calendar_id=cal.id)]
    print_table(_("Holidays of {name}").format(name=calendar_name), [_("day"), _("name")], rows)


@sla_app.command("check")
@handle_errors
def check() -> None:
    """Record due SLA warnings and breaches now (the worker does this every minute)."""
    with session_scope() as session:
        result = check_slas(session, settings=settings())
    typer.echo(_("{w} warnings, {b} breaches recorded").format(w=result.warnings, b=result.breaches))


@agents_app.command("list")
@handle_errors
def agents(team: Annotated[str | None, typer.Option(help="only this team")] = None) -> None:
    """Agents with teams, skills, languages, availability and cap."""
    with session_scope() as session:
        team_id = team_id_of(session, team) if team else None
        rows = [
            (
                a.user_id,
                a.display_name,
                ", ".join(a.teams),
                ", ".join(a.skills),
                ", ".join(a.languages),
                a.effective,
                fmt_time(a.until) if a.until else "",
                a.cap,
            )
            for a in service.list_agents(session, team_id=team_id)
        ]
    print_table(
        _("Agents"),
        ["id", _("name"), _("teams"), _("skills"), _("languages"), _("availability"), _("until"), _("cap")],
        rows,
    )


@agents_app.command("availability")
@handle_errors
def availability(
    user: Annotated[str, typer.Argument(help="e-mail or id")],
    value: Annotated[str, typer.Argument(metavar="STATE", help="online, away or out_of_office")],
    until: Annotated[datetime | None, typer.Option(help="until this time (UTC unless it says)")] = None,
    hours: Annotated[float | None, typer.Option(help="for this many hours")] = None,
    cap: Annotated[int | None, typer.Option(help="open cases at most")] = None,
) -> None:
    """Set an agent's availability. Example: resonanz agents availability anna@example.com away --hours 2"""
    end = ensure_utc(until) if until else (now() + timedelta(hours=hours) if hours else None)
    with session_scope() as session:
        actions.do_set_availability(
            session, user_id=user_id_of(session, user), availability=value, until=end, cap=cap, actor=None
        )
    typer.echo(_("availability saved"))


def METRIC_COLUMNS() -> list[str]:  # noqa: N802 - a constant, translated when used
    first, resolution = _("first response (median min)"), _("resolution (median min)")
    return [_("name"), _("cases"), first, resolution, _("SLA attainment"), _("backlog")]


@handle_errors
def care_metrics_command(
    since: Annotated[datetime | None, typer.Option(help="start (default: 30 days ago)")] = None,
    until: Annotated[datetime | None, typer.Option(help="end (default: now)")] = None,
    group: Annotated[str, typer.Option(help="team or agent")] = "team",
    team: Annotated[str | None, typer.Option(help="only this team")] = None,
    csv_path: Annotated[Path | None, typer.Option("--csv", help="write CSV to this file ('-': stdout)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """First response and resolution times, SLA attainment and backlog per team or agent."""
    end = ensure_utc(until) if until else now()
    start = ensure_utc(since) if since else end - timedelta(days=30)
    with session_scope() as session:
        team_id = team_id_of(session, team) if team else None
        rows = care_metrics(session, since=start, until=end, group=group, team_id=team_id)
    if csv_path is not None:
        text = metrics_csv(rows)
        if str(csv_path) == "-":
            typer.echo(text, nl=False)
        else:
            csv_path.write_text(text, encoding="utf-8")
        return
    if as_json:
        print_json([r.__dict__ for r in rows])
        return
    print_table(
        _("Care metrics {start} – {end}").format(start=fmt_time(start), end=fmt_time(end)),
        METRIC_COLUMNS(),
        [
            (
                r.name,
                r.cases,
                r.first_response_median_min,
                r.resolution_median_min,
                f"{r.sla_attainment:.0%}" if r.sla_attainment is not None else "",
                r.backlog,
            )
            for r in rows
        ],
    )


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""
    app.add_typer(routing_app, name="routing")
    app.add_typer(sla_app, name="sla")
    app.add_typer(agents_app, name="agents")
    app.command("care-metrics")(care_metrics_command)
