"""``resonanz demo``: create the demo workspace (generated, clearly labelled demo data), then serve
it in the web app, the way ``resonanz serve`` does, and print where to sign in."""

from __future__ import annotations

import contextlib
from datetime import date
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from resonanz.analysis.jobs import ANALYSIS_KIND
from resonanz.cli.context import console, err_console, handle_errors, print_json, print_table, settings
from resonanz.cli.serve import run_server
from resonanz.db.database import open_database
from resonanz.db.engine import transaction
from resonanz.demo.cases import load_cases
from resonanz.demo.generate import DEFAULT_ANCHOR, DEFAULT_SEED
from resonanz.demo.users import DemoUser, demo_password, do_ensure_demo_users
from resonanz.demo.workspace import DemoSummary, demo_settings, do_reset_demo, load_demo
from resonanz.errors import InputError
from resonanz.i18n import _
from resonanz.worker.runner import drain

BANNER = "[bold yellow]DEMO DATA[/bold yellow] — every post, author and source here is invented (fictional company)."


def _anchor(value: str | None) -> date:
    if value is None:
        return DEFAULT_ANCHOR
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"{value!r} is not a date (YYYY-MM-DD)", location="--anchor") from exc


@handle_errors
def demo(
    reset: Annotated[
        bool, typer.Option("--reset", help="remove the demo sources' data first, then load again")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    scale: Annotated[
        float, typer.Option("--scale", min=0.01, max=10.0, help="size of the data set (1 = about 4,700 posts)")
    ] = 1.0,
    anchor: Annotated[
        str | None,
        typer.Option("--anchor", help=f"last day of the 90 days, YYYY-MM-DD (default {DEFAULT_ANCHOR.isoformat()})"),
    ] = None,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="serve the web app afterwards (--no-serve only builds)")
    ] = True,
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
) -> None:
    """Create the demo workspace: a fictional mobility company, two competitors and 90 days of
    posts, news, blog comments and app reviews in German and English, with one crisis.

    The demo goes into its own SQLite file (demo.db in the data directory) unless --database-url
    (or RESONANZ_DATABASE_URL) names a database. Running it again adds nothing new. Then it serves
    the web app on http://HOST:PORT/ until Ctrl-C (--no-serve stops after building).
    """
    last_day = _anchor(anchor)
    target = demo_settings(settings())
    db = open_database(target)
    try:
        if not as_json:
            console.print(BANNER)
            console.print(
                _("demo workspace: {url}").format(
                    url=f"[bold]{db.engine.url.render_as_string(hide_password=True)}[/bold]"
                )
            )
        if reset:
            with transaction(db.sessions) as session:
                removed = do_reset_demo(session)
            if not as_json:
                console.print(_("reset: removed {count:,} demo mentions").format(count=removed))
        if as_json:
            summary = load_demo(db, seed=DEFAULT_SEED, anchor=last_day, scale=scale)
        else:
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err_console,
                transient=True,
            ) as bar:
                task = bar.add_task(_("generating demo data"), total=None)

                def progress(label: str, done: int, steps: int) -> None:
                    bar.update(task, description=_("loading {label}").format(label=label), completed=done, total=steps)

                summary = load_demo(db, seed=DEFAULT_SEED, anchor=last_day, scale=scale, progress=progress)
        # Analyse what was loaded (language, sentiment, intent …) the way a worker would.
        with console.status(_("analysing the demo mentions …")) if not as_json else contextlib.nullcontext():
            analysed = sum(int((o.result or {}).get("analysed", 0)) for o in drain(db, kinds=[ANALYSIS_KIND]))
        if analysed and not as_json:
            console.print(_("analysed {count:,} mentions").format(count=analysed))
        load_cases(db)  # intake opens the demo's cases from the analysed mentions; a few are already worked on
        own_database = target.database_url != settings().database_url
        password = demo_password(own_database=own_database)
        with transaction(db.sessions) as session:
            users = do_ensure_demo_users(session, password=password)
        if as_json:
            print_json({**summary.as_dict(), "sign_in": _sign_in(users, password)})
        else:
            _print_summary(summary, demo_db=own_database)
            _print_sign_in(users, password, own_database=own_database)
        if serve:
            sign_in = f"{users[0].email} / {password}"
            run_server(
                db,
                host=host,
                port=port,
                threads=target.worker_threads,
                # soft_wrap: the URL must stay on one line, also when stdout is a pipe (80 columns)
                announce=lambda url: console.print(
                    _("open {url} and sign in as {sign_in} (DEMO); Ctrl-C stops").format(url=url, sign_in=sign_in),
                    soft_wrap=True,
                ),
            )
    finally:
        db.dispose()


def _sign_in(users: tuple[DemoUser, ...], password: str) -> dict[str, object]:
    return {
        "demo": True,
        "password": password,
        "users": [{"email": u.email, "role": u.role.value, "language": u.language} for u in users],
    }


def _print_sign_in(users: tuple[DemoUser, ...], password: str, *, own_database: bool) -> None:
    print_table(
        _("DEMO sign-in (demo users; every one has the DEMO password below)"),
        [_("role"), _("e-mail"), _("language"), _("time zone")],
        [(u.role.value, u.email, {"de": "Deutsch", "en": "English"}[u.language], u.time_zone) for u in users],
    )
    console.print(_("DEMO password: {password}").format(password=f"[bold]{password}[/bold]"), soft_wrap=True)
    if not own_database:
        console.print(_("(a new random DEMO password on every run, because the demo shares a configured database)"))


def _print_summary(summary: DemoSummary, *, demo_db: bool) -> None:
    print_table(
        "DEMO DATA loaded",
        ["source", "kind", "items", "new", "updated", "unchanged/dup", "rejected"],
        [(s.source, s.kind, s.items, s.new, s.updated, s.duplicate, s.rejected) for s in summary.sources],
    )
    console.print(
        _("{mentions:,} mentions by {authors:,} authors about {company} and its competitors {competitors}, "
          "{start} to {end}.").format(
            mentions=summary.mentions, authors=summary.authors, company=f"[bold]{summary.company}[/bold]",
            competitors=_(" and ").join(summary.competitors), start=summary.window_start, end=summary.window_end,
        )
    )  # fmt: skip
    console.print(
        _("crisis: an IT outage from {start} to {end} ({hashtag})").format(
            start=f"[bold red]{summary.crisis_start}[/bold red]", end=f"[bold red]{summary.crisis_end}[/bold red]",
            hashtag=summary.crisis_hashtag,
        )
    )  # fmt: skip
    if summary.new == 0:
        console.print(_("nothing new: the demo workspace was already complete (use --reset to load it afresh)"))
    prefix = f'resonanz --database-url "{summary.database}" ' if demo_db else "resonanz "
    console.print(_("next steps:"))
    console.print(f'  {prefix}mentions search "{summary.crisis_hashtag.lstrip("#")}"')
    console.print(f'  {prefix}mentions search "kundenservice erstattung"')
    console.print(f"  {prefix}serve")


def register(app: typer.Typer) -> None:
    """Add ``resonanz demo`` to the root app."""
    app.command("demo")(demo)
