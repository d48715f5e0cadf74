"""``resonanz audit list`` (the audit log, filtered and paged) and ``resonanz care-settings …``
(CSAT on resolve globally and per team, the profanity list, blocked phrases, approval rules,
channel limits): the same audited actions as the pages under ``/care-admin`` and the API.
Approval rules are saved and phrases blocked with ``resonanz replies rule|block`` (kept there).

Exit codes: 3 not found, 4 conflict, 5 bad input (the message names the field)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.accounts.models import Team, User
from resonanz.audit.actions import Actor
from resonanz.audit.service import AuditFilter, page_events
from resonanz.cases import approvals, care_settings
from resonanz.cases.collab import audit_actor
from resonanz.cli.context import console, handle_errors, print_json, print_table, session_scope
from resonanz.clock import ensure_utc
from resonanz.errors import InputError, NotFoundError
from resonanz.i18n import _

audit_app = typer.Typer(help="The audit log: who changed what, when, with before and after.", no_args_is_help=True)
settings_app = typer.Typer(help="Care settings: CSAT on resolve, profanity list, phrases, rules.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON")]
AsOption = Annotated[str | None, typer.Option("--as", help="e-mail of the person acting (recorded in the audit log)")]


def _user(session: Session, value: str) -> User:
    user = (
        session.get(User, int(value))
        if value.isdigit()
        else session.scalar(select(User).where(User.email == value.strip().lower()))
    )
    if user is None:
        raise NotFoundError(_("no user {user!r}").format(user=value))
    return user


def _actor(session: Session, email: str | None) -> Actor | None:
    return audit_actor(_user(session, email).id) if email else None


def _when(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return ensure_utc(datetime.fromisoformat(value))
    except ValueError as exc:
        raise InputError(_("a date or time like 2026-11-28 or 2026-11-28T09:00"), location=name) from exc


@audit_app.command("list")
@handle_errors
def audit_list(
    actor: Annotated[str | None, typer.Option(help="e-mail or id of the person; 'system' for the system")] = None,
    action: Annotated[str | None, typer.Option(help="exact action, or a prefix ending in '.' (case.)")] = None,
    object_type: Annotated[str | None, typer.Option("--object-type", help="case, team, approval_rule …")] = None,
    object_id: Annotated[str | None, typer.Option("--object-id")] = None,
    since: Annotated[str | None, typer.Option(help="from this UTC date/time (inclusive)")] = None,
    until: Annotated[str | None, typer.Option(help="before this UTC date/time")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    before: Annotated[int | None, typer.Option(help="only entries older than this id (the next page)")] = None,
    as_json: JsonOption = False,
) -> None:
    """Newest first; the last line says how to get the next page."""
    with session_scope() as session:
        actor_id = None if actor in (None, "system") else _user(session, actor).id
        where = AuditFilter(actor_user_id=actor_id, system_only=actor == "system", action=action,
                            object_type=object_type, object_id=object_id, since=_when(since, "since"),
                            until=_when(until, "until"))  # fmt: skip
        rows, next_before = page_events(session, where=where, before_id=before, limit=limit)
        if as_json:
            print_json([{"id": e.id, "at": e.at, "actor_user_id": e.actor_user_id, "action": e.action,
                         "object_type": e.object_type, "object_id": e.object_id, "before": e.before,
                         "after": e.after} for e in rows])  # fmt: skip
            return
        names = {u.id: u.email for u in session.scalars(select(User))}
        print_table(_("Audit log"), ["id", "at (UTC)", "who", "action", "object", "before", "after"],
                    [[e.id, e.at.strftime("%Y-%m-%d %H:%M:%S"),
                      names.get(e.actor_user_id, "system") if e.actor_user_id else "system", e.action,
                      f"{e.object_type} {e.object_id or ''}".strip(), e.before or "", e.after or ""]
                     for e in rows])  # fmt: skip
        if next_before is not None:
            console.print(_("older entries: add --before {id}").format(id=next_before))


# --- care settings --------------------------------------------------------------------------------


def _team(session: Session, value: str) -> Team:
    team = session.get(Team, int(value)) if value.isdigit() else session.scalar(select(Team).where(Team.name == value))
    if team is None:
        raise NotFoundError(_("no team {team!r}").format(team=value))
    return team


@settings_app.command("csat")
@handle_errors
def csat(
    state: Annotated[str | None, typer.Argument(help="on, off, or (with --team) inherit; omit to show")] = None,
    team: Annotated[str | None, typer.Option(help="name or id of a team: set its override")] = None,
    as_: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show or switch the CSAT link on resolve (globally, or one team's override)."""
    if state is not None and state not in ("on", "off", "inherit"):
        raise InputError(_("say on, off or inherit"), location="state")
    if state == "inherit" and team is None:
        raise InputError(_("inherit needs --team"), location="state")
    with session_scope() as session:
        who = _actor(session, as_)
        if state is not None and team is not None:
            enabled = None if state == "inherit" else state == "on"
            care_settings.do_set_team_csat(session, team_id=_team(session, team).id, enabled=enabled, actor=who)
        elif state is not None:
            care_settings.do_set_csat_global(session, enabled=state == "on", actor=who)
        teams = care_settings.team_csat(session)
        if as_json:
            print_json({"enabled": care_settings.csat_global(session),
                        "teams": [{"team_id": t.team_id, "team": t.team_name, "override": t.override,
                                   "effective": t.effective} for t in teams]})  # fmt: skip
            return
        console.print(
            _("CSAT link on resolve: {state}").format(state="on" if care_settings.csat_global(session) else "off")
        )
        print_table(_("Per team"), ["id", "team", "override", "effective"],
                    [[t.team_id, t.team_name, "—" if t.override is None else ("on" if t.override else "off"),
                      "on" if t.effective else "off"] for t in teams])  # fmt: skip


@settings_app.command("profanity")
@handle_errors
def profanity(
    add: Annotated[list[str] | None, typer.Option(help="add a word or phrase (repeat)")] = None,
    remove: Annotated[list[int] | None, typer.Option(help="remove by id (repeat)")] = None,
    as_: AsOption = None,
) -> None:
    """List the profanity list, or add and remove terms."""
    with session_scope() as session:
        who = _actor(session, as_)
        for term in add or []:
            care_settings.do_add_profanity(session, term=term, actor=who)
        for term_id in remove or []:
            care_settings.do_remove_profanity(session, id=term_id, actor=who)
        print_table(
            _("Profanity list"), ["id", "term"], [[t.id, t.term] for t in care_settings.list_profanity(session)]
        )


@settings_app.command("phrases")
@handle_errors
def phrases(
    unblock: Annotated[list[int] | None, typer.Option(help="unblock by id (repeat)")] = None,
    as_: AsOption = None,
) -> None:
    """List the blocked phrases (add with `resonanz replies block`), or unblock some."""
    with session_scope() as session:
        who = _actor(session, as_)
        for phrase_id in unblock or []:
            approvals.do_remove_phrase(session, id=phrase_id, actor=who)
        print_table(_("Blocked phrases"), ["id", "phrase", "kind", "reason"],
                    [[p.id, p.phrase, p.kind, p.reason] for p in approvals.list_phrases(session)])  # fmt: skip


@settings_app.command("delete-rule")
@handle_errors
def delete_rule(rule_id: Annotated[int, typer.Argument()], as_: AsOption = None) -> None:
    """Delete an approval rule (list them with `resonanz replies rules`)."""
    with session_scope() as session:
        approvals.do_delete_rule(session, id=rule_id, actor=_actor(session, as_))
        console.print(_("approval rule {id} deleted").format(id=rule_id))


@settings_app.command("limits")
@handle_errors
def limits() -> None:
    """The reply length limit of each platform (fixed by the platforms)."""
    print_table(_("Channel length limits"), ["platform", "limit", "unit"],
                [[p, c.limit, c.unit.value] for p, c in care_settings.channel_limits().items()])  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""
    app.add_typer(audit_app, name="audit")
    app.add_typer(settings_app, name="care-settings")
