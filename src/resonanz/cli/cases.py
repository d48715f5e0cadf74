"""``resonanz cases list|show|assign|status|note|merge|intake``: the inbox from the command line,
through the same service and actions as the pages and the API (audited; ``--as`` names the person
acting, else the change is recorded as the system's). Exit codes as everywhere: 3 for a missing case
or user, 4 for a conflict (a stale ``--version``, a forbidden status change), 5 for bad input. Each
command is one transaction (committed when it returns).
"""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.accounts.models import Team, User
from resonanz.audit.actions import Actor
from resonanz.cases import actions, collab, service
from resonanz.cases.intake import rules_from, run_intake
from resonanz.cases.schemas import CaseRead, NoteRead
from resonanz.cli.context import fmt_time, handle_errors, print_json, print_table, session_scope, settings
from resonanz.errors import InputError, NotFoundError
from resonanz.i18n import _
from resonanz.mentions.models import Mention

cases_app = typer.Typer(help="The care inbox: list, show and work cases.", no_args_is_help=True)

AsOption = Annotated[str | None, typer.Option("--as", help="e-mail of the person acting (recorded in the audit log)")]
VersionOption = Annotated[int | None, typer.Option("--version", help="the version you saw; refused if it changed")]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON")]


def _user(session: Session, value: str) -> User:
    user = (
        session.get(User, int(value))
        if value.isdigit()
        else session.scalar(select(User).where(User.email == value.strip().lower()))
    )
    if user is None or not user.active:
        raise NotFoundError(_("no active user {user!r}").format(user=value))
    return user


def _actor(session: Session, email: str | None) -> Actor | None:
    return collab.audit_actor(_user(session, email).id) if email else None


@cases_app.command("list")
@handle_errors
def list_command(
    status: Annotated[list[str] | None, typer.Option("--status", help="new, open, pending, resolved, closed")] = None,
    priority: Annotated[list[str] | None, typer.Option("--priority")] = None,
    assignee: Annotated[str | None, typer.Option("--assignee", help="e-mail or id")] = None,
    unassigned: Annotated[bool, typer.Option("--unassigned")] = False,
    team: Annotated[int | None, typer.Option("--team", help="team id")] = None,
    q: Annotated[str | None, typer.Option("--q", help="words of the subject or a case id")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 50,
    as_json: JsonOption = False,
) -> None:
    """The queue, most urgent first (active cases unless --status says otherwise)."""
    with session_scope() as session:
        flt = service.CaseFilter(
            mine_user_id=_user(session, assignee).id if assignee else None, unassigned=unassigned, team_id=team,
            statuses=status or [], priorities=priority or [], q=q,
        )  # fmt: skip
        page = service.list_cases(session, filters=flt, limit=limit)
        total = service.count_cases(session, filters=flt)
        names = service.user_names(session, {c.assignee_id for c in page.items if c.assignee_id})
        teams = {t.id: t.name for t in session.scalars(select(Team))}
        reads = [CaseRead.of(c) for c in page.items]
    if as_json:
        print_json({"total": total, "items": [r.model_dump(mode="json") for r in reads]})
        return
    rows = [
        (r.id, r.priority.value, r.status.value, r.subject[:60], names.get(r.assignee_id or 0, ""),
         teams.get(r.team_id or 0, ""), fmt_time(r.last_customer_at))
        for r in reads
    ]  # fmt: skip
    columns = ["id", _("priority"), _("status"), _("subject"), _("assignee"), _("team"), _("last message")]
    print_table(_("Cases ({shown} of {total})").format(shown=len(rows), total=total), columns, rows)


@cases_app.command("show")
@handle_errors
def show(case_id: int, as_json: JsonOption = False) -> None:
    """One case: fields, priority reasons, conversation, notes and timeline."""
    with session_scope() as session:
        case = service.get_case(session, id=case_id)
        read = CaseRead.of(case)
        thread = [
            (m.id, fmt_time(m.published_at), m.platform, m.text[:100])
            for m in service.conversation(session, case_id=case_id)
        ]
        notes = [NoteRead.of(n) for n in service.list_notes(session, case_id=case_id)]
        events = [
            (e.id, fmt_time(e.at), e.kind, actions.describe_event(e.kind, e.data or {}))
            for e in service.timeline(session, case_id=case_id)
        ]
    if as_json:
        print_json({**read.model_dump(mode="json"), "mention_ids": [t[0] for t in thread],
                    "notes": [n.model_dump(mode="json") for n in notes]})  # fmt: skip
        return
    typer.echo(f"#{read.id} {read.subject}")
    typer.echo(f"{read.status.value} · {read.priority.value} · version {read.version} · {read.platform}")
    for reason in read.priority_reasons:
        typer.echo(f"  + {reason.get('points', 0)} {reason.get('factor')}: {reason.get('value')}")
    print_table(_("Conversation"), ["mention", _("time"), _("platform"), _("text")], thread)
    if notes:
        print_table(
            _("Internal notes"),
            ["id", _("time"), _("text")],
            [(n.id, fmt_time(n.created_at), n.body[:100]) for n in notes],
        )
    print_table(_("Timeline"), ["id", _("time"), _("event"), _("change")], events)


@cases_app.command("assign")
@handle_errors
def assign(
    case_id: int,
    user: Annotated[str | None, typer.Argument(help="e-mail or id; omit with --unassign")] = None,
    unassign: Annotated[bool, typer.Option("--unassign")] = False,
    team: Annotated[int | None, typer.Option("--team", help="transfer to this team id")] = None,
    version: VersionOption = None,
    as_: AsOption = None,
) -> None:
    """Assign a case to a colleague, or transfer it to a team (--team)."""
    if user is None and not unassign and team is None:
        raise InputError(_("name a user, or use --unassign or --team"), location="user")
    with session_scope() as session:
        case = service.get_case(session, id=case_id)
        assignee = _user(session, user).id if user else None
        actor = _actor(session, as_)
        if team is not None:
            actions.do_transfer(
                session, case=case, team_id=team, assignee_id=assignee, expected_version=version, actor=actor
            )
        else:
            actions.do_assign(session, case=case, assignee_id=assignee, expected_version=version, actor=actor)
        typer.echo(_("case {id} is now version {version}").format(id=case.id, version=case.version))


@cases_app.command("status")
@handle_errors
def status(case_id: int, new_status: str, version: VersionOption = None, as_: AsOption = None) -> None:
    """Change the status along the transition table (resonanz.cases.states)."""
    with session_scope() as session:
        case = service.get_case(session, id=case_id)
        from resonanz.cases.states import parse_status

        try:
            target = parse_status(new_status)
        except ValueError as exc:
            raise InputError(str(exc), location="status") from None
        actions.do_change_status(
            session, case=case, status=target, expected_version=version, actor=_actor(session, as_)
        )
        typer.echo(
            _("case {id} is now {status} (version {version})").format(
                id=case.id, status=case.status, version=case.version
            )
        )


@cases_app.command("note")
@handle_errors
def note(
    case_id: int, text: str, as_: Annotated[str, typer.Option("--as", help="e-mail of the note's author")]
) -> None:
    """Add an internal note; @handles notify colleagues."""
    with session_scope() as session:
        case = service.get_case(session, id=case_id)
        made = collab.do_add_note(session, case=case, body=text, actor=collab.audit_actor(_user(session, as_).id))
        typer.echo(_("note {id} added; notified: {n}").format(id=made.id, n=len(made.mentioned_user_ids)))


@cases_app.command("merge")
@handle_errors
def merge(case_id: int, into: int, version: VersionOption = None, as_: AsOption = None) -> None:
    """Merge a case into another: its mentions move, it is closed and points to the target."""
    with session_scope() as session:
        case, target = service.get_case(session, id=case_id), service.get_case(session, id=into)
        actions.do_merge(session, case=case, into=target, expected_version=version, actor=_actor(session, as_))
        typer.echo(_("case {id} merged into case {into}").format(id=case_id, into=into))


@cases_app.command("intake")
@handle_errors
def intake(after_id: Annotated[int, typer.Option("--after-id", help="only mentions above this id")] = 0) -> None:
    """Run case intake over stored mentions (the worker does this after each analysed batch)."""
    rules = rules_from(settings())
    created = joined = 0
    with session_scope() as session:
        ids = list(session.scalars(select(Mention.id).where(Mention.id > after_id).order_by(Mention.id)))
        for start in range(0, len(ids), 1000):
            result = run_intake(session, mention_ids=ids[start : start + 1000], rules=rules)
            created += len(result.created)
            joined += len(result.joined)
    typer.echo(_("{created} cases created, {joined} messages joined to cases").format(created=created, joined=joined))


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""
    app.add_typer(cases_app, name="cases")
