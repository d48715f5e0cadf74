"""The ``resonanz`` command. Each area registers its commands from its own module."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from resonanz.cli import (
    alerts,
    analysis,
    analytics,
    care_admin,
    cases,
    context,
    demo,
    imports,
    jobs,
    knowledge,
    mentions,
    quarantine,
    reports,
    routing,
    serve,
    sources,
    system,
    users,
)
from resonanz.cli import query as query_commands

app = typer.Typer(
    name="resonanz",
    help="Resonanz: listen to the market conversation, route it to the right people, answer on every channel.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _root(
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", envvar="RESONANZ_DATABASE_URL", help="sqlite:///PATH or postgresql://…"),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", envvar="RESONANZ_DATA_DIR", help="where the SQLite file lives")
    ] = None,
) -> None:
    context.set_overrides(database_url=database_url, data_dir=data_dir)


for module in (
    system,
    sources,
    imports,
    mentions,
    quarantine,
    jobs,
    analysis,
    serve,
    demo,
    users,
    alerts,
    reports,
    cases,
    knowledge,
    routing,
    analytics,
    care_admin,
):
    module.register(app)
query_commands.register(app)


def main() -> None:
    app()
