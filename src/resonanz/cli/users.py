"""``resonanz users add|list|set-role|set-password|deactivate|reactivate``: people who sign in to the web app."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from resonanz.accounts import service
from resonanz.accounts.actions import (
    do_create_user,
    do_deactivate_user,
    do_reactivate_user,
    do_set_password,
    do_set_role,
)
from resonanz.accounts.permissions import Role
from resonanz.accounts.schemas import MIN_PASSWORD_LENGTH, UserRead
from resonanz.cli.context import console, fmt_time, handle_errors, print_json, print_table, session_scope
from resonanz.errors import InputError
from resonanz.i18n import _

app = typer.Typer(help="People who sign in to the web app and the API.", no_args_is_help=True)

ROLE_HELP = "admin, manager, agent, analyst or viewer"


def read_password(password_stdin: bool) -> str:
    """The new password: one line from standard input (scripts), else typed twice, hidden."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise InputError(_("no password on standard input"), location="--password-stdin")
        return password
    return str(
        typer.prompt(
            _("Password (at least {n} characters)").format(n=MIN_PASSWORD_LENGTH),
            hide_input=True,
            confirmation_prompt=True,
        )
    )


def _role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError as exc:
        raise InputError(_("unknown role {role!r}; choose one of {roles}").format(role=value, roles=ROLE_HELP)) from exc


@app.command("add")
@handle_errors
def add(
    email: Annotated[str, typer.Argument(help="e-mail address (the sign-in name)")],
    name: Annotated[str | None, typer.Option("--name", help="display name (default: the e-mail)")] = None,
    role: Annotated[str, typer.Option(help=ROLE_HELP)] = Role.agent.value,
    language: Annotated[str | None, typer.Option(help="de or en (default: the browser's)")] = None,
    time_zone: Annotated[str, typer.Option("--time-zone", help="IANA zone, e.g. Europe/Berlin")] = "UTC",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Add a user. Example: resonanz users add anna@example.com --name "Anna Schmidt" --role manager"""
    chosen = _role(role)
    password = read_password(password_stdin)
    with session_scope() as session:
        user = do_create_user(
            session,
            email=email,
            display_name=name or email.strip(),
            password=password,
            role=chosen,
            language=language,
            time_zone=time_zone,
            actor=None,
        )
        read = UserRead.model_validate(user)
    if as_json:
        print_json(read.model_dump())
    else:
        console.print(_("added {role} {email} (id {id})").format(role=read.role.value, email=read.email, id=read.id))


@app.command("list")
@handle_errors
def list_cmd(
    role: Annotated[str | None, typer.Option(help="only this role")] = None,
    include_inactive: Annotated[bool, typer.Option("--all", help="include deactivated users")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List users."""
    with session_scope() as session:
        users = service.list_users(
            session, role=_role(role) if role else None, active=None if include_inactive else True, limit=10_000
        )
        rows = [UserRead.model_validate(u) for u in users]
    if as_json:
        print_json([r.model_dump() for r in rows])
        return
    print_table(
        _("Users"),
        ["id", _("e-mail"), _("name"), _("role"), _("language"), _("time zone"), _("active"), _("last sign-in")],
        [
            (
                r.id,
                r.email,
                r.display_name,
                r.role.value,
                r.language or "—",
                r.time_zone,
                _("yes") if r.active else _("no"),
                fmt_time(r.last_login_at),
            )
            for r in rows
        ],
    )


@app.command("set-role")
@handle_errors
def set_role(
    user: Annotated[str, typer.Argument(help="e-mail or id")],
    role: Annotated[str, typer.Argument(help=ROLE_HELP)],
) -> None:
    """Change what a user may do."""
    with session_scope() as session:
        found = service.find_user(session, ref=user)
        do_set_role(session, user=found, role=_role(role), actor=None)
        email = found.email
    console.print(_("{email} is now {role}").format(email=email, role=_role(role).value))


@app.command("set-password")
@handle_errors
def set_password(
    user: Annotated[str, typer.Argument(help="e-mail or id")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
) -> None:
    """Set a new password for someone locked out; their sessions are signed out."""
    password = read_password(password_stdin)
    with session_scope() as session:
        found = service.find_user(session, ref=user)
        revoked = do_set_password(session, user=found, new_password=password, actor=None)
        email = found.email
    console.print(_("new password set for {email}; {n} session(s) signed out").format(email=email, n=revoked))


@app.command("deactivate")
@handle_errors
def deactivate(user: Annotated[str, typer.Argument(help="e-mail or id")]) -> None:
    """Switch a user off: their sessions and API tokens stop working at once."""
    with session_scope() as session:
        found = service.find_user(session, ref=user)
        do_deactivate_user(session, user=found, actor=None)
        email = found.email
    console.print(_("{email} is deactivated; their sessions and API tokens no longer work").format(email=email))


@app.command("reactivate")
@handle_errors
def reactivate(user: Annotated[str, typer.Argument(help="e-mail or id")]) -> None:
    """Let a deactivated user sign in again (their old tokens stay revoked)."""
    with session_scope() as session:
        found = service.find_user(session, ref=user)
        do_reactivate_user(session, user=found, actor=None)
        email = found.email
    console.print(_("{email} can sign in again").format(email=email))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="users")
