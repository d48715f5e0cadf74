"""``resonanz analytics rebuild``: recompute the dashboard rollups from the stored mentions.

Needed once for a store that existed before the rollups (the ingest hook keeps them current from
then on), after a bulk load that bypassed the analysis runner, or to repair them. One transaction:
readers keep seeing the old buckets until the new ones are complete.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from resonanz.cli.context import console, handle_errors, print_json, session_scope
from resonanz.listening.rollups import rebuild as rebuild_rollups

app = typer.Typer(help="Dashboard analytics: maintain the rollups the dashboards read.", no_args_is_help=True)


@app.command("rebuild")
@handle_errors
def rebuild(as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False) -> None:
    """Drop and recompute every hourly rollup bucket (all mentions, each query, each brand)."""
    started = time.perf_counter()
    with (
        Progress(
            TextColumn("rebuilding rollups (hours)"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=as_json,
        ) as bar,
        session_scope() as session,
    ):
        task = bar.add_task("rebuild", total=None)
        rows = rebuild_rollups(session, progress=lambda done, total: bar.update(task, completed=done, total=total))
    seconds = round(time.perf_counter() - started, 2)
    if as_json:
        print_json({"buckets": rows, "seconds": seconds})
    else:
        console.print(f"wrote {rows:,} rollup bucket(s) in {seconds} s")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="analytics")
