"""``resonanz init``, ``resonanz db upgrade`` and ``resonanz stats``."""

from __future__ import annotations

from typing import Annotated

import typer

from resonanz.accounts.actions import do_create_user
from resonanz.accounts.permissions import Role
from resonanz.cli import users
from resonanz.cli.context import console, database, handle_errors, print_json, session_scope, settings
from resonanz.db.engine import make_engine
from resonanz.db.migrate import current_revision, head_revision, upgrade
from resonanz.mentions import service as mention_service
from resonanz.mentions.quarantine import count_items
from resonanz.sources.service import count_sources

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_app.command("upgrade")
@handle_errors
def db_upgrade(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Apply pending migrations."""
    engine = make_engine(settings().resolved_database_url)
    before = current_revision(engine)
    upgrade(engine, revision)
    after = current_revision(engine)
    console.print(f"schema at revision [bold]{after}[/bold]" + (" (was {before})" if before != after else " (current)"))


@db_app.command("status")
@handle_errors
def db_status() -> None:
    """Show the current and the newest schema revision."""
    engine = make_engine(settings().resolved_database_url)
    console.print(f"current: {current_revision(engine)}  newest: {head_revision(engine)}")


@handle_errors
def init(
    admin_email: Annotated[
        str | None, typer.Option("--admin-email", help="create the first admin with this e-mail (password prompted)")
    ] = None,
    admin_name: Annotated[str | None, typer.Option("--admin-name", help="the admin's display name")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the admin password from stdin")
    ] = False,
) -> None:
    """Create the data directory and the database with the newest schema (and the first admin)."""
    s = settings()
    db = database()
    console.print(f"database ready: [bold]{db.engine.url.render_as_string(hide_password=True)}[/bold]")
    console.print(f"data directory: {s.data_dir}")
    if admin_email:
        password = users.read_password(password_stdin)
        with session_scope() as session:
            admin = do_create_user(
                session,
                email=admin_email,
                display_name=admin_name or admin_email.strip(),
                password=password,
                role=Role.admin,
                actor=None,
            )
            console.print(f"admin created: [bold]{admin.email}[/bold]")
    console.print("next: [bold]resonanz source add feed NAME --url URL[/bold] or [bold]resonanz demo[/bold]")


@handle_errors
def stats(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """Counts of mentions, authors, sources and quarantined items."""
    with session_scope() as session:
        data = {
            "mentions": mention_service.count_mentions(session),
            "authors": mention_service.count_authors(session),
            "sources": count_sources(session),
            "quarantined": count_items(session),
            "reposts": mention_service.count_mentions(session, duplicates_only=True),
        }
    if as_json:
        print_json(data)
    else:
        for key, value in data.items():
            console.print(f"{key:>12}: {value:,}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.command("init")(init)
    app.command("stats")(stats)
